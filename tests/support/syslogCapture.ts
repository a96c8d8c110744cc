/**
 * Local listeners that stand where Logstash's inputs stand and keep the exact bytes they receive: a UDP socket
 * (nginx's syslog datagrams) and a TLS server (the Django handler's stream). Both bind to loopback only, every
 * wait is bounded, and `close()` always releases the port.
 */
import * as dgram from "dgram";
import * as net from "net";
import * as tls from "tls";

/** Resolves when `check()` holds, or rejects after `timeoutMs`, polling every 20 ms. */
export function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
        const started = Date.now();
        const tick = () => {
            if (check()) return resolve();
            if (Date.now() - started > timeoutMs) return reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
            setTimeout(tick, 20);
        };
        tick();
    });
}

/** A received datagram. */
export interface Datagram {
    readonly data: Buffer;
    readonly peer: string;
}

/** A UDP listener on 127.0.0.1 that records every datagram. */
export interface UdpCapture {
    readonly port: number;
    readonly datagrams: Datagram[];
    close(): Promise<void>;
}

/** Starts a UDP listener on 127.0.0.1 and a free port. */
export function startUdpCapture(host = "127.0.0.1"): Promise<UdpCapture> {
    const socket = dgram.createSocket(host.includes(":") ? "udp6" : "udp4");
    const datagrams: Datagram[] = [];
    socket.on("message", (data, rinfo) => datagrams.push({ data: Buffer.from(data), peer: rinfo.address }));
    return new Promise<UdpCapture>((resolve, reject) => {
        socket.once("error", reject);
        socket.bind(0, host, () => {
            socket.off("error", reject);
            socket.on("error", () => undefined);
            resolve({
                port: socket.address().port,
                datagrams,
                close: () => new Promise<void>((done) => socket.close(() => done())),
            });
        });
    });
}

/** One TLS connection's bytes, in arrival order. */
export interface TlsConnection {
    readonly peer: string;
    readonly chunks: Buffer[];
    ended: boolean;
}

/** A TLS server on loopback that records what each client sends (it never writes back). */
export interface TlsCapture {
    readonly port: number;
    readonly connections: TlsConnection[];
    /** Handshakes the server saw fail (a client that refused our certificate). */
    readonly handshakeErrors: string[];
    /** All bytes received, connection after connection. */
    bytes(): Buffer;
    close(): Promise<void>;
}

/** Starts a TLS server with `key` and `cert` on `host` (127.0.0.1 by default) and a free port. */
export function startTlsCapture(options: { key: string; cert: string; host?: string }): Promise<TlsCapture> {
    const sockets = new Set<net.Socket>();
    const connections: TlsConnection[] = [];
    const handshakeErrors: string[] = [];
    const server = tls.createServer({ key: options.key, cert: options.cert }, (socket) => {
        const conn: TlsConnection = { peer: socket.remoteAddress ?? "", chunks: [], ended: false };
        connections.push(conn);
        socket.on("data", (chunk: Buffer) => conn.chunks.push(Buffer.from(chunk)));
        socket.on("end", () => (conn.ended = true));
        socket.on("error", () => undefined);
    });
    server.on("connection", (socket: net.Socket) => {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
    });
    server.on("tlsClientError", (error: Error) => handshakeErrors.push(error.message));
    return new Promise<TlsCapture>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, options.host ?? "127.0.0.1", () => {
            server.off("error", reject);
            resolve({
                port: (server.address() as net.AddressInfo).port,
                connections,
                handshakeErrors,
                bytes: () => Buffer.concat(connections.flatMap((c) => c.chunks)),
                close: () =>
                    new Promise<void>((done) => {
                        const timer = setTimeout(done, 5000);
                        for (const s of sockets) s.destroy();
                        server.close(() => {
                            clearTimeout(timer);
                            done();
                        });
                    }),
            });
        });
    });
}

/** A TCP port that nothing listens on right now (bound, then released). */
export function closedPort(host = "127.0.0.1"): Promise<number> {
    return new Promise<number>((resolve, reject) => {
        const server = net.createServer();
        server.once("error", reject);
        server.listen(0, host, () => {
            const { port } = server.address() as net.AddressInfo;
            server.close(() => resolve(port));
        });
    });
}

/** True when this machine can bind ::1 (IPv6 loopback). */
export function ipv6LoopbackAvailable(): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
        const server = net.createServer();
        server.once("error", () => resolve(false));
        server.listen(0, "::1", () => server.close(() => resolve(true)));
    });
}
