package dev.bulwark.objects.process;

import dev.bulwark.sandbox.jvm.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The sandbox's seccomp filter: a deny list, because the JVM and V8 need a broad and changing set
 * of system calls (an allow list would break on the next JDK). It refuses what a V8 escape would
 * reach for and a sandbox never needs: sockets other than Unix ones (its one channel is already
 * open), new namespaces, mounts and root changes, ptrace and other processes' memory, bpf,
 * perf_event_open, userfaultfd, io_uring, keyrings, kernel modules, kexec, reboot, swap, hostname,
 * syslog and raw I/O ports. Installed with TSYNC so every thread the JVM already has gets it, after
 * no_new_privs, on x86-64 only (another architecture's calls have other numbers; a call of another
 * ABI, i386 or x32, is refused outright).
 */
final class Seccomp {
    private Seccomp() {}

    private static final int AUDIT_ARCH_X86_64 = 0xC000003E;
    private static final int X32_BIT = 0x40000000;
    private static final int RET_ALLOW = 0x7fff0000;
    private static final int RET_ERRNO = 0x00050000;
    private static final int RET_KILL_PROCESS = 0x80000000;
    private static final int EPERM = 1;
    private static final int ENOSYS = 38;
    private static final int EAFNOSUPPORT = 97;
    private static final int LD_W_ABS = 0x20;
    private static final int JEQ = 0x15;
    private static final int JGE = 0x35;
    private static final int JSET = 0x45;
    private static final int RET = 0x06;
    private static final int SYS_SOCKET = 41;
    private static final int SYS_CLONE = 56;
    private static final int SYS_CLONE3 = 435;
    private static final int SYS_SECCOMP = 317;
    private static final int AF_UNIX = 1;
    /** CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET. */
    private static final int CLONE_NEW_ANY = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000
            | 0x20000000 | 0x40000000;

    /** x86-64 numbers of the calls refused with EPERM. */
    private static final int[] DENIED = {
            101, // ptrace
            310, 311, // process_vm_readv, process_vm_writev
            165, 166, 155, 161, // mount, umount2, pivot_root, chroot
            272, 308, // unshare, setns
            428, 429, 430, 431, 432, 433, 442, // open_tree, move_mount, fsopen, fsconfig, fsmount, fspick, mount_setattr
            303, 304, // name_to_handle_at, open_by_handle_at
            321, 298, 323, // bpf, perf_event_open, userfaultfd
            425, 426, 427, // io_uring_setup, io_uring_enter, io_uring_register
            248, 249, 250, // add_key, request_key, keyctl
            175, 313, 176, // init_module, finit_module, delete_module
            246, 320, 169, // kexec_load, kexec_file_load, reboot
            167, 168, 163, 179, // swapon, swapoff, acct, quotactl
            170, 171, 103, // sethostname, setdomainname, syslog
            172, 173, 153, 212, // iopl, ioperm, vhangup, lookup_dcookie
    };

    /** Installs the filter on every thread of this process, or throws saying why it could not. */
    static void install() throws Throwable {
        String arch = System.getProperty("os.arch");
        if (!arch.equals("amd64") && !arch.equals("x86_64")) throw new IllegalStateException("not x86-64: " + arch);
        byte[] program = program();
        MethodHandle prctl = Libc.require("prctl",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG),
                Linker.Option.firstVariadicArg(1));
        MethodHandle syscall = Libc.require("syscall",
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_LONG, ValueLayout.ADDRESS),
                Linker.Option.firstVariadicArg(1));
        int nnp = (int) prctl.invokeExact(38 /* PR_SET_NO_NEW_PRIVS */, 1L, 0L, 0L, 0L);
        if (nnp != 0) throw new IllegalStateException("prctl(PR_SET_NO_NEW_PRIVS) failed");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment filter = arena.allocate(program.length, 8);
            filter.copyFrom(MemorySegment.ofArray(program));
            MemorySegment fprog = arena.allocate(16, 8);
            fprog.set(ValueLayout.JAVA_SHORT, 0, (short) (program.length / 8));
            fprog.set(ValueLayout.ADDRESS, 8, filter);
            long r = (long) syscall.invokeExact((long) SYS_SECCOMP, 1L /* SET_MODE_FILTER */, 1L /* FLAG_TSYNC */, fprog);
            if (r != 0) throw new IllegalStateException("seccomp(SET_MODE_FILTER, TSYNC) returned " + r);
        }
    }

    /** The BPF program, as struct sock_filter[] in native (little-endian) order. */
    static byte[] program() {
        List<int[]> p = new ArrayList<>();
        p.add(op(LD_W_ABS, 0, 0, 4)); // seccomp_data.arch
        p.add(op(JEQ, 1, 0, AUDIT_ARCH_X86_64));
        p.add(op(RET, 0, 0, RET_KILL_PROCESS));
        p.add(op(LD_W_ABS, 0, 0, 0)); // seccomp_data.nr
        p.add(op(JGE, 0, 1, X32_BIT));
        p.add(op(RET, 0, 0, RET_ERRNO | EPERM));
        for (int nr : DENIED) {
            p.add(op(JEQ, 0, 1, nr));
            p.add(op(RET, 0, 0, RET_ERRNO | EPERM));
        }
        // clone3's flags are behind a pointer a filter cannot read: refuse it, and libc falls back to clone.
        p.add(op(JEQ, 0, 1, SYS_CLONE3));
        p.add(op(RET, 0, 0, RET_ERRNO | ENOSYS));
        // socket(domain, ...): Unix sockets only.
        p.add(op(JEQ, 0, 4, SYS_SOCKET));
        p.add(op(LD_W_ABS, 0, 0, 16)); // low half of args[0]
        p.add(op(JEQ, 0, 1, AF_UNIX));
        p.add(op(RET, 0, 0, RET_ALLOW));
        p.add(op(RET, 0, 0, RET_ERRNO | EAFNOSUPPORT));
        // clone(flags, ...): threads and processes, never in new namespaces.
        p.add(op(JEQ, 0, 3, SYS_CLONE));
        p.add(op(LD_W_ABS, 0, 0, 16));
        p.add(op(JSET, 0, 1, CLONE_NEW_ANY));
        p.add(op(RET, 0, 0, RET_ERRNO | EPERM));
        p.add(op(RET, 0, 0, RET_ALLOW));
        ByteBuffer b = ByteBuffer.allocate(p.size() * 8).order(ByteOrder.nativeOrder());
        for (int[] i : p) {
            b.putShort((short) i[0]).put((byte) i[1]).put((byte) i[2]).putInt(i[3]);
        }
        return b.array();
    }

    private static int[] op(int code, int jt, int jf, int k) {
        return new int[] {code, jt, jf, k};
    }
}
