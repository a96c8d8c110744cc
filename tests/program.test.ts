/**
 * The real program (index.ts) under the mock runtime, with the dev stack's config: what it registers and
 * the invariants that make the stack secure and start in the right order.
 */
import { execFileSync, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import YAML from "yaml";
import { tlsHandshake } from "./support/tlsHandshake";
import { type ProgramRun, type RecordedResource, isSecretValue, ofType, plainStrings, runProgram, stackFileConfig, transitiveDependencies, unwrapSecrets } from "./support/program";
import { raiseMaxMapCountCommand } from "../components/model/maxMapCount";

const CONTAINER = "docker:index/container:Container";

interface Upload {
    file: string;
    content: unknown;
}

function uploads(c: RecordedResource): Upload[] {
    return (unwrapSecrets(c.inputs.uploads) as Upload[] | undefined) ?? [];
}

function uploadText(c: RecordedResource, suffix: string): string {
    const u = uploads(c).find((x) => x.file.endsWith(suffix));
    if (!u) throw new Error(`${c.name} has no upload ending in ${suffix}: ${uploads(c).map((x) => x.file).join(", ")}`);
    return String(unwrapSecrets(u.content));
}

function envOf(c: RecordedResource): Record<string, string> {
    const list = unwrapSecrets(c.inputs.envs) as string[] | undefined;
    return Object.fromEntries((list ?? []).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
}

function container(run: ProgramRun, suffix: string): RecordedResource {
    const found = ofType(run, CONTAINER).filter((c) => c.name.endsWith(`-${suffix}`));
    if (found.length !== 1) throw new Error(`expected one container *-${suffix}, got ${found.map((c) => c.name).join(", ")}`);
    return found[0];
}

describe("the dev stack on Docker", () => {
    let run: ProgramRun;
    let ca: string;

    beforeAll(async () => {
        run = await runProgram(stackFileConfig("dev"));
        ca = String(run.outputs.caCertificate.value);
    });

    test("registers the CA, three instance certificates and the seven containers", () => {
        // The HTTP CA and the transport CA; es01, kibana and logstash from the first, es01's transport certificate from the second.
        expect(ofType(run, "tls:index/selfSignedCert:SelfSignedCert").map((r) => r.name).sort()).toEqual(["elk-dev-ca-cert", "elk-dev-transport-ca-cert"]);
        expect(ofType(run, "tls:index/locallySignedCert:LocallySignedCert")).toHaveLength(4);
        expect(ofType(run, CONTAINER).map((c) => c.name).sort()).toEqual(
            ["elk-dev-bootstrap", "elk-dev-es01", "elk-dev-es01-snapshots-owner", "elk-dev-kibana", "elk-dev-kibana-setup", "elk-dev-logstash", "elk-dev-sysctl"].sort(),
        );
        expect(ofType(run, "docker:index/network:Network")).toHaveLength(1);
        for (const type of ["elk:index:ElkStack", "elk:index:Elasticsearch", "elk:index:Kibana", "elk:index:Logstash", "elk:index:Bootstrap", "elk:index:KernelSettings", "elk:index:CertificateAuthority"]) {
            expect(ofType(run, type).length).toBeGreaterThanOrEqual(1);
        }
    });

    test("every long-running container has a health check, a memory limit, waits for health, and uses a pinned image", () => {
        const services = ofType(run, CONTAINER).filter((c) => c.inputs.mustRun === true);
        expect(services.map((c) => c.name).sort()).toEqual(["elk-dev-es01", "elk-dev-kibana", "elk-dev-logstash"]);
        for (const c of services) {
            const hc = c.inputs.healthcheck as { tests: string[]; retries: number };
            expect(hc.tests[0]).toBe("CMD-SHELL");
            expect(hc.tests[1].length).toBeGreaterThan(10);
            expect(c.inputs.memory).toBeGreaterThan(0);
            expect(c.inputs.wait).toBe(true);
        }
        for (const img of ofType(run, "docker:index/remoteImage:RemoteImage")) {
            expect(String(img.inputs.name)).toMatch(/:\d+\.\d+\.\d+$/);
        }
    });

    test("only the sysctl step is privileged, and it only sets vm.max_map_count", () => {
        const privileged = ofType(run, CONTAINER).filter((c) => c.inputs.privileged === true);
        expect(privileged.map((c) => c.name)).toEqual(["elk-dev-sysctl"]);
        expect(privileged[0].inputs.entrypoints).toEqual(raiseMaxMapCountCommand(262144));
        expect(privileged[0].inputs.mustRun).toBe(false);
    });

    test("start order: sysctl before Elasticsearch, Elasticsearch before bootstrap, bootstrap before Kibana and Logstash", () => {
        const urn = (suffix: string) => container(run, suffix).urn;
        expect(transitiveDependencies(run, container(run, "es01")).has(urn("sysctl"))).toBe(true);
        expect(transitiveDependencies(run, container(run, "bootstrap")).has(urn("es01"))).toBe(true);
        for (const s of ["kibana", "logstash"]) {
            const deps = transitiveDependencies(run, container(run, s));
            expect(deps.has(urn("bootstrap"))).toBe(true);
            expect(deps.has(urn("es01"))).toBe(true);
        }
        expect(transitiveDependencies(run, container(run, "kibana-setup")).has(urn("kibana"))).toBe(true);
        // Templates and the lifecycle policy are installed by the bootstrap, before Logstash can write a line.
        const plan = uploadText(container(run, "bootstrap"), "plan.tsv");
        expect(plan).toContain("/_ilm/policy/elk-logs-dev");
        expect(plan).toContain("/_index_template/");
    });

    test("no secret appears in plain text in any resource input or stack output", () => {
        // Six passwords and keys, and four private keys (CA, es01, kibana, logstash).
        expect(run.generatedSecrets.length).toBeGreaterThanOrEqual(6 + 4);
        const leaks: string[] = [];
        for (const r of run.resources) {
            const strings: { at: string; s: string }[] = [];
            plainStrings(r.inputs, `${r.type}::${r.name}`, strings);
            for (const { at, s } of strings) {
                for (const secret of run.generatedSecrets) {
                    // Keys are compared by their base64 body so a re-wrapped PEM would still be caught.
                    const needle = secret.includes("-----BEGIN") ? secret.split("\n")[1] : secret;
                    if (s.includes(needle)) leaks.push(at);
                }
            }
        }
        expect(leaks).toEqual([]);
        for (const [name, out] of Object.entries(run.outputs)) {
            const text = JSON.stringify(out.value);
            const holdsSecret = run.generatedSecrets.some((s) => text.includes(s));
            if (holdsSecret) expect({ name, secret: out.secret }).toEqual({ name, secret: true });
        }
        expect(run.outputs.elasticPassword.secret).toBe(true);
    });

    test("secret files and key uploads are secret; no env is; a label per config file still shows config changes in a preview", () => {
        const es = container(run, "es01");
        // Nothing secret in the environment, so nothing to hide: `docker inspect` shows it anyway.
        expect(isSecretValue(es.inputs.envs)).toBe(false);
        // The key makes the whole uploads list secret in the state...
        expect(isSecretValue(es.inputs.uploads)).toBe(true);
        // ...so each plain file's digest is a label, visible in `pulumi preview --diff`.
        const labels = es.inputs.labels as { label: string; value: unknown }[];
        const yml = uploadText(es, "elasticsearch.yml");
        const digest = crypto.createHash("sha256").update(yml).digest("hex").slice(0, 16);
        expect(labels).toContainEqual({ label: "dev.elk-stack.file.elasticsearch.yml", value: digest });
        expect(labels.some((l) => l.label.endsWith(".key") || l.label.includes("elk-secret."))).toBe(false);
    });

    test("elasticsearch.yml turns on security with TLS on HTTP and transport, using the uploaded certificates", () => {
        const es = container(run, "es01");
        const yml = YAML.parse(uploadText(es, "elasticsearch.yml")) as Record<string, unknown>;
        expect(yml["xpack.security.enabled"]).toBe(true);
        expect(yml["xpack.security.http.ssl.enabled"]).toBe(true);
        expect(yml["xpack.security.transport.ssl.enabled"]).toBe(true);
        expect(yml["xpack.security.transport.ssl.verification_mode"]).toBe("full");
        expect(yml["discovery.type"]).toBe("single-node");
        expect(yml["node.name"]).toBe("es01");
        for (const k of ["xpack.security.http.ssl.key", "xpack.security.http.ssl.certificate", "xpack.security.transport.ssl.key"]) {
            const rel = String(yml[k]);
            expect(uploads(es).some((u) => u.file === `/usr/share/elasticsearch/config/${rel}`)).toBe(true);
        }
        expect(yml["xpack.security.http.ssl.certificate_authorities"]).toEqual(["certs/ca.crt"]);
        expect(uploadText(es, "certs/ca.crt")).toBe(ca);
    });

    test("every client of Elasticsearch gets the CA and verifies the host name it dials", () => {
        const esCert = new crypto.X509Certificate(uploadText(container(run, "es01"), "certs/es01.crt"));
        const hostOf = (url: string) => new URL(url).hostname;
        const verifies = (url: string) => esCert.checkHost(hostOf(url)) !== undefined || esCert.checkIP(hostOf(url)) !== undefined;

        // Kibana
        const kibana = container(run, "kibana");
        const kyml = YAML.parse(uploadText(kibana, "kibana.yml")) as Record<string, unknown>;
        expect(kyml["elasticsearch.ssl.verificationMode"]).toBe("full");
        const kibanaCa = (kyml["elasticsearch.ssl.certificateAuthorities"] as string[])[0];
        expect(uploadText(kibana, kibanaCa)).toBe(ca);
        for (const h of kyml["elasticsearch.hosts"] as string[]) {
            expect(h.startsWith("https://")).toBe(true);
            expect(verifies(h)).toBe(true);
        }

        // Logstash: the pipeline outputs read the CA and URL from the environment.
        const logstash = container(run, "logstash");
        const lenv = envOf(logstash);
        expect(uploadText(logstash, lenv.ELK_CA)).toBe(ca);
        expect(verifies(lenv.ELK_ES_URL)).toBe(true);
        const pipelines = uploads(logstash).filter((u) => u.file.startsWith("/usr/share/logstash/pipeline/"));
        expect(pipelines.length).toBeGreaterThan(0);
        for (const p of pipelines) {
            const text = String(unwrapSecrets(p.content));
            const outputs = text.split(/\belasticsearch\s*\{/).slice(1);
            for (const block of outputs) {
                expect(block).toMatch(/ssl_enabled\s*=>\s*true/);
                expect(block).toMatch(/ssl_certificate_authorities\s*=>\s*\["\$\{ELK_CA\}"\]/);
                expect(block).toMatch(/ssl_verification_mode\s*=>\s*"full"/);
                expect(block).toMatch(/hosts\s*=>\s*\["\$\{ELK_ES_URL\}"\]/);
            }
        }

        // The bootstrap
        const bootstrap = container(run, "bootstrap");
        const benv = envOf(bootstrap);
        expect(uploadText(bootstrap, "ca.crt")).toBe(ca);
        expect(benv.ELK_CA).toBe("/opt/elk-bootstrap/ca.crt");
        expect(verifies(benv.ELK_ES_URL)).toBe(true);
        const script = uploadText(bootstrap, "bootstrap.sh");
        expect(script).toContain('--cacert "$ELK_CA"');

        // Health checks: every curl names the CA, none skips verification, and the host is in the service's cert.
        for (const [svc, certFile] of [["es01", "certs/es01.crt"], ["kibana", "certs/kibana.crt"]]) {
            const c = container(run, svc);
            const cmd = (c.inputs.healthcheck as { tests: string[] }).tests[1];
            expect(cmd).toMatch(/--cacert \S+ca\.crt/);
            const url = /https:\/\/[^\s/]+:\d+/.exec(cmd);
            expect(url).not.toBeNull();
            const cert = new crypto.X509Certificate(uploadText(c, certFile));
            expect(cert.checkHost(hostOf((url as RegExpExecArray)[0]))).toBeDefined();
        }
        for (const c of ofType(run, CONTAINER)) {
            const text = JSON.stringify(unwrapSecrets(c.inputs));
            expect(text).not.toMatch(/curl[^"]*\s(-k|--insecure)\b/);
            expect(text).not.toMatch(/verification_?[mM]ode["':=>\s]+"?none/);
        }
    });

    test("each certificate the program uploads chains to the stack CA and serves TLS under its own name only", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "elk-program-certs-"));
        try {
            fs.writeFileSync(path.join(dir, "ca.pem"), ca);
            const cases: [string, string, string][] = [
                ["es01", "certs/es01.crt", "certs/es01.key"],
                ["kibana", "certs/kibana.crt", "certs/kibana.key"],
                ["logstash", "certs/logstash.crt", "certs/logstash.pkcs8.key"],
            ];
            for (const [instance, certFile, keyFile] of cases) {
                const c = container(run, instance);
                const cert = uploadText(c, certFile);
                const key = uploadText(c, keyFile);
                fs.writeFileSync(path.join(dir, `${instance}.pem`), cert);
                const verify = execFileSync("openssl", ["verify", "-CAfile", path.join(dir, "ca.pem"), path.join(dir, `${instance}.pem`)], { encoding: "utf8", timeout: 30_000 });
                expect(verify.trim()).toBe(`${path.join(dir, `${instance}.pem`)}: OK`);
                const x509 = new crypto.X509Certificate(cert);
                expect(x509.checkPrivateKey(crypto.createPrivateKey(key))).toBe(true);
                // Servers only: none of them may authenticate as a TLS client (Elasticsearch's transport peer).
                expect(x509.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]);
                expect(await tlsHandshake({ key, cert, ca, servername: instance })).toMatchObject({ authorized: true });
                expect(await tlsHandshake({ key, cert, ca, servername: "localhost" })).toMatchObject({ authorized: true });
                const wrong = await tlsHandshake({ key, cert, ca, servername: "not-" + instance });
                expect(wrong.authorized).toBe(false);
                expect(wrong.error).toBe("ERR_TLS_CERT_ALTNAME_INVALID");
            }
            // Logstash's TLS inputs read only PKCS#8.
            expect(uploadText(container(run, "logstash"), "logstash.pkcs8.key")).toMatch(/^-----BEGIN PRIVATE KEY-----/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    test("transport has a CA of its own: elasticsearch.yml trusts only it, and no HTTP certificate of the stack verifies against it", () => {
        const es = container(run, "es01");
        const yml = YAML.parse(uploadText(es, "elasticsearch.yml")) as Record<string, unknown>;
        expect(yml).toMatchObject({
            "xpack.security.transport.ssl.certificate_authorities": ["certs/transport-ca.crt"],
            "xpack.security.transport.ssl.certificate": "certs/transport.crt",
            "xpack.security.transport.ssl.key": "certs/transport.key",
            "xpack.security.transport.ssl.client_authentication": "required",
            "xpack.security.http.ssl.certificate": "certs/es01.crt",
        });
        const transportCa = uploadText(es, "certs/transport-ca.crt");
        expect(transportCa).not.toBe(ca);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "elk-program-transport-"));
        try {
            const file = (name: string, text: string) => {
                fs.writeFileSync(path.join(dir, name), text);
                return path.join(dir, name);
            };
            const caFile = file("transport-ca.pem", transportCa);
            const verify = (cert: string) => spawnSync("openssl", ["verify", "-CAfile", caFile, "-purpose", "sslclient", cert], { encoding: "utf8", timeout: 30_000 });
            const peer = new crypto.X509Certificate(uploadText(es, "certs/transport.crt"));
            expect(peer.keyUsage?.slice().sort()).toEqual(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]);
            expect(peer.subjectAltName).toBe("DNS:es01");
            expect(verify(file("transport.pem", uploadText(es, "certs/transport.crt"))).status).toBe(0);
            for (const [instance, certFile] of [["es01", "certs/es01.crt"], ["kibana", "certs/kibana.crt"], ["logstash", "certs/logstash.crt"]]) {
                const refused = verify(file(`${instance}.pem`, uploadText(container(run, instance), certFile)));
                expect({ instance, status: refused.status }).not.toEqual({ instance, status: 0 });
                expect(refused.stdout + refused.stderr).toContain("unable to get local issuer certificate");
            }
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    test("Logstash writes as its own least-privilege user, never as elastic", () => {
        const logstash = container(run, "logstash");
        const env = envOf(logstash);
        expect(env.ELK_LOGSTASH_USER).toBe("logstash_writer");
        expect(Object.keys(env)).not.toContain("ELASTIC_PASSWORD");
        // Its keystore holds its own password and nothing else.
        expect(env.ELK_CONFIDENTIAL).toBe("ELK_LOGSTASH_PASSWORD");
        const bootstrap = container(run, "bootstrap");
        const plan = uploadText(bootstrap, "plan.tsv");
        expect(plan).toContain("/_security/role/elk_logstash_writer");
        const role = uploads(bootstrap)
            .filter((u) => /body-\d+\.json$/.test(u.file))
            .map((u) => String(unwrapSecrets(u.content)))
            .find((b) => b.includes("create_doc"));
        expect(role).toContain('"privileges":["create_doc","auto_configure"]');
        expect(role).toContain('"names":["logs-*-dev"]');
    });

    test("Logstash gets a pipeline per source kind with its patterns, and every file and env path its TLS input names", () => {
        const logstash = container(run, "logstash");
        const files = uploads(logstash).map((u) => u.file);
        const pipelines = YAML.parse(uploadText(logstash, "config/pipelines.yml")) as Record<string, string>[];
        expect(pipelines.map((p) => [p["pipeline.id"], p["path.config"], p["queue.type"], p["queue.checkpoint.writes"], p["dead_letter_queue.enable"]])).toEqual([
            ["nginx", "/usr/share/logstash/pipeline/nginx/*.conf", "persisted", 1024, true],
            ["django", "/usr/share/logstash/pipeline/django/*.conf", "persisted", 1024, true],
            ["dead_letter", "/usr/share/logstash/pipeline/dead_letter/*.conf", "persisted", 1024, false],
        ]);
        for (const kind of ["nginx", "django"]) {
            for (const f of ["00-input.conf", "10-parse.conf", "50-sources.conf", "90-route.conf"]) expect(files).toContain(`/usr/share/logstash/pipeline/${kind}/${f}`);
            expect(files).toContain(`/usr/share/logstash/pipeline/patterns/${kind}`);
        }
        const env = envOf(logstash);
        expect(files).toContain(env.ELK_TLS_CERT);
        expect(files).toContain(env.ELK_TLS_KEY);
        expect(files).toContain(env.ELK_CA);
        // Every ${VAR} the pipelines read is set (or has a default in the file).
        const used = new Set(uploads(logstash).filter((u) => u.file.includes("/pipeline/")).flatMap((u) => [...String(unwrapSecrets(u.content)).matchAll(/\$\{([A-Z_]+)(:[^}]*)?\}/g)].filter((m) => !m[2]).map((m) => m[1])));
        expect(used.size).toBeGreaterThan(4);
        // The password from the keystore (filled from its file at start), everything else from the environment.
        const keystore = env.ELK_CONFIDENTIAL.split(" ");
        for (const name of keystore) expect(files).toContain(`${env.ELK_CONFIDENTIAL_DIR}/elk-secret.${name}`);
        for (const name of used) expect([...Object.keys(env), ...keystore]).toContain(name);
    });

    test("Kibana serves TLS with its own certificate and has its password and encryption keys in its keystore, from secret files", () => {
        const kibana = container(run, "kibana");
        const kyml = YAML.parse(uploadText(kibana, "kibana.yml")) as Record<string, unknown>;
        expect(kyml["server.ssl.enabled"]).toBe(true);
        const cert = new crypto.X509Certificate(uploadText(kibana, String(kyml["server.ssl.certificate"])));
        expect(cert.subject).toContain("CN=kibana");
        expect(cert.checkHost("localhost")).toBe("localhost");
        const env = envOf(kibana);
        const settings = ["elasticsearch.password", "xpack.security.encryptionKey", "xpack.encryptedSavedObjects.encryptionKey", "xpack.reporting.encryptionKey"];
        expect(env.ELK_CONFIDENTIAL.split(" ")).toEqual(settings);
        for (const k of settings) {
            // Not in kibana.yml at all: the keystore sets it.
            expect(kyml[k]).toBeUndefined();
            const value = uploadText(kibana, `/elk-secret.${k}`);
            if (k !== "elasticsearch.password") expect(value.length).toBeGreaterThanOrEqual(32);
        }
        expect(isSecretValue(kibana.inputs.uploads)).toBe(true);
        expect(kibana.inputs.entrypoints).toEqual(["/bin/tini", "--", "/bin/bash", "/usr/share/kibana/config/elk-start/keystore-start.sh", "kibana", "/usr/local/bin/kibana-docker"]);
    });

    test("named volumes keep data apart from containers", () => {
        const volumes = ofType(run, "docker:index/volume:Volume").map((v) => String(v.inputs.name)).sort();
        expect(volumes).toEqual(["elk-dev-es01-data", "elk-dev-es01-snapshots", "elk-dev-kibana-data", "elk-dev-logstash-data"]);
        const es = container(run, "es01");
        expect(es.inputs.volumes).toEqual([
            { volumeName: "elk-dev-es01-data", containerPath: "/usr/share/elasticsearch/data" },
            // The snapshot repository, on a volume of its own: snapshots survive the loss of the data volume.
            { volumeName: "elk-dev-es01-snapshots", containerPath: "/usr/share/elasticsearch/snapshots" },
        ]);
    });

    test("ports are published on 127.0.0.1 only", () => {
        const published = ofType(run, CONTAINER).flatMap((c) => (c.inputs.ports as { ip: string; external: number; protocol: string }[] | undefined) ?? []);
        expect(published.map((p) => `${p.ip}:${p.external}/${p.protocol}`).sort()).toEqual(["127.0.0.1:5140/udp", "127.0.0.1:5141/tcp", "127.0.0.1:5601/tcp", "127.0.0.1:9200/tcp"]);
    });

    test("stack outputs a person can use right away", () => {
        expect(run.outputs.elasticsearchUrl.value).toBe("https://localhost:9200");
        expect(run.outputs.kibanaUrl.value).toBe("https://localhost:5601");
        expect(ca).toMatch(/^-----BEGIN CERTIFICATE-----/);
        expect(run.outputs.caCertificate.secret).toBe(false);
        expect(run.outputs.logstashEndpoints.value).toEqual({ nginxSyslog: "localhost:5140", django: { app: "localhost:5141" } });
        const wiring = run.outputs.wiring.value as Record<string, string>;
        expect(Object.keys(wiring).sort()).toEqual(["django_logging.py", "nginx-log-formats.conf", "nginx-web.conf"]);
        expect(wiring["nginx-log-formats.conf"]).toContain("log_format elk_web escape=default");
        expect(wiring["nginx-web.conf"]).toContain("access_log syslog:server=127.0.0.1:5140,tag=nginx_access,severity=info elk_web;");
        expect(wiring["django_logging.py"]).toContain("5141");
        expect(run.outputs.elasticUser.value).toBe("elastic");
        expect(String(run.outputs.quickstart.value)).toContain("curl --cacert elk-ca.crt --header @elk-auth.header");
        expect(run.outputs.quickstart.secret).toBe(false);
    });

    test("the quickstart puts no password on a command line: its header line, run by bash, writes a private header file", () => {
        const lines = String(run.outputs.quickstart.value).split("\n");
        expect(lines.join("\n")).not.toMatch(/-u |--user|elastic:"\$\(/);
        const headerLine = lines.find((l) => l.includes("elk-auth.header") && !l.startsWith("curl"));
        expect(headerLine).toBeDefined();
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "elk-quickstart-"));
        try {
            // A stand-in `pulumi` that prints a password as `pulumi stack output --show-secrets` does, with a newline.
            const password = `Qs-${crypto.randomBytes(12).toString("base64")}:x & "y"`;
            fs.writeFileSync(path.join(dir, "pulumi"), `#!/bin/sh\nprintf '%s\\n' '${password.replace(/'/g, "'\\''")}'\n`, { mode: 0o755 });
            const result = spawnSync("bash", ["-c", headerLine as string], { cwd: dir, env: { PATH: `${dir}:${process.env.PATH ?? ""}` }, encoding: "utf8", timeout: 20_000 });
            expect(result.status).toBe(0);
            const header = fs.readFileSync(path.join(dir, "elk-auth.header"), "utf8");
            expect(header).toBe(`Authorization: Basic ${Buffer.from(`elastic:${password}`).toString("base64")}`);
            expect(fs.statSync(path.join(dir, "elk-auth.header")).mode & 0o777).toBe(0o600);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("stack options", () => {
    test("setMaxMapCount=false leaves no privileged container and no sysctl step", async () => {
        const run = await runProgram({ ...stackFileConfig("dev"), setMaxMapCount: "false" });
        expect(ofType(run, CONTAINER).some((c) => c.inputs.privileged === true)).toBe(false);
        expect(ofType(run, CONTAINER).map((c) => c.name)).not.toContain("elk-dev-sysctl");
    });

    test("passwords set in config are used instead of generated ones and stay secret", async () => {
        const elasticPassword = "correct-horse-battery-staple-1";
        const run = await runProgram({ elasticPassword }, { secretKeys: ["elasticPassword"] });
        expect(ofType(run, "random:index/randomPassword:RandomPassword").map((r) => r.name)).not.toContain("elk-elastic-password");
        const es = ofType(run, CONTAINER).find((c) => c.name === "elk-es01") as RecordedResource;
        expect(uploadText(es, "/elk-secret.bootstrap.password")).toBe(elasticPassword);
        expect(Object.values(envOf(es)).join("\n")).not.toContain(elasticPassword);
        expect(run.outputs.elasticPassword).toEqual({ value: elasticPassword, secret: true });
        expect(JSON.stringify(es.inputs)).toContain(elasticPassword); // inside the secret wrapper...
        const plain: { at: string; s: string }[] = [];
        plainStrings(es.inputs, "es", plain);
        expect(plain.filter((p) => p.s.includes(elasticPassword))).toEqual([]); // ...and nowhere else
    });

    test("an extra instance name gets its own certificate from the same CA", async () => {
        const run = await runProgram({ extraCertificateNames: '["apm"]' });
        const names = ofType(run, "tls:index/certRequest:CertRequest").map((r) => (unwrapSecrets(r.inputs.subject) as { commonName: string }).commonName);
        // es01 twice: its HTTP certificate and its transport certificate.
        expect(names.sort()).toEqual(["apm", "es01", "es01", "kibana", "logstash"]);
    });

    test("nginx's port published under another number: endpoints and the nginx wiring name the published one", async () => {
        const run = await runProgram({ nginxSyslogPort: "1514", logSources: '["nginx:web", "django:shop", "django:billing:5150"]' });
        const logstash = ofType(run, CONTAINER).find((c) => c.name.endsWith("-logstash")) as RecordedResource;
        const published = (logstash.inputs.ports as { internal: number; external: number; protocol: string }[]).map((p) => `${p.external}->${p.internal}/${p.protocol}`);
        expect(published.sort()).toEqual(["1514->5140/udp", "5141->5141/tcp", "5150->5150/tcp"]);
        expect(run.outputs.logstashEndpoints.value).toEqual({ nginxSyslog: "localhost:1514", django: { shop: "localhost:5141", billing: "localhost:5150" } });
        const wiring = run.outputs.wiring.value as Record<string, string>;
        expect(wiring["nginx-web.conf"]).toContain("syslog:server=127.0.0.1:1514,tag=nginx_access");
        expect(wiring["nginx-web.conf"]).toContain("syslog:server=127.0.0.1:1514,tag=nginx_error_");
        expect(wiring["django_logging_billing.py"]).toMatch(/5150/);
    });

    test("Elastic 8.x keeps working: images follow the version", async () => {
        const run = await runProgram({ elasticVersion: "8.19.3" });
        const images = ofType(run, "docker:index/remoteImage:RemoteImage").map((r) => String(r.inputs.name));
        expect(images).toEqual(expect.arrayContaining(["docker.elastic.co/elasticsearch/elasticsearch:8.19.3", "docker.elastic.co/kibana/kibana:8.19.3", "docker.elastic.co/logstash/logstash:8.19.3"]));
    });
});

describe("bad config fails at preview with the key and the fix", () => {
    const cases: [string, Record<string, string>, RegExp][] = [
        ["unknown target", { target: "nomad" }, /elk-stack:target.*unknown target 'nomad'.*Fix: set 'docker' or 'kubernetes'/],
        ["heap larger than the memory limit", { elasticsearchHeapMb: "4096", elasticsearchMemoryMb: "2048" }, /elk-stack:elasticsearchHeapMb.*larger than the memory limit.*Fix:/],
        ["port taken twice", { kibanaPort: "9200" }, /elk-stack:kibanaPort.*port 9200 is already taken by elk-stack:elasticsearchPort.*Fix:/],
        ["malformed instance name", { elasticsearchName: "ES_01" }, /elk-stack:elasticsearchName.*malformed.*Fix:/],
        ["password too short", { elasticPassword: "short" }, /elk-stack:elasticPassword.*too short.*Fix: set one of at least 16 characters/],
        ["unsupported version", { elasticVersion: "7.17.0" }, /elk-stack:elasticVersion.*not supported/],
        // Declared an integer in Pulumi.yaml: the CLI refuses it before the program runs, in its own words.
        ["non-numeric heap", { logstashHeapMb: "lots" }, /^Stack 'dev' with configuration key 'logstashHeapMb' must be of type 'integer'$/],
    ];
    test.each(cases)("%s", async (_name, config, message) => {
        await expect(runProgram(config, { preview: true, secretKeys: Object.keys(config).filter((k) => k.endsWith("Password")) })).rejects.toThrow(message);
    });
});
