package dev.bulwark.sandbox.worker;

/**
 * The limits one worker runs under. Every limit is enforced, none is advisory.
 *
 * @param cpuMs           CPU time one request may use in its isolate
 * @param wallMs          wall-clock deadline of one request, from dispatch to the end of its response
 * @param heapMb          V8 heap of one isolate
 * @param subrequests     outbound fetches one request may make
 * @param codeBytes       total size of a worker's modules
 * @param envBytes        serialized size of a worker's env (vars + secrets)
 * @param requestBodyBytes largest request body the front door accepts (413 past it)
 */
public record Limits(long cpuMs, long wallMs, int heapMb, int subrequests, long codeBytes, long envBytes,
                     long requestBodyBytes) {

    public static final Limits DEFAULTS = new Limits(1_000, 30_000, 128, 50, 64L << 20, 1L << 20, 100L << 20);

    public Limits {
        if (cpuMs <= 0 || wallMs <= 0 || heapMb <= 0 || subrequests < 0 || codeBytes <= 0 || envBytes <= 0
                || requestBodyBytes < 0) {
            throw new IllegalArgumentException("limits must be positive: " + this);
        }
    }

    public Limits withCpuMs(long cpuMs) {
        return new Limits(cpuMs, wallMs, heapMb, subrequests, codeBytes, envBytes, requestBodyBytes);
    }
}
