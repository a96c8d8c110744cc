/**
 * Runs a real nginx with the generated wiring files and captures what it sends to "Logstash" (a UDP listener on
 * 127.0.0.1). Each nginx source gets its own `server { }` on its own loopback port, with the source's file
 * included inside it (or, for the single-source `http` layout, in the `http { }` block). nginx runs as the
 * current user from a temporary prefix (pid, error log and temp paths inside it), in the foreground
 * (`daemon off`), and is stopped (SIGQUIT, then SIGKILL) whatever happens. Requests are written on a raw socket,
 * so a test controls every byte of the request line and headers.
 */
import { type ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import type { LogSource } from "../../components/model/sources";
import { NGINX_FORMATS_FILE, nginxSourceFileName, wiringFiles } from "../../components/model/wiring";
import { type Datagram, closedPort, startUdpCapture, waitFor } from "./syslogCapture";

/** One request of the scenario and what nginx must answer. */
export interface NginxRequest {
    /** Also the `case` query parameter, which ties an access line to its request. */
    readonly id: string;
    /** Path and query, as sent on the request line: each character is one byte (latin1), so "\xff" sends 0xFF. */
    readonly target: string;
    readonly status: number;
    /** The nginx source whose server gets the request; the first source when unset. */
    readonly source?: string;
    /** The request method; GET when unset. */
    readonly method?: string;
    /** The Host header; the server's address and port when unset. */
    readonly host?: string;
    /** A request body of this many bytes ("x" each). */
    readonly bodyBytes?: number;
    /** nginx also writes a warn-level error log line for this request (the reason, in its words). */
    readonly warnLine?: string;
    /** Connect over IPv6 loopback (::1) instead of 127.0.0.1. */
    readonly ipv6?: boolean;
    readonly userAgent?: string;
    readonly referrer?: string;
    /** nginx also writes an error log line for this request (the reason, in its words). */
    readonly errorLine?: string;
}

/** The scenario: one request per interesting case. */
export const NGINX_REQUESTS: readonly NginxRequest[] = [
    { id: "ok", target: "/ok?case=ok", status: 200, userAgent: "elk-test/1.0" },
    { id: "missing", target: "/missing/caf%C3%A9.html?case=missing&q=a%20b", status: 404, userAgent: "elk-test/1.0", errorLine: "open()" },
    { id: "boom", target: "/boom?case=boom", status: 500, userAgent: "elk-test/1.0" },
    { id: "upstream", target: "/upstream/api?case=upstream&id=7", status: 502, userAgent: "elk-test/1.0", errorLine: "connect() failed" },
    { id: "ipv6", target: "/ok?case=ipv6", status: 200, ipv6: true, userAgent: "elk-test/1.0" },
    {
        id: "quote",
        target: "/ok?case=quote",
        status: 200,
        userAgent: 'Mozilla/5.0 (X11; "quoted" agent) back\\slash',
        referrer: 'https://ref.example/search?q="elk"',
    },
];

/** The nginx binary, or undefined when it is not installed. */
export function findNginx(): string | undefined {
    for (const candidate of ["/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx", "/usr/local/bin/nginx"]) {
        if (fs.existsSync(candidate)) return candidate;
    }
    try {
        return execFileSync("sh", ["-c", "command -v nginx"], { encoding: "utf8", timeout: 20_000 }).trim() || undefined;
    } catch {
        return undefined;
    }
}

/** `nginx -v` output, e.g. "nginx/1.22.1" (nginx prints it on stderr). */
export function nginxVersion(binary: string): string {
    return runMerged(binary, ["-v"], 10_000).output.trim();
}

/** Runs a command with stderr merged into stdout (nginx reports on stderr); never throws on a non-zero exit. */
function runMerged(binary: string, args: readonly string[], timeoutMs: number): { status: number; output: string } {
    try {
        return { status: 0, output: execFileSync("sh", ["-c", '"$0" "$@" 2>&1', binary, ...args], { encoding: "utf8", timeout: timeoutMs }) };
    } catch (error) {
        const e = error as { status?: number | null; stdout?: string };
        return { status: e.status ?? 1, output: e.stdout ?? String(error) };
    }
}

/** Where the per-source files go: inside each source's `server { }` (the layout for several sources) or in `http { }`. */
export type NginxLayout = "server" | "http";

/** The server of one source in the test config. */
export interface NginxTestServer {
    readonly source: LogSource;
    readonly port: number;
}

/** A complete nginx.conf that includes the generated files as the README says, with one server per source. */
export function nginxTestConfig(opts: { prefix: string; wiringDir: string; servers: readonly NginxTestServer[]; closedPort: number; ipv6: boolean; layout: NginxLayout }): string {
    const d = opts.prefix;
    // As root, nginx would switch its workers to "nobody", who cannot read the temporary prefix.
    const user = process.getuid?.() === 0 ? `user ${os.userInfo().username};\n` : "";
    const include = (source: LogSource) => `include ${path.join(opts.wiringDir, nginxSourceFileName(source))};`;
    if (opts.layout === "http" && opts.servers.length !== 1) throw new Error("the http layout is for a single nginx source");
    const servers = opts.servers.map(
        ({ source, port }, i) => `    server {
        listen 127.0.0.1:${port};
${opts.ipv6 && i === 0 ? `        listen [::1]:${port};\n` : ""}${opts.layout === "server" ? `        ${include(source)}\n` : ""}        server_name localhost;
        root ${d}/www;
        location = /ok { return 200 "ok\\n"; }
        location = /boom { return 500; }
        location /upstream/ { proxy_pass http://127.0.0.1:${opts.closedPort}; }
        # A body larger than the buffer goes to a temporary file first, which nginx reports at level warn.
        location /upload { client_body_buffer_size 1k; proxy_pass http://127.0.0.1:${opts.closedPort}; }
    }
`,
    );
    return `${user}worker_processes 1;
daemon off;
pid ${d}/nginx.pid;
error_log ${d}/error.log notice;
events { worker_connections 64; }
http {
    client_body_temp_path ${d}/client_body;
    proxy_temp_path ${d}/proxy;
    fastcgi_temp_path ${d}/fastcgi;
    uwsgi_temp_path ${d}/uwsgi;
    scgi_temp_path ${d}/scgi;
    include ${path.join(opts.wiringDir, NGINX_FORMATS_FILE)};
${opts.layout === "http" ? `    ${include(opts.servers[0].source)}\n` : ""}${servers.join("")}}
`;
}

/** What a scenario run produced. */
export interface NginxRun {
    /** `nginx -t` exit status and output for the config that includes the generated files. */
    readonly configTest: { readonly status: number; readonly output: string };
    /** The nginx wiring files, as `wiringFiles` wrote them. */
    readonly files: { readonly fileName: string; readonly content: string }[];
    /** The nginx.conf that included them. */
    readonly config: string;
    readonly responses: { readonly id: string; readonly status: number }[];
    readonly datagrams: Datagram[];
    readonly requests: readonly NginxRequest[];
    readonly version: string;
}

/** Sends one request on a raw socket (its bytes exactly as described) and resolves with the response status. */
function request(req: NginxRequest, port: number, timeoutMs: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
        const host = req.ipv6 ? "::1" : "127.0.0.1";
        const headers = [
            `${req.method ?? "GET"} ${req.target} HTTP/1.1`,
            `Host: ${req.host ?? (req.ipv6 ? `[::1]:${port}` : `127.0.0.1:${port}`)}`,
            ...(req.userAgent ? [`User-Agent: ${req.userAgent}`] : []),
            ...(req.referrer ? [`Referer: ${req.referrer}`] : []),
            ...(req.bodyBytes !== undefined ? [`Content-Length: ${req.bodyBytes}`] : []),
            "Connection: close",
        ];
        const socket = net.connect({ host, port });
        const chunks: Buffer[] = [];
        const timer = setTimeout(() => socket.destroy(new Error(`request ${req.id} timed out`)), timeoutMs);
        socket.on("connect", () => {
            socket.write(Buffer.from(`${headers.join("\r\n")}\r\n\r\n`, "latin1"));
            if (req.bodyBytes !== undefined) socket.write(Buffer.alloc(req.bodyBytes, "x"));
        });
        socket.on("data", (b: Buffer) => chunks.push(b));
        socket.on("error", (error) => {
            clearTimeout(timer);
            reject(error);
        });
        socket.on("close", () => {
            clearTimeout(timer);
            const status = /^HTTP\/1\.[01] (\d{3}) /.exec(Buffer.concat(chunks).toString("latin1"));
            if (status) resolve(Number(status[1]));
            else reject(new Error(`request ${req.id}: no HTTP status in the response`));
        });
    });
}

function waitForPort(port: number, timeoutMs: number): Promise<void> {
    const started = Date.now();
    return new Promise<void>((resolve, reject) => {
        const attempt = () => {
            const socket = net.connect({ host: "127.0.0.1", port });
            socket.once("connect", () => {
                socket.destroy();
                resolve();
            });
            socket.once("error", () => {
                socket.destroy();
                if (Date.now() - started > timeoutMs) reject(new Error(`nginx did not listen on ${port} within ${timeoutMs} ms`));
                else setTimeout(attempt, 50);
            });
        };
        attempt();
    });
}

export function stop(child: ChildProcess, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        child.once("exit", () => {
            clearTimeout(timer);
            resolve();
        });
        child.kill("SIGQUIT"); // graceful shutdown: workers finish, then the master exits
    });
}

/** Datagrams nginx sends for these requests: one access line each, plus the error and warn lines they cause. */
export function expectedDatagrams(requests: readonly NginxRequest[]): number {
    return requests.length + requests.filter((r) => r.errorLine).length + requests.filter((r) => r.warnLine).length;
}

/**
 * Writes the wiring files for `sources` (all nginx) pointing at a fresh UDP listener, checks the including config
 * with `nginx -t`, starts nginx, sends the requests (by default {@link NGINX_REQUESTS} to the first source; those
 * over IPv6 only when `ipv6`), waits until every expected datagram arrived (bounded), stops nginx and returns
 * everything captured.
 */
export async function runNginxScenario(
    binary: string,
    sources: readonly LogSource[],
    opts: { ipv6: boolean; timeoutMs?: number; layout?: NginxLayout; requests?: readonly NginxRequest[] },
): Promise<NginxRun> {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const requests = (opts.requests ?? NGINX_REQUESTS).filter((r) => opts.ipv6 || !r.ipv6);
    const prefix = fs.mkdtempSync(path.join(os.tmpdir(), "elk-nginx-"));
    const capture = await startUdpCapture();
    let child: ChildProcess | undefined;
    try {
        fs.mkdirSync(path.join(prefix, "www"));
        const wiringDir = path.join(prefix, "elk");
        fs.mkdirSync(wiringDir);
        const files = wiringFiles(sources, "127.0.0.1", undefined, () => capture.port).filter((f) => f.fileName.startsWith("nginx"));
        for (const f of files) fs.writeFileSync(path.join(wiringDir, f.fileName), f.content);
        const servers: NginxTestServer[] = [];
        for (const source of sources) servers.push({ source, port: await closedPort() });
        const config = nginxTestConfig({ prefix, wiringDir, servers, closedPort: await closedPort(), ipv6: opts.ipv6, layout: opts.layout ?? "server" });
        const confPath = path.join(prefix, "nginx.conf");
        fs.writeFileSync(confPath, config);
        const args = ["-p", prefix, "-c", confPath, "-e", path.join(prefix, "error.log")];

        const configTest = runMerged(binary, ["-t", ...args], timeoutMs);
        if (configTest.status !== 0) return { configTest, files, config, responses: [], datagrams: [], requests, version: nginxVersion(binary) };

        const stderr: Buffer[] = [];
        // Error log times carry no zone; the pipeline reads them as UTC unless ELK_NGINX_TIMEZONE says otherwise.
        child = spawn(binary, args, { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, TZ: "UTC" } });
        child.stderr?.on("data", (b: Buffer) => stderr.push(b));
        for (const { port } of servers) {
            await waitForPort(port, timeoutMs).catch((error: Error) => {
                throw new Error(`${error.message}\n${Buffer.concat(stderr).toString()}${fs.existsSync(path.join(prefix, "error.log")) ? fs.readFileSync(path.join(prefix, "error.log"), "utf8") : ""}`);
            });
        }
        const portOf = (r: NginxRequest) => {
            const server = r.source === undefined ? servers[0] : servers.find((x) => x.source.name === r.source);
            if (!server) throw new Error(`request ${r.id} is for source ${r.source}, which has no server here`);
            return server.port;
        };
        const responses: { id: string; status: number }[] = [];
        for (const r of requests) responses.push({ id: r.id, status: await request(r, portOf(r), timeoutMs) });
        const expected = expectedDatagrams(requests);
        await waitFor(() => capture.datagrams.length >= expected, timeoutMs, `${expected} syslog datagrams from nginx`);
        // A short grace period, so an unexpected extra datagram would show up too.
        await new Promise((r) => setTimeout(r, 200));
        return { configTest, files, config, responses, datagrams: [...capture.datagrams], requests, version: nginxVersion(binary) };
    } finally {
        if (child) await stop(child, 5000);
        await capture.close();
        fs.rmSync(prefix, { recursive: true, force: true });
    }
}

/** `nginx -t` on a config that includes the given wiring files in the given layout (it binds the ports, serves nothing). */
export async function nginxConfigTest(binary: string, sources: readonly LogSource[], files: readonly { fileName: string; content: string }[], layout: NginxLayout): Promise<{ status: number; output: string }> {
    const prefix = fs.mkdtempSync(path.join(os.tmpdir(), "elk-nginx-t-"));
    try {
        const wiringDir = path.join(prefix, "elk");
        fs.mkdirSync(wiringDir);
        for (const f of files) fs.writeFileSync(path.join(wiringDir, f.fileName), f.content);
        const servers: NginxTestServer[] = [];
        for (const source of sources) servers.push({ source, port: await closedPort() });
        const confPath = path.join(prefix, "nginx.conf");
        fs.writeFileSync(confPath, nginxTestConfig({ prefix, wiringDir, servers, closedPort: await closedPort(), ipv6: false, layout }));
        return runMerged(binary, ["-t", "-p", prefix, "-c", confPath, "-e", path.join(prefix, "error.log")], 20_000);
    } finally {
        fs.rmSync(prefix, { recursive: true, force: true });
    }
}
