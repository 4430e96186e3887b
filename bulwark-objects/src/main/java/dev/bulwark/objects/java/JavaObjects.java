package dev.bulwark.objects.java;

import dev.bulwark.objects.storage.StorageOptions;
import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.ipc.ObjectIds;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The node's Java durable objects: the registered classes and their live objects. Each object
 * (tenant, class, id) has exactly one live instance, whose events run one at a time in arrival
 * order, each committing its writes before its result is released. Idle objects are evicted and
 * made again from storage on their next event.
 *
 * <p>Namespaces are per tenant: the ids of a class in one tenant are made with that tenant's key
 * and are refused in another's, and each tenant's objects have their own files.
 */
public final class JavaObjects implements AutoCloseable {
    /** The {@code script_name} with which a worker's durable object binding names a Java class. */
    public static final String SCRIPT_NAME = "bulwark:java";
    /** The worker id in the addresses of Java objects (no deployed worker can have it: ':' is not allowed). */
    public static final String WORKER_ID = SCRIPT_NAME;
    /** The largest RPC result or argument list, serialized (what a call carries in one frame). */
    static final int MAX_PAYLOAD_BYTES = 8 << 20;
    /** The largest fetch response body (as for JS objects' responses to calls). */
    static final int MAX_RESPONSE_BYTES = 32 << 20;

    /** What the node provides. */
    public interface Host {
        /** Where an object's database lives (its directory is created on first use). */
        Path databaseFile(String tenant, String className, String objectId);

        /** The key a tenant's namespace of a class makes its ids with. */
        byte[] namespaceKey(String tenant, String className);

        /** A committed change of an object's alarm (null: deleted), for the node's alarm index. */
        void alarmChanged(String tenant, Address.DurableObject object, Long epochMillis);

        /** An object failed in a way its caller sees only as {@code reference}; the detail is the node's. */
        void internalError(String reference, String what, Throwable error);
    }

    /** Who calls: a JS worker (only bindable classes) or trusted Java code. */
    public enum Caller { WORKER, JAVA }

    interface AlarmListener {
        void changed(ObjectKey key, String name, Long epochMillis);
    }

    private static final ThreadLocal<Set<ObjectKey>> ACTIVE = ThreadLocal.withInitial(HashSet::new);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Host host;
    private final long idleNanos;
    private final StorageOptions options;
    private final Map<String, JavaObjectClass> classes = new ConcurrentHashMap<>();
    private final Map<ObjectKey, LiveObject> live = new ConcurrentHashMap<>();
    private final ScheduledExecutorService sweeper;
    private final AlarmListener alarms;
    private volatile boolean closed;

    public JavaObjects(Host host, long idleMillis, StorageOptions options) {
        this.host = host;
        this.idleNanos = TimeUnit.MILLISECONDS.toNanos(idleMillis);
        this.options = options;
        this.alarms = (key, name, time) -> host.alarmChanged(key.tenant(), address(key, name), time);
        this.sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "java-objects-evictor");
            t.setDaemon(true);
            return t;
        });
        long period = Math.max(50, idleMillis / 2);
        sweeper.scheduleWithFixedDelay(this::evictIdle, period, period, TimeUnit.MILLISECONDS);
    }

    /** Registers a class; a name can be registered once. */
    public void register(JavaObjectClass cls) {
        if (classes.putIfAbsent(cls.name(), cls) != null) {
            throw new IllegalStateException("a Java object class named " + cls.name() + " is registered already");
        }
    }

    public Optional<JavaObjectClass> registered(String className) {
        return Optional.ofNullable(classes.get(className));
    }

    /** Whether an address names a Java object (rather than one of a worker's classes). */
    public static boolean isJava(Address address) {
        return address instanceof Address.DurableObject o && WORKER_ID.equals(o.workerId());
    }

    /** The address of a Java object, as the alarm index and sandboxes' stubs name it. */
    static Address.DurableObject address(ObjectKey key, String name) {
        return new Address.DurableObject(WORKER_ID, key.className(), key.id(), name);
    }

    /** A registered class's namespace in a tenant: ids and stubs, for Java callers. */
    public JavaNamespace namespace(String tenant, String className) {
        if (!classes.containsKey(className)) throw new IllegalArgumentException("no Java object class named " + className);
        return new JavaNamespace(this, tenant, className, host.namespaceKey(tenant, className));
    }

    /** Live (not evicted) objects, for operators and tests. */
    public int liveCount() {
        return live.size();
    }

    // ---- events ----

    /**
     * An RPC call: {@code args} is the serialized argument list, or null for a property read.
     * Never throws: every refusal and failure is an outcome that rejects the caller's promise.
     */
    public RpcOutcome rpc(Caller caller, String tenant, String className, String objectId, String name, String method,
                          byte[] args) {
        try {
            JavaObjectClass cls = reachable(caller, tenant, className, objectId);
            if (method == null || !cls.methods().contains(method)) {
                throw new RpcError(RpcError.Type.TYPE_ERROR, "The RPC receiver does not implement the method \"" + method + "\".");
            }
            if (args == null) throw new RpcError(RpcError.Type.TYPE_ERROR, "\"" + method + "\" is a method: call it.");
            if (!(StructuredValues.decode(args) instanceof List<?> list)) throw StructuredReader.invalid("the arguments are not a list");
            @SuppressWarnings("unchecked") List<Object> argList = (List<Object>) list;
            byte[] result = event(cls, new ObjectKey(tenant, className, objectId), name, false,
                    o -> StructuredValues.encode(o.call(method, argList), MAX_PAYLOAD_BYTES));
            return new RpcOutcome(result, false);
        } catch (RpcError e) {
            return new RpcOutcome(StructuredValues.encode(e), true);
        }
    }

    /** A stub's fetch. Refusals and failures are thrown as {@link RpcError}s. */
    public JavaResponse fetch(Caller caller, String tenant, String className, String objectId, String name,
                              JavaRequest request) {
        JavaObjectClass cls = reachable(caller, tenant, className, objectId);
        return event(cls, new ObjectKey(tenant, className, objectId), name, false, o -> {
            JavaResponse r = o.fetch(request);
            if (r == null) throw new IllegalStateException("fetch() returned null");
            if (r.body().length > MAX_RESPONSE_BYTES) throw new IllegalStateException("the response is larger than " + MAX_RESPONSE_BYTES + " bytes");
            return r;
        });
    }

    /** Runs an object's alarm handler; true when it returned (false: retry later). */
    public boolean alarm(String tenant, String className, String objectId, String name, int retryCount) {
        JavaObjectClass cls = classes.get(className);
        if (cls == null) return false; // not registered (yet): the alarm index retries
        try {
            event(cls, new ObjectKey(tenant, className, objectId), name, true, o -> {
                o.alarm(new AlarmInfo(retryCount, retryCount > 0));
                return null;
            });
            return true;
        } catch (RpcError e) {
            return false;
        }
    }

    /** The class, once the caller may reach this object of it; else the refusal a stub would get. */
    private JavaObjectClass reachable(Caller caller, String tenant, String className, String objectId) {
        if (closed) throw new RpcError("the node is shutting down");
        JavaObjectClass cls = classes.get(className);
        if (cls == null || (caller == Caller.WORKER && !cls.bindable())) {
            throw new RpcError(RpcError.Type.TYPE_ERROR, "no durable object class '" + className + "' can be called from here");
        }
        if (!ObjectIds.belongsTo(host.namespaceKey(tenant, className), objectId)) {
            throw new RpcError(RpcError.Type.TYPE_ERROR, "ID is not for this namespace.");
        }
        return cls;
    }

    /** Runs one event on the object's single instance, in its turn; failures become RpcErrors. */
    private <T> T event(JavaObjectClass cls, ObjectKey key, String name, boolean alarmRun, LiveObject.Body<T> body) {
        Set<ObjectKey> chain = ACTIVE.get();
        if (chain.contains(key)) {
            throw new RpcError("a durable object cannot be called by an event it is itself handling (the call would wait forever)");
        }
        LiveObject o = enter(cls, key, name);
        chain.add(key);
        try {
            return o.run(body, alarmRun, alarms);
        } catch (RpcError e) {
            throw e;
        } catch (Throwable e) {
            if (e instanceof VirtualMachineError && !(e instanceof StackOverflowError)) throw (VirtualMachineError) e;
            String reference = HexFormat.of().formatHex(randomBytes());
            host.internalError(reference, cls.name() + " " + key.id() + " (tenant " + key.tenant() + ")", e);
            throw new RpcError("internal error; reference = " + reference);
        } finally {
            chain.remove(key);
            o.exit();
        }
    }

    private static byte[] randomBytes() {
        byte[] b = new byte[8];
        RANDOM.nextBytes(b);
        return b;
    }

    private LiveObject enter(JavaObjectClass cls, ObjectKey key, String name) {
        while (true) {
            if (closed) throw new RpcError("the node is shutting down");
            LiveObject o = live.computeIfAbsent(key, k -> new LiveObject(k, name, cls,
                    host.databaseFile(k.tenant(), k.className(), k.id()), options, this));
            try {
                if (o.enter()) return o;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RpcError("the call was canceled");
            }
            live.remove(key, o);
        }
    }

    private void evictIdle() {
        for (LiveObject o : live.values()) {
            if (o.evictIfIdle(idleNanos)) live.remove(o.key, o);
        }
    }

    /** Stops taking events and closes every object once its running event ends (waiting a few seconds each). */
    @Override
    public void close() {
        closed = true;
        sweeper.shutdownNow();
        for (LiveObject o : live.values()) {
            try {
                if (!o.close(5_000)) host.internalError("-", o.key + " did not finish its event; its database was left open", new IllegalStateException());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        live.clear();
    }
}
