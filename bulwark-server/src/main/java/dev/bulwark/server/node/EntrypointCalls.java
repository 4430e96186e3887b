package dev.bulwark.server.node;

import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.Message;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * JS RPC from the node to an entrypoint of a worker it serves, as a service binding calls it
 * (governance's worker-entrypoint tools). The caller names the tenant; the worker must be one of that
 * tenant's deployed workers, else {@code not_found}.
 */
public final class EntrypointCalls {
    private final Node node;

    public EntrypointCalls(Node node) {
        this.node = node;
    }

    /**
     * Calls {@code method} of {@code entrypoint} (null: the default export) of the deployed worker
     * {@code worker} of {@code tenant} with serialized {@code args}; answers the
     * {@link Message.RpcResult} or a {@link Message.CallFailed}. Blocks until then (at most the worker's
     * wall-clock limit and a slack).
     */
    public Message rpc(String tenant, String worker, String entrypoint, String method, byte[] args) {
        DeployedWorker w = node.deployed(worker);
        if (w == null || !w.tenant().equals(tenant)) {
            return new Message.CallFailed(0, ErrorCode.NOT_FOUND.code(), "no worker " + worker + " of this tenant");
        }
        CompletableFuture<Message> answer = new CompletableFuture<>();
        node.supervisor().rpc(w.tenant(), new Message.RpcStart(node.nextInvocationId(), new Address.Worker(w.name(), entrypoint),
                method, args), new RpcRelay(0, answer::complete));
        try {
            return answer.get(w.limits().wallMs() + TenantWorkers.ANSWER_SLACK_MS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return new Message.CallFailed(0, ErrorCode.SANDBOX_UNAVAILABLE.code(), ErrorCode.SANDBOX_UNAVAILABLE.description());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Message.CallFailed(0, ErrorCode.INTERNAL.code(), ErrorCode.INTERNAL.description());
        } catch (ExecutionException e) {
            return new Message.CallFailed(0, ErrorCode.INTERNAL.code(), ErrorCode.INTERNAL.description());
        }
    }
}
