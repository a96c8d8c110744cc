/**
 * The real program on the Kubernetes target under the mock runtime, for a single node and for the prod stack
 * file (three Elasticsearch nodes, two Logstash replicas). Every manifest is validated against the Kubernetes
 * OpenAPI schemas (kubernetes-models), and the invariants an operator checks in review are asserted.
 */
import * as crypto from "crypto";
import YAML from "yaml";
import { tlsHandshake } from "./support/tlsHandshake";
import { type ProgramRun, type RecordedResource, ofType, onManifestsEngine, plainStrings, runProgram, stackFileConfig, transitiveDependencies, unwrapSecrets } from "./support/program";
import { raiseMaxMapCountCommand } from "../components/model/maxMapCount";

/** A kubernetes-models class: validates a manifest against the OpenAPI schema of its kind, throwing on error. */
type ModelClass = new (data: object) => { validate(): void };

/** kubernetes-models module folder of each API group the program uses. */
const MODEL_DIRS: Record<string, string> = {
    core: "v1",
    apps: "apps/v1",
    batch: "batch/v1",
    policy: "policy/v1",
    "networking.k8s.io": "networking.k8s.io/v1",
};

function modelFor(type: string): ModelClass {
    const m = /^kubernetes:([a-z0-9.]+)\/(v1):([A-Za-z]+)$/.exec(type);
    if (!m) throw new Error(`not a Kubernetes resource type: ${type}`);
    const dir = MODEL_DIRS[m[1]];
    if (!dir) throw new Error(`no schema folder for API group ${m[1]}`);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(`kubernetes-models/${dir}/${m[3]}`) as Record<string, ModelClass>;
    return mod[m[3]];
}

type Obj = Record<string, unknown>;
const asObj = (v: unknown): Obj => (v ?? {}) as Obj;
const asList = (v: unknown): Obj[] => (v ?? []) as Obj[];

function manifests(run: ProgramRun): RecordedResource[] {
    return run.resources.filter((r) => r.type.startsWith("kubernetes:"));
}

/** The manifest as the provider would send it: inputs with secrets unwrapped, and the name the provider gives. */
function manifestOf(r: RecordedResource): Obj {
    const m = unwrapSecrets(r.inputs) as Obj;
    return { ...m, metadata: { ...asObj(m.metadata), name: asObj(r.state.metadata).name } };
}

function only(run: ProgramRun, type: string, nameSuffix: string): RecordedResource {
    const found = ofType(run, type).filter((r) => r.name.endsWith(nameSuffix));
    if (found.length !== 1) throw new Error(`expected one ${type} *${nameSuffix}, got ${found.map((r) => r.name).join(", ")}`);
    return found[0];
}

/** Pod templates of every workload, with where they came from. */
function podTemplates(run: ProgramRun): { owner: RecordedResource; pod: Obj }[] {
    return run.resources
        .filter((r) => ["kubernetes:apps/v1:StatefulSet", "kubernetes:apps/v1:Deployment", "kubernetes:batch/v1:Job"].includes(r.type))
        .map((owner) => ({ owner, pod: asObj(asObj(asObj(manifestOf(owner).spec).template).spec) }));
}

/** The content of a file a workload mounts, looked up through its projected volume in the ConfigMap or Secret. */
function mountedFile(run: ProgramRun, workload: RecordedResource, mountPath: string): string {
    const pod = asObj(asObj(asObj(manifestOf(workload).spec).template).spec);
    const container = asList(pod.containers)[0];
    const mount = asList(container.volumeMounts).find((vm) => vm.mountPath === mountPath);
    if (!mount) throw new Error(`${workload.name} mounts nothing at ${mountPath}`);
    const volume = asList(pod.volumes).find((v) => v.name === mount.name);
    for (const source of asList(asObj(asObj(volume).projected).sources)) {
        for (const kind of ["configMap", "secret"] as const) {
            const ref = asObj(source[kind]);
            if (!asList(ref.items).some((i) => i.path === mount.subPath)) continue;
            const type = kind === "configMap" ? "kubernetes:core/v1:ConfigMap" : "kubernetes:core/v1:Secret";
            const holder = ofType(run, type).find((r) => asObj(r.state.metadata).name === ref.name);
            const data = asObj(manifestOf(holder as RecordedResource)[kind === "configMap" ? "data" : "stringData"]);
            return String(data[String(mount.subPath)]);
        }
    }
    throw new Error(`${workload.name}: ${mountPath} is in no ConfigMap or Secret`);
}

function envOf(workload: RecordedResource): Obj[] {
    const pod = asObj(asObj(asObj(manifestOf(workload).spec).template).spec);
    return asList(asList(pod.containers)[0].env);
}

type Labels = Readonly<Record<string, string>>;
/** A connection source: a pod of the namespace by its labels, or a client outside the namespace. */
type Source = Labels | "outside";

const matches = (selector: unknown, labels: Labels): boolean =>
    Object.entries(asObj(asObj(selector).matchLabels)).every(([k, v]) => labels[k] === v) && asObj(selector).matchExpressions === undefined;

/**
 * Whether `policies` (NetworkPolicies of one namespace) let `source` open a connection to `port`/`protocol` of a pod
 * labelled `target`, as Kubernetes defines ingress isolation: a pod no Ingress policy selects accepts everything;
 * a selected pod accepts what any selecting policy's rules allow. Only the policy features the stack uses are
 * modelled; anything else fails the test rather than be guessed.
 */
function admits(policies: readonly Obj[], source: Source, target: Labels, port: number, protocol: "TCP" | "UDP"): boolean {
    const selecting = policies.filter((np) => matches(asObj(np.spec).podSelector, target) && (asObj(np.spec).policyTypes as string[]).includes("Ingress"));
    if (selecting.length === 0) return true;
    return selecting.some((np) =>
        asList(asObj(np.spec).ingress).some((rule) => {
            const portOk = rule.ports === undefined || asList(rule.ports).some((p) => p.port === port && (p.protocol ?? "TCP") === protocol);
            if (!portOk) return false;
            if (rule.from === undefined) return true;
            return asList(rule.from).some((peer) => {
                for (const key of Object.keys(peer)) if (key !== "podSelector") throw new Error(`peer ${key} is not modelled`);
                return source !== "outside" && matches(peer.podSelector, source);
            });
        }),
    );
}

interface Case {
    readonly title: string;
    readonly stack: string;
    readonly config: Record<string, string>;
    readonly namespace: string;
    readonly esNodes: number;
    readonly logstashReplicas: number;
}

const CASES: Case[] = [
    { title: "single node", stack: "k8s", config: { target: "kubernetes", kubernetesEngine: "manifests", clusterName: "elk-k8s" }, namespace: "elk", esNodes: 1, logstashReplicas: 1 },
    // A 0.4.0 prod stack kept on the manifests engine: three nodes of every role, as the prod file had then.
    { title: "prod stack file", stack: "prod", config: { ...onManifestsEngine(stackFileConfig("prod")), elasticsearchNodeCount: "3" }, namespace: "elk-prod", esNodes: 3, logstashReplicas: 2 },
];

describe.each(CASES)("Kubernetes target, $title", (c) => {
    let run: ProgramRun;
    let ca: string;
    const ns = c.namespace;

    beforeAll(async () => {
        run = await runProgram(c.config, { stack: c.stack });
        ca = String(run.outputs.caCertificate.value);
    });

    test("every manifest the program registers is valid against the Kubernetes OpenAPI schemas", () => {
        const all = manifests(run).filter((r) => !r.type.startsWith("pulumi:"));
        expect(all.length).toBeGreaterThanOrEqual(17);
        for (const r of all) {
            const Model = modelFor(r.type);
            expect(() => new Model(manifestOf(r)).validate()).not.toThrow();
        }
        // The validator is not vacuous: the same StatefulSet with a malformed memory quantity is refused.
        const es = manifestOf(only(run, "kubernetes:apps/v1:StatefulSet", "-es01-statefulset"));
        const broken = JSON.parse(JSON.stringify(es)) as Obj;
        asList(asObj(asObj(asObj(broken.spec).template).spec).containers)[0].resources = { limits: { memory: "lots" } };
        expect(() => new (modelFor("kubernetes:apps/v1:StatefulSet"))(broken).validate()).toThrow(/memory/);
    });

    test("NetworkPolicies: only Elasticsearch pods reach 9300; 9200 and 5601 only from the clients that need them; Logstash's listeners from anywhere", () => {
        const policies = ofType(run, "kubernetes:networking.k8s.io/v1:NetworkPolicy").map(manifestOf);
        expect(policies.map((p) => asObj(p.metadata).name).sort()).toEqual([`${c.config.clusterName}-deny-ingress`, "es01-ingress", "kibana-ingress", "logstash-ingress"]);
        const stackLabel = "elk-stack.dev/stack";
        const pods = new Map<string, Labels>();
        for (const { owner } of podTemplates(run)) {
            const labels = asObj(asObj(asObj(asObj(manifestOf(owner).spec).template).metadata).labels) as Labels;
            pods.set(labels["app.kubernetes.io/instance"], labels);
        }
        expect([...pods.keys()].sort()).toEqual(["bootstrap", "es01", "kibana", "kibana-setup", "logstash"]);
        const sources: Record<string, Source> = {
            ...Object.fromEntries(pods),
            // An application pod of the same namespace, the same Elasticsearch of another stack, and a client outside.
            stranger: { "app.kubernetes.io/name": "shop" },
            "other-stack-es01": { ...(pods.get("es01") as Labels), [stackLabel]: "someone-else" },
            outside: "outside",
        };
        const allowed = (target: string, port: number, protocol: "TCP" | "UDP" = "TCP") =>
            Object.entries(sources)
                .filter(([, source]) => admits(policies, source, pods.get(target) as Labels, port, protocol))
                .map(([name]) => name)
                .sort();
        const everyone = Object.keys(sources).sort();
        expect(allowed("es01", 9300)).toEqual(["es01"]);
        expect(allowed("es01", 9200)).toEqual(["bootstrap", "kibana", "logstash"]);
        expect(allowed("kibana", 5601)).toEqual(["kibana-setup"]);
        expect(allowed("logstash", 5140, "UDP")).toEqual(everyone);
        expect(allowed("logstash", 5141)).toEqual(everyone);
        // Nothing else is open: Logstash's API port, the wrong protocol, the steps' pods.
        expect(allowed("logstash", 9600)).toEqual([]);
        expect(allowed("logstash", 5140, "TCP")).toEqual([]);
        expect(allowed("es01", 9200, "UDP")).toEqual([]);
        for (const step of ["bootstrap", "kibana-setup"]) expect(allowed(step, 9200)).toEqual([]);
        // The evaluator is not vacuous: without the policies, everyone reaches everything.
        expect(Object.keys(sources).filter((name) => admits([], sources[name], pods.get("es01") as Labels, 9300, "TCP")).sort()).toEqual(everyone);
    });

    test("a namespace, an Elasticsearch StatefulSet with its headless Service, Kibana and Logstash with Services, a bootstrap Job", () => {
        const namespace = manifestOf(ofType(run, "kubernetes:core/v1:Namespace")[0]);
        expect(asObj(namespace.metadata).name).toBe(ns);
        const es = manifestOf(only(run, "kubernetes:apps/v1:StatefulSet", "-es01-statefulset"));
        expect(asObj(es.spec).replicas).toBe(c.esNodes);
        expect(asObj(es.spec).serviceName).toBe("es01-headless");
        const headless = manifestOf(only(run, "kubernetes:core/v1:Service", "-es01-headless"));
        expect(asObj(headless.spec)).toMatchObject({ clusterIP: "None", publishNotReadyAddresses: true });
        expect(asList(asObj(headless.spec).ports).map((p) => p.port)).toEqual([9200, 9300]);
        const logstash = manifestOf(only(run, "kubernetes:apps/v1:StatefulSet", "-logstash-statefulset"));
        expect(asObj(logstash.spec).replicas).toBe(c.logstashReplicas);
        expect(asObj(manifestOf(only(run, "kubernetes:apps/v1:Deployment", "-kibana-deployment")).spec).replicas).toBe(1);
        for (const name of ["es01", "kibana", "logstash"]) {
            const svc = manifestOf(only(run, "kubernetes:core/v1:Service", `-${name}-service`));
            expect(asObj(svc.metadata).name).toBe(name);
            expect(asObj(svc.spec).type).toBe("ClusterIP");
        }
        const lsPorts = asList(asObj(manifestOf(only(run, "kubernetes:core/v1:Service", "-logstash-service")).spec).ports);
        expect(lsPorts).toEqual(expect.arrayContaining([expect.objectContaining({ port: 5140, protocol: "UDP" })]));
        expect(ofType(run, "kubernetes:batch/v1:Job").map((j) => j.name).sort()).toEqual([`${c.config.clusterName}-bootstrap-job`, `${c.config.clusterName}-kibana-setup-job`]);
        // Every object is in the stack's namespace and made with the configured provider.
        for (const r of manifests(run).filter((m) => m.type !== "kubernetes:core/v1:Namespace")) {
            expect(asObj(manifestOf(r).metadata).namespace).toBe(ns);
        }
    });

    test("Elasticsearch forms a cluster through the headless Service when it has several nodes", () => {
        const es = only(run, "kubernetes:apps/v1:StatefulSet", "-es01-statefulset");
        const yml = YAML.parse(mountedFile(run, es, "/usr/share/elasticsearch/config/elasticsearch.yml")) as Obj;
        expect(yml["xpack.security.http.ssl.enabled"]).toBe(true);
        expect(yml["xpack.security.transport.ssl.enabled"]).toBe(true);
        expect(yml["xpack.security.transport.ssl.client_authentication"]).toBe("required");
        if (c.esNodes === 1) {
            expect(yml["discovery.type"]).toBe("single-node");
            expect(yml["node.name"]).toBe("es01");
            expect(yml["xpack.security.transport.ssl.verification_mode"]).toBe("full");
        } else {
            expect(yml["discovery.seed_hosts"]).toEqual([`es01-headless.${ns}.svc:9300`]);
            expect(yml["cluster.initial_master_nodes"]).toEqual(Array.from({ length: c.esNodes }, (_, i) => `es01-${i}`));
            expect(yml["node.name"]).toBe("${ELK_NODE_NAME}");
            expect(envOf(es)).toContainEqual({ name: "ELK_NODE_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } });
            expect(yml["xpack.security.transport.ssl.verification_mode"]).toBe("certificate");
        }
    });

    test("only the sysctl init container is privileged, and everything else runs as non-root without capabilities", () => {
        const privileged: string[] = [];
        for (const { owner, pod } of podTemplates(run)) {
            expect(asObj(pod.securityContext)).toMatchObject({ runAsNonRoot: true, fsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } });
            for (const [kind, list] of [["init", pod.initContainers], ["main", pod.containers]] as const) {
                for (const container of asList(list)) {
                    const sc = asObj(container.securityContext);
                    if (sc.privileged === true) {
                        privileged.push(`${owner.name}/${kind}/${String(container.name)}`);
                        expect(container.command).toEqual(raiseMaxMapCountCommand(262144));
                    } else {
                        expect(sc).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, runAsNonRoot: true });
                    }
                }
            }
        }
        expect(privileged).toEqual([`${c.stack === "prod" ? "elk-prod" : "elk-k8s"}-es01-statefulset/init/sysctl`]);
        expect(asObj(manifestOf(ofType(run, "kubernetes:core/v1:Namespace")[0]).metadata).labels).toMatchObject({
            "pod-security.kubernetes.io/enforce": "privileged",
            "pod-security.kubernetes.io/warn": "restricted",
        });
    });

    test("every long-running container has start-up and readiness probes, liveness probes but on Elasticsearch, requests and limits", () => {
        for (const { owner, pod } of podTemplates(run)) {
            const job = owner.type === "kubernetes:batch/v1:Job";
            for (const container of [...asList(pod.containers), ...asList(pod.initContainers)]) {
                const res = asObj(container.resources);
                const [requests, limits] = [asObj(res.requests), asObj(res.limits)];
                expect(String(requests.memory)).toMatch(/^\d+Mi$/);
                expect(String(requests.cpu)).toMatch(/^\d+m$/);
                expect(limits.memory).toBe(requests.memory);
                expect(String(limits.cpu)).toMatch(/^\d+m$/);
            }
            if (job) continue;
            const main = asList(pod.containers)[0];
            // Elasticsearch has no liveness probe: a long GC pause must not get a node restarted.
            const elasticsearch = owner.name.includes("es01");
            for (const probe of ["startupProbe", "readinessProbe", ...(elasticsearch ? [] : ["livenessProbe"])]) {
                expect(asObj(asObj(main[probe]).exec).command).toEqual(["sh", "-c", expect.any(String)]);
            }
            if (elasticsearch) expect(main.livenessProbe).toBeUndefined();
            const readiness = (asObj(asObj(main.readinessProbe).exec).command as string[])[2];
            if (owner.name.includes("logstash")) expect(readiness).toContain("_health_report");
            else expect(readiness).toMatch(/--cacert \S+ca\.crt https:\/\/localhost:/);
        }
        const es = asList(asObj(asObj(asObj(manifestOf(only(run, "kubernetes:apps/v1:StatefulSet", "-es01-statefulset")).spec).template).spec).containers)[0];
        const expected = c.stack === "prod" ? { memory: "8192Mi", cpu: "2000m" } : { memory: "1536Mi", cpu: "1000m" };
        expect(asObj(es.resources).requests).toEqual(expected);
    });

    test("Elasticsearch and Logstash keep state on claims per pod; the PDB allows at most one pod down", () => {
        const expectations: [string, string, number][] = [
            ["es01", "/usr/share/elasticsearch/data", c.stack === "prod" ? 200 : 30],
            ["logstash", "/usr/share/logstash/data", c.stack === "prod" ? 20 : 5],
        ];
        for (const [name, mountPath, gb] of expectations) {
            const sts = manifestOf(only(run, "kubernetes:apps/v1:StatefulSet", `-${name}-statefulset`));
            const claims = asList(asObj(sts.spec).volumeClaimTemplates);
            expect(claims).toHaveLength(1);
            expect(asObj(claims[0].spec)).toMatchObject({ accessModes: ["ReadWriteOnce"], resources: { requests: { storage: `${gb}Gi` } } });
            const mounts = asList(asList(asObj(asObj(asObj(sts.spec).template).spec).containers)[0].volumeMounts);
            expect(mounts).toContainEqual({ name: asObj(claims[0].metadata).name, mountPath });
            const pdb = manifestOf(only(run, "kubernetes:policy/v1:PodDisruptionBudget", `-${name}-pdb`));
            expect(asObj(pdb.spec).maxUnavailable).toBe(1);
            expect(asObj(asObj(pdb.spec).selector).matchLabels).toEqual(asObj(asObj(sts.spec).selector).matchLabels);
            const podLabels = asObj(asObj(asObj(asObj(sts.spec).template).metadata).labels);
            expect(podLabels).toMatchObject(asObj(asObj(asObj(pdb.spec).selector).matchLabels));
        }
    });

    test("replicas are spread over nodes by pod anti-affinity", () => {
        const es = asObj(asObj(asObj(manifestOf(only(run, "kubernetes:apps/v1:StatefulSet", "-es01-statefulset")).spec).template).spec);
        if (c.esNodes === 1) {
            expect(es.affinity).toBeUndefined();
            return;
        }
        const terms = asList(asObj(asObj(es.affinity).podAntiAffinity).requiredDuringSchedulingIgnoredDuringExecution);
        expect(terms).toHaveLength(1);
        expect(terms[0].topologyKey).toBe("kubernetes.io/hostname");
        expect(asObj(asObj(terms[0].labelSelector).matchLabels)).toMatchObject({ "app.kubernetes.io/instance": "es01" });
    });

    test("no secret in a ConfigMap or anywhere in plain text; secret env comes from Secrets", () => {
        expect(run.generatedSecrets.length).toBeGreaterThan(5);
        for (const cm of ofType(run, "kubernetes:core/v1:ConfigMap")) {
            const data = JSON.stringify(manifestOf(cm).data);
            expect(data).not.toMatch(/PRIVATE KEY/);
            for (const s of run.generatedSecrets) expect(data).not.toContain(s);
        }
        for (const r of run.resources) {
            for (const { at, s } of plainStrings(r.inputs, `${r.type}::${r.name}`)) {
                for (const secret of run.generatedSecrets) if (s.includes(secret)) throw new Error(`secret in plain text at ${at}`);
            }
        }
        for (const secret of ofType(run, "kubernetes:core/v1:Secret")) {
            expect(Object.keys(secret.inputs)).toContain("stringData");
            expect(JSON.stringify(secret.inputs.stringData)).toMatch(/4dabf18193072939515e22adb298388d/);
        }
        for (const { owner, pod } of podTemplates(run)) {
            for (const e of asList(asList(pod.containers)[0].env)) {
                // A plain value under a secret-sounding name may only be a file path (ELK_TLS_KEY: where the key is mounted).
                if (/PASSWORD|KEY/.test(String(e.name)) && e.value === undefined) expect(asObj(e.valueFrom).secretKeyRef).toBeDefined();
                else if (/PASSWORD|KEY/.test(String(e.name))) expect(String(e.value)).toMatch(/^\/usr\/share\/[a-z/]+\/[a-z0-9.]+$/);
                else if (e.value === undefined) expect(e.valueFrom).toBeDefined();
            }
            expect(owner.name).toBeTruthy();
        }
    });

    test("every ConfigMap, Secret and key a pod refers to exists", () => {
        const names = (type: string) => new Map(ofType(run, type).map((r) => [String(asObj(r.state.metadata).name), manifestOf(r)]));
        const configMaps = names("kubernetes:core/v1:ConfigMap");
        const secrets = names("kubernetes:core/v1:Secret");
        let checked = 0;
        for (const { pod } of podTemplates(run)) {
            for (const v of asList(pod.volumes)) {
                for (const source of asList(asObj(v.projected).sources)) {
                    const [ref, store, field] = source.configMap ? [asObj(source.configMap), configMaps, "data"] : [asObj(source.secret), secrets, "stringData"];
                    const target = store.get(ref.name as string);
                    expect(target).toBeDefined();
                    for (const item of asList(ref.items)) {
                        expect(Object.keys(asObj(asObj(target)[field]))).toContain(item.key);
                        checked++;
                    }
                }
            }
            for (const e of asList(asList(pod.containers)[0].env)) {
                const ref = asObj(asObj(e.valueFrom).secretKeyRef);
                if (!ref.name) continue;
                expect(Object.keys(asObj(asObj(secrets.get(ref.name as string)).stringData))).toContain(ref.key);
                checked++;
            }
        }
        expect(checked).toBeGreaterThan(15);
    });

    test("start order: Elasticsearch, then the bootstrap Job, then Kibana and Logstash, then the Kibana set-up Job", () => {
        const es = only(run, "kubernetes:apps/v1:StatefulSet", "-es01-statefulset");
        const job = only(run, "kubernetes:batch/v1:Job", "-bootstrap-job");
        expect(transitiveDependencies(run, job).has(es.urn)).toBe(true);
        // Services come after their pods are ready (the provider waits for endpoints); the Job dials the Service.
        const esService = only(run, "kubernetes:core/v1:Service", "-es01-service");
        expect(transitiveDependencies(run, esService).has(es.urn)).toBe(true);
        expect(transitiveDependencies(run, job).has(esService.urn)).toBe(true);
        for (const dependant of [only(run, "kubernetes:apps/v1:Deployment", "-kibana-deployment"), only(run, "kubernetes:apps/v1:StatefulSet", "-logstash-statefulset")]) {
            expect(transitiveDependencies(run, dependant).has(job.urn)).toBe(true);
        }
        const setup = only(run, "kubernetes:batch/v1:Job", "-kibana-setup-job");
        expect(transitiveDependencies(run, setup).has(only(run, "kubernetes:apps/v1:Deployment", "-kibana-deployment").urn)).toBe(true);
        const bootstrap = manifestOf(job);
        expect(asObj(bootstrap.metadata).name).toMatch(/-bootstrap-job-/);
        expect(asObj(bootstrap.spec)).toMatchObject({ backoffLimit: 3, activeDeadlineSeconds: 600 });
        expect(envOf(job)).toContainEqual({ name: "ELK_ES_URL", value: `https://es01.${ns}.svc:9200` });
    });

    test("certificates name every host a client or peer dials, and serve TLS under those names only", async () => {
        const es = only(run, "kubernetes:apps/v1:StatefulSet", "-es01-statefulset");
        const kibana = only(run, "kubernetes:apps/v1:Deployment", "-kibana-deployment");
        const logstash = only(run, "kubernetes:apps/v1:StatefulSet", "-logstash-statefulset");
        // What clients dial, read from what the program configured them with.
        const kibanaYml = YAML.parse(mountedFile(run, kibana, "/usr/share/kibana/config/kibana.yml")) as Obj;
        const esHosts = [...(kibanaYml["elasticsearch.hosts"] as string[]), String(envOf(logstash).find((e) => e.name === "ELK_ES_URL")?.value)];
        const dialled = esHosts.map((u) => new URL(u).hostname);
        dialled.push("localhost", `es01.${ns}.svc.cluster.local`, `es01-headless.${ns}.svc`);
        for (let i = 0; i < c.esNodes; i++) dialled.push(`es01-${i}.es01-headless.${ns}.svc`, `es01-${i}.es01-headless.${ns}.svc.cluster.local`);

        const cert = mountedFile(run, es, "/usr/share/elasticsearch/config/certs/es01.crt");
        const key = mountedFile(run, es, "/usr/share/elasticsearch/config/certs/es01.key");
        const x509 = new crypto.X509Certificate(cert);
        expect(x509.verify(new crypto.X509Certificate(ca).publicKey)).toBe(true);
        for (const host of new Set(dialled)) {
            // The pods' names match a wildcard SAN (checkHost answers with the SAN that matched).
            expect(x509.checkHost(host)).toBe(/^es01-\d+\./.test(host) ? host.replace(/^es01-\d+/, "*") : host);
            expect(await tlsHandshake({ key, cert, ca, servername: host })).toMatchObject({ authorized: true });
        }
        const wrong = await tlsHandshake({ key, cert, ca, servername: `es01.other-namespace.svc` });
        expect(wrong).toMatchObject({ authorized: false, error: "ERR_TLS_CERT_ALTNAME_INVALID" });

        for (const [workload, name, dir, keyFile] of [
            [kibana, "kibana", "/usr/share/kibana/config/certs", "kibana.key"],
            [logstash, "logstash", "/usr/share/logstash/config/certs", "logstash.pkcs8.key"],
        ] as const) {
            const c2 = mountedFile(run, workload, `${dir}/${name}.crt`);
            const k2 = mountedFile(run, workload, `${dir}/${keyFile}`);
            for (const host of [`${name}.${ns}.svc`, `${name}.${ns}.svc.cluster.local`, name]) {
                expect(await tlsHandshake({ key: k2, cert: c2, ca, servername: host })).toMatchObject({ authorized: true });
            }
        }
    });

    test("outputs point at the in-cluster Services", () => {
        expect(run.outputs.elasticsearchUrl.value).toBe(`https://es01.${ns}.svc:9200`);
        expect(run.outputs.kibanaUrl.value).toBe(`https://kibana.${ns}.svc:5601`);
        expect(run.outputs.elasticPassword.secret).toBe(true);
    });
});

describe("Kubernetes options", () => {
    const base = { target: "kubernetes", kubernetesEngine: "manifests", clusterName: "elk-opt" };

    test("provider from kubeconfig and context, manifests rendered to a directory, Kibana behind an Ingress, NodePort for Logstash", async () => {
        const run = await runProgram(
            {
                ...base,
                kubeconfig: "/home/ops/.kube/config",
                kubeContext: "staging",
                kubernetesRenderDir: "out/manifests",
                kibanaIngressHost: "kibana.example.com",
                ingressClassName: "nginx",
                logstashServiceType: "NodePort",
                storageClass: "fast-ssd",
                antiAffinity: "soft",
                elasticsearchNodeCount: "3",
            },
            { stack: "opt" },
        );
        const provider = ofType(run, "pulumi:providers:kubernetes")[0];
        expect(unwrapSecrets(provider.inputs)).toMatchObject({ kubeconfig: "/home/ops/.kube/config", context: "staging", renderYamlToDirectory: "out/manifests", namespace: "elk" });
        for (const r of manifests(run)) expect(() => new (modelFor(r.type))(manifestOf(r)).validate()).not.toThrow();
        const ingress = manifestOf(ofType(run, "kubernetes:networking.k8s.io/v1:Ingress")[0]);
        expect(asObj(ingress.spec)).toMatchObject({ ingressClassName: "nginx", rules: [{ host: "kibana.example.com" }] });
        expect(asObj(asObj(ingress.metadata).annotations)["nginx.ingress.kubernetes.io/backend-protocol"]).toBe("HTTPS");
        expect(run.outputs.kibanaUrl.value).toBe("https://kibana.example.com");
        const kibana = only(run, "kubernetes:apps/v1:Deployment", "-kibana-deployment");
        expect((YAML.parse(mountedFile(run, kibana, "/usr/share/kibana/config/kibana.yml")) as Obj)["server.publicBaseUrl"]).toBe("https://kibana.example.com");
        expect(asObj(manifestOf(only(run, "kubernetes:core/v1:Service", "-logstash-service")).spec).type).toBe("NodePort");
        // Behind an Ingress, Kibana's port is open to the controller's pods, wherever they run; 9300 stays Elasticsearch's.
        const policies = ofType(run, "kubernetes:networking.k8s.io/v1:NetworkPolicy").map(manifestOf);
        const kibanaPod = { "app.kubernetes.io/instance": "kibana", "elk-stack.dev/stack": String(base.clusterName) };
        expect(admits(policies, "outside", kibanaPod, 5601, "TCP")).toBe(true);
        expect(admits(policies, "outside", { ...kibanaPod, "app.kubernetes.io/instance": "es01" }, 9300, "TCP")).toBe(false);
        const es = manifestOf(only(run, "kubernetes:apps/v1:StatefulSet", "-es01-statefulset"));
        expect(asObj(asList(asObj(es.spec).volumeClaimTemplates)[0].spec).storageClassName).toBe("fast-ssd");
        const affinity = asObj(asObj(asObj(asObj(asObj(es.spec).template).spec).affinity).podAntiAffinity);
        expect(asList(affinity.preferredDuringSchedulingIgnoredDuringExecution)[0]).toMatchObject({ weight: 100 });
    });

    test("apps outside the cluster: logstashPublicHost is in Logstash's certificate, the endpoints and the wiring", async () => {
        const run = await runProgram({ ...base, logstashServiceType: "LoadBalancer", logstashPublicHost: "logs.example.com" }, { stack: "opt" });
        const csr = ofType(run, "tls:index/certRequest:CertRequest").find((r) => r.name.includes("-logstash-"));
        expect(unwrapSecrets(csr?.inputs.dnsNames)).toEqual(expect.arrayContaining(["logs.example.com", "logstash.elk.svc"]));
        const logstash = only(run, "kubernetes:apps/v1:StatefulSet", "-logstash-statefulset");
        const cert = new crypto.X509Certificate(mountedFile(run, logstash, "/usr/share/logstash/config/certs/logstash.crt"));
        expect(cert.checkHost("logs.example.com")).toBe("logs.example.com");
        expect(run.outputs.logstashEndpoints.value).toEqual({ nginxSyslog: "logs.example.com:5140", django: { app: "logs.example.com:5141" } });
        const wiring = run.outputs.wiring.value as Record<string, string>;
        expect(wiring["nginx-web.conf"]).toContain("syslog:server=logs.example.com:5140,");
        expect(wiring["django_logging.py"]).toContain("logs.example.com");
        expect(asObj(manifestOf(only(run, "kubernetes:core/v1:Service", "-logstash-service")).spec).type).toBe("LoadBalancer");
    });

    test("setMaxMapCount=false: no init container, no privileged pod, and the namespace enforces the restricted profile", async () => {
        const run = await runProgram({ ...base, setMaxMapCount: "false" }, { stack: "opt" });
        for (const { pod } of podTemplates(run)) {
            expect(pod.initContainers).toBeUndefined();
        }
        const labels = asObj(asObj(manifestOf(ofType(run, "kubernetes:core/v1:Namespace")[0]).metadata).labels);
        expect(labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    });

    test.each([
        [{ elasticsearchNodeCount: "2" }, /elasticsearchNodeCount'.*2 nodes.*Fix: use 1, or 3 and more/],
        [{ kibanaServiceType: "Ingress" }, /kibanaServiceType'.*Fix: set ClusterIP, NodePort or LoadBalancer/],
        [{ kubernetesNamespace: "Elk_Prod" }, /kubernetesNamespace'.*Fix:/],
        [{ antiAffinity: "maybe" }, /antiAffinity'.*Fix: set hard or soft/],
        [{ logstashPublicHost: "logs example" }, /logstashPublicHost'.*neither a DNS name nor an IP address/],
        [{ elasticsearchCpuMillis: "3000", elasticsearchCpuLimitMillis: "2000" }, /elasticsearchCpuLimitMillis'.*Fix: raise/],
    ])("bad config %j fails with the key and the fix", async (bad, message) => {
        await expect(runProgram({ ...base, ...bad }, { stack: "opt" })).rejects.toThrow(message);
    });
});
