package dev.bulwark.sandbox.jvm;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.NoSuchElementException;
import java.util.Optional;

/**
 * The C library's functions, found by name in the native linker's default lookup and bound to a
 * {@link MethodHandle} of the given shape (for a variadic one, pass
 * {@link Linker.Option#firstVariadicArg}). No handle captures errno.
 */
public final class Libc {
    private Libc() {}

    /**
     * The function {@code name}, or empty where this C library has no such symbol or this JVM cannot
     * bind it (no native access, no native linker): for calls that are an optimisation, where
     * nothing must break without them.
     */
    public static Optional<MethodHandle> find(String name, FunctionDescriptor type, Linker.Option... options) {
        try {
            Linker linker = Linker.nativeLinker();
            return linker.defaultLookup().find(name).map(f -> linker.downcallHandle(f, type, options));
        } catch (RuntimeException | LinkageError e) {
            return Optional.empty();
        }
    }

    /**
     * The function {@code name}; throws {@link NoSuchElementException} where this C library has no
     * such symbol, and what the linker throws where this JVM cannot bind it: for calls that must
     * happen, whose caller says why they could not.
     */
    public static MethodHandle require(String name, FunctionDescriptor type, Linker.Option... options) {
        Linker linker = Linker.nativeLinker();
        MemorySegment f = linker.defaultLookup().find(name)
                .orElseThrow(() -> new NoSuchElementException("no " + name + " in the C library"));
        return linker.downcallHandle(f, type, options);
    }
}
