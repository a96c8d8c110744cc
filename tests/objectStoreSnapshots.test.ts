/**
 * Object-store snapshot repositories on Kubernetes (issue 13): S3, GCS and Azure. The bootstrap's repository
 * request, request by request and run twice for real against the fake Elasticsearch; the config checks; the
 * keystore step run for real with a stand-in `elasticsearch-keystore`; and the program's manifests, where no
 * credential appears anywhere but in a Secret.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import YAML from "yaml";
import { bootstrapPlan, bootstrapPlanFiles } from "../components/model/bootstrap";
import { stageBootstrap } from "./support/curlStep";
import { parseStackConfig } from "../components/model/config";
import { type ObjectStoreSettings, type SnapshotSettings, objectStoreSecureSettings, snapshotRequests } from "../components/model/snapshots";
import { objectStoreKeystore } from "../components/model/elasticsearch";
import { keystoreScript } from "../components/targets/kubernetesManifests";
import { type FakeElasticsearch, makeTestPki, startFakeElasticsearch } from "./support/fakeElasticsearch";
import { fakeSnapshotApis } from "./support/fakeSnapshotApis";
import { type ProgramRun, type RecordedResource, ofType, plainStrings, runProgram, unwrapSecrets } from "./support/program";
import { runScript } from "./support/runScript";

type Obj = Record<string, unknown>;
const asObj = (v: unknown): Obj => (v ?? {}) as Obj;
const asList = (v: unknown): Obj[] => (v ?? []) as Obj[];

const S3: ObjectStoreSettings = { type: "s3", bucket: "elk-backups", basePath: "prod/logs", endpoint: "https://minio.example.com:9000" };
const GCS: ObjectStoreSettings = { type: "gcs", bucket: "elk-backups" };
const AZURE: ObjectStoreSettings = { type: "azure", bucket: "elk-backups", basePath: "prod" };
const settings = (objectStore: ObjectStoreSettings): SnapshotSettings => ({ environment: "prod", schedule: "daily", retentionDays: 30, objectStore });

describe("object-store repository requests", () => {
    test("s3, gcs and azure: the repository through the stack's client, then the policy, exactly", () => {
        const repo = (s: ObjectStoreSettings) => snapshotRequests(settings(s))[0];
        expect(repo(S3)).toEqual({
            description: "register snapshot repository elk-snapshots (s3 bucket elk-backups/prod/logs)",
            method: "PUT",
            path: "/_snapshot/elk-snapshots",
            body: { type: "s3", settings: { client: "elk", bucket: "elk-backups", base_path: "prod/logs", compress: true } },
            okStatus: [200],
        });
        expect(repo(GCS).body).toEqual({ type: "gcs", settings: { client: "elk", bucket: "elk-backups", compress: true } });
        // Azure calls the bucket a container.
        expect(repo(AZURE).body).toEqual({ type: "azure", settings: { client: "elk", container: "elk-backups", base_path: "prod", compress: true } });
        const policy = snapshotRequests(settings(S3))[1];
        expect(policy).toMatchObject({ method: "PUT", path: "/_slm/policy/elk-snapshots-prod", okStatus: [200] });
        expect(asObj(policy.body).repository).toBe("elk-snapshots");
    });

    test("the secure settings each client reads from the keystore", () => {
        expect(objectStoreSecureSettings("s3")).toEqual([
            { setting: "s3.client.elk.access_key", file: false },
            { setting: "s3.client.elk.secret_key", file: false },
        ]);
        expect(objectStoreSecureSettings("gcs")).toEqual([{ setting: "gcs.client.elk.credentials_file", file: true }]);
        expect(objectStoreSecureSettings("azure")).toEqual([
            { setting: "azure.client.elk.account", file: false },
            { setting: "azure.client.elk.key", file: false },
        ]);
    });
});

describe("object-store config", () => {
    const parse = (values: Record<string, string>) => parseStackConfig({ project: "elk-stack", stack: "prod", get: (k) => values[k] });
    const k8s = { target: "kubernetes", snapshotSchedule: "daily" };
    const s3 = { ...k8s, snapshotRepositoryType: "s3", snapshotBucket: "elk-backups", snapshotS3AccessKey: "AKIAEXAMPLE", snapshotS3SecretKey: "secret-example-value" };

    test("a complete s3 setting: a repository, no shared claim; fs stays the default", () => {
        expect(parse(s3).snapshots).toEqual({
            repository: true,
            schedule: "daily",
            retentionDays: 30,
            storageGb: 50,
            storageClass: undefined,
            objectStore: { type: "s3", bucket: "elk-backups", basePath: undefined, endpoint: undefined },
        });
        expect(parse({}).snapshots.objectStore).toBeUndefined();
        expect(parse({ ...k8s, snapshotRepositoryType: "azure", snapshotBucket: "c01", snapshotAzureAccount: "acct", snapshotAzureKey: "k" }).snapshots.objectStore?.type).toBe("azure");
    });

    test.each([
        [{ ...s3, target: "docker" }, /snapshotRepositoryType'.*on target kubernetes only.*Fix: set fs/],
        [{ ...s3, snapshotBucket: undefined }, /snapshotBucket'.*needs a bucket.*Fix: set it/],
        [{ ...s3, snapshotBucket: "Elk Backups" }, /snapshotBucket'.*not a bucket or container name/],
        [{ ...s3, snapshotS3SecretKey: undefined }, /snapshotS3SecretKey'.*needs it, in Elasticsearch's keystore.*pulumi config set --secret snapshotS3SecretKey/],
        [{ ...s3, snapshotGcsCredentials: "{}" }, /snapshotGcsCredentials'.*belongs to an gcs repository/],
        [{ ...s3, snapshotStorageClass: "nfs" }, /snapshotStorageClass'.*shared claim of an fs repository/],
        [{ ...s3, snapshotBasePath: "/abs" }, /snapshotBasePath'.*not a relative folder path/],
        [{ ...k8s, snapshotStorageClass: "nfs", snapshotBucket: "elk-backups" }, /snapshotBucket'.*snapshot repository is a shared file system/],
        [{ ...s3, snapshotRepositoryType: "nfs" }, /snapshotRepositoryType'.*unknown repository type 'nfs'.*fs, s3, gcs, azure/],
    ])("%j fails naming the key and the fix", (values, message) => {
        expect(() => parse(values as Record<string, string>)).toThrow(message);
    });
});

describe("the bootstrap script with an object-store repository, against a fake Elasticsearch over TLS", () => {
    const PASSWORD = "Elastic-Pw-8Kd2mQ7s";
    let dir = "";
    let es: FakeElasticsearch | undefined;
    /** Elasticsearch's semantics for the three types: the client must exist and the bucket be named as the type names it. */
    const apis = fakeSnapshotApis((name, body) => {
        const bucketKey = body.type === "azure" ? "container" : "bucket";
        const ok = ["s3", "gcs", "azure"].includes(body.type ?? "") && body.settings?.client === "elk" && typeof body.settings?.[bucketKey] === "string";
        return ok ? undefined : `[${name}] cannot create ${String(body.type)} repository`;
    });
    const { override: snapshotApis, repositories, created } = apis;

    beforeAll(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "elk-objectstore-test-"));
        const pki = await makeTestPki(dir);
        es = await startFakeElasticsearch({ cert: pki.serverCert, key: pki.serverKey, elasticPassword: PASSWORD, override: snapshotApis });
        fs.writeFileSync(path.join(dir, "ca.crt"), fs.readFileSync(pki.caCert));
    }, 60_000);

    afterAll(async () => {
        await es?.close();
        if (dir !== "") fs.rmSync(dir, { recursive: true, force: true });
    });

    test.each([["s3", S3], ["gcs", GCS], ["azure", AZURE]] as const)("%s: each request as planned; a second run sends the same, succeeds and creates nothing", async (_name, store) => {
        const server = es as FakeElasticsearch;
        const plan = [...bootstrapPlan({ logstashUser: "logstash_writer", logstashRole: "elk_logstash_writer", logstashIndexPatterns: ["logs-*-prod"] }), ...snapshotRequests(settings(store))];
        const step = stageBootstrap(
            path.join(dir, `bootstrap-${store.type}`),
            bootstrapPlanFiles(plan),
            { url: server.url, ca: path.join(dir, "ca.crt") },
            { elastic: PASSWORD, kibanaSystem: "Kibana-Sys-Pw-1234", logstash: "Logstash-Pw-5678" },
        );
        const run = async () => {
            const before = server.requests.length;
            const result = await runScript(step.scriptPath, step.env());
            const sent = server.requests.slice(before).filter((r) => r.path.startsWith("/_snapshot") || r.path.startsWith("/_slm"));
            return { result, sent: sent.map((r) => ({ method: r.method, path: r.path, body: r.body, status: r.status })) };
        };
        apis.reset();
        const expected = snapshotRequests(settings(store)).map((r) => ({ method: r.method, path: r.path, body: r.body, status: 200 }));
        const first = await run();
        expect(first.result).toMatchObject({ code: 0, stderr: "", timedOut: false });
        expect(first.sent).toEqual(expected);
        const stored = new Map(repositories);
        const second = await run();
        expect(second.result).toMatchObject({ code: 0, stderr: "" });
        expect(second.result.stdout).toBe(first.result.stdout);
        expect(second.sent).toEqual(expected);
        expect(created).toEqual(["/_snapshot/elk-snapshots", "/_slm/policy/elk-snapshots-prod"]);
        expect(repositories).toEqual(stored);
    }, 60_000);
});

describe("the keystore step, run with a stand-in elasticsearch-keystore", () => {
    test("each setting from its Secret file, strings on stdin and files by path; nothing on a command line or in the environment", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "elk-keystore-test-"));
        try {
            const image = path.join(dir, "image-config");
            fs.mkdirSync(image);
            fs.writeFileSync(path.join(image, "jvm.options"), "-Xss1m\n");
            const secrets = path.join(dir, "secrets");
            fs.mkdirSync(secrets);
            const values: Record<string, string> = { "s3.client.elk.access_key": "AKIA'EXAMPLE", "s3.client.elk.secret_key": "s3cr3t \"value\" $HOME" };
            for (const [k, v] of Object.entries(values)) fs.writeFileSync(path.join(secrets, k), v);
            const gcsJson = '{"type":"service_account","private_key":"-----BEGIN PRIVATE KEY-----\\nabc\\n"}';
            fs.writeFileSync(path.join(secrets, "gcs.client.elk.credentials_file"), gcsJson);
            const log = path.join(dir, "calls.log");
            // Records its arguments, ES_PATH_CONF and what it read on stdin; "stores" the setting beside the config.
            const tool = path.join(dir, "elasticsearch-keystore");
            fs.writeFileSync(
                tool,
                `#!/bin/bash\nset -eu\nin=""\nif [ "$1" = add ]; then in=$(cat); fi\nprintf '%s|%s|%s\\n' "$ES_PATH_CONF" "$*" "$in" >> ${log}\nprintf '%s\\n' "\${@: -1}" >> "$ES_PATH_CONF/elasticsearch.keystore"\n`,
            );
            fs.chmodSync(tool, 0o755);
            const config = path.join(dir, "config");
            fs.mkdirSync(config);
            const keystore = {
                configDir: image,
                tool,
                entries: [
                    { setting: "s3.client.elk.access_key", value: "", file: false },
                    { setting: "s3.client.elk.secret_key", value: "", file: false },
                    { setting: "gcs.client.elk.credentials_file", value: "", file: true },
                ],
            };
            const script = keystoreScript(keystore, { secrets, config });
            const run = () => spawnSync("bash", ["-c", script], {
                    env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
                    encoding: "utf8",
                    timeout: 20_000,
                    // stdin from /dev/null, as in a container: Debian's bash reads ~/.bashrc when stdin is a socket.
                    stdio: ["ignore", "pipe", "pipe"],
                });
            const first = run();
            expect(first.status).toBe(0);
            expect(first.stderr).toBe("");
            // The image's own configuration is there for the service, with the keystore beside it.
            expect(fs.readFileSync(path.join(config, "jvm.options"), "utf8")).toBe("-Xss1m\n");
            const calls = fs.readFileSync(log, "utf8").trim().split("\n");
            expect(calls).toEqual([
                `${config}|add --stdin --force s3.client.elk.access_key|${values["s3.client.elk.access_key"]}`,
                `${config}|add --stdin --force s3.client.elk.secret_key|${values["s3.client.elk.secret_key"]}`,
                `${config}|add-file --force gcs.client.elk.credentials_file ${secrets}/gcs.client.elk.credentials_file|`,
            ]);
            // No value in the script itself: it names files only.
            for (const v of [...Object.values(values), gcsJson]) expect(script).not.toContain(v);
            // A second run (the pod's init containers run again) overwrites rather than fails.
            expect(run().status).toBe(0);
            // A missing value fails the step, so the service never starts without its credentials.
            fs.rmSync(path.join(secrets, "s3.client.elk.secret_key"));
            expect(run().status).not.toBe(0);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("the program with an s3 repository on Kubernetes", () => {
    const secrets = { snapshotS3AccessKey: "AKIAIOSFODNN7EXAMPLE", snapshotS3SecretKey: "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY" };
    let run: ProgramRun;
    beforeAll(async () => {
        run = await runProgram(
            {
                target: "kubernetes",
                // The keystore init container belongs to the stack's own StatefulSets (eck: secure settings).
                kubernetesEngine: "manifests",
                clusterName: "elk-os",
                snapshotSchedule: "daily",
                snapshotRepositoryType: "s3",
                snapshotBucket: "elk-backups",
                snapshotEndpoint: "https://minio.example.com:9000",
                ...secrets,
            },
            { stack: "os", secretKeys: Object.keys(secrets) },
        );
    });
    const es = (): RecordedResource => ofType(run, "kubernetes:apps/v1:StatefulSet").find((r) => r.name.endsWith("-es01-statefulset")) as RecordedResource;
    const pod = (): Obj => asObj(asObj(asObj(asObj(unwrapSecrets(es().inputs)).spec).template).spec);

    test("the keystore step runs before Elasticsearch, and Elasticsearch reads its configuration directory from it", () => {
        const inits = asList(pod().initContainers);
        expect(inits.map((c) => c.name)).toEqual(["sysctl", "keystore"]);
        const keystore = inits[1];
        expect(keystore.image).toBe(asList(pod().containers)[0].image);
        expect(asObj(keystore.securityContext)).toMatchObject({ privileged: false, allowPrivilegeEscalation: false, runAsNonRoot: true });
        const script = (keystore.command as string[])[2];
        expect(script).toContain("add --stdin --force 's3.client.elk.access_key' < '/mnt/elk-keystore-secrets/s3.client.elk.access_key'");
        expect(script).toContain("add --stdin --force 's3.client.elk.secret_key' < '/mnt/elk-keystore-secrets/s3.client.elk.secret_key'");
        const mounts = asList(asList(pod().containers)[0].volumeMounts);
        const configMount = mounts.find((m) => m.mountPath === "/usr/share/elasticsearch/config");
        expect(configMount).toBeDefined();
        expect(asList(keystore.volumeMounts).find((m) => m.mountPath === "/mnt/elk-config")?.name).toBe(configMount?.name);
        const volumes = asList(pod().volumes);
        expect(volumes.find((v) => v.name === configMount?.name)).toEqual({ name: configMount?.name, emptyDir: {} });
        // The Secret the step reads, with one key per setting, and its values secret in the program's inputs.
        const secretVolume = asObj(volumes.find((v) => v.name === "keystore-secrets")?.secret);
        const secret = ofType(run, "kubernetes:core/v1:Secret").find((r) => r.name.endsWith("-es01-keystore")) as RecordedResource;
        expect(secretVolume.secretName).toBe(asObj(secret.state.metadata).name);
        expect(asObj(unwrapSecrets(secret.inputs.stringData))).toEqual({ "s3.client.elk.access_key": secrets.snapshotS3AccessKey, "s3.client.elk.secret_key": secrets.snapshotS3SecretKey });
        expect(JSON.stringify(secret.inputs.stringData)).toMatch(/4dabf18193072939515e22adb298388d/);
    });

    test("no credential in any spec, ConfigMap, environment or plain input; the endpoint in elasticsearch.yml; no shared claim", () => {
        for (const r of run.resources) {
            for (const { at, s } of plainStrings(r.inputs, `${r.type}::${r.name}`)) {
                for (const v of Object.values(secrets)) if (s.includes(v)) throw new Error(`credential in plain text at ${at}`);
            }
        }
        for (const r of run.resources.filter((x) => x.type !== "kubernetes:core/v1:Secret")) {
            for (const v of Object.values(secrets)) expect(JSON.stringify(unwrapSecrets(r.inputs))).not.toContain(v);
        }
        const cm = ofType(run, "kubernetes:core/v1:ConfigMap").find((r) => JSON.stringify(r.inputs).includes("elasticsearch.yml")) as RecordedResource;
        const yml = YAML.parse(String(asObj(asObj(unwrapSecrets(cm.inputs)).data)["elasticsearch.yml"])) as Obj;
        expect(yml["s3.client.elk.endpoint"]).toBe("https://minio.example.com:9000");
        expect(yml["path.repo"]).toBeUndefined();
        expect(ofType(run, "kubernetes:core/v1:PersistentVolumeClaim")).toEqual([]);
    });

    test("every manifest is valid against the Kubernetes schemas, the keystore pieces included", () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { StatefulSet } = require("kubernetes-models/apps/v1/StatefulSet") as { StatefulSet: new (d: object) => { validate(): void } };
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { Secret } = require("kubernetes-models/v1/Secret") as { Secret: new (d: object) => { validate(): void } };
        const manifest = unwrapSecrets(es().inputs) as Obj;
        expect(() => new StatefulSet({ ...manifest, metadata: { ...asObj(manifest.metadata), name: "es01" } }).validate()).not.toThrow();
        const secret = ofType(run, "kubernetes:core/v1:Secret").find((r) => r.name.endsWith("-es01-keystore")) as RecordedResource;
        expect(() => new Secret({ ...(unwrapSecrets(secret.inputs) as Obj), metadata: { name: "s" } }).validate()).not.toThrow();
    });

    test("the bootstrap Job registers the s3 repository", () => {
        const files = ofType(run, "kubernetes:core/v1:ConfigMap").map((r) => JSON.stringify(unwrapSecrets(r.inputs)));
        const bootstrap = files.filter((f) => f.includes("/_snapshot/elk-snapshots"));
        expect(bootstrap).toHaveLength(1);
        expect(bootstrap[0]).toContain("register snapshot repository elk-snapshots (s3 bucket elk-backups)");
        expect(bootstrap[0]).toMatch(/bucket.{0,8}elk-backups/);
        // Each credential must match a secure setting: a mismatch is a programming error, caught before any resource.
        expect(() => objectStoreKeystore(S3, ["only-one"])).toThrow(/2 credentials needed \(s3.client.elk.access_key, s3.client.elk.secret_key\), 1 given/);
    });
});
