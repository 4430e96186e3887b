package dev.bulwark.server.node;

import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Invocation ids, which are also the request ids clients see ({@code CF-Ray}, error bodies). A
 * node-wide counter would tell any client how many requests every other tenant made between two
 * of its own; so the counter goes through a keyed permutation of 52-bit numbers (a four-round
 * Feistel network whose round function is AES under a key drawn at start-up). Ids stay unique
 * (a permutation of distinct counter values), below 2^53 (they cross into JavaScript as numbers)
 * and non-zero, and say nothing about the order or number of requests.
 */
final class RequestIds {
    private static final int HALF_BITS = 26;
    private static final long HALF_MASK = (1L << HALF_BITS) - 1;
    private static final int ROUNDS = 4;

    private final AtomicLong counter = new AtomicLong();
    private final SecretKeySpec key;
    /**
     * Initialized ciphers, taken and given back per id. Not a ThreadLocal: ids are drawn on the
     * front door's virtual threads, one new thread per request, so a ThreadLocal made (and threw
     * away) a Cipher for every request; {@code Cipher.getInstance} cost more than the id itself.
     */
    private final java.util.concurrent.ConcurrentLinkedQueue<Cipher> ciphers = new java.util.concurrent.ConcurrentLinkedQueue<>();

    RequestIds() {
        this(new SecureRandom());
    }

    RequestIds(SecureRandom random) {
        byte[] key = new byte[16];
        random.nextBytes(key);
        this.key = new SecretKeySpec(key, "AES");
    }

    private Cipher cipher() {
        Cipher c = ciphers.poll();
        if (c != null) return c;
        try {
            c = Cipher.getInstance("AES/ECB/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, key);
            return c;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES is part of every JDK", e);
        }
    }

    /** The next id: unique for this node's lifetime (2^52 of them), never 0. */
    long next() {
        while (true) {
            long id = permute(counter.incrementAndGet() & ((1L << (2 * HALF_BITS)) - 1));
            if (id != 0) return id;
        }
    }

    long permute(long value) {
        Cipher aes = cipher();
        long left = value >>> HALF_BITS, right = value & HALF_MASK;
        byte[] block = new byte[16], out = new byte[16];
        for (int round = 0; round < ROUNDS; round++) {
            long next = left ^ roundFunction(aes, block, out, round, right);
            left = right;
            right = next;
        }
        ciphers.offer(aes); // (at most one per thread drawing ids at the same moment)
        return (left << HALF_BITS) | right;
    }

    private static long roundFunction(Cipher aes, byte[] block, byte[] out, int round, long half) {
        block[0] = (byte) round;
        for (int i = 0; i < 8; i++) block[8 + i] = (byte) (half >>> (56 - 8 * i));
        try {
            aes.doFinal(block, 0, 16, out, 0);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES on one block cannot fail", e);
        }
        long v = 0;
        for (int i = 0; i < 8; i++) v = (v << 8) | (out[i] & 0xFF);
        return v & HALF_MASK;
    }
}
