/**
 * A TLS listener on 127.0.0.1 that stands where Logstash's tcp input stands and can be made to fail the ways
 * Logstash fails: killed (every connection reset, nothing flushed, the port closed), restarted on the same port,
 * stalled (nothing read from open connections and no handshake answered for new ones, as when a full persistent
 * queue blocks the input), and resumed; or half-open from the start (it reads everything but never ends a connection
 * whose peer ended its input, as a proxy that does not pass a half-close on). Like the tcp input (logstash-input-tcp lib/logstash/inputs/tcp.rb and
 * tcp/decoder_impl.rb), it hands on each complete line as soon as it is read, closes a connection whose peer
 * ended its input, and flushes what is left of a line without its newline when a connection closes on its own
 * (`flush_codec`) but not when the process is killed.
 */
import * as net from "net";
import * as tls from "tls";

/** A line as the input would hand it to the pipeline: bytes without the newline; `partial` when flushed at close. */
export interface ReceivedLine {
    readonly data: Buffer;
    readonly partial: boolean;
    readonly connection: number;
    /** When it was read (Date.now()). */
    readonly at: number;
}

/** The listener and its controls. */
export interface FaultyLogstash {
    readonly port: number;
    /** TCP connections accepted, in total. */
    readonly accepted: () => number;
    /** Every line handed on, in arrival order. */
    readonly lines: ReceivedLine[];
    /** Kills "Logstash": closes every connection at once, drops unfinished lines, stops listening. */
    kill(): Promise<void>;
    /** Starts listening again on the same port. */
    start(): Promise<void>;
    /** Stops reading open connections and answering handshakes of new ones. */
    stall(): void;
    /** Reads again. */
    resume(): void;
    /**
     * From now on reads but hands nothing on, and dies (closes without flushing) when a peer ends its input: Logstash
     * killed after reading the last bytes of a connection, before queueing them. Its side closes with a FIN, as a
     * killed process's socket does when nothing is left unread.
     */
    swallow(): void;
    close(): Promise<void>;
}

interface Live {
    readonly raw: net.Socket;
    tls?: tls.TLSSocket;
    pending: Buffer[];
    readonly id: number;
}

/**
 * Starts the listener (or only reserves its port when `startListening` is false, for "Logstash is down at
 * start"). `closeAfterMs` makes it close every connection cleanly that long after accepting it, as a load
 * balancer or NAT idle timeout would. `halfOpen` makes it keep reading a connection whose peer ended its input,
 * and never end it.
 */
export async function startFaultyLogstash(opts: { key: string; cert: string; startListening?: boolean; resetOnAccept?: boolean; closeAfterMs?: number; halfOpen?: boolean }): Promise<FaultyLogstash> {
    const live = new Set<Live>();
    const lines: ReceivedLine[] = [];
    let accepted = 0;
    let stalled = false;
    let swallowing = false;
    let nextId = 0;

    const flush = (c: Live, partial: boolean) => {
        const rest = Buffer.concat(c.pending);
        c.pending = [];
        if (partial && rest.length > 0) lines.push({ data: rest, partial: true, connection: c.id, at: Date.now() });
    };

    const wrap = (c: Live) => {
        const socket = new tls.TLSSocket(c.raw, { isServer: true, key: opts.key, cert: opts.cert, minVersion: "TLSv1.2" });
        c.tls = socket;
        socket.on("data", (chunk: Buffer) => {
            if (swallowing) return;
            let data = Buffer.concat([...c.pending, chunk]);
            c.pending = [];
            for (let nl = data.indexOf(10); nl >= 0; nl = data.indexOf(10)) {
                lines.push({ data: data.subarray(0, nl), partial: false, connection: c.id, at: Date.now() });
                data = data.subarray(nl + 1);
            }
            if (data.length > 0) c.pending.push(Buffer.from(data));
        });
        // The peer ended its input: flush and close, as netty does with half-closure off; half-open: neither.
        socket.on("end", () => {
            if (opts.halfOpen) return;
            if (swallowing) {
                c.pending = [];
                socket.destroy();
                return;
            }
            flush(c, true);
            socket.end();
        });
        socket.on("error", () => {
            flush(c, true);
            socket.destroy();
        });
        socket.on("close", () => live.delete(c));
        if (stalled) socket.pause();
        if (opts.closeAfterMs !== undefined) {
            // A full close, as Logstash's netty or a middlebox's timeout does: bytes that arrive later are refused.
            setTimeout(() => {
                if (live.has(c)) {
                    flush(c, true);
                    socket.destroy();
                }
            }, opts.closeAfterMs).unref();
        }
    };

    // Without allowHalfOpen, node ends its side by itself when the peer ends its input.
    const server = net.createServer({ allowHalfOpen: opts.halfOpen === true }, (raw) => {
        accepted++;
        if (opts.resetOnAccept) {
            raw.resetAndDestroy();
            return;
        }
        const c: Live = { raw, pending: [], id: nextId++ };
        live.add(c);
        raw.on("error", () => undefined);
        raw.on("close", () => live.delete(c));
        if (stalled) raw.pause();
        else wrap(c);
    });
    server.on("error", () => undefined);

    let port = 0;
    const listen = () =>
        new Promise<void>((resolve, reject) => {
            server.once("error", reject);
            server.listen(port, "127.0.0.1", () => {
                server.off("error", reject);
                port = (server.address() as net.AddressInfo).port;
                resolve();
            });
        });
    await listen();
    const stopListening = () => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
    if (opts.startListening === false) await stopListening();

    return {
        get port() {
            return port;
        },
        accepted: () => accepted,
        lines,
        async kill() {
            const closing = stopListening();
            // What the kernel does for a killed process: close every socket (a reset where unread bytes remain).
            for (const c of [...live]) {
                c.pending = [];
                c.tls?.destroy();
                c.raw.destroy();
            }
            live.clear();
            await closing;
        },
        start: listen,
        stall() {
            stalled = true;
            for (const c of live) (c.tls ?? c.raw).pause();
        },
        swallow() {
            swallowing = true;
        },
        resume() {
            stalled = false;
            for (const c of [...live]) {
                if (c.tls) c.tls.resume();
                else {
                    c.raw.resume();
                    wrap(c);
                }
            }
        },
        async close() {
            const closing = stopListening();
            for (const c of [...live]) c.raw.destroy();
            live.clear();
            await closing;
        },
    };
}
