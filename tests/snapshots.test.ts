/**
 * The snapshot repository and lifecycle policy the bootstrap installs, request by request, and the real bootstrap
 * script run twice against the fake Elasticsearch over TLS: same requests, no error, nothing new the second time.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { bootstrapPlan, bootstrapPlanFiles } from "../components/model/bootstrap";
import { stageBootstrap } from "./support/curlStep";
import { parseStackConfig } from "../components/model/config";
import { elasticsearchSettings } from "../components/model/elasticsearch";
import {
    SNAPSHOT_PATH,
    SNAPSHOT_REPOSITORY,
    type SnapshotSettings,
    scheduleIntervalHours,
    snapshotPolicyBody,
    snapshotRequests,
} from "../components/model/snapshots";
import { type FakeElasticsearch, makeTestPki, startFakeElasticsearch } from "./support/fakeElasticsearch";
import { fakeSnapshotApis } from "./support/fakeSnapshotApis";
import { stackFileConfig } from "./support/program";
import { runScript } from "./support/runScript";

const PROD: SnapshotSettings = { environment: "prod", schedule: "daily", retentionDays: 30 };
const DEV: SnapshotSettings = { environment: "dev", schedule: "off", retentionDays: 30 };

describe("snapshot requests", () => {
    test("daily, kept 30 days: the repository, then the policy, exactly", () => {
        expect(snapshotRequests(PROD).map((r) => ({ method: r.method, path: r.path, body: r.body, okStatus: r.okStatus }))).toEqual([
            { method: "PUT", path: "/_snapshot/elk-snapshots", body: { type: "fs", settings: { location: "/usr/share/elasticsearch/snapshots", compress: true } }, okStatus: [200] },
            {
                method: "PUT",
                path: "/_slm/policy/elk-snapshots-prod",
                body: {
                    schedule: "0 30 1 * * ?",
                    name: "<elk-prod-{now/d}>",
                    repository: "elk-snapshots",
                    config: { indices: ["logs-*-prod"], include_global_state: false, ignore_unavailable: true },
                    retention: { expire_after: "30d", min_count: 1 },
                },
                okStatus: [200],
            },
        ]);
    });

    test("off: the repository stays registered and the policy is removed; 404 (no policy) is success", () => {
        const [repo, policy] = snapshotRequests(DEV);
        expect(repo.path).toBe("/_snapshot/elk-snapshots");
        expect(policy).toMatchObject({ method: "DELETE", path: "/_slm/policy/elk-snapshots-dev", okStatus: [200, 404] });
        expect(policy.body).toBeUndefined();
    });

    test("schedules: cron expressions and intervals", () => {
        expect(snapshotPolicyBody({ ...PROD, schedule: "hourly" }).schedule).toBe("0 0 * * * ?");
        expect(snapshotPolicyBody({ ...PROD, schedule: "weekly" }).schedule).toBe("0 30 1 ? * SUN");
        expect([scheduleIntervalHours("hourly"), scheduleIntervalHours("daily"), scheduleIntervalHours("weekly"), scheduleIntervalHours("off")]).toEqual([1, 24, 168, undefined]);
        expect(() => snapshotPolicyBody(DEV)).toThrow(/schedule is off/);
        expect(() => snapshotPolicyBody({ ...PROD, retentionDays: 0 })).toThrow(/whole number of days/);
    });

    test("elasticsearch.yml lists the repository's path in path.repo only when the node mounts it", () => {
        const base = { clusterName: "elk", nodeName: "es01", masterNodes: ["es01"] };
        expect(elasticsearchSettings({ ...base, snapshotRepository: true })["path.repo"]).toEqual([SNAPSHOT_PATH]);
        expect(elasticsearchSettings(base)["path.repo"]).toBeUndefined();
    });

    test("config: off by default, daily in the prod stack file; a Kubernetes schedule needs a shared storage class", () => {
        const parse = (values: Record<string, string>) => parseStackConfig({ project: "elk-stack", stack: "dev", get: (k) => values[k] });
        expect(parse({}).snapshots).toEqual({ repository: true, schedule: "off", retentionDays: 30, storageGb: 50, storageClass: undefined });
        expect(parse({ target: "kubernetes" }).snapshots.repository).toBe(false);
        expect(() => parse({ target: "kubernetes", snapshotSchedule: "daily" })).toThrow(/elk-stack:snapshotSchedule.*needs elk-stack:snapshotStorageClass.*Fix: set snapshotStorageClass/);
        expect(() => parse({ snapshotSchedule: "nightly" })).toThrow(/elk-stack:snapshotSchedule.*unknown schedule 'nightly'.*off, hourly, daily, weekly/);
        expect(parse({ target: "kubernetes", snapshotSchedule: "daily", snapshotStorageClass: "nfs" }).snapshots).toMatchObject({ repository: true, schedule: "daily" });
        const prod = parseStackConfig({ project: "elk-stack", stack: "prod", get: (k) => stackFileConfig("prod")[k] });
        expect(prod.snapshots).toMatchObject({ repository: true, schedule: "daily", retentionDays: 30 });
        expect(parseStackConfig({ project: "elk-stack", stack: "dev", get: (k) => stackFileConfig("dev")[k] }).snapshots.schedule).toBe("off");
    });
});

describe("the bootstrap script with the snapshot requests, against a fake Elasticsearch over TLS", () => {
    const PASSWORD = "Elastic-Pw-8Kd2mQ7s";
    let dir = "";
    let es: FakeElasticsearch | undefined;
    /** Elasticsearch's semantics; it creates only an fs repository under path.repo. */
    const { override: snapshotApis, repositories, policies, created } = fakeSnapshotApis((name, body) =>
        body.type !== "fs" || body.settings?.location !== SNAPSHOT_PATH
            ? `[${name}] location [${String(body.settings?.location)}] doesn't match any of the locations specified by path.repo`
            : undefined,
    );

    beforeAll(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "elk-snapshots-test-"));
        const pki = await makeTestPki(dir);
        es = await startFakeElasticsearch({ cert: pki.serverCert, key: pki.serverKey, elasticPassword: PASSWORD, override: snapshotApis });
        fs.writeFileSync(path.join(dir, "ca.crt"), fs.readFileSync(pki.caCert));
    }, 60_000);

    afterAll(async () => {
        await es?.close();
        if (dir !== "") fs.rmSync(dir, { recursive: true, force: true });
    });

    async function runBootstrap(settings: SnapshotSettings) {
        const server = es as FakeElasticsearch;
        const plan = [...bootstrapPlan({ logstashUser: "logstash_writer", logstashRole: "elk_logstash_writer", logstashIndexPatterns: [`logs-*-${settings.environment}`] }), ...snapshotRequests(settings)];
        const step = stageBootstrap(
            path.join(dir, `bootstrap-${settings.environment}-${settings.schedule}`),
            bootstrapPlanFiles(plan),
            { url: server.url, ca: path.join(dir, "ca.crt") },
            { elastic: PASSWORD, kibanaSystem: "Kibana-Sys-Pw-1234", logstash: "Logstash-Pw-5678" },
        );
        const before = server.requests.length;
        const result = await runScript(step.scriptPath, step.env());
        const sent = server.requests.slice(before).filter((r) => r.path.startsWith("/_snapshot") || r.path.startsWith("/_slm"));
        return { result, sent: sent.map((r) => ({ method: r.method, path: r.path, body: r.body, status: r.status })) };
    }

    test("prod (daily): each request as planned; a second run sends the same bodies, succeeds and creates nothing", async () => {
        const expected = snapshotRequests(PROD).map((r) => ({ method: r.method, path: r.path, body: r.body, status: 200 }));
        const first = await runBootstrap(PROD);
        expect(first.result).toMatchObject({ code: 0, stderr: "", timedOut: false });
        expect(first.sent).toEqual(expected);
        expect(first.result.stdout).toContain(`elk-bootstrap: ok (200): create or update snapshot policy elk-snapshots-prod (daily, kept 30 days)\n`);
        const stored = { repositories: new Map(repositories), policies: new Map(policies) };

        const second = await runBootstrap(PROD);
        expect(second.result).toMatchObject({ code: 0, stderr: "" });
        expect(second.result.stdout).toBe(first.result.stdout);
        expect(second.sent).toEqual(expected);
        expect(created).toEqual(["/_snapshot/elk-snapshots", "/_slm/policy/elk-snapshots-prod"]);
        expect(repositories).toEqual(stored.repositories);
        expect(policies).toEqual(stored.policies);
        expect(JSON.parse(policies.get("elk-snapshots-prod") ?? "{}")).toEqual(snapshotPolicyBody(PROD));
    }, 60_000);

    test("dev (off): the policy is removed when present and a second run accepts its absence (404)", async () => {
        policies.set("elk-snapshots-dev", "{}");
        const first = await runBootstrap(DEV);
        expect(first.result).toMatchObject({ code: 0, stderr: "" });
        expect(first.sent.map((r) => [r.method, r.path, r.status])).toEqual([
            ["PUT", `/_snapshot/${SNAPSHOT_REPOSITORY}`, 200],
            ["DELETE", "/_slm/policy/elk-snapshots-dev", 200],
        ]);
        expect(policies.has("elk-snapshots-dev")).toBe(false);
        const second = await runBootstrap(DEV);
        expect(second.result).toMatchObject({ code: 0, stderr: "" });
        expect(second.sent.map((r) => [r.method, r.path, r.status])).toEqual([
            ["PUT", `/_snapshot/${SNAPSHOT_REPOSITORY}`, 200],
            ["DELETE", "/_slm/policy/elk-snapshots-dev", 404],
        ]);
        expect(second.result.stdout).toContain("elk-bootstrap: ok (404): remove snapshot policy elk-snapshots-dev (schedule off)");
    }, 60_000);
});
