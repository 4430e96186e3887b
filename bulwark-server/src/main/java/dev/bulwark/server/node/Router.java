package dev.bulwark.server.node;

import dev.bulwark.server.config.Route;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Which worker a request goes to, explicitly: the most specific matching wrangler route; else the
 * worker named by the host ({@code <name>} or {@code <name>.localhost}, as wrangler dev does for
 * local development; not for a worker with {@code workers_dev: false}); else the node's default worker, which exists only when the node serves one
 * project; else none (404). A node serving several tenants therefore never hands a stray host to
 * whichever worker happened to be deployed first.
 */
final class Router {
    private record Entry(Route route, String worker) {}

    private final List<Entry> routes = new CopyOnWriteArrayList<>();
    /** Workers that do not answer on their name (wrangler's {@code workers_dev: false}). */
    private final java.util.Set<String> notByName = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private volatile String defaultWorker;

    /** Replaces the routes of {@code worker}. */
    void routes(String worker, List<Route> workerRoutes) {
        List<Entry> keep = new ArrayList<>();
        for (Entry e : routes) if (!e.worker.equals(worker)) keep.add(e);
        for (Route r : workerRoutes) keep.add(new Entry(r, worker));
        routes.clear();
        routes.addAll(keep);
    }

    void byName(String worker, boolean reachable) {
        if (reachable) notByName.remove(worker);
        else notByName.add(worker);
    }

    void defaultWorker(String worker) {
        this.defaultWorker = worker;
    }

    /** The worker's name for a request, or null. {@code workers} are the deployed ones. */
    String route(String host, String path, Map<String, ?> workers) {
        String h = host == null ? "" : host.toLowerCase(Locale.ROOT);
        if (h.endsWith(".")) h = h.substring(0, h.length() - 1);
        Entry best = null;
        for (Entry e : routes) {
            if (e.route.matches(h, path) && (best == null || e.route.specificity() > best.route.specificity())) best = e;
        }
        if (best != null && workers.containsKey(best.worker)) return best.worker;
        String label = h.endsWith(".localhost") ? h.substring(0, h.length() - ".localhost".length()) : h;
        if (!label.isEmpty() && workers.containsKey(label) && !notByName.contains(label)) return label;
        String d = defaultWorker;
        return d != null && workers.containsKey(d) ? d : null;
    }
}
