/**
 * The eck engine's custom resources as the operator (ECK 3.5.0) turns them into pods, users and connections, for every
 * shipped shape (a dev-sized stack, Pulumi.staging.yaml, Pulumi.prod.yaml, a zone-aware prod), each with and without
 * the sysctl step: the model of tests/support/eck/ applied to every rendered resource. The effective pods must meet
 * the namespace's Pod Security level (tests/support/podSecurity.ts), the bootstrap must name only users that exist
 * (tests/support/eck/settings.ts), every connection the operator, its hooks and the stack make must pass the
 * NetworkPolicies (tests/support/networkPolicy.ts), and each shape must schedule on the nodes docs/kubernetes.md
 * names (tests/support/scheduling.ts). The last part shows the stand-ins refuse what the engines refuse.
 */
import { parseStackConfig } from "../components/model/config";
import { DEFAULT_ELASTIC_VERSION, MIN_SUPPORTED_8X } from "../components/model/versions";
import { ECK_KINDS, ECK_OPERATOR_VERSION } from "../components/targets/eckResources";
import { type Connection, type Namespaces, type Policy, evaluate, policyErrors } from "./support/networkPolicy";
import { type PodSecurityLevel, podSecurityViolations } from "./support/podSecurity";
import { type ProgramRun, type RecordedResource, ofType, runProgram, stackFileConfig, unwrapSecrets } from "./support/program";
import { type SchedNode, type SchedPod, fewestNodes, memoryRequestMi, place } from "./support/scheduling";
import { changeEffects } from "./support/eck/changes";
import { eckConnections, jobPod, operatorPod, podOf, refusedConnections } from "./support/eck/network";
import {
    type CustomResource,
    ECK_INIT_CONTAINERS,
    ECK_LABELS,
    ES_DEFAULT_TERMINATION_GRACE_SECONDS,
    type EffectivePod,
    type OperatorOptions,
    type PodSpec,
    effectivePods,
    kibanaPod,
    logstashPod,
    strandedInitContainers,
} from "./support/eck/pods";
import { ECK_TAG, type UserRequest, effectiveSettings, kibanaAssociationSettings, kibanaCredentialProblems, mergeSettings, replayUserRequests, unsupportedSettings, usersAtStart } from "./support/eck/settings";

type Obj = Record<string, unknown>;
const asObj = (v: unknown): Obj => (v ?? {}) as Obj;
const body = (r: RecordedResource): Obj => unwrapSecrets(r.inputs) as Obj;

const ES = "kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch";
const KB = "kubernetes:kibana.k8s.elastic.co/v1:Kibana";
const LS = "kubernetes:logstash.k8s.elastic.co/v1alpha1:Logstash";
const JOB = "kubernetes:batch/v1:Job";
const NS = "kubernetes:core/v1:Namespace";
const NP = "kubernetes:networking.k8s.io/v1:NetworkPolicy";

/** The operator's flag both ways: the default ("auto-detect", true off OpenShift) and off. */
const OPERATOR_MODES: OperatorOptions[] = [{ setDefaultSecurityContext: true }, { setDefaultSecurityContext: false }];

const ZONES = ["eu-1a", "eu-1b", "eu-1c"];
/** A one-node stack with an s3 snapshot repository, whose credentials give Elasticsearch secure settings too. */
const S3 = { snapshotS3AccessKey: "AKIAIOSFODNN7EXAMPLE", snapshotS3SecretKey: "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY" };
const DEV = { target: "kubernetes", clusterName: "elk-eck", snapshotRepositoryType: "s3", snapshotBucket: "elk-backups", ...S3 };
const SHAPES: { name: string; stack: string; config: Record<string, string>; present?: boolean; secretKeys?: string[] }[] = [
    { name: "a dev-sized stack", stack: "eckdev", config: DEV, secretKeys: Object.keys(S3) },
    { name: "Pulumi.staging.yaml", stack: "staging", config: stackFileConfig("staging") },
    { name: "Pulumi.prod.yaml", stack: "prod", config: stackFileConfig("prod") },
    { name: "zone-aware prod", stack: "prod", config: { ...stackFileConfig("prod"), elasticsearchZones: JSON.stringify(ZONES) } },
    { name: "prod with an operator someone else runs", stack: "prod", config: { ...stackFileConfig("prod"), eckOperator: "present" }, present: true },
];
const VARIANTS = SHAPES.flatMap((s) => [
    // An operator someone else runs changes only who is admitted to Elasticsearch: one variant is enough.
    ...(s.present ? [] : [{ ...s, sysctl: true }]),
    { ...s, name: `${s.name} without the sysctl step`, config: { ...s.config, setMaxMapCount: "false" }, sysctl: false },
]);

/** A live CRD serving the pinned version, for `eckOperator: present`. */
function crdState(id: string): Obj {
    const kind = Object.values(ECK_KINDS).find((k) => k.crd === id);
    if (!kind) throw new Error(`unknown CRD ${id}`);
    const [group, version] = kind.apiVersion.split("/");
    return { metadata: { name: id }, spec: { group, versions: [{ name: version, served: true, storage: true }] } };
}

/** One run per config: the shapes' tests and the scheduling tests share them. */
const runs = new Map<string, Promise<ProgramRun>>();
function runOf(config: Record<string, string>, stack: string, secretKeys?: string[], present?: boolean): Promise<ProgramRun> {
    const key = JSON.stringify([config, stack]);
    const found = runs.get(key);
    if (found) return found;
    const started = runProgram(config, { stack, secretKeys, reads: present ? (_t, id) => crdState(id) : undefined });
    runs.set(key, started);
    return started;
}

/** The custom resources as the provider sends them. */
function customResources(run: ProgramRun): CustomResource[] {
    return [...ofType(run, ES), ...ofType(run, KB), ...ofType(run, LS)].map((r) => body(r) as unknown as CustomResource);
}
const one = (run: ProgramRun, type: string, suffix = "") => {
    const found = ofType(run, type).filter((r) => r.name.endsWith(suffix));
    if (found.length !== 1) throw new Error(`expected one ${type} *${suffix}, got ${found.length}`);
    return found[0];
};
const jobTemplate = (run: ProgramRun, suffix: string) => asObj(asObj(body(one(run, JOB, suffix)).spec).template) as { metadata?: { labels?: Record<string, string> }; spec: PodSpec };

/** The bootstrap's requests, read from the plan file its Job mounts. */
function bootstrapRequests(run: ProgramRun): UserRequest[] {
    const files = asObj(body(one(run, "kubernetes:core/v1:ConfigMap", "-bootstrap-files")).data);
    const plan = String(files["plan.tsv"]);
    return plan
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => {
            const [method, path] = l.split("\t");
            return { method, path };
        });
}

describe.each(VARIANTS)("ECK 3.5.0 running $name", ({ stack, config, present, sysctl, secretKeys }) => {
    let run: ProgramRun;
    let crs: CustomResource[];
    let namespace: string;
    let level: PodSecurityLevel;

    beforeAll(async () => {
        run = await runOf(config, stack, secretKeys, present);
        crs = customResources(run);
        const ns = asObj(body(one(run, NS)).metadata);
        namespace = String(ns.name);
        level = asObj(ns.labels)["pod-security.kubernetes.io/enforce"] as PodSecurityLevel;
    });

    test("the namespace enforces restricted without the sysctl step and privileged with it", () => {
        expect(level).toBe(sysctl ? "privileged" : "restricted");
    });

    test.each(OPERATOR_MODES)("every pod the operator makes meets the namespace's Pod Security level, and all but the sysctl container meet restricted (setDefaultSecurityContext $setDefaultSecurityContext)", (mode) => {
        const pods = crs.flatMap((cr) => effectivePods(cr, mode));
        expect(pods.length).toBeGreaterThanOrEqual(3);
        for (const pod of pods) {
            expect({ pod: pod.owner, violations: podSecurityViolations(pod, level) }).toEqual({ pod: pod.owner, violations: [] });
            // The namespace warns and audits at restricted: only the sysctl container may show there.
            const withoutSysctl = { ...pod, spec: { ...pod.spec, initContainers: (pod.spec.initContainers ?? []).filter((c) => c.name !== "sysctl") } };
            expect({ pod: pod.owner, violations: podSecurityViolations(withoutSysctl, "restricted") }).toEqual({ pod: pod.owner, violations: [] });
        }
        for (const suffix of ["-bootstrap-job", "-kibana-setup-job"]) expect(podSecurityViolations(jobTemplate(run, suffix), "restricted")).toEqual([]);
    });

    test("the operator's init containers are there, each with the operator's command; none of the template's is left to run an image's entrypoint", () => {
        for (const pod of crs.flatMap((cr) => effectivePods(cr, { setDefaultSecurityContext: true }))) {
            const names = (pod.spec.initContainers ?? []).map((c) => c.name);
            const expected =
                pod.kind === "elasticsearch"
                    ? [ECK_INIT_CONTAINERS.esPrepareFilesystem, ECK_INIT_CONTAINERS.esSuspend, ...(secretKeys ? [ECK_INIT_CONTAINERS.keystore] : [])]
                    : pod.kind === "kibana"
                      ? [ECK_INIT_CONTAINERS.keystore, ECK_INIT_CONTAINERS.kibanaInit]
                      : [ECK_INIT_CONTAINERS.logstashConfig, ECK_INIT_CONTAINERS.keystore];
            expect(names).toEqual(expect.arrayContaining(expected));
            expect(names.includes("sysctl")).toBe(sysctl && pod.kind === "elasticsearch");
            expect({ pod: pod.owner, stranded: strandedInitContainers(pod) }).toEqual({ pod: pod.owner, stranded: [] });
        }
    });

    test("no node set's config sets a setting ECK manages (its webhook only warns, and the stack's value would win)", () => {
        for (const cr of crs.filter((c) => c.kind === "Elasticsearch")) {
            for (const set of cr.spec.nodeSets as Obj[]) expect({ set: set.name, unsupported: unsupportedSettings(asObj(set.config)) }).toEqual({ set: set.name, unsupported: [] });
        }
    });

    test("the bootstrap names only users that exist, and Kibana, Logstash and the Jobs log in as users that exist", () => {
        const es = crs.find((c) => c.kind === "Elasticsearch") as CustomResource;
        const requests = bootstrapRequests(run);
        expect(requests.length).toBeGreaterThan(3);
        const userRequests = requests.filter((r) => r.path.startsWith("/_security/user/"));
        expect(userRequests.length).toBeGreaterThan(0);
        for (const set of es.spec.nodeSets as Obj[]) {
            const atStart = usersAtStart(es.spec, asObj(set.config));
            // The Jobs authenticate as elastic (shell/bootstrap.sh, shell/kibana-setup.sh), from the operator's Secret.
            expect(atStart.get("elastic")).toBe("file");
            const { outcomes, users: after } = replayUserRequests(atStart, requests);
            expect(outcomes.filter((o) => o.status !== 200)).toEqual([]);
            const ls = crs.find((c) => c.kind === "Logstash") as CustomResource;
            const lsEnv = asObj(asObj(ls.spec.podTemplate).spec).containers as { env?: { name: string; value?: string }[] }[];
            const writer = lsEnv[0].env?.find((e) => e.name === "ELK_LOGSTASH_USER")?.value;
            expect(writer).toBeDefined();
            expect(after.get(String(writer))).toBe("native");
            const kb = crs.find((c) => c.kind === "Kibana") as CustomResource;
            const kibana = mergeSettings(kb.spec.elasticsearchRef ? kibanaAssociationSettings({ esName: es.metadata.name, namespace, caProvided: true }) : {}, asObj(kb.spec.config));
            expect(kibanaCredentialProblems(kibana)).toEqual([]);
            const username = kibana["elasticsearch.username"];
            if (username !== undefined) expect(typeof username === "string" && after.has(username)).toBe(true);
            expect(effectiveSettings(asObj(set.config))["xpack.security.authc.reserved_realm.enabled"]).toBe("false");
        }
    });

    test("Kibana authenticates with the token the operator issues for its elasticsearchRef, against the stack's CA", () => {
        const es = crs.find((c) => c.kind === "Elasticsearch") as CustomResource;
        const kb = crs.find((c) => c.kind === "Kibana") as CustomResource;
        expect(kb.spec.elasticsearchRef).toEqual({ name: es.metadata.name });
        const cfg = asObj(kb.spec.config);
        expect(cfg["elasticsearch.username"]).toBeUndefined();
        expect(cfg["elasticsearch.hosts"]).toBeUndefined();
        // The HTTP certificate Secret carries ca.crt, so the association hands Kibana the stack's CA
        // (association/ca.go CACertProvided) as one path; the stack's list of CA files replaces that path, and its
        // full verification ECK's `certificate`. The hosts are the association's alone: the Elasticsearch service, once.
        expect(cfg["elasticsearch.ssl.verificationMode"]).toBe("full");
        const effective = mergeSettings(kibanaAssociationSettings({ esName: es.metadata.name, namespace, caProvided: true }), cfg);
        expect(effective["elasticsearch.ssl.verificationMode"]).toBe("full");
        expect(effective["elasticsearch.ssl.certificateAuthorities"]).toEqual(cfg["elasticsearch.ssl.certificateAuthorities"]);
        expect(effective["elasticsearch.hosts"]).toEqual([`https://${es.metadata.name}-es-http.${namespace}.svc:9200`]);
        const secureSecret = String((kb.spec.secureSettings as { secretName: string }[])[0].secretName);
        const keys = Object.keys(asObj(body(ofType(run, "kubernetes:core/v1:Secret").find((s) => asObj(body(s).metadata).name === secureSecret) as RecordedResource).stringData));
        expect(keys).not.toContain("elasticsearch.password");
        expect(ofType(run, "random:index/randomPassword:RandomPassword").filter((r) => r.name.endsWith("-kibana-system-password"))).toEqual([]);
    });

    test("every connection the operator, its pre-stop hook, the stack's pods and its Jobs make is admitted, and no other", () => {
        const policies = ofType(run, NP).map((r) => body(r) as unknown as Policy);
        expect(policies.length).toBeGreaterThan(3);
        for (const p of policies) expect(policyErrors(p)).toEqual([]);
        const operatorNamespace = config.eckOperatorNamespace ?? "elastic-system";
        const namespaces: Namespaces = { [namespace]: asObj(asObj(body(one(run, NS)).metadata).labels) as Record<string, string>, [operatorNamespace]: {} };
        const pods = crs.flatMap((cr) => effectivePods(cr, { setDefaultSecurityContext: true }));
        const ls = crs.find((c) => c.kind === "Logstash") as CustomResource;
        const listeners = ((asObj(asObj((ls.spec.services as Obj[])[0].service).spec).ports ?? []) as { port: number; protocol: "TCP" | "UDP" }[]).map((p) => ({ port: p.port, protocol: p.protocol }));
        const stackPods = {
            es: String(crs.find((c) => c.kind === "Elasticsearch")?.metadata.name),
            kibana: String(crs.find((c) => c.kind === "Kibana")?.metadata.name),
            logstash: ls.metadata.name,
            pods,
            bootstrapJob: jobPod("bootstrap", namespace, jobTemplate(run, "-bootstrap-job")),
            kibanaSetupJob: jobPod("kibana-setup", namespace, jobTemplate(run, "-kibana-setup-job")),
            // The stack installs the chart; an operator someone else runs may come from the chart or from ECK's manifests.
            // With install, the pods are labelled from the values the stack gives the chart.
            operators: present
                ? [operatorPod("helm", operatorNamespace, "eck-operator"), operatorPod("manifests", operatorNamespace)]
                : [operatorPod("helm", operatorNamespace, undefined, asObj(body(one(run, "kubernetes:helm.sh/v3:Release")).values))],
            listeners,
        };
        const connections = eckConnections(stackPods);
        const verdict = (c: Connection) => ({ connection: `${c.description} -> ${c.to.name} ${c.protocol}/${c.port}`, allowed: evaluate(policies, namespaces, c).allowed });
        for (const c of connections) expect(verdict(c)).toEqual({ ...verdict(c), allowed: true });
        for (const c of refusedConnections(stackPods, operatorNamespace)) expect(verdict(c)).toEqual({ ...verdict(c), allowed: false });
        expect(connections.filter((c) => c.description.includes("pre-stop")).length).toBeGreaterThan(0);
    });

    test("Elasticsearch keeps at least ECK's termination grace period, which its pre-stop hook is sized to", () => {
        for (const pod of crs.filter((c) => c.kind === "Elasticsearch").flatMap((cr) => effectivePods(cr, { setDefaultSecurityContext: true }))) {
            expect(pod.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(ES_DEFAULT_TERMINATION_GRACE_SECONDS);
            expect(asObj(pod.spec.containers.find((c) => c.name === "elasticsearch")?.lifecycle).preStop).toBeDefined();
        }
    });

    test("hard anti-affinity keeps the nodes of one node set apart, never two node sets", () => {
        const esPods = crs.filter((c) => c.kind === "Elasticsearch").flatMap((cr) => effectivePods(cr, { setDefaultSecurityContext: true }));
        for (const pod of esPods) {
            const terms = pod.spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
            const selected = esPods.filter((other) => terms.some((t) => Object.entries(t.labelSelector?.matchLabels ?? {}).every(([k, v]) => other.metadata.labels[k] === v)));
            const hard = config.antiAffinity === "hard" || config.antiAffinity === undefined;
            if (!hard || pod.replicas === 1) continue;
            expect(selected.map((p) => p.owner)).toEqual([pod.owner]);
            expect(terms.every((t) => t.topologyKey === "kubernetes.io/hostname")).toBe(true);
        }
    });
});

/** Every replica of every pod of a run, for the scheduler. */
async function replicas(config: Record<string, string>, stack: string, secretKeys?: string[]): Promise<SchedPod[]> {
    const run = await runOf(config, stack, secretKeys);
    return customResources(run)
        .flatMap((cr) => effectivePods(cr, { setDefaultSecurityContext: true }))
        .flatMap((p: EffectivePod) => Array.from({ length: p.replicas }, (_, i) => ({ name: `${p.owner}-${i}`, namespace: p.namespace, labels: p.metadata.labels, spec: p.spec })));
}
const hostNode = (i: number): SchedNode => ({ name: `node-${i}`, labels: { "kubernetes.io/hostname": `node-${i}` } });
const zonedNode = (i: number): SchedNode => ({ name: `node-${i}`, labels: { "kubernetes.io/hostname": `node-${i}`, "topology.kubernetes.io/zone": ZONES[i % ZONES.length] } });

describe("what each shipped shape needs to schedule (docs/kubernetes.md)", () => {
    test("prod: three Kubernetes nodes, not six (masters apart, hot nodes apart, Logstash replicas apart); two are too few", async () => {
        const pods = await replicas(stackFileConfig("prod"), "prod");
        expect(pods.length).toBe(9);
        expect(fewestNodes(pods, hostNode)).toBe(3);
        // The requests docs/kubernetes.md gives: 8 GiB per hot node, 2 GiB per master, Logstash replica and Kibana.
        // Anti-affinity over the whole cluster (before issue 19) kept every two Elasticsearch nodes apart: six nodes.
        expect(pods.map((p) => memoryRequestMi(p.spec)).sort((a, b) => b - a)).toEqual([8192, 8192, 8192, 2048, 2048, 2048, 2048, 2048, 2048]);
        // 36 GiB in all: three nodes of 12 GiB allocatable hold it exactly (a hot node, a master and a Logstash replica or
        // Kibana on each); 11 GiB nodes need a fourth.
        expect(fewestNodes(pods, (i) => ({ ...hostNode(i), memoryMi: 12 * 1024 }))).toBe(3);
        expect(fewestNodes(pods, (i) => ({ ...hostNode(i), memoryMi: 11 * 1024 }))).toBe(4);
    });

    test("zone-aware prod: three nodes in the listed zones, one per zone puts one node of each set in each zone; nodes of other zones do not count", async () => {
        const pods = await replicas({ ...stackFileConfig("prod"), elasticsearchZones: JSON.stringify(ZONES) }, "prod");
        expect(fewestNodes(pods, zonedNode)).toBe(3);
        const placed = place(pods, [0, 1, 2].map(zonedNode)) as Map<SchedPod, SchedNode>;
        for (const set of ["masters", "hot"]) {
            const zones = [...placed].filter(([p]) => p.name.includes(`/${set}-`)).map(([, n]) => n.labels["topology.kubernetes.io/zone"]);
            expect(zones.sort()).toEqual(ZONES);
        }
        // ECK requires the listed zones (node affinity In): nodes elsewhere take no Elasticsearch node.
        expect(fewestNodes(pods, (i) => ({ name: `node-${i}`, labels: { "kubernetes.io/hostname": `node-${i}`, "topology.kubernetes.io/zone": "eu-1d" } }), 6)).toBeUndefined();
    });

    test("staging (soft anti-affinity) and a dev-sized stack: one node, of 9 GiB and 3.5 GiB", async () => {
        const staging = await replicas(stackFileConfig("staging"), "staging");
        expect(fewestNodes(staging, hostNode)).toBe(1);
        expect(fewestNodes(staging, (i) => ({ ...hostNode(i), memoryMi: 9 * 1024 }))).toBe(1);
        expect(fewestNodes(staging, (i) => ({ ...hostNode(i), memoryMi: 8 * 1024 }))).toBe(2);
        const dev = await replicas(DEV, "eckdev", Object.keys(S3));
        expect(fewestNodes(dev, hostNode)).toBe(1);
        expect(dev.map((p) => memoryRequestMi(p.spec))).toEqual([1536, 1024, 1024]);
        expect(fewestNodes(dev, (i) => ({ ...hostNode(i), memoryMi: 3584 }))).toBe(1);
    });
});

describe("a kibana_system password on eck is refused at preview, naming the key and the fix", () => {
    test("from config", () => {
        const cfg: Record<string, string> = { target: "kubernetes", kibanaSystemPassword: "Kibana-Pw-0123456789" };
        expect(() => parseStackConfig({ project: "elk-stack", stack: "t", get: (k) => cfg[k] })).toThrow(
            /'elk-stack:kibanaSystemPassword'.*not used on the eck engine: ECK turns the built-in kibana_system user off.*Fix: remove it with 'pulumi config rm kibanaSystemPassword'/,
        );
        // The other engines keep it.
        const manifests: Record<string, string> = { ...cfg, kubernetesEngine: "manifests" };
        expect(parseStackConfig({ project: "elk-stack", stack: "t", get: (k) => manifests[k] }).kubernetes.engine).toBe("manifests");
    });

    test("from code (ElkStack's passwords.kibanaSystem)", async () => {
        const program = async () => {
            const { parseStackConfig: parse } = await import("../components/model/config");
            const { ElkStack } = await import("../components/resources/elkStack");
            const settings = parse({ project: "elk-stack", stack: "t", get: (k) => ({ target: "kubernetes" })[k as "target"] });
            new ElkStack("logs", { settings, passwords: { kibanaSystem: "Kibana-Pw-0123456789" } });
            return {};
        };
        await expect(runProgram({}, { stack: "t", program })).rejects.toThrow(/invalid argument 'passwords\.kibanaSystem': it is not used on this platform.*Fix: leave passwords\.kibanaSystem unset/);
    });
});

describe("the stand-ins refuse what the engines refuse", () => {
    test("the model's facts are read from the operator the stack installs", () => {
        expect(ECK_TAG).toBe(`v${ECK_OPERATOR_VERSION}`);
    });

    test("ECK's webhook refuses an Elasticsearch upgrade to 9.x from below 8.18.0, and the stack supports no 8.x below it", () => {
        const cr = (kind: string, version: string): CustomResource => ({ kind, metadata: { name: "elk", namespace: "elk" }, spec: { version } });
        const effects = (from: string, to: string, kind = "Elasticsearch") =>
            changeEffects(cr(kind, from), cr(kind, to)).map((c) => `${c.effect} ${c.path}${c.effect === "refused" ? `: ${c.why}` : ""}`);
        const path = (from: string, to: string, range: string) =>
            `refused spec.version: an upgrade from ${from} to ${to}, whose major takes upgrades from ${range} only (Unsupported version upgrade path)`;
        expect(effects("8.17.9", "9.4.1")).toEqual([path("8.17.9", "9.4.1", "8.18.0 to 9.99.99")]);
        expect(effects("8.17.0", "9.0.0")).toEqual([path("8.17.0", "9.0.0", "8.18.0 to 9.99.99")]);
        expect(effects("7.16.3", "8.0.0")).toEqual([path("7.16.3", "8.0.0", "7.17.0 to 8.99.99")]);
        expect(effects("7.17.0", "9.0.0")).toEqual([path("7.17.0", "9.0.0", "8.18.0 to 9.99.99")]);
        expect(effects("9.4.1", "10.0.0")).toEqual(["refused spec.version: 10.0.0 is no major ECK supports (Unsupported version)"]);
        // A downgrade: refused by noDowngrades, and (from another major) by validUpgradePath too.
        expect(effects("9.4.1", "9.3.0")).toEqual(["refused spec.version: a downgrade from 9.4.1 to 9.3.0"]);
        expect(effects("9.0.0", "8.19.0")).toEqual(["refused spec.version: a downgrade from 9.0.0 to 8.19.0", path("9.0.0", "8.19.0", "7.17.0 to 8.99.99")]);
        expect(effects("8.18.0", "9.0.0")).toEqual(["rolls spec.version"]);
        expect(effects("7.17.0", "8.0.0")).toEqual(["rolls spec.version"]);
        // Kibana's and Logstash's webhooks check downgrades only (pkg/apis/kibana/v1/webhook.go, pkg/controller/logstash/validation/validations.go).
        expect(effects("8.17.0", "9.4.1", "Kibana")).toEqual(["rolls spec.version"]);
        expect(effects("8.17.0", "9.4.1", "Logstash")).toEqual(["rolls spec.version"]);
        // Every release the stack accepts passes the webhook's check on the way to the default.
        expect(effects(MIN_SUPPORTED_8X, DEFAULT_ELASTIC_VERSION)).toEqual(["rolls spec.version"]);
    });

    test("ECK's own Kibana and Logstash pods, from a template that leaves its init containers alone, break restricted", () => {
        const template = { metadata: {}, spec: { securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } }, containers: [{ name: "kibana", securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } } }] } };
        const kb = kibanaPod({ kind: "Kibana", metadata: { name: "kb", namespace: "n" }, spec: { version: "9.4.1", secureSettings: [{ secretName: "s" }], podTemplate: template } }, { setDefaultSecurityContext: true });
        const v = podSecurityViolations(kb, "restricted");
        expect(v.map((x) => x.check).sort()).toEqual(["allowPrivilegeEscalation", "capabilities_restricted"]);
        expect(v[0].detail).toContain(`"${ECK_INIT_CONTAINERS.keystore}"`);
        const lsTemplate = { metadata: {}, spec: { ...template.spec, containers: [{ ...template.spec.containers[0], name: "logstash" }] } };
        const ls = logstashPod({ kind: "Logstash", metadata: { name: "ls", namespace: "n" }, spec: { version: "9.4.1", secureSettings: [{ secretName: "s" }], podTemplate: lsTemplate } }, { setDefaultSecurityContext: true });
        expect(podSecurityViolations(ls, "restricted").find((x) => x.check === "allowPrivilegeEscalation")?.detail).toContain(`"${ECK_INIT_CONTAINERS.logstashConfig}", "${ECK_INIT_CONTAINERS.keystore}"`);
        // Without the operator's default security context, Kibana's own init container has none at all.
        const bare = kibanaPod({ kind: "Kibana", metadata: { name: "kb", namespace: "n" }, spec: { version: "9.4.1", podTemplate: template } }, { setDefaultSecurityContext: false });
        expect(podSecurityViolations(bare, "restricted").find((x) => x.check === "capabilities_restricted")?.detail).toContain(`"${ECK_INIT_CONTAINERS.kibanaInit}"`);
        // A template's init container of a name the operator does not inject stays, with no command.
        const stray = kibanaPod({ kind: "Kibana", metadata: { name: "kb", namespace: "n" }, spec: { version: "9.4.1", podTemplate: { ...template, spec: { ...template.spec, initContainers: [{ name: ECK_INIT_CONTAINERS.keystore }] } } } }, { setDefaultSecurityContext: true });
        expect(strandedInitContainers(stray)).toEqual([ECK_INIT_CONTAINERS.keystore]);
    });

    test("the Pod Security checker fails each restricted and baseline rule the way the admission controller does", () => {
        const good: { spec: PodSpec } = {
            spec: {
                securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
                containers: [{ name: "c", securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] } } }],
                volumes: [{ name: "v", emptyDir: {} }],
            },
        };
        expect(podSecurityViolations(good, "restricted")).toEqual([]);
        const tweak = (f: (s: PodSpec) => void) => {
            const copy = JSON.parse(JSON.stringify(good)) as { spec: PodSpec };
            f(copy.spec);
            return copy;
        };
        const fails = (f: (s: PodSpec) => void, lvl: PodSecurityLevel) => podSecurityViolations(tweak(f), lvl).map((v) => v.check);
        const c0 = (s: PodSpec) => s.containers[0].securityContext as NonNullable<PodSpec["containers"][0]["securityContext"]>;
        expect(fails((s) => delete c0(s).allowPrivilegeEscalation, "restricted")).toEqual(["allowPrivilegeEscalation"]);
        expect(fails((s) => delete c0(s).allowPrivilegeEscalation, "baseline")).toEqual([]);
        expect(fails((s) => (c0(s).capabilities = { drop: ["NET_RAW"] }), "restricted")).toEqual(["capabilities_restricted"]);
        expect(fails((s) => (c0(s).capabilities = { drop: ["ALL"], add: ["SYS_ADMIN"] }), "baseline")).toEqual(["capabilities_baseline"]);
        expect(fails((s) => delete (s.securityContext as Obj).runAsNonRoot, "restricted")).toEqual(["runAsNonRoot"]);
        expect(fails((s) => (c0(s).runAsNonRoot = false), "restricted")).toEqual(["runAsNonRoot"]);
        expect(fails((s) => (c0(s).runAsUser = 0), "restricted")).toEqual(["runAsUser"]);
        expect(fails((s) => delete (s.securityContext as Obj).seccompProfile, "restricted")).toEqual(["seccompProfile_restricted"]);
        expect(fails((s) => (c0(s).seccompProfile = { type: "Unconfined" }), "baseline")).toEqual(["seccompProfile_baseline"]);
        expect(fails((s) => (c0(s).privileged = true), "baseline")).toEqual(["privileged"]);
        expect(fails((s) => (s.hostNetwork = true), "baseline")).toEqual(["hostNamespaces"]);
        expect(fails((s) => s.volumes?.push({ name: "h", hostPath: { path: "/" } }), "baseline")).toEqual(["hostPathVolumes"]);
        expect(fails((s) => s.volumes?.push({ name: "h", hostPath: { path: "/" } }), "restricted")).toEqual(["restrictedVolumes"]);
        expect(fails((s) => s.volumes?.push({ name: "n", nfs: { server: "x", path: "/" } }), "restricted")).toEqual(["restrictedVolumes"]);
        expect(fails((s) => (s.containers[0].ports = [{ containerPort: 80, hostPort: 80 }]), "baseline")).toEqual(["hostPorts"]);
        expect(fails((s) => (s.securityContext = { ...s.securityContext, sysctls: [{ name: "vm.max_map_count", value: "262144" }] }), "baseline")).toEqual(["sysctls"]);
        expect(fails((s) => (s.containers[0].readinessProbe = { httpGet: { host: "10.0.0.1", port: 80 } }), "baseline")).toEqual(["hostProbesAndHostLifecycle"]);
        // Init containers count: the sysctl step as the stack writes it breaks baseline and restricted.
        const sysctl = tweak((s) => (s.initContainers = [{ name: "sysctl", securityContext: { privileged: true, runAsUser: 0, runAsNonRoot: false, allowPrivilegeEscalation: true } }]));
        expect(podSecurityViolations(sysctl, "baseline").map((v) => v.check)).toEqual(["privileged"]);
        expect(podSecurityViolations(sysctl, "restricted").map((v) => v.check)).toEqual(["privileged", "allowPrivilegeEscalation", "runAsNonRoot", "runAsUser", "capabilities_restricted"]);
        expect(podSecurityViolations(sysctl, "privileged")).toEqual([]);
    });

    test("the NetworkPolicy evaluator: selectors, namespace selectors, ports and isolation as Kubernetes defines them", () => {
        const pod = (name: string, namespace: string, labels: Record<string, string>) => ({ kind: "pod" as const, name, namespace, labels, ports: [{ name: "https", containerPort: 9200, protocol: "TCP" }] });
        const es = pod("es", "app", { app: "es" });
        const kb = pod("kb", "app", { app: "kb" });
        const op = pod("op", "ops", { "control-plane": "elastic-operator" });
        const opNeighbour = pod("other", "ops", { app: "other" });
        const namespaces: Namespaces = { app: {}, ops: { team: "platform" } };
        const c = (from: typeof es, port = 9200, protocol: "TCP" | "UDP" = "TCP"): Connection => ({ description: "", from, to: es, port, protocol });
        const policy = (spec: Policy["spec"], namespace = "app"): Policy => ({ metadata: { name: "p", namespace }, spec });
        const allowed = (ps: Policy[], conn: Connection) => evaluate(ps, namespaces, conn).allowed;
        // No policy selects the pod: everything is admitted; a policy with no rules isolates it.
        expect(allowed([], c(kb))).toBe(true);
        expect(allowed([policy({ podSelector: {}, policyTypes: ["Ingress"], ingress: [] })], c(kb))).toBe(false);
        expect(allowed([policy({ podSelector: { matchLabels: { app: "other" } }, ingress: [] })], c(kb))).toBe(true);
        // A pod selector alone means this namespace; with a namespace selector, both must match.
        const fromOperator = (peer: object) => [policy({ podSelector: { matchLabels: { app: "es" } }, ingress: [{ from: [peer], ports: [{ port: 9200 }] }] })];
        expect(allowed(fromOperator({ podSelector: { matchLabels: { "control-plane": "elastic-operator" } } }), c(op))).toBe(false);
        const both = fromOperator({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ops" } }, podSelector: { matchLabels: { "control-plane": "elastic-operator" } } });
        expect(allowed(both, c(op))).toBe(true);
        expect(allowed(both, c(opNeighbour))).toBe(false);
        expect(allowed(fromOperator({ namespaceSelector: { matchLabels: { team: "platform" } } }), c(opNeighbour))).toBe(true);
        // Ports: protocol TCP by default, named ports, ranges.
        expect(allowed(both, c(op, 9300))).toBe(false);
        expect(allowed(both, c(op, 9200, "UDP"))).toBe(false);
        const named = [policy({ podSelector: {}, ingress: [{ ports: [{ port: "https" }] }] })];
        expect(allowed(named, c(kb, 9200))).toBe(true);
        expect(allowed(named, c(kb, 9300))).toBe(false);
        expect(allowed([policy({ podSelector: {}, ingress: [{ ports: [{ port: 9000, endPort: 9250 }] }] })], c(kb, 9200))).toBe(true);
        // Egress isolation of the source counts too.
        expect(allowed([policy({ podSelector: { matchLabels: { app: "kb" } }, policyTypes: ["Egress"], egress: [] })], c(kb))).toBe(false);
        // What the API server refuses, the evaluator refuses.
        expect(() => allowed([policy({ podSelector: {}, ingress: [{ from: [{}] }] })], c(kb))).toThrow(/must name a podSelector/);
        expect(() => allowed([policy({ podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: "10.0.0.0/8" }, podSelector: {} }] }] })], c(kb))).toThrow(/ipBlock peer may not have selectors/);
        expect(() => allowed([policy({ podSelector: {}, ingress: [{ ports: [{ port: "x", endPort: 10 }] }] })], c(kb))).toThrow(/endPort needs a numeric port/);
        expect(() => allowed([policy({ podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: "10.0.0.0/8" } }] }] })], c(kb))).toThrow(/no IP in the model/);
    });

    test("Elasticsearch refuses a password for a reserved user while ECK keeps the reserved realm off", () => {
        const eck = usersAtStart({}, {});
        expect(eck.get("kibana_system")).toBeUndefined();
        expect(eck.get("elastic")).toBe("file");
        const plan = [
            { method: "POST", path: "/_security/user/kibana_system/_password" },
            { method: "POST", path: "/_security/user/elastic/_password" },
            { method: "PUT", path: "/_security/user/logstash_writer" },
            { method: "POST", path: "/_security/user/logstash_writer/_password" },
        ];
        expect(replayUserRequests(eck, plan).outcomes.map((o) => o.status)).toEqual([400, 400, 200, 200]);
        // The same plan on a cluster with the reserved realm on (Docker, the manifests engine).
        const plain = usersAtStart({}, { "xpack.security.authc.reserved_realm.enabled": true });
        expect(replayUserRequests(plain, plan).outcomes.map((o) => o.status)).toEqual([200, 200, 200, 200]);
        expect(replayUserRequests(plain, [{ method: "PUT", path: "/_security/user/kibana_system" }]).outcomes[0].status).toBe(400);
        expect(unsupportedSettings({ xpack: { security: { authc: { reserved_realm: { enabled: true } } } } })).toEqual(["xpack.security.authc.reserved_realm.enabled"]);
        expect(kibanaCredentialProblems(mergeSettings(kibanaAssociationSettings({ esName: "es", namespace: "n", caProvided: true }), { "elasticsearch.username": "kibana_system" }))).toEqual([
            'serviceAccountToken cannot be specified when "username" is also set',
        ]);
    });

    test("ECK merges settings as go-ucfg does with its options: lists appended, maps merged, dotted and nested keys one path", () => {
        // canonical_config_test.go TestCanonicalConfig_MergeWith "merge arrays": {a: [x]} with {a: [y]} is {a: [x, y]}.
        expect(mergeSettings({ a: ["x"] }, { a: ["y"] })).toEqual({ a: ["x", "y"] });
        expect(mergeSettings({ "elasticsearch.hosts": ["https://a:9200"] }, { elasticsearch: { hosts: ["http://b:9200"] } })).toEqual({ "elasticsearch.hosts": ["https://a:9200", "http://b:9200"] });
        // A later scalar, or a list over a scalar, replaces; maps merge key by key; an empty list adds nothing.
        expect(mergeSettings({ "xpack.security.http.ssl.enabled": true, "a.b": 1 }, { xpack: { security: { http: { ssl: { enabled: false } } } }, "a.c": 2 })).toEqual({ "xpack.security.http.ssl.enabled": false, "a.b": 1, "a.c": 2 });
        expect(mergeSettings({ ca: "/eck/ca.crt" }, { ca: ["/stack/ca.crt"] })).toEqual({ ca: ["/stack/ca.crt"] });
        expect(mergeSettings({ "discovery.seed_hosts": ["x"] }, { "discovery.seed_hosts": [] })).toEqual({ "discovery.seed_hosts": ["x"] });
        // null does not clear a map or a list (ucfg merges an empty config into it), but replaces a scalar.
        expect(mergeSettings({ "a.b": 1, l: ["x"], s: "v" }, { a: null, l: null, s: null })).toEqual({ "a.b": 1, l: ["x"], s: null });
        // What ucfg refuses, and what the model does not know, is an error rather than a guess.
        expect(() => mergeSettings({ "a.b": 1, a: { b: 2 } })).toThrow(/a\.b is set twice/);
        expect(() => mergeSettings({ a: ["x"] }, { a: { b: 1 } })).toThrow(/unmodelled/);
        expect(() => mergeSettings({ "a.0": "x" })).toThrow(/unmodelled/);
        expect(() => mergeSettings({ "[a.b]": "x" })).toThrow(/unmodelled/);
        // A node set's config over ECK's own settings: the user's value wins (NewMergedESConfig merges it last).
        expect(effectiveSettings({ xpack: { security: { authc: { reserved_realm: { enabled: "true" } } } } })["xpack.security.authc.reserved_realm.enabled"]).toBe("true");
    });

    test("a label the operator sets is the one its Services select", () => {
        const es = { kind: "Elasticsearch", metadata: { name: "c", namespace: "n" }, spec: { version: "9.4.1", nodeSets: [{ name: "a", count: 1, podTemplate: { metadata: { labels: { x: "y" } }, spec: {} } }] } };
        const [pod] = effectivePods(es, { setDefaultSecurityContext: true });
        expect(pod.metadata.labels).toMatchObject({ x: "y", [ECK_LABELS.esCluster]: "c", [ECK_LABELS.esStatefulSet]: "c-es-a", [ECK_LABELS.type]: "elasticsearch" });
        expect(podOf(pod).ports?.map((p) => p.containerPort)).toEqual([9200, 9300]);
        expect(pod.spec.terminationGracePeriodSeconds).toBe(ES_DEFAULT_TERMINATION_GRACE_SECONDS);
        expect(pod.spec.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.[0].podAffinityTerm.labelSelector).toEqual({ matchLabels: { [ECK_LABELS.esCluster]: "c" } });
    });
});
