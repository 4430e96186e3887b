package dev.bulwark.server.node;

import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Unguessable, unique 128-bit tokens (32 hex digits) at the cost of one AES block each: a counter
 * encrypted under a key drawn at start-up. AES is a permutation, so tokens never repeat, and
 * without the key one token says nothing about another. Drawing 16 bytes from the system's
 * SecureRandom per request (NativePRNG: a lock, /dev/urandom and a SHA-1 mix) cost more.
 */
final class Tokens {
    private final SecretKeySpec key;
    private final AtomicLong counter = new AtomicLong();
    private final ConcurrentLinkedQueue<Cipher> ciphers = new ConcurrentLinkedQueue<>();

    Tokens(SecureRandom random) {
        byte[] k = new byte[16];
        random.nextBytes(k);
        this.key = new SecretKeySpec(k, "AES");
    }

    String next() {
        long n = counter.incrementAndGet();
        byte[] block = new byte[16];
        for (int i = 0; i < 8; i++) block[8 + i] = (byte) (n >>> (56 - 8 * i));
        Cipher c = ciphers.poll();
        try {
            if (c == null) {
                c = Cipher.getInstance("AES/ECB/NoPadding");
                c.init(Cipher.ENCRYPT_MODE, key);
            }
            byte[] out = c.doFinal(block);
            ciphers.offer(c);
            return HexFormat.of().formatHex(out);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES is part of every JDK", e);
        }
    }
}
