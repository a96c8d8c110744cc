/**
 * The policy pack (policy/) against what the program registers under the mock runtime, for the dev (Docker) and
 * prod (Kubernetes) stacks: everything passes, and copies with one thing broken are rejected with a message that
 * says what. Each resource goes three ways: the pure checks with secret marks visible, the pack's
 * `validateResource` functions with arguments built as @pulumi/policy builds them, and the real pack process
 * over gRPC, as `pulumi preview --policy-pack policy` runs it.
 */
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import { policies } from "../policy/pack";
import * as fs from "fs";
import * as path from "path";
import { SYSCTL_IMAGE as KERNEL_SYSCTL_IMAGE } from "../components/model/kernel";
import { LsParseError, looksLikePipeline, parsePipeline, settingValues } from "../policy/logstashConfig";
import { ELK_POLICIES, type PolicyResource, SYSCTL_IMAGE, UNKNOWN, hostPathProblem, imagePinProblem, isSysctlStep, pipelineProblems, violations, yamlSetting } from "../policy/policies";
import { validateWithPack } from "./support/policyArgs";
import { type RunningPolicyPack, startPolicyPack } from "./support/policyServer";
import { type ProgramRun, type RecordedResource, isSecretValue, onManifestsEngine, runProgram, stackFileConfig, unwrapSecrets } from "./support/program";
import { SECRET_SIG, SECRET_SIG_KEY } from "../scripts/secretEnvelope";

/** `v` as Pulumi serialises a secret. */
const secretValue = (v: unknown) => ({ [SECRET_SIG_KEY]: SECRET_SIG, value: v });

type Obj = Record<string, unknown>;

/** The resource with the mock runtime's secret marks, as the pure checks can read it. */
const marked = (r: RecordedResource): PolicyResource => ({ type: r.type, name: r.name, props: r.inputs, secretsMarked: true });
/** Violations found by the pure checks, as `policy: message`. */
const pure = (r: RecordedResource): string[] => violations(marked(r)).map((v) => `${v.policy}: ${v.message}`);

/** The value inside a secret envelope (the same object: mutations show through), or the value itself. */
function inner(v: unknown): unknown {
    return isSecretValue(v) ? inner(v.value) : v;
}
const obj = (v: unknown): Obj => inner(v) as Obj;
const list = (v: unknown): Obj[] => inner(v) as Obj[];

function find(run: ProgramRun, type: string, nameSuffix: string): RecordedResource {
    const found = run.resources.filter((r) => r.type === type && r.name.endsWith(nameSuffix));
    if (found.length !== 1) throw new Error(`expected one ${type} *${nameSuffix}, got ${found.map((r) => r.name).join(", ")}`);
    return found[0];
}

/** A deep copy of `r` to break; secret envelopes are kept. */
function copyOf(r: RecordedResource, edit: (inputs: Obj) => void): RecordedResource {
    const inputs = structuredClone(r.inputs);
    edit(inputs);
    return { ...r, inputs };
}

/** The content of the Docker upload whose path ends in `suffix`, replaced by `fn(content)`. */
function editUpload(inputs: Obj, suffix: string, fn: (content: string) => string): void {
    const upload = list(inputs.uploads).find((u) => String(u.file).endsWith(suffix));
    if (!upload) throw new Error(`no upload *${suffix}`);
    upload.content = fn(String(inner(upload.content)));
}

/** The pod spec of a workload's template. */
const podSpec = (inputs: Obj): Obj => obj(obj(obj(inputs.spec).template).spec);

const CONTAINER = "docker:index/container:Container";
const IMAGE = "docker:index/remoteImage:RemoteImage";
const CONFIG_MAP = "kubernetes:core/v1:ConfigMap";
const STATEFUL_SET = "kubernetes:apps/v1:StatefulSet";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";

describe("policy helpers", () => {
    test("an image is pinned by an exact version tag or a digest, never by latest, no tag or a floating tag", () => {
        expect(imagePinProblem("docker.elastic.co/elasticsearch/elasticsearch:9.4.1")).toBeUndefined();
        expect(imagePinProblem("busybox:1.37.0")).toBeUndefined();
        expect(imagePinProblem("registry.local:5000/team/app:v2.1.0-rc.1")).toBeUndefined();
        expect(imagePinProblem(`busybox@sha256:${"a".repeat(64)}`)).toBeUndefined();
        expect(imagePinProblem("busybox")).toBe("it has no tag, so it pulls whatever latest is at the time");
        expect(imagePinProblem("registry.local:5000/team/app")).toBe("it has no tag, so it pulls whatever latest is at the time");
        expect(imagePinProblem("kibana:latest")).toBe("the latest tag moves with every release");
        expect(imagePinProblem("kibana:9")).toBe("tag 9 is not an exact version (major.minor.patch)");
        expect(imagePinProblem("kibana:9.4")).toBe("tag 9.4 is not an exact version (major.minor.patch)");
        expect(imagePinProblem("kibana:stable")).toBe("tag stable is not an exact version (major.minor.patch)");
        expect(imagePinProblem("team/app:1.2.3-latest")).toBe("tag 1.2.3-latest says latest, which moves with every push");
        expect(imagePinProblem("team/app:1.2.3-nightly.4")).toBe("tag 1.2.3-nightly.4 says nightly, which moves with every push");
        expect(imagePinProblem("postgres:16.4.2-alpine")).toBeUndefined();
        expect(imagePinProblem(`busybox:1.37.0@sha256:${"b".repeat(64)}`)).toBeUndefined();
    });

    test("host paths that hand a container the host: root, system and runtime directories, runtime sockets", () => {
        expect(hostPathProblem("/")).toBe("it is the host's root");
        expect(hostPathProblem("//.")).toBe("it is the host's root");
        expect(hostPathProblem("/var/run/docker.sock")).toBe("it is a container runtime socket");
        expect(hostPathProblem("/run/containerd/containerd.sock")).toBe("it is a container runtime socket");
        expect(hostPathProblem("/etc")).toBe("it is the host's /etc");
        expect(hostPathProblem("/var/lib/kubelet/pods")).toBe("it is under the host's /var/lib/kubelet");
        expect(hostPathProblem("/data/../etc")).toBe("/data/../etc climbs out with ..");
        expect(hostPathProblem("/srv/elk-snapshots")).toBeUndefined();
    });

    test("the sysctl image the policy allows is the one the kernel step runs", () => {
        expect(SYSCTL_IMAGE).toBe(KERNEL_SYSCTL_IMAGE);
    });

    test("only a bare sysctl of vm.max_map_count counts as the sysctl step", () => {
        expect(isSysctlStep(["sysctl", "-w", "vm.max_map_count=262144"])).toBe(true);
        expect(isSysctlStep(["/sbin/sysctl", "-w", "vm.max_map_count=1"])).toBe(true);
        expect(isSysctlStep(["sysctl", "-w", "kernel.core_pattern=|/tmp/x"])).toBe(false);
        expect(isSysctlStep(["sh", "-c", "sysctl -w vm.max_map_count=262144"])).toBe(false);
        expect(isSysctlStep(["sysctl", "-w", "vm.max_map_count=262144", "net.ipv4.ip_forward=1"])).toBe(false);
    });

    test("Elastic settings are found written flat or nested", () => {
        expect(yamlSetting({ "xpack.security.http.ssl.enabled": true }, "xpack.security.http.ssl.enabled")).toBe(true);
        expect(yamlSetting({ xpack: { security: { http: { ssl: { enabled: false } } } } }, "xpack.security.http.ssl.enabled")).toBe(false);
        expect(yamlSetting({ "xpack.security": { "http.ssl.enabled": "true" } }, "xpack.security.http.ssl.enabled")).toBe("true");
        expect(yamlSetting({ xpack: {} }, "xpack.security.http.ssl.enabled")).toBeUndefined();
    });

    test("the pack registers every policy, all mandatory", () => {
        expect(policies.map((p) => [p.name, p.enforcementLevel])).toEqual(ELK_POLICIES.map((p) => [p.name, "mandatory"]));
        expect(policies.map((p) => p.name)).toEqual(["elk-tls-everywhere", "elk-pinned-images", "elk-privileged-only-sysctl", "elk-resource-limits", "elk-no-plaintext-secrets", "elk-no-default-namespace"]);
    });
});

describe("the Logstash pipeline reader", () => {
    const files = (dir: string): string[] =>
        fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? files(path.join(dir, d.name)) : d.name.endsWith(".conf") ? [path.join(dir, d.name)] : []));

    test("reads every pipeline file of the repository, conditionals and all, and finds its plugins", () => {
        const all = files(path.join(__dirname, "..", "pipelines"));
        expect(all.length).toBeGreaterThanOrEqual(3);
        for (const file of all) {
            const text = fs.readFileSync(file, "utf8");
            expect({ file, looks: looksLikePipeline(text) }).toEqual({ file, looks: true });
            expect(parsePipeline(text).length).toBeGreaterThan(0);
        }
        const route = parsePipeline(fs.readFileSync(path.join(__dirname, "..", "pipelines", "shared", "90-route.conf"), "utf8"));
        const output = route.filter((p) => p.section === "output");
        // One output for events with their sender's id, one for the rest: both inside if/else, both over TLS.
        expect(output.map((p) => p.name)).toEqual(["elasticsearch", "elasticsearch"]);
        for (const o of output) expect(settingValues(o, "ssl_enabled")).toEqual([{ kind: "bareword", text: "true" }]);
    });

    test("reads past regular expressions, escaped quotes, nested branches and codecs, and sees the plugins inside them", () => {
        const text = [
            "# a comment with output { and a quote \"",
            'input { tcp { port => 5141 codec => line { charset => "UTF-8" } ssl_enabled => false } }',
            'filter { if [message] =~ /a{2}\\/}"/ { mutate { add_field => { "x" => "say \\"hi\\" }" } } } else if "t" in [tags] { drop {} } else { if [a] { mutate { id => \'in\' } } } }',
            'output { if [b] == "c" { elasticsearch { hosts => ["http://es:9200", "https://es2:9200"] } } }',
        ].join("\n");
        const plugins = parsePipeline(text);
        expect(plugins.map((p) => `${p.section}/${p.name}`)).toEqual(["input/tcp", "filter/mutate", "filter/drop", "filter/mutate", "output/elasticsearch"]);
        expect(settingValues(plugins[0], "codec")[0]).toMatchObject({ kind: "plugin", plugin: { name: "line" } });
        expect(pipelineProblems("t.conf", text)).toEqual([
            't.conf: tcp input #1 must have ssl_enabled => true: TLS on every TCP input',
            't.conf: elasticsearch output #5 must have ssl_enabled => true (or only https:// hosts): TLS to Elasticsearch',
            't.conf: elasticsearch output #5 sends to http://es:9200 over plain http',
        ]);
    });

    test("a text it cannot read is an error, and the policy reports it rather than skip it", () => {
        expect(() => parsePipeline('output { elasticsearch { hosts => "https://x }')).toThrow(LsParseError);
        expect(() => parsePipeline("output { elasticsearch { hosts => } }")).toThrow(/expected a value/);
        expect(pipelineProblems("p.conf", 'output { elasticsearch { ssl_enabled => false hosts => "http://x" }')[0]).toMatch(
            /^p\.conf looks like a Logstash pipeline but cannot be read, so its TLS settings cannot be checked: expected "}" at the end of the text$/,
        );
    });
});

describe("the policy pack on the program", () => {
    let dev: ProgramRun;
    let prod: ProgramRun;
    let eck: ProgramRun;
    let pack: RunningPolicyPack;

    beforeAll(async () => {
        // The pack starts (ts-node compiles it) while the program runs; the mock runtime runs one program at a time.
        const started = startPolicyPack();
        dev = await runProgram(stackFileConfig("dev"));
        // The manifests engine: these checks read StatefulSets and ConfigMaps.
        prod = await runProgram({ ...onManifestsEngine(stackFileConfig("prod")), elasticsearchNodeCount: "3" }, { stack: "prod" });
        // The prod stack file as it is: Elastic's operator's custom resources and its Helm release.
        eck = await runProgram(stackFileConfig("prod"), { stack: "prod" });
        pack = await started;
    }, 360_000);
    afterAll(() => pack?.close());

    /** Violations of `r` from the pure checks, the in-process pack and the pack process; the last two must agree. */
    async function allWays(r: RecordedResource): Promise<{ pure: string[]; pack: string[] }> {
        const inProcess = await validateWithPack(r);
        const overGrpc = (await pack.analyze(r)).map((d) => {
            // Every violation is mandatory: it fails the preview.
            expect(d.enforcementLevel).toBe(1);
            return `${d.policy}: ${d.message}`;
        });
        expect(overGrpc.sort()).toEqual([...inProcess].sort());
        return { pure: pure(r), pack: inProcess };
    }

    test.each(["dev", "prod", "eck"])("every resource of the %s stack passes every policy", async (stack) => {
        const run = stack === "dev" ? dev : stack === "prod" ? prod : eck;
        expect(run.resources.length).toBeGreaterThan(20);
        const found: string[] = [];
        for (const r of run.resources) {
            const v = await allWays(r);
            found.push(...v.pure, ...v.pack);
        }
        expect(found).toEqual([]);
    });

    test("the checks see what they check: the program's files, images and containers are there", () => {
        const es = find(dev, CONTAINER, "-es01");
        expect(list(es.inputs.uploads).some((u) => String(u.file).endsWith("/elasticsearch.yml"))).toBe(true);
        const esConfig = find(prod, CONFIG_MAP, "-es01-files");
        expect(Object.keys(obj(esConfig.inputs.data))).toContain("elasticsearch.yml");
        // The Logstash pipelines are checked too: they are there, and their Elasticsearch output verifies.
        const pipelines = Object.entries(obj(find(prod, CONFIG_MAP, "-logstash-files").inputs.data)).filter(([k]) => k.endsWith(".conf"));
        expect(pipelines.length).toBeGreaterThan(0);
        expect(pipelines.some(([, text]) => /ssl_verification_mode\s*=>\s*"full"/.test(String(text)))).toBe(true);
        const init = list(podSpec(find(prod, STATEFUL_SET, "-es01-statefulset").inputs).initContainers);
        expect(init.map((c) => [c.name, obj(c.securityContext).privileged])).toEqual([["sysctl", true]]);
    });

    test("an image on latest, or with no tag, is rejected", async () => {
        const image = copyOf(find(dev, IMAGE, "-image-kibana-9.4.1"), (i) => (i.name = "docker.elastic.co/kibana/kibana:latest"));
        const expected = "elk-pinned-images: image docker.elastic.co/kibana/kibana:latest (elk-dev-image-kibana-9.4.1) is not pinned: the latest tag moves with every release";
        expect(await allWays(image)).toEqual({ pure: [expected], pack: [expected] });

        const container = copyOf(find(dev, CONTAINER, "-sysctl"), (i) => (i.image = "busybox"));
        expect((await allWays(container)).pack).toEqual([
            "elk-pinned-images: image busybox (elk-dev-sysctl) is not pinned: it has no tag, so it pulls whatever latest is at the time",
            // The privileged step, given an image by name, must also name the stack's sysctl image.
            'elk-privileged-only-sysctl: container elk-dev-sysctl is privileged with image "busybox": the sysctl step must run the stack\'s busybox:1.37.0',
        ]);

        const kibana = copyOf(find(prod, DEPLOYMENT, "-kibana-deployment"), (i) => (list(podSpec(i).containers)[0].image = "docker.elastic.co/kibana/kibana:latest"));
        expect((await allWays(kibana)).pack).toEqual([
            "elk-pinned-images: image docker.elastic.co/kibana/kibana:latest (elk-prod-kibana-deployment container kibana) is not pinned: the latest tag moves with every release",
        ]);
    });

    test("a privileged Kibana is rejected, on Docker and on Kubernetes, and so is a sysctl step that does more", async () => {
        const docker = copyOf(find(dev, CONTAINER, "-kibana"), (i) => (i.privileged = true));
        const dockerMessage = "elk-privileged-only-sysctl: container elk-dev-kibana is privileged: only a step that runs nothing but 'sysctl -w vm.max_map_count=<n>' may be";
        expect(await allWays(docker)).toEqual({ pure: [dockerMessage], pack: [dockerMessage] });

        const k8s = copyOf(find(prod, DEPLOYMENT, "-kibana-deployment"), (i) => (obj(list(podSpec(i).containers)[0].securityContext).privileged = true));
        expect((await allWays(k8s)).pack).toEqual([
            "elk-privileged-only-sysctl: elk-prod-kibana-deployment container kibana is privileged: only a step that runs nothing but 'sysctl -w vm.max_map_count=<n>' may be (as an init container)",
        ]);

        const sneaky = copyOf(find(prod, STATEFUL_SET, "-es01-statefulset"), (i) => {
            list(podSpec(i).initContainers)[0].command = ["sh", "-c", "sysctl -w vm.max_map_count=262144 && sleep infinity"];
        });
        expect((await allWays(sneaky)).pack).toEqual([
            "elk-privileged-only-sysctl: elk-prod-es01-statefulset init container sysctl is privileged: only a step that runs nothing but 'sysctl -w vm.max_map_count=<n>' may be (as an init container)",
            "elk-privileged-only-sysctl: elk-prod-es01-statefulset init container sysctl allows privilege escalation",
        ]);
    });

    test("a missing memory limit is rejected; on Kubernetes a missing CPU limit too", async () => {
        const docker = copyOf(find(dev, CONTAINER, "-es01"), (i) => delete i.memory);
        const dockerMessage = "elk-resource-limits: container elk-dev-es01 has no memory limit (memory, MiB)";
        expect(await allWays(docker)).toEqual({ pure: [dockerMessage], pack: [dockerMessage] });

        const k8s = copyOf(find(prod, STATEFUL_SET, "-es01-statefulset"), (i) => {
            const limits = obj(obj(list(podSpec(i).containers)[0].resources).limits);
            delete limits.memory;
            delete limits.cpu;
        });
        expect((await allWays(k8s)).pack).toEqual([
            "elk-resource-limits: elk-prod-es01-statefulset container elasticsearch has no memory limit (resources.limits.memory)",
            "elk-resource-limits: elk-prod-es01-statefulset container elasticsearch has no cpu limit (resources.limits.cpu)",
        ]);
    });

    test("TLS turned off in elasticsearch.yml is rejected, in a Docker upload and in a ConfigMap", async () => {
        const docker = copyOf(find(dev, CONTAINER, "-es01"), (i) =>
            editUpload(i, "/elasticsearch.yml", (c) => c.replace("xpack.security.http.ssl.enabled: true", "xpack.security.http.ssl.enabled: false")),
        );
        const dockerMessage =
            "elk-tls-everywhere: /usr/share/elasticsearch/config/elasticsearch.yml: xpack.security.http.ssl.enabled must be true (TLS on the http layer), found false";
        expect(await allWays(docker)).toEqual({ pure: [dockerMessage], pack: [dockerMessage] });

        const k8s = copyOf(find(prod, CONFIG_MAP, "-es01-files"), (i) => {
            const data = obj(i.data);
            data["elasticsearch.yml"] = String(data["elasticsearch.yml"]).replace("xpack.security.transport.ssl.enabled: true", "xpack.security:\n  transport.ssl.enabled: false");
        });
        expect((await allWays(k8s)).pack).toEqual([
            "elk-tls-everywhere: elasticsearch.yml: xpack.security.transport.ssl.enabled must be true (TLS on the transport layer), found false",
        ]);
    });

    test("clients that skip verification are rejected: Kibana, a Logstash pipeline, a health check", async () => {
        const kibana = copyOf(find(prod, CONFIG_MAP, "-kibana-files"), (i) => {
            const data = obj(i.data);
            data["kibana.yml"] = String(data["kibana.yml"]).replace("elasticsearch.ssl.verificationMode: full", "elasticsearch.ssl.verificationMode: none");
        });
        expect((await allWays(kibana)).pack).toEqual([
            'elk-tls-everywhere: kibana.yml: elasticsearch.ssl.verificationMode must be full, found "none"',
            "elk-tls-everywhere: kibana.yml disables certificate verification (verification mode none)",
        ]);

        const pipeline = 'output { elasticsearch { hosts => ["${ELK_ES_URL}"] ssl_enabled => true ssl_verification_mode => "none" } }\n';
        const logstash = copyOf(find(dev, CONTAINER, "-logstash"), (i) =>
            list(i.uploads).push({ file: "/usr/share/logstash/pipeline/out.conf", content: pipeline, permissions: "0644" }),
        );
        expect((await allWays(logstash)).pack).toEqual([
            'elk-tls-everywhere: /usr/share/logstash/pipeline/out.conf: elasticsearch output #1 must verify Elasticsearch\'s certificate: ssl_verification_mode => "full", found "none"',
            'elk-tls-everywhere: /usr/share/logstash/pipeline/out.conf disables certificate verification (Logstash ssl_verification_mode => "none")',
        ]);

        const probe = copyOf(find(dev, CONTAINER, "-kibana"), (i) => {
            const tests = obj(i.healthcheck).tests as string[];
            tests[1] = tests[1].replace(/--cacert \S+/, "-sk");
        });
        expect((await allWays(probe)).pack).toEqual(["elk-tls-everywhere: elk-dev-kibana health check disables certificate verification (curl -k/--insecure)"]);
    });

    test("Logstash without TLS is rejected: a plain Elasticsearch output in a Docker upload, a TCP input without TLS in a ConfigMap, a pipeline inline in pipelines.yml", async () => {
        const plain = 'output {\n  elasticsearch {\n    id => "plain"\n    hosts => ["http://es01:9200"]\n    ssl_enabled => false\n  }\n}\n';
        const docker = copyOf(find(dev, CONTAINER, "-logstash"), (i) =>
            list(i.uploads).push({ file: "/usr/share/logstash/pipeline/django/95-copy.conf", content: plain, permissions: "0644" }),
        );
        const dockerMessages = [
            'elk-tls-everywhere: /usr/share/logstash/pipeline/django/95-copy.conf: elasticsearch output "plain" must have ssl_enabled => true (or only https:// hosts): TLS to Elasticsearch',
            'elk-tls-everywhere: /usr/share/logstash/pipeline/django/95-copy.conf: elasticsearch output "plain" sends to http://es01:9200 over plain http',
        ];
        expect(await allWays(docker)).toEqual({ pure: dockerMessages, pack: dockerMessages });

        // The generated Django input, with TLS switched off: found by its content, whatever its key.
        const k8s = copyOf(find(prod, CONFIG_MAP, "-logstash-files"), (i) => {
            const data = obj(i.data);
            const key = Object.keys(data).find((k) => /\btcp\s*\{/.test(String(data[k]))) as string;
            expect(String(data[key])).toContain("ssl_enabled => true");
            data[key] = String(data[key]).replace("ssl_enabled => true", "ssl_enabled => false");
        });
        expect((await allWays(k8s)).pack).toEqual([
            expect.stringMatching(/^elk-tls-everywhere: \S+\.conf: tcp input "django_app_tcp" must have ssl_enabled => true: TLS on every TCP input$/),
        ]);

        const inline = copyOf(find(prod, CONFIG_MAP, "-logstash-files"), (i) => {
            const data = obj(i.data);
            data["pipelines.yml"] = `${String(data["pipelines.yml"])}- pipeline.id: sneaky\n  config.string: 'input { tcp { port => 7000 } } output { elasticsearch { hosts => ["\${ELK_ES_URL}"] } }'\n`;
        });
        expect((await allWays(inline)).pack).toEqual([
            "elk-tls-everywhere: pipelines.yml pipeline sneaky config.string: tcp input #1 must have ssl_enabled => true: TLS on every TCP input",
            "elk-tls-everywhere: pipelines.yml pipeline sneaky config.string: elasticsearch output #2 must have ssl_enabled => true (or only https:// hosts): TLS to Elasticsearch",
        ]);

        // A pipeline the reader cannot read fails closed.
        const broken = copyOf(find(dev, CONTAINER, "-logstash"), (i) =>
            list(i.uploads).push({ file: "/usr/share/logstash/pipeline/nginx/99-x.conf", content: 'output { elasticsearch { hosts => "http://es01:9200 } }', permissions: "0644" }),
        );
        expect((await allWays(broken)).pack).toEqual([
            expect.stringMatching(/^elk-tls-everywhere: \/usr\/share\/logstash\/pipeline\/nginx\/99-x\.conf looks like a Logstash pipeline but cannot be read/),
        ]);
    });

    test("curl's insecure option is caught however it is built: an argument array, -k after a line continuation, a curl config file", async () => {
        const script = (body: string) => `#!/usr/bin/env bash\n# Never turn verification off; the word insecure in a comment is fine.\nset -euo pipefail\n${body}\n`;
        const cases: [string, string][] = [
            ["array.sh", script('args=(-s --cacert ca.crt)\nargs+=(--insecure)\ncurl "${args[@]}" https://es01:9200/')],
            ["array-k.sh", script('opts=("-s" "-k")\ncurl "${opts[@]}" https://es01:9200/')],
            ["continued.sh", script("curl -s --cacert ca.crt \\\n  -k https://es01:9200/")],
            ["config.sh", script('cfg=$(mktemp)\nprintf \'%s\\n\' "user = \\"elastic:$ELASTIC_PASSWORD\\"" > "$cfg"\nprintf \'insecure\\n\' >> "$cfg"\ncurl -K "$cfg" https://es01:9200/')],
            ["heredoc.sh", script('curl --config - https://es01:9200/ <<EOF\nsilent\ninsecure\nEOF')],
        ];
        for (const [name, content] of cases) {
            const r = copyOf(find(dev, CONTAINER, "-bootstrap"), (i) => list(i.uploads).push({ file: `/opt/elk-bootstrap/${name}`, content, permissions: "0755" }));
            const found = await allWays(r);
            expect({ name, found: found.pack }).toEqual({
                name,
                found: [`elk-tls-everywhere: /opt/elk-bootstrap/${name} disables certificate verification (${name === "config.sh" || name === "heredoc.sh" ? "the insecure option of curl" : name === "array.sh" ? "the insecure option of curl" : "curl -k/--insecure"})`],
            });
            expect(found.pure).toEqual(found.pack);
        }

        // A curl config kept in a Kubernetes Secret, and -k in a Kubernetes command array.
        const secret = copyOf(find(prod, "kubernetes:core/v1:Secret", "-bootstrap-secrets"), (i) => {
            const data = obj(i.stringData);
            data["curl.cfg"] = 'user = "elastic:x"\n-k\n';
        });
        expect((await allWays(secret)).pack).toEqual([
            "elk-tls-everywhere: Secret elk-prod-bootstrap-secrets key curl.cfg disables certificate verification (the insecure option of curl)",
        ]);
        const probe = copyOf(find(prod, DEPLOYMENT, "-kibana-deployment"), (i) => {
            const c = list(podSpec(i).containers)[0];
            obj(c.livenessProbe).exec = { command: ["curl", "-s", "-k", "https://localhost:5601/api/status"] };
        });
        expect((await allWays(probe)).pack).toEqual(["elk-tls-everywhere: elk-prod-kibana-deployment container kibana livenessProbe disables certificate verification (curl -k/--insecure)"]);
    });

    test("an image on a floating tag is rejected: 9.4, 1.2.3-latest", async () => {
        const image = copyOf(find(dev, IMAGE, "-image-kibana-9.4.1"), (i) => (i.name = "docker.elastic.co/kibana/kibana:9.4"));
        expect((await allWays(image)).pack).toEqual([
            "elk-pinned-images: image docker.elastic.co/kibana/kibana:9.4 (elk-dev-image-kibana-9.4.1) is not pinned: tag 9.4 is not an exact version (major.minor.patch)",
        ]);
        const job = copyOf(find(prod, "kubernetes:batch/v1:Job", "-bootstrap-job"), (i) => (list(podSpec(i).containers)[0].image = "curlimages/curl:8.11.1-latest"));
        expect((await allWays(job)).pack).toEqual([
            expect.stringMatching(/^elk-pinned-images: image curlimages\/curl:8\.11\.1-latest \(elk-prod-bootstrap-job-?\S* container \S+\) is not pinned: tag 8\.11\.1-latest says latest, which moves with every push$/),
        ]);
    });

    test("privilege by any route is rejected on Kubernetes: capabilities, host namespaces, host mounts, a sysctl step from another image", async () => {
        const sts = find(prod, STATEFUL_SET, "-es01-statefulset");
        const caps = copyOf(sts, (i) => (obj(list(podSpec(i).containers)[0].securityContext).capabilities = { drop: ["ALL"], add: ["SYS_ADMIN", "NET_BIND_SERVICE"] }));
        const capsMessage = "elk-privileged-only-sysctl: elk-prod-es01-statefulset container elasticsearch adds capabilities SYS_ADMIN";
        expect(await allWays(caps)).toEqual({ pure: [capsMessage], pack: [capsMessage] });

        const host = copyOf(find(prod, DEPLOYMENT, "-kibana-deployment"), (i) => {
            const pod = podSpec(i);
            pod.hostPID = true;
            pod.hostNetwork = true;
            pod.hostIPC = true;
            list(pod.volumes).push({ name: "root", hostPath: { path: "/" } }, { name: "docker", hostPath: { path: "/var/run/docker.sock", type: "Socket" } });
        });
        expect((await allWays(host)).pack).toEqual([
            "elk-privileged-only-sysctl: elk-prod-kibana-deployment shares the node's namespace (hostPID: true)",
            "elk-privileged-only-sysctl: elk-prod-kibana-deployment shares the node's namespace (hostNetwork: true)",
            "elk-privileged-only-sysctl: elk-prod-kibana-deployment shares the node's namespace (hostIPC: true)",
            "elk-privileged-only-sysctl: elk-prod-kibana-deployment mounts the node's path / (it is the host's root)",
            "elk-privileged-only-sysctl: elk-prod-kibana-deployment mounts the node's path /var/run/docker.sock (it is a container runtime socket)",
        ]);

        const otherImage = copyOf(sts, (i) => (list(podSpec(i).initContainers)[0].image = "alpine:3.20.3"));
        expect((await allWays(otherImage)).pack).toEqual([
            'elk-privileged-only-sysctl: elk-prod-es01-statefulset init container sysctl is privileged with image "alpine:3.20.3": the sysctl step must run the stack\'s busybox:1.37.0',
        ]);
        // Control: the program's own sysctl init container, as it is, passes.
        expect((await allWays(sts)).pack).toEqual([]);
    });

    test("privilege by any route is rejected on Docker: capabilities, host network and pid, bind mounts of / and docker.sock, devices", async () => {
        const kibana = copyOf(find(dev, CONTAINER, "-kibana"), (i) => {
            i.capabilities = { adds: ["SYS_PTRACE"], drops: ["ALL"] };
            i.networkMode = "host";
            i.pidMode = "host";
            i.volumes = [{ hostPath: "/", containerPath: "/host" }];
            i.mounts = [{ type: "bind", source: "/var/run/docker.sock", target: "/var/run/docker.sock" }];
            i.devices = [{ hostPath: "/dev/mem" }];
        });
        // The sysctl step from an image named other than the stack's, and as the program makes it (an image id): control.
        const sysctl = find(dev, CONTAINER, "-sysctl");
        const otherImage = copyOf(sysctl, (i) => (i.image = "alpine:3.20.3"));
        expect((await allWays(otherImage)).pack).toEqual([
            'elk-privileged-only-sysctl: container elk-dev-sysctl is privileged with image "alpine:3.20.3": the sysctl step must run the stack\'s busybox:1.37.0',
        ]);
        expect(await allWays(copyOf(sysctl, (i) => (i.image = "busybox:1.37.0")))).toEqual({ pure: [], pack: [] });
        expect(await allWays(sysctl)).toEqual({ pure: [], pack: [] });

        const expected = [
            "container elk-dev-kibana adds capabilities SYS_PTRACE",
            "container elk-dev-kibana shares the host's namespace (networkMode: host)",
            "container elk-dev-kibana shares the host's namespace (pidMode: host)",
            "container elk-dev-kibana mounts the host path / (it is the host's root)",
            "container elk-dev-kibana bind-mounts the host path /var/run/docker.sock (it is a container runtime socket)",
            "container elk-dev-kibana gets host devices (devices)",
        ].map((m) => `elk-privileged-only-sysctl: ${m}`);
        expect(await allWays(kibana)).toEqual({ pure: expected, pack: expected });
    });

    test("ConfigMap contents are scanned whatever their key: a pipeline in data, a script in binaryData", async () => {
        const cm = copyOf(find(prod, CONFIG_MAP, "-kibana-setup-files"), (i) => {
            obj(i.data)["extra"] = 'output { tcp { host => "collector" port => 9000 } }\n';
            i.binaryData = { "fetch.bin": Buffer.from("#!/bin/sh\ncurl --insecure https://kibana:5601/\n").toString("base64") };
        });
        expect((await allWays(cm)).pack).toEqual([
            "elk-tls-everywhere: extra: tcp output #1 must have ssl_enabled => true: TLS on every TCP output",
            "elk-tls-everywhere: fetch.bin disables certificate verification (curl -k/--insecure, the insecure option of curl)",
        ]);
    });

    test("a private key or a secret-looking entry in a ConfigMap is rejected", async () => {
        const key = dev.generatedSecrets.find((s) => s.includes("PRIVATE KEY")) as string;
        const cm = copyOf(find(prod, CONFIG_MAP, "-es01-files"), (i) => {
            obj(i.data)["tls.pem"] = key;
            obj(i.data)["elastic-password"] = "s3cret-s3cret-s3cret";
        });
        const expected = [
            "elk-no-plaintext-secrets: ConfigMap elk-prod-es01-files key tls.pem holds a private key: keys belong in a Secret",
            "elk-no-plaintext-secrets: ConfigMap elk-prod-es01-files key elastic-password looks like a secret: put it in a Secret",
        ];
        expect(await allWays(cm)).toEqual({ pure: expected, pack: expected });
    });

    test("a literal password in a config file is rejected; a ${VARIABLE} reference is what passes", async () => {
        const withPassword = (value: string) =>
            copyOf(find(prod, CONFIG_MAP, "-kibana-files"), (i) => {
                const data = obj(i.data);
                // The program's kibana.yml names no password at all (the keystore holds it); add one.
                expect(String(data["kibana.yml"])).not.toContain("elasticsearch.password");
                data["kibana.yml"] = `${String(data["kibana.yml"])}elasticsearch.password: ${value}\n`;
            });
        expect((await allWays(withPassword("hunter2hunter2hunter2"))).pack).toEqual([
            "elk-no-plaintext-secrets: kibana.yml: elasticsearch.password is a literal value: reference an environment variable (${NAME}) filled from a secret",
        ]);
        expect((await allWays(withPassword("${ELK_KIBANA_SYSTEM_PASSWORD}"))).pack).toEqual([]);
    });

    test("a password variable is rejected on both targets, plain, from a Secret or as a Pulumi secret: it would sit in the process environment", async () => {
        const k8sWith = (entry: Obj) => copyOf(find(prod, STATEFUL_SET, "-es01-statefulset"), (i) => list(list(podSpec(i).containers)[0].env).push(entry));
        const k8sMessage = "elk-no-plaintext-secrets: elk-prod-es01-statefulset container elasticsearch: env ELASTIC_PASSWORD puts a secret in the process environment: mount it from a Secret as a file";
        expect(await allWays(k8sWith({ name: "ELASTIC_PASSWORD", value: "changeme-changeme" }))).toEqual({ pure: [k8sMessage], pack: [k8sMessage] });
        expect(await allWays(k8sWith({ name: "ELASTIC_PASSWORD", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }))).toEqual({ pure: [k8sMessage], pack: [k8sMessage] });
        // A variable naming a file passes: that is how the stack hands over secrets.
        expect(await allWays(k8sWith({ name: "ELASTIC_PASSWORD_FILE", value: "/run/secrets/elastic" }))).toEqual({ pure: [], pack: [] });

        const original = find(dev, CONTAINER, "-kibana");
        const dockerMessage = "elk-no-plaintext-secrets: container elk-dev-kibana: env ELK_KIBANA_SYSTEM_PASSWORD puts a secret in the container's environment: upload it as a 0600 file";
        const plain = copyOf(original, (i) => (i.envs = [...(unwrapSecrets(i.envs) as string[]), "ELK_KIBANA_SYSTEM_PASSWORD=changeme-changeme"]));
        expect(await allWays(plain)).toEqual({ pure: [dockerMessage], pack: [dockerMessage] });
        // Wrapping the list in a Pulumi secret changes nothing: `docker inspect` shows it all the same.
        const wrapped = copyOf(original, (i) => (i.envs = secretValue([...(unwrapSecrets(i.envs) as string[]), "ELK_KIBANA_SYSTEM_PASSWORD=changeme-changeme"])));
        const { pure: found, pack: underPolicyEngine } = await allWays(wrapped);
        expect(found).toEqual([dockerMessage]);
        expect(underPolicyEngine).toEqual([dockerMessage]);

        const keyUpload = copyOf(find(dev, CONTAINER, "-es01"), (i) => (i.uploads = unwrapSecrets(i.uploads)));
        expect(pure(keyUpload)).toEqual(
            ["es01.key", "transport.key"].map(
                (key) => `elk-no-plaintext-secrets: container elk-dev-es01 uploads a private key to /usr/share/elasticsearch/config/certs/${key} that is not a Pulumi secret`,
            ),
        );
    });

    test("values unknown during a preview are skipped, not reported, and the known ones are still checked", async () => {
        const cm = copyOf(find(prod, CONFIG_MAP, "-es01-files"), (i) => {
            const data = obj(i.data);
            data["ca.crt"] = unknownValue;
            data["elasticsearch.yml"] = String(data["elasticsearch.yml"]).replace("xpack.security.http.ssl.enabled: true", "xpack.security.http.ssl.enabled: false");
        });
        expect((await allWays(cm)).pack).toEqual([
            "elk-tls-everywhere: elasticsearch.yml: xpack.security.http.ssl.enabled must be true (TLS on the http layer), found false",
        ]);
        const container = copyOf(find(dev, CONTAINER, "-es01"), (i) => {
            i.image = unknownValue;
            i.memory = unknownValue;
        });
        expect(await allWays(container)).toEqual({ pure: [], pack: [] });
        // The pure checks treat the adapter's marker the same way.
        expect(violations({ type: CONTAINER, name: "x", props: { image: UNKNOWN, memory: UNKNOWN, privileged: UNKNOWN }, secretsMarked: false })).toEqual([]);
    });

    test("TLS turned off on ECK's Elasticsearch or Kibana is rejected; a certificate of the stack's keeps it on", async () => {
        const es = find(eck, "kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch", "-es01-elasticsearch");
        const kb = find(eck, "kubernetes:kibana.k8s.elastic.co/v1:Kibana", "-kibana-kibana");
        const off = (r: RecordedResource) =>
            copyOf(r, (i) => {
                obj(obj(i.spec).http).tls = { selfSignedCertificate: { disabled: true } };
            });
        expect((await allWays(off(es))).pack).toEqual(["elk-tls-everywhere: Elasticsearch elk-prod-es01-elasticsearch serves HTTP without TLS: spec.http.tls.selfSignedCertificate.disabled is true and no spec.http.tls.certificate is given"]);
        expect((await allWays(off(kb))).pack).toEqual(["elk-tls-everywhere: Kibana elk-prod-kibana-kibana serves HTTP without TLS: spec.http.tls.selfSignedCertificate.disabled is true and no spec.http.tls.certificate is given"]);
        // Disabled self-signed certificates beside the stack's own certificate: the operator serves that one.
        const ours = copyOf(es, (i) => {
            const tls = obj(obj(obj(i.spec).http).tls);
            tls.selfSignedCertificate = { disabled: "true" };
        });
        expect(await allWays(ours)).toEqual({ pure: [], pack: [] });
        // Unknown during a preview: not judged.
        const unknown = copyOf(es, (i) => {
            obj(obj(i.spec).http).tls = { selfSignedCertificate: { disabled: unknownValue } };
        });
        expect(await allWays(unknown)).toEqual({ pure: [], pack: [] });
    });

    test("TLS turned off in ECK's config objects is rejected: a node set's config, Kibana's config, an inline pipeline of Logstash's pipelines", async () => {
        const es = find(eck, "kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch", "-es01-elasticsearch");
        const kb = find(eck, "kubernetes:kibana.k8s.elastic.co/v1:Kibana", "-kibana-kibana");
        const ls = find(eck, "kubernetes:logstash.k8s.elastic.co/v1alpha1:Logstash", "-logstash-logstash");
        const setName = String(list(obj(es.inputs.spec).nodeSets)[0].name);
        const esConfig = (edit: (config: Obj) => void) => copyOf(es, (i) => edit(obj(list(obj(i.spec).nodeSets)[0].config)));
        const where = `Elasticsearch elk-prod-es01-elasticsearch spec.nodeSets[${setName}].config`;
        // ECK merges a node set's config over its own settings, last (merged_config.go NewMergedESConfig): these win.
        expect((await allWays(esConfig((c) => (c["xpack.security.http.ssl.enabled"] = false)))).pack).toEqual([
            `elk-tls-everywhere: ${where}: xpack.security.http.ssl.enabled must be true (TLS on the http layer), found false`,
        ]);
        expect((await allWays(esConfig((c) => (c.xpack = { security: { enabled: "false", transport: { ssl: { enabled: false } } } })))).pack).toEqual([
            `elk-tls-everywhere: ${where}: xpack.security.enabled is false: security (and with it TLS) must stay on`,
            `elk-tls-everywhere: ${where}: xpack.security.transport.ssl.enabled must be true (TLS on the transport layer), found false`,
        ]);
        expect((await allWays(esConfig((c) => (c["xpack.security.transport.ssl.verification_mode"] = "none")))).pack).toEqual([
            `elk-tls-everywhere: ${where} disables certificate verification (verification mode none)`,
        ]);
        // Kibana's config is merged over what ECK writes for its elasticsearchRef and spec.http.tls (config_settings.go).
        const kbConfig = (edit: (config: Obj) => void) => copyOf(kb, (i) => edit(obj(obj(i.spec).config)));
        const kbWhere = "Kibana elk-prod-kibana-kibana spec.config";
        expect((await allWays(kbConfig((c) => (c["elasticsearch.ssl.verificationMode"] = "none")))).pack).toEqual([
            `elk-tls-everywhere: ${kbWhere}: elasticsearch.ssl.verificationMode must be full, found "none"`,
            `elk-tls-everywhere: ${kbWhere} disables certificate verification (verification mode none)`,
        ]);
        expect((await allWays(kbConfig((c) => (c.server = { ssl: { enabled: false } })))).pack).toEqual([
            `elk-tls-everywhere: ${kbWhere}: server.ssl.enabled must be true (Kibana serves HTTPS), found false`,
        ]);
        expect((await allWays(kbConfig((c) => delete c["elasticsearch.ssl.verificationMode"]))).pack).toEqual([
            `elk-tls-everywhere: ${kbWhere}: elasticsearch.ssl.verificationMode must be full, found unset`,
        ]);
        expect((await allWays(kbConfig((c) => (c["elasticsearch.hosts"] = ["http://elk-prod-es01-es-http:9200"])))).pack).toEqual([
            `elk-tls-everywhere: ${kbWhere}: elasticsearch.hosts entry http://elk-prod-es01-es-http:9200 is not https://`,
        ]);
        // Logstash's spec.pipelines is pipelines.yml: a pipeline inline in it is checked as one.
        const inline = copyOf(ls, (i) => {
            list(obj(i.spec).pipelines).push({ "pipeline.id": "plain", "config.string": 'input { tcp { port => 5999 } } output { elasticsearch { hosts => ["http://es:9200"] } }' });
        });
        expect((await allWays(inline)).pack).toEqual([
            'elk-tls-everywhere: Logstash elk-prod-logstash-logstash spec.pipelines pipeline plain config.string: tcp input #1 must have ssl_enabled => true: TLS on every TCP input',
            'elk-tls-everywhere: Logstash elk-prod-logstash-logstash spec.pipelines pipeline plain config.string: elasticsearch output #2 must have ssl_enabled => true (or only https:// hosts): TLS to Elasticsearch',
            'elk-tls-everywhere: Logstash elk-prod-logstash-logstash spec.pipelines pipeline plain config.string: elasticsearch output #2 sends to http://es:9200 over plain http',
        ]);
        // Unknown during a preview: not judged; the known settings beside it still are.
        expect(await allWays(esConfig((c) => (c["xpack.security.http.ssl.enabled"] = unknownValue)))).toEqual({ pure: [], pack: [] });
        expect((await allWays(kbConfig((c) => {
            c["server.ssl.enabled"] = unknownValue;
            c["elasticsearch.ssl.verificationMode"] = "certificate";
        }))).pack).toEqual([`elk-tls-everywhere: ${kbWhere}: elasticsearch.ssl.verificationMode must be full, found "certificate"`]);
        expect(await allWays(copyOf(es, (i) => (list(obj(i.spec).nodeSets)[0].config = unknownValue)))).toEqual({ pure: [], pack: [] });
    });

    test("a literal secret in ECK's config objects is rejected: a node set's config, Kibana's and Logstash's config, an inline pipeline", async () => {
        const es = find(eck, "kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch", "-es01-elasticsearch");
        const kb = find(eck, "kubernetes:kibana.k8s.elastic.co/v1:Kibana", "-kibana-kibana");
        const ls = find(eck, "kubernetes:logstash.k8s.elastic.co/v1alpha1:Logstash", "-logstash-logstash");
        const setName = String(list(obj(es.inputs.spec).nodeSets)[0].name);
        const message = (where: string, setting: string) => `elk-no-plaintext-secrets: ${where}: ${setting} is a literal value: give it in a Secret named in spec.secureSettings (the operator writes it into the keystore)`;
        // The operator copies these into the product's configuration Secret, but the resource shows them to whoever may read it.
        const esWith = (edit: (config: Obj) => void) => copyOf(es, (i) => edit(obj(list(obj(i.spec).nodeSets)[0].config)));
        expect((await allWays(esWith((c) => (c.xpack = { notification: { email: { account: { ops: { smtp: { password: "hunter2hunter2" } } } } } })))).pack).toEqual([
            message(`Elasticsearch elk-prod-es01-elasticsearch spec.nodeSets[${setName}].config`, "xpack.notification.email.account.ops.smtp.password"),
        ]);
        const kbWith = (edit: (config: Obj) => void) => copyOf(kb, (i) => edit(obj(obj(i.spec).config)));
        expect((await allWays(kbWith((c) => (c["xpack.security.encryptionKey"] = "a-literal-key-of-32-characters-xx"))))).toEqual({
            pure: [message("Kibana elk-prod-kibana-kibana spec.config", "xpack.security.encryptionKey")],
            pack: [message("Kibana elk-prod-kibana-kibana spec.config", "xpack.security.encryptionKey")],
        });
        // A reference is no literal, and passes as in a file (a variable named like a secret would be refused where
        // the pod template defines it).
        expect(await allWays(kbWith((c) => (c["xpack.security.encryptionKey"] = "${KIBANA_ENCRYPTION_KEY}")))).toEqual({ pure: [], pack: [] });
        const lsWith = (edit: (spec: Obj) => void) => copyOf(ls, (i) => edit(obj(i.spec)));
        expect((await allWays(lsWith((spec) => (obj(spec.config)["api.auth.basic.password"] = "hunter2hunter2"))))).toEqual({
            pure: [message("Logstash elk-prod-logstash-logstash spec.config", "api.auth.basic.password")],
            pack: [message("Logstash elk-prod-logstash-logstash spec.config", "api.auth.basic.password")],
        });
        // A password of digits is a number in YAML, and as much a literal.
        expect((await allWays(lsWith((spec) => (obj(spec.config).api = { auth: { basic: { password: 31415926535897 } } })))).pack).toEqual([
            message("Logstash elk-prod-logstash-logstash spec.config", "api.auth.basic.password"),
        ]);
        const inline = (password: string) =>
            lsWith((spec) =>
                list(spec.pipelines).push({
                    "pipeline.id": "extra",
                    "config.string": `input { tcp { port => 5999 ssl_enabled => true ssl_certificate => "/c" ssl_key => "/k" } } output { elasticsearch { hosts => ["https://es:9200"] ssl_enabled => true user => "w" password => "${password}" } }`,
                }),
            );
        expect((await allWays(inline("hunter2hunter2"))).pack).toEqual([message("Logstash elk-prod-logstash-logstash spec.pipelines pipeline extra config.string", "password")]);
        expect((await allWays(inline("${ELK_LOGSTASH_PASSWORD}"))).pack).toEqual([]);
        // Unknown during a preview: not judged.
        expect(await allWays(kbWith((c) => (c["xpack.security.encryptionKey"] = unknownValue)))).toEqual({ pure: [], pack: [] });
    });

    test("workloads in the default namespace, or in none, are rejected: operator resources, pod templates, the operator's release", async () => {
        const inDefault = (r: RecordedResource) =>
            copyOf(r, (i) => {
                obj(i.metadata).namespace = "default";
            });
        const es = find(eck, "kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch", "-es01-elasticsearch");
        expect((await allWays(inDefault(es))).pack).toEqual(["elk-no-default-namespace: Elasticsearch elk-prod-es01-elasticsearch runs in namespace default"]);
        expect((await allWays(inDefault(find(prod, STATEFUL_SET, "-es01-statefulset")))).pack).toEqual(["elk-no-default-namespace: StatefulSet elk-prod-es01-statefulset runs in namespace default"]);
        const job = copyOf(find(eck, "kubernetes:batch/v1:Job", "-bootstrap-job"), (i) => {
            delete obj(i.metadata).namespace;
        });
        expect((await allWays(job)).pack).toEqual(["elk-no-default-namespace: Job elk-prod-bootstrap-job names no namespace, so it runs in the provider's default namespace (often default)"]);
        const release = copyOf(find(eck, "kubernetes:helm.sh/v3:Release", "-eck-operator"), (i) => {
            i.namespace = "default";
        });
        expect((await allWays(release)).pack).toEqual(["elk-no-default-namespace: Release elk-prod-eck-operator runs in namespace default"]);
        // Objects that run nothing may sit anywhere; a ConfigMap in default is not a workload.
        expect((await allWays(inDefault(find(prod, CONFIG_MAP, "-es01-files")))).pack).toEqual([]);
    });
});
