package dev.bulwark.sandbox.isolate;

/**
 * Reads the node's messages on the isolates' carriers instead of a thread of its own
 * (leader/follower, {@link Carriers}): the carrier that reads a request's start runs it, and
 * another carrier reads next, so no thread is woken between the socket and the isolate.
 */
public final class CarrierReader {
    /** Reads and handles one message (blocking); false when there will be no more. */
    public interface Source {
        boolean next() throws Exception;

        /** Whether a next message is already here (reading it will not wait). */
        default boolean pending() throws Exception {
            return false;
        }
    }

    private CarrierReader() {}

    /** Reads {@code source} on the process's carriers until it ends; throws what ended it, if it failed. */
    public static void serve(Source source) throws Exception {
        Carriers.SHARED.read(new Carriers.Source() {
            @Override
            public boolean next() throws Exception {
                return source.next();
            }

            @Override
            public boolean pending() throws Exception {
                return source.pending();
            }
        });
    }
}
