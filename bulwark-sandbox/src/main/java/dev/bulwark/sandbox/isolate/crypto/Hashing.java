package dev.bulwark.sandbox.isolate.crypto;

import javax.crypto.Mac;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Digests and HMACs fed in pieces: large inputs cross from JS in bounded chunks, and
 * {@code crypto.DigestStream} keeps one open while it is written. Handles are small integers
 * private to one isolate. A worker that abandons a stream leaves its entry behind, so at most
 * {@link #MAX_OPEN} are kept: opening one more drops the oldest (an abandoned stream, almost
 * always; a live one would then fail its next write with OperationError).
 */
final class Hashing {
    static final int MAX_OPEN = 1024;

    private sealed interface State permits Digest, Hmac {}

    private record Digest(MessageDigest md) implements State {}

    private record Hmac(Mac mac) implements State {}

    private final Map<Integer, State> open = new LinkedHashMap<>(); // insertion order: oldest first
    private int next = 1;

    int digest(Hash hash) {
        return add(new Digest(hash.digest()));
    }

    int hmac(Hash hash, byte[] key) {
        return add(new Hmac(hash.mac(key)));
    }

    private int add(State s) {
        if (open.size() >= MAX_OPEN) open.remove(open.keySet().iterator().next());
        while (open.containsKey(next) || next <= 0) next = next <= 0 ? 1 : next + 1;
        int id = next++;
        open.put(id, s);
        return id;
    }

    void update(int id, java.nio.ByteBuffer data) throws CryptoException {
        switch (state(id)) {
            case Digest d -> d.md().update(data);
            case Hmac h -> h.mac().update(data);
        }
    }

    byte[] finish(int id) throws CryptoException {
        State s = state(id);
        open.remove(id);
        return switch (s) {
            case Digest d -> d.md().digest();
            case Hmac h -> h.mac().doFinal();
        };
    }

    void drop(int id) {
        open.remove(id);
    }

    int size() {
        return open.size();
    }

    private State state(int id) throws CryptoException {
        State s = open.get(id);
        if (s == null) throw CryptoException.operation("The digest is already finished");
        return s;
    }
}
