package dev.bulwark.server.node;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * TESTS ONLY: a Java agent ({@code -javaagent}, see {@link SandboxHandshakeTest}) that runs before
 * a sandbox's main class and, for the tenants it is told about, breaks the handshake with the
 * node instead: it records its pid and socket, then connects (both connections, as a sandbox's
 * {@code MessageChannel.connect}) and writes garbage ({@code garbage}), connects and exits
 * ({@code exit}), or connects and says nothing ({@code silent}). The sandboxes
 * of every other tenant start as usual.
 *
 * <p>Agent arguments: {@code recordFile;tenantDir=mode;tenantDir=mode...}.
 */
public final class HandshakeSaboteur {
    private HandshakeSaboteur() {}

    public static void premain(String agentArgs) throws IOException, InterruptedException {
        String[] parts = agentArgs.split(";");
        // Not ProcessHandle.info().arguments(): the JDK reads only the first page of a command line,
        // and a sandbox's class path alone is longer.
        List<String> argv = List.of(new String(Files.readAllBytes(Path.of("/proc/self/cmdline")), StandardCharsets.UTF_8)
                .split("\0"));
        String dataDir = argument(argv, "--data-dir");
        String socket = argument(argv, "--socket");
        if (dataDir == null || socket == null) return;
        String tenantDir = Path.of(dataDir).getFileName().toString();
        for (int i = 1; i < parts.length; i++) {
            String[] kv = parts[i].split("=", 2);
            if (kv[0].equals(tenantDir)) sabotage(kv[1], Path.of(parts[0]), socket);
        }
    }

    private static void sabotage(String mode, Path record, String socket) throws IOException, InterruptedException {
        Files.writeString(record, mode + " " + ProcessHandle.current().pid() + " " + socket + "\n",
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        SocketChannel channel;
        try {
            channel = SocketChannel.open(UnixDomainSocketAddress.of(socket)); // the node reads this one
            SocketChannel.open(UnixDomainSocketAddress.of(socket)); // and writes this one
        } catch (IOException e) {
            Runtime.getRuntime().halt(5); // the node gave up on it already (it is closing)
            return;
        }
        switch (mode) {
            case "garbage" -> {
                // Read as a frame length, "GET " is over a gibibyte: a protocol the node does not speak.
                channel.write(ByteBuffer.wrap("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
                Thread.sleep(300_000); // the node must kill it; bounded so a broken node leaves no process for ever
            }
            case "exit" -> Runtime.getRuntime().halt(3);
            case "silent" -> Thread.sleep(300_000);
            default -> throw new IllegalArgumentException("no such mode: " + mode);
        }
        Runtime.getRuntime().halt(4);
    }

    private static String argument(List<String> argv, String name) {
        int i = argv.indexOf(name);
        return i >= 0 && i + 1 < argv.size() ? argv.get(i + 1) : null;
    }
}
