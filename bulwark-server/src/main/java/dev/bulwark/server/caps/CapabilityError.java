package dev.bulwark.server.caps;

/**
 * Thrown by a {@link JavaCapability} to reject the call with a JS error: {@code type} is the
 * error's class as JS sees it (Error, TypeError, RangeError, ...; another name becomes Error) and
 * the message is shown to the worker as is.
 */
public final class CapabilityError extends Exception {
    private final String type;

    public CapabilityError(String type, String message) {
        super(message, null, false, false);
        this.type = type == null ? "Error" : type;
    }

    public String type() {
        return type;
    }
}
