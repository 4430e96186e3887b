package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.ipc.Message;

/**
 * How much one host-function call may copy from JavaScript into Java. Checked before the copy, so
 * a worker cannot make the sandbox's Java heap hold what V8's limits already refused to bound, and
 * no message built from it can exceed a frame (a refused frame is a JS error, never a broken stream).
 */
final class HostLimits {
    private HostLimits() {}

    /** The prelude sends response bodies in pieces of {@link Message#STREAM_CHUNK}; more is refused. */
    static final long MAX_RESPONSE_CHUNK = 1 << 20;
    /**
     * A subrequest's request body in the Subrequest message; the prelude streams larger ones
     * (StreamedSubrequest), so more is refused.
     */
    static final long MAX_SUBREQUEST_BODY = 1 << 20;
    /** As Workers: URLs of at most 16 KiB. */
    static final int MAX_URL_CHARS = 16 << 10;
    static final int MAX_METHOD_CHARS = 64;
    static final int MAX_STATUS_TEXT_CHARS = 1 << 10;
    /** Headers as one "name\nvalue" string: Workers allows 128 KiB of headers; a little more here. */
    static final int MAX_HEADER_CHARS = 256 << 10;
    static final int MAX_HEADER_COUNT = 4_096;
    /**
     * A call's request body in hand: travels whole in one frame from the sandbox, which the node
     * bounds at 16 MiB. (RPC arguments and results: up to 32 MiB, see RpcPayloadParts.)
     */
    static final long MAX_CALL_PAYLOAD = 8L << 20;
}
