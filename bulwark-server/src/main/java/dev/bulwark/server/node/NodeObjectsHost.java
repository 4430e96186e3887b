package dev.bulwark.server.node;

import dev.bulwark.objects.java.JavaObjects;
import dev.bulwark.sandbox.ipc.Address;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * What the node gives its Java durable objects: files under {@code <data>/node-objects/<tenant>/<class>/<id>.sqlite}
 * (a directory no sandbox has in its view, owner-only), namespace keys from the node's secret,
 * the alarm index, and the log for failures callers see only by reference.
 */
final class NodeObjectsHost implements JavaObjects.Host {
    private static final Logger log = LoggerFactory.getLogger(NodeObjectsHost.class);
    static final String DIRECTORY = "node-objects";

    private final Path root;
    private final NamespaceKeys keys;
    private final Alarms alarms;

    NodeObjectsHost(Path dataDir, NamespaceKeys keys, Alarms alarms) throws IOException {
        this.root = dataDir.resolve(DIRECTORY);
        this.keys = keys;
        this.alarms = alarms;
        if (!Files.isDirectory(root)) {
            Files.createDirectories(root, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
    }

    @Override
    public Path databaseFile(String tenant, String className, String objectId) {
        return root.resolve(TenantNames.directoryName(tenant)).resolve(className).resolve(objectId + ".sqlite");
    }

    @Override
    public byte[] namespaceKey(String tenant, String className) {
        return keys.keyFor(tenant, JavaObjects.WORKER_ID, className);
    }

    @Override
    public void alarmChanged(String tenant, Address.DurableObject object, Long epochMillis) {
        alarms.set(tenant, object, epochMillis);
    }

    @Override
    public void internalError(String reference, String what, Throwable error) {
        log.error("Java durable object {} failed (reference {})", what, reference, error);
    }
}
