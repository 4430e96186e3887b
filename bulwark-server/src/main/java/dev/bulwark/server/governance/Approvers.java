package dev.bulwark.server.governance;

import dev.bulwark.server.config.ApiSettings;
import dev.bulwark.server.config.ApprovalSettings.Approver;

import java.security.MessageDigest;
import java.util.List;

/**
 * The approvers of every tenant (configured in {@code governance.approvals.approvers} or through
 * {@link Governance#approvers}): who presents which key. A presented key is compared with every
 * approver's digest of that tenant, each in constant time, whatever matched (as the tenant API's
 * keys are), so the time taken says nothing about which key was close.
 */
final class Approvers {
    private final List<Approver> all;

    Approvers(List<Approver> all) {
        this.all = List.copyOf(all);
    }

    /** Whether {@code tenant} has any approver at all. */
    boolean any(String tenant) {
        for (Approver a : all) if (a.tenant().equals(tenant)) return true;
        return false;
    }

    /** The approver of {@code tenant} whose key {@code presented} is, or null. */
    Approver identify(String tenant, String presented) {
        if (presented == null || presented.isEmpty()) return null;
        byte[] digest = ApiSettings.digest(presented);
        Approver found = null;
        for (Approver a : all) {
            boolean same = MessageDigest.isEqual(digest, a.keySha256());
            if (same && found == null && a.tenant().equals(tenant)) found = a;
        }
        return found;
    }
}
