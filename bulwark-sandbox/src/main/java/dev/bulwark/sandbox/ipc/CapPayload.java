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

    /** A stub the sender holds: an index into its isolate's import table (JS ↔ sandbox only). */
    public record Import(long index) implements Ref {}

    /** A capability id the node issued to the holder (sandbox ↔ node only). */
    public record Held(long capId) implements Ref {}

    /** A durable object stub as JS holds it: its namespace binding's index, the id, the name or null (JS → sandbox). */
    public record ObjectStub(long binding, String id, String name) implements Ref {}

    /** A durable object or worker entrypoint stub by address (sandbox → node). */
    public record Addressed(Address address) implements Ref {}

    private static final int EXPORT = 1, IMPORT = 2, HELD = 3, OBJECT_STUB = 4, ADDRESS_WORKER = 5, ADDRESS_OBJECT = 6;

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
                case OBJECT_STUB -> new ObjectStub(r.varint(), r.str(), r.optStr());
                case ADDRESS_WORKER -> new Addressed(new Address.Worker(r.str(), r.optStr()));
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
                case Import i -> { o.write(IMPORT); varint(o, (i.index() << 1) ^ (i.index() >> 63)); }
                case Held h -> { o.write(HELD); varint(o, h.capId()); }
                case ObjectStub s -> { o.write(OBJECT_STUB); varint(o, s.binding()); str(o, s.id()); optStr(o, s.name()); }
                case Addressed a -> {
                    switch (a.address()) {
                        case Address.Worker w -> { o.write(ADDRESS_WORKER); str(o, w.workerId()); optStr(o, w.entrypoint()); }
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
    }
}
