package dev.bulwark.server.egress;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.net.spi.InetAddressResolver;
import java.net.spi.InetAddressResolverProvider;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * TESTS ONLY: the JDK's name resolver for every test of this module (registered in
 * META-INF/services), which plays a DNS-rebinding attacker for the names a test arms: the first
 * lookup of an armed name answers one address, every later lookup another. Every other name
 * goes to the JDK's built-in resolver, so other tests in the same JVM see ordinary DNS.
 *
 * <p>The JDK caches positive lookups (30 s by default), which would hide a second lookup from
 * this resolver: the module's surefire run sets {@code -Dsun.net.inetaddr.ttl=0} so every
 * resolution reaches it.
 */
public final class RebindingResolverProvider extends InetAddressResolverProvider {

    private record Rebinding(InetAddress first, InetAddress then, AtomicInteger lookups) {}

    private static final Map<String, Rebinding> ARMED = new ConcurrentHashMap<>();

    /** From now on, {@code name} resolves to {@code first} once, then to {@code then}. */
    public static void arm(String name, InetAddress first, InetAddress then) {
        ARMED.put(name, new Rebinding(first, then, new AtomicInteger()));
    }

    public static void disarm(String name) {
        ARMED.remove(name);
    }

    /** How many times {@code name} was resolved since it was armed. */
    public static int lookups(String name) {
        Rebinding r = ARMED.get(name);
        return r == null ? 0 : r.lookups().get();
    }

    @Override
    public InetAddressResolver get(Configuration configuration) {
        InetAddressResolver builtin = configuration.builtinResolver();
        return new InetAddressResolver() {
            @Override
            public Stream<InetAddress> lookupByName(String host, LookupPolicy policy) throws UnknownHostException {
                Rebinding r = ARMED.get(host);
                if (r == null) return builtin.lookupByName(host, policy);
                InetAddress a = r.lookups().getAndIncrement() == 0 ? r.first() : r.then();
                // The answer keeps the asked name, as a DNS answer does.
                return Stream.of(InetAddress.getByAddress(host, a.getAddress()));
            }

            @Override
            public String lookupByAddress(byte[] addr) throws UnknownHostException {
                return builtin.lookupByAddress(addr);
            }
        };
    }

    @Override
    public String name() {
        return "bulwark-test-rebinding";
    }
}
