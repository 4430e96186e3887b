package dev.bulwark.server.config;

import java.util.Objects;

/** A worker loader bound into the worker's env under {@code binding} ({@code worker_loaders[]}). */
public record WorkerLoaderBinding(String binding) {
    public WorkerLoaderBinding {
        Objects.requireNonNull(binding, "binding");
    }
}
