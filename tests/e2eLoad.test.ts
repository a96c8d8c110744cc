/**
 * The e2e load generators against local stand-ins on 127.0.0.1: the Django stand-in (real Python, the module
 * `wiringFiles` generates) delivering to a TLS listener, and the HTTP generator driving a real nginx configured
 * with the e2e nginx.conf and the generated snippet, whose syslog lands on a UDP listener. Every id emitted must
 * arrive exactly once, and nothing that was not emitted.
 */
import { type ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseLogSources } from "../components/model/sources";
import { nginxLogFormats, nginxSourceLogs } from "../components/model/wiring";
import { type EmittedEvent, djangoMessage, eventPath, parseEventId } from "../scripts/e2e/accounting";
import { e2eNginxConf, startDjangoLoad, startHttpLoad } from "../scripts/e2e/load";
import { makeTestPki } from "./support/djangoScenario";
import { waitForHttp } from "../scripts/e2e/targets";
import { findNginx, stop } from "./support/nginxScenario";
import { closedPort, startTlsCapture, startUdpCapture, waitFor } from "./support/syslogCapture";

const RUN = "e2eabcdef0123";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let scratch: string;
beforeEach(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "elk-e2e-load-"));
});
afterEach(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** The ids found in `texts`, as "source/seq", with how often each was found. */
function idCounts(texts: readonly string[]): Map<string, number> {
    const counts = new Map<string, number>();
    for (const t of texts) {
        const id = parseEventId(RUN, t);
        if (id) counts.set(`${id.source}/${id.seq}`, (counts.get(`${id.source}/${id.seq}`) ?? 0) + 1);
    }
    return counts;
}

function expectExactlyOnce(emitted: readonly EmittedEvent[], found: Map<string, number>): void {
    const sent = emitted.map((e) => `${e.source}/${e.seq}`);
    expect(new Set(sent).size).toBe(sent.length);
    expect([...found.keys()].sort()).toEqual([...sent].sort());
    expect([...found.values()].every((n) => n === 1)).toBe(true);
}

describe("the Django stand-in, with the generated logging module", () => {
    const [source] = parseLogSources(["django:app"]);

    test("delivers every record it logs, once, with its id in the message, at about the rate asked", async () => {
        const pki = makeTestPki(scratch, ["localhost"]);
        const capture = await startTlsCapture({ key: pki.serverKey, cert: pki.serverCert });
        try {
            const load = startDjangoLoad({ target: { source, host: "localhost", port: capture.port, caPath: pki.caCertPath }, run: RUN, ratePerSecond: 200, workDir: path.join(scratch, "app") });
            // Python takes a while to start: wait for records rather than for a fixed time.
            await waitFor(() => load.emitted().length >= 300, 20_000, "300 records logged");
            const { emitted, notes } = await load.stop();
            const span = emitted[emitted.length - 1].emittedAt - emitted[0].emittedAt;
            // At the rate asked, within the 20 ms scheduling tick and a slow CI machine's jitter.
            expect((1000 * (emitted.length - 1)) / span).toBeGreaterThan(150);
            expect((1000 * (emitted.length - 1)) / span).toBeLessThan(260);
            expect(emitted.map((e) => e.seq)).toEqual(emitted.map((_, i) => i));
            const lines = capture.bytes().toString("utf8").split("\n").filter(Boolean);
            expectExactlyOnce(emitted, idCounts(lines));
            // The message is exactly the text the accounting looks for, in an RFC 5424 line of the module's (#004 ends it).
            expect(lines[0]).toMatch(new RegExp(`^<14>1 \\S+ \\S+ app \\d+ e2e\\.load \\[elk@32473 [^\\]]*\\] \\ufeff${djangoMessage(RUN, "app", 0).replace(/\//g, "\\/")}#004$`));
            expect(notes[0]).toMatch(/^django:app: the handler reports 0 records dropped from its bounded queue; logging.shutdown took [\d.]+ s$/);
            // Emit times are this machine's clock, in order.
            const times = emitted.map((e) => e.emittedAt);
            expect([...times].sort((a, b) => a - b)).toEqual(times);
            expect(Math.abs(times[0] - Date.now())).toBeLessThan(10_000);
        } finally {
            await capture.close();
        }
    });

    test("with Logstash unreachable it still stops, bounded, and says what the handler reported", async () => {
        const pki = makeTestPki(scratch, ["localhost"]);
        const port = await closedPort();
        const load = startDjangoLoad({ target: { source, host: "localhost", port, caPath: pki.caCertPath }, run: RUN, ratePerSecond: 100, workDir: path.join(scratch, "app") });
        await waitFor(() => load.emitted().length >= 20, 20_000, "20 records logged");
        const started = Date.now();
        const { emitted, notes } = await load.stop();
        expect(Date.now() - started).toBeLessThan(30_000);
        expect(emitted.length).toBeGreaterThan(0);
        expect(notes.some((n) => /^django:app: the handler said: elk-stack logging: cannot deliver logs to localhost:\d+/.test(n))).toBe(true);
    });
});

const nginx = findNginx();

describe("the HTTP load generator", () => {
    (nginx ? test : test.skip)("drives a real nginx with the e2e config: each request's id reaches syslog once, in the access line", async () => {
        const udp = await startUdpCapture();
        const port = await closedPort();
        const prefix = path.join(scratch, "nginx");
        fs.mkdirSync(prefix);
        const [web] = parseLogSources(["nginx:web"]);
        const snippetPath = path.join(prefix, "elk-web.conf");
        fs.writeFileSync(snippetPath, `${nginxLogFormats([web])}\n${nginxSourceLogs({ host: "127.0.0.1", port: udp.port }, web)}`);
        const conf = path.join(prefix, "nginx.conf");
        // As root, nginx would hand its workers to "nobody", who cannot read the temporary prefix.
        fs.writeFileSync(conf, `daemon off;\n${e2eNginxConf({ snippetPath, listen: `127.0.0.1:${port}`, prefix, user: process.getuid?.() === 0 ? os.userInfo().username : undefined })}`);
        const args = ["-p", prefix, "-c", conf, "-e", path.join(prefix, "error.log")];
        const check = spawnSync(nginx as string, ["-t", ...args], { encoding: "utf8", timeout: 30_000 });
        expect({ status: check.status, stderr: check.stderr.includes("test is successful") }).toEqual({ status: 0, stderr: true });
        let child: ChildProcess | undefined;
        try {
            child = spawn(nginx as string, args, { stdio: "ignore" });
            await waitForHttp(`http://127.0.0.1:${port}`, 10_000, "nginx");
            const loadStarted = Date.now();
            const load = startHttpLoad({ baseUrl: `http://127.0.0.1:${port}`, run: RUN, source: "web", ratePerSecond: 200 });
            await sleep(1000);
            const { emitted, notes } = await load.stop();
            const ranMs = Date.now() - loadStarted;
            expect(notes).toEqual([]);
            expect(emitted.length).toBeGreaterThan(150);
            // At its rate, over the time it really ran: under CPU load the one-second sleep ran 1.27 s (254 sent).
            expect(emitted.length).toBeLessThanOrEqual(Math.floor((200 * ranMs) / 1000) + 10);
            await waitFor(() => udp.datagrams.length >= emitted.length, 10_000, `${emitted.length} access lines`);
            await sleep(200);
            const lines = udp.datagrams.map((d) => d.data.toString("utf8"));
            expectExactlyOnce(emitted, idCounts(lines));
            expect(lines.find((l) => l.includes(eventPath(RUN, "web", 0)))).toMatch(new RegExp(`nginx_access: web [\\d.]+ 127\\.0\\.0\\.1 "-" "GET" "${eventPath(RUN, "web", 0)}" "HTTP/1\\.1" 204 `));
        } finally {
            if (child) await stop(child, 5000);
            await udp.close();
        }
    });

    test("waiting for nginx gives up at its deadline, naming what did not answer", async () => {
        const port = await closedPort();
        await expect(waitForHttp(`http://127.0.0.1:${port}`, 500, "nginx container x")).rejects.toThrow(`nginx container x did not answer HTTP at http://127.0.0.1:${port} within 1 s`);
    });

    test("a request nginx never answered is not counted as sent, and the note says how many", async () => {
        const port = await closedPort();
        const load = startHttpLoad({ baseUrl: `http://127.0.0.1:${port}`, run: RUN, source: "web", ratePerSecond: 100, requestTimeoutMs: 2000 });
        await sleep(300);
        const { emitted, notes } = await load.stop();
        expect(emitted).toEqual([]);
        expect(notes).toHaveLength(1);
        expect(notes[0]).toMatch(/^nginx:web: (\d+) of \1 requests got no answer \(last: connect ECONNREFUSED 127\.0\.0\.1:\d+\); they are not counted as sent$/);
    });
});
