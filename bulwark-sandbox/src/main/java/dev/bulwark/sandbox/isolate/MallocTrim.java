package dev.bulwark.sandbox.isolate;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Gives freed C heap back to the OS ({@code malloc_trim(0)}, glibc). What native code frees stays
 * in glibc's arenas as free chunks, resident: a closed SQLite connection's ~200 KiB (measured, 1000
 * connections opened and closed left 180 KiB each until a trim gave all of it back;
 * docs/notes/idlemem.md), and most of a closed isolate's memory (Javet's snapshot copy, V8's
 * structures: only ~23 % came back, docs/notes/isomem.md; dormant workers, docs/notes/dormant.md).
 * Without glibc (no such symbol) or without native access this does nothing.
 */
public final class MallocTrim {
    private static final MethodHandle TRIM = find();

    private MallocTrim() {}

    private static MethodHandle find() {
        try {
            Linker linker = Linker.nativeLinker();
            return linker.defaultLookup().find("malloc_trim")
                    .map(f -> linker.downcallHandle(f, FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG)))
                    .orElse(null);
        } catch (RuntimeException | LinkageError e) {
            return null; // no native access: memory stays with the allocator, nothing breaks
        }
    }

    /** Returns the allocator's free pages to the OS; false when this C library cannot. */
    public static boolean trim() {
        if (TRIM == null) return false;
        try {
            int released = (int) TRIM.invokeExact(0L);
            return released >= 0;
        } catch (Throwable e) {
            return false;
        }
    }
}
