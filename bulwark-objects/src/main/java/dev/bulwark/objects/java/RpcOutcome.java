package dev.bulwark.objects.java;

/**
 * The outcome of one RPC event on a Java object, in the structured format: the result, or (when
 * {@code threw}) the error the caller's promise rejects with.
 */
public record RpcOutcome(byte[] value, boolean threw) {}
