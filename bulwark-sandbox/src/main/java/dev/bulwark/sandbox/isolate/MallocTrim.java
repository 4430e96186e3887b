package dev.bulwark.sandbox.isolate;

import dev.bulwark.sandbox.jvm.Libc;

import java.lang.foreign.FunctionDescriptor;
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
    private static final MethodHandle TRIM = Libc.find("malloc_trim",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG)).orElse(null);
    /** {@code struct mallinfo2}: ten {@code size_t}s; arena (0), hblkhd (4) and uordblks (7) are read. */
    private static final java.lang.foreign.StructLayout MALLINFO2 = java.lang.foreign.MemoryLayout.structLayout(
            java.lang.foreign.MemoryLayout.sequenceLayout(10, ValueLayout.JAVA_LONG));
    private static final MethodHandle INFO = Libc.find("mallinfo2", FunctionDescriptor.of(MALLINFO2)).orElse(null);

    private MallocTrim() {}

    /**
     * The allocator's own figures ({@code mallinfo2}, glibc 2.33+): bytes in use (in arenas and
     * in chunks of their own mapping) and bytes the arenas hold from the OS; null where unknown.
     * What separates memory still allocated (a leak, or live structures) from free chunks the
     * arenas keep (fragmentation), which RSS alone cannot (docs/notes/genrss.md).
     */
    public static long[] inUseAndArenaBytes() {
        if (INFO == null) return null;
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.MemorySegment info = (java.lang.foreign.MemorySegment) INFO.invokeExact(
                    (java.lang.foreign.SegmentAllocator) arena);
            long arenaBytes = info.getAtIndex(ValueLayout.JAVA_LONG, 0);
            long mapped = info.getAtIndex(ValueLayout.JAVA_LONG, 4);
            long inArenas = info.getAtIndex(ValueLayout.JAVA_LONG, 7);
            return new long[]{inArenas + mapped, arenaBytes};
        } catch (Throwable e) {
            return null;
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
