/**
 * Issue 19, point 3: the stack and the operator share the Elasticsearch, Kibana and Logstash resources under
 * server-side apply. The operator's full-object updates (a model of them in tests/support/eck/ownership.ts) must
 * rewrite no field the stack applies, so the stack's next apply conflicts on nothing; the stack applies with
 * `pulumi.com/patchForce` besides, and sets no annotation the operator writes.
 */
import { ECK_OPERATOR_VERSION, PATCH_FORCE_ANNOTATION } from "../components/targets/eckResources";
import { gibibytes, mebibytes, millicores } from "../components/targets/quantities";
import { ECK_TAG, OPERATOR_ANNOTATIONS, applyConflicts, goQuantity, operatorOwnsAnnotation, operatorUpdate, rewrittenFields } from "./support/eck/ownership";
import type { CustomResource } from "./support/eck/naming";
import { type ProgramRun, type RecordedResource, runProgram, stackFileConfig, unwrapSecrets } from "./support/program";

type Cr = CustomResource & { metadata: { annotations?: Record<string, string> } };
const CR_TYPES = ["kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch", "kubernetes:kibana.k8s.elastic.co/v1:Kibana", "kubernetes:logstash.k8s.elastic.co/v1alpha1:Logstash"];
const bodyOf = (r: RecordedResource): Cr => unwrapSecrets(r.inputs) as Cr;

describe("the model of a Go round trip of quantities", () => {
    test("the model was read from the operator the stack installs", () => {
        expect(ECK_TAG).toBe(`v${ECK_OPERATOR_VERSION}`);
    });

    test("matches apimachinery's own parse-and-emit table (pkg/api/resource/quantity_test.go TestQuantityParseEmit)", () => {
        const table: [string, string][] = [
            ["1Ki", "1Ki"],
            ["1Mi", "1Mi"],
            ["1Gi", "1Gi"],
            ["1024Mi", "1Gi"],
            ["1000M", "1G"],
            [".001Ki", "1024m"],
            [".000001Ki", "1024u"],
            [".000000001Ki", "1024n"],
            [".000000000001Ki", "2n"],
        ];
        for (const [input, out] of table) {
            expect(goQuantity(input)).toBe(out);
            expect(goQuantity(`-${input}`)).toBe(`-${out}`);
        }
    });

    test("rewrites what the stack used to write, keeps what is canonical", () => {
        expect(goQuantity("2048Mi")).toBe("2Gi");
        expect(goQuantity("8192Mi")).toBe("8Gi");
        expect(goQuantity("1000m")).toBe("1");
        expect(goQuantity("2000m")).toBe("2");
        expect(goQuantity("0.5")).toBe("500m");
        expect(goQuantity("1024Gi")).toBe("1Ti");
        for (const kept of ["1536Mi", "500m", "1500m", "30Gi", "200Gi", "1", "0"]) expect(goQuantity(kept)).toBe(kept);
        expect(() => goQuantity("2 GB")).toThrow("not a quantity");
    });

    test("the stack's quantities are what the Go types write back, and the same amounts", () => {
        const wrong: string[] = [];
        for (let n = 1; n <= 65_536; n++) {
            const cases: [string, string, string][] = [
                [mebibytes(n), goQuantity(mebibytes(n)), goQuantity(`${n}Mi`)],
                [millicores(n), goQuantity(millicores(n)), goQuantity(`${n}m`)],
                [gibibytes(n), goQuantity(gibibytes(n)), goQuantity(`${n}Gi`)],
            ];
            for (const [written, back, same] of cases) if (written !== back || written !== same) wrong.push(`${n}: ${written} ${back} ${same}`);
        }
        expect(wrong).toEqual([]);
    });
});

describe("the model of the operator's updates", () => {
    const es: Cr = {
        kind: "Elasticsearch",
        metadata: { name: "elk", namespace: "elk", annotations: { "pulumi.com/waitFor": "x" } },
        spec: { nodeSets: [{ name: "default", count: 1, podTemplate: { spec: { containers: [{ name: "elasticsearch", resources: { limits: { memory: "2048Mi", cpu: "1000m" } } }] } }, volumeClaimTemplates: [{ metadata: { name: "elasticsearch-data" }, spec: { resources: { requests: { storage: "30Gi" } } } }] }] },
    };

    test("is strict: a non-canonical quantity, and an annotation of the operator's, are conflicts", () => {
        expect(applyConflicts(es)).toEqual(["spec.nodeSets[0].podTemplate.spec.containers[0].resources.limits.memory", "spec.nodeSets[0].podTemplate.spec.containers[0].resources.limits.cpu"]);
        const claimsUuid = { ...es, metadata: { ...es.metadata, annotations: { "elasticsearch.k8s.elastic.co/cluster-uuid": "mine" } } };
        expect(applyConflicts(claimsUuid)).toContain("metadata.annotations.elasticsearch.k8s.elastic.co/cluster-uuid");
        // What the update adds is the operator's own, and rewrites nothing.
        const updated = operatorUpdate(es, { "elasticsearch.k8s.elastic.co/cluster-uuid": "u" });
        expect(updated.metadata.annotations).toEqual({ "pulumi.com/waitFor": "x", "elasticsearch.k8s.elastic.co/cluster-uuid": "u" });
        expect(rewrittenFields({ a: 1, b: [1, 2] }, { a: 1, b: [1, 2], c: 3 })).toEqual([]);
        expect(rewrittenFields({ a: 1 }, { a: 2 })).toEqual(["a"]);
    });

    test("knows each annotation's writer, and prefixes", () => {
        expect(operatorOwnsAnnotation("Elasticsearch", "elasticsearch.k8s.elastic.co/recreate-elk-es-hot")).toBe(true);
        expect(operatorOwnsAnnotation("Kibana", "association.k8s.elastic.co/es-conf")).toBe(true);
        expect(operatorOwnsAnnotation("Elasticsearch", "pulumi.com/patchForce")).toBe(false);
        for (const list of Object.values(OPERATOR_ANNOTATIONS)) for (const a of list) expect(a.source).toMatch(/^pkg\//);
    });
});

describe.each([
    { stack: "prod", config: () => stackFileConfig("prod") },
    { stack: "staging", config: () => stackFileConfig("staging") },
])("the $stack stack's custom resources under the operator's updates", ({ stack, config }) => {
    let run: ProgramRun;
    beforeAll(async () => {
        run = await runProgram(config(), { stack });
    });

    test("all three are registered, applied with force, with no annotation the operator writes", () => {
        const crs = run.resources.filter((r) => CR_TYPES.includes(r.type));
        expect(crs.map((r) => bodyOf(r).kind).sort()).toEqual(["Elasticsearch", "Kibana", "Logstash"]);
        for (const r of crs) {
            const annotations = bodyOf(r).metadata.annotations ?? {};
            expect(`${r.name}: ${annotations[PATCH_FORCE_ANNOTATION]}`).toBe(`${r.name}: true`);
            expect(Object.keys(annotations).filter((k) => operatorOwnsAnnotation(bodyOf(r).kind, k))).toEqual([]);
        }
    });

    test("the operator's updates rewrite no field the stack applies: its next apply conflicts on nothing", () => {
        for (const r of run.resources.filter((x) => CR_TYPES.includes(x.type))) {
            expect(`${r.name}: ${JSON.stringify(applyConflicts(bodyOf(r)))}`).toBe(`${r.name}: []`);
        }
    });
});
