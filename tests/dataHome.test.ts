/**
 * Issue 19, point 6: a change that would give a Kubernetes stack a new, empty Elasticsearch cluster (another
 * clusterName, namespace, engine or namePrefix on eck; another cluster for the provider) is refused at preview, with
 * what would be lost and how to proceed deliberately. The stack records where its data is in a `pulumi.Stash`, whose
 * first value the engine keeps (the harness's `stashed` option plays an earlier update), and the model of the
 * operator (tests/support/eck/changes.ts) says which changes make a new cluster. The provider gets a
 * clusterIdentifier, so that a new kubeconfig for the same cluster replaces nothing.
 */
import type { ElkStackArgs } from "../components/resources/elkStack";
import { dataHomeRefusal } from "../components/targets/kubernetes";
import { changeEffects, makesNewCluster } from "./support/eck/changes";
import type { CustomResource } from "./support/eck/naming";
import { type ProgramRun, type RecordedResource, runProgram, unwrapSecrets } from "./support/program";

const ES = "kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch";
const RECORD = "elk-cluster-identity";
const BASE = { target: "kubernetes", clusterName: "elk", kubernetesNamespace: "elk" };

/** The program with one stack named `elk`, as index.ts names its stack after clusterName (here fixed, so URNs stay). */
function oneStack(args: Partial<ElkStackArgs> = {}) {
    return async () => {
        const { parseStackConfig } = await import("../components/model/config");
        const { ElkStack } = await import("../components/resources/elkStack");
        const pulumi = await import("@pulumi/pulumi");
        const settings = parseStackConfig({ project: "elk-stack", stack: "dev", get: (k) => (pulumi.runtime.allConfig() as Record<string, string>)[`elk-stack:${k}`] });
        return { url: new ElkStack("elk", { settings, ...args }).elasticsearchUrl };
    };
}

const recordOf = (run: ProgramRun): RecordedResource => {
    const r = run.resources.find((x) => x.type === "pulumi:index:Stash" && x.name === RECORD);
    if (!r) throw new Error(`no record ${RECORD}`);
    return r;
};
const esOf = (run: ProgramRun): CustomResource => unwrapSecrets(run.resources.find((r) => r.type === ES)?.inputs) as CustomResource;

/** A first update of the stack: what later updates are compared with. */
let first: ProgramRun;
beforeAll(async () => {
    first = await runProgram(BASE, { program: oneStack() });
});

describe("the record of where the stack's data is", () => {

    test("is made at the first update, under the stack itself, whatever the engine", () => {
        const record = recordOf(first);
        expect(record.inputs.input).toEqual({ engine: "eck", namespace: "elk", elasticsearch: "elk", cluster: "default" });
        expect(record.parent).toBe(first.resources.find((r) => r.type === "elk:index:ElkStack")?.urn);
        expect(record.urn).toBe("urn:pulumi:dev::elk-stack::elk:index:ElkStack$pulumi:index:Stash::elk-cluster-identity");
    });

    test("every Kubernetes object waits for the check, so a refused change sends nothing", () => {
        const objects = first.resources.filter((r) => r.type.startsWith("kubernetes:") && !r.type.includes("CustomResourceDefinition"));
        expect(objects.length).toBeGreaterThan(15);
        expect(objects.filter((r) => !r.dependencies.includes(recordOf(first).urn)).map((r) => r.name)).toEqual([]);
    });

    test("a new kubeconfig and context, an upgrade and a resize pass: the same cluster, and the provider told it is the same", async () => {
        const provider = first.resources.find((r) => r.type === "pulumi:providers:kubernetes") as RecordedResource;
        expect(provider.inputs.clusterIdentifier).toBe("default");
        const later = await runProgram(
            { ...BASE, kubeconfig: "apiVersion: v1\nkind: Config\n", kubeContext: "ci", elasticVersion: "9.4.2", elasticsearchMemoryMb: "2048" },
            { program: oneStack(), stashed: { [RECORD]: recordOf(first).inputs.input } },
        );
        const after = later.resources.find((r) => r.type === "pulumi:providers:kubernetes") as RecordedResource;
        // The same provider (URN) with the same clusterIdentifier: pulumi-kubernetes' DiffConfig then replaces nothing.
        expect([after.urn, after.inputs.clusterIdentifier]).toEqual([provider.urn, "default"]);
        expect(later.resources.map((r) => r.urn).sort()).toEqual(first.resources.map((r) => r.urn).sort());
        // The operator rolls the cluster for these, and keeps its data.
        expect(changeEffects(esOf(first), esOf(later)).map((c) => `${c.effect} ${c.path}`)).toEqual(["rolls spec.version", "rolls spec.nodeSets[default].podTemplate"]);
        expect(makesNewCluster(esOf(first), esOf(later))).toBe(false);
    });
});

describe("changes that would make a new, empty cluster are refused at preview", () => {
    const recorded = { engine: "eck", namespace: "elk", elasticsearch: "elk", cluster: "default" };
    const URN = "urn:pulumi:dev::elk-stack::elk:index:ElkStack$pulumi:index:Stash::elk-cluster-identity";

    test.each<{ what: string; config: Record<string, string>; args: Partial<ElkStackArgs>; key: string; back: string }>([
        { what: "clusterName", config: { clusterName: "logs" }, args: {}, key: "'elk-stack:clusterName' (the Elasticsearch object's name: elk -> logs)", back: "'elk-stack:clusterName' back to what names the object elk" },
        { what: "the namespace", config: { kubernetesNamespace: "logs" }, args: {}, key: "'elk-stack:kubernetesNamespace' (the namespace: elk -> logs)", back: "'elk-stack:kubernetesNamespace' back to elk" },
        { what: "namePrefix", config: {}, args: { namePrefix: "team" }, key: "'elk-stack:clusterName (with the stack's namePrefix)' (the Elasticsearch object's name: elk -> team-elk)", back: "back to what names the object elk" },
        { what: "the engine", config: { kubernetesEngine: "manifests" }, args: {}, key: "'elk-stack:kubernetesEngine' (the Kubernetes engine: eck -> manifests)", back: "'elk-stack:kubernetesEngine' back to eck" },
        { what: "the cluster", config: { kubernetesClusterId: "prod-eu-2" }, args: {}, key: "'elk-stack:kubernetesClusterId' (the cluster (the provider's clusterIdentifier): default -> prod-eu-2)", back: "'elk-stack:kubernetesClusterId' back to default" },
    ])("$what: the update fails before anything is sent, saying what would be lost and how to proceed", async ({ config, args, key, back }) => {
        const run = runProgram({ ...BASE, ...config }, { program: oneStack(args), stashed: { [RECORD]: recorded } });
        const error = await run.then(
            () => undefined,
            (e: unknown) => e,
        );
        const message = error instanceof Error ? error.message : String(error);
        expect(message).toContain(`Refused change of ${key}`);
        expect(message).toContain("this stack's data is in the Elasticsearch resource elk/elk (engine eck, cluster default)");
        expect(message).toContain("and its claims (elasticsearch-data-elk-es-<node set>-<n>) stay behind in namespace elk, orphaned, with the data");
        expect(message).toContain(back);
        expect(message).toContain("1. npm run snapshot");
        expect(message).toContain(`2. pulumi up --replace '${URN}'`);
        expect(message).toContain("3. npm run restore");
    });

    test("the model of the operator agrees: each of these is a new Elasticsearch resource, a new cluster", async () => {
        const before = esOf(first);
        const renamed = esOf(await runProgram({ ...BASE, clusterName: "logs", kubernetesNamespace: "logs" }, { program: oneStack({ namePrefix: "team" }) }));
        expect(makesNewCluster(before, renamed)).toBe(true);
        expect(changeEffects(before, renamed).map((c) => c.path)).toEqual(["metadata.namespace", "metadata.name"]);
    });

    test("the refusal itself: only parts that changed, and a record this program did not write is not compared", () => {
        const current = { engine: "manifests" as const, namespace: "elk", elasticsearch: "es01", cluster: "default" };
        const keys = { engine: "e", namespace: "n", elasticsearch: "x", cluster: "c" };
        expect(dataHomeRefusal({ previous: current, current, keys, recordUrn: "u" })).toBeUndefined();
        expect(dataHomeRefusal({ previous: [{ volume: "data" }], current, keys, recordUrn: "u" })).toBeUndefined();
        expect(dataHomeRefusal({ previous: undefined, current, keys, recordUrn: "u" })).toBeUndefined();
        const moved = dataHomeRefusal({ previous: { ...current, elasticsearch: "old" }, current, keys, recordUrn: "u" }) ?? "";
        expect(moved.split("\n")[0]).toBe("Refused change of 'x' (the Elasticsearch object's name: old -> es01): this stack's data is in the StatefulSet elk/old (engine manifests, cluster default).");
        expect(moved).toContain("where its pods start a new, empty cluster on new claims");
        expect(moved).toContain("its claims (data-old-<n>) stay behind in namespace elk");
    });
});
