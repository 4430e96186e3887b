package dev.bulwark.server.embed;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulwark.sandbox.worker.WorkerCode;
import dev.bulwark.sandbox.worker.WorkerModule;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A dynamic worker's code built in Java: the counterpart of a {@code WorkerCode} object, checked by
 * the same rules ({@link WorkerCode}) when it is loaded. Immutable: each method returns a new source.
 */
public final class WorkerSource {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final String compatibilityDate;
    private final String mainModule;
    private final List<String[]> modules; // name, wire type; contents in parallel
    private final List<byte[]> contents;
    private final String envJson;
    private final boolean network;
    private final Double cpuMs;
    private final Double subRequests;

    private WorkerSource(String date, String main, List<String[]> modules, List<byte[]> contents, String envJson,
                         boolean network, Double cpuMs, Double subRequests) {
        this.compatibilityDate = date;
        this.mainModule = main;
        this.modules = List.copyOf(modules);
        this.contents = List.copyOf(contents);
        this.envJson = envJson;
        this.network = network;
        this.cpuMs = cpuMs;
        this.subRequests = subRequests;
    }

    public static WorkerSource of(String compatibilityDate, String mainModule) {
        return new WorkerSource(compatibilityDate, mainModule, List.of(), List.of(), null, true, null, null);
    }

    public WorkerSource js(String name, String source) {
        return module(name, "js", source.getBytes(StandardCharsets.UTF_8));
    }

    public WorkerSource cjs(String name, String source) {
        return module(name, "cjs", source.getBytes(StandardCharsets.UTF_8));
    }

    public WorkerSource text(String name, String text) {
        return module(name, "text", text.getBytes(StandardCharsets.UTF_8));
    }

    public WorkerSource json(String name, Object value) {
        try {
            return module(name, "json", JSON.writeValueAsBytes(value));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("module '" + name + "': the value is not JSON");
        }
    }

    public WorkerSource data(String name, byte[] bytes) {
        return module(name, "data", bytes.clone());
    }

    public WorkerSource wasm(String name, byte[] bytes) {
        return module(name, "wasm", bytes.clone());
    }

    /** The env's plain values (anything Jackson writes as a JSON object). */
    public WorkerSource env(Map<String, ?> env) {
        try {
            return new WorkerSource(compatibilityDate, mainModule, modules, contents, JSON.writeValueAsString(env), network,
                    cpuMs, subRequests);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("the env is not JSON");
        }
    }

    /** {@code globalOutbound: null}: the worker's {@code fetch()} throws. */
    public WorkerSource withoutNetwork() {
        return new WorkerSource(compatibilityDate, mainModule, modules, contents, envJson, false, cpuMs, subRequests);
    }

    /** {@code limits}: never above the node's own. */
    public WorkerSource limits(long cpuMs, int subRequests) {
        return new WorkerSource(compatibilityDate, mainModule, modules, contents, envJson, network, (double) cpuMs,
                (double) subRequests);
    }

    private WorkerSource module(String name, String type, byte[] content) {
        List<String[]> m = new ArrayList<>(modules);
        m.add(new String[] {name, type});
        List<byte[]> c = new ArrayList<>(contents);
        c.add(content);
        return new WorkerSource(compatibilityDate, mainModule, m, c, envJson, network, cpuMs, subRequests);
    }

    /** Checked by the rules every way in shares; throws {@link WorkerCode.Invalid}. */
    WorkerCode check() {
        List<WorkerModule> list = new ArrayList<>();
        long total = 0;
        for (int i = 0; i < modules.size(); i++) {
            total += contents.get(i).length;
            WorkerCode.checkCodeSize(total);
            list.add(new WorkerModule(modules.get(i)[0], WorkerCode.moduleType(modules.get(i)[0], modules.get(i)[1]), contents.get(i)));
        }
        return WorkerCode.of(compatibilityDate, List.of(), mainModule, list, envJson, network, cpuMs, subRequests);
    }
}
