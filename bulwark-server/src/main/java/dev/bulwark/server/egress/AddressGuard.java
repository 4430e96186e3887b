package dev.bulwark.server.egress;

import org.eclipse.jetty.util.Promise;
import org.eclipse.jetty.util.SocketAddressResolver;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The HTTP client's only resolver: it resolves a host, classifies every address, and hands the
 * client exactly the addresses it checked, so the client connects to an address that was judged
 * and never resolves again (no DNS-rebinding window). A host with any forbidden address is
 * refused entirely. Redirects are not followed by the client: each hop is a new request that
 * passes the allowlist and this guard again.
 */
public final class AddressGuard implements SocketAddressResolver {
    private final AddressClassifier classifier;
    private final boolean allowPrivateNetworks;
    private final boolean testOnlyAllowLoopback;

    public AddressGuard(AddressClassifier classifier, boolean allowPrivateNetworks, boolean testOnlyAllowLoopback) {
        this.classifier = classifier;
        this.allowPrivateNetworks = allowPrivateNetworks;
        this.testOnlyAllowLoopback = testOnlyAllowLoopback;
    }

    /** A host the gateway must not connect to, with a message a worker may see. */
    public static final class Denied extends Exception {
        public Denied(String message) {
            super(message, null, false, false);
        }
    }

    @Override
    public void resolve(String host, int port, Map<String, Object> context, Promise<List<InetSocketAddress>> promise) {
        // DNS blocks: never on the client's own threads.
        Thread.startVirtualThread(() -> {
            try {
                List<InetSocketAddress> out = new ArrayList<>();
                for (InetAddress a : check(HostName.parse(host))) out.add(new InetSocketAddress(a, port));
                promise.succeeded(out);
            } catch (Denied | IllegalArgumentException e) {
                promise.failed(e instanceof Denied ? e : new Denied(e.getMessage()));
            }
        });
    }

    /** The addresses of {@code host} if every one of them may be reached; Denied otherwise. */
    public List<InetAddress> check(HostName host) throws Denied {
        InetAddress[] addresses;
        if (host.literal() != null) {
            addresses = new InetAddress[] {host.literal()};
        } else {
            try {
                addresses = InetAddress.getAllByName(host.name());
            } catch (UnknownHostException e) {
                throw new Denied("DNS lookup failed for " + host.name());
            }
        }
        for (InetAddress a : addresses) {
            AddressClass c = classifier.classify(a);
            if (!allowed(c)) {
                throw new Denied("Network connection to " + host.name() + " (" + a.getHostAddress()
                        + ") is not allowed: it is " + c.description());
            }
        }
        return List.of(addresses);
    }

    public boolean allowed(AddressClass c) {
        return switch (c) {
            case PUBLIC -> true;
            case PRIVATE, LINK_LOCAL, CGNAT -> allowPrivateNetworks;
            case LOOPBACK -> testOnlyAllowLoopback;
            case HOST, METADATA, RESERVED -> false;
        };
    }
}
