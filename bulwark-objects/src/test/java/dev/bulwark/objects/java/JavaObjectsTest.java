package dev.bulwark.objects.java;

import dev.bulwark.objects.storage.StorageOptions;
import dev.bulwark.sandbox.ipc.Address;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Java durable objects without a node: one instance per id, serial events, gates, storage, eviction. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class JavaObjectsTest {
    @TempDir
    Path dir;
    final List<String> internalErrors = new CopyOnWriteArrayList<>();
    final List<Object[]> alarmChanges = new CopyOnWriteArrayList<>();
    final List<String> trace = Collections.synchronizedList(new ArrayList<>());
    final AtomicInteger constructed = new AtomicInteger();
    JavaObjects objects;

    JavaObjects.Host host() {
        return new JavaObjects.Host() {
            @Override
            public Path databaseFile(String tenant, String className, String objectId) {
                return dir.resolve(tenant).resolve(className).resolve(objectId + ".sqlite");
            }

            @Override
            public byte[] namespaceKey(String tenant, String className) {
                try {
                    Mac mac = Mac.getInstance("HmacSHA256");
                    mac.init(new SecretKeySpec(new byte[32], "HmacSHA256"));
                    return mac.doFinal((tenant + "\n" + className).getBytes(StandardCharsets.UTF_8));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }

            @Override
            public void alarmChanged(String tenant, Address.DurableObject object, Long epochMillis) {
                alarmChanges.add(new Object[]{tenant, object, epochMillis});
            }

            @Override
            public void internalError(String reference, String what, Throwable error) {
                internalErrors.add(reference + " " + error);
            }
        };
    }

    /** A counter in KV, plus the methods the tests need. */
    final class Counter implements JavaDurableObject {
        final JavaObjectContext ctx;
        JavaStorage stashed;

        Counter(JavaObjectContext ctx) {
            this.ctx = ctx;
            constructed.incrementAndGet();
        }

        long count() {
            Object n = ctx.storage().get("n");
            return n == null ? 0 : (Long) n;
        }

        @Override
        public Object call(String method, List<Object> args) throws Exception {
            return switch (method) {
                case "increment" -> {
                    long n = count() + 1;
                    ctx.storage().put("n", n);
                    yield n;
                }
                case "get" -> count();
                case "failAfterWrite" -> {
                    ctx.storage().put("n", 999L);
                    throw new RpcError(RpcError.Type.RANGE_ERROR, "no");
                }
                case "errorAfterWrite" -> {
                    ctx.storage().put("n", 777L);
                    throw new AssertionError("an Error, not an Exception");
                }
                case "crash" -> throw new IllegalStateException("secret detail of " + getClass().getName());
                case "slow" -> {
                    trace.add("start " + args.get(0));
                    Thread.sleep(100);
                    trace.add("end " + args.get(0));
                    yield null;
                }
                case "notListed" -> "reached";
                case "callSelf" -> ctx.namespace("Counter").get(ctx.id()).call("get");
                case "stash" -> {
                    stashed = ctx.storage();
                    yield null;
                }
                case "setAlarm" -> {
                    ctx.storage().setAlarm((Long) args.get(0));
                    yield null;
                }
                case "getAlarm" -> {
                    OptionalLong t = ctx.storage().getAlarm();
                    yield t.isPresent() ? t.getAsLong() : null;
                }
                case "echo" -> args;
                default -> throw new IllegalArgumentException(method);
            };
        }

        @Override
        public JavaResponse fetch(JavaRequest request) {
            return JavaResponse.text(200, request.method() + " " + count());
        }

        @Override
        public void alarm(AlarmInfo alarm) {
            trace.add("alarm " + alarm.retryCount() + " during=" + ctx.storage().getAlarm());
            ctx.storage().put("alarmRan", true);
            if (count() == 0) throw new RpcError("first run fails");
        }
    }

    JavaObjects start(long idleMs) {
        objects = new JavaObjects(host(), idleMs, StorageOptions.defaults());
        objects.register(JavaObjectClass.bindable("Counter", Counter::new, "increment", "get", "failAfterWrite", "errorAfterWrite", "crash",
                "slow", "callSelf", "stash", "setAlarm", "getAlarm", "echo"));
        objects.register(JavaObjectClass.javaOnly("Session", Counter::new, "get"));
        return objects;
    }

    @AfterEach
    void stop() {
        if (objects != null) objects.close();
    }

    JavaObjectStub counter(String tenant, String name) {
        return objects.namespace(tenant, "Counter").getByName(name);
    }

    @Test
    void thirtyTwoConcurrentCallersEachGetADistinctCountAndTheTotalIsExact() throws Exception {
        start(60_000);
        JavaObjectStub stub = counter("t", "shared");
        List<Future<Object>> calls = new ArrayList<>();
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 32; i++) calls.add(pool.submit(() -> stub.call("increment")));
        }
        List<Object> seen = new ArrayList<>();
        for (Future<Object> f : calls) seen.add(f.get());
        assertThat(seen).containsExactlyInAnyOrderElementsOf(LongStream.rangeClosed(1, 32).boxed().toList());
        assertThat(stub.call("get")).isEqualTo(32L);
        assertThat(constructed).as("one instance for the id").hasValue(1);
        assertThat(stub.fetch(new JavaRequest("GET", "http://x/", List.of(), null)).bodyText()).isEqualTo("GET 32");
    }

    @Test
    void overlappingEventsOfOneObjectNeverInterleave() throws Exception {
        start(60_000);
        JavaObjectStub stub = counter("t", "serial");
        CountDownLatch go = new CountDownLatch(1);
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (String who : List.of("a", "b", "c")) pool.submit(() -> {
                go.await();
                return stub.call("slow", who);
            });
            go.countDown();
        }
        assertThat(trace).hasSize(6);
        for (int i = 0; i < 6; i += 2) {
            assertThat(trace.get(i)).startsWith("start ");
            assertThat(trace.get(i + 1)).isEqualTo("end " + trace.get(i).substring(6));
        }
    }

    @Test
    void committedWritesSurviveARestartAndAFailedEventLeavesNoWrite() {
        start(60_000);
        JavaObjectStub stub = counter("t", "durable");
        for (int i = 0; i < 3; i++) stub.call("increment");
        assertThatThrownBy(() -> stub.call("failAfterWrite")).isEqualTo(new RpcError(RpcError.Type.RANGE_ERROR, "no"));
        assertThat(stub.call("get")).as("the failed event's write was rolled back").isEqualTo(3L);
        objects.close();
        start(60_000);
        assertThat(counter("t", "durable").call("get")).isEqualTo(3L);
        assertThat(dir.resolve("t/Counter/" + counter("t", "durable").id().hex() + ".sqlite")).exists();
    }

    @Test
    void javaExceptionsReachTheCallerOnlyAsAnInternalErrorWithAReference() {
        start(60_000);
        assertThatThrownBy(() -> counter("t", "c").call("crash")).isInstanceOfSatisfying(RpcError.class, e -> {
            assertThat(e.type()).isEqualTo(RpcError.Type.ERROR);
            assertThat(e.getMessage()).matches("internal error; reference = [0-9a-f]{16}");
            assertThat(internalErrors).singleElement().asString()
                    .startsWith(e.getMessage().substring("internal error; reference = ".length()))
                    .contains("secret detail");
        });
    }

    @Test
    void anErrorThatIsNotAnExceptionAlsoRollsBackAndTheInstanceIsMadeAgain() {
        start(60_000);
        JavaObjectStub stub = counter("t", "error");
        stub.call("increment");
        assertThatThrownBy(() -> stub.call("errorAfterWrite")).isInstanceOfSatisfying(RpcError.class,
                e -> assertThat(e.getMessage()).startsWith("internal error; reference = "));
        assertThat(stub.call("get")).as("the write before the Error was rolled back, not committed by the next event").isEqualTo(1L);
        assertThat(constructed).hasValue(2);
    }

    @Test
    void onlyTheClassesListedMethodsAreCallable() {
        start(60_000);
        JavaObjectStub stub = counter("t", "m");
        for (String m : List.of("notListed", "constructor", "fetch", "alarm", "toString", "")) {
            assertThatThrownBy(() -> stub.call(m)).as(m).isEqualTo(new RpcError(RpcError.Type.TYPE_ERROR,
                    "The RPC receiver does not implement the method \"" + m + "\"."));
        }
        // a property read of a method
        RpcOutcome read = objects.rpc(JavaObjects.Caller.WORKER, "t", "Counter", stub.id().hex(), null, "get", null);
        assertThat(read.threw()).isTrue();
        assertThat(StructuredValues.decode(read.value())).isEqualTo(new RpcError(RpcError.Type.TYPE_ERROR, "\"get\" is a method: call it."));
        // a class that is not bindable is not reachable from workers at all
        String sessionId = objects.namespace("t", "Session").idFromName("s").hex();
        RpcOutcome refused = objects.rpc(JavaObjects.Caller.WORKER, "t", "Session", sessionId, null, "get",
                StructuredValues.encode(List.of()));
        assertThat(StructuredValues.decode(refused.value())).isEqualTo(new RpcError(RpcError.Type.TYPE_ERROR,
                "no durable object class 'Session' can be called from here"));
        assertThat(objects.namespace("t", "Session").idFromName("s").hex()).isEqualTo(sessionId);
        assertThat(objects.namespace("t", "Session").getByName("s").call("get")).isEqualTo(0L);
    }

    @Test
    void namespacesArePerTenant() {
        start(60_000);
        JavaObjectStub a = counter("tenant-a", "x");
        JavaObjectStub b = counter("tenant-b", "x");
        assertThat(a.id()).isNotEqualTo(b.id());
        a.call("increment");
        a.call("increment");
        assertThat(b.call("get")).isEqualTo(0L);
        assertThatThrownBy(() -> objects.namespace("tenant-b", "Counter").idFromString(a.id().hex()))
                .hasMessage("Invalid Durable Object ID: the ID is not for this namespace.");
        RpcOutcome foreign = objects.rpc(JavaObjects.Caller.WORKER, "tenant-b", "Counter", a.id().hex(), null, "get",
                StructuredValues.encode(List.of()));
        assertThat(StructuredValues.decode(foreign.value())).isEqualTo(new RpcError(RpcError.Type.TYPE_ERROR, "ID is not for this namespace."));
        assertThat(a.call("get")).isEqualTo(2L);
    }

    @Test
    void idleObjectsAreEvictedAndComeBackFromStorage() throws Exception {
        start(100);
        JavaObjectStub stub = counter("t", "idle");
        stub.call("increment");
        assertThat(objects.liveCount()).isEqualTo(1);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (objects.liveCount() > 0 && System.nanoTime() < deadline) Thread.sleep(20);
        assertThat(objects.liveCount()).isZero();
        assertThat(stub.call("increment")).isEqualTo(2L);
        assertThat(constructed).as("made again after eviction").hasValue(2);
    }

    @Test
    void anObjectCallingItselfFailsInsteadOfWaitingForever() {
        start(60_000);
        assertThatThrownBy(() -> counter("t", "self").call("callSelf")).isInstanceOfSatisfying(RpcError.class,
                e -> assertThat(e.getMessage()).contains("cannot be called by an event it is itself handling"));
    }

    @Test
    void storageIsRefusedOutsideTheObjectsEvent() {
        start(60_000);
        AtomicInteger made = new AtomicInteger();
        JavaStorage[] leaked = new JavaStorage[1];
        objects.register(JavaObjectClass.bindable("Leaky", ctx -> {
            made.incrementAndGet();
            leaked[0] = ctx.storage();
            return new JavaDurableObject() {
                @Override
                public Object call(String method, List<Object> args) {
                    ctx.storage().put("k", 1);
                    return null;
                }
            };
        }, "write"));
        objects.namespace("t", "Leaky").getByName("l").call("write");
        assertThatThrownBy(() -> leaked[0].put("k", 2)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void argumentsAndResultsAreCopies() {
        start(60_000);
        List<Object> args = new ArrayList<>(List.of(1L, "two", new ArrayList<>(List.of(3L))));
        Object echoed = counter("t", "e").call("echo", args);
        assertThat(echoed).isEqualTo(args).isNotSameAs(args);
    }

    @Test
    void alarmsAreIndexedAfterCommitAndRunWithGetAlarmClearedAndRetriedWhenTheyThrow() {
        start(60_000);
        JavaObjectStub stub = counter("t", "alarm");
        stub.call("setAlarm", 12345L);
        assertThat(alarmChanges).singleElement().satisfies(c -> {
            assertThat(c[0]).isEqualTo("t");
            assertThat(((Address.DurableObject) c[1]).workerId()).isEqualTo(JavaObjects.WORKER_ID);
            assertThat(((Address.DurableObject) c[1]).objectId()).isEqualTo(stub.id().hex());
            assertThat(c[2]).isEqualTo(12345L);
        });
        String id = stub.id().hex();
        // first run throws: the alarm stays set (the handler's writes and the clearing roll back)
        assertThat(objects.alarm("t", "Counter", id, "alarm", 0)).isFalse();
        assertThat(stub.call("getAlarm")).isEqualTo(12345L);
        stub.call("increment");
        assertThat(objects.alarm("t", "Counter", id, "alarm", 1)).isTrue();
        assertThat(trace).containsExactly("alarm 0 during=OptionalLong.empty", "alarm 1 during=OptionalLong.empty");
        assertThat(stub.call("getAlarm")).isNull();
        assertThat(objects.alarm("t", "Unregistered", id, null, 0)).isFalse();
    }

    @Test
    void nodeObjectFilesLiveUnderTheirTenantAndClass() throws Exception {
        start(60_000);
        JavaObjectStub stub = counter("t", "files");
        stub.call("increment");
        try (var files = Files.list(dir.resolve("t/Counter"))) {
            assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".sqlite")).toList())
                    .containsExactly(stub.id().hex() + ".sqlite");
        }
    }
}
