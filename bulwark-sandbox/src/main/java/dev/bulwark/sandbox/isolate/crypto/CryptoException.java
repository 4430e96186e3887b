package dev.bulwark.sandbox.isolate.crypto;

/**
 * A WebCrypto failure as the worker sees it: the error name JS throws (a DOMException name, or
 * {@code TypeError}) and a message written for the worker. JDK exception texts never travel in it.
 */
final class CryptoException extends Exception {
    enum Kind {
        NOT_SUPPORTED("NotSupportedError"),
        INVALID_ACCESS("InvalidAccessError"),
        DATA("DataError"),
        OPERATION("OperationError"),
        SYNTAX("SyntaxError"),
        TYPE("TypeError");

        final String jsName;

        Kind(String jsName) {
            this.jsName = jsName;
        }
    }

    final Kind kind;

    CryptoException(Kind kind, String message) {
        super(message, null, false, false);
        this.kind = kind;
    }

    static CryptoException data(String message) {
        return new CryptoException(Kind.DATA, message);
    }

    static CryptoException operation(String message) {
        return new CryptoException(Kind.OPERATION, message);
    }

    static CryptoException notSupported(String message) {
        return new CryptoException(Kind.NOT_SUPPORTED, message);
    }
}
