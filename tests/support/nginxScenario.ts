/**
 * Runs a real nginx with the generated wiring snippet and captures what it sends to "Logstash" (a UDP listener on
 * 127.0.0.1). nginx runs as the current user from a temporary prefix (pid, error log and temp paths inside it),
 * in the foreground (`daemon off`), and is stopped (SIGQUIT, then SIGKILL) whatever happens.
 */
import { type ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import type { LogSource } from "../../components/sources";
import { nginxWiring } from "../../components/wiring";
import { type Datagram, closedPort, startUdpCapture, waitFor } from "./syslogCapture";

/** One request of the scenario and what nginx must answer. */
export interface NginxRequest {
    /** Also the `case` query parameter, which ties an access line to its request. */
    readonly id: string;
    /** Path and query, as sent on the request line. */
    readonly target: string;
    readonly status: number;
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
        return execFileSync("sh", ["-c", "command -v nginx"], { encoding: "utf8" }).trim() || undefined;
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

/** A complete nginx.conf that includes the snippet inside `http { }`, as an app team would. */
export function nginxTestConfig(opts: { prefix: string; snippetPath: string; port: number; closedPort: number; ipv6: boolean }): string {
    const d = opts.prefix;
    // As root, nginx would switch its workers to "nobody", who cannot read the temporary prefix.
    const user = process.getuid?.() === 0 ? `user ${os.userInfo().username};\n` : "";
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
    include ${opts.snippetPath};
    server {
        listen 127.0.0.1:${opts.port};
${opts.ipv6 ? `        listen [::1]:${opts.port};\n` : ""}        server_name localhost;
        root ${d}/www;
        location = /ok { return 200 "ok\\n"; }
        location = /boom { return 500; }
        location /upstream/ { proxy_pass http://127.0.0.1:${opts.closedPort}; }
    }
}
`;
}

/** What a scenario run produced. */
export interface NginxRun {
    /** `nginx -t` exit status and output for the config that includes the snippet. */
    readonly configTest: { readonly status: number; readonly output: string };
    readonly snippet: string;
    readonly responses: { readonly id: string; readonly status: number }[];
    readonly datagrams: Datagram[];
    readonly requests: readonly NginxRequest[];
    readonly version: string;
}

function request(req: NginxRequest, port: number, timeoutMs: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
        const headers: Record<string, string> = {};
        if (req.userAgent) headers["User-Agent"] = req.userAgent;
        if (req.referrer) headers.Referer = req.referrer;
        const r = http.request({ host: req.ipv6 ? "::1" : "127.0.0.1", port, path: req.target, headers, timeout: timeoutMs, agent: false }, (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
        });
        r.on("timeout", () => r.destroy(new Error(`request ${req.id} timed out`)));
        r.on("error", reject);
        r.end();
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

/**
 * Writes the snippet for `source` pointing at a fresh UDP listener, checks the including config with `nginx -t`,
 * starts nginx, sends {@link NGINX_REQUESTS} (the IPv6 one only when `ipv6`), waits until every access line and
 * the expected error lines arrived (bounded), stops nginx and returns everything captured.
 */
export async function runNginxScenario(binary: string, source: LogSource, opts: { ipv6: boolean; timeoutMs?: number }): Promise<NginxRun> {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const requests = NGINX_REQUESTS.filter((r) => opts.ipv6 || !r.ipv6);
    const prefix = fs.mkdtempSync(path.join(os.tmpdir(), "elk-nginx-"));
    const capture = await startUdpCapture();
    let child: ChildProcess | undefined;
    try {
        fs.mkdirSync(path.join(prefix, "www"));
        const snippet = nginxWiring({ host: "127.0.0.1", port: capture.port }, source);
        const snippetPath = path.join(prefix, `elk-${source.name}.conf`);
        fs.writeFileSync(snippetPath, snippet);
        const port = await closedPort();
        const confPath = path.join(prefix, "nginx.conf");
        fs.writeFileSync(confPath, nginxTestConfig({ prefix, snippetPath, port, closedPort: await closedPort(), ipv6: opts.ipv6 }));
        const args = ["-p", prefix, "-c", confPath, "-e", path.join(prefix, "error.log")];

        const configTest = runMerged(binary, ["-t", ...args], timeoutMs);
        if (configTest.status !== 0) return { configTest, snippet, responses: [], datagrams: [], requests, version: nginxVersion(binary) };

        const stderr: Buffer[] = [];
        // Error log times carry no zone; the pipeline reads them as UTC unless ELK_NGINX_TIMEZONE says otherwise.
        child = spawn(binary, args, { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, TZ: "UTC" } });
        child.stderr?.on("data", (b: Buffer) => stderr.push(b));
        await waitForPort(port, timeoutMs).catch((error: Error) => {
            throw new Error(`${error.message}\n${Buffer.concat(stderr).toString()}${fs.existsSync(path.join(prefix, "error.log")) ? fs.readFileSync(path.join(prefix, "error.log"), "utf8") : ""}`);
        });
        const responses: { id: string; status: number }[] = [];
        for (const r of requests) responses.push({ id: r.id, status: await request(r, port, timeoutMs) });
        const expected = requests.length + requests.filter((r) => r.errorLine).length;
        await waitFor(() => capture.datagrams.length >= expected, timeoutMs, `${expected} syslog datagrams from nginx`);
        // A short grace period, so an unexpected extra datagram would show up too.
        await new Promise((r) => setTimeout(r, 200));
        return { configTest, snippet, responses, datagrams: [...capture.datagrams], requests, version: nginxVersion(binary) };
    } finally {
        if (child) await stop(child, 5000);
        await capture.close();
        fs.rmSync(prefix, { recursive: true, force: true });
    }
}
