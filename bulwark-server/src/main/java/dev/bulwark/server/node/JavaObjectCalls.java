package dev.bulwark.server.node;

import dev.bulwark.objects.java.HttpHeader;
import dev.bulwark.objects.java.JavaObjects;
import dev.bulwark.objects.java.JavaRequest;
import dev.bulwark.objects.java.JavaResponse;
import dev.bulwark.objects.java.RpcError;
import dev.bulwark.objects.java.RpcOutcome;
import dev.bulwark.sandbox.ipc.Address;
import dev.bulwark.sandbox.ipc.ErrorCode;
import dev.bulwark.sandbox.ipc.Message;

import java.util.ArrayList;
import java.util.List;

/**
 * A worker's call to a durable object implemented in Java, answered by the node itself: a stub's
 * {@code fetch()} becomes a {@link JavaRequest} and its answer one {@link Message.CallResult}; an
 * RPC's serialized arguments go to the object and its result (or thrown error) comes back as one
 * {@link Message.RpcResult}. The caller's tenant is the sandbox's, never what the sandbox says:
 * {@link JavaObjects} refuses ids of any other tenant's namespace and classes not open to workers.
 */
final class JavaObjectCalls {
    private JavaObjectCalls() {}

    static Message fetch(JavaObjects objects, String tenant, Address.DurableObject target, Message.CallStart call) {
        try {
            List<HttpHeader> headers = new ArrayList<>();
            for (Message.Header h : call.headers()) headers.add(new HttpHeader(h.name(), h.value()));
            JavaResponse r = objects.fetch(JavaObjects.Caller.WORKER, tenant, target.className(), target.objectId(),
                    target.name(), new JavaRequest(call.method(), call.url(), headers, call.body()));
            List<Message.Header> out = new ArrayList<>();
            // Names starting with ':' are the node's own: none passes through.
            for (HttpHeader h : r.headers()) if (!h.name().startsWith(":")) out.add(new Message.Header(h.name(), h.value()));
            return new Message.CallResult(call.callId(), r.status(), "", out, r.body());
        } catch (RpcError e) {
            return new Message.CallFailed(call.callId(), ErrorCode.WORKER_THREW.code(), e.toString());
        } catch (RuntimeException e) {
            // A call no honest sandbox sends (no method, no URL): refused, the object never reached.
            return new Message.CallFailed(call.callId(), ErrorCode.INTERNAL.code(), "malformed call to a durable object");
        }
    }

    static Message rpc(JavaObjects objects, String tenant, Address.DurableObject target, Message.RpcCall call) {
        RpcOutcome out = objects.rpc(JavaObjects.Caller.WORKER, tenant, target.className(), target.objectId(),
                target.name(), call.method(), call.args());
        return new Message.RpcResult(call.callId(), out.value(), out.threw());
    }
}
