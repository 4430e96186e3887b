package dev.bulwark.server.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bulwark.sandbox.ipc.Message;
import dev.bulwark.server.egress.OutboundSummary;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An invocation's listener with the node's record of it: when the invocation is done, the record
 * goes, and its outbound summary is logged (logger {@code bulwark.egress}, one JSON line with
 * {@code "outbound"}) if it made any outbound call.
 */
final class RecordedInvocation extends ForwardingInvocationListener {
    private static final Logger log = LoggerFactory.getLogger("bulwark.egress");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final InvocationRecords.Record record;
    private final InvocationRecords records;
    private final EgressGateway egress;

    RecordedInvocation(InvocationListener inner, InvocationRecords.Record record, InvocationRecords records,
                       EgressGateway egress) {
        super(inner);
        this.record = record;
        this.records = records;
        this.egress = egress;
    }

    @Override
    public void done(long cpuMicros) {
        records.done(record.id());
        egress.invocationDone(record.id());
        OutboundSummary.Snapshot outbound = record.outbound().snapshot();
        if (outbound.calls() > 0 && log.isInfoEnabled()) {
            ObjectNode json = JSON.createObjectNode();
            json.put("requestId", LogHub.requestId(record.id()));
            json.put("worker", record.worker());
            json.put("tenant", record.tenant());
            json.set("outbound", JSON.valueToTree(outbound));
            log.info(json.toString());
        }
        super.done(cpuMicros);
    }
}
