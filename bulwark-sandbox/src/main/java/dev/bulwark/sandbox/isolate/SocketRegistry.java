package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.ipc.Message;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The WebSockets of one sandbox: which isolate holds a plain worker's socket (its events must go
 * there), and a mirror of the hibernatable sockets of each object that the node restored or the
 * object accepted here, so an object made again (a reset isolate, a new sandbox) finds them.
 */
final class SocketRegistry {
    /** One hibernatable socket: its tags and serialized attachment (null: none). */
    record Kept(List<String> tags, byte[] attachment) {}

    private final Map<Long, Isolate> homes = new ConcurrentHashMap<>();
    private final Map<String, Map<Long, Kept>> objects = new ConcurrentHashMap<>();
    private final Map<Long, String> objectOf = new ConcurrentHashMap<>();
    private final Map<String, Long> eventTimeouts = new ConcurrentHashMap<>();
    /**
     * The outbound WebSockets (negated ids) a durable object accepted, by the object they belong
     * to: such an object is not evicted while one is open (workerd keeps the actor's IoContext, and
     * with it the actor, while its socket's read loop is pending).
     */
    private final Map<Long, Held> outbound = new ConcurrentHashMap<>();

    /** An object that holds an outbound socket, in the isolate that runs it. */
    private record Held(Isolate isolate, String object) {}

    static String key(String className, String objectId) {
        return className + "\n" + objectId;
    }

    void home(long socketId, Isolate isolate) {
        homes.put(socketId, isolate);
    }

    Isolate homeOf(long socketId) {
        return homes.get(socketId);
    }

    /** Whether a plain worker's WebSocket lives in this isolate. */
    boolean homesAt(Isolate isolate) {
        return homes.containsValue(isolate);
    }

    void restore(Message.SocketRestore restore) {
        String key = key(restore.target().className(), restore.target().objectId());
        Map<Long, Kept> kept = new LinkedHashMap<>();
        for (Message.SocketState s : restore.sockets()) {
            kept.put(s.socketId(), new Kept(s.tags(), s.attachment()));
            objectOf.put(s.socketId(), key);
        }
        objects.put(key, java.util.Collections.synchronizedMap(kept));
    }

    void accepted(String className, String objectId, long socketId, List<String> tags) {
        String key = key(className, objectId);
        objects.computeIfAbsent(key, k -> java.util.Collections.synchronizedMap(new LinkedHashMap<>()))
                .put(socketId, new Kept(tags, null));
        objectOf.put(socketId, key);
    }

    void attachment(long socketId, byte[] attachment) {
        String key = objectOf.get(socketId);
        Map<Long, Kept> kept = key == null ? null : objects.get(key);
        if (kept != null) kept.computeIfPresent(socketId, (id, k) -> new Kept(k.tags(), attachment));
    }

    /** Outbound socket {@code endId} (negated) belongs to this object of {@code isolate} until it closes. */
    void heldBy(long endId, Isolate isolate, String className, String objectId) {
        outbound.put(endId, new Held(isolate, key(className, objectId)));
    }

    /** Whether this object of {@code isolate} holds an open outbound socket (it must not be evicted). */
    boolean holdsOutbound(Isolate isolate, String className, String objectId) {
        if (outbound.isEmpty()) return false;
        String key = key(className, objectId);
        for (Held h : outbound.values()) {
            if (h.isolate() == isolate && h.object().equals(key)) return true;
        }
        return false;
    }

    /**
     * The client ends (negated ids) {@code isolate} claimed: outbound sockets, and sockets a durable
     * object's 101 handed to it.
     */
    List<Long> clientEndsAt(Isolate isolate) {
        List<Long> ids = new java.util.ArrayList<>();
        for (var e : homes.entrySet()) {
            if (e.getKey() < 0 && e.getValue() == isolate) ids.add(e.getKey());
        }
        return ids;
    }

    /** The socket is closed: it is nobody's any more. */
    void closed(long socketId) {
        outbound.remove(socketId);
        homes.remove(socketId);
        String key = objectOf.remove(socketId);
        Map<Long, Kept> kept = key == null ? null : objects.get(key);
        if (kept != null) kept.remove(socketId);
    }

    /** The hibernatable sockets of an object, in the order they were accepted. */
    Map<Long, Kept> keptBy(String className, String objectId) {
        Map<Long, Kept> kept = objects.get(key(className, objectId));
        if (kept == null) return Map.of();
        synchronized (kept) {
            return new LinkedHashMap<>(kept);
        }
    }

    void eventTimeout(String className, String objectId, long millis) {
        if (millis <= 0) eventTimeouts.remove(key(className, objectId));
        else eventTimeouts.put(key(className, objectId), millis);
    }

    /** The object's hibernatable event timeout in ms, or 0 for none. */
    long eventTimeout(String className, String objectId) {
        return eventTimeouts.getOrDefault(key(className, objectId), 0L);
    }
}
