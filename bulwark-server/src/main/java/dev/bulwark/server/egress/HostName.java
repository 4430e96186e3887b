package dev.bulwark.server.egress;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;

/**
 * A URL's host in the one form the gateway decides on: a lower-case DNS name without a trailing
 * dot, a dotted-quad IPv4 address, or an IPv6 address. IPv4 hosts are read as the WHATWG URL
 * standard (and browsers, and C's inet_aton) read them, so {@code 2130706433}, {@code 0x7f.1},
 * {@code 0177.0.0.1} and {@code 127.1} are all 127.0.0.1, matched and checked as such.
 *
 * @param name    the canonical spelling (IPv6 without brackets)
 * @param literal the address when the host is an IP literal, else null (a name to resolve)
 */
public record HostName(String name, InetAddress literal) {

    /** Parses a host as it appears in a URL's authority; throws IllegalArgumentException when it is not one. */
    public static HostName parse(String host) {
        if (host == null || host.isEmpty()) throw new IllegalArgumentException("the URL has no host");
        String h = host.toLowerCase(Locale.ROOT);
        if (h.startsWith("[")) {
            if (!h.endsWith("]")) throw new IllegalArgumentException("bad IPv6 host " + host);
            String inner = h.substring(1, h.length() - 1);
            if (inner.indexOf('%') >= 0 || !inner.matches("[0-9a-f:.]+")) {
                throw new IllegalArgumentException("bad IPv6 host " + host);
            }
            try {
                InetAddress a = InetAddress.getByName(inner);
                return new HostName(a.getHostAddress(), a);
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("bad IPv6 host " + host);
            }
        }
        if (h.endsWith(".")) h = h.substring(0, h.length() - 1);
        if (h.isEmpty() || h.length() > 253) throw new IllegalArgumentException("bad host " + host);
        if (endsInNumber(h)) {
            byte[] v4 = parseIPv4(h);
            try {
                InetAddress a = InetAddress.getByAddress(v4);
                return new HostName(a.getHostAddress(), a);
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("bad IPv4 host " + host);
            }
        }
        if (!h.matches("[a-z0-9_-]+(\\.[a-z0-9_-]+)*")) throw new IllegalArgumentException("bad host " + host);
        return new HostName(h, null);
    }

    public boolean isLiteral() {
        return literal != null;
    }

    /** WHATWG "ends in a number": the last label is all digits, or 0x followed by hex digits. */
    private static boolean endsInNumber(String h) {
        String last = h.substring(h.lastIndexOf('.') + 1);
        if (last.isEmpty()) return false;
        if (last.chars().allMatch(c -> c >= '0' && c <= '9')) return true;
        return (last.startsWith("0x")) && last.substring(2).chars().allMatch(c -> Character.digit(c, 16) >= 0);
    }

    private static byte[] parseIPv4(String h) {
        String[] parts = h.split("\\.", -1);
        if (parts.length > 4) throw new IllegalArgumentException("bad IPv4 host " + h);
        long[] n = new long[parts.length];
        for (int i = 0; i < parts.length; i++) n[i] = number(parts[i], h);
        for (int i = 0; i < n.length - 1; i++) {
            if (n[i] > 255) throw new IllegalArgumentException("bad IPv4 host " + h);
        }
        long last = n[n.length - 1];
        if (last >= 1L << (8 * (5 - n.length))) throw new IllegalArgumentException("bad IPv4 host " + h);
        long value = last;
        for (int i = 0; i < n.length - 1; i++) value += n[i] << (8 * (3 - i));
        return new byte[] {(byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value};
    }

    private static long number(String part, String h) {
        if (part.isEmpty()) throw new IllegalArgumentException("bad IPv4 host " + h);
        int radix = 10;
        String digits = part;
        if (part.startsWith("0x")) {
            radix = 16;
            digits = part.substring(2);
        } else if (part.length() > 1 && part.startsWith("0")) {
            radix = 8;
            digits = part.substring(1);
        }
        if (digits.isEmpty()) return 0;
        if (digits.length() > 12) throw new IllegalArgumentException("bad IPv4 host " + h);
        try {
            return Long.parseLong(digits, radix);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad IPv4 host " + h);
        }
    }
}
