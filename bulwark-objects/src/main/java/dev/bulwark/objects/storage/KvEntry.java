package dev.bulwark.objects.storage;

/** One key and its value (the bytes the JS side serialized). */
public record KvEntry(String key, byte[] value) {}
