package dev.bulwark.server.governance;

/**
 * A tool's capability contract: what kind of effect it has, which policies see as
 * {@code context.contract}. A privileged tool needs a human's approval before it runs.
 */
public enum Contract {
    READ_ONLY("read_only"),
    CONTROLLED_MUTATION("controlled_mutation"),
    PRIVILEGED("privileged");

    private final String wire;

    Contract(String wire) {
        this.wire = wire;
    }

    /** The name policies and the audit trail use. */
    public String wire() {
        return wire;
    }
}
