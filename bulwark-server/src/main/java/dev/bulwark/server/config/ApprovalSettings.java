package dev.bulwark.server.config;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Who may decide approvals of privileged tool calls, and how long they wait ({@code
 * governance.approvals}, issue 15). Approvers are per tenant, named, with a role ({@code approver}:
 * the first line; {@code escalation}: the group an approval goes to when it waits past
 * {@code escalateAfterMs}) and a key kept as its SHA-256 digest, as the tenant API's keys.
 *
 * @param approvers       the approvers of every tenant
 * @param ttlMs           how long an approval may wait before it expires
 * @param escalateAfterMs how long an approval waits before it is escalated; 0: never
 * @param maxWaitMs       the longest a tool call may wait for its approval's decision ({@code waitMs})
 * @param quorum          tool name → distinct approvals needed (absent: 1)
 * @param hooks           where approvals are told when they are created, escalated or expire
 */
public record ApprovalSettings(List<Approver> approvers, long ttlMs, long escalateAfterMs, long maxWaitMs,
                               Map<String, Integer> quorum, List<Notify> hooks) {
    public static final long DEFAULT_TTL_MS = 24 * 3600_000L;
    public static final long DEFAULT_MAX_WAIT_MS = 20_000;
    public static final ApprovalSettings NONE = new ApprovalSettings(List.of(), DEFAULT_TTL_MS, 0, DEFAULT_MAX_WAIT_MS, Map.of());

    /** The two roles: the first line, and the group an approval is escalated to. */
    public static final List<String> ROLES = List.of("approver", "escalation");

    public ApprovalSettings(List<Approver> approvers, long ttlMs, long escalateAfterMs, long maxWaitMs, Map<String, Integer> quorum) {
        this(approvers, ttlMs, escalateAfterMs, maxWaitMs, quorum, List.of());
    }

    /**
     * One approval hook ({@code [[governance.approvals.notify]]}): the URL, the name of the project
     * secret that is its HMAC key (the value is filled in when the node registers it), and the events
     * it wants (pending, escalated, expired).
     */
    public record Notify(java.net.URI url, String secret, java.util.Set<String> events) {
        public Notify {
            Objects.requireNonNull(url, "url");
            Objects.requireNonNull(secret, "secret");
            events = java.util.Set.copyOf(events);
        }
    }

    public ApprovalSettings {
        hooks = List.copyOf(hooks);
        approvers = List.copyOf(approvers);
        quorum = Map.copyOf(quorum);
        if (ttlMs < 1 || escalateAfterMs < 0 || maxWaitMs < 0) throw new IllegalArgumentException("approval times");
    }

    /** Whether nothing is configured (the defaults). */
    public boolean isEmpty() {
        return equals(NONE);
    }

    /** One approver of a tenant: its name (for the trail), role, and the SHA-256 digest of its key. */
    public record Approver(String tenant, String name, String role, byte[] keySha256) {
        public Approver {
            Objects.requireNonNull(tenant, "tenant");
            Objects.requireNonNull(name, "name");
            if (!ROLES.contains(role)) throw new IllegalArgumentException("a role is approver or escalation");
            if (keySha256 == null || keySha256.length != 32) throw new IllegalArgumentException("a key digest is 32 bytes");
            keySha256 = keySha256.clone();
        }

        @Override
        public byte[] keySha256() {
            return keySha256.clone();
        }

        /** An approver whose key is given in the clear (the embedding API, tests): only its digest is kept. */
        public static Approver of(String tenant, String name, String role, String key) {
            return new Approver(tenant, name, role, ApiSettings.digest(key));
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Approver a && tenant.equals(a.tenant) && name.equals(a.name) && role.equals(a.role)
                    && java.util.Arrays.equals(keySha256, a.keySha256);
        }

        @Override
        public int hashCode() {
            return Objects.hash(tenant, name, role) * 31 + java.util.Arrays.hashCode(keySha256);
        }

        /** Never the digest. */
        @Override
        public String toString() {
            return "Approver[tenant=" + tenant + ", name=" + name + ", role=" + role + "]";
        }
    }
}
