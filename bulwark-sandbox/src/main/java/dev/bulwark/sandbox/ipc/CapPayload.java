package dev.bulwark.sandbox.ipc;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * An RPC payload (arguments, a result, a thrown error) with the capabilities it passes by
 * reference. Without capabilities a payload is just the structured-serialized bytes (they start
 * with 0xB7); with some, it is {@code 0xCA, count, count × ref, then the serialized bytes}, whose
 * host-object slot {@code n} stands for ref {@code n}. So the records that carry payloads
 * (RpcCall, RpcStart, RpcReturn, RpcResult, CapCall, CapStart) keep their shape.
 *
 * <p>Who writes which refs: JS writes {@link Export} (its isolate's export id), {@link Import}
 * (its import-table index) and {@link ObjectStub}; the sandbox's Java turns those into {@link
 * Export} (a sandbox-wide id), {@link Held} (the node's capability id) and {@link Addressed};
 * the node turns all of them into {@link Held} capability ids of the receiver; the receiving
 * sandbox turns those into {@link Import} indexes of the receiving isolate. No side ever sees
 * another's ids.
 */
public record CapPayload(List<Ref> refs, byte[] value) {

    public static final int MAGIC = 0xCA;
    /** At most this many capabilities in one payload. */
    public static final int MAX_REFS = 1024;

    public CapPayload {
        refs = List.copyOf(refs);
    }

    /** One capability passed by reference. */
    public sealed interface Ref {}

    /** Something the sender exports (a function or an RpcTarget): an id in the sender's export table. */
    public record Export(long id) implements Ref {}

    /**
     * A stub the sender holds: an index into its isolate's import table (JS ↔ sandbox only). From
     * the sandbox to JS it carries the {@link Shape} the node gave it (what members the stub has).
     */
    public record Import(long index, Shape shape) implements Ref {
        public Import {
            java.util.Objects.requireNonNull(shape, "shape");
        }

        public Import(long index) {
            this(index, Shape.PLAIN);
        }
    }

    /**
     * A capability id the node issued to the holder (sandbox ↔ node only). From the node to a
     * receiver it carries the capability's {@link Shape}: a durable object stub or a fetcher passed
     * on keeps its {@code fetch()} and {@code id} on the receiver's side.
     */
    public record Held(long capId, Shape shape) implements Ref {
        public Held {
            java.util.Objects.requireNonNull(shape, "shape");
        }

        public Held(long capId) {
            this(capId, Shape.PLAIN);
        }
    }

    /**
     * What a stub looks like to the JS that holds it, beyond RPC: nothing ({@link Plain}: a
     * function, an RpcTarget, a Java capability), a durable object stub ({@link ObjectShape}: its id
     * and name, and {@code fetch()}), or a fetcher ({@link FetcherShape}: a service binding, a
     * {@code ctx.exports} or dynamic worker entrypoint: {@code fetch()}). Only the node sets it,
     * from what the capability is; it names nothing the holder could call otherwise.
     */
    public sealed interface Shape {
        Shape PLAIN = new Plain();
        Shape FETCHER = new FetcherShape();
    }

    public record Plain() implements Shape {}

    public record ObjectShape(String id, String name) implements Shape {
        public ObjectShape {
            java.util.Objects.requireNonNull(id, "id");
        }
    }

    public record FetcherShape() implements Shape {}

    /**
     * A service binding or {@code ctx.exports} stub as JS holds it (JS → sandbox): the binding's
     * index (-1: the worker's own entrypoint), the entrypoint, the props the granter serialized
     * (null: none; ignored for a binding, whose props are its own). The sandbox resolves it to an
     * {@link Addressed} worker entrypoint with its grant.
     */
    public record Service(long index, String entrypoint, byte[] props) implements Ref {
        public Service {
            props = props == null ? null : props.clone();
        }

        @Override
        public byte[] props() {
            return props == null ? null : props.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Service s && s.index == index && java.util.Objects.equals(s.entrypoint, entrypoint)
                    && java.util.Arrays.equals(s.props, props);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(index) * 31 + java.util.Arrays.hashCode(props);
        }
    }

    /** A durable object stub as JS holds it: its namespace binding's index, the id, the name or null (JS → sandbox). */
    public record ObjectStub(long binding, String id, String name) implements Ref {}

    /** A durable object or worker entrypoint stub by address (sandbox → node). */
    public record Addressed(Address address) implements Ref {}

    private static final int EXPORT = 1, IMPORT = 2, HELD = 3, OBJECT_STUB = 4, ADDRESS_WORKER = 5, ADDRESS_OBJECT = 6;
    // Branch rpcgaps: shaped stubs, service stubs, entrypoints with a grant (props, lower limits).
    private static final int HELD_SHAPED = 21, IMPORT_SHAPED = 22, SERVICE = 23, ADDRESS_WORKER_GRANT = 24;
    private static final int SHAPE_PLAIN = 0, SHAPE_OBJECT = 1, SHAPE_FETCHER = 2;
    /** Props travel with a grant: bounded as ctx.exports props are. */
    private static final int MAX_PROPS = 1 << 20;

    /** Whether {@code bytes} carry capabilities (else they are plain serialized bytes). */
    public static boolean hasRefs(byte[] bytes) {
        return bytes != null && bytes.length > 0 && (bytes[0] & 0xff) == MAGIC;
    }

    /** Reads a payload; null stays null. Malformed input: IllegalArgumentException. */
    public static CapPayload decode(byte[] bytes) {
        if (bytes == null) return null;
        if (!hasRefs(bytes)) return new CapPayload(List.of(), bytes);
        Reader r = new Reader(bytes);
        r.p = 1;
        long n = r.varint();
        if (n > MAX_REFS) throw new IllegalArgumentException("too many capabilities in one RPC payload");
        List<Ref> refs = new ArrayList<>((int) n);
        for (int k = 0; k < n; k++) {
            int kind = r.b();
            refs.add(switch (kind) {
                case EXPORT -> new Export(r.varint());
                case IMPORT -> {
                    long z = r.varint(); // zigzag: a negative index names a capability binding of env
                    yield new Import((z >>> 1) ^ -(z & 1));
                }
                case HELD -> new Held(r.varint());
                case HELD_SHAPED -> new Held(r.varint(), r.shape());
                case IMPORT_SHAPED -> {
                    long z = r.varint();
                    yield new Import((z >>> 1) ^ -(z & 1), r.shape());
                }
                case SERVICE -> {
                    long z = r.varint();
                    yield new Service((z >>> 1) ^ -(z & 1), r.optStr(), r.optBytes());
                }
                case OBJECT_STUB -> new ObjectStub(r.varint(), r.str(), r.optStr());
                case ADDRESS_WORKER -> new Addressed(new Address.Worker(r.str(), r.optStr()));
                case ADDRESS_WORKER_GRANT -> {
                    String worker = r.str(), entrypoint = r.optStr();
                    byte[] props = r.optBytes();
                    long cpuMs = r.varint() - 1, subrequests = r.varint() - 1;
                    if (cpuMs > Long.MAX_VALUE / 2 || subrequests > Integer.MAX_VALUE) {
                        throw new IllegalArgumentException("malformed capability grant");
                    }
                    yield new Addressed(new Address.Worker(worker, entrypoint, new Address.Grant(props, cpuMs, (int) subrequests)));
                }
                case ADDRESS_OBJECT -> new Addressed(new Address.DurableObject(r.str(), r.str(), r.str(), r.optStr()));
                default -> throw new IllegalArgumentException("unknown capability kind " + kind);
            });
        }
        byte[] value = java.util.Arrays.copyOfRange(bytes, r.p, bytes.length);
        return new CapPayload(refs, value);
    }

    /** Writes this payload: the bare value when it has no capabilities. */
    public byte[] encode() {
        if (refs.isEmpty()) return value;
        ByteArrayOutputStream o = new ByteArrayOutputStream(value.length + 16 + refs.size() * 10);
        o.write(MAGIC);
        varint(o, refs.size());
        for (Ref ref : refs) {
            switch (ref) {
                case Export e -> { o.write(EXPORT); varint(o, e.id()); }
                case Import i when i.shape() instanceof Plain -> { o.write(IMPORT); varint(o, (i.index() << 1) ^ (i.index() >> 63)); }
                case Import i -> { o.write(IMPORT_SHAPED); varint(o, (i.index() << 1) ^ (i.index() >> 63)); shape(o, i.shape()); }
                case Held h when h.shape() instanceof Plain -> { o.write(HELD); varint(o, h.capId()); }
                case Held h -> { o.write(HELD_SHAPED); varint(o, h.capId()); shape(o, h.shape()); }
                case Service sv -> {
                    o.write(SERVICE); varint(o, (sv.index() << 1) ^ (sv.index() >> 63)); optStr(o, sv.entrypoint());
                    optBytes(o, sv.props);
                }
                case ObjectStub s -> { o.write(OBJECT_STUB); varint(o, s.binding()); str(o, s.id()); optStr(o, s.name()); }
                case Addressed a -> {
                    switch (a.address()) {
                        case Address.Worker w when w.grant() == null || w.grant().isEmpty() -> {
                            o.write(ADDRESS_WORKER); str(o, w.workerId()); optStr(o, w.entrypoint());
                        }
                        case Address.Worker w -> {
                            o.write(ADDRESS_WORKER_GRANT); str(o, w.workerId()); optStr(o, w.entrypoint());
                            optBytes(o, w.grant().props());
                            varint(o, Math.max(-1, w.grant().cpuMs()) + 1);
                            varint(o, Math.max(-1, w.grant().subrequests()) + 1L);
                        }
                        case Address.DurableObject d -> {
                            o.write(ADDRESS_OBJECT); str(o, d.workerId()); str(o, d.className()); str(o, d.objectId());
                            optStr(o, d.name());
                        }
                    }
                }
            }
        }
        o.writeBytes(value);
        return o.toByteArray();
    }

    public CapPayload withRefs(List<Ref> newRefs) {
        return new CapPayload(newRefs, value);
    }

    private static void varint(ByteArrayOutputStream o, long n) {
        if (n < 0) throw new IllegalArgumentException("negative id");
        while (n >= 0x80) {
            o.write((int) (n & 0x7f) | 0x80);
            n >>>= 7;
        }
        o.write((int) n);
    }

    private static void str(ByteArrayOutputStream o, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        varint(o, b.length);
        o.writeBytes(b);
    }

    private static void shape(ByteArrayOutputStream o, Shape shape) {
        switch (shape) {
            case Plain p -> o.write(SHAPE_PLAIN);
            case FetcherShape f -> o.write(SHAPE_FETCHER);
            case ObjectShape d -> { o.write(SHAPE_OBJECT); str(o, d.id()); optStr(o, d.name()); }
        }
    }

    private static void optBytes(ByteArrayOutputStream o, byte[] b) {
        if (b == null) {
            o.write(0);
        } else {
            o.write(1);
            varint(o, b.length);
            o.writeBytes(b);
        }
    }

    private static void optStr(ByteArrayOutputStream o, String s) {
        if (s == null) {
            o.write(0);
        } else {
            o.write(1);
            str(o, s);
        }
    }

    private static final class Reader {
        final byte[] b;
        int p;

        Reader(byte[] b) {
            this.b = b;
        }

        int b() {
            if (p >= b.length) throw new IllegalArgumentException("truncated capability list");
            return b[p++] & 0xff;
        }

        long varint() {
            long n = 0;
            for (int shift = 0; shift < 63; shift += 7) {
                int c = b();
                n |= (long) (c & 0x7f) << shift;
                if (c < 0x80) return n;
            }
            throw new IllegalArgumentException("malformed capability id");
        }

        String str() {
            long n = varint();
            if (n > 4096 || n > b.length - p) throw new IllegalArgumentException("malformed capability address");
            String s = new String(b, p, (int) n, StandardCharsets.UTF_8);
            p += (int) n;
            return s;
        }

        String optStr() {
            return b() == 0 ? null : str();
        }

        byte[] optBytes() {
            if (b() == 0) return null;
            long n = varint();
            if (n > MAX_PROPS || n > b.length - p) throw new IllegalArgumentException("malformed capability props");
            byte[] out = java.util.Arrays.copyOfRange(b, p, p + (int) n);
            p += (int) n;
            return out;
        }

        Shape shape() {
            return switch (b()) {
                case SHAPE_PLAIN -> Shape.PLAIN;
                case SHAPE_FETCHER -> Shape.FETCHER;
                case SHAPE_OBJECT -> new ObjectShape(str(), optStr());
                default -> throw new IllegalArgumentException("unknown stub shape");
            };
        }
    }
}
