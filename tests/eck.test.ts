/**
 * The `eck` Kubernetes engine: the real program under the mock runtime for a one-node dev stack, the prod stack file
 * (dedicated masters and hot data nodes) and a zone-aware variant; the custom resources checked field by field against
 * the pinned ECK API (tests/support/eckSchema.ts), the TLS Secrets against the real certificates the stack issues, and
 * the start order, the least-privilege writer and the absence of secrets read off what the program registers.
 */
import { spawn } from "child_process";
import * as crypto from "crypto";
import * as path from "path";
import YAML from "yaml";
import { parseStackConfig } from "../components/model/config";
import { LOGSTASH_WRITER_ROLE, LOGSTASH_WRITER_USER } from "../components/resources/elkStack";
import { checkServedVersion } from "../components/targets/eck";
import { keystoreStart } from "../components/model/shellScripts";
import type { ServiceSpec } from "../components/model/spec";
import { ECK_KINDS, ECK_OPERATOR_VERSION, confidentialSettings, elasticPasswordOf, elasticsearchResource, secureSettingsData, withoutKeystoreStart } from "../components/targets/eckResources";
import { violations } from "../policy/policies";
import { eckSchemaErrors } from "./support/eckSchema";
import { withIsolatedSdk } from "./support/isolatedSdk";
import { type ProgramRun, type RecordedResource, isSecretValue, ofType, plainStrings, runProgram, stackFileConfig, transitiveDependencies, unwrapSecrets } from "./support/program";

type Obj = Record<string, unknown>;
const asObj = (v: unknown): Obj => (v ?? {}) as Obj;
const asList = (v: unknown): Obj[] => (v ?? []) as Obj[];

const ES = "kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch";
const KB = "kubernetes:kibana.k8s.elastic.co/v1:Kibana";
const LS = "kubernetes:logstash.k8s.elastic.co/v1alpha1:Logstash";
const JOB = "kubernetes:batch/v1:Job";
const SECRET = "kubernetes:core/v1:Secret";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const CRD = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition";

function one(run: ProgramRun, type: string, suffix = ""): RecordedResource {
    const found = ofType(run, type).filter((r) => r.name.endsWith(suffix));
    if (found.length !== 1) throw new Error(`expected one ${type} *${suffix}, got ${found.map((r) => r.name).join(", ")}`);
    return found[0];
}
const body = (r: RecordedResource): Obj => unwrapSecrets(r.inputs) as Obj;
const specOf = (r: RecordedResource): Obj => asObj(body(r).spec);

/** The Secret with this object name, its data in the clear. */
function secretData(run: ProgramRun, name: string): { resource: RecordedResource; type: string; data: Record<string, string> } {
    const r = ofType(run, SECRET).find((s) => asObj(body(s).metadata).name === name || asObj(s.state.metadata).name === name);
    if (!r) throw new Error(`no Secret ${name}`);
    return { resource: r, type: String(body(r).type), data: asObj(body(r).stringData) as Record<string, string> };
}

/** Every container of the pods a resource makes: node set pod templates, Kibana's and Logstash's, Jobs'. */
function containers(r: RecordedResource): { where: string; init: boolean; c: Obj }[] {
    const s = specOf(r);
    const pods: { where: string; pod: Obj }[] =
        r.type === ES
            ? asList(s.nodeSets).map((set) => ({ where: `${r.name}/${String(set.name)}`, pod: asObj(asObj(set.podTemplate).spec) }))
            : r.type === JOB
              ? [{ where: r.name, pod: asObj(asObj(s.template).spec) }]
              : [{ where: r.name, pod: asObj(asObj(s.podTemplate).spec) }];
    return pods.flatMap(({ where, pod }) => [
        ...asList(pod.initContainers).map((c) => ({ where, init: true, c })),
        ...asList(pod.containers).map((c) => ({ where, init: false, c })),
    ]);
}

function envOf(c: Obj): Record<string, Obj> {
    return Object.fromEntries(asList(c.env).map((e) => [String(e.name), e]));
}

/** The custom resources as the provider would send them (a read-back name is not needed: they are named). */
const customResources = (run: ProgramRun) => [one(run, ES), one(run, KB), one(run, LS)];

describe("eck engine, one-node dev stack with an s3 snapshot repository", () => {
    let run: ProgramRun;
    const s3 = { snapshotS3AccessKey: "AKIAIOSFODNN7EXAMPLE", snapshotS3SecretKey: "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY" };
    const config = { target: "kubernetes", clusterName: "elk-eck", snapshotRepositoryType: "s3", snapshotBucket: "elk-backups", ...s3 };

    beforeAll(async () => {
        run = await runProgram(config, { stack: "eckdev", secretKeys: Object.keys(s3) });
    }, 120_000);

    /** The Secret a custom resource's secureSettings names, with its data in the clear. */
    const secureSettings = (r: RecordedResource): Record<string, string> => {
        const refs = asList(specOf(r).secureSettings);
        expect(refs).toHaveLength(1);
        expect(Object.keys(refs[0])).toEqual(["secretName"]);
        return secretData(run, String(refs[0].secretName)).data;
    };
    /** The value the program generated for a secret: the mocks record each random value under its resource name. */
    const generated = (suffix: string): string => {
        const r = ofType(run, "random:index/randomPassword:RandomPassword").find((x) => x.name.endsWith(suffix));
        if (!r) throw new Error(`no RandomPassword *${suffix}`);
        return String(unwrapSecrets(r.state.result));
    };

    test("eck is the default engine on Kubernetes: custom resources, no StatefulSet or Deployment of the stack's own", () => {
        expect(ofType(run, "kubernetes:apps/v1:StatefulSet")).toEqual([]);
        expect(ofType(run, "kubernetes:apps/v1:Deployment")).toEqual([]);
        expect(customResources(run).map((r) => asObj(body(r).metadata).name)).toEqual(["elk-eck", "kibana", "logstash"]);
    });

    test("the operator is installed from its pinned chart before any custom resource", () => {
        const release = one(run, RELEASE);
        expect(body(release)).toMatchObject({
            chart: "eck-operator",
            version: ECK_OPERATOR_VERSION,
            repositoryOpts: { repo: "https://helm.elastic.co" },
            namespace: "elastic-system",
            createNamespace: true,
            values: { installCRDs: true, managedNamespaces: ["elk"] },
        });
        for (const r of customResources(run)) expect(transitiveDependencies(run, r).has(release.urn)).toBe(true);
        expect(ofType(run, CRD)).toEqual([]);
    });

    test("every custom resource conforms to the pinned ECK API; a malformed copy does not", () => {
        for (const r of customResources(run)) {
            expect({ kind: r.type, errors: eckSchemaErrors(body(r)) }).toEqual({ kind: r.type, errors: [] });
            expect(body(r).apiVersion).toBe(Object.values(ECK_KINDS).find((k) => r.type.endsWith(`${k.apiVersion}:${k.kind}`))?.apiVersion);
        }
        const broken = JSON.parse(JSON.stringify(body(one(run, ES)))) as Obj;
        const set = asList(asObj(broken.spec).nodeSets)[0];
        set.count = "1";
        set.replicas = 1;
        set.name = "a-name-longer-than-twenty-three-chars";
        delete asObj(broken.spec).version;
        expect(eckSchemaErrors(broken)).toEqual([
            "spec: lacks required field 'version'",
            "spec.nodeSets[0].count: must be an integer, is \"1\"",
            "spec.nodeSets[0].name: 'a-name-longer-than-twenty-three-chars' is longer than 23",
            "spec.nodeSets[0]: unknown field 'replicas'",
        ]);
    });

    test("one node set of every role, with its claim, heap and limits; ECK's own settings left to ECK", () => {
        const s = specOf(one(run, ES));
        expect(s.version).toBe("9.4.1");
        const sets = asList(s.nodeSets);
        expect(sets.map((x) => [x.name, x.count])).toEqual([["default", 1]]);
        const cfg = asObj(sets[0].config);
        expect(cfg["node.roles"]).toBeUndefined();
        expect(cfg).toMatchObject({ "xpack.license.self_generated.type": "basic", "ingest.geoip.downloader.enabled": false });
        for (const managed of ["cluster.name", "node.name", "network.host", "discovery.type", "discovery.seed_hosts", "cluster.initial_master_nodes", "xpack.security.http.ssl.enabled", "xpack.security.transport.ssl.key"]) {
            expect(Object.keys(cfg)).not.toContain(managed);
        }
        expect(sets[0].zoneAwareness).toBeUndefined();
        expect(sets[0].volumeClaimTemplates).toEqual([{ metadata: { name: "elasticsearch-data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "30Gi" } } } }]);
        const main = containers(one(run, ES)).find((x) => !x.init)?.c as Obj;
        expect(main.name).toBe("elasticsearch");
        expect(envOf(main).ES_JAVA_OPTS).toEqual({ name: "ES_JAVA_OPTS", value: "-Xms512m -Xmx512m" });
        // Canonical quantities (1 CPU, not 1000m): the operator's updates write them back unchanged (tests/eckOwnership.test.ts).
        expect(main.resources).toEqual({ requests: { memory: "1536Mi", cpu: "1" }, limits: { memory: "1536Mi", cpu: "2" } });
        // One node: nothing to spread.
        expect(asObj(asObj(sets[0].podTemplate).spec).affinity).toBeUndefined();
        expect(s.updateStrategy).toEqual({ changeBudget: { maxUnavailable: 1 } });
        expect(s.volumeClaimDeletePolicy).toBe("DeleteOnScaledownOnly");
    });

    test("HTTP: custom certificates with tls.crt, tls.key and ca.crt, from the stack's CA, naming the operator's Services", () => {
        const ca = new crypto.X509Certificate(String(run.outputs.caCertificate.value));
        const cases = [
            { r: one(run, ES), names: ["elk-eck-es-http.elk.svc", "elk-eck-es-internal-http.elk.svc"] },
            { r: one(run, KB), names: ["kibana-kb-http.elk.svc"] },
        ];
        for (const { r, names } of cases) {
            const secretName = String(asObj(asObj(asObj(specOf(r).http).tls).certificate).secretName);
            const { type, data } = secretData(run, secretName);
            expect(type).toBe("kubernetes.io/tls");
            expect(Object.keys(data).sort()).toEqual(["ca.crt", "tls.crt", "tls.key"]);
            const cert = new crypto.X509Certificate(data["tls.crt"]);
            expect(cert.verify(ca.publicKey)).toBe(true);
            expect(cert.checkPrivateKey(crypto.createPrivateKey(data["tls.key"]))).toBe(true);
            expect(new crypto.X509Certificate(data["ca.crt"]).fingerprint256).toBe(ca.fingerprint256);
            for (const n of names) expect(cert.subjectAltName).toContain(`DNS:${n}`);
        }
    });

    test("transport: the transport CA with its key (ca.crt, ca.key), apart from the HTTP CA, for the operator to issue node certificates", () => {
        const secretName = String(asObj(asObj(asObj(specOf(one(run, ES)).transport).tls).certificate).secretName);
        const { type, data } = secretData(run, secretName);
        expect(type).toBe("Opaque");
        expect(Object.keys(data).sort()).toEqual(["ca.crt", "ca.key"]);
        const ca = new crypto.X509Certificate(data["ca.crt"]);
        expect(ca.ca).toBe(true);
        expect(ca.subject).toContain("transport CA");
        expect(ca.checkPrivateKey(crypto.createPrivateKey(data["ca.key"]))).toBe(true);
        expect(ca.fingerprint256).not.toBe(new crypto.X509Certificate(String(run.outputs.caCertificate.value)).fingerprint256);
    });

    test("only the sysctl init container is privileged, and it is in every node set's pod template", () => {
        const all = [...customResources(run), ...ofType(run, JOB)].flatMap(containers);
        const privileged = all.filter((x) => asObj(x.c.securityContext).privileged === true);
        expect(privileged.map((x) => [x.where, x.init, x.c.name])).toEqual([["elk-eck-es01-elasticsearch/default", true, "sysctl"]]);
        // The stack's one init container; the others name the operator's, to give them a restricted security context.
        expect(all.filter((x) => x.init).map((x) => [x.where, x.c.name])).toEqual([
            ["elk-eck-es01-elasticsearch/default", "sysctl"],
            ["elk-eck-kibana-kibana", "elastic-internal-init"],
            ["elk-eck-kibana-kibana", "elastic-internal-init-keystore"],
            ["elk-eck-logstash-logstash", "logstash-internal-init-config"],
            ["elk-eck-logstash-logstash", "elastic-internal-init-keystore"],
        ]);
        for (const x of all.filter((y) => y.init && y.c.name !== "sysctl")) expect(Object.keys(x.c).sort()).toEqual(["name", "resources", "securityContext"]);
        expect(asObj(asObj(one(run, "kubernetes:core/v1:Namespace").inputs.metadata).labels)["pod-security.kubernetes.io/enforce"]).toBe("privileged");
        expect(asObj(asList(specOf(one(run, ES)).nodeSets)[0].config)["node.store.allow_mmap"]).toBeUndefined();
    });

    test("no password, key or encryption key in any object but Secrets, and the Secrets mark theirs secret", () => {
        const secrets = [...run.generatedSecrets, String(run.outputs.elasticPassword.value), ...Object.values(s3)];
        expect(secrets.length).toBeGreaterThan(5);
        for (const r of run.resources.filter((x) => x.type.startsWith("kubernetes:") && x.type !== SECRET)) {
            for (const { at, s } of plainStrings(r.inputs)) {
                for (const secret of secrets) expect({ at: `${r.name}${at}`, leaks: s.includes(secret) }).toEqual({ at: `${r.name}${at}`, leaks: false });
            }
        }
        for (const r of ofType(run, SECRET)) expect(isSecretValue(r.inputs.stringData)).toBe(true);
        const cfg = asObj(specOf(one(run, KB)).config);
        // ECK issues Kibana a service-account token for its elasticsearchRef; kibana.yml names no user.
        expect(cfg["elasticsearch.username"]).toBeUndefined();
        // Kibana's password and keys are keystore settings: kibana.yml neither holds nor names them.
        for (const key of ["elasticsearch.password", "xpack.security.encryptionKey", "xpack.encryptedSavedObjects.encryptionKey", "xpack.reporting.encryptionKey"]) expect(Object.keys(cfg)).not.toContain(key);
        // The hosts are the association's: ECK's merge would append kibana.yml's to them.
        expect(cfg["elasticsearch.hosts"]).toBeUndefined();
        for (const managed of ["server.host", "server.name", "server.ssl.enabled", "server.ssl.certificate"]) expect(Object.keys(cfg)).not.toContain(managed);
        expect(specOf(one(run, KB)).elasticsearchRef).toEqual({ name: "elk-eck" });
    });

    test("Logstash writes as the least-privilege writer, with the pipelines, a queue claim per pod and its listeners as a Service", () => {
        const s = specOf(one(run, LS));
        // No association: the operator's user for it would have more than the writer role.
        expect(s.elasticsearchRefs).toBeUndefined();
        const main = (containers(one(run, LS)).find((x) => !x.init) as { c: Obj }).c;
        const env = envOf(main);
        expect(env.ELK_LOGSTASH_USER.value).toBe(LOGSTASH_WRITER_USER);
        expect(env.ELK_ES_URL.value).toBe("https://elk-eck-es-http.elk.svc:9200");
        // The writer's password is in Logstash's keystore, not its environment.
        expect(env.ELK_LOGSTASH_PASSWORD).toBeUndefined();
        // The bootstrap gives the writer exactly its role, which only appends to this environment's data streams.
        const bootstrap = one(run, "kubernetes:core/v1:ConfigMap", "-bootstrap-files");
        const script = Object.values(asObj(body(bootstrap).data)).map(String).join("\n");
        expect(script).toContain(`/_security/user/${LOGSTASH_WRITER_USER}`);
        expect(script).toContain(`"roles":["${LOGSTASH_WRITER_ROLE}"]`);
        expect(script).toContain(`"privileges":["create_doc","auto_configure"]`);
        // The same pipelines as on the other targets: pipelines.yml's entries, each with a persisted queue and its file mounted.
        const pipelines = asList(s.pipelines);
        expect(pipelines.length).toBeGreaterThan(1);
        const mounts = asList(main.volumeMounts).map((m) => String(m.mountPath));
        for (const p of pipelines) {
            expect(p["queue.type"]).toBe("persisted");
            // path.config is a glob over one pipeline's folder; its files are mounted there.
            const dir = String(p["path.config"]).replace(/\/\*\.conf$/, "/");
            expect(mounts.filter((m) => m.startsWith(dir)).length).toBeGreaterThan(0);
        }
        expect(s.volumeClaimTemplates).toEqual([{ metadata: { name: "logstash-data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "5Gi" } } } }]);
        const cfg = asObj(s.config);
        expect(Object.keys(cfg).filter((k) => k.startsWith("api.") || k === "node.name")).toEqual([]);
        const service = asList(s.services)[0];
        expect(service.name).toBe("listeners");
        const ports = asList(asObj(asObj(service.service).spec).ports).map((p) => `${String(p.port)}/${String(p.protocol)}`);
        expect(ports).toEqual(expect.arrayContaining(["5140/UDP", "5141/TCP"]));
        expect(run.outputs.logstashEndpoints.value).toMatchObject({ nginxSyslog: "logstash-ls-listeners.elk.svc:5140" });
    });

    test("each custom resource's secureSettings Secret holds exactly its keystore settings, with the generated values", () => {
        expect(secureSettings(one(run, ES))).toEqual({ "s3.client.elk.access_key": s3.snapshotS3AccessKey, "s3.client.elk.secret_key": s3.snapshotS3SecretKey });
        expect(secureSettings(one(run, KB))).toEqual({
            "xpack.security.encryptionKey": generated("-kibana-security-key"),
            "xpack.encryptedSavedObjects.encryptionKey": generated("-kibana-saved-objects-key"),
            "xpack.reporting.encryptionKey": generated("-kibana-reporting-key"),
        });
        expect(secureSettings(one(run, LS))).toEqual({ ELK_LOGSTASH_PASSWORD: generated("-logstash-writer-password") });
        // The elastic password goes to the operator alone (its elastic-user Secret), not into the keystore as well.
        expect(generated("-elastic-password")).toBe(run.outputs.elasticPassword.value);
        for (const r of customResources(run)) {
            expect(Object.values(secureSettings(r))).not.toContain(run.outputs.elasticPassword.value);
            // Each Secret exists before its resource asks the operator for it.
            const secretName = String(asList(specOf(r).secureSettings)[0].secretName);
            const secret = ofType(run, SECRET).find((x) => asObj(body(x).metadata).name === secretName) as RecordedResource;
            expect(transitiveDependencies(run, r).has(secret.urn)).toBe(true);
        }
    });

    test("the pods run the image's entrypoint: no keystore-start.sh, confidential file or ELK_CONFIDENTIAL variable (the operator fills the keystore)", () => {
        for (const r of customResources(run)) {
            for (const { where, c } of containers(r).filter((x) => !x.init)) {
                expect({ where, command: c.command, args: c.args }).toEqual({ where, command: undefined, args: undefined });
                expect({ where, env: Object.keys(envOf(c)).filter((n) => n.startsWith("ELK_CONFIDENTIAL")) }).toEqual({ where, env: [] });
                const mounts = asList(c.volumeMounts).map((m) => String(m.mountPath));
                expect({ where, mounts: mounts.filter((m) => m.includes("elk-secret.") || m.includes("/elk-start/")) }).toEqual({ where, mounts: [] });
            }
        }
        // What the pods mount of the stack's files: no Secret of a resource holds a keystore value.
        const keystoreValues = customResources(run).flatMap((r) => Object.values(secureSettings(r)));
        for (const r of ofType(run, SECRET).filter((x) => /-(es01|kibana|logstash)-secrets$/.test(x.name))) {
            for (const v of keystoreValues) expect({ r: r.name, holds: Object.values(asObj(body(r).stringData)).includes(v) }).toEqual({ r: r.name, holds: false });
        }
    });

    test("the Jobs run against the operator's Services and read the elastic password as a file from the operator's elastic-user secret", () => {
        const userSecret = secretData(run, "elk-eck-es-elastic-user");
        expect(userSecret.data).toEqual({ elastic: run.outputs.elasticPassword.value });
        for (const [suffix, urlEnv, url] of [
            ["-bootstrap-job", "ELK_ES_URL", "https://elk-eck-es-http.elk.svc:9200"],
            ["-kibana-setup-job", "ELK_KIBANA_URL", "https://kibana-kb-http.elk.svc:5601"],
        ]) {
            const job = one(run, JOB, suffix);
            const pod = asObj(asObj(specOf(job).template).spec);
            const c = asList(pod.containers)[0];
            const env = envOf(c);
            expect(env[urlEnv].value).toBe(url);
            // The script reads `elastic` from /tmp/elk-secret.elastic; nothing takes a value from a Secret into the environment.
            expect(String(env.ELK_CONFIDENTIAL.value).split(" ")).toContain("elastic");
            expect(env.ELK_CONFIDENTIAL_DIR.value).toBe("/tmp");
            expect(Object.values(env).filter((e) => e.valueFrom !== undefined)).toEqual([]);
            const mount = asList(c.volumeMounts).filter((m) => m.mountPath === "/tmp/elk-secret.elastic");
            expect(mount).toEqual([{ name: "eck-elastic-user", mountPath: "/tmp/elk-secret.elastic", subPath: "elastic", readOnly: true }]);
            expect(asList(pod.volumes).find((v) => v.name === "eck-elastic-user")).toEqual({
                name: "eck-elastic-user",
                secret: { secretName: "elk-eck-es-elastic-user", items: [{ key: "elastic", path: "elastic", mode: 0o440 }] },
            });
            // The step's own Secret keeps its other secret files, but not the elastic password.
            const own = ofType(run, SECRET).filter((r) => r.name.endsWith(suffix.replace(/-job$/, "-secrets")));
            for (const r of own) {
                expect(Object.keys(asObj(body(r).stringData))).not.toContain("elk-secret.elastic");
                expect(Object.values(asObj(body(r).stringData))).not.toContain(run.outputs.elasticPassword.value);
            }
        }
        // The bootstrap's other secrets are files of its own Secret, as on the manifests engine.
        const bootstrapSecret = asObj(body(one(run, SECRET, "-bootstrap-secrets")).stringData);
        // No kibana_system password: ECK turns that user off, and the stack generates none.
        expect(Object.keys(bootstrapSecret).sort()).toEqual(["elk-secret.logstash_writer_password"]);
        expect(ofType(run, "random:index/randomPassword:RandomPassword").filter((r) => r.name.endsWith("-kibana-system-password"))).toEqual([]);
        expect(run.outputs.elasticsearchUrl.value).toBe("https://elk-eck-es-http.elk.svc:9200");
        expect(String(run.outputs.quickstart.value)).toContain("port-forward svc/elk-eck-es-http 9200:9200");
        expect(String(run.outputs.quickstart.value)).toContain("port-forward svc/kibana-kb-http 5601:5601");
    });

    test("start order: secrets and operator, Elasticsearch green, the bootstrap, then Kibana and Logstash, then the Kibana set-up", () => {
        const es = one(run, ES);
        const kb = one(run, KB);
        const ls = one(run, LS);
        const bootstrap = one(run, JOB, "-bootstrap-job");
        const setup = one(run, JOB, "-kibana-setup-job");
        const before = (later: RecordedResource, earlier: RecordedResource) => transitiveDependencies(run, later).has(earlier.urn);
        for (const name of ["-http-cert", "-transport-ca", "-elastic-user"]) expect(before(es, one(run, SECRET, `-es01${name}`))).toBe(true);
        expect(before(kb, one(run, SECRET, "-kibana-http-cert"))).toBe(true);
        expect(before(bootstrap, es)).toBe(true);
        expect(before(kb, bootstrap)).toBe(true);
        expect(before(ls, bootstrap)).toBe(true);
        expect(before(setup, kb)).toBe(true);
        expect(before(es, bootstrap) || before(es, kb) || before(kb, ls) || before(ls, kb)).toBe(false);
        // The provider waits for each to be green before its dependants start.
        const wait = (r: RecordedResource) => asObj(asObj(body(r).metadata).annotations)["pulumi.com/waitFor"];
        expect(JSON.parse(String(wait(es)))).toEqual(["jsonpath={.status.phase}=Ready", "jsonpath={.status.health}=green"]);
        expect(wait(kb)).toBe("jsonpath={.status.health}=green");
        expect(wait(ls)).toBe("jsonpath={.status.health}=green");
    });

    test("NetworkPolicies as on the manifests engine, selecting the stack's pods by the stack's labels, the operator's pods admitted to 9200, and Elasticsearch's own for ECK's pre-stop hook", () => {
        const policies = ofType(run, "kubernetes:networking.k8s.io/v1:NetworkPolicy").map((r) => body(r));
        const named = (n: string) => policies.find((p) => asObj(p.metadata).name === n) as Obj;
        expect(asObj(named("elk-eck-deny-ingress").spec)).toEqual({ podSelector: { matchLabels: { "elk-stack.dev/stack": "elk-eck" } }, policyTypes: ["Ingress"], ingress: [] });
        const operator = asObj(named("es01-from-eck-operator").spec);
        // The operator's pods by the chart's label, in its namespace: not every pod of that namespace.
        expect(operator.ingress).toEqual([
            {
                from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "elastic-system" } }, podSelector: { matchLabels: { "app.kubernetes.io/name": "elastic-operator" } } }],
                ports: [{ port: 9200, protocol: "TCP" }],
            },
        ]);
        // Every pod template of the custom resources carries the labels the policies select on.
        const esSelector = asObj(asObj(operator.podSelector).matchLabels);
        for (const set of asList(specOf(one(run, ES)).nodeSets)) expect(asObj(asObj(set.podTemplate).metadata).labels).toMatchObject(esSelector);
        const es = asObj(named("es01-ingress").spec);
        const from = (port: number) => asList(es.ingress).filter((r) => asList(r.ports)[0].port === port).map((r) => asList(r.from).map((f) => asObj(asObj(f.podSelector).matchLabels)["app.kubernetes.io/instance"]).sort());
        expect(from(9200)).toEqual([["bootstrap", "kibana", "logstash"], ["es01"]]);
        expect(from(9300)).toEqual([["es01"]]);
        for (const r of [one(run, KB), one(run, LS)]) expect(asObj(asObj(asObj(specOf(r).podTemplate).metadata).labels)["elk-stack.dev/stack"]).toBe("elk-eck");
        // No pod of the stack before its policies.
        const all = ofType(run, "kubernetes:networking.k8s.io/v1:NetworkPolicy");
        expect(all.map((r) => r.name).sort()).toEqual(["elk-eck-deny-ingress", "elk-eck-es01-from-eck-operator", "elk-eck-es01-ingress", "elk-eck-kibana-ingress", "elk-eck-logstash-ingress"]);
        for (const owner of [...customResources(run), ...ofType(run, JOB)]) {
            for (const np of all) expect({ owner: owner.name, np: np.name, after: transitiveDependencies(run, owner).has(np.urn) }).toEqual({ owner: owner.name, np: np.name, after: true });
        }
    });

    test("the policy pack reads the operator's pod templates: the stack passes, a privileged Kibana is refused", () => {
        const marked = (r: RecordedResource) => ({ type: r.type, name: r.name, props: r.inputs, secretsMarked: true });
        for (const r of run.resources) expect({ r: r.name, v: violations(marked(r)) }).toEqual({ r: r.name, v: [] });
        const kb = one(run, KB);
        const copy = JSON.parse(JSON.stringify(kb.inputs)) as Obj;
        const container = asList(asObj(asObj(asObj(copy.spec).podTemplate).spec).containers)[0];
        asObj(container.securityContext).privileged = true;
        expect(violations({ type: kb.type, name: kb.name, props: copy, secretsMarked: true }).map((v) => v.policy)).toContain("elk-privileged-only-sysctl");
    });
});

describe("eck engine, prod stack file", () => {
    let run: ProgramRun;

    beforeAll(async () => {
        run = await runProgram(stackFileConfig("prod"), { stack: "prod" });
    }, 120_000);

    test("three dedicated masters and three hot data nodes, each set with its roles, heap, limits and claim", () => {
        const sets = asList(specOf(one(run, ES)).nodeSets);
        expect(sets.map((s) => [s.name, s.count, asObj(s.config)["node.roles"]])).toEqual([
            ["masters", 3, ["master"]],
            ["hot", 3, ["data_hot", "data_content", "ingest"]],
        ]);
        const sized = sets.map((s) => {
            const c = asList(asObj(asObj(s.podTemplate).spec).containers)[0];
            return [envOf(c).ES_JAVA_OPTS.value, asObj(asObj(c.resources).limits).memory, asObj(asObj(asObj(asList(s.volumeClaimTemplates)[0].spec).resources).requests).storage];
        });
        expect(sized).toEqual([
            ["-Xms1024m -Xmx1024m", "2Gi", "10Gi"],
            ["-Xms4096m -Xmx4096m", "8Gi", "200Gi"],
        ]);
        for (const r of customResources(run)) expect(eckSchemaErrors(body(r))).toEqual([]);
    });

    test("the nodes of each set on their own Kubernetes nodes (hard anti-affinity by ECK's node-set label), every node mounts the snapshot claim; Logstash replicas spread too", () => {
        for (const set of asList(specOf(one(run, ES)).nodeSets)) {
            const pod = asObj(asObj(set.podTemplate).spec);
            const anti = asObj(asObj(pod.affinity).podAntiAffinity);
            expect(anti.requiredDuringSchedulingIgnoredDuringExecution).toEqual([
                { labelSelector: { matchLabels: { "elasticsearch.k8s.elastic.co/cluster-name": "elk-prod", "elasticsearch.k8s.elastic.co/statefulset-name": `elk-prod-es-${String(set.name)}` } }, topologyKey: "kubernetes.io/hostname" },
            ]);
            // ECK's own default, kept as a preference: any two nodes of the cluster apart where there is room.
            expect(anti.preferredDuringSchedulingIgnoredDuringExecution).toEqual([{ weight: 100, podAffinityTerm: { labelSelector: { matchLabels: { "elasticsearch.k8s.elastic.co/cluster-name": "elk-prod" } }, topologyKey: "kubernetes.io/hostname" } }]);
            expect(pod.terminationGracePeriodSeconds).toBe(180);
            expect(asList(pod.volumes).find((v) => v.name === "snapshots")).toEqual({ name: "snapshots", persistentVolumeClaim: { claimName: "es01-snapshots" } });
            expect(asObj(set.config)["path.repo"]).toEqual(["/usr/share/elasticsearch/snapshots"]);
        }
        const ls = specOf(one(run, LS));
        expect(ls.count).toBe(2);
        expect(Object.keys(asObj(asObj(asObj(ls.podTemplate).spec).affinity).podAntiAffinity ?? {})).toEqual(["requiredDuringSchedulingIgnoredDuringExecution"]);
        expect(one(run, "kubernetes:core/v1:PersistentVolumeClaim", "-snapshots-claim").options).toMatchObject({ retainOnDelete: true, protect: true });
    });

    test("index templates ask for replicas by the content tier's nodes (3 hot nodes: one replica), not the masters", () => {
        const bootstrap = one(run, "kubernetes:core/v1:ConfigMap", "-bootstrap-files");
        const script = Object.values(asObj(body(bootstrap).data)).map(String).join("\n");
        expect(script).toContain(`"index.number_of_replicas":1`);
        expect(script).not.toContain("auto_expand_replicas");
    });
});

describe("eck engine, zone-aware variant and a host that forbids privilege", () => {
    const zoned: Record<string, string> = { ...stackFileConfig("prod"), elasticsearchZones: '["eu-1a","eu-1b","eu-1c"]' };
    const prod = parseStackConfig({ project: "elk-stack", stack: "prod", get: (k) => zoned[k] });
    const spec = (settings: typeof prod, kernel: boolean) =>
        elasticsearchResource({
            placement: { namespace: "elk-prod", stack: "elk-prod" },
            names: { elasticsearch: "elk-prod", kibana: "kibana", logstash: "logstash" },
            version: settings.elasticVersion,
            spec: {
                kind: "service",
                name: "es01",
                description: "Elasticsearch node",
                role: "elasticsearch",
                image: "docker.elastic.co/elasticsearch/elasticsearch:9.4.1",
                env: {},
                files: [{ path: "/usr/share/elasticsearch/config/elasticsearch.yml", content: YAML.stringify({ "cluster.name": "x", "xpack.license.self_generated.type": "basic" }), mode: "0644", secret: false }],
                runAs: { uid: 1000, gid: 0 },
                privileged: false,
                ports: [],
                volumes: [{ name: "data", mountPath: "/usr/share/elasticsearch/data", durable: true, sizeGb: 30 }],
                healthCheck: { command: "true", aliveCommand: "true", intervalSeconds: 1, timeoutSeconds: 1, retries: 1, startPeriodSeconds: 1 },
                memoryMb: 2048,
                cpu: { requestMillis: 100, limitMillis: 200 },
                replicas: 6,
                stopGraceSeconds: 120,
            },
            nodeSets: settings.kubernetes.eck.nodeSets,
            zones: settings.kubernetes.eck.zones,
            kernelStep: kernel
                ? { kind: "job", name: "sysctl", description: "", role: "kernel", image: "busybox:1.37.0", env: {}, files: [], runAs: { uid: 0, gid: 0 }, privileged: true, timeoutSeconds: 60, memoryMb: 16 }
                : undefined,
            refs: {},
            sharedClaims: {},
            antiAffinity: "hard",
        });

    test("zones given: every node set spreads over them with ECK's zone awareness (topology spread and node.attr allocation awareness)", () => {
        const es = spec(prod, true);
        expect(eckSchemaErrors(es as unknown as Obj)).toEqual([]);
        for (const set of asList(es.spec.nodeSets)) {
            expect(set.zoneAwareness).toEqual({ topologyKey: "topology.kubernetes.io/zone", zones: ["eu-1a", "eu-1b", "eu-1c"] });
        }
    });

    test("without the sysctl step: no init container, no privilege, node.store.allow_mmap false, and a restricted namespace", async () => {
        const es = spec(prod, false);
        for (const set of asList(es.spec.nodeSets)) {
            const pod = asObj(asObj(set.podTemplate).spec);
            expect(pod.initContainers).toBeUndefined();
            expect(asObj(set.config)["node.store.allow_mmap"]).toBe(false);
        }
        const { registered } = await platformUnderMocks({ privileged: false, operator: "install" });
        const ns = registered.find((r) => r.type === "kubernetes:core/v1:Namespace") as { inputs: Obj };
        expect(asObj(asObj(ns.inputs.metadata).labels)["pod-security.kubernetes.io/enforce"]).toBe("restricted");
        expect(Object.keys(asObj(asList(spec(prod, true).spec.nodeSets)[0].config))).not.toContain("node.store.allow_mmap");
    });
});

/**
 * The eck platform alone under the mock runtime (no certificates, so it is quick): what it registers, and the
 * promise behind its operator gate. `reads` answers reads of live objects, or throws for a missing one.
 */
async function platformUnderMocks(o: { privileged: boolean; operator: "install" | "present"; reads?: (type: string, id: string) => Obj }): Promise<{ registered: { type: string; id?: string; inputs: Obj }[]; ready: Promise<string[]> }> {
    const registered: { type: string; id?: string; inputs: Obj }[] = [];
    let ready: Promise<string[]> | undefined;
    await withIsolatedSdk(async () => {
        const pulumi = await import("@pulumi/pulumi");
        await pulumi.runtime.setMocks(
            {
                newResource: (args) => {
                    registered.push({ type: args.type, id: args.id, inputs: args.inputs as Obj });
                    if (args.id !== undefined && args.id !== "" && o.reads) return { id: args.id, state: o.reads(args.type, args.id) };
                    return { id: `${args.name}-id`, state: args.inputs as Obj };
                },
                call: (args) => args.inputs as Obj,
            },
            "elk-stack",
            "eckunit",
            false,
        );
        const { EckPlatform } = await import("../components/targets/eck");
        const platform = new EckPlatform("t", {
            namespace: "elk",
            stackName: "elk",
            instances: { elasticsearch: "es01", kibana: "kibana", logstash: "logstash" },
            version: "9.4.1",
            eck: { operator: o.operator, operatorNamespace: "elastic-system", nodeSets: [], zones: [] },
            privilegedHostSteps: o.privileged,
        });
        // Output's promise is the SDK's own (not in its typings): it rejects with the reason a read or a check failed.
        ready = (platform.operatorReady as unknown as { promise(): Promise<string[]> }).promise();
        ready.catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 200));
    });
    if (!ready) throw new Error("the platform was not built");
    return { registered, ready };
}

describe("eck engine: keystore settings from the keystore-start spec", () => {
    const start = keystoreStart({
        service: "elasticsearch",
        dir: "/cfg/elk-start",
        secrets: { "bootstrap.password": { description: "", value: "pw-elastic-0123456789" }, "x.y": { description: "", value: "pw-other-0123456789" } },
        command: ["/entry"],
    });
    const es: ServiceSpec = {
        kind: "service",
        name: "es01",
        description: "",
        role: "elasticsearch",
        image: "i",
        entrypoint: start.entrypoint,
        env: { KEEP: "1", ...start.env },
        files: [...start.files, { path: "/cfg/elasticsearch.yml", content: "a: 1\n", mode: "0644", secret: false }],
        runAs: { uid: 1000, gid: 0 },
        privileged: false,
        ports: [],
        volumes: [],
        healthCheck: { command: "true", intervalSeconds: 1, timeoutSeconds: 1, retries: 1, startPeriodSeconds: 1 },
        memoryMb: 1,
        cpu: { requestMillis: 1, limitMillis: 1 },
        replicas: 1,
        stopGraceSeconds: 1,
        keystore: { configDir: "/cfg", tool: "t", entries: [{ setting: "s3.client.elk.access_key", value: "AKIA-EXAMPLE", file: false }] },
    };

    test("the start script, its secret files and variables go; the rest of the spec stays", () => {
        const own = withoutKeystoreStart(es);
        expect(own.entrypoint).toBeUndefined();
        expect(own.env).toEqual({ KEEP: "1" });
        expect(own.files.map((f) => f.path)).toEqual(["/cfg/elasticsearch.yml"]);
    });

    test("Elasticsearch's settings are its keystore settings and the object store's, never bootstrap.password", () => {
        expect(secureSettingsData(es)).toEqual({ "x.y": "pw-other-0123456789", "s3.client.elk.access_key": "AKIA-EXAMPLE" });
        expect(elasticPasswordOf(es)).toBe("pw-elastic-0123456789");
    });

    test("refuses a named setting without its file, a setting given twice, and a spec without the elastic password", () => {
        const missing = { ...es, files: es.files.filter((f) => !f.path.endsWith("elk-secret.x.y")) };
        expect(() => confidentialSettings(missing)).toThrow("es01: ELK_CONFIDENTIAL names x.y, but no secret file /cfg/elk-start/elk-secret.x.y carries it");
        const twice: ServiceSpec = { ...es, keystore: { configDir: "/cfg", tool: "t", entries: [{ setting: "x.y", value: "v", file: false }] } };
        expect(() => secureSettingsData(twice)).toThrow("es01: keystore setting x.y given twice");
        const noElastic = { ...es, env: { ...es.env, ELK_CONFIDENTIAL: "x.y" } };
        expect(() => elasticPasswordOf(noElastic)).toThrow("es01: no bootstrap.password among its confidential files");
    });
});

describe("eck engine with an operator someone else runs (eckOperator present)", () => {
    const crdState = (id: string, versions: string[]): Obj => {
        const kind = Object.values(ECK_KINDS).find((k) => k.crd === id);
        const group = kind ? kind.apiVersion.split("/")[0] : "unknown";
        return { metadata: { name: id }, spec: { group, versions: versions.map((name) => ({ name, served: true, storage: true })) } };
    };
    const pinned = (id: string) => {
        const kind = Object.values(ECK_KINDS).find((k) => k.crd === id);
        return kind ? kind.apiVersion.split("/")[1] : "v0";
    };

    test("reads the three CRDs of the live cluster, installs nothing, and is ready when they serve the pinned API", async () => {
        const { registered, ready } = await platformUnderMocks({ privileged: true, operator: "present", reads: (_t, id) => crdState(id, ["v1beta1", pinned(id)]) });
        expect(registered.filter((r) => r.id).map((r) => `${r.type} ${String(r.id)}`).sort()).toEqual(Object.values(ECK_KINDS).map((k) => `${CRD} ${k.crd}`).sort());
        expect(registered.filter((r) => r.type === RELEASE)).toEqual([]);
        await expect(ready).resolves.toEqual(Object.values(ECK_KINDS).map((k) => k.apiVersion));
    });

    test("with install, the stack's Helm release is the gate and no CRD is read", async () => {
        const { registered, ready } = await platformUnderMocks({ privileged: true, operator: "install" });
        expect(registered.filter((r) => r.type === CRD)).toEqual([]);
        expect(registered.filter((r) => r.type === RELEASE)).toHaveLength(1);
        await expect(ready).resolves.toEqual(Object.values(ECK_KINDS).map((k) => k.apiVersion));
    });

    /** The gate program's exit status and output for a scenario (see tests/support/eckGateProgram.ts). */
    const gate = (scenario: string) =>
        new Promise<{ status: number | null; out: string }>((resolve) => {
            const child = spawn(process.execPath, [require.resolve("ts-node/dist/bin.js"), "--swc", path.join(__dirname, "support", "eckGateProgram.ts"), scenario], { cwd: path.join(__dirname, ".."), timeout: 90_000 });
            let out = "";
            child.stdout.on("data", (d: Buffer) => (out += d.toString()));
            child.stderr.on("data", (d: Buffer) => (out += d.toString()));
            child.on("close", (status) => resolve({ status, out }));
        });

    test("the same program opens the gate on a cluster with the pinned CRDs, and stops where a CRD serves another version or is missing", async () => {
        // Three programs at once: each starts ts-node (with SWC, as the package scripts run), which is most of the time.
        const [ok, old, missing] = await Promise.all([gate("ok"), gate("old"), gate("missing")]);
        expect(ok).toEqual({ status: 0, out: `ready: ${Object.values(ECK_KINDS).map((k) => k.apiVersion).join(" ")}\n` });
        expect(old.status).toBe(3);
        expect(old.out).toMatch(
            /CRD logstashes\.logstash\.k8s\.elastic\.co serves logstash\.k8s\.elastic\.co\/v1beta1, not logstash\.k8s\.elastic\.co\/v1alpha1.*Fix: upgrade the operator to ECK 3\.5\.0 or later, or set 'pulumi config set eckOperator install'/,
        );
        expect(missing.status).toBe(3);
        expect(missing.out).toMatch(/failed to read resource #elasticsearches\.elasticsearch\.k8s\.elastic\.co 'elk-eck-operator-required-elasticsearches\.elasticsearch\.k8s\.elastic\.co'.*does not exist/);
    }, 120_000);

    test("checkServedVersion accepts the pinned version and refuses others, naming the key and the fix", () => {
        expect(checkServedVersion("kibanas.kibana.k8s.elastic.co", "kibana.k8s.elastic.co/v1", ["kibana.k8s.elastic.co/v1beta1", "kibana.k8s.elastic.co/v1"])).toBe("kibana.k8s.elastic.co/v1");
        expect(() => checkServedVersion("kibanas.kibana.k8s.elastic.co", "kibana.k8s.elastic.co/v1", [])).toThrow(/serves no version, not kibana\.k8s\.elastic\.co\/v1.*eckOperator/);
    });
});

describe("eck engine settings", () => {
    const parse = (cfg: Record<string, string>) => parseStackConfig({ project: "elk-stack", stack: "t", get: (k) => cfg[k] });
    const k8s = { target: "kubernetes" };

    test("defaults: eck, the operator installed into elastic-system, one node set of elasticsearchNodeCount nodes, no zones", () => {
        const s = parse({ ...k8s, elasticsearchNodeCount: "3" });
        expect(s.kubernetes.engine).toBe("eck");
        expect(s.kubernetes.eck).toEqual({
            operator: "install",
            operatorNamespace: "elastic-system",
            zones: [],
            nodeSets: [{ name: "default", count: 3, storageGb: 30, heapMb: 512, memoryMb: 1536, cpu: { requestMillis: 1000, limitMillis: 2000 } }],
        });
        expect(parse({ ...k8s, kubernetesEngine: "manifests" }).kubernetes.engine).toBe("manifests");
    });

    test("node sets count the nodes and take their sizes from the elasticsearch* keys unless they set their own", () => {
        const s = parse({ ...k8s, elasticsearchStorageGb: "50", elasticsearchNodeSets: '[{"name":"m","count":3,"roles":["master"],"storageGb":5},{"name":"d","count":2,"roles":["data"]}]' });
        expect(s.elasticsearch.replicas).toBe(5);
        expect(s.kubernetes.eck.nodeSets.map((n) => [n.name, n.count, n.roles, n.storageGb])).toEqual([
            ["m", 3, ["master"], 5],
            ["d", 2, ["data"], 50],
        ]);
    });

    test.each([
        ["an unknown engine", { kubernetesEngine: "helm" }, "kubernetesEngine", /unknown engine 'helm'.*Fix: set eck or manifests/],
        ["an unknown operator mode", { eckOperator: "maybe" }, "eckOperator", /neither install nor present/],
        ["node sets on the manifests engine", { kubernetesEngine: "manifests", elasticsearchNodeSets: '[{"name":"a","count":1}]' }, "elasticsearchNodeSets", /need target kubernetes with kubernetesEngine eck/],
        ["zones on the manifests engine", { kubernetesEngine: "manifests", elasticsearchZones: '["a"]' }, "elasticsearchZones", /zone awareness needs/],
        ["node sets and a node count", { elasticsearchNodeCount: "3", elasticsearchNodeSets: '[{"name":"a","count":3}]' }, "elasticsearchNodeCount", /remove elasticsearchNodeCount/],
        ["a node set name ECK refuses", { elasticsearchNodeSets: '[{"name":"a-name-longer-than-twenty-three","count":1}]' }, "elasticsearchNodeSets", /1-23 lowercase letters/],
        ["two node sets of one name", { elasticsearchNodeSets: '[{"name":"a","count":3},{"name":"a","count":1}]' }, "elasticsearchNodeSets", /used twice/],
        ["an unknown role", { elasticsearchNodeSets: '[{"name":"a","count":3,"roles":["boss"]}]' }, "elasticsearchNodeSets", /unknown role 'boss'/],
        ["no master", { elasticsearchNodeSets: '[{"name":"a","count":3,"roles":["data"]}]' }, "elasticsearchNodeSets", /no node set has master-eligible nodes/],
        ["two masters", { elasticsearchNodeSets: '[{"name":"m","count":2,"roles":["master"]},{"name":"d","count":2,"roles":["data"]}]' }, "elasticsearchNodeSets", /2 master-eligible nodes cannot elect/],
        ["no content tier", { elasticsearchNodeSets: '[{"name":"m","count":3,"roles":["master"]},{"name":"h","count":2,"roles":["data_hot"]}]' }, "elasticsearchNodeSets", /content tier/],
        ["a heap of more than half", { elasticsearchNodeSets: '[{"name":"a","count":3,"heapMb":2048,"memoryMb":3000}]' }, "elasticsearchNodeSets", /more than half/],
        ["an unknown field", { elasticsearchNodeSets: '[{"name":"a","count":3,"replicas":2}]' }, "elasticsearchNodeSets", /unknown field 'replicas'/],
        ["two nodes in all", { elasticsearchNodeSets: '[{"name":"m","count":1,"roles":["master"]},{"name":"d","count":1,"roles":["data"]}]' }, "elasticsearchNodeSets", /2 nodes in all/],
        ["a zone that is no label value", { elasticsearchZones: '["eu 1"]' }, "elasticsearchZones[0]", /not a label value/],
    ])("refuses %s, naming the key", (_title, extra, key, message) => {
        expect(() => parse({ ...k8s, ...extra })).toThrow(new RegExp(`'elk-stack:${key.replace(/[[\]]/g, "\\$&")}'`));
        expect(() => parse({ ...k8s, ...extra })).toThrow(message);
    });

    test("node sets and zones need Kubernetes; on Docker they are refused", () => {
        expect(() => parse({ elasticsearchZones: '["a"]' })).toThrow(/elasticsearchZones.*needs target kubernetes/);
    });
});
