package dev.bulwark.sandbox.isolate;

import com.caoccao.javet.interop.callback.IJavetDirectCallable;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * A measuring aid, off unless {@code -Dbulwark.sandbox.hostCallCounts=SECONDS} is given to the
 * sandbox JVM (through {@code sandboxes.jvm_options} or the node's
 * {@code -Dbulwark.sandbox.jvmOptions}): counts the calls of every host function by name and
 * prints the running totals to stderr every SECONDS seconds, so that the calls per request of a
 * path are the difference of two lines divided by the requests between them.
 */
final class HostCallCounts {
    private HostCallCounts() {}

    private static final long PERIOD_S = Long.getLong("bulwark.sandbox.hostCallCounts", 0);
    private static final Map<String, LongAdder> COUNTS = new ConcurrentHashMap<>();

    static {
        if (PERIOD_S > 0) {
            Thread t = new Thread(() -> {
                while (true) {
                    try {
                        Thread.sleep(PERIOD_S * 1000);
                    } catch (InterruptedException e) {
                        return;
                    }
                    Map<String, Long> now = new TreeMap<>();
                    COUNTS.forEach((k, v) -> now.put(k, v.sum()));
                    System.err.println("host calls " + System.currentTimeMillis() + " " + now);
                }
            }, "host-call-counts");
            t.setDaemon(true);
            t.start();
        }
    }

    /** {@code fn} itself when counting is off, else {@code fn} counted under {@code name}. */
    static IJavetDirectCallable.NoThisAndResult<Exception> wrap(String name, IJavetDirectCallable.NoThisAndResult<Exception> fn) {
        if (PERIOD_S <= 0) return fn;
        LongAdder n = COUNTS.computeIfAbsent(name, k -> new LongAdder());
        return args -> {
            n.increment();
            return fn.call(args);
        };
    }
}
