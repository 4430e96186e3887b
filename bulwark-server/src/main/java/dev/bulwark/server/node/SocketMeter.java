package dev.bulwark.server.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The frame bytes of one outbound WebSocket, counted into the outbound summary of the invocation
 * that opened it (its handshake's record there grows with them). That record is logged when the
 * invocation ends; a socket whose frames go on after it (a durable object's, a proxy's) is logged
 * once more when it closes, with all its bytes, under the opener's request id, so no byte goes
 * unrecorded.
 */
final class SocketMeter {
    private static final Logger log = LoggerFactory.getLogger("bulwark.egress");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final InvocationRecords.Record opener;
    private final int index;
    private final String host;
    private final InvocationRecords records;
    private final long opened = System.nanoTime();
    private final AtomicLong in = new AtomicLong(), out = new AtomicLong();

    /** @param index the handshake's place in the opener's summary ({@code OutboundSummary.add}) */
    SocketMeter(InvocationRecords.Record opener, int index, String host, InvocationRecords records) {
        this.opener = opener;
        this.index = index;
        this.host = host;
        this.records = records;
    }

    /** A frame crossed after the opener's record was closed: the socket gets its own line. */
    private volatile boolean late;

    /** A message from the server. */
    void received(long bytes) {
        in.addAndGet(bytes);
        opener.outbound().grow(index, bytes, 0);
        if (!late && records.get(opener.id()) != opener) late = true;
    }

    /** A message to the server. */
    void sent(long bytes) {
        out.addAndGet(bytes);
        opener.outbound().grow(index, 0, bytes);
        if (!late && records.get(opener.id()) != opener) late = true;
    }

    /** The socket is gone: if frames crossed after its opener ended, its own line with all of them. */
    void closed() {
        if (!late || !log.isInfoEnabled()) return;
        ObjectNode json = JSON.createObjectNode();
        json.put("requestId", LogHub.requestId(opener.id()));
        json.put("worker", opener.worker());
        json.put("tenant", opener.tenant());
        ObjectNode ws = json.putObject("webSocket");
        ws.put("host", host);
        ws.put("bytesIn", in.get());
        ws.put("bytesOut", out.get());
        ws.put("ms", java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - opened));
        log.info(json.toString());
    }

    /** A frame's size on the wire: UTF-8 bytes of a text, length of a binary. */
    static long size(String text, byte[] data) {
        if (data != null) return data.length;
        if (text == null) return 0;
        long n = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x80) n++;
            else if (c < 0x800) n += 2;
            else if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                n += 4;
                i++;
            } else n += 3;
        }
        return n;
    }
}
