/**
 * Real Django with the generated logging module: a settings module imports its LOGGING, `django.setup()` runs
 * under /usr/bin/python3 (Debian's python3-django), and records of every level (non-ASCII text, line breaks,
 * a traceback) travel over verified TLS to a local listener standing in for Logstash. The bytes are checked
 * with a third-party RFC 5424 parser (nsyslog-parser) and run through the Django pipeline. Also: the app
 * refuses a certificate from another CA, and neither blocks nor fails when Logstash is down.
 * Skipped, with the reason, only when /usr/bin/python3 cannot import django (CI installs it).
 */
import * as os from "os";
import { parseSyslogLine } from "./support/rfc5424";
import { parseLogSources } from "../components/model/sources";
import { expectDjangoEvents, loadPipeline, processArrivals } from "./support/corpora";
import { DJANGO_RECORDS, type DjangoCapture, SEVERITY_OF, captureDjango, runDjangoApp, systemDjangoVersion } from "./support/djangoScenario";
import { closedPort } from "./support/syslogCapture";

const django = systemDjangoVersion();
if (!django) {
    console.warn("SKIPPED tests/django.live.test.ts: /usr/bin/python3 cannot import django (apt-get install python3-django); the fixture-based pipeline tests still ran.");
}
// CI sets ELK_REQUIRE_LIVE_TOOLS=1 after installing the packages: there a missing tool is a failure, not a skip.
if (!django && process.env.ELK_REQUIRE_LIVE_TOOLS === "1") throw new Error("ELK_REQUIRE_LIVE_TOOLS=1 but /usr/bin/python3 with django is missing");
const describeLive = django ? describe : describe.skip;

/** What the sender escaped: the Python side's escaping, restated to compare with the wire. */
const escaped = (text: string) => text.replace(/#(?=\d{3})/g, "#035").replace(/\n/g, "#012");

describeLive(`real Django (${django ?? "missing"}) with the generated LOGGING`, () => {
    const sources = parseLogSources(["nginx:web", "django:shop"]);
    const source = sources[1];
    let capture: DjangoCapture;
    let capturedAt: string;

    beforeAll(async () => {
        capturedAt = new Date().toISOString();
        capture = await captureDjango({ serviceName: source.name, records: DJANGO_RECORDS, env: { ELK_LOG_LEVEL: "DEBUG" }, timeoutMs: 30_000 });
    }, 60_000);

    test("django.setup() runs with the generated LOGGING and the app exits cleanly", () => {
        expect(capture.run.stderr).toBe("");
        expect(capture.run.stdout).toContain(`logged ${DJANGO_RECORDS.length} records`);
        expect(capture.run.exitCode).toBe(0);
        expect(capture.connections).toBe(1);
        expect(capture.handshakeErrors).toEqual([]);
    });

    test("one newline-terminated RFC 5424 line per record, as nsyslog-parser reads it", () => {
        const text = capture.stream.toString("utf8");
        expect(text.endsWith("\n")).toBe(true);
        const lines = text.slice(0, -1).split("\n");
        expect(lines).toHaveLength(DJANGO_RECORDS.length);
        lines.forEach((line, i) => {
            const record = DJANGO_RECORDS[i];
            const parsed = parseSyslogLine(line);
            expect({
                type: parsed.type,
                version: parsed.version,
                prival: parsed.prival,
                host: parsed.host,
                appName: parsed.appName,
                messageid: parsed.messageid,
            }).toEqual({
                type: "RFC5424",
                version: 1,
                prival: 8 + SEVERITY_OF[record.level],
                host: os.hostname(),
                appName: source.name,
                messageid: record.logger.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 32),
            });
            expect(parsed.pid).toMatch(/^\d+$/);
            expect(Math.abs((parsed.ts?.getTime() ?? 0) - Date.parse(capturedAt))).toBeLessThan(60_000);
            // nsyslog-parser does not implement SD-PARAM escapes (\" \] \\): check the SD where none are needed.
            if (!/["\\\]]/.test(record.logger)) {
                const [sd, ...more] = parsed.structuredData ?? [];
                expect(more).toEqual([]);
                expect(sd.line).toMatch(/^\d+$/);
                expect(sd.id).toMatch(/^[0-9a-f]{32}$/);
                expect({ ...sd, line: "n", id: "x" }).toEqual({ $id: "elk@32473", id: "x", level: record.level, logger: record.logger, file: "emit.py", line: "n", function: "<module>", thread: "MainThread" });
            }
            // MSG: UTF-8 with the BOM RFC 5424 asks for, line breaks escaped, then the end mark.
            expect(line).toContain(` \uFEFF${escaped(record.message)}`);
            expect(line.endsWith("#004")).toBe(true);
            if (record.exception !== undefined) expect(parsed.message).toContain(`${escaped(record.message)}#012Traceback (most recent call last):#012`);
            // Where it misreads escaped SD it leaves the SD in the message; the MSG still ends it.
            else if (/["\\\]]/.test(record.logger)) expect(parsed.message.endsWith(`\uFEFF${escaped(record.message)}#004`)).toBe(true);
            else expect(parsed.message).toBe(`${escaped(record.message)}#004`);
        });
    });

    test("the Django pipeline parses every record: level, logger, message, traceback, service name", async () => {
        const pipeline = await loadPipeline(sources, "django");
        const processed = processArrivals(pipeline, [{ protocol: "tcp", port: source.port, data: capture.stream, peer: capture.peer }]);
        expectDjangoEvents(processed, { capturedWith: django ?? "", capturedAt, hostname: os.hostname(), serviceName: source.name, records: DJANGO_RECORDS, withIds: true }, source);
        // Every record has its own id.
        expect(new Set(processed.map((p) => p.event.get("[event][id]"))).size).toBe(DJANGO_RECORDS.length);
    });

    test("refuses a Logstash certificate from another CA: nothing is sent, the app carries on", async () => {
        const refused = await captureDjango({ serviceName: source.name, records: DJANGO_RECORDS.slice(0, 2), foreignCa: true, timeoutMs: 30_000 });
        expect(refused.stream.length).toBe(0);
        expect(refused.handshakeErrors.length).toBeGreaterThan(0);
        expect(refused.run.exitCode).toBe(0);
        expect(refused.run.stderr).toMatch(/cannot deliver logs to localhost:\d+ \(.*CERTIFICATE_VERIFY_FAILED/);
    }, 60_000);

    test("does not block or fail the app when Logstash is down", async () => {
        const port = await closedPort();
        const run = await runDjangoApp({ serviceName: source.name, host: "127.0.0.1", port, caPath: "/nonexistent/ca.crt", records: DJANGO_RECORDS, timeoutMs: 30_000 });
        expect(run.exitCode).toBe(0);
        expect(run.stdout).toContain(`logged ${DJANGO_RECORDS.length} records`);
        expect(run.stderr).toMatch(/cannot deliver logs to 127\.0\.0\.1:\d+ .*will retry/);
        expect(run.stderr).not.toContain("Traceback");
        // Bounded by the handler's close timeout (5 s) at exit, however many records wait.
        expect(run.elapsedMs).toBeLessThan(15_000);
    }, 60_000);
});
