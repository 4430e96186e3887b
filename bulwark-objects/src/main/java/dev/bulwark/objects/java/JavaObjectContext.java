package dev.bulwark.objects.java;

/**
 * What a Java durable object is given (its {@code ctx}): its id, its tenant and class, its
 * storage, and the namespaces of the other Java classes of its tenant.
 */
public final class JavaObjectContext {
    private final JavaObjects objects;
    private final String tenant;
    private final String className;
    private final JavaObjectId id;
    private final JavaStorage storage;

    JavaObjectContext(JavaObjects objects, String tenant, String className, JavaObjectId id, JavaStorage storage) {
        this.objects = objects;
        this.tenant = tenant;
        this.className = className;
        this.id = id;
        this.storage = storage;
    }

    public JavaObjectId id() {
        return id;
    }

    public String tenant() {
        return tenant;
    }

    public String className() {
        return className;
    }

    public JavaStorage storage() {
        return storage;
    }

    /**
     * Runs {@code io} (a call that waits: another object, a facet) with this object's gate open, as
     * a JS object's input gate opens while it awaits I/O: the event's writes so far are committed
     * first, other events of this object may run meanwhile, and this event goes on once {@code io}
     * returned and its turn came again. Storage is usable before and after, not inside {@code io}.
     * Only on the thread of the event that calls it.
     */
    public <T> T outsideGate(java.util.concurrent.Callable<T> io) throws Exception {
        return storage.object().outsideGate(io);
    }

    /**
     * A Java class's namespace in this object's tenant. Calling an object that is (directly or
     * through others) calling this one fails at once instead of waiting forever.
     */
    public JavaNamespace namespace(String className) {
        return objects.namespace(tenant, className);
    }
}
