/**
 * `verify` against local stand-ins on 127.0.0.1: an HTTPS Elasticsearch with a certificate of a test CA, and a
 * Logstash (UDP + TLS) that runs what arrives through the repository's real pipelines and makes the events
 * searchable after a delay. Covers the happy path (with the lines parsed by the real grok patterns into the
 * right data streams), a wrong CA, a wrong password, missing templates and policy, a retention that differs
 * from config, and events that never arrive (bounded wait, message says how many are missing). The CLI's
 * flag and stack-output handling is checked too.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { dataStreamTemplates, indexingRequests, lifecyclePolicy, lifecyclePolicyName } from "../components/model/indexing";
import { type LogSource, parseLogSources } from "../components/model/sources";
import { type VerifyOptions, certificateProblems, djangoTestLine, formatReport, nginxTestLine, quantile, verify } from "../components/operations/verify";
import { UsageError, parseFlags, resolveOptions, splitHostPort } from "../scripts/verify";
import { type TestPki, makeTestPki } from "./support/fakeElasticsearch";
import { type FakeEsState, type FakeLogstash, type FakeVerifyEs, startFakeLogstash, startFakeVerifyEs } from "./support/fakeStack";

const ENVIRONMENT = "dev";
const SOURCES: LogSource[] = parseLogSources(["nginx:web", "django:app", "django:billing-api"]);
const PASSWORD = "Verify-Pw-9xQ2mL4k";

/** The state the bootstrap leaves: every policy and template of indexingRequests. */
function installedState(): FakeEsState {
    const state: FakeEsState = { policies: new Map(), componentTemplates: new Set(), indexTemplates: new Set(), documents: [], healthStatus: "green" };
    for (const r of indexingRequests({ environment: ENVIRONMENT, retentionDays: 7, sources: SOURCES, nodeCount: 1 })) {
        const [, kind, name] = r.path.split("/");
        const decoded = decodeURIComponent(name);
        if (kind === "_ilm") state.policies.set(decodeURIComponent(r.path.split("/")[3]), (r.body as { policy: unknown }).policy);
        if (kind === "_component_template") state.componentTemplates.add(decoded);
        if (kind === "_index_template") state.indexTemplates.add(decoded);
    }
    return state;
}

describe("verify against a fake stack on 127.0.0.1", () => {
    let dir = "";
    let pki: TestPki;
    let ca = "";
    const closers: (() => Promise<void>)[] = [];

    beforeAll(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "elk-verify-test-"));
        pki = await makeTestPki(dir);
        ca = fs.readFileSync(pki.caCert, "utf8");
    }, 60_000);

    afterEach(async () => {
        await Promise.all(closers.splice(0).map((c) => c()));
    });

    afterAll(() => {
        if (dir !== "") fs.rmSync(dir, { recursive: true, force: true });
    });

    async function stack(opts: { state?: FakeEsState; delayMs?: number; deliver?: (kind: LogSource["kind"]) => boolean; logstashCert?: { cert: string; key: string } } = {}): Promise<{ es: FakeVerifyEs; logstash: FakeLogstash; options: VerifyOptions }> {
        const es = await startFakeVerifyEs({ cert: pki.serverCert, key: pki.serverKey, password: PASSWORD, state: opts.state ?? installedState() });
        closers.push(() => es.close());
        const logstash = await startFakeLogstash({ ...(opts.logstashCert ?? { cert: pki.serverCert, key: pki.serverKey }), sources: SOURCES, environment: ENVIRONMENT, es, delayMs: opts.delayMs ?? 300, deliver: opts.deliver });
        closers.push(() => logstash.close());
        const options: VerifyOptions = {
            esUrl: es.url,
            ca,
            caSource: "test CA",
            user: "elastic",
            password: PASSWORD,
            environment: ENVIRONMENT,
            retentionDays: 7,
            sources: SOURCES.map((s) => ({ name: s.name, kind: s.kind, dataset: s.dataset, host: "localhost", port: s.kind === "nginx" ? logstash.nginxPort : (logstash.djangoPorts.get(s.name) ?? 0) })),
            countPerSource: 10,
            timeoutMs: 8_000,
            pollIntervalMs: 100,
            requestTimeoutMs: 5_000,
        };
        return { es, logstash, options };
    }

    it("checks health, templates and policy, sends marked lines that the real pipelines parse, and measures latency", async () => {
        const { es, logstash, options } = await stack({ delayMs: 300 });
        const report = await verify(options);

        expect(report.problems).toEqual([]);
        expect(report).toMatchObject({ ok: true, clusterStatus: "green", sent: 30, found: 30 });
        expect(report.timing?.medianMs).toBeGreaterThanOrEqual(300);
        expect(report.timing?.p95Ms).toBeGreaterThanOrEqual(report.timing?.medianMs ?? Infinity);
        expect(report.timing?.p95Ms).toBeLessThan(5_000);
        expect(report.timing?.eventsPerSecond).toBeGreaterThan(0);

        // What it asked Elasticsearch: health, the policy, every component and index template by name, then searches.
        const templates = dataStreamTemplates({ environment: ENVIRONMENT, sources: SOURCES });
        expect(es.requests.slice(0, 2)).toEqual(["GET /_cluster/health", `GET /_ilm/policy/${lifecyclePolicyName(ENVIRONMENT)}`]);
        for (const t of templates) expect(es.requests).toContain(`GET /_index_template/${t.name}`);
        expect(es.requests[es.requests.length - 1]).toBe(`POST /logs-*-${ENVIRONMENT}/_search`);
        // Each of them one Elasticsearch 9.4 accepts (tests/support/esRestApi.ts).
        expect(es.refusals).toEqual([]);

        // The real pipelines put every line in its source's stream, parsed, not in the parse-failure stream.
        const marked = es.state.documents.filter((d) => String(d.source.message).includes(report.marker ?? "?"));
        expect(marked).toHaveLength(30);
        for (const s of SOURCES) expect(marked.filter((d) => d.index === `logs-${s.dataset}-${ENVIRONMENT}`)).toHaveLength(10);
        const web = marked.find((d) => d.index === "logs-nginx.web-dev")?.source as { http: { response: { status_code: number } }; service: { name: string } };
        expect(web.http.response.status_code).toBe(204);
        expect(web.service.name).toBe("web");
        expect(logstash.received.filter((r) => r.kind === "nginx")).toHaveLength(10);
        // Django lines arrive on one TLS connection per source, one record a line.
        expect(logstash.received.filter((r) => r.kind === "django").map((r) => r.data.split("\n").length - 1)).toEqual([10, 10]);

        const lines = formatReport(report);
        expect(lines[lines.length - 1]).toBe("verify: OK");
        expect(lines.join("\n")).toMatch(/latency to searchable: median \d+ ms, p95 \d+ ms\nthroughput: [\d.]+ events\/s/);
    }, 30_000);

    it("names a CA that does not vouch for Elasticsearch, and sends nothing", async () => {
        const { logstash, options } = await stack();
        const report = await verify({ ...options, ca: fs.readFileSync(pki.rogueCaCert, "utf8"), caSource: "rogue.crt" });
        expect(report.ok).toBe(false);
        expect(report.problems).toHaveLength(1);
        expect(report.problems[0]).toMatch(/^Elasticsearch at https:\/\/127\.0\.0\.1:\d+ presented a certificate that the CA from rogue\.crt does not vouch for/);
        expect(report.problems[0]).toContain("pulumi stack output caCertificate");
        expect(logstash.received).toEqual([]);
    }, 30_000);

    it("says when the password is refused", async () => {
        const { options } = await stack();
        const report = await verify({ ...options, password: "wrong-password" });
        expect(report.problems).toEqual([expect.stringContaining("refused user 'elastic' (HTTP 401)")]);
    }, 30_000);

    it("names every missing template and the missing policy, and sends nothing", async () => {
        const state = installedState();
        state.indexTemplates.delete("elk-logs-django.app-dev");
        state.componentTemplates.delete("elk-logs-nginx@mappings");
        state.policies.delete("elk-logs-dev");
        const { logstash, options } = await stack({ state });
        const report = await verify(options);
        expect(report.ok).toBe(false);
        expect(report.problems).toEqual([
            "missing lifecycle policy elk-logs-dev. Run pulumi up: the bootstrap installs it.",
            "missing component template elk-logs-nginx@mappings. Run pulumi up: the bootstrap installs it.",
            "missing index template elk-logs-django.app-dev (for data stream logs-django.app-dev). Run pulumi up: the bootstrap installs it.",
        ]);
        expect(report.sent).toBe(0);
        expect(logstash.received).toEqual([]);
        expect(formatReport(report).pop()).toBe("verify: FAILED (3 problems)");
    }, 30_000);

    it("reports the last successful snapshot's age, ignoring newer failed ones; OK within twice the schedule", async () => {
        const now = Date.parse("2026-11-30T06:00:00Z");
        const state = installedState();
        const hour = 3_600_000;
        state.snapshots = [
            { name: "elk-dev-2026.11.29-ok", state: "SUCCESS", startMillis: now - 30 * hour, endMillis: now - 29.5 * hour },
            { name: "elk-dev-2026.11.30-failed", state: "FAILED", startMillis: now - 5 * hour, endMillis: now - 4.9 * hour },
        ];
        const { es, options } = await stack({ state });
        const report = await verify({ ...options, snapshots: { repository: "elk-snapshots", intervalHours: 24 }, now });
        expect(report.problems).toEqual([]);
        expect(report.lastSnapshot).toEqual({ name: "elk-dev-2026.11.29-ok", ageHours: 29.5 });
        expect(es.requests).toContain("GET /_snapshot/elk-snapshots/_all");
        expect(formatReport(report)).toContain("last successful snapshot: elk-dev-2026.11.29-ok, 29.5 h old");
    }, 30_000);

    it("fails when the last successful snapshot is older than twice the schedule, or there is none, or no repository", async () => {
        const now = Date.parse("2026-11-30T06:00:00Z");
        const state = installedState();
        state.snapshots = [{ name: "elk-dev-old", state: "SUCCESS", startMillis: now - 49 * 3_600_000, endMillis: now - 48.5 * 3_600_000 }];
        const { options } = await stack({ state });
        const old = await verify({ ...options, countPerSource: 1, snapshots: { repository: "elk-snapshots", intervalHours: 24 }, now });
        expect(old.ok).toBe(false);
        expect(old.problems).toEqual(["the last successful snapshot (elk-dev-old) is 48.5 h old, more than twice the schedule's 24 h: scheduled snapshots are failing (GET _slm/policy shows last_failure)."]);

        state.snapshots = [];
        const none = await verify({ ...options, countPerSource: 1, snapshots: { repository: "elk-snapshots", intervalHours: 24 }, now });
        expect(none.problems).toEqual([expect.stringMatching(/^no successful snapshot in repository elk-snapshots, though the schedule takes one every 24 h/)]);
        // Without a schedule, no snapshot is no problem.
        expect((await verify({ ...options, countPerSource: 1, snapshots: { repository: "elk-snapshots" }, now })).problems).toEqual([]);

        state.snapshots = undefined;
        const missing = await verify({ ...options, countPerSource: 1, snapshots: { repository: "elk-snapshots", intervalHours: 24 }, now });
        expect(missing.problems).toEqual(["snapshot repository elk-snapshots is missing. Run pulumi up: the bootstrap registers it."]);
    }, 60_000);

    it("reports a retention that differs from config", async () => {
        const state = installedState();
        state.policies.set("elk-logs-dev", (lifecyclePolicy(30) as { policy: unknown }).policy);
        const { options } = await stack({ state });
        const report = await verify(options);
        expect(report.problems).toEqual(["lifecycle policy elk-logs-dev deletes after 30d, not 7d as configured. Run pulumi up: the bootstrap installs it."]);
    }, 30_000);

    it("waits a bounded time for events that never arrive and says how many are missing, per source", async () => {
        const { options } = await stack({ deliver: (kind) => kind !== "nginx" });
        const started = Date.now();
        const report = await verify({ ...options, timeoutMs: 1_500 });
        const elapsed = Date.now() - started;
        expect(elapsed).toBeGreaterThanOrEqual(1_500);
        expect(elapsed).toBeLessThan(6_000);
        expect(report).toMatchObject({ ok: false, sent: 30, found: 20 });
        expect(report.problems).toEqual([expect.stringMatching(/^10 of 10 events sent to nginx:web \(localhost:\d+\) were not searchable in logs-\*-dev after 2 s\.$/)]);
    }, 30_000);

    it("reports a Logstash port that refuses the connection, and still checks the others", async () => {
        const { options } = await stack();
        const closed = options.sources.map((s) => (s.name === "app" ? { ...s, port: 1 } : s));
        const report = await verify({ ...options, sources: closed, timeoutMs: 3_000 });
        expect(report.ok).toBe(false);
        expect(report.problems).toEqual([expect.stringMatching(/^cannot send to Logstash \(django:app at localhost:1\): .*ECONNREFUSED/)]);
        expect(report).toMatchObject({ sent: 20, found: 20 });
    }, 30_000);

    it("refuses a Logstash certificate that does not name the host it is dialled by", async () => {
        // Signed by the right CA, but for es01 only: dialled as localhost, the Django connections are refused.
        const { logstash, options } = await stack({ logstashCert: { cert: pki.es01OnlyCert, key: pki.es01OnlyKey } });
        const report = await verify({ ...options, timeoutMs: 2_000 });
        expect(report.problems).toEqual([
            expect.stringMatching(/^Logstash \(django:app at localhost:\d+\) presented a certificate that the CA from test CA does not vouch for under the name localhost/),
            expect.stringMatching(/^Logstash \(django:billing-api at localhost:\d+\) presented a certificate/),
        ]);
        expect(logstash.received.filter((r) => r.kind === "django")).toEqual([]);
        expect(report).toMatchObject({ sent: 10, found: 10 });
    }, 30_000);
});

describe("verify's test lines", () => {
    const at = new Date(2025, 4, 1, 9, 5, 7, 123);
    it("are nginx's RFC 3164 access line in the source's log_format, and Django's RFC 5424 line", () => {
        expect(nginxTestLine("web", "m-1", at, "host1")).toBe(
            `<190>May  1 09:05:07 host1 nginx_access: web ${(at.getTime() / 1000).toFixed(3)} 127.0.0.1 "-" "GET" "/elk-verify/m-1" "HTTP/1.1" 204 0 0 0.000 "-" "elk-stack-verify" "localhost" "https" "m-1" "-" "-" "-"`,
        );
        expect(djangoTestLine("app", "m-2", at, "host1")).toMatch(
            new RegExp(`^<14>1 ${at.toISOString().replace(/[.]/g, "\\.")} host1 app \\d+ elk\\.verify \\[elk@32473 level="INFO" logger="elk\\.verify" file="verify\\.ts" line="1" function="verify" thread="MainThread"\\] \\ufeffelk-stack verify event m-2\\n$`),
        );
    });

    it("quantile uses the nearest rank", () => {
        expect(quantile([10, 20, 30, 40], 0.5)).toBe(20);
        expect(quantile([10, 20, 30, 40], 0.95)).toBe(40);
        expect(quantile([5], 0.95)).toBe(5);
        expect(quantile([], 0.5)).toBeNaN();
    });
});

describe("certificate expiry", () => {
    const now = Date.parse("2026-11-30T00:00:00Z");
    it("reports the days left, and fails when expired or a week into the renewal window without a renewal", () => {
        expect(certificateProblems({ earliestExpiry: "2027-06-01T00:00:00Z", renewBeforeDays: 30 }, now)).toEqual({ problems: [], daysLeft: 183 });
        expect(certificateProblems({ earliestExpiry: "2026-12-25T00:00:00Z", renewBeforeDays: 30 }, now)).toEqual({ problems: [], daysLeft: 25 });
        const late = certificateProblems({ earliestExpiry: "2026-12-20T00:00:00Z", renewBeforeDays: 30 }, now);
        expect(late.problems).toEqual([expect.stringMatching(/expires on 2026-12-20T00:00:00Z \(20\.0 days\), inside the 30-day renewal window for over a week: is the renew workflow running\?/)]);
        expect(certificateProblems({ earliestExpiry: "2026-11-29T00:00:00Z", renewBeforeDays: 30 }, now).problems).toEqual(["a certificate of the stack expired on 2026-11-29T00:00:00Z: run pulumi up to issue new ones."]);
        expect(certificateProblems({ earliestExpiry: "soon", renewBeforeDays: 30 }, now).problems[0]).toMatch(/is not a date/);
        expect(certificateProblems(undefined, now)).toEqual({ problems: [] });
    });
});

describe("verify CLI options", () => {
    const outputs = {
        elasticsearchUrl: "https://localhost:9200",
        caCertificate: "CA-FROM-OUTPUTS",
        elasticUser: "elastic",
        elasticPassword: "pw-from-outputs",
        environment: "dev",
        logRetentionDays: 7,
        logSources: SOURCES,
        logstashEndpoints: { nginxSyslog: "localhost:5140", django: { app: "localhost:5141", "billing-api": "localhost:5142" } },
    };

    it("takes everything from the stack outputs", () => {
        const o = resolveOptions(parseFlags([]), () => outputs, {});
        expect(o).toMatchObject({ esUrl: "https://localhost:9200", ca: "CA-FROM-OUTPUTS", caSource: "stack output caCertificate", password: "pw-from-outputs", environment: "dev", retentionDays: 7, countPerSource: 20, timeoutMs: 60_000 });
        expect(o.sources.map((s) => `${s.kind}:${s.name}@${s.host}:${s.port}`)).toEqual(["nginx:web@localhost:5140", "django:app@localhost:5141", "django:billing-api@localhost:5142"]);
    });

    it("takes the snapshot schedule and the certificate expiry from the outputs, and skips both for older stacks", () => {
        const withNew = { ...outputs, snapshots: { repository: "elk-snapshots", policy: "elk-snapshots-dev", schedule: "daily", intervalHours: 24, retentionDays: 30 }, certificates: { earliestExpiry: "2027-01-01T00:00:00.000Z", renewBeforeDays: 30 } };
        expect(resolveOptions(parseFlags([]), () => withNew, {})).toMatchObject({ snapshots: { repository: "elk-snapshots", intervalHours: 24 }, certificates: withNew.certificates });
        expect(resolveOptions(parseFlags([]), () => outputs, {})).toMatchObject({ snapshots: undefined, certificates: undefined });
    });

    it("lets flags and ELASTIC_PASSWORD override outputs", () => {
        const flags = parseFlags(["--es-url", "https://es.example:9200", "--logstash-host=10.0.0.5", "--nginx-port", "15140", "--django-port", "billing-api=15142", "--django-port", "15141", "--count", "5", "--timeout", "9"]);
        const o = resolveOptions(flags, () => outputs, { ELASTIC_PASSWORD: "pw-from-env" });
        expect(o).toMatchObject({ esUrl: "https://es.example:9200", password: "pw-from-env", countPerSource: 5, timeoutMs: 9_000 });
        expect(o.sources.map((s) => `${s.name}@${s.host}:${s.port}`)).toEqual(["web@10.0.0.5:15140", "app@10.0.0.5:15141", "billing-api@10.0.0.5:15142"]);
    });

    it("does not read the outputs when the flags say everything", () => {
        const flags = parseFlags(["--es-url", "https://localhost:9200", "--ca", "/ca.crt", "--password-file", "/pw", "--environment", "prod", "--logstash-host", "localhost", "--sources", "nginx:web,django:app"]);
        const o = resolveOptions(flags, () => { throw new Error("outputs read"); }, {}, (p) => (p === "/pw" ? "pw from file\n" : `PEM of ${p}`));
        expect(o).toMatchObject({ ca: "PEM of /ca.crt", caSource: "/ca.crt", environment: "prod", retentionDays: undefined, user: "elastic", password: "pw from file" });
        expect(o.sources.map((s) => `${s.name}:${s.port}`)).toEqual(["web:5140", "app:5141"]);
    });

    it("refuses a password on the command line, and says how to give it instead", () => {
        for (const argv of [["--password", "p"], ["--password=p"]]) {
            expect(() => resolveOptions(parseFlags(argv), () => outputs, {})).toThrow(new UsageError("--password puts the password on the command line, where ps shows it to every user: write it to a file only you can read and pass --password-file FILE"));
        }
        expect(() => resolveOptions(parseFlags(["--password-file", "/nope"]), () => outputs, {}, () => { throw new Error("ENOENT"); })).toThrow("cannot read --password-file /nope: ENOENT");
    });

    it("fails with a usage error naming what is missing or wrong", () => {
        expect(() => resolveOptions(parseFlags([]), () => ({ ...outputs, environment: undefined }), {})).toThrow(new UsageError("no environment: pass --environment or deploy a stack with output 'environment'"));
        expect(() => parseFlags(["--bogus", "1"])).toThrow("unknown flag --bogus");
        expect(() => parseFlags(["--count"])).toThrow("--count needs a value");
        expect(() => resolveOptions(parseFlags(["--count", "0"]), () => outputs, {})).toThrow("--count must be a whole number from 1 to 10000, got '0'");
        expect(() => resolveOptions(parseFlags(["--ca", "/nope"]), () => outputs, {}, () => { throw new Error("ENOENT"); })).toThrow("cannot read --ca /nope: ENOENT");
        expect(splitHostPort("[::1]:5140")).toEqual({ host: "::1", port: 5140 });
        expect(() => splitHostPort("localhost")).toThrow("'localhost' is not host:port");
    });
});
