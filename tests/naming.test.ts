/**
 * Many stacks per program: Pulumi names from the component's name, physical names from `namePrefix`, and the
 * URNs of stacks deployed with 0.4.0 kept (as the same URN or through an alias) so an upgrade replaces nothing.
 */
import * as fs from "fs";
import * as path from "path";
import type { ElkStackArgs } from "../components/resources/elkStack";
import { childName, formerNames } from "../components/model/naming";
import { claimName, claimPort } from "../components/targets/dockerClaims";
import { type ProgramRun, type RecordedResource, aliasUrns, isSecretValue, onManifestsEngine, runProgram, stackFileConfig, unwrapSecrets } from "./support/program";
import { type CustomResource, derivedObjects } from "./support/eck/naming";

interface UrnFixture {
    readonly stacks: Record<string, { readonly urns: readonly string[] }>;
}
const FIXTURE = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", "urns-0.4.0.json"), "utf8")) as UrnFixture;

/** A program of two (or more) ElkStacks, each with its own name, config (over `config`) and arguments. */
function stacksProgram(config: Record<string, string>, stacks: readonly { name: string; config?: Record<string, string>; args?: Partial<ElkStackArgs> }[]) {
    return async () => {
        const { parseStackConfig } = await import("../components/model/config");
        const { ElkStack } = await import("../components/resources/elkStack");
        const out: Record<string, unknown> = {};
        for (const s of stacks) {
            const settings = parseStackConfig({ project: "elk-stack", stack: "dev", get: (k) => ({ ...config, ...s.config })[k] });
            out[s.name] = new ElkStack(s.name, { settings, ...s.args }).elasticsearchUrl;
        }
        return out;
    };
}

/**
 * The message `program` stops with, from a run that otherwise completes: a program that throws half-way leaves the
 * first stack's registrations in flight, which the mock runtime would meet after the harness disconnected it.
 */
async function refusal(program: () => Promise<Record<string, unknown>>): Promise<string> {
    const run = await runProgram(
        {},
        {
            program: async () => {
                try {
                    await program();
                    return { refused: "" };
                } catch (e) {
                    return { refused: e instanceof Error ? e.message : String(e) };
                }
            },
        },
    );
    return String(run.outputs.refused.value);
}

/** `namespace/name` of every Kubernetes object `r` names, by kind; none for an object the provider names. */
function physicalName(r: RecordedResource): { kind: string; key: string } | undefined {
    const body = asObj(r.inputs);
    const meta = asObj(body.metadata);
    if (typeof meta.name !== "string") return undefined;
    const kind = typeof body.kind === "string" ? body.kind : r.type.split(":").pop() ?? r.type;
    return { kind, key: `${String(meta.namespace)}/${meta.name}` };
}

/** The custom resources of the eck engine among what a run registered. */
const customResources = (run: ProgramRun) => run.resources.filter((r) => /^kubernetes:(elasticsearch|kibana|logstash)\.k8s\.elastic\.co\//.test(r.type));

const asObj = (v: unknown) => (unwrapSecrets(v) ?? {}) as Record<string, unknown>;
const byParentStack = (run: ProgramRun, stackName: string) => run.resources.filter((r) => r.urn.endsWith(`::${stackName}`) || r.name.startsWith(`${stackName}-`));

/**
 * Aliases that are another resource's URN (`live`), and aliases more than one resource claims (`shared`). The engine
 * refuses a shared alias only when the stack's state holds a resource under it (step_generator.go in
 * pulumi/pulumi, GetDuplicateResourceAliasError).
 */
function aliasClashes(run: ProgramRun): { live: string[]; shared: string[] } {
    const urns = new Set(run.resources.map((r) => r.urn));
    const claims = new Map<string, number>();
    for (const r of run.resources) for (const a of new Set(aliasUrns(r))) claims.set(a, (claims.get(a) ?? 0) + 1);
    return { live: [...claims.keys()].filter((a) => urns.has(a)), shared: [...claims].filter(([, n]) => n > 1).map(([a]) => a) };
}

describe("naming helpers", () => {
    test("childName joins the owner's name and the parts; an owner is required", () => {
        expect(childName("logs", "es01", "headless")).toBe("logs-es01-headless");
        expect(() => childName("", "es01")).toThrow("owner");
    });
    test("formerNames gives one alias per earlier name that differs, none when nothing changed", () => {
        expect(formerNames("logs-es01", "elk-es01", undefined, "elk-es01", "logs-es01")).toEqual([{ name: "elk-es01" }]);
        expect(formerNames("elk-dev-es01", "elk-dev-es01")).toEqual([]);
    });
});

describe.each([
    { stack: "dev", config: () => stackFileConfig("dev") },
    // The manifests engine: a 0.4.0 stack moving to another engine is a migration, not this upgrade.
    // A 0.4.0 Kubernetes stack upgrades on the engine it ran on (the eck engine is a migration): manifests, with its
    // node count instead of the node sets Pulumi.prod.yaml now has.
    { stack: "prod", config: () => onManifestsEngine(stackFileConfig("prod")) },
])("upgrading the $stack stack from 0.4.0", ({ stack, config }) => {
    let run: ProgramRun;
    beforeAll(async () => {
        run = await runProgram(config(), { stack });
    });

    test("every URN of 0.4.0 is still the URN of a resource of the same type, or an alias of exactly one resource", () => {
        const recorded = FIXTURE.stacks[stack].urns;
        expect(recorded.length).toBeGreaterThan(40);
        const byUrn = new Map(run.resources.map((r) => [r.urn, r]));
        const lost: string[] = [];
        for (const urn of recorded) {
            const same = byUrn.get(urn);
            const claimants = run.resources.filter((r) => aliasUrns(r).includes(urn));
            if (same) {
                // The type is the part after the last '$' of the URN's type chain.
                expect(urn.split("::")[2].split("$").pop()).toBe(same.type);
                expect(claimants).toEqual([]);
            } else if (claimants.length !== 1) {
                lost.push(`${urn} (claimed by ${claimants.length})`);
            }
        }
        expect(lost).toEqual([]);
    });

    test("no alias is claimed twice or names a URN another resource has", () => {
        expect(aliasClashes(run)).toEqual({ live: [], shared: [] });
    });
});

describe("two stacks in one program on Docker", () => {
    const base = { target: "docker", clusterName: "elk-dev" };

    test("configured apart (namePrefix, ports), no physical name and no host port clashes", async () => {
        const run = await runProgram(
            {},
            {
                program: stacksProgram(base, [
                    { name: "logs-a", args: { namePrefix: "logs-a" } },
                    {
                        name: "logs-b",
                        config: { elasticsearchPort: "9201", kibanaPort: "5602", nginxSyslogPort: "5150", logSources: '["nginx:web", "django:shop:5151"]' },
                        args: { namePrefix: "logs-b" },
                    },
                ]),
            },
        );
        // The same clusterName for both, and yet no URN twice (runProgram would throw): names come from the component's.
        expect(run.resources.filter((r) => r.type === "elk:index:ElkStack").map((r) => r.name)).toEqual(["logs-a", "logs-b"]);
        expect(byParentStack(run, "logs-a").length).toBe(byParentStack(run, "logs-b").length);
        expect(byParentStack(run, "logs-a").length).toBeGreaterThan(40);
        const physical = (type: string) => run.resources.filter((r) => r.type === type).map((r) => String(r.inputs.name));
        for (const type of ["docker:index/container:Container", "docker:index/volume:Volume", "docker:index/network:Network"]) {
            const names = physical(type);
            expect(names.length).toBeGreaterThan(0);
            expect(new Set(names).size).toBe(names.length);
        }
        expect(physical("docker:index/container:Container")).toEqual(expect.arrayContaining(["logs-a-es01", "logs-b-es01"]));
        const hostPorts = run.resources
            .filter((r) => r.type === "docker:index/container:Container")
            .flatMap((r) => ((unwrapSecrets(r.inputs.ports) ?? []) as { external: number; protocol: string }[]).map((p) => `${p.protocol}/${p.external}`));
        // Elasticsearch, Kibana, nginx's UDP and the Django source's TCP port, twice.
        expect(hostPorts.length).toBe(8);
        expect(new Set(hostPorts).size).toBe(hostPorts.length);
        // Both stacks claim the 0.4.0 names of the data volumes, which 0.4.0 keyed by the Pulumi stack's name alone: harmless
        // in a new program, refused by the engine when a 0.4.0 stack is upgraded and a second one added in one update.
        expect(aliasClashes(run).live).toEqual([]);
        expect(aliasClashes(run).shared.sort()).toEqual([
            "urn:pulumi:dev::elk-stack::elk:index:Elasticsearch$docker:index/volume:Volume::dev-elasticsearch-data",
            "urn:pulumi:dev::elk-stack::elk:index:Elasticsearch$docker:index/volume:Volume::dev-elasticsearch-snapshots",
            "urn:pulumi:dev::elk-stack::elk:index:Kibana$docker:index/volume:Volume::dev-kibana-data",
            "urn:pulumi:dev::elk-stack::elk:index:Logstash$docker:index/volume:Volume::dev-logstash-data",
        ]);
        // The Docker data volumes are keyed by each stack's own name.
        expect(run.resources.filter((r) => r.type === "docker:index/volume:Volume").map((r) => r.name).sort()).toContain("logs-b-elasticsearch-data");
    });

    test("three stacks with default settings: refused at preview, naming both stacks, the volumes they would share and the fix", async () => {
        // On 0.4.0 and up to this check, all three silently shared the network elk-dev-net, the volumes (Elasticsearch's
        // data among them: Docker hands an existing volume to whoever creates it), seven container names and four host ports.
        const refused = await refusal(stacksProgram(base, [{ name: "logs-a" }, { name: "logs-b" }, { name: "logs-c" }]));
        expect(refused).toContain("Docker network 'elk-dev-net' is claimed by two stacks on the default Docker provider's engine: 'logs-a' and 'logs-b', both with name prefix 'elk-dev'.");
        expect(refused).toMatch(/they would also share the volumes elk-dev-es01-data \(Elasticsearch node's data\), elk-dev-es01-snapshots \(Elasticsearch node's snapshots\), elk-dev-kibana-data \(Kibana's data\), elk-dev-logstash-data \(Logstash's data\)\./);
        expect(refused).toContain('Fix: give each stack its own namePrefix (new ElkStack("logs-b", { ..., namePrefix: "logs-b" })) and its own host ports, or put it on another Docker engine');
    });

    test("their own name prefixes but the same host ports: refused, naming the port, both stacks and the fix", async () => {
        expect(await refusal(stacksProgram(base, [{ name: "logs-a", args: { namePrefix: "logs-a" } }, { name: "logs-b", args: { namePrefix: "logs-b" } }]))).toContain(
            "host port TCP 127.0.0.1:9200 is published by two stacks on the default Docker provider's engine: 'logs-a' (container logs-a-es01, 127.0.0.1:9200) and 'logs-b' (container logs-b-es01); the second container would not start. Fix: give stack 'logs-b' its own host ports",
        );
    });

    test("the claims behind it: per engine, per stack, a port per protocol and overlapping address", () => {
        const a = { stack: "a", namePrefix: "elk" };
        const b = { stack: "b", namePrefix: "elk" };
        // Two explicit providers are two engines, as far as a program can tell; the default provider is a third.
        const [one, two] = [{}, {}] as unknown as import("@pulumi/pulumi").ProviderResource[];
        expect(claimName(one, a, { kind: "volume", name: "elk-es01-data" })).toBeUndefined();
        expect(claimName(two, b, { kind: "volume", name: "elk-es01-data" })).toBeUndefined();
        // The same stack again (one program building it twice registers its URNs twice: the engine refuses that).
        expect(claimName(one, a, { kind: "volume", name: "elk-es01-data" })).toBeUndefined();
        expect(claimName(one, b, { kind: "volume", name: "elk-es01-data", what: "Elasticsearch node's data" })).toMatch(
            /^Docker volume 'elk-es01-data' \(Elasticsearch node's data\) is claimed by two stacks on one Docker provider's engine: 'a' and 'b'.*Docker hands an existing volume to whoever creates it again/,
        );
        const port = (address: string, protocol: "tcp" | "udp" = "tcp") => ({ protocol, address, port: 5140, container: "c" });
        expect(claimPort(one, a, port("127.0.0.1"))).toBeUndefined();
        expect(claimPort(one, b, port("127.0.0.2"))).toBeUndefined();
        expect(claimPort(one, b, port("127.0.0.1", "udp"))).toBeUndefined();
        expect(claimPort(one, b, port("::1"))).toBeUndefined();
        expect(claimPort(two, b, port("127.0.0.1"))).toBeUndefined();
        expect(claimPort(one, b, port("0.0.0.0"))).toMatch(/^host port TCP 0\.0\.0\.0:5140 is published by two stacks .*'a' \(container c, 127\.0\.0\.1:5140\) and 'b'/);
        expect(claimPort(one, b, port("::"))).toMatch(/^host port TCP \[::\]:5140/);
    });

    test("the harness refuses a program that registers one URN twice (the mock runtime alone does not)", async () => {
        const twice = async () => {
            const random = await import("@pulumi/random");
            for (let i = 0; i < 2; i++) new random.RandomPassword("same", { length: 16 });
            return {};
        };
        await expect(runProgram({}, { program: twice })).rejects.toThrow("registers these URNs more than once: urn:pulumi:dev::elk-stack::random:index/randomPassword:RandomPassword::same");
        // The same program with two names passes.
        const apart = async () => {
            const random = await import("@pulumi/random");
            for (const n of ["one", "two"]) new random.RandomPassword(n, { length: 16 });
            return {};
        };
        expect((await runProgram({}, { program: apart })).resources.map((r) => r.name)).toEqual(["one", "two"]);
    });
});

describe("two stacks in one namespace on Kubernetes", () => {
    // A namespace neither stack owns (createNamespace false), which is the only way 'default' is accepted.
    // The stack's own workloads, whose object names namePrefix sets (on eck the custom resources are named after the
    // cluster and instance names, and one operator serves the namespace: see docs/api.md).
    const base = { target: "kubernetes", kubernetesEngine: "manifests", clusterName: "elk", kubernetesNamespace: "default", createNamespace: "false" };
    const KUBECONFIG = "apiVersion: v1\nkind: Config\n";
    let run: ProgramRun;
    beforeAll(async () => {
        run = await runProgram(
            {},
            {
                program: stacksProgram(base, [
                    { name: "logs-a", config: { kubeconfig: KUBECONFIG }, args: { namePrefix: "logs-a" } },
                    { name: "logs-b", args: { namePrefix: "logs-b" } },
                ]),
            },
        );
    });
    const kube = () => run.resources.filter((r) => r.type.startsWith("kubernetes:"));

    test("no object name clashes within a kind, and each stack's pods are selected by its own label", () => {
        expect(kube().length).toBeGreaterThan(40);
        const named = kube().filter((r) => typeof asObj(r.inputs.metadata).name === "string");
        const keys = named.map((r) => `${r.type} ${JSON.stringify(asObj(r.inputs.metadata).namespace)}/${String(asObj(r.inputs.metadata).name)}`);
        expect(new Set(keys).size).toBe(keys.length);
        const sts = run.resources.filter((r) => r.type === "kubernetes:apps/v1:StatefulSet");
        expect(sts.map((r) => asObj(r.inputs.metadata).name).sort()).toEqual(["logs-a-es01", "logs-a-logstash", "logs-b-es01", "logs-b-logstash"]);
        const selectors = sts.map((r) => JSON.stringify((asObj(r.inputs.spec).selector as { matchLabels: unknown }).matchLabels));
        expect(new Set(selectors).size).toBe(4);
        expect(aliasClashes(run)).toEqual({ live: [], shared: [] });
    });

    test("createNamespace: false creates no Namespace and labels none; every object still goes into the namespace", () => {
        expect(run.resources.filter((r) => r.type === "kubernetes:core/v1:Namespace")).toEqual([]);
        for (const o of kube()) expect(`${o.name}: ${String(asObj(o.inputs.metadata).namespace)}`).toBe(`${o.name}: default`);
    });

    test("the certificates and the URLs name the prefixed Services", () => {
        const esCert = run.resources.find((r) => r.type === "tls:index/certRequest:CertRequest" && r.name === "logs-b-es01-cert-csr") as RecordedResource;
        expect(asObj(esCert.inputs).dnsNames).toEqual(expect.arrayContaining(["logs-b-es01.default.svc", "logs-b-es01-headless.default.svc"]));
        expect(run.outputs["logs-b"].value).toBe("https://logs-b-es01.default.svc:9200");
    });

    test("each stack builds its provider from its own kubeconfig, which the provider gets as a secret", () => {
        const providers = run.resources.filter((r) => r.type === "pulumi:providers:kubernetes");
        expect(providers.map((p) => p.name).sort()).toEqual(["logs-a-kubernetes-provider", "logs-b-kubernetes-provider"]);
        const a = providers.find((p) => p.name === "logs-a-kubernetes-provider") as RecordedResource;
        expect(isSecretValue(a.inputs.kubeconfig)).toBe(true);
        expect(unwrapSecrets(a.inputs.kubeconfig)).toBe(KUBECONFIG);
        for (const r of kube()) expect(r.options.provider.startsWith(r.name.startsWith("logs-a-") ? a.urn : `${a.urn.replace("logs-a-", "logs-b-")}`)).toBe(true);
    });
});

describe("two stacks in one namespace on the eck engine", () => {
    // Issue 19 point 7: before, namePrefix was ignored on eck, and the two stacks clashed on the three custom resources,
    // six Secrets and five NetworkPolicies (and on every object the operator derives from the resources' names).
    const base = { target: "kubernetes", kubernetesEngine: "eck", clusterName: "elk", kubernetesNamespace: "default", createNamespace: "false" };
    const crd = (id: string): Record<string, unknown> => {
        const [plural, ...group] = id.split(".");
        const version = plural === "logstashes" ? "v1alpha1" : "v1";
        return { metadata: { name: id }, spec: { group: group.join("."), versions: [{ name: version, served: true, storage: true }] } };
    };
    let run: ProgramRun;
    beforeAll(async () => {
        run = await runProgram(
            {},
            {
                program: stacksProgram(base, [
                    { name: "logs-a", args: { namePrefix: "logs-a" } },
                    // The second stack uses the operator the first installs (and, before, read the CRDs the first installed).
                    { name: "logs-b", config: { eckOperator: "present" }, args: { namePrefix: "logs-b" } },
                ]),
                reads: (type, id) => (type.endsWith("CustomResourceDefinition") ? crd(id) : {}),
            },
        );
    });

    /** Each stack's objects by kind: those it registers with a name, and those the operator derives from its resources. */
    function objectsOf(stack: string): Map<string, Set<string>> {
        const out = new Map<string, Set<string>>();
        const add = (kind: string, key: string) => out.set(kind, (out.get(kind) ?? new Set()).add(key));
        const own = run.resources.filter((r) => r.type.startsWith("kubernetes:") && r.name.startsWith(`${stack}-`));
        for (const r of own) {
            const p = physicalName(r);
            if (p) add(p.kind, p.key);
        }
        for (const r of customResources(run).filter((x) => x.name.startsWith(`${stack}-`))) {
            for (const d of derivedObjects(unwrapSecrets(r.inputs) as CustomResource)) add(d.kind, `${d.namespace}/${d.name}`);
        }
        return out;
    }

    test("no object of one stack, registered or made by the operator, has the name of one of the other's", () => {
        const a = objectsOf("logs-a");
        const b = objectsOf("logs-b");
        const count = (m: Map<string, Set<string>>) => [...m.values()].reduce((n, set) => n + set.size, 0);
        // The custom resources, the stack's Secrets and NetworkPolicies, and what ECK makes: Services, Secrets, workloads.
        expect(count(a)).toBeGreaterThan(50);
        expect(count(b)).toBe(count(a));
        const clashes = [...a].flatMap(([kind, keys]) => [...keys].filter((k) => b.get(kind)?.has(k)).map((k) => `${kind} ${k}`));
        expect(clashes).toEqual([]);
        expect([...(a.get("Elasticsearch") ?? [])]).toEqual(["default/logs-a-elk"]);
        expect([...(a.get("Service") ?? [])]).toEqual(expect.arrayContaining(["default/logs-a-elk-es-http", "default/logs-a-kibana-kb-http", "default/logs-a-logstash-ls-listeners"]));
        expect([...(b.get("Secret") ?? [])]).toEqual(expect.arrayContaining(["default/logs-b-elk-es-elastic-user", "default/logs-b-elk-elk-transport-ca", "default/logs-b-kibana-elk-http-cert"]));
        expect([...(b.get("NetworkPolicy") ?? [])].sort()).toEqual(["default/logs-b-deny-ingress", "default/logs-b-es01-from-eck-operator", "default/logs-b-es01-ingress", "default/logs-b-kibana-ingress", "default/logs-b-logstash-ingress"]);
    });

    test("the only object a stack and the operator both name is the elastic user's Secret, which the operator adopts", () => {
        for (const stack of ["logs-a", "logs-b"]) {
            const registered = new Set(run.resources.filter((r) => r.name.startsWith(`${stack}-`)).flatMap((r) => (physicalName(r) ? [`${physicalName(r)?.kind} ${physicalName(r)?.key}`] : [])));
            const derived = customResources(run)
                .filter((r) => r.name.startsWith(`${stack}-`))
                .flatMap((r) => derivedObjects(unwrapSecrets(r.inputs) as CustomResource).map((d) => `${d.kind} ${d.namespace}/${d.name}`));
            expect(derived.filter((d) => registered.has(d))).toEqual([`Secret default/${stack}-elk-es-elastic-user`]);
        }
    });

    test("each stack's pods and policies select its own label; the URLs and certificates name its own Services", () => {
        for (const stack of ["logs-a", "logs-b"]) {
            for (const r of customResources(run).filter((x) => x.name.startsWith(`${stack}-`))) {
                const body = unwrapSecrets(r.inputs) as { spec: Record<string, unknown> };
                const templates = Array.isArray(body.spec.nodeSets) ? (body.spec.nodeSets as { podTemplate: unknown }[]).map((n) => n.podTemplate) : [body.spec.podTemplate];
                for (const t of templates) expect(asObj(asObj(asObj(t).metadata).labels)["elk-stack.dev/stack"]).toBe(stack);
            }
            const deny = run.resources.find((r) => r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy" && r.name === `${stack}-deny-ingress`) as RecordedResource;
            expect(asObj(asObj(unwrapSecrets(deny.inputs)).spec).podSelector).toEqual({ matchLabels: { "elk-stack.dev/stack": stack } });
        }
        expect(run.outputs["logs-b"].value).toBe("https://logs-b-elk-es-http.default.svc:9200");
        const esCert = run.resources.find((r) => r.type === "tls:index/certRequest:CertRequest" && r.name === "logs-b-es01-cert-csr") as RecordedResource;
        expect(asObj(esCert.inputs).dnsNames).toEqual(expect.arrayContaining(["logs-b-elk-es-http.default.svc", "logs-b-elk-es-internal-http.default.svc"]));
    });

    test("the operator is installed once, watching the namespace; the second stack waits for that release and reads no CRD", () => {
        const releases = run.resources.filter((r) => r.type === "kubernetes:helm.sh/v3:Release");
        expect(releases.map((r) => r.name)).toEqual(["logs-a-eck-operator"]);
        expect(asObj(unwrapSecrets(releases[0].inputs)).values).toEqual({ installCRDs: true, managedNamespaces: ["default"] });
        expect(run.resources.filter((r) => r.type.endsWith("CustomResourceDefinition"))).toEqual([]);
        const es = customResources(run).find((r) => r.name === "logs-b-es01-elasticsearch") as RecordedResource;
        expect(es.dependencies).toContain(releases[0].urn);
    });
});

describe("the operator on the eck engine, with stacks in other namespaces", () => {
    const base = { target: "kubernetes", kubernetesEngine: "eck", clusterName: "elk" };

    test("a stack using the first's operator adds its namespace to those the operator watches", async () => {
        const run = await runProgram(
            {},
            {
                program: stacksProgram(base, [
                    { name: "logs-a", config: { kubernetesNamespace: "logs-a" } },
                    { name: "logs-b", config: { kubernetesNamespace: "logs-b", eckOperator: "present" } },
                ]),
            },
        );
        const releases = run.resources.filter((r) => r.type === "kubernetes:helm.sh/v3:Release");
        expect(releases.map((r) => [r.name, asObj(unwrapSecrets(r.inputs)).values])).toEqual([["logs-a-eck-operator", { installCRDs: true, managedNamespaces: ["logs-a", "logs-b"] }]]);
    });

    test("two stacks installing it into different operator namespaces of one cluster are refused: the CRDs and webhook are the cluster's", async () => {
        const refused = await refusal(
            stacksProgram(base, [
                { name: "logs-a", config: { kubernetesNamespace: "logs-a" } },
                { name: "logs-b", config: { kubernetesNamespace: "logs-b", eckOperatorNamespace: "ops-system" } },
            ]),
        );
        expect(refused).toBe(
            "eckOperator: stacks 'logs-a' and 'logs-b' of this program both install the ECK operator on the same cluster, into namespaces elastic-system and ops-system; " +
                "the operator's CRDs and webhook exist once per cluster, so the second Helm release would fail. " +
                "Fix: set eckOperator to present and eckOperatorNamespace to elastic-system for 'logs-b': it then uses the operator 'logs-a' installs, which also watches namespace logs-b.",
        );
    });

    test("a stack using the first's operator with another eckOperatorNamespace is refused: its policy would admit the operator from where it is not", async () => {
        const refused = await refusal(
            stacksProgram(base, [
                { name: "logs-a", config: { kubernetesNamespace: "logs-a" } },
                { name: "logs-b", config: { kubernetesNamespace: "logs-b", eckOperator: "present", eckOperatorNamespace: "ops-system" } },
            ]),
        );
        expect(refused).toBe(
            "eckOperator: stack 'logs-b' (eckOperator present) names eckOperatorNamespace ops-system, but the ECK operator 'logs-a' installs on the same cluster runs in namespace elastic-system; " +
                "the stack's NetworkPolicy admits the operator's pods from eckOperatorNamespace only, so the operator could not reach Elasticsearch. " +
                "Fix: set eckOperatorNamespace to elastic-system for 'logs-b'.",
        );
    });

    test("stacks on different clusters (kubeconfigs) each install their own", async () => {
        const run = await runProgram(
            {},
            {
                program: stacksProgram(base, [
                    { name: "logs-a", config: { kubeconfig: "apiVersion: v1\nkind: Config\n# a\n" } },
                    { name: "logs-b", config: { kubeconfig: "apiVersion: v1\nkind: Config\n# b\n", kubernetesClusterId: "other" } },
                ]),
            },
        );
        expect(run.resources.filter((r) => r.type === "kubernetes:helm.sh/v3:Release").map((r) => r.name)).toEqual(["logs-a-eck-operator", "logs-b-eck-operator"]);
    });
});

describe("explicit providers", () => {
    /**
     * One program, one stack per way of passing a provider: each gets a provider of its target's package of its own,
     * through `opts.provider`, `opts.providers` or a parent component's `providers`.
     */
    const WAYS = [
        { stack: "k8s-provider", target: "kubernetes", how: "provider" },
        { stack: "k8s-providers", target: "kubernetes", how: "providers" },
        { stack: "k8s-parent", target: "kubernetes", how: "parent" },
        { stack: "docker-providers", target: "docker", how: "providers" },
    ] as const;
    let run: ProgramRun;
    beforeAll(async () => {
        run = await runProgram(
            {},
            {
                program: async () => {
                    const pulumi = await import("@pulumi/pulumi");
                    const k8s = await import("@pulumi/kubernetes");
                    const docker = await import("@pulumi/docker");
                    const { parseStackConfig } = await import("../components/model/config");
                    const { ElkStack } = await import("../components/resources/elkStack");
                    const out: Record<string, unknown> = {};
                    for (const w of WAYS) {
                        const settings = parseStackConfig({ project: "elk-stack", stack: "dev", get: (k) => ({ target: w.target, kubernetesNamespace: w.stack })[k as string] });
                        const provider = w.target === "kubernetes" ? new k8s.Provider(`${w.stack}-cluster`, { kubeconfig: "~/.kube/team" }) : new docker.Provider(`${w.stack}-engine`, { host: "ssh://docker@build-host" });
                        let opts: import("@pulumi/pulumi").ComponentResourceOptions;
                        if (w.how === "provider") opts = { provider };
                        else if (w.how === "providers") opts = { providers: [provider] };
                        else opts = { parent: new pulumi.ComponentResource("team:index:Platform", `${w.stack}-team`, {}, { providers: [provider] }) };
                        out[w.stack] = new ElkStack(w.stack, { settings }, opts).elasticsearchUrl;
                    }
                    return out;
                },
            },
        );
    });

    test.each(WAYS)("$stack: the provider from opts.$how reaches every resource of its package, and no other is made", ({ stack, target }) => {
        const pkg = target === "kubernetes" ? "kubernetes" : "docker";
        const own = run.resources.filter((r) => r.type === `pulumi:providers:${pkg}` && r.name.startsWith(`${stack}-`));
        expect(own.map((p) => p.name)).toEqual([target === "kubernetes" ? `${stack}-cluster` : `${stack}-engine`]);
        const theirs = run.resources.filter((r) => r.type.split(":")[0] === pkg && r.name.startsWith(`${stack}-`));
        expect(theirs.length).toBeGreaterThan(target === "kubernetes" ? 20 : 10);
        for (const r of theirs) expect(`${r.name}: ${r.options.provider}`).toMatch(new RegExp(`^${r.name}: ${own[0].urn.replace(/[$]/g, "\\$")}::`));
    });

    test("no stack built a provider of its own", () => {
        expect(run.resources.filter((r) => r.type.startsWith("pulumi:providers:")).map((r) => r.name).sort()).toEqual(["docker-providers-engine", "k8s-parent-cluster", "k8s-provider-cluster", "k8s-providers-cluster"]);
    });
});

// Last in the file: a program that fails half-way leaves work in flight that would reach the next run's mocks.
describe("two stacks of one program that both install the ECK operator", () => {
    test("are refused, naming both and the fix", async () => {
        const base = { target: "kubernetes", kubernetesEngine: "eck", clusterName: "elk" };
        const both = runProgram({}, { program: stacksProgram(base, [{ name: "logs-a", config: { kubernetesNamespace: "logs-a" } }, { name: "logs-b", config: { kubernetesNamespace: "logs-b" } }]) });
        await expect(both).rejects.toThrow(
            "eckOperator: stacks 'logs-a' and 'logs-b' of this program both install the ECK operator into namespace elastic-system of the same cluster; the operator's CRDs and webhook exist once per cluster, so the second Helm release would fail. Fix: set eckOperator to present for 'logs-b': it then uses the operator 'logs-a' installs, which also watches namespace logs-b.",
        );
    });
});
