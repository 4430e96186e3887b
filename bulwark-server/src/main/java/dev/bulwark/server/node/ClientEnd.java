package dev.bulwark.server.node;

/**
 * Where a hub socket's frames toward its client go ({@link SocketHub}): a client's connection at
 * the front door, or the isolate that accepted the socket. Calls are made holding the socket.
 */
sealed interface ClientEnd permits FrontDoorEnd, IsolateEnd {
    void text(String text, Runnable done);

    void binary(byte[] data, Runnable done);

    /** A close frame; {@code code} 1005 means none. */
    void close(int code, String reason, Runnable done);

    /**
     * The client takes frames slower than its worker sends them, past the socket's bound: it is
     * cut off. A close frame would wait behind everything the client has not read.
     */
    void overrun();

    /** Ready for the client's next frame. */
    void demand();
}
