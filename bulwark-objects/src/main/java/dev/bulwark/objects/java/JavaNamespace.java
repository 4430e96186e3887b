package dev.bulwark.objects.java;

import dev.bulwark.sandbox.ipc.ObjectIds;

/**
 * A Java class's namespace in one tenant, for Java callers: the same ids as
 * {@code env.NS.idFromName(...)} gives a worker of that tenant bound to the class.
 */
public final class JavaNamespace {
    private final JavaObjects objects;
    private final String tenant;
    private final String className;
    private final byte[] key;

    JavaNamespace(JavaObjects objects, String tenant, String className, byte[] key) {
        this.objects = objects;
        this.tenant = tenant;
        this.className = className;
        this.key = key;
    }

    public JavaObjectId idFromName(String name) {
        return JavaObjectId.of(ObjectIds.fromName(key, name), name);
    }

    public JavaObjectId newUniqueId() {
        return JavaObjectId.of(ObjectIds.unique(key), null);
    }

    /** The id written as {@code hex}; refused when it is malformed or not of this namespace. */
    public JavaObjectId idFromString(String hex) {
        if (!ObjectIds.belongsTo(key, hex)) {
            throw new IllegalArgumentException(ObjectIds.isWellFormed(hex)
                    ? "Invalid Durable Object ID: the ID is not for this namespace."
                    : "Invalid Durable Object ID: must be 64 hex digits");
        }
        return JavaObjectId.of(hex, null);
    }

    public JavaObjectStub get(JavaObjectId id) {
        if (!ObjectIds.belongsTo(key, id.hex())) throw new IllegalArgumentException("ID is not for this namespace.");
        return new JavaObjectStub(objects, tenant, className, id);
    }

    public JavaObjectStub getByName(String name) {
        return get(idFromName(name));
    }

    public String tenant() {
        return tenant;
    }

    public String className() {
        return className;
    }
}
