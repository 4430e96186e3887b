package dev.bulwark.objects.java;

import dev.bulwark.sandbox.ipc.ObjectIds;

import java.util.Objects;

/**
 * A durable object id as Java sees it: the same 64 hex digits JS sees ({@code id.toString()}), and
 * the name it was made from with {@code idFromName} (null for unique ids and ids read back from
 * strings). Equal ids name the same object; the name is not part of the identity.
 */
public record JavaObjectId(String hex, String name) {
    public JavaObjectId {
        if (!ObjectIds.isWellFormed(hex)) throw new IllegalArgumentException("an object id is 64 lower-case hex digits");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof JavaObjectId other && other.hex.equals(hex);
    }

    @Override
    public int hashCode() {
        return hex.hashCode();
    }

    @Override
    public String toString() {
        return hex;
    }

    static JavaObjectId of(String hex, String name) {
        return new JavaObjectId(Objects.requireNonNull(hex, "hex"), name);
    }
}
