package dev.bulwark.server.config;

import java.net.InetAddress;
import java.util.List;

/**
 * How the front door treats what clients say about themselves.
 *
 * @param trustedProxies addresses (IP literals, or CIDR blocks such as {@code 10.0.0.0/8}) of proxies in
 *                       front of the node whose {@code cf-*} headers ({@code CF-Connecting-IP},
 *                       {@code CF-IPCountry}, ...) are passed to workers as sent. From any other peer
 *                       those headers are removed and replaced by the node's own values.
 * @param colo           what {@code request.cf.colo} says (Cloudflare puts its data centre's code there)
 * @param maxConcurrentRequests how many requests to workers the node serves at once; past it a client gets
 *                       {@code 503 node_overloaded} with {@code Retry-After}. Each request in flight can
 *                       hold up to {@link #BYTES_PER_REQUEST} of the node's heap (its response window),
 *                       so the default gives them half the heap: see {@link #defaultMaxConcurrentRequests}
 * @param webSocketBufferBytes bytes all WebSockets together may hold in the node toward clients that read
 *                       slower than their workers send (each socket also stops at 16 MiB); past it the
 *                       socket whose send would pass it is cut off: see {@link #defaultWebSocketBufferBytes}
 */
public record FrontDoorSettings(List<String> trustedProxies, String colo, int maxConcurrentRequests,
                                long webSocketBufferBytes) {
    /**
     * What one request in flight may hold in the node, at most: 1 MiB of response bytes the client
     * has not taken plus one 64 KiB piece, rounded up to leave room for Jetty's own buffers.
     */
    public static final long BYTES_PER_REQUEST = 2L << 20;
    public static final FrontDoorSettings DEFAULTS = new FrontDoorSettings(List.of(), "local");

    public FrontDoorSettings {
        if (maxConcurrentRequests < 1) throw new IllegalArgumentException("maxConcurrentRequests must be positive");
        if (webSocketBufferBytes < 1) throw new IllegalArgumentException("webSocketBufferBytes must be positive");
        trustedProxies = List.copyOf(trustedProxies);
        for (String p : trustedProxies) {
            if (!isAddressOrBlock(p)) throw new IllegalArgumentException("not an IP address or CIDR block: " + p);
        }
        if (colo == null || colo.isBlank()) throw new IllegalArgumentException("colo must not be empty");
    }

    /** With the default cap on concurrent requests and the default WebSocket buffer bound. */
    public FrontDoorSettings(List<String> trustedProxies, String colo) {
        this(trustedProxies, colo, defaultMaxConcurrentRequests(Runtime.getRuntime().maxMemory()));
    }

    /** With the default WebSocket buffer bound. */
    public FrontDoorSettings(List<String> trustedProxies, String colo, int maxConcurrentRequests) {
        this(trustedProxies, colo, maxConcurrentRequests, defaultWebSocketBufferBytes(Runtime.getRuntime().maxMemory()));
    }

    public FrontDoorSettings withMaxConcurrentRequests(int max) {
        return new FrontDoorSettings(trustedProxies, colo, max, webSocketBufferBytes);
    }

    public FrontDoorSettings withWebSocketBufferBytes(long bytes) {
        return new FrontDoorSettings(trustedProxies, colo, maxConcurrentRequests, bytes);
    }

    /**
     * A quarter of the node's heap, at least 64 MiB: requests in flight may hold half of it
     * ({@link #defaultMaxConcurrentRequests}), and frames toward slow clients should not take the rest.
     */
    public static long defaultWebSocketBufferBytes(long maxHeapBytes) {
        return Math.max(64L << 20, maxHeapBytes / 4);
    }

    /**
     * Half of the node's heap divided by what one request may hold ({@value #BYTES_PER_REQUEST} bytes),
     * between 16 and 4096: 64 for a 256 MiB heap, 1024 for 4 GiB.
     */
    public static int defaultMaxConcurrentRequests(long maxHeapBytes) {
        long n = maxHeapBytes / 2 / BYTES_PER_REQUEST;
        return (int) Math.max(16, Math.min(4096, n));
    }

    /** Whether {@code text} is an IP literal or {@code literal/prefix}. */
    public static boolean isAddressOrBlock(String text) {
        int slash = text.indexOf('/');
        String address = slash < 0 ? text : text.substring(0, slash);
        byte[] raw = literal(address);
        if (raw == null) return false;
        if (slash < 0) return true;
        try {
            int bits = Integer.parseInt(text.substring(slash + 1));
            return bits >= 0 && bits <= raw.length * 8;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** Whether the peer {@code address} is one of the trusted proxies. */
    public boolean trusts(InetAddress address) {
        if (address == null) return false;
        byte[] peer = address.getAddress();
        for (String p : trustedProxies) {
            int slash = p.indexOf('/');
            byte[] block = literal(slash < 0 ? p : p.substring(0, slash));
            if (block == null || block.length != peer.length) continue;
            int bits = slash < 0 ? block.length * 8 : Integer.parseInt(p.substring(slash + 1));
            if (samePrefix(block, peer, bits)) return true;
        }
        return false;
    }

    private static boolean samePrefix(byte[] a, byte[] b, int bits) {
        for (int i = 0; i < bits; i++) {
            int mask = 0x80 >>> (i % 8);
            if ((a[i / 8] & mask) != (b[i / 8] & mask)) return false;
        }
        return true;
    }

    /** The bytes of an IP literal, or null; never a DNS lookup. */
    private static byte[] literal(String s) {
        if (s.isEmpty()) return null;
        boolean v4 = s.matches("\\d{1,3}(\\.\\d{1,3}){3}");
        boolean v6 = s.contains(":") && s.matches("[0-9a-fA-F:.]+");
        if (!v4 && !v6) return null;
        if (v4) {
            for (String octet : s.split("\\.")) if (Integer.parseInt(octet) > 255) return null;
        }
        try {
            return InetAddress.getByName(s).getAddress(); // a literal: parsed, not resolved
        } catch (java.net.UnknownHostException e) {
            return null;
        }
    }
}
