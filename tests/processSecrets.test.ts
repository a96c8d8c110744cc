/**
 * No secret in any process environment or command line, on either target: the real program under the mock runtime,
 * every container and pod spec it registers walked (Docker containers' envs, entrypoints and command; every
 * Kubernetes pod template's containers and init containers, Deployments, StatefulSets, Jobs and the ECK custom
 * resources' pod templates alike (the eck engine on the prod stack file, the manifests engine with given passwords): env values,
 * env from Secrets, command and args), against every secret the run made or was given (passwords, encryption keys,
 * private keys). 0.4.0 put ELASTIC_PASSWORD, Kibana's password and keys, Logstash's password and the steps'
 * passwords in environments: every case here failed on it.
 */
import { type ProgramRun, isSecretValue, ofType, runProgram, stackFileConfig, unwrapSecrets } from "./support/program";

type Obj = Record<string, unknown>;

/** What one container would show to `docker inspect`, `ps` or /proc/<pid>/environ. */
interface ProcessView {
    readonly where: string;
    /** Environment entries as NAME=value. */
    readonly env: string[];
    /** The command line: entrypoint or command, then args. */
    readonly argv: string[];
    /** Env entries that take a value from a Secret (secretKeyRef, envFrom secretRef): a secret by construction. */
    readonly fromSecret: string[];
}

const asObj = (v: unknown): Obj => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const strings = (v: unknown): string[] => asList(v).map((x) => String(x));

/** Every Docker container's environment and command line. */
function dockerViews(run: ProgramRun): ProcessView[] {
    return ofType(run, "docker:index/container:Container").map((r) => {
        const inputs = asObj(unwrapSecrets(r.inputs));
        const role = asList(inputs.labels).map(asObj).find((l) => l.label === "dev.elk-stack.role")?.value;
        return { where: `docker container ${r.name} (${String(role)})`, env: strings(inputs.envs), argv: [...strings(inputs.entrypoints), ...strings(inputs.command)], fromSecret: [] };
    });
}

/** Every container of every pod spec anywhere in a Kubernetes resource's inputs (templates, Jobs, init containers). */
function kubernetesViews(run: ProgramRun): ProcessView[] {
    const views: ProcessView[] = [];
    const visit = (value: unknown, where: string): void => {
        if (Array.isArray(value)) {
            value.forEach((v, i) => visit(v, `${where}[${i}]`));
            return;
        }
        const o = asObj(value);
        for (const key of ["containers", "initContainers", "ephemeralContainers"]) {
            for (const c of asList(o[key]).map(asObj)) {
                const env = asList(c.env).map(asObj);
                views.push({
                    where: `${where} ${key} ${String(c.name)}`,
                    env: env.filter((e) => e.value !== undefined).map((e) => `${String(e.name)}=${String(e.value)}`),
                    argv: [...strings(c.command), ...strings(c.args)],
                    fromSecret: [
                        ...env.filter((e) => asObj(e.valueFrom).secretKeyRef !== undefined).map((e) => String(e.name)),
                        ...asList(c.envFrom).map(asObj).filter((e) => e.secretRef !== undefined).map((e) => `envFrom ${JSON.stringify(e.secretRef)}`),
                    ],
                });
            }
        }
        for (const [k, v] of Object.entries(o)) if (typeof v === "object" && v !== null) visit(v, `${where}.${k}`);
    };
    for (const r of run.resources.filter((x) => x.type.startsWith("kubernetes:") && !x.type.startsWith("pulumi:"))) visit(unwrapSecrets(r.inputs), `${r.type} ${r.name}`);
    return views;
}

/** Every place a secret value shows in a process view. */
function leaks(views: readonly ProcessView[], secrets: readonly string[]): string[] {
    const found: string[] = [];
    for (const v of views) {
        for (const name of v.fromSecret) found.push(`${v.where}: env ${name} comes from a Secret`);
        for (const text of [...v.env, ...v.argv]) {
            for (const secret of secrets) if (text.includes(secret)) found.push(`${v.where}: ${text.slice(0, 60)}...`);
        }
    }
    return found;
}

/** Passwords given in config, which the program must treat like generated ones (one target is enough: ElkStack is shared). */
const GIVEN = { elasticPassword: "Given-Elastic-Pw-0123456789", kibanaSystemPassword: "Given-Kibana-Pw-0123456789", logstashWriterPassword: "Given-Logstash-Pw-012345678" };

interface Case {
    readonly title: string;
    readonly stack: string;
    readonly config: Record<string, string>;
    readonly secretKeys?: readonly string[];
    readonly target: "docker" | "kubernetes";
    /** The Kubernetes engine the config selects (eck unless kubernetesEngine says otherwise). */
    readonly engine?: "eck" | "manifests";
}

const CASES: Case[] = [
    { title: "Docker, dev stack file", stack: "dev", config: stackFileConfig("dev"), target: "docker" },
    { title: "Kubernetes eck engine, prod stack file (3 nodes, custom resources, init containers, Jobs)", stack: "prod", config: stackFileConfig("prod"), target: "kubernetes", engine: "eck" },
    {
        title: "Kubernetes manifests engine, passwords given in config",
        stack: "k8s",
        config: { target: "kubernetes", kubernetesEngine: "manifests", clusterName: "elk-k8s", ...GIVEN },
        secretKeys: Object.keys(GIVEN),
        target: "kubernetes",
        engine: "manifests",
    },
];

describe.each(CASES)("no secret in a process environment or command line: $title", (c) => {
    let run: ProgramRun;
    let views: ProcessView[];
    let secrets: string[];

    beforeAll(async () => {
        run = await runProgram(c.config, { stack: c.stack, secretKeys: c.secretKeys });
        views = c.target === "docker" ? dockerViews(run) : kubernetesViews(run);
        secrets = [...run.generatedSecrets, ...(c.secretKeys ? Object.values(GIVEN) : [])];
    }, 120_000);

    test("the walk sees every container the program runs, and every secret it holds", () => {
        // The mocks made the passwords, the three Kibana encryption keys and the private keys of every certificate.
        expect(run.generatedSecrets.filter((s) => s.includes("PRIVATE KEY")).length).toBeGreaterThanOrEqual(4);
        expect(secrets.length).toBeGreaterThanOrEqual(c.secretKeys ? 9 : 10);
        const names = views.map((v) => v.where).join("\n");
        for (const part of ["elasticsearch", "kibana", "logstash", "bootstrap", "kibana-setup"]) expect(names).toContain(part);
        if (c.target === "kubernetes") {
            expect(names).toMatch(/batch\/v1:Job .* containers/);
            expect(names).toMatch(/initContainers sysctl/);
            if (c.engine === "eck") {
                // The operator's pod templates: every node set's, Kibana's and Logstash's main container.
                expect(names).toMatch(/:Elasticsearch .*\.spec\.nodeSets\[0\]\.podTemplate\.spec containers elasticsearch/);
                expect(names).toMatch(/:Kibana .*\.spec\.podTemplate\.spec containers kibana/);
                expect(names).toMatch(/:Logstash .*\.spec\.podTemplate\.spec containers logstash/);
            } else {
                expect(names).toMatch(/apps\/v1:StatefulSet \S+-es01-statefulset\.spec\.template\.spec containers elasticsearch/);
            }
        } else {
            expect(views.length).toBeGreaterThanOrEqual(6);
        }
    });

    test("no environment, entrypoint, command or args holds a secret, and none is taken from a Secret", () => {
        expect(leaks(views, secrets)).toEqual([]);
    });

    test("the services' secrets reach them as files instead, secret in the state", () => {
        if (c.target === "docker") {
            const files = ofType(run, "docker:index/container:Container").flatMap((r) => {
                // One secret file makes the provider's whole uploads list secret.
                const uploads = r.inputs.uploads;
                const wholeListSecret = isSecretValue(uploads);
                return asList(wholeListSecret ? asObj(uploads).value : uploads).flatMap((u) => {
                    const plain = asObj(unwrapSecrets(u));
                    const secret = wholeListSecret || isSecretValue(u) || isSecretValue(asObj(u).content);
                    return String(plain.file).includes("/elk-secret.") ? [{ container: r.name, file: String(plain.file), mode: plain.permissions, owner: plain.owner, group: plain.group, secret }] : [];
                });
            });
            expect(files.map((f) => f.file.slice(f.file.lastIndexOf("/") + 1)).sort()).toEqual(
                [
                    "elk-secret.bootstrap.password",
                    "elk-secret.elastic",
                    "elk-secret.elastic",
                    "elk-secret.elasticsearch.password",
                    "elk-secret.kibana_system_password",
                    "elk-secret.logstash_writer_password",
                    "elk-secret.ELK_LOGSTASH_PASSWORD",
                    "elk-secret.xpack.encryptedSavedObjects.encryptionKey",
                    "elk-secret.xpack.reporting.encryptionKey",
                    "elk-secret.xpack.security.encryptionKey",
                ].sort(),
            );
            // Group 0 reads them whether or not the provider applies the owner (components/targets/docker.ts SECRET_FILE_GROUP).
            for (const f of files) expect(f).toMatchObject({ mode: "0640", owner: "1000", group: "0", secret: true });
        } else if (c.engine === "manifests") {
            const keys = ofType(run, "kubernetes:core/v1:Secret").flatMap((r) => Object.keys(asObj(unwrapSecrets(r.inputs.stringData))));
            for (const k of ["elk-secret.bootstrap.password", "elk-secret.elasticsearch.password", "elk-secret.ELK_LOGSTASH_PASSWORD", "elk-secret.elastic"]) expect(keys).toContain(k);
        } else {
            // ECK fills each keystore from the Secret its resource's secureSettings names; the elastic password is
            // the operator's elastic-user Secret, which the steps mount as their elk-secret.elastic file.
            const secrets = ofType(run, "kubernetes:core/v1:Secret").map((r) => ({ name: String(asObj(asObj(unwrapSecrets(r.inputs)).metadata).name), keys: Object.keys(asObj(unwrapSecrets(r.inputs.stringData))).sort(), secret: isSecretValue(r.inputs.stringData) }));
            const named = (n: string) => secrets.find((x) => x.name === n);
            expect(named("kibana-elk-secure-settings")).toEqual({
                name: "kibana-elk-secure-settings",
                // No elasticsearch.password: Kibana authenticates with the token ECK issues for its elasticsearchRef.
                keys: ["xpack.encryptedSavedObjects.encryptionKey", "xpack.reporting.encryptionKey", "xpack.security.encryptionKey"],
                secret: true,
            });
            expect(named("logstash-elk-secure-settings")).toEqual({ name: "logstash-elk-secure-settings", keys: ["ELK_LOGSTASH_PASSWORD"], secret: true });
            expect(named("elk-prod-es-elastic-user")).toEqual({ name: "elk-prod-es-elastic-user", keys: ["elastic"], secret: true });
            const jobMounts = ofType(run, "kubernetes:batch/v1:Job").flatMap((r) => {
                const pod = asObj(asObj(asObj(asObj(unwrapSecrets(r.inputs)).spec).template).spec);
                return asList(asObj(asList(pod.containers)[0]).volumeMounts).map(asObj).filter((m) => m.mountPath === "/tmp/elk-secret.elastic").map((m) => String(m.name));
            });
            expect(jobMounts).toEqual(["eck-elastic-user", "eck-elastic-user"]);
        }
    });
});
