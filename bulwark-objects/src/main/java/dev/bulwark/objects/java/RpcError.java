package dev.bulwark.objects.java;

import java.util.Objects;

/**
 * A JavaScript error as a Java value: what a Java durable object throws to make its caller's
 * promise reject with {@code new TypeError(message)} (or another standard error type), and what a
 * JS {@code Error} passed as an argument arrives as. Only the type and the message cross (and, for a
 * {@code DOMException}, its name); no stack and no Java class name ever reaches a client. Any other exception a Java object throws reaches
 * JS as an opaque {@code Error("internal error; reference = …")}, with the detail in the node's log.
 */
public final class RpcError extends RuntimeException {

    /** The standard error constructors of JavaScript, in the wire order of the structured format. */
    public enum Type {
        ERROR("Error"), EVAL_ERROR("EvalError"), RANGE_ERROR("RangeError"), REFERENCE_ERROR("ReferenceError"),
        SYNTAX_ERROR("SyntaxError"), TYPE_ERROR("TypeError"), URI_ERROR("URIError");

        private final String jsName;

        Type(String jsName) {
            this.jsName = jsName;
        }

        /** The constructor's name in JavaScript ({@code "TypeError"}). */
        public String jsName() {
            return jsName;
        }
    }

    private final Type type;
    /** A {@code DOMException}'s name ({@code "AbortError"}, ...), or null for the standard errors. */
    private final String domName;

    public RpcError(Type type, String message) {
        this(type, message, null);
    }

    private RpcError(Type type, String message, String domName) {
        // A value that crosses to JS: its Java stack means nothing there, so none is taken.
        super(message == null ? "" : message, null, false, false);
        this.type = Objects.requireNonNull(type, "type");
        this.domName = domName;
    }

    /** A JS {@code DOMException} named {@code name}: of type ERROR, and written back to JS as that DOMException. */
    static RpcError domException(String name, String message) {
        return new RpcError(Type.ERROR, message, Objects.requireNonNull(name, "name"));
    }

    /** A plain {@code Error}. */
    public RpcError(String message) {
        this(Type.ERROR, message);
    }

    public Type type() {
        return type;
    }

    /** The error's name in JS: the type's ({@code "TypeError"}), or a DOMException's own ({@code "AbortError"}). */
    public String name() {
        return domName != null ? domName : type.jsName;
    }

    /** True when this is a JS {@code DOMException} (see {@link #name()}). */
    public boolean isDomException() {
        return domName != null;
    }

    /** {@code "TypeError: message"}, as JS prints it. */
    @Override
    public String toString() {
        return getMessage().isEmpty() ? name() : name() + ": " + getMessage();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RpcError e && e.type == type && Objects.equals(e.domName, domName) && e.getMessage().equals(getMessage());
    }

    @Override
    public int hashCode() {
        return (type.hashCode() * 31 + Objects.hashCode(domName)) * 31 + getMessage().hashCode();
    }
}
