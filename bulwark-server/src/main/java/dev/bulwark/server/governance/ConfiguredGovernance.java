package dev.bulwark.server.governance;

import dev.bulwark.objects.java.StructuredValues;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.server.config.GovernanceSettings;
import dev.bulwark.server.config.ProjectConfig;
import dev.bulwark.server.node.EntrypointCalls;
import dev.bulwark.server.node.Node;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;

/**
 * Registers the tools and policies of the projects' {@code governance} settings when a node serves
 * them ({@link Node#serve}), so {@code bulwark serve} alone gives a governed node. Tools come from
 * every project (a name defined by two projects is an error); policies from the one project that
 * names a directory (two that do are an error). Projects without governance settings change nothing.
 */
public final class ConfiguredGovernance {
    private static final Logger log = LoggerFactory.getLogger(ConfiguredGovernance.class);
    static final int MAX_ARGS_BYTES = 8 << 20;

    private ConfiguredGovernance() {}

    /**
     * @throws IllegalArgumentException when a tool or the policies cannot be registered (a schema with
     *                                  an unsupported keyword, a policy that does not parse, a duplicate,
     *                                  a service tool naming a worker of another tenant or none)
     */
    public static void apply(Node node, List<ProjectConfig> projects) {
        if (projects.stream().allMatch(p -> p.settings().governance().isEmpty())) return;
        Governance governance = node.governance();
        Map<String, String> definedBy = new HashMap<>();
        Map<String, String> tenantOf = new HashMap<>();
        for (ProjectConfig p : projects) tenantOf.put(p.name(), p.settings().tenant());
        ProjectConfig policySource = null;
        ProjectConfig laneSource = null;
        ProjectConfig checkpointSource = null;
        ProjectConfig approvalSource = null;
        for (ProjectConfig project : projects) {
            GovernanceSettings g = project.settings().governance();
            if (!g.lanes().equals(dev.bulwark.server.config.LaneSettings.DEFAULTS)) {
                if (laneSource != null) {
                    throw new IllegalArgumentException("governance lanes are set by both " + laneSource.name() + " and "
                            + project.name() + "; a node has one set of lanes");
                }
                laneSource = project;
                governance.lanes().configure(g.lanes());
            }
            if (g.checkpointEvery() > 0) {
                if (checkpointSource != null && checkpointSource.settings().governance().checkpointEvery() != g.checkpointEvery()) {
                    throw new IllegalArgumentException("governance.checkpoint_every differs between " + checkpointSource.name() + " and "
                            + project.name() + "; a node has one");
                }
                checkpointSource = project;
                governance.checkpointEvery(g.checkpointEvery());
            }
            for (GovernanceSettings.ToolSetting t : g.tools()) {
                String before = definedBy.putIfAbsent(t.name(), project.name());
                if (before != null) {
                    throw new IllegalArgumentException("the tool " + t.name() + " is defined by both " + before + " and " + project.name());
                }
                governance.registerTool(tool(node, governance, project, t, tenantOf));
            }
            if (!g.approvals().isEmpty()) {
                if (approvalSource != null) {
                    throw new IllegalArgumentException("governance.approvals is set by both " + approvalSource.name() + " and "
                            + project.name() + "; a node has one approvals configuration");
                }
                approvalSource = project;
                governance.approvalSettings(g.approvals());
                List<ApprovalHook> hooks = new java.util.ArrayList<>();
                for (var n : g.approvals().hooks()) {
                    String secret = project.secrets().get(n.secret());
                    if (secret == null) throw new IllegalArgumentException("governance.approvals.notify names a missing secret " + n.secret());
                    hooks.add(new ApprovalHook(n.url(), secret.getBytes(java.nio.charset.StandardCharsets.UTF_8), n.events()));
                }
                governance.approvalHooks(hooks);
            }
            if (g.policyDir() != null) {
                if (policySource != null) {
                    throw new IllegalArgumentException("governance policies are set by both " + policySource.name() + " and "
                            + project.name() + "; a node has one policy set");
                }
                policySource = project;
                try {
                    governance.policies(PolicyBundle.fromDirectory(g.policyDir(), g.policyVersion()).withDefaultMode(g.policyMode()));
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot read the policies of " + project.name() + " in " + g.policyDir(), e);
                }
            }
        }
        log.info("governance: {} tool(s) from the settings{}", definedBy.size(),
                policySource == null ? "" : ", policies from " + policySource.settings().governance().policyDir());
    }

    private static Tool tool(Node node, Governance governance, ProjectConfig project, GovernanceSettings.ToolSetting t,
                             Map<String, String> tenantOf) {
        Contract contract = switch (t.contract()) {
            case "read_only" -> Contract.READ_ONLY;
            case "controlled_mutation" -> Contract.CONTROLLED_MUTATION;
            case "privileged" -> Contract.PRIVILEGED;
            default -> throw new IllegalArgumentException("tool " + t.name() + ": unknown contract " + t.contract());
        };
        try {
            return switch (t.implementation()) {
                case GovernanceSettings.Webhook w -> governance.webhookTool(t.name(), t.argsSchema(), contract, t.cost(), w.url(),
                        headers(w.headers(), project.secrets()), w.lookupUrl(), w.revertUrl());
                case GovernanceSettings.Entrypoint e -> {
                    String owner = project.settings().tenant();
                    if (!owner.equals(tenantOf.get(e.service()))) {
                        throw new IllegalArgumentException("its worker " + e.service()
                                + " is not a worker of the tenant " + owner + " served by this node");
                    }
                    EntrypointCalls calls = new EntrypointCalls(node);
                    yield new Tool(t.name(), t.argsSchema(), contract, t.cost(), entrypoint(calls, owner, e),
                            e.lookupMethod() == null ? null : entrypointLookup(calls, owner, e),
                            e.revertMethod() == null ? null : entrypointRevert(calls, owner, e));
                }
            };
        } catch (IllegalArgumentException ex) {
            throw new IllegalArgumentException("governance tool " + t.name() + " of " + project.name() + ": " + ex.getMessage(), ex);
        }
    }

    /** Header templates with {@code ${NAME}} replaced by the secret NAME (the reader checked each exists). */
    static Map<String, String> headers(Map<String, String> templates, Map<String, String> secrets) {
        Map<String, String> out = new LinkedHashMap<>();
        templates.forEach((name, template) -> {
            Matcher m = java.util.regex.Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}").matcher(template);
            StringBuilder b = new StringBuilder();
            while (m.find()) {
                String value = secrets.get(m.group(1));
                if (value == null) throw new IllegalArgumentException("header " + name + " names a missing secret " + m.group(1));
                m.appendReplacement(b, Matcher.quoteReplacement(value));
            }
            m.appendTail(b);
            out.put(name, b.toString());
        });
        return out;
    }

    /**
     * A tool carried out by {@code method(args, call)} of a worker's entrypoint, where {@code call} is
     * {@code {tool, session, tenant, actor, idempotencyKey}}. Only sessions of the worker's own tenant
     * can reach it: a session of another tenant fails the call ({@code tool_failed}), the worker is not
     * called. A thrown error or a failed call is a failed outcome, recorded like any.
     */
    static ToolFunction entrypoint(EntrypointCalls calls, String owner, GovernanceSettings.Entrypoint e) {
        return call -> rpc(calls, owner, e, e.method(), call, List.of());
    }

    /**
     * The lookup of an entrypoint tool: {@code lookupMethod(args, call)} answers {@code {applied: true,
     * value}} or {@code {applied: false}}; anything else (a throw included) is "cannot tell".
     */
    static ToolLookup entrypointLookup(EntrypointCalls calls, String owner, GovernanceSettings.Entrypoint e) {
        return call -> {
            Object found = rpc(calls, owner, e, e.lookupMethod(), call, List.of());
            if (found instanceof Map<?, ?> m && Boolean.TRUE.equals(m.get("applied"))) return new ToolLookup.Applied(m.get("value"));
            if (found instanceof Map<?, ?> m && Boolean.FALSE.equals(m.get("applied"))) return new ToolLookup.NotApplied();
            return new ToolLookup.Unknown();
        };
    }

    /** The revert of an entrypoint tool: {@code revertMethod(args, call, value)}; a throw is a failed revert. */
    static ToolRevert entrypointRevert(EntrypointCalls calls, String owner, GovernanceSettings.Entrypoint e) {
        return (call, value) -> rpc(calls, owner, e, e.revertMethod(), call, java.util.Collections.singletonList(value));
    }

    private static Object rpc(EntrypointCalls calls, String owner, GovernanceSettings.Entrypoint e, String method, ToolCall call,
                              List<Object> extra) {
        if (!owner.equals(call.tenant())) {
            throw new IllegalStateException("a session of " + call.tenant() + " called a tool of " + owner);
        }
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("tool", call.tool());
        meta.put("session", call.session());
        meta.put("tenant", call.tenant());
        meta.put("actor", call.actor());
        meta.put("idempotencyKey", call.idempotencyKey());
        List<Object> all = new java.util.ArrayList<>(List.of(call.args(), meta));
        all.addAll(extra);
        byte[] args = StructuredValues.encode(all, MAX_ARGS_BYTES);
        Message answer = calls.rpc(owner, e.service(), e.entrypoint(), method, args);
        return switch (answer) {
            case Message.RpcResult r when r.threw() -> throw new IllegalStateException("the entrypoint " + method + " threw");
            case Message.RpcResult r -> r.value() == null ? null : StructuredValues.decode(r.value());
            case Message.CallFailed f -> throw new IllegalStateException("the entrypoint call failed: " + f.code() + " " + f.message());
            default -> throw new IllegalStateException("unexpected answer " + answer.getClass().getSimpleName());
        };
    }
}
