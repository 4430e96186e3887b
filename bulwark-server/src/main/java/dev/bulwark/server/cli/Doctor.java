package dev.bulwark.server.cli;

import dev.bulwark.server.config.SandboxSettings;
import dev.bulwark.server.node.Confinement;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/** {@code bulwark doctor}: which OS protections a node started here would apply to its sandboxes. */
@Command(name = "doctor", description = "Say which OS protections sandboxes get on this machine (namespaces, cgroups, seccomp);"
        + " exit status 1 if any cannot be applied.")
final class Doctor implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        java.io.PrintWriter out = spec.commandLine().getOut();
        Confinement c = Confinement.detect(SandboxSettings.Confine.AUTO, "bulwark-doctor-" + ProcessHandle.current().pid());
        try {
            for (Confinement.Protection p : c.protections()) out.println("bulwark: " + p.line());
            out.println(c.complete() ? "bulwark: every protection applies; sandboxes.confine = \"require\" will start"
                    : "bulwark: some protections cannot be applied here; sandboxes.confine = \"require\" would refuse to start");
            return c.complete() ? 0 : 1;
        } finally {
            c.close();
        }
    }
}
