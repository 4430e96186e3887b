package dev.bulwark.server.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bulwark.server.cli.AdminNode.Refusal;
import dev.bulwark.server.governance.AuditVerifier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.InputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code bulwark audit ...}: the tenant's audit evidence (issue 15). {@code prove} asks a running
 * node, over the tenant API with the tenant's key (as any tenant client does: the admin token does
 * not reach governance), for the inclusion proof of one record; {@code verify} checks an export
 * file offline and names its first broken link; {@code export} streams the tenant's export from a
 * running node into a file (or standard output) as it comes. Every failure is one line and a
 * non-zero status.
 */
@Command(name = "audit", description = "Audit evidence: exports, inclusion proofs and offline verification of exports.",
        subcommands = {Audit.Export.class, Audit.Prove.class, Audit.Verify.class})
final class Audit implements Runnable {
    private static final ObjectMapper JSON = new ObjectMapper();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "prove", description = "Print the inclusion proof of one audit record (<session>:<seq>) in the latest signed checkpoint.")
    static final class Prove implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Parameters(paramLabel = "<record-id>", description = "the record: <session id>:<seq>")
        String record;

        @CommandLine.Mixin
        TenantNode node;

        @Override
        public Integer call() throws Exception {
            try {
                node.checkPort();
                String path = "v1/audit/proof/" + URLEncoder.encode(record, StandardCharsets.UTF_8).replace("%3A", ":");
                try (InputStream in = node.get(path, Duration.ofSeconds(60)).body()) {
                    spec.commandLine().getOut().println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(JSON.readTree(in)));
                }
                return 0;
            } catch (Refusal r) {
                spec.commandLine().getErr().println("bulwark: " + r.getMessage());
                return r.status;
            }
        }
    }

    @Command(name = "export", description = "Write the tenant's audit export (JSONL with checkpoints and proofs, or OCSF) from a running node,"
            + " streamed as the node reads it.")
    static final class Export implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = {"-o", "--output"}, description = "the file to write (default: standard output)")
        Path output;

        @Option(names = "--format", defaultValue = "jsonl", description = "jsonl (verifiable with audit verify) or ocsf (default ${DEFAULT-VALUE})")
        String format;

        @CommandLine.Mixin
        TenantNode node;

        @Override
        public Integer call() throws Exception {
            var err = spec.commandLine().getErr();
            try {
                node.checkPort();
                if (!format.equals("jsonl") && !format.equals("ocsf")) throw new Refusal(Main.USAGE, "--format " + format + ": jsonl or ocsf");
                try (InputStream in = node.get("v1/audit/export?format=" + format, null).body()) {
                    // Copied as it comes: the export is never held whole, here or in the node.
                    if (output == null) {
                        var out = spec.commandLine().getOut();
                        java.io.Reader r = new java.io.InputStreamReader(in, StandardCharsets.UTF_8);
                        char[] buf = new char[16 << 10];
                        for (int n; (n = r.read(buf)) > 0; ) out.write(buf, 0, n);
                        out.flush();
                    } else {
                        Path tmp = output.resolveSibling(output.getFileName() + ".part");
                        try {
                            Files.copy(in, tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                            Files.move(tmp, output, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                        } catch (IOException e) {
                            Files.deleteIfExists(tmp);
                            throw new Refusal(Main.FAILED, "the export was cut short or cannot be written to " + output + ": " + e.getMessage());
                        }
                        err.println("bulwark: wrote " + Files.size(output) + " bytes to " + output);
                    }
                }
                return 0;
            } catch (Refusal r) {
                err.println("bulwark: " + r.getMessage());
                return r.status;
            }
        }
    }

    @Command(name = "verify", description = "Check an audit export (JSONL): hash chains, checkpoint signatures, inclusion proofs, checkpoint roots. Names the first broken link.")
    static final class Verify implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Parameters(paramLabel = "<export-file>")
        Path file;

        @Option(names = "--public-key", description = "a file holding the node's checkpoint public key (base64 X.509, or the raw"
                + " audit.pub); without it the key the export carries is trusted")
        Path publicKey;

        @Override
        public Integer call() throws Exception {
            var err = spec.commandLine().getErr();
            if (!Files.isReadable(file)) {
                err.println("bulwark: " + file + ": no such readable file");
                return Main.USAGE;
            }
            String pinned = null;
            if (publicKey != null) {
                if (!Files.isReadable(publicKey)) {
                    err.println("bulwark: --public-key " + publicKey + ": no such readable file");
                    return Main.USAGE;
                }
                byte[] bytes = Files.readAllBytes(publicKey);
                String text = new String(bytes, StandardCharsets.US_ASCII).trim();
                pinned = text.matches("[A-Za-z0-9+/=]+") ? text : java.util.Base64.getEncoder().encodeToString(bytes);
            }
            List<String> lines;
            try {
                lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            } catch (IOException e) {
                err.println("bulwark: " + file + ": not readable as UTF-8 text");
                return Main.FAILED;
            }
            AuditVerifier.Result r = AuditVerifier.verify(lines, pinned);
            if (!r.ok()) {
                err.println("bulwark: audit broken: " + r.firstBroken());
                return Main.FAILED;
            }
            spec.commandLine().getOut().println("ok: " + r.records() + " records, " + r.checkpoints() + " checkpoints, "
                    + r.proofs() + " proofs verified" + (pinned == null ? " (with the key the export carries; pin it with --public-key)" : ""));
            return 0;
        }
    }
}
