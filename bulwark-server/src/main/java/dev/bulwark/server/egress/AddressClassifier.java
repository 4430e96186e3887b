package dev.bulwark.server.egress;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.Collections;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Classifies the addresses a worker's fetch would connect to. IPv6 forms that carry an IPv4
 * address ({@code ::a.b.c.d}, {@code ::ffff:a.b.c.d}, {@code ::ffff:0:a.b.c.d}, NAT64
 * {@code 64:ff9b::/96}, 6to4 {@code 2002::/16}, Teredo {@code 2001::/32}) are judged by the IPv4
 * address they carry (for Teredo, both the server and the client address), so no IPv6 spelling
 * reaches what its IPv4 form could not. Every address of every local interface is {@link
 * AddressClass#HOST}, whatever range it is in: a public address of this machine is still this machine.
 */
public final class AddressClassifier {
    private static final long INTERFACES_TTL_NANOS = 5_000_000_000L;

    private final Supplier<Set<InetAddress>> interfaces;
    private volatile Set<InetAddress> hostAddresses = Set.of();
    private volatile long hostAddressesAt;

    /** Classifies against the live interfaces of this machine (re-read every few seconds). */
    public AddressClassifier() {
        this(AddressClassifier::localInterfaceAddresses);
    }

    /** Classifies against the given host addresses (tests). */
    public AddressClassifier(Supplier<Set<InetAddress>> interfaces) {
        this.interfaces = interfaces;
    }

    public AddressClass classify(InetAddress address) {
        byte[] b = address.getAddress();
        if (b.length == 4) return classifyV4(b, address);
        AddressClass own = v6Own(b, address);
        if (own != null) return own;
        byte[] embedded = embeddedV4(b);
        if (embedded != null) {
            AddressClass c = classifyV4(embedded, v4(embedded));
            if (c != AddressClass.PUBLIC) return c;
        }
        byte[] teredoServer = teredoServer(b);
        if (teredoServer != null) {
            AddressClass c = classifyV4(teredoServer, v4(teredoServer));
            if (c != AddressClass.PUBLIC) return c;
        }
        return AddressClass.PUBLIC;
    }

    private AddressClass classifyV4(byte[] b, InetAddress address) {
        int a0 = b[0] & 0xff, a1 = b[1] & 0xff, a2 = b[2] & 0xff, a3 = b[3] & 0xff;
        if (a0 == 127) return AddressClass.LOOPBACK;
        if ((a0 == 169 && a1 == 254 && a2 == 169 && a3 == 254) || (a0 == 100 && a1 == 100 && a2 == 100 && a3 == 200)) {
            return AddressClass.METADATA;
        }
        if (isHostAddress(address)) return AddressClass.HOST;
        if (a0 == 10 || (a0 == 172 && (a1 & 0xf0) == 16) || (a0 == 192 && a1 == 168)) return AddressClass.PRIVATE;
        if (a0 == 169 && a1 == 254) return AddressClass.LINK_LOCAL;
        if (a0 == 100 && (a1 & 0xc0) == 64) return AddressClass.CGNAT;
        if (a0 == 0 // "this network"
                || (a0 == 192 && a1 == 0 && a2 == 0) // IETF protocol assignments
                || (a0 == 192 && a1 == 0 && a2 == 2) || (a0 == 198 && a1 == 51 && a2 == 100)
                || (a0 == 203 && a1 == 0 && a2 == 113) // documentation
                || (a0 == 192 && a1 == 88 && a2 == 99) // 6to4 relay anycast
                || (a0 == 198 && (a1 & 0xfe) == 18) // benchmarking
                || a0 >= 224) { // multicast, reserved, broadcast
            return AddressClass.RESERVED;
        }
        return AddressClass.PUBLIC;
    }

    /** The classes an IPv6 address has by itself (before looking at an IPv4 it may carry); null: none. */
    private AddressClass v6Own(byte[] b, InetAddress address) {
        if (isZero(b, 0, 15) && (b[15] == 1)) return AddressClass.LOOPBACK;
        if (isZero(b, 0, 16)) return AddressClass.RESERVED; // ::
        if ((b[0] & 0xff) == 0xfd && (b[1] & 0xff) == 0x00 && (b[2] & 0xff) == 0x0e && (b[3] & 0xff) == 0xc2
                && isZero(b, 4, 14) && (b[15] & 0xff) == 0x54 && (b[14] & 0xff) == 0x02) {
            return AddressClass.METADATA; // fd00:ec2::254
        }
        if (isHostAddress(address)) return AddressClass.HOST;
        int b0 = b[0] & 0xff, b1 = b[1] & 0xff;
        if ((b0 & 0xfe) == 0xfc) return AddressClass.PRIVATE; // fc00::/7
        if (b0 == 0xfe && (b1 & 0xc0) == 0x80) return AddressClass.LINK_LOCAL; // fe80::/10
        if (b0 == 0xfe && (b1 & 0xc0) == 0xc0) return AddressClass.PRIVATE; // fec0::/10, site-local
        if (b0 == 0xff) return AddressClass.RESERVED; // multicast
        if (b0 == 0x20 && b1 == 0x01 && (b[2] & 0xff) == 0x0d && (b[3] & 0xff) == 0xb8) return AddressClass.RESERVED; // 2001:db8::/32
        if (b0 == 0x01 && b1 == 0x00 && isZero(b, 2, 8)) return AddressClass.RESERVED; // 100::/64 discard
        if (b0 == 0x00 && b1 == 0x64 && (b[2] & 0xff) == 0xff && (b[3] & 0xff) == 0x9b && (b[4] & 0xff) == 0x00
                && (b[5] & 0xff) == 0x01) {
            return AddressClass.PRIVATE; // 64:ff9b:1::/48, local-use NAT64
        }
        return null;
    }

    /** The IPv4 address an IPv6 address carries (compatible, mapped, translated, NAT64, 6to4, Teredo client), or null. */
    static byte[] embeddedV4(byte[] b) {
        if (isZero(b, 0, 12)) return slice(b, 12); // ::a.b.c.d (IPv4-compatible; :: and ::1 handled before)
        if (isZero(b, 0, 10) && (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff) return slice(b, 12); // ::ffff:a.b.c.d
        if (isZero(b, 0, 8) && (b[8] & 0xff) == 0xff && (b[9] & 0xff) == 0xff && isZero(b, 10, 12)) {
            return slice(b, 12); // ::ffff:0:a.b.c.d
        }
        if ((b[0] & 0xff) == 0x00 && (b[1] & 0xff) == 0x64 && (b[2] & 0xff) == 0xff && (b[3] & 0xff) == 0x9b
                && isZero(b, 4, 12)) {
            return slice(b, 12); // 64:ff9b::/96
        }
        if ((b[0] & 0xff) == 0x20 && (b[1] & 0xff) == 0x02) return new byte[] {b[2], b[3], b[4], b[5]}; // 2002::/16
        if (isTeredo(b)) { // the client address, obfuscated (inverted)
            return new byte[] {(byte) ~b[12], (byte) ~b[13], (byte) ~b[14], (byte) ~b[15]};
        }
        return null;
    }

    private static byte[] teredoServer(byte[] b) {
        return isTeredo(b) ? new byte[] {b[4], b[5], b[6], b[7]} : null;
    }

    private static boolean isTeredo(byte[] b) {
        return (b[0] & 0xff) == 0x20 && (b[1] & 0xff) == 0x01 && b[2] == 0 && b[3] == 0;
    }

    private boolean isHostAddress(InetAddress address) {
        long now = System.nanoTime();
        if (now - hostAddressesAt > INTERFACES_TTL_NANOS || hostAddressesAt == 0) {
            hostAddresses = interfaces.get();
            hostAddressesAt = now == 0 ? 1 : now;
        }
        InetAddress plain = address;
        if (address instanceof Inet6Address v6 && v6.getScopeId() != 0) {
            try {
                plain = InetAddress.getByAddress(v6.getAddress()); // compare without the scope
            } catch (UnknownHostException e) {
                return true;
            }
        }
        return hostAddresses.contains(plain);
    }

    /** Every address of every interface of this machine, up or down, without IPv6 scope ids. */
    public static Set<InetAddress> localInterfaceAddresses() {
        Set<InetAddress> all = new HashSet<>();
        try {
            for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                for (InetAddress a : Collections.list(ni.getInetAddresses())) {
                    all.add(InetAddress.getByAddress(a.getAddress()));
                }
            }
        } catch (SocketException | UnknownHostException e) {
            // fall through with what we have; loopback and private ranges are denied regardless
        }
        return Set.copyOf(all);
    }

    private static boolean isZero(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] != 0) return false;
        }
        return true;
    }

    private static byte[] slice(byte[] b, int from) {
        return new byte[] {b[from], b[from + 1], b[from + 2], b[from + 3]};
    }

    private static InetAddress v4(byte[] b) {
        try {
            return Inet4Address.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
