package dev.bulwark.server.governance;

/**
 * Test-only crash injection: with the system property {@value #PROPERTY} set to a point's name, the
 * node's JVM halts (no shutdown hooks, no flushing: as a kill -9) when mediation or a rollback
 * reaches that point. Unset (always, outside the crash tests) it is one string comparison.
 */
final class CrashPoints {
    static final String PROPERTY = "bulwark.governance.testCrashAt";
    /** After the decision and the pending ledger row committed, before the tool runs. */
    static final String DECIDED = "decided";
    /** After the tool's effect, before its outcome is recorded. */
    static final String EFFECT = "effect";
    /** After the outcome is recorded, before the answer goes back to the caller. */
    static final String RECORDED = "recorded";
    /** After a rollback marked a row reverting, before the revert runs. */
    static final String REVERTING = "reverting";
    /** After a revert's effect, before the row is marked reverted. */
    static final String REVERT_EFFECT = "revert-effect";
    private static final String AT = System.getProperty(PROPERTY);

    private CrashPoints() {}

    static void reach(String point) {
        if (point.equals(AT)) {
            System.out.println("CRASH " + point);
            System.out.flush();
            Runtime.getRuntime().halt(137);
        }
    }
}
