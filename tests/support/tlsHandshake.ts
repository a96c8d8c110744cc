/**
 * Real TLS handshakes for tests: a TLS echo server with a given key and certificate, and clients (node's `tls`
 * and `openssl s_client`) that verify it against a given CA and host name. Every wait is bounded by a timeout,
 * and servers close their open connections when closed.
 */
import { spawn } from "child_process";
import * as net from "net";
import * as tls from "tls";

const DEFAULT_TIMEOUT_MS = 10_000;

/** A running TLS echo server: it writes back whatever a client sends. */
export interface TlsEchoServer {
    readonly host: string;
    readonly port: number;
    /** Why the server refused clients (with `clientCa`: node's code for a missing or untrusted client certificate). */
    readonly refusals: readonly string[];
    /** Stops listening and destroys open connections. */
    close(): Promise<void>;
}

export interface TlsEchoServerOptions {
    /** PEM of the server key. */
    key: string;
    /** PEM of the server certificate (and any intermediates). */
    cert: string;
    /** Address to listen on; 127.0.0.1 by default. The port is chosen by the system. */
    host?: string;
    /** Require a client certificate that this CA vouches for (mutual TLS, as Elasticsearch's transport layer). */
    clientCa?: string;
    timeoutMs?: number;
}

/** Starts a TLS echo server on `host` (127.0.0.1 by default) and a free port. */
export function startTlsEchoServer(options: TlsEchoServerOptions): Promise<TlsEchoServer> {
    const host = options.host ?? "127.0.0.1";
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const connections = new Set<net.Socket>();
    const refusals: string[] = [];
    // With a client CA, unverified clients are cut off here rather than by node (which would not say why).
    const mutual = options.clientCa ? { ca: options.clientCa, requestCert: true, rejectUnauthorized: false } : {};
    const server = tls.createServer({ key: options.key, cert: options.cert, ...mutual }, (socket) => {
        socket.on("error", () => undefined);
        if (options.clientCa && !socket.authorized) {
            refusals.push(String(socket.authorizationError));
            socket.destroy();
            return;
        }
        socket.on("data", (data: Buffer) => socket.write(data));
    });
    server.on("connection", (socket: net.Socket) => {
        connections.add(socket);
        socket.on("error", () => undefined);
        socket.on("close", () => connections.delete(socket));
    });
    // A client that refuses the certificate aborts the handshake: expected here, not a server failure.
    server.on("tlsClientError", (error: NodeJS.ErrnoException) => refusals.push(error.code ?? error.message));

    const close = (): Promise<void> =>
        new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, timeoutMs);
            for (const socket of connections) {
                socket.destroy();
            }
            server.close(() => {
                clearTimeout(timer);
                resolve();
            });
        });

    return new Promise<TlsEchoServer>((resolve, reject) => {
        const timer = setTimeout(() => {
            server.close();
            reject(new Error(`TLS server did not start listening within ${timeoutMs} ms`));
        }, timeoutMs);
        server.once("error", (error: Error) => {
            clearTimeout(timer);
            reject(error);
        });
        server.listen(0, host, () => {
            clearTimeout(timer);
            resolve({ host, port: (server.address() as net.AddressInfo).port, refusals, close });
        });
    });
}

/** Outcome of a client handshake. */
export interface HandshakeResult {
    /** The server's certificate was accepted (chain and host name) and a probe byte came back. */
    authorized: boolean;
    /** Why not: node's error code (ERR_TLS_CERT_ALTNAME_INVALID, UNABLE_TO_VERIFY_LEAF_SIGNATURE, ...) or message. */
    error?: string;
    /** What the server echoed back. */
    echoed?: string;
}

export interface TlsClientOptions {
    port: number;
    /** Address to connect to; 127.0.0.1 by default. */
    host?: string;
    /** PEM of the CA(s) the client trusts (and nothing else). */
    ca: string | string[];
    /** The name the client expects (and sends as SNI); without it the client checks `host`, e.g. an IP SAN. */
    servername?: string;
    /** PEM of a client certificate and its key, presented when the server asks for one. */
    clientCert?: { key: string; cert: string };
    timeoutMs?: number;
}

const PROBE = "ping";

/** Connects to a TLS server, verifying its certificate against `ca` and `servername` (or `host`), and exchanges a probe. */
export function connectTlsClient(options: TlsClientOptions): Promise<HandshakeResult> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise<HandshakeResult>((resolve) => {
        let settled = false;
        let echoed = "";
        const socket = tls.connect({
            host: options.host ?? "127.0.0.1",
            port: options.port,
            ca: options.ca,
            servername: options.servername,
            rejectUnauthorized: true,
            ...(options.clientCert ?? {}),
        });
        const finish = (result: HandshakeResult): void => {
            if (!settled) {
                settled = true;
                clearTimeout(timer);
                socket.destroy();
                resolve(result);
            }
        };
        const timer = setTimeout(() => finish({ authorized: false, error: `timed out after ${timeoutMs} ms` }), timeoutMs);
        socket.once("secureConnect", () => {
            if (!socket.authorized) {
                finish({ authorized: false, error: String(socket.authorizationError) });
                return;
            }
            socket.write(PROBE);
        });
        socket.on("data", (data: Buffer) => {
            echoed += data.toString();
            if (echoed.length >= PROBE.length) {
                finish({ authorized: echoed === PROBE, echoed, error: echoed === PROBE ? undefined : "unexpected echo" });
            }
        });
        socket.once("error", (error: NodeJS.ErrnoException) => finish({ authorized: false, error: error.code ?? error.message }));
        socket.once("close", () => finish({ authorized: false, error: "connection closed before the echo" }));
    });
}

export interface TlsHandshakeOptions {
    /** PEM of the server key. */
    key: string;
    /** PEM of the server certificate. */
    cert: string;
    /** PEM of the CA(s) the client trusts. */
    ca: string | string[];
    /** Name the client verifies; without it the client verifies the IP it connects to. */
    servername?: string;
    /** Listen and connect address; 127.0.0.1 by default. */
    host?: string;
    timeoutMs?: number;
}

/** Starts a TLS server with `key` and `cert`, connects a client trusting `ca` and expecting `servername`, then closes both. */
export async function tlsHandshake(options: TlsHandshakeOptions): Promise<HandshakeResult> {
    const server = await startTlsEchoServer(options);
    try {
        return await connectTlsClient({ ...options, port: server.port });
    } finally {
        await server.close();
    }
}

/** Outcome of an `openssl s_client` run. */
export interface OpensslClientResult {
    /** Exit status; null when killed (e.g. on timeout). */
    exitCode: number | null;
    timedOut: boolean;
    /** The verification result OpenSSL reports (0 is ok), when it reports one. */
    verifyReturnCode?: number;
    /** Standard output and error, interleaved by stream. */
    output: string;
}

export interface OpensslClientOptions {
    port: number;
    host?: string;
    /** File holding the CA(s) to trust. */
    caFile: string;
    /** Host name to verify (`-verify_hostname`); none to verify only the chain. */
    verifyHostname?: string;
    /** SNI to send (`-servername`). */
    servername?: string;
    timeoutMs?: number;
}

/**
 * Runs `openssl s_client -verify_return_error` against a server and quits ("Q"). Asynchronous on purpose: the
 * server under test usually runs in this same process, and a synchronous child would block its event loop.
 */
export function opensslSClient(options: OpensslClientOptions): Promise<OpensslClientResult> {
    const host = options.host ?? "127.0.0.1";
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const args = [
        "s_client",
        "-connect",
        `${host.includes(":") ? `[${host}]` : host}:${options.port}`,
        "-CAfile",
        options.caFile,
        "-verify_return_error",
        ...(options.verifyHostname ? ["-verify_hostname", options.verifyHostname] : []),
        ...(options.servername ? ["-servername", options.servername] : []),
    ];
    return new Promise<OpensslClientResult>((resolve) => {
        let output = "";
        let timedOut = false;
        const child = spawn("openssl", args, { stdio: ["pipe", "pipe", "pipe"] });
        const timer = setTimeout(() => {
            timedOut = true;
            child.kill("SIGKILL");
        }, timeoutMs);
        child.stdout.on("data", (data: Buffer) => (output += data.toString()));
        child.stderr.on("data", (data: Buffer) => (output += data.toString()));
        child.stdin.on("error", () => undefined);
        child.stdin.end("Q\n");
        const done = (exitCode: number | null): void => {
            clearTimeout(timer);
            // "Verify return code: N (...)" after a handshake; "verify error:num=N" when it was aborted.
            const code = /Verify return code: (\d+)/.exec(output)?.[1] ?? /verify error:num=(\d+)/.exec(output)?.[1];
            resolve({ exitCode, timedOut, output, verifyReturnCode: code === undefined ? undefined : Number(code) });
        };
        child.once("error", (error) => {
            output += String(error);
            done(null);
        });
        child.once("close", (exitCode) => done(exitCode));
    });
}
