/**
 * Day 2 of the Kubernetes target's StatefulSets (issue 14, the `manifests` engine): one test per hazard of
 * 0.4.0 — rolls gated on cluster health, Kibana recreated, storage changes refused with the steps to take,
 * certificates that do not change with the node count, `cluster.initial_master_nodes` dropped once the cluster
 * formed, no liveness restarts of Elasticsearch, await timeouts that grow with the nodes, a pre-stop delay, a
 * node name per Logstash replica and Kibana's heap left to Node.js. The readiness script runs for real, with
 * curl, against a stand-in Elasticsearch on 127.0.0.1.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import YAML from "yaml";
import { type ProgramRun, type RecordedResource, ofType, runProgram, stackFileConfig, unwrapSecrets } from "./support/program";
import { gate, isRefusal, respond } from "./support/esRestApi";
import { makeTestPki, type TestPki } from "./support/fakeElasticsearch";
import { serveOnLoopback } from "./support/loopback";
import { elasticsearchReadinessCommand, readinessLevel } from "../components/model/elasticsearch";
import { CLUSTER_FORMATION_OUTPUT, formedBefore } from "../components/model/clusterFormation";
import { PRE_STOP_DELAY_SECONDS, claimStorage, rolloutTimeoutSeconds, storageChangeRefusal } from "../components/targets/kubernetesManifests";
import { elasticsearchSpec } from "../components/model/elasticsearch";
import { refuseStorageChange } from "../components/targets/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { kibanaSpec } from "../components/model/kibana";
import { parseStackConfig } from "../components/model/config";

type Obj = Record<string, unknown>;
const asObj = (v: unknown): Obj => (v ?? {}) as Obj;
const asList = (v: unknown): Obj[] => (v ?? []) as Obj[];

function only(run: ProgramRun, type: string, nameSuffix: string): RecordedResource {
    const found = ofType(run, type).filter((r) => r.name.endsWith(nameSuffix));
    if (found.length !== 1) throw new Error(`expected one ${type} *${nameSuffix}, got ${found.map((r) => r.name).join(", ")}`);
    return found[0];
}
const specOf = (r: RecordedResource): Obj => asObj(asObj(unwrapSecrets(r.inputs)).spec);
const podOf = (r: RecordedResource): Obj => asObj(asObj(specOf(r).template).spec);
const mainContainer = (r: RecordedResource): Obj => asList(podOf(r).containers)[0];

/** The content of a file a workload mounts from its ConfigMap. */
function configFile(run: ProgramRun, workload: RecordedResource, mountPath: string): string {
    const mount = asList(mainContainer(workload).volumeMounts).find((m) => m.mountPath === mountPath);
    if (!mount) throw new Error(`${workload.name} mounts nothing at ${mountPath}`);
    const volume = asList(podOf(workload).volumes).find((v) => v.name === mount.name);
    for (const source of asList(asObj(asObj(volume).projected).sources)) {
        const ref = asObj(source.configMap);
        if (!asList(ref.items).some((i) => i.path === mount.subPath)) continue;
        const cm = ofType(run, "kubernetes:core/v1:ConfigMap").find((r) => asObj(r.state.metadata).name === ref.name) as RecordedResource;
        return String(asObj(asObj(unwrapSecrets(cm.inputs)).data)[String(mount.subPath)]);
    }
    throw new Error(`${mountPath} is in no ConfigMap`);
}

const esYml = (run: ProgramRun): Obj =>
    YAML.parse(configFile(run, only(run, "kubernetes:apps/v1:StatefulSet", "-es01-statefulset"), "/usr/share/elasticsearch/config/elasticsearch.yml")) as Obj;

// The hazards are those of the stack's own StatefulSets: the manifests engine (eck leaves them to the operator).
const base = { target: "kubernetes", kubernetesEngine: "manifests", clusterName: "elk-d2" };
const cluster = { ...base, elasticsearchNodeCount: "3", logstashReplicas: "2" };

/** A three-node cluster's Elasticsearch spec, as the program builds it. */
function clusterSpec(storageGb = 30) {
    return elasticsearchSpec({
        clusterName: "c",
        nodeName: "es01",
        masterNodes: ["es01-0", "es01-1", "es01-2"],
        version: "9.4.1",
        heapMb: 512,
        memoryMb: 1536,
        cpu: { requestMillis: 1000, limitMillis: 2000 },
        storageGb,
        tls: { caCertPem: "", certPem: "", keyPem: "" },
        transportTls: { caCertPem: "", certPem: "", keyPem: "" },
        elasticPassword: "x",
    });
}

const identity = "kubernetes/elk/elk-d2/es01";

describe("Kubernetes day 2: the program's manifests", () => {
    /** A first update of three nodes and two Logstash replicas. */
    let first: ProgramRun;
    /** A later update of the same cluster, scaled to five nodes. */
    let scaled: ProgramRun;
    beforeAll(async () => {
        first = await runProgram(cluster, { stack: "d2" });
        scaled = await runProgram({ ...cluster, elasticsearchNodeCount: "5" }, { stack: "d2", previousOutputs: { [CLUSTER_FORMATION_OUTPUT]: { cluster: identity, formed: true } } });
    });

    test("Kibana is recreated, never rolled: old and new versions do not run side by side", () => {
        // 0.4.0: RollingUpdate with maxSurge 1, a new Kibana beside the old one while saved objects migrate.
        expect(specOf(only(first, "kubernetes:apps/v1:Deployment", "-kibana-deployment")).strategy).toEqual({ type: "Recreate" });
    });

    test("Elasticsearch has no liveness probe; the other services keep theirs", () => {
        // 0.4.0 restarted a node whose HTTP layer did not answer for two minutes: a long GC pause.
        const es = mainContainer(only(first, "kubernetes:apps/v1:StatefulSet", "-es01-statefulset"));
        expect(es.livenessProbe).toBeUndefined();
        expect(es.startupProbe).toBeDefined();
        for (const other of [only(first, "kubernetes:apps/v1:Deployment", "-kibana-deployment"), only(first, "kubernetes:apps/v1:StatefulSet", "-logstash-statefulset")]) {
            expect(asObj(asObj(mainContainer(other).livenessProbe).exec).command).toEqual(["sh", "-c", expect.any(String)]);
        }
    });

    test("Elasticsearch is ready only once the cluster is green after each start, and the cluster can form without any pod ready", () => {
        const sts = only(first, "kubernetes:apps/v1:StatefulSet", "-es01-statefulset");
        const readiness = (asObj(asObj(mainContainer(sts).readinessProbe).exec).command as string[])[2];
        const startup = (asObj(asObj(mainContainer(sts).startupProbe).exec).command as string[])[2];
        // 0.4.0: readiness was the start-up check, "HTTP answers 401".
        expect(readiness).not.toBe(startup);
        expect(readiness).toBe(elasticsearchReadinessCommand({ caPath: "/usr/share/elasticsearch/config/certs/ca.crt", url: "https://localhost:9200", level: "green", marker: "/tmp/elk-ready-once", passwordFile: "/usr/share/elasticsearch/config/elk-start/elk-secret.bootstrap.password" }));
        // What keeps the first start from waiting on itself: pods start together and find each other unready.
        expect(specOf(sts).podManagementPolicy).toBe("Parallel");
        expect(specOf(only(first, "kubernetes:core/v1:Service", "-es01-headless")).publishNotReadyAddresses).toBe(true);
        // The credentials are the container's own (the bootstrap.password file of its start script), not a user the
        // bootstrap makes later, and not in its environment.
        expect(readiness).toContain("cat '/usr/share/elasticsearch/config/elk-start/elk-secret.bootstrap.password'");
        expect(asList(mainContainer(sts).env).map((e) => e.name)).not.toContain("ELASTIC_PASSWORD");
        expect(readinessLevel(1)).toBe("yellow");
        expect(readinessLevel(3)).toBe("green");
    });

    test("a pre-stop delay on every long-running container, inside a grace period lengthened by it", () => {
        for (const w of [...ofType(first, "kubernetes:apps/v1:StatefulSet"), ...ofType(first, "kubernetes:apps/v1:Deployment")]) {
            expect(asObj(mainContainer(w).lifecycle)).toEqual({ preStop: { exec: { command: ["sleep", String(PRE_STOP_DELAY_SECONDS)] } } });
        }
        expect(podOf(only(first, "kubernetes:apps/v1:StatefulSet", "-es01-statefulset")).terminationGracePeriodSeconds).toBe(120 + PRE_STOP_DELAY_SECONDS);
    });

    test("the provider waits for a roll as long as the nodes need, more with more nodes", () => {
        // 0.4.0: no customTimeouts, so the provider's ten minutes for any number of nodes.
        const timeoutOf = (r: RecordedResource) => r.options.customTimeouts;
        const seconds = (run: ProgramRun) => {
            const t = timeoutOf(only(run, "kubernetes:apps/v1:StatefulSet", "-es01-statefulset"));
            expect(t.create).toMatch(/^\d+s$/);
            expect(t.update).toBe(t.create);
            return Number(t.update.slice(0, -1));
        };
        // Each node may take its stop, its whole start-up budget and a recovery allowance.
        const perNode = PRE_STOP_DELAY_SECONDS + 120 + (3 + 30) * 10 + 300;
        expect(rolloutTimeoutSeconds(clusterSpec())).toBe(3 * perNode);
        expect(seconds(first)).toBe(3 * perNode);
        expect(seconds(scaled)).toBe(5 * perNode);
        expect(timeoutOf(only(first, "kubernetes:apps/v1:Deployment", "-kibana-deployment")).update).toMatch(/^\d+s$/);
    });

    test("every Logstash replica has its own node name: the pod's", () => {
        // 0.4.0: node.name "logstash" in every replica.
        const ls = only(first, "kubernetes:apps/v1:StatefulSet", "-logstash-statefulset");
        const yml = YAML.parse(configFile(first, ls, "/usr/share/logstash/config/logstash.yml")) as Obj;
        expect(yml["node.name"]).toBe("${ELK_NODE_NAME}");
        expect(asList(mainContainer(ls).env)).toContainEqual({ name: "ELK_NODE_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } });
    });

    test("Kibana's heap is left to Node.js unless kibanaHeapMb asks for one", () => {
        // 0.4.0: NODE_OPTIONS=--max-old-space-size=512 whatever the container's memory.
        const kibana = asList(mainContainer(only(first, "kubernetes:apps/v1:Deployment", "-kibana-deployment")).env);
        expect(kibana.map((e) => e.name)).not.toContain("NODE_OPTIONS");
        const settings = (config: Record<string, string>) => parseStackConfig({ project: "elk-stack", stack: "prod", get: (k) => config[k] });
        expect(settings(stackFileConfig("prod")).kibana.heapMb).toBeUndefined();
        const asked = settings({ ...base, kibanaHeapMb: "700" }).kibana;
        expect(asked.heapMb).toBe(700);
        const spec = kibanaSpec({
            name: "kibana",
            elasticsearchHosts: [],
            publicBaseUrl: "https://k",
            version: "9.4.1",
            memoryMb: 1024,
            cpu: { requestMillis: 1, limitMillis: 1 },
            tls: { caCertPem: "", certPem: "", keyPem: "" },
            kibanaSystemPassword: "x",
            encryptionKeys: { security: "x", savedObjects: "x", reporting: "x" },
        });
        expect(spec.env.NODE_OPTIONS).toBeUndefined();
        expect(kibanaSpec({ ...(spec as unknown as Parameters<typeof kibanaSpec>[0]), name: "kibana", elasticsearchHosts: [], publicBaseUrl: "https://k", version: "9.4.1", tls: { caCertPem: "", certPem: "", keyPem: "" }, kibanaSystemPassword: "x", encryptionKeys: { security: "x", savedObjects: "x", reporting: "x" }, heapMb: 700 }).env).toMatchObject({ NODE_OPTIONS: "--max-old-space-size=700" });
        expect(() => settings({ ...base, kibanaHeapMb: "1000", kibanaMemoryMb: "1024" })).toThrow(/kibanaHeapMb'.*at most 75%/);
    });

    test("scaling from three to five nodes changes no certificate, and once formed no configuration", () => {
        const sans = (r: ProgramRun) =>
            ofType(r, "tls:index/certRequest:CertRequest")
                .map((c) => ({ name: c.name, dns: unwrapSecrets(c.inputs.dnsNames) }))
                .sort((a, b) => a.name.localeCompare(b.name));
        // 0.4.0 listed es01-0 ... es01-N: a new certificate, and every pod rolled, for each change of the count.
        expect(sans(first)).toEqual(sans(scaled));
        expect(JSON.stringify(sans(first))).toContain("*.es01-headless.elk.svc");
        expect(JSON.stringify(sans(first))).not.toMatch(/es01-\d\./);
        const { ["cluster.initial_master_nodes"]: initial, ...rest } = esYml(first);
        expect(initial).toEqual(["es01-0", "es01-1", "es01-2"]);
        expect(esYml(scaled)).toEqual(rest);
        expect(specOf(only(scaled, "kubernetes:apps/v1:StatefulSet", "-es01-statefulset")).replicas).toBe(5);
    });

    test("cluster.initial_master_nodes is set until an update saw the cluster formed, and gone after", () => {
        // 0.4.0 kept it forever: a node that lost its volume could bootstrap a second, empty cluster.
        expect(esYml(first)["cluster.initial_master_nodes"]).toEqual(["es01-0", "es01-1", "es01-2"]);
        expect(first.outputs[CLUSTER_FORMATION_OUTPUT].value).toEqual({ cluster: identity, formed: true });
        // The stack reads its own outputs through a reference to itself.
        expect(ofType(first, "pulumi:pulumi:StackReference").map((r) => r.inputs.name)).toEqual(["organization/elk-stack/d2"]);
        expect(esYml(scaled)).not.toHaveProperty("cluster.initial_master_nodes");
        expect(esYml(scaled)["discovery.seed_hosts"]).toEqual(["es01-headless.elk.svc:9300"]);
        expect(scaled.outputs[CLUSTER_FORMATION_OUTPUT].value).toEqual({ cluster: identity, formed: true });
        // Another cluster's record, or one that does not say formed, keeps the setting.
        expect(formedBefore({ cluster: identity, formed: true }, identity)).toBe(true);
        expect(formedBefore({ cluster: "kubernetes/other-ns/elk-d2/es01", formed: true }, identity)).toBe(false);
        expect(formedBefore({ cluster: identity, formed: false }, identity)).toBe(false);
        expect(formedBefore({ cluster: identity, formed: "true" }, identity)).toBe(false);
        expect(formedBefore(undefined, identity)).toBe(false);
    });

    test("the claim templates are recorded when the StatefulSets are created", () => {
        // The claims records; the stack's cluster identity record is tests/dataHome.test.ts's.
        const records = ofType(first, "pulumi:index:Stash").filter((r) => !r.name.endsWith("-cluster-identity")).map((r) => [r.name, r.inputs.input]);
        expect(records).toEqual([
            ["elk-d2-es01-claims", [{ volume: "data", sizeGb: 30, storageClass: null }]],
            ["elk-d2-logstash-claims", [{ volume: "data", sizeGb: 5, storageClass: null }]],
        ]);
        const sts = only(first, "kubernetes:apps/v1:StatefulSet", "-es01-statefulset");
        expect(asObj(asList(specOf(sts).volumeClaimTemplates)[0].spec)).toMatchObject({
            resources: { requests: { storage: "30Gi" } },
        });
        // The spec passes through the check, yet the StatefulSet still depends on what its pods mount and on the record.
        const files = ofType(first, "kubernetes:core/v1:ConfigMap").filter((r) => r.name.endsWith("-es01-files"));
        expect(files).toHaveLength(1);
        expect(sts.dependencies).toContain(files[0].urn);
        expect(sts.dependencies).toContain(only(first, "pulumi:index:Stash", "-es01-claims").urn);
    });
});

describe("Kubernetes day 2: storage changes are refused at preview with the steps to take", () => {
    test("growing elasticsearchStorageGb fails the update before the StatefulSet is sent, naming the key and each step", () => {
        // 0.4.0: the provider replaced the StatefulSet (every pod down at once) and the claims kept 30 GiB.
        // The platform passes the StatefulSet's spec through this check, fed by the claims record (see the
        // program run above for the record; a failing run cannot be observed under the mock runtime, whose
        // failed registration never settles).
        const input = {
            placement: { namespace: "elk", stack: "elk-d2" },
            spec: clusterSpec(50),
            current: claimStorage(clusterSpec(50), undefined),
            keys: { size: "elk-stack:elasticsearchStorageGb", storageClass: "elk-stack:storageClass" },
            recordUrn: "urn:pulumi:d2::elk-stack::elk:index:ElkStack$elk:index:Elasticsearch$pulumi:index:Stash::elk-d2-es01-claims",
        };
        let error: unknown;
        try {
            refuseStorageChange({ ...input, previous: claimStorage(clusterSpec(30), undefined) });
        } catch (e) {
            error = e;
        }
        expect(error).toBeInstanceOf(pulumi.RunError);
        const message = String((error as Error).message);
        expect(message).toContain("Refused change of 'elk-stack:elasticsearchStorageGb'");
        expect(message).toContain("30 GiB, not 50 GiB");
        for (const i of [0, 1, 2]) expect(message).toContain(`kubectl -n elk patch pvc data-es01-${i} -p '{"spec":{"resources":{"requests":{"storage":"50Gi"}}}}'`);
        expect(message).toContain("kubectl -n elk delete statefulset es01 --cascade=orphan");
        expect(message).toContain(`pulumi up --replace '${input.recordUrn}'`);
        // The patch each step sends is valid JSON for a claim.
        const patch = /patch pvc \S+ -p '([^']+)'/.exec(message)?.[1] ?? "";
        expect(JSON.parse(patch)).toEqual({ spec: { resources: { requests: { storage: "50Gi" } } } });
        // The same size, or a record this program did not write, passes.
        expect(() => refuseStorageChange({ ...input, previous: claimStorage(clusterSpec(50), undefined) })).not.toThrow();
        expect(() => refuseStorageChange({ ...input, previous: undefined })).not.toThrow();
    });

    test("shrinking or another class: refused, with the way back", () => {
        const spec = clusterSpec(20);
        const common = { placement: { namespace: "elk", stack: "c" }, spec, keys: { size: "p:elasticsearchStorageGb", storageClass: "p:storageClass" }, recordUrn: "urn:x" };
        const shrink = storageChangeRefusal({ ...common, previous: claimStorage(clusterSpec(30), undefined), current: claimStorage(spec, undefined) });
        expect(shrink).toMatch(/Refused change of 'p:elasticsearchStorageGb'.*30 GiB, not 20 GiB; a claim never shrinks\. Fix: set 'p:elasticsearchStorageGb' back to 30/);
        const moved = storageChangeRefusal({ ...common, previous: claimStorage(spec, undefined), current: claimStorage(spec, "fast-ssd") });
        expect(moved).toMatch(/Refused change of 'p:storageClass'.*the cluster's default class, not class fast-ssd.*Fix: set 'p:storageClass' back \(remove it\)/);
        expect(storageChangeRefusal({ ...common, previous: claimStorage(spec, "fast-ssd"), current: claimStorage(spec, "fast-ssd") })).toBeUndefined();
        // The shared snapshot claim is not a claim template: its own PersistentVolumeClaim, outside this check.
        expect(claimStorage({ ...spec, volumes: [...spec.volumes, { name: "snapshots", mountPath: "/s", durable: true, sizeGb: 9, shared: {} }] }, undefined)).toHaveLength(1);
    });
});

describe("Kubernetes day 2: the readiness script against a stand-in Elasticsearch on 127.0.0.1", () => {
    const PASSWORD = 'pa"ss\\word-0123456789';
    let dir: string;
    let pki: TestPki;
    let server: { url: string; port: number; close: () => Promise<void> };
    /** What the stand-in answers to `_cluster/health`: a status, or 503 (no master elected yet). */
    let health: "green" | "yellow" | "red" | "no-master" = "no-master";
    const seen: { path: string; auth: string | undefined }[] = [];
    /** Requests Elasticsearch would have refused for another reason than the credentials. */
    const refused: string[] = [];

    beforeAll(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "elk-readiness-"));
        pki = await makeTestPki(dir);
        const srv = https.createServer({ cert: fs.readFileSync(pki.serverCert), key: fs.readFileSync(pki.serverKey) }, (req, res) => {
            seen.push({ path: req.url ?? "", auth: req.headers.authorization });
            const expected = `Basic ${Buffer.from(`elastic:${PASSWORD}`).toString("base64")}`;
            const send = (code: number, body: unknown) => {
                res.writeHead(code, { "content-type": "application/json" });
                res.end(JSON.stringify(body));
            };
            // Elasticsearch 9.4's own checks first: route, method, credentials, parameters (tests/support/esRestApi.ts).
            const checked = gate({ method: req.method ?? "", url: req.url ?? "/", rawBody: "", contentType: req.headers["content-type"], accept: req.headers.accept, user: "elastic", authenticated: req.headers.authorization === expected });
            if (isRefusal(checked)) {
                if (checked.status !== 401) refused.push(`${req.method ?? ""} ${req.url ?? ""}: ${JSON.stringify(checked.body)}`);
                return respond(res, checked);
            }
            const url = new URL(req.url ?? "/", "https://localhost");
            if (url.pathname !== "/_cluster/health") return send(200, { tagline: "You Know, for Search" });
            if (health === "no-master") return send(503, { error: { type: "master_not_discovered_exception" }, status: 503 });
            const wanted = url.searchParams.get("wait_for_status");
            const rank = { red: 0, yellow: 1, green: 2 } as const;
            // Like Elasticsearch: 408 and timed_out when the wanted status was not reached within the timeout.
            const reached = wanted === null || rank[health] >= rank[wanted as keyof typeof rank];
            send(reached ? 200 : 408, { cluster_name: "elk", status: health, timed_out: !reached, number_of_nodes: 3 });
        });
        server = await serveOnLoopback(srv);
    });
    afterAll(async () => {
        await server.close();
        fs.rmSync(dir, { recursive: true, force: true });
        // Every request the readiness script made was one Elasticsearch accepts.
        expect(refused).toEqual([]);
    });

    /** Runs the probe command as the kubelet does (`sh -c`), bounded in time; resolves with its exit code. */
    function probe(level: "green" | "yellow", marker: string, password: string | null): Promise<number | null> {
        const passwordFile = path.join(dir, `password-${path.basename(marker)}`);
        if (password !== null) fs.writeFileSync(passwordFile, password, { mode: 0o600 });
        const command = elasticsearchReadinessCommand({ caPath: pki.caCert, url: `https://localhost:${server.port}`, level, marker, passwordFile });
        return new Promise((resolve, reject) => {
            // Nothing in the environment but PATH: the password comes from its file only.
            const child = spawn("sh", ["-c", command], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, stdio: "ignore" });
            const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
            child.on("error", reject);
            child.on("close", (code) => {
                clearTimeout(timer);
                resolve(code);
            });
        });
    }

    test("not ready before a master is elected or below the level; ready at it, then only while the node answers", async () => {
        const marker = path.join(dir, "marker-green");
        const env = PASSWORD;
        health = "no-master";
        expect(await probe("green", marker, env)).not.toBe(0);
        health = "yellow";
        // A restarted node's replicas still recovering: the roll must wait.
        expect(await probe("green", marker, env)).not.toBe(0);
        expect(fs.existsSync(marker)).toBe(false);
        health = "green";
        expect(await probe("green", marker, env)).toBe(0);
        expect(fs.existsSync(marker)).toBe(true);
        // Later trouble elsewhere in the cluster does not take this node out of its Service.
        health = "red";
        expect(await probe("green", marker, env)).toBe(0);
        const healthCalls = seen.filter((s) => s.path.startsWith("/_cluster/health"));
        expect(healthCalls.every((s) => s.path === "/_cluster/health?wait_for_status=green&timeout=5s")).toBe(true);
        expect(healthCalls.every((s) => s.auth === `Basic ${Buffer.from(`elastic:${PASSWORD}`).toString("base64")}`)).toBe(true);
        // Once ready, it asks only the node's root, without a password.
        expect(seen[seen.length - 1]).toEqual({ path: "/", auth: undefined });
    }, 60_000);

    test("a single node waits for yellow only", async () => {
        const marker = path.join(dir, "marker-yellow");
        health = "red";
        expect(await probe("yellow", marker, PASSWORD)).not.toBe(0);
        health = "yellow";
        expect(await probe("yellow", marker, PASSWORD)).toBe(0);
    }, 60_000);

    test("a wrong password or a server the CA does not vouch for is never ready", async () => {
        health = "green";
        expect(await probe("green", path.join(dir, "marker-wrong"), "wrong-password-123456")).not.toBe(0);
        expect(await probe("green", path.join(dir, "marker-nopw"), null)).not.toBe(0);
        const rogueFile = path.join(dir, "password-rogue");
        fs.writeFileSync(rogueFile, PASSWORD, { mode: 0o600 });
        const rogue = elasticsearchReadinessCommand({ caPath: pki.rogueCaCert, url: `https://localhost:${server.port}`, level: "green", marker: path.join(dir, "marker-rogue"), passwordFile: rogueFile });
        const code = await new Promise<number | null>((resolve) => {
            const child = spawn("sh", ["-c", rogue], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, stdio: "ignore" });
            child.on("close", resolve);
        });
        expect(code).not.toBe(0);
        expect(fs.existsSync(path.join(dir, "marker-wrong"))).toBe(false);
    }, 60_000);
});
