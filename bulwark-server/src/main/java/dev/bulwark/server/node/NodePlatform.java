package dev.bulwark.server.node;

import dev.bulwark.objects.java.HttpHeader;
import dev.bulwark.objects.java.JavaObjects;
import dev.bulwark.objects.java.JavaRequest;
import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.ipc.FacetIds;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.sandbox.worker.ModuleType;
import dev.bulwark.sandbox.worker.WorkerBundle;
import dev.bulwark.sandbox.worker.WorkerModule;
import dev.bulwark.sandbox.worker.Limits;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * What the built-in facet supervisor ({@link PlatformSupervisor}, a Java object in the node) asks
 * of the node: an app's code loaded as a dynamic worker, and its facets reached, reset and listed.
 */
final class NodePlatform implements PlatformSupervisor.Platform {
    private final DynamicWorkers dynamicWorkers;
    private final Facets facets;
    private final Limits limits;

    NodePlatform(DynamicWorkers dynamicWorkers, Facets facets, Limits limits) {
        this.dynamicWorkers = dynamicWorkers;
        this.facets = facets;
        this.limits = limits;
    }

    @Override
    public String load(String tenant, String codeHash, Supplier<String> code) {
        CompletableFuture<Message> answer = new CompletableFuture<>();
        dynamicWorkers.load(tenant, new Message.LoadDynamic(0, 0, JavaObjects.WORKER_ID, codeHash, null, null, false,
                limits), answer::complete);
        Message known = answer.join();
        if (known instanceof Message.DynamicLoaded l) return l.workerId();
        String source = code.get();
        if (source == null) throw new IllegalStateException("the app's code is missing");
        WorkerBundle bundle = WorkerBundle.of("app.js", List.of(WorkerModule.text("app.js", ModuleType.JS, source)));
        CompletableFuture<Message> loaded = new CompletableFuture<>();
        // Generated apps get no network (no globalOutbound): the supervisor is their only way out.
        dynamicWorkers.load(tenant, new Message.LoadDynamic(0, 0, JavaObjects.WORKER_ID, codeHash, bundle, "{}", false,
                limits), loaded::complete);
        return switch (loaded.join()) {
            case Message.DynamicLoaded l -> l.workerId();
            case Message.CallFailed f -> throw new IllegalStateException(f.message());
            default -> throw new IllegalStateException("the app could not be loaded");
        };
    }

    @Override
    public Message fetch(String tenant, Address.DurableObject parent, String app, String workerId, String className,
                         JavaRequest request) {
        List<Message.Header> headers = new ArrayList<>();
        for (HttpHeader h : request.headers()) {
            if (!h.name().startsWith(":")) headers.add(new Message.Header(h.name(), h.value()));
        }
        return facets.fetchFromNode(tenant, parent, app, workerId, className, request.method(), request.url(),
                headers, request.body());
    }

    @Override
    public String reset(String tenant, Address.DurableObject parent, String app, boolean delete) {
        return facets.resetFromNode(tenant, parent, app, delete);
    }

    @Override
    public FacetRecord record(Address.DurableObject parent, String app) {
        return facets.recordOf(FacetIds.id(parent.objectId(), app));
    }
}
