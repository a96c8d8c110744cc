/**
 * `npm run snapshot` and `npm run restore` (scripts/snapshot.ts with the official client) against a fake
 * Elasticsearch 9.4 over TLS on 127.0.0.1 that is as strict as Elasticsearch (tests/support/fakeSnapshotEs.ts): a
 * snapshot that succeeds and one that fails; a restore into a cluster that lost its data; one refused because data
 * streams are open, forced, partial (--indices), slow (progress lines, then the count), refused by Elasticsearch;
 * a writer (Logstash's stand-in) that keeps writing through a forced restore and through one into an empty
 * cluster; and the lifecycle policy running over what was restored.
 */
import { Client } from "@elastic/elasticsearch";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { logstashWriterRole } from "../components/model/bootstrap";
import { RESTORE_IGNORED_SETTINGS, RESTORED_INDEX_SETTINGS, manualSnapshotName, matchesPattern } from "../components/operations/snapshotOps";
import { LOGSTASH_WRITER_ROLE, LOGSTASH_WRITER_USER } from "../components/model/writerIdentity";
import { runCommand } from "../scripts/snapshot";
import type { StackOutputs } from "../scripts/verify";
import { makeTestPki } from "./support/fakeElasticsearch";
import { FIRST_DAY, type FakeSnapshotEs, addDataStream, backingIndexName, runLifecycle, startFakeSnapshotEs } from "./support/fakeSnapshotEs";
import { type Writer, startWriter } from "./support/fakeWriter";

const PASSWORD = "Elastic-Pw-2Vn7cX4q";
const WRITER_PASSWORD = "Writer-Pw-8Kd2mQ5z";
const REPOSITORY = "elk-snapshots";
const DAY_MS = 86_400_000;
const NGINX = "logs-nginx.web-dev";
const DJANGO = "logs-django.app-dev";
const NGINX_BACKING = backingIndexName(NGINX, 1, FIRST_DAY);
const DJANGO_BACKING = backingIndexName(DJANGO, 1, FIRST_DAY);

describe("snapshot and restore against a fake Elasticsearch 9.4", () => {
    let dir = "";
    let ca = "";
    let cert = "";
    let key = "";
    const servers: FakeSnapshotEs[] = [];
    const writers: Writer[] = [];

    beforeAll(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "elk-snapshot-restore-"));
        const pki = await makeTestPki(dir);
        ca = fs.readFileSync(pki.caCert, "utf8");
        cert = pki.serverCert;
        key = pki.serverKey;
    }, 60_000);

    afterEach(async () => {
        await Promise.all(writers.splice(0).map((w) => w.stop(0)));
    });

    afterAll(async () => {
        await Promise.all(servers.map((s) => s.close()));
        if (dir !== "") fs.rmSync(dir, { recursive: true, force: true });
    });

    /**
     * A fake with nginx:web (1200 documents) and django:app (300) in environment dev, the bootstrap's writer role and
     * user, and a lifecycle policy that deletes after 7 days.
     */
    async function fake(): Promise<FakeSnapshotEs> {
        const es = await startFakeSnapshotEs({ cert, key, password: PASSWORD, repository: REPOSITORY });
        servers.push(es);
        addDataStream(es.state, NGINX, 1200);
        addDataStream(es.state, DJANGO, 300);
        es.state.lifecyclePolicies.set("elk-logs-dev", { deleteAfterDays: 7 });
        es.state.roles.set(LOGSTASH_WRITER_ROLE, logstashWriterRole(["logs-*-dev"]));
        es.state.users.set(LOGSTASH_WRITER_USER, { password: WRITER_PASSWORD, roles: [LOGSTASH_WRITER_ROLE] });
        return es;
    }

    /** Gives nginx's data stream a second backing index: the first rolled over a day after it was made. */
    function rolledOverOnce(es: FakeSnapshotEs): string {
        const second = backingIndexName(NGINX, 2, FIRST_DAY + DAY_MS);
        es.state.indices.get(NGINX_BACKING)!.rolledOverAt = FIRST_DAY + DAY_MS;
        es.state.indices.set(second, { open: true, docs: 100, ids: [], settings: { "index.lifecycle.name": "elk-logs-dev" }, creationDate: FIRST_DAY + DAY_MS });
        es.state.dataStreams.get(NGINX)?.push(second);
        return second;
    }

    /** Loses every data stream, as a cluster whose data volume is gone and whose bootstrap ran again. */
    function loseData(es: FakeSnapshotEs): void {
        for (const [d, backing] of [...es.state.dataStreams]) {
            for (const b of backing) es.state.indices.delete(b);
            es.state.dataStreams.delete(d);
        }
    }

    /** Runs a command as the CLI does, with stack outputs pointing at the fake; collects its output. */
    async function run(command: "take" | "restore", es: FakeSnapshotEs, argv: string[] = [], onLine?: (line: string) => void) {
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
        const code = await runCommand(command, argv, {
            readOutputs: () => outputs,
            env: {},
            out: (l) => {
                out.push(l);
                onLine?.(l);
            },
            err: (l) => err.push(l),
            pollIntervalMs: 20,
        });
        return { code, out, err };
    }

    /** Takes a snapshot of the fake's current data and returns its name. */
    async function snapshotOf(es: FakeSnapshotEs): Promise<string> {
        const r = await run("take", es);
        expect(r.code).toBe(0);
        return [...es.state.snapshots.keys()].pop() as string;
    }

    function writer(es: FakeSnapshotEs, dataStream = NGINX): Writer {
        const w = startWriter({ url: es.url, ca, user: LOGSTASH_WRITER_USER, password: WRITER_PASSWORD, dataStream, intervalMs: 5, retryMs: 5 });
        writers.push(w);
        return w;
    }

    async function until(what: string, condition: () => boolean, ms = 10_000): Promise<void> {
        const deadline = Date.now() + ms;
        while (!condition()) {
            if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
            await new Promise((r) => setTimeout(r, 5));
        }
    }

    /** Where each document id is, and indices that belong to no data stream. */
    function whereabouts(es: FakeSnapshotEs): { byId: Map<string, string[]>; orphans: string[] } {
        const byId = new Map<string, string[]>();
        for (const [name, idx] of es.state.indices) for (const id of idx.ids) byId.set(id, [...(byId.get(id) ?? []), name]);
        const inStreams = new Set([...es.state.dataStreams.values()].flat());
        return { byId, orphans: [...es.state.indices.keys()].filter((i) => i.startsWith(".ds-") && !inStreams.has(i)) };
    }

    test("snapshot: starts one of logs-*-dev, prints shard progress while it runs, and ends with SUCCESS", async () => {
        const es = await fake();
        es.state.snapshotPolls = 3;
        const r = await run("take", es);
        expect(r.err).toEqual([]);
        expect(r.code).toBe(0);
        const [name] = [...es.state.snapshots.keys()];
        expect(name).toMatch(/^elk-dev-manual-\d{8}-\d{6}$/);
        expect(Object.keys(es.state.snapshots.get(name)?.dataStreams ?? {}).sort()).toEqual([DJANGO, NGINX]);
        expect(r.out[0]).toBe(`snapshot: snapshot ${name}: started (logs-*-dev into ${REPOSITORY})`);
        const progress = r.out.filter((l) => / shards done$/.test(l));
        expect(progress.length).toBeGreaterThanOrEqual(2);
        expect(r.out[r.out.length - 1]).toBe(`snapshot: snapshot ${name}: SUCCESS, 2 indices, 2 of 2 shards`);
        expect(es.requests[0]).toBe(`PUT /_snapshot/${REPOSITORY}/${name}`);
        expect(es.refusals).toEqual([]);
    });

    test("snapshot: a snapshot that ends FAILED exits 1 with the shards' reasons", async () => {
        const es = await fake();
        es.state.snapshotOutcome = "FAILED";
        const r = await run("take", es);
        expect(r.code).toBe(1);
        expect(r.err).toHaveLength(1);
        expect(r.err[0]).toMatch(/^snapshot: FAILED: snapshot elk-dev-manual-\S+ ended FAILED: 2 of 2 shards failed \(.*disk full/);
    });

    test("restore into a cluster that lost its data: the data streams come back, with their documents (404 on main)", async () => {
        const es = await fake();
        const name = await snapshotOf(es);
        loseData(es);
        const r = await run("restore", es, ["--snapshot", name]);
        expect(r.err).toEqual([]);
        expect(r.code).toBe(0);
        expect(r.out[0]).toBe(`restore: restore ${name}: 2 data streams and 0 indices match logs-*-dev`);
        expect(r.out).toContain(`restore: restore ${name}: restored 2 indices (2 data streams), 1500 documents`);
        expect(es.state.dataStreams.get(NGINX)?.[0]).toBe(NGINX_BACKING);
        expect(es.state.indices.get(NGINX_BACKING)?.docs).toBe(1200);
        expect(es.state.indices.get(DJANGO_BACKING)?.docs).toBe(300);
        // Elasticsearch refused nothing it was asked.
        expect(es.refusals).toEqual([]);
    });

    test("restore: refuses to overwrite open data streams without --force, and changes nothing", async () => {
        const es = await fake();
        const name = await snapshotOf(es);
        es.requests.length = 0;
        const role = es.state.roles.get(LOGSTASH_WRITER_ROLE);
        const r = await run("restore", es, ["--snapshot", name]);
        expect(r.code).toBe(1);
        expect(r.err[0]).toBe(`restore: FAILED: refusing to overwrite open data streams or indices: ${NGINX}, ${DJANGO}. Pass --force to delete them (their current documents are lost) and restore the snapshot's instead, or restore others with --indices`);
        expect(es.requests.filter((q) => !q.startsWith("GET "))).toEqual([]);
        expect([...es.state.dataStreams.keys()].sort()).toEqual([DJANGO, NGINX]);
        expect(es.state.roles.get(LOGSTASH_WRITER_ROLE)).toBe(role);
    });

    test("restore --force: replaces the open data streams with the snapshot's and counts indices and documents", async () => {
        const es = await fake();
        const name = await snapshotOf(es);
        // After the snapshot, documents change: the restore must bring back the snapshot's 1200 + 300.
        es.state.indices.get(NGINX_BACKING)!.docs = 5;
        const r = await run("restore", es, ["--snapshot", name, "--force"]);
        expect(r.err).toEqual([]);
        expect(r.code).toBe(0);
        expect(r.out).toContain(`restore: restore ${name}: blocked writes to ${NGINX}, ${DJANGO} (--force)`);
        expect(r.out).toContain(`restore: restore ${name}: deleted data stream ${NGINX} (--force)`);
        expect(r.out).toContain(`restore: restore ${name}: deleted data stream ${DJANGO} (--force)`);
        expect(r.out).toContain(`restore: restore ${name}: restored 2 indices (2 data streams), 1500 documents`);
        expect(es.state.indices.get(NGINX_BACKING)?.docs).toBe(1200);
        // The write block went on each data stream's write index, through the index settings: the add-block API
        // takes neither a data stream's name nor its write index.
        expect(es.requests).toContain(`PUT /${NGINX_BACKING},${DJANGO_BACKING}/_settings`);
        expect(es.requests.some((q) => q.includes("/_block/"))).toBe(false);
        expect(es.refusals).toEqual([]);
    });

    test("restore --force over a data stream that rolled over: only its write index is blocked, and all its backing indices go", async () => {
        const es = await fake();
        const second = rolledOverOnce(es);
        const name = await snapshotOf(es);
        const third = backingIndexName(NGINX, 3, FIRST_DAY + 2 * DAY_MS);
        es.state.indices.get(second)!.rolledOverAt = FIRST_DAY + 2 * DAY_MS;
        es.state.indices.set(third, { open: true, docs: 7, ids: [], settings: { "index.lifecycle.name": "elk-logs-dev" }, creationDate: FIRST_DAY + 2 * DAY_MS });
        es.state.dataStreams.get(NGINX)?.push(third);
        const r = await run("restore", es, ["--snapshot", name, "--force", "--indices", NGINX]);
        expect(r.err).toEqual([]);
        expect(r.code).toBe(0);
        expect(es.requests).toContain(`PUT /${third}/_settings`);
        expect(es.state.deletedIds.has(third)).toBe(true);
        expect(es.state.indices.has(third)).toBe(false);
        expect(es.state.dataStreams.get(NGINX)?.slice(0, 2)).toEqual([NGINX_BACKING, second]);
        expect(es.refusals).toEqual([]);
    });

    test("restore --force while a writer keeps writing: the writer is held back, not recreating the data stream, and every later event lands in it", async () => {
        const es = await fake();
        const w = writer(es);
        await until("the writer's first events", () => w.report.acked.length >= 5);
        const name = await snapshotOf(es);
        const inSnapshot = new Set(es.state.snapshots.get(name)?.indices[NGINX_BACKING].ids);
        es.state.restorePolls = 4;
        const r = await run("restore", es, ["--snapshot", name, "--force"]);
        expect(r.err).toEqual([]);
        expect(r.code).toBe(0);
        // The writer keeps going after the restore, then stops with nothing left unacknowledged.
        const afterRestore = w.report.acked.length;
        await until("events after the restore", () => w.report.acked.length >= afterRestore + 5);
        const report = await w.stop(10_000);
        expect(report.pending).toEqual([]);
        expect(report.deadLettered).toEqual([]);
        const { byId, orphans } = whereabouts(es);
        // No index was left outside the data stream, as one the writer had recreated mid-restore would be.
        expect(orphans).toEqual([]);
        // It was held back (403: the write block, then no right to create the data stream) and retried.
        expect(report.statuses.get(403) ?? 0).toBeGreaterThan(0);
        expect(report.statuses.get(404) ?? 0).toBe(0);
        const backing = es.state.dataStreams.get(NGINX) ?? [];
        expect(backing).toEqual([NGINX_BACKING, expect.stringMatching(/^\.ds-logs-nginx\.web-dev-\d{4}\.\d{2}\.\d{2}-000002$/)]);
        // Every acknowledged event is in one place: the restored index (it was in the snapshot), the new write index
        // (written once the restore was done), or the index --force deleted (written before the write block, the
        // "current documents" --force says it drops). None is anywhere twice, none is missing.
        const deleted = new Set(es.state.deletedIds.get(NGINX_BACKING));
        const restoredIds = new Set(es.state.indices.get(NGINX_BACKING)?.ids);
        const later = report.acked.filter((id) => !deleted.has(id) && !restoredIds.has(id));
        for (const id of later) expect(byId.get(id)).toEqual([backing[1]]);
        // Some were held back during the restore (answered 403 and retried), and landed there too.
        expect(report.retried.size).toBeGreaterThan(0);
        for (const id of report.retried) expect(byId.get(id)).toEqual([backing[1]]);
        for (const id of report.acked) expect((byId.get(id) ?? []).length + (deleted.has(id) && !restoredIds.has(id) ? 1 : 0)).toBe(1);
        // The writer was held back from the write block on: what it wrote after the block is not in the deleted index.
        expect(r.out.findIndex((l) => l.includes("blocked writes"))).toBeLessThan(r.out.findIndex((l) => l.includes("deleted data stream")));
        // The snapshot's events came back in the restored index; those written between snapshot and restore were
        // replaced, as --force says.
        expect(new Set(es.state.indices.get(NGINX_BACKING)?.ids)).toEqual(inSnapshot);
        // The writer role was given its rights back, exactly as it was.
        expect(es.state.roles.get(LOGSTASH_WRITER_ROLE)).toEqual(logstashWriterRole(["logs-*-dev"]));
        expect(r.out).toContain(`restore: restore ${name}: writers paused: role ${LOGSTASH_WRITER_ROLE} may not create data streams until the restore is done (its writers retry meanwhile)`);
        expect(r.out).toContain(`restore: restore ${name}: writers resumed: role ${LOGSTASH_WRITER_ROLE} may create its data streams again`);
    });

    test("restore into a cluster that lost its data while a writer starts writing: its events wait and then land in the restored data stream", async () => {
        const es = await fake();
        const name = await snapshotOf(es);
        loseData(es);
        es.state.restorePolls = 4;
        let w: Writer | undefined;
        const r = await run("restore", es, ["--snapshot", name], (line) => {
            // Logstash reconnects as the restore begins.
            if (line.includes("writers paused") && w === undefined) w = writer(es);
        });
        expect(r.err).toEqual([]);
        expect(r.code).toBe(0);
        if (w === undefined) throw new Error("the writer never started");
        const started = w;
        await until("events after the restore", () => started.report.acked.length >= 5);
        const report = await started.stop(10_000);
        expect(report.pending).toEqual([]);
        expect(report.statuses.get(403) ?? 0).toBeGreaterThan(0);
        const { byId, orphans } = whereabouts(es);
        expect(orphans).toEqual([]);
        const backing = es.state.dataStreams.get(NGINX) ?? [];
        expect(backing[0]).toBe(NGINX_BACKING);
        for (const id of report.acked) expect(byId.get(id)).toEqual([backing[backing.length - 1]]);
        expect(es.state.indices.get(NGINX_BACKING)?.docs).toBe(1200);
    });

    test("restored documents outlive the lifecycle policy: restored indices are outside it and write-blocked; new ones are under it", async () => {
        const es = await fake();
        const second = rolledOverOnce(es);
        const name = await snapshotOf(es);
        loseData(es);
        // A month after the snapshot's indices were made: the policy (7 days) would delete them at once.
        const restoredAt = FIRST_DAY + 30 * DAY_MS;
        es.state.now = () => restoredAt;
        const r = await run("restore", es, ["--snapshot", name]);
        expect(r.code).toBe(0);
        const backing = es.state.dataStreams.get(NGINX) ?? [];
        expect(backing).toEqual([NGINX_BACKING, second, backingIndexName(NGINX, 3, restoredAt)]);
        expect(r.out).toContain(`restore: restore ${name}: rolled ${NGINX} over: new documents go to ${backing[2]}, under the lifecycle policy`);
        expect(r.out).toContain(`restore: restore ${name}: restored 3 indices (2 data streams), 1600 documents`);
        for (const restored of [NGINX_BACKING, second, DJANGO_BACKING]) {
            expect(es.state.indices.get(restored)?.settings["index.lifecycle.name"]).toBeUndefined();
            expect(es.state.indices.get(restored)?.settings["index.blocks.write"]).toBe("true");
        }
        expect(es.state.indices.get(backing[2])?.settings["index.lifecycle.name"]).toBe("elk-logs-dev");
        // The policy runs an hour later, and again after the retention: the restored documents stay.
        expect(runLifecycle(es.state, restoredAt + 3_600_000)).toEqual([]);
        expect(runLifecycle(es.state, restoredAt + 60 * DAY_MS)).toEqual([]);
        expect(es.state.indices.get(NGINX_BACKING)?.docs).toBe(1200);
        expect(es.state.indices.get(second)?.docs).toBe(100);
        expect(es.state.indices.get(DJANGO_BACKING)?.docs).toBe(300);
        expect(RESTORED_INDEX_SETTINGS).toEqual({ "index.blocks.write": true });
        expect(RESTORE_IGNORED_SETTINGS).toEqual(["index.lifecycle.name"]);
        expect(es.refusals).toEqual([]);
    });

    test("the fake's lifecycle deletes what a restore that keeps the policy brings back, within the hour (what the settings above prevent)", async () => {
        const es = await fake();
        rolledOverOnce(es);
        const name = await snapshotOf(es);
        loseData(es);
        const restoredAt = FIRST_DAY + 30 * DAY_MS;
        es.state.now = () => restoredAt;
        // The restore request of 0.4.0: no index settings.
        const client = new Client({ node: es.url, auth: { username: "elastic", password: PASSWORD }, tls: { ca }, maxRetries: 0 });
        try {
            await client.snapshot.restore({ repository: REPOSITORY, snapshot: name, indices: `${NGINX},${DJANGO}`, include_global_state: false });
        } finally {
            await client.close();
        }
        // The first backing index rolled over 29 days ago: the 7-day delete phase is long past.
        expect(runLifecycle(es.state, restoredAt + 3_600_000)).toEqual([NGINX_BACKING]);
        expect(es.state.indices.has(NGINX_BACKING)).toBe(false);
    });

    test("partial restore with --indices: only the matching data stream comes back; others stay as they are", async () => {
        const es = await fake();
        const name = await snapshotOf(es);
        es.state.dataStreams.delete(DJANGO);
        es.state.indices.delete(DJANGO_BACKING);
        es.state.indices.get(NGINX_BACKING)!.docs = 1250;
        const r = await run("restore", es, ["--snapshot", name, "--indices", "logs-django.*-dev"]);
        expect(r.err).toEqual([]);
        expect(r.code).toBe(0);
        expect(r.out[0]).toBe(`restore: restore ${name}: 1 data streams and 0 indices match logs-django.*-dev`);
        expect(r.out).toContain(`restore: restore ${name}: restored 1 indices (1 data streams), 300 documents`);
        // nginx was neither deleted nor rolled back.
        expect(es.state.indices.get(NGINX_BACKING)?.docs).toBe(1250);
        expect(es.requests.some((q) => q.startsWith("DELETE"))).toBe(false);
    });

    test("a plain index: a closed one is restored over as it is; an open one is refused, and --force closes it first", async () => {
        const es = await fake();
        const ARCHIVE = "logs-archive-dev";
        es.state.indices.set(ARCHIVE, { open: true, docs: 10, ids: [], settings: {}, creationDate: FIRST_DAY });
        const name = await snapshotOf(es);
        es.state.indices.get(ARCHIVE)!.docs = 3;
        es.state.indices.get(ARCHIVE)!.open = false;
        const closed = await run("restore", es, ["--snapshot", name, "--indices", ARCHIVE]);
        expect(closed.err).toEqual([]);
        expect(closed.code).toBe(0);
        expect(closed.out).toContain(`restore: restore ${name}: restored 1 indices (0 data streams), 10 documents`);
        expect(es.state.indices.get(ARCHIVE)).toMatchObject({ open: true, docs: 10 });
        // No data stream restored: no writer paused, nothing rolled over.
        expect(closed.out.some((l) => l.includes("writers paused") || l.includes("rolled"))).toBe(false);

        const open = await run("restore", es, ["--snapshot", name, "--indices", ARCHIVE]);
        expect(open.code).toBe(1);
        expect(open.err[0]).toMatch(/^restore: FAILED: refusing to overwrite open data streams or indices: logs-archive-dev\./);
        const forced = await run("restore", es, ["--snapshot", name, "--indices", ARCHIVE, "--force"]);
        expect(forced.code).toBe(0);
        expect(forced.out).toContain(`restore: restore ${name}: closed ${ARCHIVE} (--force)`);
        expect(es.refusals).toEqual([]);
    });

    test("a slow restore prints its progress, shard by shard and in bytes, then the count", async () => {
        const es = await fake();
        const name = await snapshotOf(es);
        loseData(es);
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
        expect(r.out).toContain(`restore: restore ${name}: restored 2 indices (2 data streams), 1500 documents`);
        expect(r.out[r.out.length - 1]).toMatch(/write-blocked and outside the lifecycle policy/);
        // Four polls 20 ms apart.
        expect(Date.now() - started).toBeGreaterThanOrEqual(60);
    });

    test("restore failures: a missing snapshot, nothing matching, a restore Elasticsearch refuses, one under pressure (429); the writers get their rights back", async () => {
        const es = await fake();
        const missing = await run("restore", es, ["--snapshot", "no-such-snapshot"]);
        expect(missing.code).toBe(1);
        expect(missing.err[0]).toMatch(/^restore: FAILED: no snapshot no-such-snapshot in repository elk-snapshots/);

        const name = await snapshotOf(es);
        const nothing = await run("restore", es, ["--snapshot", name, "--indices", "logs-*-prod"]);
        expect(nothing.code).toBe(1);
        expect(nothing.err[0]).toBe(`restore: FAILED: snapshot ${name} holds nothing matching logs-*-prod (it holds: ${NGINX}, ${DJANGO})`);

        es.state.refuseRestore = { status: 503, body: { error: { type: "concurrent_snapshot_execution_exception", reason: "cannot restore while a snapshot is running" }, status: 503 } };
        const refused = await run("restore", es, ["--snapshot", name, "--force"]);
        expect(refused.code).toBe(1);
        expect(refused.err[0]).toBe(`restore: FAILED: Elasticsearch refused to restore ${name}: concurrent_snapshot_execution_exception: cannot restore while a snapshot is running (HTTP 503)`);
        expect(es.state.roles.get(LOGSTASH_WRITER_ROLE)).toEqual(logstashWriterRole(["logs-*-dev"]));

        es.state.refuseRestore = undefined;
        loseData(es);
        es.state.conditions = { rejectExecution: (api) => api === "snapshot.restore" };
        const busy = await run("restore", es, ["--snapshot", name]);
        expect(busy.code).toBe(1);
        expect(busy.err[0]).toMatch(new RegExp(`^restore: FAILED: Elasticsearch refused to restore ${name}: es_rejected_execution_exception: rejected execution of .* \\(HTTP 429\\)$`));
        expect(es.state.roles.get(LOGSTASH_WRITER_ROLE)).toEqual(logstashWriterRole(["logs-*-dev"]));

        es.state.conditions = { securityIndexUnavailable: () => true };
        const recovering = await run("restore", es, ["--snapshot", name]);
        expect(recovering.code).toBe(1);
        expect(recovering.err[0]).toBe(`restore: FAILED: cannot read snapshot ${name}: security_exception: unable to authenticate user [elastic] for REST request [/_snapshot/${REPOSITORY}/${name}] (HTTP 401)`);
    });

    test("a writer role that could create data streams some other way (manage, all) is refused: stop the writers first", async () => {
        const es = await fake();
        const name = await snapshotOf(es);
        loseData(es);
        es.state.roles.set(LOGSTASH_WRITER_ROLE, { cluster: ["monitor"], indices: [{ names: ["logs-*-dev"], privileges: ["create_doc", "manage"] }] });
        const r = await run("restore", es, ["--snapshot", name]);
        expect(r.code).toBe(1);
        expect(r.err[0]).toBe(`restore: FAILED: role ${LOGSTASH_WRITER_ROLE} grants manage or all on logs-*-dev, so its writers could recreate a data stream during the restore: stop them first (stop Logstash), or narrow the role`);
        expect(es.state.dataStreams.size).toBe(0);
        // A role whose right to create is an entry of its own: that entry goes while the restore runs, and comes back.
        const split = { cluster: ["monitor"], indices: [{ names: ["logs-*-dev"], privileges: ["create_doc"] }, { names: ["logs-*-dev"], privileges: ["auto_configure"] }] };
        es.state.roles.set(LOGSTASH_WRITER_ROLE, split);
        let during: unknown;
        const splitRun = await run("restore", es, ["--snapshot", name], (line) => {
            if (line.includes("writers paused")) during = es.state.roles.get(LOGSTASH_WRITER_ROLE);
        });
        expect(splitRun.code).toBe(0);
        expect(during).toEqual({ cluster: ["monitor"], indices: [{ names: ["logs-*-dev"], privileges: ["create_doc"] }] });
        expect(es.state.roles.get(LOGSTASH_WRITER_ROLE)).toEqual(split);
        loseData(es);
        // A role that is not there has no writers to pause; --writer-role names others.
        es.state.roles.delete(LOGSTASH_WRITER_ROLE);
        const none = await run("restore", es, ["--snapshot", name, "--writer-role", "other_writer"]);
        expect(none.code).toBe(0);
        expect(none.out).toContain(`restore: restore ${name}: no role other_writer: no writer of it to pause`);
    });

    test("flags: restore needs --snapshot; unknown flags and --force on snapshot are usage errors (exit 2)", async () => {
        const es = await fake();
        expect(await run("restore", es)).toMatchObject({ code: 2, err: [expect.stringMatching(/--snapshot NAME is required/)] });
        expect(await run("take", es, ["--force"])).toMatchObject({ code: 2, err: ["snapshot: unknown flag --force"] });
        expect(await run("restore", es, ["--snapshot", "x", "--force=yes"])).toMatchObject({ code: 2, err: ["restore: --force takes no value"] });
        expect(es.requests).toEqual([]);
    });

    describe("the fake answers as Elasticsearch 9.4 does", () => {
        /** The status and error type of a request the official client makes, or 200. */
        async function answer(es: FakeSnapshotEs, call: (c: Client) => Promise<unknown>, as = { username: "elastic", password: PASSWORD }): Promise<{ status: number; type?: string; reason?: string; body?: unknown }> {
            const client = new Client({ node: es.url, auth: as, tls: { ca }, maxRetries: 0 });
            try {
                return { status: 200, body: await call(client) };
            } catch (err) {
                const e = err as { statusCode?: number; body?: { error?: { type?: string; reason?: string } } };
                return { status: e.statusCode ?? 0, type: e.body?.error?.type, reason: e.body?.error?.reason, body: e.body };
            } finally {
                await client.close();
            }
        }

        test("ignore_unavailable is false by default: a missing data stream is 404 on resolve, recovery, count, close and restore", async () => {
            const es = await fake();
            const name = await snapshotOf(es);
            loseData(es);
            const missing = { status: 404, type: "index_not_found_exception", reason: `no such index [${NGINX}]` };
            expect(await answer(es, (c) => c.indices.resolveIndex({ name: NGINX }))).toMatchObject(missing);
            expect(await answer(es, (c) => c.indices.recovery({ index: NGINX }))).toMatchObject(missing);
            expect(await answer(es, (c) => c.count({ index: NGINX }))).toMatchObject(missing);
            expect(await answer(es, (c) => c.indices.close({ index: NGINX }))).toMatchObject(missing);
            expect(await answer(es, (c) => c.snapshot.restore({ repository: REPOSITORY, snapshot: name, indices: "logs-nope-dev" }))).toMatchObject({ status: 404, type: "index_not_found_exception" });
            // Asked to ignore it, or through a wildcard (allow_no_indices is true): found nothing, no error.
            expect(await answer(es, (c) => c.indices.resolveIndex({ name: NGINX, ignore_unavailable: true }))).toMatchObject({ status: 200, body: { indices: [], data_streams: [] } });
            expect(await answer(es, (c) => c.count({ index: "logs-*-dev" }))).toMatchObject({ status: 200, body: { count: 0 } });
            expect(await answer(es, (c) => c.indices.resolveIndex({ name: "logs-*-dev", allow_no_indices: false }))).toMatchObject({ status: 404, type: "index_not_found_exception" });
            expect(await answer(es, (c) => c.indices.deleteDataStream({ name: NGINX }))).toMatchObject({ status: 404, type: "resource_not_found_exception", reason: `data streams [${NGINX}] not found` });
            expect(await answer(es, (c) => c.security.getRole({ name: "nobody" }))).toMatchObject({ status: 404, body: {} });
        });

        test("restore: refuses over an open index, and settings RestoreService keeps", async () => {
            const es = await fake();
            const name = await snapshotOf(es);
            const restore = (body: Record<string, unknown>) => answer(es, (c) => c.snapshot.restore({ repository: REPOSITORY, snapshot: name, indices: NGINX, ...body }));
            const over = await restore({});
            expect([over.status, over.type]).toEqual([500, "snapshot_restore_exception"]);
            expect(over.reason).toContain(`cannot restore index [${NGINX_BACKING}] because an open index with same name already exists in the cluster`);
            loseData(es);
            const replicas = await restore({ ignore_index_settings: ["index.number_of_replicas"] });
            expect([replicas.status, replicas.reason]).toEqual([500, `[${REPOSITORY}:${name}/uuid-${name}] cannot remove setting [index.number_of_replicas] on restore`]);
            const created = await restore({ index_settings: { "index.creation_date": 1 } });
            expect([created.status, created.reason]).toEqual([500, `[${REPOSITORY}:${name}/uuid-${name}] cannot modify setting [index.creation_date] on restore`]);
            expect(es.state.dataStreams.size).toBe(0);
        });

        test("a data stream's name reaches only the APIs whose request includes data streams; add_block refuses a write index", async () => {
            const es = await fake();
            const second = rolledOverOnce(es);
            const excluded = { status: 404, type: "index_not_found_exception", reason: `no such index [${NGINX}]` };
            // AddIndexBlockRequest and CloseIndexRequest do not include data streams.
            expect(await answer(es, (c) => c.indices.addBlock({ index: NGINX, block: "write" }))).toMatchObject({ ...excluded, body: { error: { excluded_ds: "true" } } });
            expect(await answer(es, (c) => c.indices.close({ index: NGINX }))).toMatchObject(excluded);
            // Asked to ignore what is unavailable, the name is skipped; a wildcard matches no data stream.
            expect(await answer(es, (c) => c.indices.close({ index: NGINX, ignore_unavailable: true }))).toMatchObject({ status: 200 });
            expect(await answer(es, (c) => c.indices.close({ index: "logs-*-dev" }))).toMatchObject({ status: 200 });
            expect(es.state.indices.get(NGINX_BACKING)?.open).toBe(true);
            // A backing index is an index to them, but add_block refuses a data stream's write index.
            expect(await answer(es, (c) => c.indices.addBlock({ index: second, block: "write" }))).toMatchObject({
                status: 400,
                type: "illegal_argument_exception",
                reason: `cannot add a block to the following data stream write indices [${second}]`,
            });
            expect(await answer(es, (c) => c.indices.addBlock({ index: NGINX_BACKING, block: "write" }))).toMatchObject({ status: 200 });
            expect(es.state.indices.get(NGINX_BACKING)?.settings["index.blocks.write"]).toBe("true");
            // ResolveIndexAction, RecoveryRequest (a BroadcastRequest), count (a SearchRequest) and
            // UpdateSettingsRequest include data streams.
            expect(await answer(es, (c) => c.indices.resolveIndex({ name: NGINX }))).toMatchObject({ status: 200, body: { data_streams: [{ name: NGINX, backing_indices: [NGINX_BACKING, second] }] } });
            expect(await answer(es, (c) => c.indices.recovery({ index: NGINX }))).toMatchObject({ status: 200 });
            expect(await answer(es, (c) => c.count({ index: NGINX }))).toMatchObject({ status: 200, body: { count: 1300 } });
            expect(await answer(es, (c) => c.indices.putSettings({ index: NGINX, settings: { index: { blocks: { write: true } } } }))).toMatchObject({ status: 200 });
            expect(es.state.indices.get(second)?.settings["index.blocks.write"]).toBe("true");
            expect(await answer(es, (c) => c.indices.putSettings({ index: NGINX, settings: { "index.number_of_replicas": 0 } }))).toMatchObject({ status: 400 });
        });

        test("writes: a missing data stream is created only with the right to, a write block and the missing right are 403", async () => {
            const es = await fake();
            loseData(es);
            const writer = { username: LOGSTASH_WRITER_USER, password: WRITER_PASSWORD };
            const write = () => answer(es, (c) => c.bulk({ operations: [{ create: { _index: NGINX } }, { id: "a", message: "a" }] }), writer);
            const status = (r: { body?: unknown }) => (r.body as { items: { create: { status: number; error?: { type: string } } }[] }).items[0].create;
            expect(status(await write())).toMatchObject({ status: 201 });
            expect(es.state.dataStreams.get(NGINX)).toHaveLength(1);
            const writeIndex = es.state.dataStreams.get(NGINX)?.[0] as string;
            expect(await answer(es, (c) => c.indices.putSettings({ index: writeIndex, settings: { "index.blocks.write": true } }))).toMatchObject({ status: 200 });
            expect(status(await write())).toMatchObject({ status: 403, error: { type: "cluster_block_exception" } });
            loseData(es);
            es.state.roles.set(LOGSTASH_WRITER_ROLE, { indices: [{ names: ["logs-*-dev"], privileges: ["create_doc"] }] });
            expect(status(await write())).toMatchObject({ status: 403, error: { type: "security_exception" } });
            expect(es.state.dataStreams.has(NGINX)).toBe(false);
            // Rollover needs the data stream's index template.
            es.state.templates.clear();
            addDataStream(es.state, DJANGO, 1);
            es.state.templates.clear();
            expect(await answer(es, (c) => c.indices.rollover({ alias: DJANGO }))).toMatchObject({ status: 400, reason: `no matching index template found for data stream [${DJANGO}]` });
        });
    });

    test("names and patterns", () => {
        expect(manualSnapshotName("dev", new Date("2026-11-30T05:07:09.123Z"))).toBe("elk-dev-manual-20261130-050709");
        expect(matchesPattern("logs-django.app-dev", "logs-*-dev")).toBe(true);
        expect(matchesPattern("logs-django.app-dev", "logs-nginx.*-dev,logs-django.*-dev")).toBe(true);
        expect(matchesPattern("logs-django.app-prod", "logs-*-dev")).toBe(false);
        expect(matchesPattern("logsXdjango", "logs.django")).toBe(false);
    });
});
