package dev.bulwark.server.egress;

/** What an address is, as far as the egress gateway is concerned. Only {@link #PUBLIC} is reachable by default. */
public enum AddressClass {
    /** A global unicast address of someone else. */
    PUBLIC("a public address"),
    /** 127.0.0.0/8, ::1. */
    LOOPBACK("a loopback address"),
    /** An address of one of this host's own network interfaces (whatever its range). */
    HOST("an address of this host"),
    /** Cloud instance metadata (169.254.169.254, fd00:ec2::254, 100.100.100.200). */
    METADATA("a cloud metadata address"),
    /** RFC 1918, unique local (fc00::/7), site-local (fec0::/10). */
    PRIVATE("a private address"),
    /** 169.254.0.0/16, fe80::/10. */
    LINK_LOCAL("a link-local address"),
    /** Carrier-grade NAT, 100.64.0.0/10. */
    CGNAT("a carrier-grade NAT address"),
    /** Unspecified, multicast, broadcast, documentation, benchmarking and other special-purpose ranges. */
    RESERVED("a reserved address");

    private final String description;

    AddressClass(String description) {
        this.description = description;
    }

    public String description() {
        return description;
    }
}
