/**
 * Every stack file in the repository (Pulumi.<stack>.yaml) evaluated with the real program under the mock runtime:
 * each registers its resources without error, sets only keys the program knows, and the stacks differ the way
 * their purpose says (dev on Docker, prod bigger than staging, each Kubernetes stack in its own namespace).
 */
import * as fs from "fs";
import * as path from "path";
import { CONFIG_SCHEMA, type StackConfig, parseStackConfig } from "../components/model/config";
import { type ProgramRun, type RecordedResource, runProgram, stackFileConfig, unwrapSecrets } from "./support/program";

const ROOT = path.join(__dirname, "..");
/** The stacks that have a stack file, from the file names. */
const STACKS = fs
    .readdirSync(ROOT)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();

const settingsOf = (stack: string): StackConfig =>
    parseStackConfig({ project: "elk-stack", stack, get: (key) => stackFileConfig(stack)[key] });

type Obj = Record<string, unknown>;
const asObj = (v: unknown): Obj => (v ?? {}) as Obj;

/**
 * Elasticsearch's nodes, the main container memory limit of the biggest nodes and the pod anti-affinity of a
 * Kubernetes run: from the StatefulSet (manifests engine) or the Elasticsearch custom resource (eck engine).
 */
function elasticsearchWorkload(run: ProgramRun): { replicas: number; memoryMb: number; antiAffinity: string[] } {
    const sts = run.resources.find((r) => r.type === "kubernetes:apps/v1:StatefulSet" && r.name.endsWith("-es01-statefulset"));
    const pods: { count: number; pod: Obj }[] = [];
    if (sts) {
        const spec = asObj(unwrapSecrets(sts.inputs.spec));
        pods.push({ count: Number(spec.replicas), pod: asObj(asObj(spec.template).spec) });
    } else {
        const es = run.resources.find((r) => r.type === "kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch") as RecordedResource;
        for (const set of asObj(unwrapSecrets(es.inputs.spec)).nodeSets as Obj[]) pods.push({ count: Number(set.count), pod: asObj(asObj(set.podTemplate).spec) });
    }
    // MiB of a memory limit: `1536Mi` on the manifests engine, canonical `2Gi` on eck (components/targets/quantities.ts).
    const memoryOf = (pod: Obj) => {
        const q = String(asObj(asObj((pod.containers as Obj[])[0].resources).limits).memory);
        const m = /^(\d+)(Mi|Gi|Ti)$/.exec(q);
        if (!m) throw new Error(`unexpected memory limit ${q}`);
        return Number(m[1]) * { Mi: 1, Gi: 1024, Ti: 1024 * 1024 }[m[2] as "Mi" | "Gi" | "Ti"];
    };
    const biggest = [...pods].sort((a, b) => memoryOf(b.pod) - memoryOf(a.pod))[0];
    return {
        replicas: pods.reduce((n, p) => n + p.count, 0),
        memoryMb: memoryOf(biggest.pod),
        antiAffinity: Object.keys(asObj(asObj(biggest.pod.affinity).podAntiAffinity)),
    };
}

test("the repository has the dev, staging and prod stack files", () => {
    expect(STACKS).toEqual(expect.arrayContaining(["dev", "prod", "staging"]));
});

describe.each(STACKS)("stack %s", (stack) => {
    let run: ProgramRun;

    beforeAll(async () => {
        run = await runProgram(stackFileConfig(stack), { stack });
    }, 240_000);

    test("sets only config keys the program knows, in the elk-stack namespace", () => {
        const raw = fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8");
        const keys = [...raw.matchAll(/^\s{2}([\w-]+):([\w-]+):/gm)].map((m) => [m[1], m[2]]);
        expect(keys.length).toBeGreaterThan(0);
        for (const [namespace, key] of keys) {
            expect({ key: `${namespace}:${key}`, known: namespace === "elk-stack" && key in CONFIG_SCHEMA }).toEqual({ key: `${namespace}:${key}`, known: true });
        }
    });

    test("registers the whole stack and its outputs", () => {
        const settings = settingsOf(stack);
        expect(run.resources.length).toBeGreaterThan(20);
        expect(run.resources.filter((r) => r.type === "elk:index:ElkStack").map((r) => r.name)).toEqual([settings.clusterName]);
        expect(String(run.outputs.elasticsearchUrl.value)).toMatch(/^https:\/\//);
        expect(String(run.outputs.kibanaUrl.value)).toMatch(/^https:\/\//);
        expect(String(run.outputs.caCertificate.value)).toContain("BEGIN CERTIFICATE");
        expect(run.outputs.elasticPassword.secret).toBe(true);
        const prefix = settings.target === "docker" ? "docker:" : "kubernetes:";
        const other = settings.target === "docker" ? "kubernetes:" : "docker:";
        expect(run.resources.some((r) => r.type.startsWith(prefix))).toBe(true);
        expect(run.resources.filter((r) => r.type.startsWith(other))).toEqual([]);
    });

    test("runs the Elasticsearch nodes and the memory its stack file asks for", () => {
        const settings = settingsOf(stack);
        if (settings.target === "docker") {
            const es = run.resources.find((r) => r.type === "docker:index/container:Container" && r.name === `${settings.clusterName}-es01`) as RecordedResource;
            expect(es.inputs.memory).toBe(settings.elasticsearch.memoryMb);
        } else {
            expect(elasticsearchWorkload(run)).toMatchObject({ replicas: settings.elasticsearch.replicas, memoryMb: settings.elasticsearch.memoryMb });
            const ns = run.resources.find((r) => r.type === "kubernetes:core/v1:Namespace") as RecordedResource;
            expect(asObj(asObj(ns.inputs.metadata)).name).toBe(settings.kubernetes.namespace);
        }
    });
});

describe("the stacks differ as their purpose says", () => {
    test("dev runs on Docker on this machine only; staging and prod on Kubernetes", () => {
        const dev = settingsOf("dev");
        expect(dev.target).toBe("docker");
        expect(dev.bindAddress).toBe("127.0.0.1");
        expect(settingsOf("staging").target).toBe("kubernetes");
        expect(settingsOf("prod").target).toBe("kubernetes");
    });

    test("prod has at least as many Elasticsearch nodes as staging and more memory, CPU and storage per node", () => {
        const staging = settingsOf("staging");
        const prod = settingsOf("prod");
        expect(prod.elasticsearch.replicas).toBeGreaterThanOrEqual(staging.elasticsearch.replicas);
        expect(staging.elasticsearch.replicas).toBe(3);
        expect(prod.elasticsearch.memoryMb).toBeGreaterThan(staging.elasticsearch.memoryMb);
        expect(prod.elasticsearch.heapMb).toBeGreaterThan(staging.elasticsearch.heapMb);
        expect(prod.elasticsearch.cpu.limitMillis).toBeGreaterThan(staging.elasticsearch.cpu.limitMillis);
        expect(prod.elasticsearch.storageGb).toBeGreaterThan(staging.elasticsearch.storageGb);
        expect(staging.logstash.replicas).toBeGreaterThanOrEqual(1);
        expect(staging.logstash.replicas).toBeLessThanOrEqual(prod.logstash.replicas);
    });

    test("staging spreads its pods softly, prod strictly", async () => {
        expect(settingsOf("staging").kubernetes.antiAffinity).toBe("soft");
        expect(settingsOf("prod").kubernetes.antiAffinity).toBe("hard");
        const staging = await runProgram(stackFileConfig("staging"), { stack: "staging" });
        expect(elasticsearchWorkload(staging).antiAffinity).toEqual(["preferredDuringSchedulingIgnoredDuringExecution"]);
    }, 240_000);

    test("each stack has its own cluster name, and each Kubernetes stack its own namespace", () => {
        const all = STACKS.map(settingsOf);
        expect(new Set(all.map((s) => s.clusterName)).size).toBe(all.length);
        const kube = all.filter((s) => s.target === "kubernetes");
        expect(new Set(kube.map((s) => s.kubernetes.namespace)).size).toBe(kube.length);
        expect(settingsOf("staging").kubernetes.namespace).toBe("elk-staging");
    });
});
