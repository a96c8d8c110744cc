/**
 * `npm run snapshot` and `npm run restore` (scripts/snapshot.ts with the official client) against a fake
 * Elasticsearch over TLS on 127.0.0.1: a snapshot that succeeds and one that fails, a restore refused because data
 * streams are open, forced, partial (--indices), slow (progress lines, then the count), and refused by Elasticsearch.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { manualSnapshotName, matchesPattern } from "../components/snapshotOps";
import { runCommand } from "../scripts/snapshot";
import type { StackOutputs } from "../scripts/verify";
import { makeTestPki } from "./support/fakeElasticsearch";
import { type FakeSnapshotEs, addDataStream, startFakeSnapshotEs } from "./support/fakeSnapshotEs";

const PASSWORD = "Elastic-Pw-2Vn7cX4q";
const REPOSITORY = "elk-snapshots";

describe("snapshot and restore against a fake Elasticsearch", () => {
    let dir = "";
    let ca = "";
    let cert = "";
    let key = "";
    const servers: FakeSnapshotEs[] = [];

    beforeAll(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "elk-snapshot-restore-"));
        const pki = await makeTestPki(dir);
        ca = fs.readFileSync(pki.caCert, "utf8");
        cert = pki.serverCert;
        key = pki.serverKey;
    }, 60_000);

    afterAll(async () => {
        await Promise.all(servers.map((s) => s.close()));
        if (dir !== "") fs.rmSync(dir, { recursive: true, force: true });
    });

    /** A fake with nginx:web (1200 documents) and django:app (300) in environment dev. */
    async function fake(): Promise<FakeSnapshotEs> {
        const es = await startFakeSnapshotEs({ cert, key, password: PASSWORD, repository: REPOSITORY });
        servers.push(es);
        addDataStream(es.state, "logs-nginx.web-dev", 1200);
        addDataStream(es.state, "logs-django.app-dev", 300);
        return es;
    }

    /** Runs a command as the CLI does, with stack outputs pointing at the fake; collects its output. */
    async function run(command: "take" | "restore", es: FakeSnapshotEs, argv: string[] = []) {
        const outputs: StackOutputs = {
            elasticsearchUrl: es.url,
            caCertificate: ca,
            elasticUser: "elastic",
            elasticPassword: PASSWORD,
            environment: "dev",
            snapshots: { repository: REPOSITORY, schedule: "off", retentionDays: 30 },
        };
        const out: string[] = [];
        const err: string[] = [];
        const code = await runCommand(command, argv, { readOutputs: () => outputs, env: {}, out: (l) => out.push(l), err: (l) => err.push(l), pollIntervalMs: 20 });
        return { code, out, err };
    }

    /** Takes a snapshot of the fake's current data and returns its name. */
    async function snapshotOf(es: FakeSnapshotEs): Promise<string> {
        const r = await run("take", es);
        expect(r.code).toBe(0);
        return [...es.state.snapshots.keys()].pop() as string;
    }

    test("snapshot: starts one of logs-*-dev, prints shard progress while it runs, and ends with SUCCESS", async () => {
        const es = await fake();
        es.state.snapshotPolls = 3;
        const r = await run("take", es);
        expect(r.err).toEqual([]);
        expect(r.code).toBe(0);
        const [name] = [...es.state.snapshots.keys()];
        expect(name).toMatch(/^elk-dev-manual-\d{8}-\d{6}$/);
        expect(es.state.snapshots.get(name)?.dataStreams.sort()).toEqual(["logs-django.app-dev", "logs-nginx.web-dev"]);
        expect(r.out[0]).toBe(`snapshot: snapshot ${name}: started (logs-*-dev into ${REPOSITORY})`);
        const progress = r.out.filter((l) => / shards done$/.test(l));
        expect(progress.length).toBeGreaterThanOrEqual(2);
        expect(r.out[r.out.length - 1]).toBe(`snapshot: snapshot ${name}: SUCCESS, 2 indices, 2 of 2 shards`);
        expect(es.requests[0]).toBe(`PUT /_snapshot/${REPOSITORY}/${name}`);
    });

    test("snapshot: a snapshot that ends FAILED exits 1 with the shards' reasons", async () => {
        const es = await fake();
        es.state.snapshotOutcome = "FAILED";
        const r = await run("take", es);
        expect(r.code).toBe(1);
        expect(r.err).toHaveLength(1);
        expect(r.err[0]).toMatch(/^snapshot: FAILED: snapshot elk-dev-manual-\S+ ended FAILED: 2 of 2 shards failed \(.*disk full/);
    });

    test("restore: refuses to overwrite open data streams without --force, and changes nothing", async () => {
        const es = await fake();
        const name = await snapshotOf(es);
        es.requests.length = 0;
        const r = await run("restore", es, ["--snapshot", name]);
        expect(r.code).toBe(1);
        expect(r.err[0]).toBe("restore: FAILED: refusing to overwrite open data streams or indices: logs-nginx.web-dev, logs-django.app-dev. Pass --force to delete them (their current documents are lost) and restore the snapshot's instead, or restore others with --indices");
        expect(es.requests.filter((q) => !q.startsWith("GET "))).toEqual([]);
        expect([...es.state.dataStreams.keys()].sort()).toEqual(["logs-django.app-dev", "logs-nginx.web-dev"]);
    });

    test("restore --force: replaces the open data streams with the snapshot's and counts indices and documents", async () => {
        const es = await fake();
        const name = await snapshotOf(es);
        // After the snapshot, documents change: the restore must bring back the snapshot's 1200 + 300.
        es.state.indices.get(".ds-logs-nginx.web-dev-2026.11.30-000001")!.docs = 5;
        const r = await run("restore", es, ["--snapshot", name, "--force"]);
        expect(r.err).toEqual([]);
        expect(r.code).toBe(0);
        expect(r.out).toContain(`restore: restore ${name}: deleted data stream logs-nginx.web-dev (--force)`);
        expect(r.out).toContain(`restore: restore ${name}: deleted data stream logs-django.app-dev (--force)`);
        expect(r.out[r.out.length - 1]).toBe(`restore: restore ${name}: restored 2 indices (2 data streams), 1500 documents`);
        expect(es.state.indices.get(".ds-logs-nginx.web-dev-2026.11.30-000001")?.docs).toBe(1200);
    });

    test("partial restore with --indices: only the matching data stream comes back; others stay as they are", async () => {
        const es = await fake();
        const name = await snapshotOf(es);
        es.state.dataStreams.delete("logs-django.app-dev");
        es.state.indices.delete(".ds-logs-django.app-dev-2026.11.30-000001");
        es.state.indices.get(".ds-logs-nginx.web-dev-2026.11.30-000001")!.docs = 1250;
        const r = await run("restore", es, ["--snapshot", name, "--indices", "logs-django.*-dev"]);
        expect(r.err).toEqual([]);
        expect(r.code).toBe(0);
        expect(r.out[0]).toBe(`restore: restore ${name}: 1 data streams and 0 indices match logs-django.*-dev`);
        expect(r.out[r.out.length - 1]).toBe(`restore: restore ${name}: restored 1 indices (1 data streams), 300 documents`);
        // nginx was neither deleted nor rolled back.
        expect(es.state.indices.get(".ds-logs-nginx.web-dev-2026.11.30-000001")?.docs).toBe(1250);
        expect(es.requests.some((q) => q.startsWith("DELETE"))).toBe(false);
    });

    test("a slow restore prints its progress, shard by shard and in bytes, then the count", async () => {
        const es = await fake();
        const name = await snapshotOf(es);
        for (const d of [...es.state.dataStreams.keys()]) {
            for (const b of es.state.dataStreams.get(d) ?? []) es.state.indices.delete(b);
            es.state.dataStreams.delete(d);
        }
        es.state.restorePolls = 4;
        es.state.shardsPerIndex = 2;
        const started = Date.now();
        const r = await run("restore", es, ["--snapshot", name]);
        expect(r.code).toBe(0);
        const progress = r.out.filter((l) => /shards restored/.test(l)).map((l) => /(\d+) of (\d+) shards restored \(([\d.]+)% of bytes\)/.exec(l)?.slice(1).map(Number));
        expect(progress).toEqual([
            [0, 4, 0],
            [0, 4, 25],
            [0, 4, 50],
            [0, 4, 75],
            [4, 4, 100],
        ]);
        expect(r.out[r.out.length - 1]).toBe(`restore: restore ${name}: restored 2 indices (2 data streams), 1500 documents`);
        // Four polls 20 ms apart.
        expect(Date.now() - started).toBeGreaterThanOrEqual(60);
    });

    test("restore failures: a missing snapshot, nothing matching, and a restore Elasticsearch refuses", async () => {
        const es = await fake();
        const missing = await run("restore", es, ["--snapshot", "no-such-snapshot"]);
        expect(missing.code).toBe(1);
        expect(missing.err[0]).toMatch(/^restore: FAILED: no snapshot no-such-snapshot in repository elk-snapshots/);

        const name = await snapshotOf(es);
        const nothing = await run("restore", es, ["--snapshot", name, "--indices", "logs-*-prod"]);
        expect(nothing.code).toBe(1);
        expect(nothing.err[0]).toBe(`restore: FAILED: snapshot ${name} holds nothing matching logs-*-prod (it holds: logs-nginx.web-dev, logs-django.app-dev)`);

        es.state.refuseRestore = { status: 503, body: { error: { type: "concurrent_snapshot_execution_exception", reason: "cannot restore while a snapshot is running" }, status: 503 } };
        const refused = await run("restore", es, ["--snapshot", name, "--force"]);
        expect(refused.code).toBe(1);
        expect(refused.err[0]).toBe(`restore: FAILED: Elasticsearch refused to restore ${name}: concurrent_snapshot_execution_exception: cannot restore while a snapshot is running (HTTP 503)`);
    });

    test("flags: restore needs --snapshot; unknown flags and --force on snapshot are usage errors (exit 2)", async () => {
        const es = await fake();
        expect(await run("restore", es)).toMatchObject({ code: 2, err: [expect.stringMatching(/--snapshot NAME is required/)] });
        expect(await run("take", es, ["--force"])).toMatchObject({ code: 2, err: ["snapshot: unknown flag --force"] });
        expect(await run("restore", es, ["--snapshot", "x", "--force=yes"])).toMatchObject({ code: 2, err: ["restore: --force takes no value"] });
        expect(es.requests).toEqual([]);
    });

    test("names and patterns", () => {
        expect(manualSnapshotName("dev", new Date("2026-11-30T05:07:09.123Z"))).toBe("elk-dev-manual-20261130-050709");
        expect(matchesPattern("logs-django.app-dev", "logs-*-dev")).toBe(true);
        expect(matchesPattern("logs-django.app-dev", "logs-nginx.*-dev,logs-django.*-dev")).toBe(true);
        expect(matchesPattern("logs-django.app-prod", "logs-*-dev")).toBe(false);
        expect(matchesPattern("logsXdjango", "logs.django")).toBe(false);
    });
});
