/** `npm run render`: every deployable file, offline, secrets as placeholders. Runs the real command. */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import YAML from "yaml";
import { ECK_OPERATOR_VERSION } from "../components/targets/eckResources";
import { stackSettings } from "../scripts/cliConfig";
import { runCommand, runCommandOk } from "./support/command";
import { eckSchemaErrors } from "./support/eckSchema";

const root = path.join(__dirname, "..");

describe("render --stack dev", () => {
    let out: string;
    const read = (rel: string) => fs.readFileSync(path.join(out, rel), "utf8");

    beforeAll(async () => {
        out = fs.mkdtempSync(path.join(os.tmpdir(), "elk-render-"));
        await runCommandOk("npm", ["run", "--silent", "render", "--", "--stack", "dev", "--out", out], { cwd: root, timeoutMs: 120_000 });
    });
    afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

    test("writes the configs the issue names, and the pipelines exactly as in pipelines/", () => {
        for (const rel of ["elasticsearch/elasticsearch.yml", "kibana/kibana.yml", "logstash/config/logstash.yml", "logstash/config/pipelines.yml", "bootstrap/bootstrap.sh", "containers.yaml"]) {
            expect(fs.existsSync(path.join(out, rel))).toBe(true);
        }
        // The static files of pipelines/ go out unchanged (90-route.conf, shared, into each kind's folder).
        for (const kind of ["nginx", "django"]) {
            expect(read(`logstash/pipeline/${kind}/10-parse.conf`)).toBe(fs.readFileSync(path.join(root, "pipelines", kind, "10-parse.conf"), "utf8"));
            expect(read(`logstash/pipeline/${kind}/90-route.conf`)).toBe(fs.readFileSync(path.join(root, "pipelines", "shared", "90-route.conf"), "utf8"));
            expect(read(`logstash/pipeline/patterns/${kind}`)).toBe(fs.readFileSync(path.join(root, "pipelines", "patterns", kind), "utf8"));
            expect(read(`logstash/pipeline/${kind}/00-input.conf`)).toMatch(/^input \{/m);
        }
        const pipelines = YAML.parse(read("logstash/config/pipelines.yml")) as Record<string, string>[];
        expect(pipelines.map((p) => p["path.config"]).sort()).toEqual([
            "/usr/share/logstash/pipeline/dead_letter/*.conf",
            "/usr/share/logstash/pipeline/django/*.conf",
            "/usr/share/logstash/pipeline/nginx/*.conf",
        ]);
        // The wiring app teams include, with this stack's Logstash address.
        expect(read("wiring/nginx-log-formats.conf")).toContain("log_format elk_web escape=default");
        expect(read("wiring/nginx-web.conf")).toMatch(/^error_log syslog:server=127\.0\.0\.1:5140,tag=nginx_error_[0-9a-f]{16} warn;$/m);
        expect(read("wiring/django_logging.py")).toContain("LOGGING");
    });

    test("the YAML parses and carries the settings Elastic documents for a secure node and Kibana", () => {
        const es = YAML.parse(read("elasticsearch/elasticsearch.yml")) as Record<string, unknown>;
        expect(es).toMatchObject({ "cluster.name": "elk-dev", "xpack.security.enabled": true, "xpack.security.http.ssl.enabled": true, "xpack.security.transport.ssl.enabled": true });
        const kibana = YAML.parse(read("kibana/kibana.yml")) as Record<string, unknown>;
        expect(kibana).toMatchObject({ "elasticsearch.hosts": ["https://es01:9200"], "elasticsearch.username": "kibana_system", "server.ssl.enabled": true });
        // The password and keys come from Kibana's keystore, filled at start from secret files: kibana.yml names none.
        expect(kibana["elasticsearch.password"]).toBeUndefined();
        expect(read("kibana/elk-start/elk-secret.elasticsearch.password")).toMatch(/^<secret: /);
    });

    test("describes every container: image, ports, env names, files, volumes, health check", () => {
        const containers = YAML.parse(read("containers.yaml")) as Record<string, unknown>[];
        expect(containers.map((c) => c.name)).toEqual(["sysctl", "es01", "bootstrap", "kibana", "kibana-setup", "logstash"]);
        const es = containers[1];
        expect(es.image).toBe("docker.elastic.co/elasticsearch/elasticsearch:9.4.1");
        expect(es.ports).toEqual(["9200/tcp published on 127.0.0.1:9200", "9300/tcp (stack network only)"]);
        expect(es.env).toEqual({ ES_JAVA_OPTS: "-Xms512m -Xmx512m", ELK_CONFIDENTIAL: "bootstrap.password", ELK_CONFIDENTIAL_DIR: "/usr/share/elasticsearch/config/elk-start" });
        expect((es.healthCheck as Record<string, string>).command).toContain("--cacert");
        expect(es.volumes).toEqual(["elk-dev-es01-data -> /usr/share/elasticsearch/data", "elk-dev-es01-snapshots -> /usr/share/elasticsearch/snapshots"]);
        for (const c of containers.filter((x) => x.runs === undefined)) expect(c.healthCheck).toBeDefined();
    });

    test("a YAML 1.1 reader (PyYAML, go-yaml v2) gets each user as the text uid:gid, not the base-60 number of 1000:0", () => {
        const text = read("containers.yaml");
        expect(text).toContain('user: "1000:0"');
        // The yaml package as a YAML 1.1 reader: `1000:0` unquoted reads as 60000 there.
        expect(YAML.parse("user: 1000:0", { version: "1.1" })).toEqual({ user: 60000 });
        const containers = YAML.parse(text, { version: "1.1" }) as { name: string; user: unknown }[];
        expect(containers.map((c) => [c.name, c.user])).toEqual([
            ["sysctl", "0:0"],
            ["es01", "1000:0"],
            ["bootstrap", "1000:0"],
            ["kibana", "1000:0"],
            ["kibana-setup", "1000:0"],
            ["logstash", "1000:1000"],
        ]);
    });

    test("no key or password is written: placeholders stand in for them", () => {
        expect(read("elasticsearch/certs/es01.key")).toMatch(/^<secret: es01.key is generated at deploy time/);
        expect(read("elasticsearch/certs/es01.crt")).toContain("SAN DNS:es01, DNS:localhost; uses digital_signature, key_encipherment, server_auth;");
        expect(read("elasticsearch/certs/transport.crt")).toContain("SAN DNS:es01; uses digital_signature, key_encipherment, server_auth, client_auth;");
        const all = fs.readdirSync(out, { recursive: true, withFileTypes: true }).filter((d) => d.isFile());
        for (const d of all) {
            const text = fs.readFileSync(path.join(d.parentPath, d.name), "utf8");
            expect(text).not.toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----/);
        }
    });

    test("a bad stack config fails the command with the key and the fix", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "elk-render-bad-"));
        // The bad stack file goes into a copy of the project, not into this one: the stack tests in other workers
        // read every Pulumi.*.yaml here, and would pick it up.
        const project = path.join(dir, "project");
        const skip = new Set(["node_modules", ".git", "dist", "bin", "out", "coverage", "render"]);
        fs.cpSync(root, project, { recursive: true, filter: (src) => !skip.has(path.relative(root, src).split(path.sep)[0]) });
        fs.symlinkSync(path.join(root, "node_modules"), path.join(project, "node_modules"), "dir");
        try {
            fs.writeFileSync(path.join(project, "Pulumi.rendertest.yaml"), "config:\n  elk-stack:target: nomad\n");
            const run = await runCommand("npm", ["run", "--silent", "render", "--", "--stack", "rendertest", "--out", path.join(dir, "out")], { cwd: project, timeoutMs: 120_000 });
            expect(run.status).not.toBe(0);
            expect(run.stderr).toMatch(/elk-stack:target.*unknown target 'nomad'.*Fix:/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("render --stack prod (Kubernetes)", () => {
    let out: string;
    const read = (rel: string) => fs.readFileSync(path.join(out, rel), "utf8");

    beforeAll(async () => {
        out = fs.mkdtempSync(path.join(os.tmpdir(), "elk-render-k8s-"));
        await runCommandOk("npm", ["run", "--silent", "render", "--", "--stack", "prod", "--out", out], { cwd: root, timeoutMs: 120_000 });
    });
    afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

    test("writes every manifest under kubernetes/, one file each and all together, valid against the schemas", () => {
        const files = fs.readdirSync(path.join(out, "kubernetes")).filter((f) => f !== "all.yaml");
        const docs = YAML.parseAllDocuments(read("kubernetes/all.yaml")).map((d) => d.toJS() as Record<string, unknown>);
        expect(docs).toHaveLength(files.length);
        const kinds = docs.map((d) => d.kind);
        // Prod runs on the eck engine: the operator's custom resources, no workloads of the stack's own.
        for (const kind of ["Namespace", "Elasticsearch", "Kibana", "Logstash", "ConfigMap", "Secret", "Job"]) expect(kinds).toContain(kind);
        expect(kinds).not.toContain("StatefulSet");
        for (const doc of docs) {
            if (typeof doc.kind !== "string") continue;
            const apiVersion = String(doc.apiVersion);
            if (apiVersion.includes(".k8s.elastic.co/")) {
                expect(eckSchemaErrors(doc)).toEqual([]);
                continue;
            }
            const dir = apiVersion === "v1" ? "v1" : apiVersion;
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const Model = (require(`kubernetes-models/${dir}/${String(doc.kind)}`) as Record<string, new (d: object) => { validate(): void }>)[String(doc.kind)];
            expect(() => new Model(doc).validate()).not.toThrow();
        }
        const es = docs.find((d) => d.kind === "Elasticsearch") as { spec: { nodeSets: { name: string; count: number }[] } };
        expect(es.spec.nodeSets.map((s) => [s.name, s.count])).toEqual([["masters", 3], ["hot", 3]]);
        // The operator's Helm release, pinned.
        const release = YAML.parse(read(`kubernetes/${files.find((f) => f.includes("-helmrelease-")) as string}`)) as Record<string, unknown>;
        expect(release).toMatchObject({ chart: "eck-operator", version: ECK_OPERATOR_VERSION, repositoryOpts: { repo: "https://helm.elastic.co" } });
    });

    test("Secrets are placeholders; the Elasticsearch config is there for review", () => {
        for (const f of fs.readdirSync(path.join(out, "kubernetes")).filter((x) => x.includes("-secret-"))) {
            const doc = YAML.parse(read(`kubernetes/${f}`)) as { stringData: Record<string, string> };
            expect(Object.keys(doc.stringData).length).toBeGreaterThan(0);
            for (const v of Object.values(doc.stringData)) expect(v).toMatch(/^<secret: .* never rendered>$/);
        }
        const es = YAML.parse(read(`kubernetes/${fs.readdirSync(path.join(out, "kubernetes")).find((f) => f.includes("-elasticsearch-")) as string}`)) as { spec: { nodeSets: { config: Record<string, unknown> }[] } };
        expect(es.spec.nodeSets[0].config).toMatchObject({ "node.roles": ["master"], "xpack.license.self_generated.type": "basic" });
        expect(es.spec.nodeSets[0].config["cluster.initial_master_nodes"]).toBeUndefined();
        const containers = YAML.parse(read("containers.yaml")) as Record<string, unknown>[];
        expect(containers.find((c) => c.name === "es01")).toMatchObject({ replicas: 6 });
    });
});

describe("render reads a stack file as the Pulumi CLI hands it to the program", () => {
    let dir: string;
    beforeAll(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "elk-render-config-"));
        fs.copyFileSync(path.join(root, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
    const stackFile = (text: string) => fs.writeFileSync(path.join(dir, "Pulumi.t.yaml"), text);

    test("Pulumi.yaml's defaults written in; a secure value is a secret placeholder the program takes as set", () => {
        stackFile("config:\n  elk-stack:elasticPassword:\n    secure: v1:bm9uY2Vub25jZQ==:Y2lwaGVy\n  elk-stack:elasticsearchHeapMb: 768\n");
        const settings = stackSettings(dir, "t", "<secret from the stack config>");
        expect(settings.passwordsSet).toEqual(["elasticPassword"]);
        expect(settings.elasticsearch.heapMb).toBe(768);
        expect(settings.elasticsearch.replicas).toBe(1);
    });

    test("what the CLI refuses, render refuses, in the CLI's words; a password in plain text is refused by the program", () => {
        stackFile("config:\n  elk-stack:kibanaPort: 56o1\n");
        expect(() => stackSettings(dir, "t", "<secret from the stack config>")).toThrow("Stack 't' with configuration key 'kibanaPort' must be of type 'integer'");
        stackFile("config:\n  elk-stack:elasticPassword: a-password-in-plain-text\n");
        expect(() => stackSettings(dir, "t", "<secret from the stack config>")).toThrow(/'elk-stack:elasticPassword': is in plain text in the stack's config/);
    });
});
