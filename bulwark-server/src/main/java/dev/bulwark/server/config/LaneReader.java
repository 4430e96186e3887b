package dev.bulwark.server.config;

import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Reads {@code governance.lanes} ({@code interactive}, {@code long}, {@code approval}) into {@link LaneSettings}. */
final class LaneReader {
    private static final Set<String> LANES = Set.of("interactive", "long", "approval");
    private static final Set<String> KEYS = Set.of("per_tenant", "concurrency", "when_full", "queue_ms", "queue_max", "retry_after_s");

    private LaneReader() {}

    static LaneSettings read(Optional<ConfigValue> lanes) throws ConfigException {
        LaneSettings d = LaneSettings.DEFAULTS;
        if (lanes.isEmpty()) return d;
        Map<String, ConfigValue> members = lanes.get().members();
        for (Map.Entry<String, ConfigValue> e : members.entrySet()) {
            if (!LANES.contains(e.getKey())) throw e.getValue().error("is not a lane; the lanes are approval, interactive, long");
        }
        LaneSettings.Lane longLane = lane(members.get("long"), d.longRunning(), false);
        return new LaneSettings(lane(members.get("interactive"), d.interactive(), true), longLane,
                lane(members.get("approval"), d.approval(), true));
    }

    private static LaneSettings.Lane lane(ConfigValue v, LaneSettings.Lane base, boolean mayDowngrade) throws ConfigException {
        if (v == null) return base;
        for (Map.Entry<String, ConfigValue> e : v.members().entrySet()) {
            if (!KEYS.contains(e.getKey())) {
                throw e.getValue().error("is not a key of a lane; a lane has " + String.join(", ", KEYS.stream().sorted().toList()));
            }
        }
        int perTenant = intOr(v, "per_tenant", base.perTenant(), 1);
        int concurrency = intOr(v, "concurrency", base.concurrency(), 1);
        LaneSettings.WhenFull whenFull = base.whenFull();
        Optional<ConfigValue> w = v.optional("when_full");
        if (w.isPresent()) {
            whenFull = switch (w.get().nonEmptyString()) {
                case "reject" -> LaneSettings.WhenFull.REJECT;
                case "queue" -> LaneSettings.WhenFull.QUEUE;
                case "downgrade" -> LaneSettings.WhenFull.DOWNGRADE;
                default -> throw w.get().invalid("\"reject\", \"queue\" or \"downgrade\"");
            };
            if (whenFull == LaneSettings.WhenFull.DOWNGRADE && !mayDowngrade) {
                throw w.get().invalid("\"reject\" or \"queue\" (the long lane has no lane to downgrade to)");
            }
        }
        Optional<ConfigValue> q = v.optional("queue_ms");
        long queueMs = q.isPresent() ? q.get().integer(0L, 3_600_000L, "0 to 3600000") : base.queueMs();
        return new LaneSettings.Lane(perTenant, concurrency, whenFull, queueMs, intOr(v, "queue_max", base.queueMax(), 0),
                intOr(v, "retry_after_s", base.retryAfterS(), 0));
    }

    private static int intOr(ConfigValue v, String key, int fallback, int min) throws ConfigException {
        Optional<ConfigValue> x = v.optional(key);
        return x.isPresent() ? x.get().integer(min, 1_000_000, min + " to 1000000") : fallback;
    }
}
