/**
 * The elk-stack policies as pure functions: each takes one resource as a policy sees it (type, name, inputs) and
 * returns its violations as messages. `pack.ts` wraps them for `@pulumi/policy`; the tests call them directly on
 * what the program registers under the mock runtime.
 *
 * Two things differ between those callers, and every check handles both:
 *  - Unknown values. During `pulumi preview` an input computed from another resource's output (a certificate, an
 *    image id) is not known yet; the adapter turns each into {@link UNKNOWN}. A check never reports a value it
 *    cannot see: `pulumi up` runs the policies again with every input resolved, before the resource is created.
 *  - Secret marks. The mock runtime records secrets still wrapped in Pulumi's secret envelope, so a check can tell
 *    a secret from plain text. Under `pulumi preview --policy-pack`, Pulumi hands policies every input decrypted and
 *    unmarked (pulumi/pulumi-policy#241: a policy cannot ask whether a value is secret), so the checks that need the
 *    mark (a Docker container's password environment, a private key upload) only run where it is available
 *    ({@link PolicyResource.secretsMarked}); everything else is decided from the value itself.
 */
import YAML from "yaml";
import { raisedMaxMapCount } from "../components/model/maxMapCount";
import { type LsPlugin, LsParseError, looksLikePipeline, parsePipeline, scalar, scalars, settingValues } from "./logstashConfig";

/** Stands for an input whose value is unknown during a preview. */
export const UNKNOWN: unique symbol = Symbol("elk-stack.policy.unknown");

/** One resource, as the policies read it. */
export interface PolicyResource {
    /** Pulumi type token, e.g. `docker:index/container:Container`. */
    readonly type: string;
    /** Pulumi resource name. */
    readonly name: string;
    /** Inputs; values unknown during a preview are {@link UNKNOWN}; secrets may be wrapped (see `secretsMarked`). */
    readonly props: Readonly<Record<string, unknown>>;
    /** True when secret values are still wrapped in Pulumi's secret envelope, so plain text can be told apart. */
    readonly secretsMarked: boolean;
}

/** One policy: a name for reports, what it enforces, and the check. */
export interface ElkPolicy {
    readonly name: string;
    readonly description: string;
    /** What to do about a violation. */
    readonly remediation: string;
    /** The violations of `resource`, one message each; empty when it complies. */
    check(resource: PolicyResource): string[];
}

// Pulumi's wire format for a secret value: {[SECRET_SIG_KEY]: SECRET_SIG, value}. Defined here rather than imported
// from @pulumi/pulumi/runtime so this module stays free of the SDK runtime (it is loaded beside the mock runtime).
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

type Obj = Readonly<Record<string, unknown>>;

/** True when `v` is a value wrapped in Pulumi's secret envelope. */
export function isSecretEnvelope(v: unknown): v is { readonly value: unknown } {
    return typeof v === "object" && v !== null && (v as Obj)[SECRET_SIG_KEY] === SECRET_SIG;
}

// How an unknown value travels in Pulumi's wire format (the engine's and the mock runtime's inputs during a preview).
const UNKNOWN_WIRE_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** The value inside any secret envelopes around `v`; {@link UNKNOWN} for a value unknown during a preview. */
function reveal(v: unknown): unknown {
    if (isSecretEnvelope(v)) return reveal(v.value);
    return v === UNKNOWN_WIRE_VALUE ? UNKNOWN : v;
}

function asObj(v: unknown): Obj | undefined {
    const x = reveal(v);
    return typeof x === "object" && x !== null && !Array.isArray(x) ? (x as Obj) : undefined;
}

function asList(v: unknown): readonly unknown[] {
    const x = reveal(v);
    return Array.isArray(x) ? x : [];
}

function asString(v: unknown): string | undefined {
    const x = reveal(v);
    return typeof x === "string" ? x : undefined;
}

/** `obj.a.b.c` through secret envelopes; undefined where a step is missing or unknown. */
function at(v: unknown, ...keys: string[]): unknown {
    let cur: unknown = v;
    for (const k of keys) {
        const o = asObj(cur);
        if (!o) return undefined;
        cur = o[k];
    }
    return reveal(cur);
}

const isKnown = (v: unknown): boolean => reveal(v) !== UNKNOWN;
const show = (v: unknown): string => (v === undefined ? "unset" : JSON.stringify(v));
const basename = (p: string): string => p.slice(p.lastIndexOf("/") + 1);

/** Type token of a Docker container. */
export const DOCKER_CONTAINER = "docker:index/container:Container";
/** Type token of a pulled Docker image. */
export const DOCKER_IMAGE = "docker:index/remoteImage:RemoteImage";
/** Type token of a Kubernetes ConfigMap. */
export const CONFIG_MAP = "kubernetes:core/v1:ConfigMap";
/** Type token of a Kubernetes Secret. */
export const SECRET = "kubernetes:core/v1:Secret";

/** Kubernetes kinds that carry a pod template, and where it is. */
const POD_SPEC_PATH: Readonly<Record<string, readonly string[]>> = {
    Pod: ["spec"],
    Deployment: ["spec", "template", "spec"],
    StatefulSet: ["spec", "template", "spec"],
    DaemonSet: ["spec", "template", "spec"],
    ReplicaSet: ["spec", "template", "spec"],
    ReplicationController: ["spec", "template", "spec"],
    Job: ["spec", "template", "spec"],
    CronJob: ["spec", "jobTemplate", "spec", "template", "spec"],
};

/**
 * Custom resources of Elastic's operator (ECK) whose pod templates become the pods: Kibana's and Logstash's at
 * `spec.podTemplate`, Elasticsearch's one per node set at `spec.nodeSets[].podTemplate`.
 */
const ECK_POD_SPEC_PATH: Readonly<Record<string, readonly string[]>> = {
    Kibana: ["spec", "podTemplate", "spec"],
    Logstash: ["spec", "podTemplate", "spec"],
};

/** The pod specs a Kubernetes resource carries. */
function podSpecs(r: PolicyResource, kind: string): unknown[] {
    if (Object.hasOwn(POD_SPEC_PATH, kind)) return [at(r.props, ...POD_SPEC_PATH[kind])];
    if (!r.type.includes(".k8s.elastic.co/")) return [];
    if (Object.hasOwn(ECK_POD_SPEC_PATH, kind)) return [at(r.props, ...ECK_POD_SPEC_PATH[kind])];
    if (kind === "Elasticsearch") return asList(at(r.props, "spec", "nodeSets")).map((set) => at(set, "podTemplate", "spec"));
    return [];
}

/** A container of a Kubernetes pod template, with where it is. */
interface PodContainer {
    readonly name: string;
    readonly init: boolean;
    readonly spec: Obj;
}

function kubernetesKind(type: string): string | undefined {
    const m = /^kubernetes:[^:]+:([A-Za-z]+)$/.exec(type);
    return m ? m[1] : undefined;
}

/** Every container and init container of the pod template `r` carries; none for other resources. */
function podContainers(r: PolicyResource): PodContainer[] {
    const kind = kubernetesKind(r.type);
    if (!kind) return [];
    return podSpecs(r, kind).flatMap((pod) => {
        const list = (key: string, init: boolean): PodContainer[] =>
            asList(at(pod, key)).flatMap((c) => {
                const spec = asObj(c);
                return spec ? [{ name: asString(spec.name) ?? "?", init, spec }] : [];
            });
        return [...list("initContainers", true), ...list("containers", false)];
    });
}

/** A text file a resource puts into a container: a Docker upload or a ConfigMap entry. */
interface ConfigFile {
    /** Path (Docker) or ConfigMap key. */
    readonly name: string;
    readonly content: string;
    /** Whether the content was wrapped as a secret (only meaningful when secrets are marked). */
    readonly secret: boolean;
}

/** The known text files of a Docker container's uploads or a ConfigMap's data. */
function configFiles(r: PolicyResource): ConfigFile[] {
    if (r.type === DOCKER_CONTAINER) {
        const wholeSecret = isSecretEnvelope(r.props.uploads);
        return asList(r.props.uploads).flatMap((u) => {
            const name = asString(at(u, "file"));
            const raw = asObj(u)?.content;
            const b64 = asString(at(u, "contentBase64"));
            const content = asString(raw) ?? (b64 !== undefined ? Buffer.from(b64, "base64").toString("utf8") : undefined);
            if (name === undefined || content === undefined) return [];
            return [{ name, content, secret: wholeSecret || isSecretEnvelope(u) || isSecretEnvelope(raw) }];
        });
    }
    if (r.type === CONFIG_MAP) {
        return [...keyedTexts(r.props.data, false), ...keyedTexts(r.props.binaryData, true)].map(([name, content]) => ({ name, content, secret: false }));
    }
    return [];
}

/** Entries of a Kubernetes `data`/`stringData`/`binaryData` map as text (base64 decoded when `base64`). */
function keyedTexts(map: unknown, base64: boolean): [string, string][] {
    return Object.entries(asObj(map) ?? {}).flatMap(([name, v]): [string, string][] => {
        const text = asString(v);
        if (text === undefined) return [];
        return [[name, base64 ? Buffer.from(text, "base64").toString("utf8") : text]];
    });
}

/**
 * Every text file a resource puts into a container, for the checks that look for verification turned off:
 * {@link configFiles}, and the entries of a Kubernetes Secret (a curl config with credentials belongs there).
 */
function textFiles(r: PolicyResource): ConfigFile[] {
    if (r.type === SECRET) {
        return [...keyedTexts(r.props.stringData, false), ...keyedTexts(r.props.data, true)].map(([name, content]) => ({ name: `Secret ${r.name} key ${name}`, content, secret: true }));
    }
    return configFiles(r);
}

/** A setting of an Elastic YAML file, written flat (`a.b.c: x`) or nested (`a: {b: {c: x}}`), as Elastic accepts both. */
export function yamlSetting(doc: unknown, key: string): unknown {
    const parts = key.split(".");
    const find = (node: unknown, rest: string[]): unknown => {
        if (typeof node !== "object" || node === null || Array.isArray(node)) return undefined;
        const o = node as Obj;
        for (let i = rest.length; i >= 1; i--) {
            const head = rest.slice(0, i).join(".");
            if (!Object.hasOwn(o, head)) continue;
            const found = i === rest.length ? o[head] : find(o[head], rest.slice(i));
            if (found !== undefined) return found;
        }
        return undefined;
    };
    return find(doc, parts);
}

/** Every leaf of a YAML document as a flat dotted key, for secret-looking setting names. */
function flatSettings(node: unknown, prefix = ""): [string, unknown][] {
    if (typeof node !== "object" || node === null || Array.isArray(node)) return prefix ? [[prefix, node]] : [];
    return Object.entries(node as Obj).flatMap(([k, v]) => flatSettings(v, prefix ? `${prefix}.${k}` : k));
}

function parseYaml(file: ConfigFile): { doc?: unknown; error?: string } {
    try {
        return { doc: YAML.parse(file.content) as unknown };
    } catch (e) {
        return { error: `${file.name} is not valid YAML (${(e as Error).message.split("\n")[0]})` };
    }
}

const isTrue = (v: unknown): boolean => v === true || v === "true";

// ---------------------------------------------------------------------------------------------------------------
// TLS on every hop
// ---------------------------------------------------------------------------------------------------------------

/** Text that turns certificate verification off, in any config file, script, command or health check. */
const INSECURE_PATTERNS: readonly { readonly pattern: RegExp; readonly what: string }[] = [
    { pattern: /\b(verification_mode|verificationMode)["']?\s*[:=]\s*["']?none\b/i, what: "verification mode none" },
    { pattern: /\bssl_verification_mode\s*=>\s*["']?none\b/i, what: 'Logstash ssl_verification_mode => "none"' },
    { pattern: /\bssl_certificate_verification\s*=>\s*["']?false\b/i, what: "Logstash ssl_certificate_verification => false" },
    { pattern: /\bcurl\b[^\n;|&]*\s(--insecure|-[A-Za-z]*k[A-Za-z]*)(?=\s|$|["'])/, what: "curl -k/--insecure" },
    { pattern: /\bwget\b[^\n;|&]*\s--no-check-certificate\b/, what: "wget --no-check-certificate" },
    { pattern: /\binsecure-skip-tls-verify["']?\s*[:=]\s*["']?true\b|--insecure-skip-tls-verify(?![=\w-])|--insecure-skip-tls-verify=true\b/i, what: "insecure-skip-tls-verify" },
];

/**
 * The `insecure` option however it is written: `--insecure` in a command or an argument array (`args+=(--insecure)`),
 * or `insecure` alone on a line of a curl config file (`-K file`, `--config file`), also where a script writes that
 * line with printf or echo (`printf 'insecure\n'`). curl's config syntax takes an option's long name with or without
 * its dashes (curl's docs, "-K, --config"), hence both forms. Shell and config comment lines are not read.
 */
const INSECURE_OPTION = /(^|\\n|[\s'"([,=])(--)?(proxy-|doh-)?insecure(?=$|\\n|[\s'"),\];])/;
/** `-k` alone on a line of a curl config file, or written as one by a script. */
const K_LINE = /(^|\\n)\s*-k\s*(?=$|\\n|['"])/;
/** A short-option cluster that holds `k` (`-k`, `-sk`, `-kfsSL`): curl's --insecure, in a text that runs curl. */
const K_CLUSTER = /^-[A-Za-z]*k[A-Za-z]*$/;

/** Lines a shell or curl reads: continuations joined (`\` + newline, so `-k` on the next line is still seen), comments dropped. */
function liveLines(text: string): string[] {
    return text
        .replace(/\\\r?\n/g, " ")
        .split(/\r?\n/)
        .filter((line) => !/^\s*#/.test(line));
}

function insecureText(where: string, text: string): string[] {
    const lines = liveLines(text);
    const joined = lines.join("\n");
    const found = INSECURE_PATTERNS.filter((p) => p.pattern.test(joined)).map((p) => p.what);
    if (lines.some((line) => INSECURE_OPTION.test(line) || K_LINE.test(line))) found.push("the insecure option of curl");
    // A `-k` built into an argument array is not next to `curl`: any such token in a text that runs curl counts.
    if (/\bcurl\b/.test(joined) && lines.some((line) => line.split(/[\s'"()[\],=]+/).some((token) => K_CLUSTER.test(token)))) found.push("curl -k/--insecure");
    return found.length > 0 ? [`${where} disables certificate verification (${[...new Set(found)].join(", ")})`] : [];
}

/** Environment variables that switch verification off for every client in the process. */
function insecureEnv(container: string, name: string, value: string): string[] {
    if (name === "NODE_TLS_REJECT_UNAUTHORIZED" && value.trim() === "0") {
        return [`${container}: env NODE_TLS_REJECT_UNAUTHORIZED=0 disables certificate verification`];
    }
    if (/VERIFICATION_?MODE$/i.test(name) && value.trim().toLowerCase() === "none") {
        return [`${container}: env ${name}=none disables certificate verification`];
    }
    return [];
}

/**
 * What a TLS setting that a document leaves out means: in a whole elasticsearch.yml or kibana.yml it is missing
 * (`required`); in the `config` of an ECK resource the operator's own value applies (`operator`), which is on for
 * both of Elasticsearch's layers and Kibana's server while `spec.http.tls` is on ({@link eckHttpTlsProblems}).
 */
type UnsetTls = "required" | "operator";

/** Security on and TLS on both layers, in an elasticsearch.yml (`where` names it) or a node set's `config`. */
function elasticsearchYmlProblems(where: string, doc: unknown, unset: UnsetTls = "required"): string[] {
    const out: string[] = [];
    const security = yamlSetting(doc, "xpack.security.enabled");
    if (security === false || security === "false") out.push(`${where}: xpack.security.enabled is false: security (and with it TLS) must stay on`);
    for (const layer of ["http", "transport"] as const) {
        const key = `xpack.security.${layer}.ssl.enabled`;
        const v = yamlSetting(doc, key);
        if (!isKnown(v) || (v === undefined && unset === "operator")) continue;
        if (!isTrue(v)) out.push(`${where}: ${key} must be true (TLS on the ${layer} layer), found ${show(v)}`);
    }
    return out;
}

/**
 * Kibana serving HTTPS and verifying Elasticsearch fully over https://, in a kibana.yml (`where` names it) or a
 * Kibana resource's `config`. Full verification is required in both: for an `elasticsearchRef` ECK writes
 * `elasticsearch.ssl.verificationMode: certificate` (cloud-on-k8s pkg/controller/kibana/config_settings.go
 * elasticsearchTLSSettings, v3.5.0), which only the config's own value overrides.
 */
function kibanaYmlProblems(where: string, doc: unknown, unset: UnsetTls = "required"): string[] {
    const out: string[] = [];
    const serverSsl = yamlSetting(doc, "server.ssl.enabled");
    if (isKnown(serverSsl) && !(serverSsl === undefined && unset === "operator") && !isTrue(serverSsl)) {
        out.push(`${where}: server.ssl.enabled must be true (Kibana serves HTTPS), found ${show(serverSsl)}`);
    }
    const mode = yamlSetting(doc, "elasticsearch.ssl.verificationMode");
    if (isKnown(mode) && mode !== "full") out.push(`${where}: elasticsearch.ssl.verificationMode must be full, found ${show(mode)}`);
    const hosts = yamlSetting(doc, "elasticsearch.hosts");
    for (const h of Array.isArray(hosts) ? hosts : typeof hosts === "string" ? [hosts] : []) {
        if (typeof h === "string" && !h.startsWith("https://")) out.push(`${where}: elasticsearch.hosts entry ${h} is not https://`);
    }
    return out;
}

/** `true` written as a bareword or a string, as Logstash's boolean settings accept. */
const lsTrue = (text: string | undefined): boolean => text === "true";

/** How a plugin is named in messages: its `id` when it has one. */
function pluginLabel(plugin: LsPlugin, index: number): string {
    const id = scalar(settingValues(plugin, "id")[0]);
    return `${plugin.name} ${plugin.section} ${id !== undefined ? JSON.stringify(id) : `#${index + 1}`}`;
}

/**
 * TLS on every Elasticsearch output, TCP input and output and HTTP output of a pipeline. Option names are those of
 * the current plugins (Logstash reference, "Elasticsearch output plugin", "Tcp input plugin", "Tcp output plugin",
 * "Http output plugin": `ssl_enabled`, `ssl_verification_mode`); the removed `ssl`/`ssl_enable` do not count as on.
 */
export function pipelineProblems(name: string, text: string): string[] {
    let plugins: LsPlugin[];
    try {
        plugins = parsePipeline(text);
    } catch (e) {
        if (!(e instanceof LsParseError)) throw e;
        return [`${name} looks like a Logstash pipeline but cannot be read, so its TLS settings cannot be checked: ${e.message}`];
    }
    const out: string[] = [];
    plugins.forEach((plugin, i) => {
        const where = `${name}: ${pluginLabel(plugin, i)}`;
        const enabled = settingValues(plugin, "ssl_enabled").map(scalar);
        const sslOn = enabled.length > 0 && enabled.every(lsTrue);
        const sslOff = enabled.some((v) => !lsTrue(v));
        const modes = settingValues(plugin, "ssl_verification_mode").map(scalar);
        const verifyOff = modes.some((m) => m !== "full");
        if (plugin.section === "output" && plugin.name === "elasticsearch") {
            const hosts = settingValues(plugin, "hosts").flatMap(scalars);
            const plain = hosts.filter((h) => /^http:\/\//i.test(h));
            // Without ssl_enabled the plugin takes TLS from the scheme, which a ${VARIABLE} host does not show.
            const allHttps = hosts.length > 0 && hosts.every((h) => /^https:\/\//i.test(h));
            if (sslOff || (!sslOn && !allHttps)) out.push(`${where} must have ssl_enabled => true (or only https:// hosts): TLS to Elasticsearch`);
            for (const h of plain) out.push(`${where} sends to ${h} over plain http`);
            if (verifyOff) out.push(`${where} must verify Elasticsearch's certificate: ssl_verification_mode => "full", found ${modes.map((m) => JSON.stringify(m)).join(", ")}`);
        } else if (plugin.name === "tcp" && (plugin.section === "input" || plugin.section === "output")) {
            if (!sslOn) out.push(`${where} must have ssl_enabled => true: TLS on every TCP ${plugin.section}`);
            if (verifyOff) out.push(`${where} must not turn certificate verification off: ssl_verification_mode ${modes.map((m) => JSON.stringify(m)).join(", ")}`);
        } else if (plugin.section === "output" && plugin.name === "http") {
            for (const u of settingValues(plugin, "url").flatMap(scalars)) if (!/^https:\/\//i.test(u) && !/^\$\{/.test(u)) out.push(`${where} sends to ${u}, not https://`);
            if (sslOff) out.push(`${where} has ssl_enabled => false`);
            if (verifyOff) out.push(`${where} must verify the server's certificate: ssl_verification_mode ${modes.map((m) => JSON.stringify(m)).join(", ")}`);
        }
    });
    return out;
}

/** The pipelines written inline (`config.string`) in pipelines.yml or a Logstash resource's `pipelines` (`name` names it). */
function inlinePipelines(name: string, doc: unknown): { where: string; text: string }[] {
    if (!Array.isArray(doc)) return [];
    return doc.flatMap((entry, i) => {
        const inline = yamlSetting(entry, "config.string");
        if (typeof inline !== "string") return [];
        const id = yamlSetting(entry, "pipeline.id");
        return [{ where: `${name} pipeline ${typeof id === "string" ? id : `#${i + 1}`} config.string`, text: inline }];
    });
}

/** A pipeline written inline is a pipeline too, and one the reader cannot read fails closed. */
function inlinePipelineProblems({ where, text }: { where: string; text: string }): string[] {
    return [...(looksLikePipeline(text) ? pipelineProblems(where, text) : [`${where} is not a pipeline the policy can read`]), ...insecureText(where, text)];
}

/** Docker `envs` as name/value pairs (`NAME=value` strings), with whether each was wrapped as a secret. */
function dockerEnv(r: PolicyResource): { name: string; value: string; secret: boolean }[] {
    const wholeSecret = isSecretEnvelope(r.props.envs);
    return asList(r.props.envs).flatMap((e) => {
        const s = asString(e);
        if (s === undefined) return [];
        const eq = s.indexOf("=");
        return [{ name: eq < 0 ? s : s.slice(0, eq), value: eq < 0 ? "" : s.slice(eq + 1), secret: wholeSecret || isSecretEnvelope(e) }];
    });
}

/** Command lines a resource runs: Docker entrypoint, command and health check; Kubernetes command, args and probes. */
function commandLines(r: PolicyResource): { where: string; text: string }[] {
    const strings = (v: unknown): string[] => asList(v).flatMap((x) => (asString(x) !== undefined ? [asString(x) as string] : []));
    if (r.type === DOCKER_CONTAINER) {
        return [
            { where: `${r.name} entrypoint`, text: [...strings(r.props.entrypoints), ...strings(r.props.command)].join(" ") },
            { where: `${r.name} health check`, text: strings(at(r.props, "healthcheck", "tests")).join(" ") },
        ];
    }
    return podContainers(r).flatMap((c) => [
        { where: `${r.name} container ${c.name} command`, text: [...strings(c.spec.command), ...strings(c.spec.args)].join(" ") },
        ...["startupProbe", "readinessProbe", "livenessProbe"].map((probe) => ({
            where: `${r.name} container ${c.name} ${probe}`,
            text: strings(at(c.spec, probe, "exec", "command")).join(" "),
        })),
    ]);
}

/** Name/value pairs of a Kubernetes container's env, with how each is set. */
function podEnv(c: PodContainer): { name: string; value?: string; valueFrom?: Obj }[] {
    return asList(c.spec.env).flatMap((e) => {
        const o = asObj(e);
        const name = asString(o?.name);
        return o && name ? [{ name, value: asString(o.value), valueFrom: asObj(o.valueFrom) }] : [];
    });
}

/** Kinds of Elastic's operator whose `spec.http.tls` decides whether their HTTP layer is TLS. */
const ECK_HTTP_TLS_KINDS = new Set(["Elasticsearch", "Kibana"]);

/**
 * An ECK Elasticsearch or Kibana resource whose HTTP layer the operator would serve in plain text: the self-signed
 * certificate turned off (`spec.http.tls.selfSignedCertificate.disabled: true`) and no certificate given
 * (`spec.http.tls.certificate.secretName`). That is the operator's own test, TLSOptions.Enabled in
 * cloud-on-k8s pkg/apis/common/v1/common.go (v3.5.0). Not checked while either value is unknown.
 */
export function eckHttpTlsProblems(r: PolicyResource): string[] {
    const kind = kubernetesKind(r.type);
    if (!kind || !ECK_HTTP_TLS_KINDS.has(kind) || !r.type.includes(".k8s.elastic.co/")) return [];
    const tls = at(r.props, "spec", "http", "tls");
    const disabled = at(tls, "selfSignedCertificate", "disabled");
    const secretName = at(tls, "certificate", "secretName");
    if (!isKnown(disabled) || !isKnown(secretName)) return [];
    if (!isTrue(disabled) || (typeof secretName === "string" && secretName !== "")) return [];
    return [`${kind} ${r.name} serves HTTP without TLS: spec.http.tls.selfSignedCertificate.disabled is true and no spec.http.tls.certificate is given`];
}

/**
 * `v` with every secret envelope opened, at any depth, and every value unknown during a preview as
 * {@link UNKNOWN}: an ECK resource's `config` as the checks read it.
 */
function revealDeep(v: unknown): unknown {
    const x = reveal(v);
    if (Array.isArray(x)) return x.map(revealDeep);
    if (typeof x === "object" && x !== null) return Object.fromEntries(Object.entries(x).map(([k, e]) => [k, revealDeep(e)]));
    return x;
}

/** `doc` as YAML text for the checks that read text, with each unknown value left out (as null). */
function yamlText(doc: unknown): string {
    const known = (v: unknown): unknown => {
        if (v === UNKNOWN) return null;
        if (Array.isArray(v)) return v.map(known);
        if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, known(e)]));
        return v;
    };
    return YAML.stringify(known(doc));
}

/**
 * The settings objects of ECK's custom resources, which ECK merges over its own settings last, so that theirs win:
 * each node set's `config` of an Elasticsearch (cloud-on-k8s pkg/controller/elasticsearch/settings/merged_config.go
 * NewMergedESConfig, v3.5.0) and a Kibana's `config` (pkg/controller/kibana/config_settings.go NewConfigSettings,
 * `cfg.MergeWith(userSettings, ...)`) get the elasticsearch.yml and kibana.yml checks, and a Logstash's `pipelines`
 * (its pipelines.yml) the inline pipeline check. A setting ECK itself writes may be left out of a `config`
 * ({@link UnsetTls}); none may turn TLS or verification off. Not checked while unknown.
 */
export function eckConfigProblems(r: PolicyResource): string[] {
    const checks = { Elasticsearch: elasticsearchYmlProblems, Kibana: kibanaYmlProblems } as const;
    return [
        ...eckSettings(r).flatMap(({ kind, where, doc }) => (kind === "Logstash" ? [] : [...checks[kind](where, doc, "operator"), ...insecureText(where, yamlText(doc))])),
        ...eckPipelines(r).flatMap(inlinePipelineProblems),
    ];
}

/**
 * The settings objects of an ECK custom resource, each with where it is: each node set's `config` of an
 * Elasticsearch, the `config` of a Kibana or a Logstash. Left out while unknown or not an object.
 */
function eckSettings(r: PolicyResource): { kind: "Elasticsearch" | "Kibana" | "Logstash"; where: string; doc: object }[] {
    const kind = kubernetesKind(r.type);
    if (!kind || !r.type.includes(".k8s.elastic.co/")) return [];
    const settings = (k: "Elasticsearch" | "Kibana" | "Logstash", where: string, v: unknown) => {
        const doc = revealDeep(v);
        return typeof doc === "object" && doc !== null && !Array.isArray(doc) ? [{ kind: k, where, doc }] : [];
    };
    if (kind === "Elasticsearch") {
        return asList(at(r.props, "spec", "nodeSets")).flatMap((set, i) => settings(kind, `Elasticsearch ${r.name} spec.nodeSets[${asString(at(set, "name")) ?? `#${i + 1}`}].config`, at(set, "config")));
    }
    if (kind === "Kibana" || kind === "Logstash") return settings(kind, `${kind} ${r.name} spec.config`, at(r.props, "spec", "config"));
    return [];
}

/** The pipelines written inline in an ECK Logstash's `pipelines` (its pipelines.yml). */
function eckPipelines(r: PolicyResource): { where: string; text: string }[] {
    if (!r.type.includes(".k8s.elastic.co/") || kubernetesKind(r.type) !== "Logstash") return [];
    return inlinePipelines(`Logstash ${r.name} spec.pipelines`, revealDeep(at(r.props, "spec", "pipelines")));
}

/** TLS on every hop: Elasticsearch HTTP and transport, Kibana's server and its client, and no client skipping verification. */
export function tlsProblems(r: PolicyResource): string[] {
    const out: string[] = [...eckHttpTlsProblems(r), ...eckConfigProblems(r)];
    for (const file of textFiles(r)) {
        const name = basename(file.name);
        if (name === "elasticsearch.yml" || name === "kibana.yml" || name === "pipelines.yml") {
            const { doc, error } = parseYaml(file);
            if (error) out.push(error);
            else if (name === "pipelines.yml") out.push(...inlinePipelines(file.name, doc).flatMap(inlinePipelineProblems));
            else out.push(...(name === "elasticsearch.yml" ? elasticsearchYmlProblems(file.name, doc) : kibanaYmlProblems(file.name, doc)));
        }
        if (looksLikePipeline(file.content)) out.push(...pipelineProblems(file.name, file.content));
        out.push(...insecureText(file.name, file.content));
    }
    for (const { where, text } of commandLines(r)) out.push(...insecureText(where, text));
    if (r.type === DOCKER_CONTAINER) for (const e of dockerEnv(r)) out.push(...insecureEnv(r.name, e.name, e.value));
    for (const c of podContainers(r)) for (const e of podEnv(c)) if (e.value !== undefined) out.push(...insecureEnv(c.name, e.name, e.value));
    return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Pinned images
// ---------------------------------------------------------------------------------------------------------------

const DIGEST = /@sha256:[0-9a-f]{64}$/;
const IMAGE_ID = /^sha256:[0-9a-f]{64}$/;
/** An exact release: major.minor.patch, optionally with a suffix (9.4.1, 1.37.0, 16.4.2-alpine, v2.1.0-rc.1). */
const VERSION_TAG = /^v?\d+\.\d+\.\d+(\.\d+)*([-+_.][0-9A-Za-z][0-9A-Za-z._-]*)?$/;
/** Words that make a tag move: `1.2.3-latest` is whatever was pushed last under that name. */
const FLOATING_WORD = /^(latest|stable|edge|nightly|snapshot|dev|develop|main|master|current|rolling|head|canary|next|lts)$/i;

/** Why `ref` is not pinned, or undefined when it names an exact version or a digest. */
export function imagePinProblem(ref: string): string | undefined {
    if (DIGEST.test(ref)) return undefined;
    const slash = ref.lastIndexOf("/");
    const colon = ref.lastIndexOf(":");
    const tag = colon > slash ? ref.slice(colon + 1) : undefined;
    if (tag === undefined) return "it has no tag, so it pulls whatever latest is at the time";
    if (tag === "latest") return "the latest tag moves with every release";
    if (!VERSION_TAG.test(tag)) return `tag ${tag} is not an exact version (major.minor.patch)`;
    const floating = tag.split(/[-+_.]/).find((part) => FLOATING_WORD.test(part));
    if (floating) return `tag ${tag} says ${floating}, which moves with every push`;
    return undefined;
}

/** Images pinned to an exact version tag or a digest, on Docker and in every Kubernetes pod template. */
export function imageProblems(r: PolicyResource): string[] {
    const check = (where: string, v: unknown, imageIdAllowed: boolean): string[] => {
        const ref = asString(v);
        if (ref === undefined || (imageIdAllowed && IMAGE_ID.test(ref))) return [];
        const problem = imagePinProblem(ref);
        return problem ? [`image ${ref} (${where}) is not pinned: ${problem}`] : [];
    };
    if (r.type === DOCKER_IMAGE) return check(r.name, r.props.name, false);
    // A container's image is normally the id of a RemoteImage (checked above), which is as pinned as it gets.
    if (r.type === DOCKER_CONTAINER) return check(r.name, r.props.image, true);
    return podContainers(r).flatMap((c) => check(`${r.name} ${c.init ? "init container" : "container"} ${c.name}`, c.spec.image, false));
}

// ---------------------------------------------------------------------------------------------------------------
// Privileged: only the sysctl step
// ---------------------------------------------------------------------------------------------------------------

/** True when `argv` only sets vm.max_map_count: the one thing the stack needs a privileged container for. */
export function isSysctlStep(argv: readonly string[]): boolean {
    // The stack's own raise-only script, byte for byte (components/model/maxMapCount.ts), or a bare sysctl.
    if (raisedMaxMapCount(argv) !== undefined) return true;
    return argv.length === 3 && basename(argv[0]) === "sysctl" && argv[1] === "-w" && /^vm\.max_map_count=\d+$/.test(argv[2]);
}

/**
 * The image the stack's sysctl step runs (components/model/kernel.ts SYSCTL_IMAGE; a test keeps the two equal). A
 * privileged container runs whatever `sysctl` its image ships, so the image is part of what is allowed.
 */
export const SYSCTL_IMAGE = "busybox:1.37.0";

/** The sysctl image by its tag, or by that tag and a digest. */
function isSysctlImage(ref: string | undefined): boolean {
    return ref === SYSCTL_IMAGE || (ref !== undefined && ref.startsWith(`${SYSCTL_IMAGE}@sha256:`) && DIGEST.test(ref));
}

const SYSCTL_ONLY = "only a step that runs nothing but 'sysctl -w vm.max_map_count=<n>' may be";

/**
 * Capabilities a container may add: NET_BIND_SERVICE only, as the Kubernetes "restricted" Pod Security Standard
 * allows (binding a port below 1024 gives no power over the host or other containers).
 */
const ADDABLE_CAPABILITIES = new Set(["NET_BIND_SERVICE"]);

/**
 * Host paths that hand a container the host: the root, system and runtime directories and anything under them, and
 * any container runtime socket (docker.sock, containerd.sock, crio.sock, ...).
 */
export function hostPathProblem(path: string): string | undefined {
    const normalized = `/${path.split("/").filter((part) => part !== "" && part !== ".").join("/")}`;
    if (path.split("/").includes("..")) return `${path} climbs out with ..`;
    if (normalized === "/") return "it is the host's root";
    if (/\.sock$/.test(normalized) || /\/(docker|containerd|crio|podman)(\.sock)?$/.test(normalized)) return "it is a container runtime socket";
    const system = ["/etc", "/proc", "/sys", "/dev", "/boot", "/root", "/run", "/var/run", "/var/lib/docker", "/var/lib/containerd", "/var/lib/kubelet", "/usr", "/bin", "/sbin", "/lib", "/home"];
    const under = system.find((dir) => normalized === dir || normalized.startsWith(`${dir}/`));
    return under ? `it is ${under === normalized ? "" : "under "}the host's ${under}` : undefined;
}

/** Added capabilities beyond {@link ADDABLE_CAPABILITIES}, named as Docker and Kubernetes both accept them. */
function addedCapabilities(list: unknown): string[] {
    return asList(list)
        .map((c) => asString(c))
        .filter((c): c is string => c !== undefined && !ADDABLE_CAPABILITIES.has(c.toUpperCase().replace(/^CAP_/, "")));
}

/** Every way a Docker container gets privilege over the host, but `privileged` itself. */
function dockerPrivilegeRoutes(r: PolicyResource): string[] {
    const out: string[] = [];
    const caps = addedCapabilities(at(r.props, "capabilities", "adds"));
    if (caps.length > 0) out.push(`adds capabilities ${caps.join(", ")}`);
    for (const key of ["networkMode", "pidMode", "ipcMode", "usernsMode", "cgroupnsMode", "utsMode"] as const) {
        if (asString(r.props[key])?.toLowerCase() === "host") out.push(`shares the host's namespace (${key}: host)`);
    }
    for (const v of asList(r.props.volumes)) {
        const host = asString(at(v, "hostPath"));
        const problem = host !== undefined ? hostPathProblem(host) : undefined;
        if (problem) out.push(`mounts the host path ${host} (${problem})`);
    }
    for (const m of asList(r.props.mounts)) {
        const source = asString(at(m, "source"));
        const problem = asString(at(m, "type")) === "bind" && source !== undefined ? hostPathProblem(source) : undefined;
        if (problem) out.push(`bind-mounts the host path ${source} (${problem})`);
    }
    if (asList(r.props.devices).length > 0) out.push("gets host devices (devices)");
    for (const opt of asList(r.props.securityOpts).map((o) => asString(o) ?? "")) {
        if (/unconfined|label[=:]disable/i.test(opt)) out.push(`turns confinement off (security_opt ${opt})`);
    }
    return out;
}

/** Every way a Kubernetes container of a pod gets privilege, but `privileged` itself. */
function containerPrivilegeRoutes(spec: Obj, sysctlStep: boolean): string[] {
    const out: string[] = [];
    const sc = at(spec, "securityContext");
    const caps = addedCapabilities(at(sc, "capabilities", "add"));
    if (caps.length > 0) out.push(`adds capabilities ${caps.join(", ")}`);
    if (!sysctlStep && at(sc, "allowPrivilegeEscalation") === true) out.push("allows privilege escalation");
    if (asString(at(sc, "procMount"))?.toLowerCase() === "unmasked") out.push("mounts /proc unmasked");
    if (at(sc, "windowsOptions", "hostProcess") === true) out.push("runs as a Windows host process");
    return out;
}

/** Every way a Kubernetes pod template gets privilege over its node: host namespaces and host paths. */
function podPrivilegeRoutes(r: PolicyResource): string[] {
    const kind = kubernetesKind(r.type);
    const path = kind && Object.hasOwn(POD_SPEC_PATH, kind) ? POD_SPEC_PATH[kind] : undefined;
    if (!path) return [];
    const pod = at(r.props, ...path);
    const out: string[] = [];
    for (const key of ["hostPID", "hostNetwork", "hostIPC"] as const) if (at(pod, key) === true) out.push(`${r.name} shares the node's namespace (${key}: true)`);
    for (const v of asList(at(pod, "volumes"))) {
        const host = asString(at(v, "hostPath", "path"));
        const problem = host !== undefined ? hostPathProblem(host) : undefined;
        if (problem) out.push(`${r.name} mounts the node's path ${host} (${problem})`);
    }
    return out;
}

/**
 * No privilege by any route: no privileged container but the step that sets vm.max_map_count (a one-shot container
 * on Docker; on Kubernetes an init container of the stack's pinned sysctl image), no added capabilities, no host
 * namespaces, no host root, system directory or runtime socket mounted, no host devices, no confinement turned off.
 */
export function privilegeProblems(r: PolicyResource): string[] {
    const argv = (...lists: unknown[]): string[] => lists.flatMap((l) => asList(l).map((x) => String(reveal(x))));
    if (r.type === DOCKER_CONTAINER) {
        const out = dockerPrivilegeRoutes(r).map((why) => `container ${r.name} ${why}`);
        if (reveal(r.props.privileged) === true) {
            const oneShot = reveal(r.props.mustRun) === false || reveal(r.props.attach) === true;
            if (!(oneShot && isSysctlStep(argv(r.props.entrypoints, r.props.command)))) out.push(`container ${r.name} is privileged: ${SYSCTL_ONLY}`);
            // The program gives the container a RemoteImage's id, which names no repository and is let through (see
            // the limits in docs/security.md); an image given by name must be the stack's sysctl image.
            const image = asString(r.props.image);
            if (image !== undefined && !IMAGE_ID.test(image) && !isSysctlImage(image)) {
                out.push(`container ${r.name} is privileged with image ${show(image)}: the sysctl step must run the stack's ${SYSCTL_IMAGE}`);
            }
        }
        return out;
    }
    const out = podPrivilegeRoutes(r);
    for (const c of podContainers(r)) {
        const what = `${r.name} ${c.init ? "init container" : "container"} ${c.name}`;
        const privileged = at(c.spec, "securityContext", "privileged") === true;
        const sysctlStep = c.init && isSysctlStep(argv(c.spec.command, c.spec.args));
        if (privileged && !sysctlStep) out.push(`${what} is privileged: ${SYSCTL_ONLY} (as an init container)`);
        if (privileged && sysctlStep && !isSysctlImage(asString(c.spec.image))) {
            out.push(`${what} is privileged with image ${show(asString(c.spec.image))}: the sysctl step must run the stack's ${SYSCTL_IMAGE}`);
        }
        out.push(...containerPrivilegeRoutes(c.spec, privileged && sysctlStep).map((why) => `${what} ${why}`));
    }
    return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------------------------------------------

/** Memory limits on Docker's long-running containers; memory and CPU limits on every Kubernetes container. */
export function limitProblems(r: PolicyResource): string[] {
    if (r.type === DOCKER_CONTAINER) {
        // One-shot steps (attached, not required to keep running) end on their own; services must be bounded.
        const oneShot = reveal(r.props.mustRun) === false || reveal(r.props.attach) === true;
        const memory = reveal(r.props.memory);
        if (oneShot || !isKnown(memory)) return [];
        return typeof memory === "number" && memory > 0 ? [] : [`container ${r.name} has no memory limit (memory, MiB)`];
    }
    return podContainers(r).flatMap((c) =>
        (["memory", "cpu"] as const).flatMap((res) => {
            const v = at(c.spec, "resources", "limits", res);
            if (!isKnown(v)) return [];
            const set = (typeof v === "string" && v.trim() !== "") || (typeof v === "number" && v > 0);
            return set ? [] : [`${r.name} ${c.init ? "init container" : "container"} ${c.name} has no ${res} limit (resources.limits.${res})`];
        }),
    );
}

// ---------------------------------------------------------------------------------------------------------------
// No plain-text secrets
// ---------------------------------------------------------------------------------------------------------------

/** Environment variable names that hold secrets. */
export const SECRET_ENV_NAME = /(PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|CREDENTIAL)|(^|_)(API_?)?KEY(_|$)/i;
/** An absolute file path: a secret-looking variable holding one (ELK_TLS_KEY) points at a mounted file, not a secret. */
const FILE_PATH = /^\/[^\s]*$/;
/** ConfigMap keys that name secret material: key stores and key files, or secret-looking names. */
const SECRET_FILE_NAME = /(\.key|\.p12|\.pfx|\.jks|\.keystore)$|password|passwd|passphrase|secret|token|credential|api[-_]?key/i;
/** Elastic settings whose value is a secret (checked on the last segment of the setting name). */
const SECRET_SETTING = /(password|passphrase|secret|token|api_?key|encryption_?key)$/i;
/** An Elastic/Logstash reference to an environment variable or keystore entry: `${NAME}`. */
const REFERENCE = /^\$\{[A-Za-z_][A-Za-z0-9_.]*\}$/;
const PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;
const LOGSTASH_SECRET_OPTION = /\b([a-z_]*(?:password|passphrase|api_key|token|secret))\s*=>\s*(?:"([^"]*)"|'([^']*)')/gi;

/** Secret settings written as literal values in an Elastic YAML file or a Logstash pipeline. */
function literalSecrets(file: ConfigFile): string[] {
    if (/\.ya?ml$/.test(file.name)) return literalSettings(file.name, parseYaml(file).doc);
    if (file.name.endsWith(".conf")) return literalPipelineOptions(file.name, file.content);
    return [];
}

/** What to do instead of a literal secret in a config file: the stack's files reference variables it fills from files. */
const REFERENCE_FIX = "reference an environment variable (${NAME}) filled from a secret";
/**
 * What to do instead of a literal secret in an ECK resource's settings: the operator writes the Secrets named in
 * `spec.secureSettings` into the product's keystore (pkg/controller/common/keystore), which Elasticsearch and Kibana
 * read a setting from directly, and which a Logstash `${NAME}` reads. An environment variable named like a secret
 * would be refused by this same policy.
 */
const KEYSTORE_FIX = "give it in a Secret named in spec.secureSettings (the operator writes it into the keystore)";

const literalMessage = (where: string, setting: string, fix: string) => `${where}: ${setting} is a literal value: ${fix}`;

/**
 * Secret settings of an Elastic YAML document (flat or nested) given as a literal (text or a number) instead of a
 * `${NAME}` reference.
 */
function literalSettings(where: string, doc: unknown, fix = REFERENCE_FIX): string[] {
    return flatSettings(doc).flatMap(([key, v]) =>
        SECRET_SETTING.test(key.slice(key.lastIndexOf(".") + 1)) && ((typeof v === "string" && v !== "" && !REFERENCE.test(v)) || typeof v === "number") ? [literalMessage(where, key, fix)] : [],
    );
}

/** Secret options of a Logstash pipeline (`password => "..."`) given as a literal instead of a `${NAME}` reference. */
function literalPipelineOptions(where: string, text: string, fix = REFERENCE_FIX): string[] {
    return [...text.matchAll(LOGSTASH_SECRET_OPTION)].flatMap((m) => {
        const value = m[2] ?? m[3] ?? "";
        return value !== "" && !REFERENCE.test(value) ? [literalMessage(where, m[1], fix)] : [];
    });
}

/**
 * Literal secrets in the settings of ECK's custom resources, which ECK writes into the product's own configuration
 * Secret (elasticsearch.yml, kibana.yml, logstash.yml and pipelines.yml: {@link eckConfigProblems} names the
 * upstream files) and which the resource itself shows in plain text to whoever may read it: each node set's `config`,
 * Kibana's and Logstash's `config`, and each inline pipeline of Logstash's `pipelines`. Not checked while unknown.
 */
function eckLiteralSecrets(r: PolicyResource): string[] {
    return [
        ...eckSettings(r).flatMap(({ where, doc }) => literalSettings(where, doc, KEYSTORE_FIX)),
        ...eckPipelines(r).flatMap(({ where, text }) => literalPipelineOptions(where, text, KEYSTORE_FIX)),
    ];
}

/**
 * No secret in plain text: Kubernetes ConfigMaps hold no private key and no secret-looking entry, config files
 * reference secrets rather than contain them, Kubernetes containers read secret-looking variables from Secrets,
 * and (where secret marks are visible) Docker secret environment and key uploads are Pulumi secrets.
 */
export function secretProblems(r: PolicyResource): string[] {
    const out: string[] = [];
    if (r.type === CONFIG_MAP) {
        const decode = (v: unknown) => {
            const b64 = asString(v);
            return b64 === undefined ? undefined : Buffer.from(b64, "base64").toString("latin1");
        };
        const entries: [string, string | undefined][] = [
            ...Object.entries(asObj(r.props.data) ?? {}).map(([k, v]): [string, string | undefined] => [k, asString(v)]),
            ...Object.entries(asObj(r.props.binaryData) ?? {}).map(([k, v]): [string, string | undefined] => [k, decode(v)]),
        ];
        for (const [key, text] of entries) {
            if (text !== undefined && PRIVATE_KEY.test(text)) out.push(`ConfigMap ${r.name} key ${key} holds a private key: keys belong in a Secret`);
            else if (SECRET_FILE_NAME.test(key)) out.push(`ConfigMap ${r.name} key ${key} looks like a secret: put it in a Secret`);
        }
    }
    out.push(...eckLiteralSecrets(r));
    for (const file of configFiles(r)) {
        out.push(...literalSecrets(file));
        if (r.secretsMarked && r.type === DOCKER_CONTAINER && PRIVATE_KEY.test(file.content) && !file.secret) {
            out.push(`container ${r.name} uploads a private key to ${file.name} that is not a Pulumi secret`);
        }
    }
    for (const c of podContainers(r)) {
        for (const e of podEnv(c)) {
            if (!SECRET_ENV_NAME.test(e.name)) continue;
            // A secretKeyRef still lands in the process environment (/proc/<pid>/environ): only a file path passes.
            if ((e.value !== undefined && e.value !== "" && !FILE_PATH.test(e.value)) || e.valueFrom) {
                out.push(`${r.name} container ${c.name}: env ${e.name} puts a secret in the process environment: mount it from a Secret as a file`);
            }
        }
    }
    if (r.type === DOCKER_CONTAINER) {
        // Wrapped in pulumi.secret or not, `docker inspect` shows a container's environment: only a file path passes.
        for (const e of dockerEnv(r)) {
            if (SECRET_ENV_NAME.test(e.name) && !FILE_PATH.test(e.value)) out.push(`container ${r.name}: env ${e.name} puts a secret in the container's environment: upload it as a 0600 file`);
        }
    }
    return out;
}

/**
 * Resources that run pods or install what does: the pod-carrying kinds, Elastic's operator's custom resources and
 * Helm releases (whose namespace is `props.namespace`).
 */
function workloadNamespace(r: PolicyResource): { kind: string; namespace: unknown } | undefined {
    const kind = kubernetesKind(r.type);
    if (!kind) return undefined;
    if (r.type === "kubernetes:helm.sh/v3:Release") return { kind, namespace: reveal(r.props.namespace) };
    if (!Object.hasOwn(POD_SPEC_PATH, kind) && !r.type.includes(".k8s.elastic.co/")) return undefined;
    return { kind, namespace: at(r.props, "metadata", "namespace") };
}

/**
 * A workload in the `default` namespace: shared by everything that names no namespace, with no Pod Security level
 * or NetworkPolicy of the stack's, and deleted with nothing. A workload that names no namespace lands in the
 * provider's default namespace, which a policy cannot see: it is reported too. Not checked while unknown.
 */
export function defaultNamespaceProblems(r: PolicyResource): string[] {
    const w = workloadNamespace(r);
    if (!w || !isKnown(w.namespace)) return [];
    if (w.namespace === "default") return [`${w.kind} ${r.name} runs in namespace default`];
    if (w.namespace === undefined || w.namespace === "") return [`${w.kind} ${r.name} names no namespace, so it runs in the provider's default namespace (often default)`];
    return [];
}

/** Every policy of the pack, in report order. */
export const ELK_POLICIES: readonly ElkPolicy[] = [
    {
        name: "elk-tls-everywhere",
        description:
            "Elasticsearch serves HTTPS and TLS transport, Kibana serves HTTPS and verifies Elasticsearch fully, Elastic's operator is not told to serve either in plain text, and no client, script or health check turns certificate verification off.",
        remediation: "Keep the generated elasticsearch.yml and kibana.yml settings; verify against the stack CA (--cacert, ssl_certificate_authorities) instead of skipping verification.",
        check: tlsProblems,
    },
    {
        name: "elk-pinned-images",
        description: "Every image is pinned to an exact version tag or a digest: never latest, never untagged.",
        remediation: "Use an exact release (docker.elastic.co/elasticsearch/elasticsearch:9.4.1) or a digest (image@sha256:...).",
        check: imageProblems,
    },
    {
        name: "elk-privileged-only-sysctl",
        description:
            "No privilege by any route: no privileged container except the step that only runs 'sysctl -w vm.max_map_count=<n>' (a one-shot container on Docker, an init container of the pinned sysctl image on Kubernetes); no added capabilities but NET_BIND_SERVICE; no host PID, network, IPC or other namespaces; no host root, system directory or runtime socket mounted; no host devices; no confinement turned off.",
        remediation:
            "Drop privileged, capabilities.add, host namespaces and host mounts; if the hosts already have vm.max_map_count set, set elk-stack:setMaxMapCount to false.",
        check: privilegeProblems,
    },
    {
        name: "elk-resource-limits",
        description: "Long-running Docker containers have a memory limit; every Kubernetes container and init container has memory and CPU limits.",
        remediation: "Set memory on Docker containers; set resources.limits.memory and resources.limits.cpu on Kubernetes containers.",
        check: limitProblems,
    },
    {
        name: "elk-no-plaintext-secrets",
        description:
            "No private key or secret-looking entry in a ConfigMap, no literal password in a config file, no secret-looking environment variable on either target unless it holds a file path (a Secret reference or a Pulumi secret still lands in the process environment), and Docker key uploads are Pulumi secrets (checked where secret marks are visible; see docs/security.md).",
        remediation: "Put keys and passwords in files (a Kubernetes Secret mounted as a volume, a Docker upload that is a Pulumi secret) that a keystore or the script reads; reference them from config files as ${NAME}.",
        check: secretProblems,
    },
    {
        name: "elk-no-default-namespace",
        description: "No workload (pod template, Elastic operator resource or Helm release) in the default namespace, or in no namespace at all.",
        remediation: "Give the stack a namespace of its own (elk-stack:kubernetesNamespace, created and labelled for Pod Security by the stack), and the operator its own (elk-stack:eckOperatorNamespace).",
        check: defaultNamespaceProblems,
    },
];

/** Every violation of `r`, with the policy that found it. */
export function violations(r: PolicyResource): { policy: string; message: string }[] {
    return ELK_POLICIES.flatMap((p) => p.check(r).map((message) => ({ policy: p.name, message })));
}
