package dev.bulwark.server.governance;

import java.util.Map;

/**
 * One call a tool's implementation runs: the session and who acts in it, the tool, its arguments
 * (already validated against the tool's schema) and the call's idempotency key, which the
 * implementation may pass on to the system it changes.
 */
public record ToolCall(String session, String tenant, String actor, String tool, Map<String, Object> args,
                       String idempotencyKey) {}
