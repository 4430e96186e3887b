package dev.bulwark.server.config;

/**
 * A project's configuration cannot be used. The message names the file and, where known, the key
 * (as a path such as {@code durable_objects.bindings[0].class_name}) or the line, and says what was
 * expected. Messages never contain the value of a secret.
 */
public final class ConfigException extends Exception {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
