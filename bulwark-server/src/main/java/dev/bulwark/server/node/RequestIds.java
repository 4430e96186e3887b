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
    private final ThreadLocal<Cipher> aes;

    RequestIds() {
        this(new SecureRandom());
    }

    RequestIds(SecureRandom random) {
        byte[] key = new byte[16];
        random.nextBytes(key);
        SecretKeySpec spec = new SecretKeySpec(key, "AES");
        this.aes = ThreadLocal.withInitial(() -> {
            try {
                Cipher c = Cipher.getInstance("AES/ECB/NoPadding");
                c.init(Cipher.ENCRYPT_MODE, spec);
                return c;
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("AES is part of every JDK", e);
            }
        });
    }

    /** The next id: unique for this node's lifetime (2^52 of them), never 0. */
    long next() {
        while (true) {
            long id = permute(counter.incrementAndGet() & ((1L << (2 * HALF_BITS)) - 1));
            if (id != 0) return id;
        }
    }

    long permute(long value) {
        long left = value >>> HALF_BITS, right = value & HALF_MASK;
        for (int round = 0; round < ROUNDS; round++) {
            long next = left ^ roundFunction(round, right);
            left = right;
            right = next;
        }
        return (left << HALF_BITS) | right;
    }

    private long roundFunction(int round, long half) {
        byte[] block = new byte[16];
        block[0] = (byte) round;
        for (int i = 0; i < 8; i++) block[8 + i] = (byte) (half >>> (56 - 8 * i));
        byte[] out;
        try {
            out = aes.get().doFinal(block);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES on one block cannot fail", e);
        }
        long v = 0;
        for (int i = 0; i < 8; i++) v = (v << 8) | (out[i] & 0xFF);
        return v & HALF_MASK;
    }
}
