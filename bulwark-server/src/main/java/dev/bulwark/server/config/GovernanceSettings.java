package dev.bulwark.server.config;

import com.fasterxml.jackson.databind.JsonNode;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The {@code governance} settings of a project (issue 15): the tools its sessions may call and the
 * directory of Cedar policy files that decide those calls. Never secrets: a webhook's headers keep
 * their {@code ${NAME}} references; the node fills them from the project's secrets when it registers
 * the tool.
 *
 * @param tools         the tools, in file order (names unique)
 * @param policyDir     absolute directory of {@code *.cedar} files, or null (the node's built-in policy)
 * @param policyVersion the operator's label of the policies, in every envelope and decision
 * @param policyMode    {@code enforce} or {@code log-only}: the mode of every rule without {@code @mode}
 * @param lanes         the lanes of governed runs and their budgets ({@code governance.lanes})
 * @param checkpointEvery tool calls a session object mediates between two checkpoints of its history, or 0 (not set:
 *                        the node's default)
 * @param approvals     approvers, approval lifetime, escalation, quorum and the longest wait
 */
public record GovernanceSettings(List<ToolSetting> tools, Path policyDir, String policyVersion, String policyMode,
                                 LaneSettings lanes, long checkpointEvery,
                                 ApprovalSettings approvals) {
    public static final GovernanceSettings NONE = new GovernanceSettings(List.of(), null, "1", "enforce");

    public GovernanceSettings {
        tools = List.copyOf(tools);
        Objects.requireNonNull(policyVersion, "policyVersion");
        Objects.requireNonNull(policyMode, "policyMode");
        Objects.requireNonNull(lanes, "lanes");
        Objects.requireNonNull(approvals, "approvals");
    }

    public GovernanceSettings(List<ToolSetting> tools, Path policyDir, String policyVersion, String policyMode) {
        this(tools, policyDir, policyVersion, policyMode, LaneSettings.DEFAULTS, 0, ApprovalSettings.NONE);
    }

    /** Whether the project configures governance at all. */
    public boolean isEmpty() {
        return tools.isEmpty() && policyDir == null && lanes.equals(LaneSettings.DEFAULTS) && checkpointEvery == 0
                && approvals.isEmpty();
    }

    /**
     * One configured tool.
     *
     * @param contract {@code read_only}, {@code controlled_mutation} or {@code privileged}
     * @param argsSchema the JSON schema of its arguments (an object schema)
     */
    public record ToolSetting(String name, JsonNode argsSchema, String contract, long cost, Implementation implementation) {}

    /** How a configured tool is carried out. */
    public sealed interface Implementation {}

    /**
     * An HTTP webhook of the operator's service.
     *
     * @param headers header name → value template; {@code ${NAME}} stands for the secret NAME
     * @param lookupUrl where the node asks whether a call whose outcome is unknown took effect, or null
     * @param revertUrl where the node asks to undo an applied call in a rollback, or null
     */
    public record Webhook(URI url, Map<String, String> headers, URI lookupUrl, URI revertUrl) implements Implementation {
        public Webhook {
            headers = Map.copyOf(headers);
        }

        public Webhook(URI url, Map<String, String> headers) {
            this(url, headers, null, null);
        }
    }

    /**
     * A method of another worker's entrypoint: a worker of the same tenant served by the node,
     * called with JS RPC as {@code method(args, call)}.
     *
     * @param entrypoint the named export ({@code WorkerEntrypoint} class), or null for the default export
     * @param lookupMethod the method answering whether a call took effect ({@code {applied, value?}}), or null
     * @param revertMethod the method undoing an applied call, or null
     */
    public record Entrypoint(String service, String entrypoint, String method, String lookupMethod, String revertMethod)
            implements Implementation {
        public Entrypoint(String service, String entrypoint, String method) {
            this(service, entrypoint, method, null, null);
        }
    }
}
