package dev.bulwark.sandbox.isolate;

import com.caoccao.javet.enums.V8ValueReferenceType;
import com.caoccao.javet.exceptions.BaseJavetScriptingException;
import com.caoccao.javet.exceptions.JavetException;
import com.caoccao.javet.interop.V8Runtime;
import com.caoccao.javet.values.V8Value;
import com.caoccao.javet.values.primitive.V8ValueString;
import com.caoccao.javet.values.reference.IV8ValueArray;
import com.caoccao.javet.values.reference.V8ValueObject;
import com.caoccao.javet.values.reference.V8ValueTypedArray;
import dev.bulwark.sandbox.ipc.Message;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The values that cross a host function: its arguments read into Java (sizes checked against
 * {@link HostLimits} before anything is copied), bytes and headers handed to JavaScript, and a
 * thrown value or exception described for a log line or an error message.
 */
final class HostValues {
    private HostValues() {}

    static V8ValueTypedArray bytes(V8Runtime runtime, byte[] b) throws JavetException {
        V8ValueTypedArray a = runtime.createV8ValueTypedArray(V8ValueReferenceType.Uint8Array, b.length);
        if (b.length > 0) a.fromBytes(b);
        return a;
    }

    /** Headers as the prelude takes them in one crossing: {@code "name\nvalue\nname\nvalue"}. */
    static String headerLines(List<Message.Header> headers) {
        StringBuilder sb = new StringBuilder(headers.size() * 32);
        for (Message.Header h : headers) {
            if (!sb.isEmpty()) sb.append('\n');
            // CR and LF cannot be in HTTP header names or values; drop any that slipped through.
            sb.append(h.name().replace('\n', ' ')).append('\n').append(h.value().replace('\n', ' '));
        }
        return sb.toString();
    }

    static List<Message.Header> headers(V8Value[] args, int i) throws JavetException {
        if (args.length > i && args[i] instanceof V8ValueString lines) {
            String s = lines.getValue();
            if (s.isEmpty()) return List.of();
            String[] parts = s.split("\n", -1);
            List<Message.Header> out = new ArrayList<>(parts.length / 2);
            for (int k = 0; k + 1 < parts.length; k += 2) out.add(new Message.Header(parts[k], parts[k + 1]));
            return out;
        }
        if (args.length <= i || !(args[i] instanceof IV8ValueArray array)) return List.of();
        List<Message.Header> out = new ArrayList<>();
        int n = array.getLength();
        for (int k = 0; k < n; k++) {
            try (V8Value v = array.get(k)) {
                if (v instanceof IV8ValueArray pair && pair.getLength() >= 2) {
                    out.add(new Message.Header(pair.getString(0), pair.getString(1)));
                }
            }
        }
        return out;
    }

    static String string(V8Value[] args, int i) {
        if (args.length <= i || args[i] == null || args[i].isNullOrUndefined()) return null;
        return args[i] instanceof V8ValueString s ? s.getValue() : args[i].toString();
    }

    static double number(V8Value[] args, int i) {
        if (args.length <= i) return 0;
        V8Value v = args[i];
        if (v instanceof com.caoccao.javet.values.primitive.V8ValueInteger n) return n.getValue();
        if (v instanceof com.caoccao.javet.values.primitive.V8ValueDouble n) return n.getValue();
        if (v instanceof com.caoccao.javet.values.primitive.V8ValueLong n) return n.getValue();
        return 0;
    }

    static int integer(V8Value[] args, int i) {
        return (int) number(args, i);
    }

    /**
     * A string argument, refused when longer than {@code max} UTF-16 units. Javet hands strings
     * over already copied, so the prelude checks these lengths before it calls the host; this
     * check keeps any oversized value out of the messages built from it.
     */
    static String boundedString(V8Value[] args, int i, int max, String what) throws JavetException {
        if (args.length > i && args[i] instanceof V8ValueString s && s.getValue().length() > max) {
            throw new RangeError(what + " is longer than " + max + " characters");
        }
        return string(args, i);
    }

    static List<Message.Header> boundedHeaders(V8Value[] args, int i, String what) throws JavetException {
        if (args.length > i && args[i] instanceof V8ValueString s && s.getValue().length() > HostLimits.MAX_HEADER_CHARS) {
            throw new RangeError(what + " are larger than " + HostLimits.MAX_HEADER_CHARS + " characters in total");
        }
        if (args.length > i && args[i] instanceof IV8ValueArray a && a.getLength() > HostLimits.MAX_HEADER_COUNT) {
            throw new RangeError(what + " are more than " + HostLimits.MAX_HEADER_COUNT);
        }
        List<Message.Header> headers = headers(args, i);
        long chars = 0;
        for (Message.Header h : headers) chars += h.name().length() + h.value().length() + 1;
        if (chars > HostLimits.MAX_HEADER_CHARS) {
            throw new RangeError(what + " are larger than " + HostLimits.MAX_HEADER_CHARS + " characters in total");
        }
        return headers;
    }

    /** Bytes of a typed array or string argument, refused (before any copy) past {@code max} bytes. */
    static byte[] boundedBytes(V8Value[] args, int i, long max, String what) throws JavetException {
        if (args.length > i && args[i] instanceof V8ValueTypedArray t && t.getByteLength() > max) {
            throw new RangeError(what + " is " + t.getByteLength() + " bytes; at most " + max + " cross at once");
        }
        if (args.length > i && args[i] instanceof V8ValueString s && (long) s.getValue().length() * 3 > max) {
            throw new RangeError(what + " is longer than " + max / 3 + " characters");
        }
        return byteArray(args, i);
    }

    /**
     * A serialized RPC payload (arguments or a result) at {@code args[i]}, a Uint8Array: at most
     * Workers' 32 MiB, else workerd's Error (checked before the bytes are copied).
     */
    static byte[] rpcPayload(V8Value[] args, int i) throws JavetException {
        if (!(args.length > i && args[i] instanceof V8ValueTypedArray t)) return null;
        if (t.getByteLength() > dev.bulwark.sandbox.ipc.RpcPayloadParts.MAX_PAYLOAD) {
            throw new IllegalArgumentException(dev.bulwark.sandbox.ipc.RpcPayloadParts.tooLarge(t.getByteLength()));
        }
        return t.toBytes();
    }

    /** Thrown by a host function: becomes a JavaScript RangeError-like Error with this message. */
    static final class RangeError extends IllegalArgumentException {
        RangeError(String message) {
            super(message);
        }
    }

    static byte[] byteArray(V8Value[] args, int i) throws JavetException {
        if (args.length > i && args[i] instanceof V8ValueTypedArray t) return t.toBytes();
        if (args.length > i && args[i] instanceof V8ValueString s) return s.getValue().getBytes(StandardCharsets.UTF_8);
        return new byte[0];
    }

    static String describe(V8Value value) {
        if (value == null) return "undefined";
        try {
            if (value instanceof V8ValueObject o) {
                String stack = o.getString("stack");
                if (stack != null && !stack.isEmpty()) return stack;
            }
            return value.toString();
        } catch (JavetException e) {
            return String.valueOf(value);
        }
    }

    static String describe(Throwable e) {
        if (e instanceof BaseJavetScriptingException s && s.getScriptingError() != null) {
            var err = s.getScriptingError();
            return err.getResourceName() + ":" + err.getLineNumber() + ":" + err.getStartColumn() + ": "
                    + err.getDetailedMessage();
        }
        return e.getMessage();
    }
}
