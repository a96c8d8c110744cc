/**
 * Log sources: which services send logs to Logstash, on which port, into which data stream; and the Logstash
 * pipeline files that receive them. Pure: no Pulumi, only `fs` to read the static pipeline files.
 *
 * A source is configured as a string `"kind:name"` or `"kind:name:port"` in the stack key `logSources`, so a team
 * adds a service with `pulumi config set --path 'logSources[2]' django:billing` and no code change; or as an object
 * `{"kind": "nginx", "name": "web", "errorLevel": "info"}` when it needs a setting the string cannot carry.
 *
 * Ports: every nginx source shares UDP {@link NGINX_SYSLOG_PORT} (nginx can only send plain UDP syslog, and its
 * access lines name their source, see `wiring.ts`). Each Django source gets a TCP port of its own, from
 * {@link DJANGO_FIRST_PORT} up in list order unless one is given: the port *is* the service's identity in
 * Logstash (the pipeline stamps `service.name` by port), so one service cannot write as another by
 * misconfiguring its app name, and a service can be moved or firewalled on its own.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { ConfigError } from "./configError";
import { PACKAGE_ROOT } from "./packageRoot";

/** What a source is: decides its protocol, framing and parser. */
export type LogSourceKind = "nginx" | "django";

/** Every kind, in the order pipelines are listed. */
export const LOG_SOURCE_KINDS: readonly LogSourceKind[] = ["nginx", "django"];

/** UDP port shared by every nginx source (RFC 3164 syslog). */
export const NGINX_SYSLOG_PORT = 5140;
/** First TCP port handed to Django sources that do not name one. */
export const DJANGO_FIRST_PORT = 5141;
/** Ports a Django source may not take: nginx's (confusing on one Service) and Logstash's monitoring API. */
const RESERVED_PORTS: ReadonlyMap<number, string> = new Map([
    [NGINX_SYSLOG_PORT, "the nginx syslog port"],
    [9600, "Logstash's monitoring API"],
]);
/**
 * Longest source name: a DNS label that also fits RFC 5424's APP-NAME (48 characters), which the Django
 * handler sends.
 */
export const MAX_SOURCE_NAME_LENGTH = 48;
/** Dataset that lines no parser understood are routed to (its own data stream, never dropped). */
export const PARSE_FAILURE_DATASET = "elk.parse_failure";

/** Sources used when the stack sets no `logSources`: one nginx and one Django service. */
export const DEFAULT_LOG_SOURCES: readonly string[] = ["nginx:web", "django:app"];

/**
 * nginx's error log levels, most severe first (`err_levels` in nginx's src/core/ngx_log.c). The level argument of
 * `error_log` is the least severe level written; each line's syslog severity is its own level minus one
 * (`ngx_syslog_writer` in src/core/ngx_syslog.c sets `peer->severity = level - 1`, overriding any `severity=`).
 */
export const NGINX_ERROR_LEVELS = ["emerg", "alert", "crit", "error", "warn", "notice", "info", "debug"] as const;
/** One of {@link NGINX_ERROR_LEVELS}. */
export type NginxErrorLevel = (typeof NGINX_ERROR_LEVELS)[number];
/**
 * Default `error_log` level of an nginx source: `warn` also sends what nginx's own default (`error`) hides, such as
 * "upstream server temporarily disabled" (src/http/ngx_http_upstream_round_robin.c), requests limit_req delays
 * (src/http/modules/ngx_http_limit_req_module.c) and request bodies buffered to disk (ngx_http_request_body.c).
 */
export const DEFAULT_NGINX_ERROR_LEVEL: NginxErrorLevel = "warn";

/** One configured log source. */
export interface LogSource {
    /** DNS label, unique across sources; becomes `service.name`. */
    readonly name: string;
    readonly kind: LogSourceKind;
    /** Port Logstash listens on for this source (container port). */
    readonly port: number;
    readonly protocol: "udp" | "tcp";
    /** Data stream dataset: `<kind>.<name>` with '-' mapped to '_' (a dataset may not contain '-'). */
    readonly dataset: string;
    /** The data stream events land in, with `${ELK_ENVIRONMENT}` left for Logstash to fill in. */
    readonly dataStream: string;
    /** nginx sources: the least severe error log level sent (default {@link DEFAULT_NGINX_ERROR_LEVEL}). */
    readonly errorLevel?: NginxErrorLevel;
}

/**
 * The syslog tag of an nginx source's error lines: `nginx_error_` and 16 hex digits of the SHA-256 of its name.
 * nginx allows a tag of at most 32 characters of [A-Za-z0-9_] (`ngx_syslog_parse_args` in src/core/ngx_syslog.c),
 * while a source name may have 48 characters and '-': a hash always fits, and the generated source map
 * (50-sources.conf) maps it back to the name. 0.4.0's snippets used the plain tag `nginx_error` for every source.
 */
export function nginxErrorTag(source: Pick<LogSource, "name">): string {
    return `nginx_error_${crypto.createHash("sha256").update(source.name).digest("hex").slice(0, 16)}`;
}

/** A port Logstash listens on, for container and Service definitions. */
export interface ListenerPort {
    /** Kubernetes port name: at most 15 characters, lowercase letters, digits and '-'. */
    readonly name: string;
    readonly port: number;
    readonly protocol: "udp" | "tcp";
}

/** A file for Logstash's pipeline directory. */
export interface PipelineFileOut {
    /** Path relative to /usr/share/logstash/pipeline, e.g. "nginx/00-input.conf" or "patterns/nginx". */
    readonly path: string;
    readonly content: string;
}

/** A pipelines.yml entry. */
export interface PipelineDef {
    /** Pipeline id: the source kind, or {@link DEAD_LETTER_PIPELINE}. */
    readonly id: string;
    /** Glob relative to the pipeline directory; Logstash concatenates the files in lexical order. */
    readonly pathConfig: string;
    /** Whether events Elasticsearch refuses go to this pipeline's dead letter queue (not for the one reading them). */
    readonly deadLetterQueue: boolean;
}

/** The pipeline that writes the other pipelines' dead letters to the parse-failure stream. */
export const DEAD_LETTER_PIPELINE = "dead_letter";
/** Where Logstash keeps dead letter queues: `path.data`/dead_letter_queue, one folder per pipeline id. */
export const DEAD_LETTER_QUEUE_PATH = "/usr/share/logstash/data/dead_letter_queue";

const CONFIG_KEY = "logSources";
const NAME = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;
/** Kubernetes port names (IANA service names): 1-15 of [a-z0-9-], a letter somewhere, no edge or double '-'. */
const PORT_NAME = /^(?=.*[a-z])[a-z0-9]([a-z0-9]|-(?!-))*[a-z0-9]$/;
const EXAMPLE = `'pulumi config set --path elk-stack:logSources '["nginx:web","django:shop","django:billing:5150"]'`;
const OBJECT_EXAMPLE = `{"kind":"nginx","name":"web","errorLevel":"info"}`;
const OBJECT_KEYS = ["kind", "name", "port", "errorLevel"];

/** The dataset a source's events go to. */
export function datasetFor(kind: LogSourceKind, name: string): string {
    return `${kind}.${name.replace(/-/g, "_")}`;
}

/**
 * Parses and checks the value of `logSources` (already JSON-parsed; a JSON string is parsed too). `undefined`
 * gives {@link DEFAULT_LOG_SOURCES}. Throws {@link ConfigError} naming the key, the entry and the fix.
 */
export function parseLogSources(raw: unknown, project = "elk-stack"): LogSource[] {
    const fail: SourcesFail = (problem, fix) => {
        throw new ConfigError(`${project}:${CONFIG_KEY}`, problem, fix);
    };
    const entries: SourceEntry[] = sourceList(raw, fail).map((item: unknown, i: number): SourceEntry => sourceEntry(entryForm(item, `entry ${i + 1}`, fail), fail));
    checkUniqueNames(entries, fail);
    const nextFreePort = djangoPorts(entries, fail);
    return entries.map((e) => {
        const port = e.kind === "nginx" ? NGINX_SYSLOG_PORT : (e.port ?? nextFreePort());
        const dataset = datasetFor(e.kind, e.name);
        return {
            name: e.name,
            kind: e.kind,
            port,
            protocol: e.kind === "nginx" ? "udp" : "tcp",
            dataset,
            dataStream: `logs-${dataset}-\${ELK_ENVIRONMENT}`,
            ...(e.errorLevel !== undefined ? { errorLevel: e.errorLevel } : {}),
        };
    });
}

/** How {@link parseLogSources} stops: with a {@link ConfigError} naming `logSources`. */
type SourcesFail = (problem: string, fix: string) => never;

/** One source as configured, checked, before its port is handed out. */
interface SourceEntry {
    readonly name: string;
    readonly kind: LogSourceKind;
    readonly port?: number;
    readonly errorLevel?: NginxErrorLevel;
}

/** The fields of one entry, as the string or the object gave them, and the entry as the user wrote it. */
interface EntryForm {
    /** `entry <n>`, counted from 1. */
    readonly where: string;
    readonly kind: string;
    readonly name: string;
    readonly portText: string | undefined;
    readonly errorLevel: unknown;
    readonly shown: string;
}

/** The list of sources: the default when unset, a JSON text parsed, and never empty (Logstash needs a pipeline). */
function sourceList(raw: unknown, fail: SourcesFail): unknown[] {
    let value: unknown = raw === undefined || raw === null || raw === "" ? DEFAULT_LOG_SOURCES : raw;
    if (typeof value === "string") {
        const text = value;
        try {
            value = JSON.parse(text) as unknown;
        } catch {
            fail(`'${text}' is not a JSON array`, `set a JSON array of "kind:name" strings or objects, e.g. ${EXAMPLE}`);
        }
    }
    if (!Array.isArray(value) || value.length === 0) {
        return fail("must be a non-empty list of sources", `set a JSON array of "kind:name" strings or objects, e.g. ${EXAMPLE}`);
    }
    return value;
}

/**
 * An entry's fields from either form: `"kind:name"` or `"kind:name:port"`, which a team sets with one `pulumi
 * config set --path`, or an object of {@link OBJECT_KEYS}, for the settings a string cannot carry.
 */
function entryForm(item: unknown, where: string, fail: SourcesFail): EntryForm {
    if (typeof item === "string") {
        const parts = item.split(":");
        if (parts.length < 2 || parts.length > 3) {
            return fail(`${where} '${item}' is not "kind:name" or "kind:name:port"`, `write it like "django:shop" or "django:shop:5150"`);
        }
        const [kind, name, portText] = parts;
        return { where, kind, name, portText, errorLevel: undefined, shown: item };
    }
    if (typeof item === "object" && item !== null && !Array.isArray(item)) {
        const o = item as Record<string, unknown>;
        const shown = JSON.stringify(item);
        const unknown = Object.keys(o).find((k) => !OBJECT_KEYS.includes(k));
        if (unknown !== undefined) return fail(`${where} ${shown} has unknown key '${unknown}'`, `use only ${OBJECT_KEYS.join(", ")}, e.g. ${OBJECT_EXAMPLE}`);
        if (typeof o.kind !== "string" || typeof o.name !== "string") {
            return fail(`${where} ${shown} needs string values for 'kind' and 'name'`, `write it like ${OBJECT_EXAMPLE}`);
        }
        if (o.port !== undefined && typeof o.port !== "number" && typeof o.port !== "string") {
            return fail(`${where} ${shown} has port ${JSON.stringify(o.port)}`, "give the port as a number from 1024 to 65535");
        }
        const { kind, name, errorLevel } = o as { kind: string; name: string; errorLevel?: unknown };
        return { where, kind, name, portText: o.port === undefined ? undefined : String(o.port), errorLevel, shown };
    }
    return fail(`${where} is ${JSON.stringify(item)}, neither a string nor an object`, `write each source as "kind:name", "kind:name:port" or an object like ${OBJECT_EXAMPLE}`);
}

/**
 * An entry's rules: a known kind, a name that can be a DNS label and an APP-NAME, an error level only on nginx, and
 * a port that is unprivileged, nginx's shared one for nginx, and not reserved for a Django source.
 */
function sourceEntry({ where, kind, name, portText, errorLevel, shown }: EntryForm, fail: SourcesFail): SourceEntry {
    if (!(LOG_SOURCE_KINDS as readonly string[]).includes(kind)) {
        return fail(`${where} '${shown}' has unknown kind '${kind}'`, `use one of ${LOG_SOURCE_KINDS.join(", ")}`);
    }
    if (!NAME.test(name) || name.length > MAX_SOURCE_NAME_LENGTH) {
        return fail(
            `${where} '${shown}' has name '${name}', which is not a DNS label of at most ${MAX_SOURCE_NAME_LENGTH} characters`,
            "use lowercase letters, digits and '-', starting with a letter, e.g. 'shop' or 'billing-api'",
        );
    }
    if (errorLevel !== undefined && kind !== "nginx") {
        return fail(`${where} '${shown}' sets errorLevel on a ${kind} source`, "drop errorLevel: it is the level of nginx's error_log and applies to nginx sources only");
    }
    if (errorLevel !== undefined && !(NGINX_ERROR_LEVELS as readonly unknown[]).includes(errorLevel)) {
        return fail(`${where} '${shown}' has errorLevel ${JSON.stringify(errorLevel)}`, `use one of nginx's levels ${NGINX_ERROR_LEVELS.join(", ")} (default ${DEFAULT_NGINX_ERROR_LEVEL})`);
    }
    const level = kind === "nginx" ? ((errorLevel as NginxErrorLevel | undefined) ?? DEFAULT_NGINX_ERROR_LEVEL) : undefined;
    if (portText === undefined) return { name, kind: kind as LogSourceKind, errorLevel: level };
    const port = /^\d+$/.test(portText) ? Number(portText) : NaN;
    if (!Number.isInteger(port) || port < 1024 || port > 65535) {
        return fail(`${where} '${shown}' has port '${portText}', not a number from 1024 to 65535`, "choose an unprivileged port from 1024 to 65535");
    }
    if (kind === "nginx" && port !== NGINX_SYSLOG_PORT) {
        return fail(
            `${where} '${shown}' gives nginx port ${port}, but every nginx source shares UDP ${NGINX_SYSLOG_PORT}`,
            `drop the port ("nginx:${name}"); nginx sources are told apart by the source name in their access lines`,
        );
    }
    const reserved = RESERVED_PORTS.get(port);
    if (kind === "django" && reserved !== undefined) {
        return fail(`${where} '${shown}' takes port ${port}, which is ${reserved}`, `choose another port, or leave it out to get the next free one from ${DJANGO_FIRST_PORT}`);
    }
    return { name, kind: kind as LogSourceKind, port, errorLevel: level };
}

/** Source names are unique: each becomes a `service.name` and a dataset. */
function checkUniqueNames(entries: readonly SourceEntry[], fail: SourcesFail): void {
    const seenNames = new Map<string, number>();
    entries.forEach((e, i) => {
        const first = seenNames.get(e.name);
        if (first !== undefined) fail(`entries ${first + 1} and ${i + 1} are both named '${e.name}'`, "give every source its own name");
        seenNames.set(e.name, i);
    });
}

/**
 * The Django ports: those given are unique, and the others are handed out by the function returned, from
 * {@link DJANGO_FIRST_PORT} up. The ports given are taken first, so a port given later in the list is never
 * handed out automatically before.
 */
function djangoPorts(entries: readonly SourceEntry[], fail: SourcesFail): () => number {
    const taken = new Map<number, number>();
    entries.forEach((e, i) => {
        if (e.kind !== "django" || e.port === undefined) return;
        const first = taken.get(e.port);
        if (first !== undefined) fail(`entries ${first + 1} and ${i + 1} both take port ${e.port}`, "give every Django source its own port, or leave ports out");
        taken.set(e.port, i);
    });
    let next = DJANGO_FIRST_PORT;
    return (): number => {
        while (taken.has(next) || RESERVED_PORTS.has(next)) next++;
        if (next > 65535) fail("ran out of ports for Django sources", "give some sources explicit ports below 65536");
        taken.set(next, -1);
        return next;
    };
}

/**
 * What is wrong with sources a program built itself rather than through {@link parseLogSources}, or undefined:
 * the same rules (each source goes through it as an object), and the fields it derives (protocol, dataset, data
 * stream, a Django source's port) must be the ones it would derive. The shared validator
 * (components/model/validation.ts) runs this for config and code alike.
 */
export function logSourcesProblem(sources: readonly LogSource[]): { problem: string; fix: string } | undefined {
    const fix = "build the list with parseLogSources([...]) from \"kind:name\" strings or {kind, name, port, errorLevel} objects";
    const given: unknown = sources;
    if (!Array.isArray(given)) return { problem: `must be a list of sources, not ${JSON.stringify(given)}`, fix };
    const bad = (given as unknown[]).findIndex((x) => typeof x !== "object" || x === null || Array.isArray(x));
    if (bad >= 0) return { problem: `entry ${bad + 1} is ${JSON.stringify((given as unknown[])[bad])}, not a source`, fix };
    let parsed: LogSource[];
    try {
        parsed = parseLogSources(sources.map((x) => ({ kind: x.kind, name: x.name, ...(x.port !== undefined ? { port: x.port } : {}), ...(x.errorLevel !== undefined ? { errorLevel: x.errorLevel } : {}) })));
    } catch (e) {
        if (e instanceof ConfigError) return { problem: e.problem, fix: e.fix };
        throw e;
    }
    for (const [i, x] of sources.entries()) {
        const want = parsed[i];
        for (const field of ["port", "protocol", "dataset", "dataStream"] as const) {
            if (x[field] !== want[field]) {
                return { problem: `entry ${i + 1} (${x.kind}:${x.name}) has ${field} ${JSON.stringify(x[field])} where its kind and name give ${JSON.stringify(want[field])}`, fix };
            }
        }
    }
    return undefined;
}

/** Kubernetes-safe port name of a source's listener. */
function listenerName(source: LogSource): string {
    if (source.kind === "nginx") return "nginx-syslog";
    const readable = `dj-${source.name}`;
    // Ports are unique, so the fallback is too, and it cannot collide with a "dj-" name.
    return readable.length <= 15 && PORT_NAME.test(readable) ? readable : `django-${source.port}`;
}

/** The ports Logstash listens on: one shared UDP port for all nginx sources, one TCP port per Django source. */
export function logstashListeners(sources: readonly LogSource[]): ListenerPort[] {
    const byKey = new Map<string, ListenerPort>();
    for (const s of sources) {
        const key = `${s.protocol}/${s.port}`;
        if (!byKey.has(key)) byKey.set(key, { name: listenerName(s), port: s.port, protocol: s.protocol });
    }
    return [...byKey.values()];
}

/** The repository's pipeline directory. */
export const DEFAULT_PIPELINES_DIR = path.join(PACKAGE_ROOT, "pipelines");
/** Static files copied into every pipeline (routing and the Elasticsearch output). */
const SHARED_DIR = "shared";
/** Grok pattern files, loaded by every grok through `patterns_dir`. */
export const PATTERNS_DIR = "patterns";

/** The generated input file of a pipeline: lexically first, so its `input` section reads first. */
export const INPUT_FILE = "00-input.conf";
/** The generated source map of a pipeline: after parsing (10-...), before routing (90-...). */
export const SOURCES_FILE = "50-sources.conf";

const HEADER = (what: string): string =>
    `# Generated by elk-stack from the logSources stack config: ${what}.\n# Edit the config, not this file; \`pulumi up\` rewrites it.\n`;

/** Logstash string literal: our names and numbers contain no quote or backslash, but be safe anyway. */
function lsString(value: string): string {
    if (/["\\\n]/.test(value)) throw new Error(`cannot put ${JSON.stringify(value)} in a Logstash string`);
    return `"${value}"`;
}

/** The `input` section of a kind's pipeline. */
export function pipelineInput(kind: LogSourceKind, sources: readonly LogSource[]): string {
    const own = sources.filter((s) => s.kind === kind);
    if (kind === "nginx") {
        return `${HEADER(`the UDP listener shared by nginx sources ${own.map((s) => s.name).join(", ")}`)}input {
  # nginx speaks only plain UDP syslog (RFC 3164); one datagram is one line, hence the plain codec.
  # nginx writes a request line raw into its error lines, so a datagram may hold bytes that are not UTF-8. With
  # charset "UTF-8" Logstash would escape the whole line (logstash-core/lib/logstash/util/charset.rb: invalid
  # UTF-8 becomes data.inspect[1..-2], every '"' a '\\"'). ISO-8859-1 maps each byte to one character, losslessly;
  # nginx/10-parse.conf turns those characters back into bytes and decodes them as UTF-8.
  # The sender's address goes to [host][ip], the input's ECS default (lib/logstash/inputs/udp.rb in
  # logstash-input-udp); setting source_ip_fieldname would only make it warn at every start.
  udp {
    id => "nginx_syslog_udp"
    port => ${NGINX_SYSLOG_PORT}
    codec => plain { charset => "ISO-8859-1" }
  }
}
`;
    }
    const inputs = own.map(
        (s) => `  # Django service ${lsString(s.name)}: RFC 5424, one record a line, over TLS with Logstash's own certificate.
  tcp {
    id => ${lsString(`django_${s.name.replace(/-/g, "_")}_tcp`)}
    port => ${s.port}
    ssl_enabled => true
    ssl_certificate => "\${ELK_TLS_CERT}"
    ssl_key => "\${ELK_TLS_KEY}"
    # Apps prove nothing with a client certificate: they verify Logstash; the port names the service.
    ssl_client_authentication => "none"
    # On by default, it looks up a name for every connection that nothing here uses (logstash-input-tcp
    # lib/logstash/inputs/tcp/decoder_impl.rb, extract_host_name): the sender's address is kept as host.ip.
    dns_reverse_lookup_enabled => false
    codec => line { charset => "UTF-8" }
    add_field => { "[@metadata][elk][source]" => ${lsString(s.name)} }
  }`,
    );
    return `${HEADER(`one TLS listener per Django source`)}input {\n${inputs.join("\n")}\n}\n`;
}

/**
 * The source map of a kind's pipeline: `[@metadata][elk][source]` (set by the input for Django, parsed from the
 * access line or mapped from the error line's tag for nginx) becomes `service.name` and the dataset. A name that is not configured is routed to the
 * parse-failure stream, tagged `_elk_unknown_source`, so a stale snippet is visible instead of silently mixed in.
 */
export function pipelineSources(kind: LogSourceKind, sources: readonly LogSource[]): string {
    const own = sources.filter((s) => s.kind === kind);
    const lines: string[] = [HEADER(`which ${kind} source each event belongs to`).trimEnd(), "filter {"];
    if (kind === "nginx") {
        // Each source's error_log has its own tag (wiring.ts); 10-parse.conf puts its hash in [@metadata][elk][error_tag].
        lines.push("  # Error lines name their source by the hash in their syslog tag (nginx_error_<hash>, see nginxErrorTag).");
        own.forEach((s, i) => {
            const tag = nginxErrorTag(s).slice("nginx_error_".length);
            lines.push(
                `  ${i === 0 ? "if" : "} else if"} [@metadata][elk][error_tag] == ${lsString(tag)} {`,
                `    mutate { id => ${lsString(`nginx_error_tag_${s.name.replace(/-/g, "_")}`)} replace => { "[@metadata][elk][source]" => ${lsString(s.name)} } }`,
            );
        });
        lines.push(
            "  } else if [@metadata][elk][error_tag] {",
            "    # A tag no configured source has (a removed source's snippet): the tag stands in for the name, which is unknown.",
            `    mutate { id => "nginx_error_tag__unknown" replace => { "[@metadata][elk][source]" => "%{[log][syslog][appname]}" } }`,
            "  }",
        );
    }
    if (kind === "nginx" && own.length === 1) {
        lines.push(
            "  # 0.4.0's snippets tag every error line nginx_error, without a source; with one nginx source they are its own.",
            "  if ![@metadata][elk][source] {",
            `    mutate { id => "nginx_default_source" replace => { "[@metadata][elk][source]" => ${lsString(own[0].name)} } }`,
            "  }",
        );
    }
    own.forEach((s, i) => {
        lines.push(
            `  ${i === 0 ? "if" : "} else if"} [@metadata][elk][source] == ${lsString(s.name)} {`,
            `    mutate {`,
            `      id => ${lsString(`${kind}_source_${s.name.replace(/-/g, "_")}`)}`,
            `      replace => { "[service][name]" => ${lsString(s.name)} "[@metadata][elk][dataset]" => ${lsString(s.dataset)} }`,
            `    }`,
        );
    });
    lines.push("  } else if [@metadata][elk][source] {", `    mutate { id => "${kind}_unknown_source" add_tag => ["_elk_parse_failure", "_elk_unknown_source"] }`);
    if (kind === "nginx") {
        lines.push(
            "  } else {",
            "    # Several nginx sources and an error line tagged nginx_error (0.4.0's snippets): it cannot name its source,",
            "    # so it goes to the kind's shared stream, where host.hostname tells machines apart.",
            `    mutate { id => "nginx_shared_stream" replace => { "[@metadata][elk][dataset]" => "nginx" } }`,
        );
    }
    lines.push("  }", "}", "");
    return lines.join("\n");
}

function readDir(dir: string, filter: (name: string) => boolean): { name: string; content: string }[] {
    if (!fs.existsSync(dir)) return [];
    return fs
        .readdirSync(dir)
        .filter((name) => filter(name) && fs.statSync(path.join(dir, name)).isFile())
        .sort()
        .map((name) => ({ name, content: fs.readFileSync(path.join(dir, name), "utf8") }));
}

/**
 * The pipelines for the configured kinds and every file they need: per kind the generated input and source map,
 * the kind's static parse files (`pipelinesDir/<kind>/*.conf`) and the shared routing and output
 * (`pipelinesDir/shared/*.conf`, copied into each kind's directory so each `path.config` glob is one folder);
 * plus the grok pattern files (`pipelinesDir/patterns/*`) once. Kinds without sources get no pipeline.
 */
export function logstashPipelines(sources: readonly LogSource[], pipelinesDir: string = DEFAULT_PIPELINES_DIR): { pipelines: PipelineDef[]; files: PipelineFileOut[] } {
    const kinds = LOG_SOURCE_KINDS.filter((k) => sources.some((s) => s.kind === k));
    if (kinds.length === 0) return { pipelines: [], files: [] };
    const pipelines: PipelineDef[] = [
        ...kinds.map((kind) => ({ id: kind, pathConfig: `${kind}/*.conf`, deadLetterQueue: true })),
        { id: DEAD_LETTER_PIPELINE, pathConfig: `${DEAD_LETTER_PIPELINE}/*.conf`, deadLetterQueue: false },
    ];
    const shared = readDir(path.join(pipelinesDir, SHARED_DIR), (n) => n.endsWith(".conf"));
    const files: PipelineFileOut[] = [];
    const sets: { id: string; generated: { name: string; content: string }[] }[] = [
        ...kinds.map((kind) => ({
            id: kind,
            generated: [
                { name: INPUT_FILE, content: pipelineInput(kind, sources) },
                { name: SOURCES_FILE, content: pipelineSources(kind, sources) },
            ],
        })),
        { id: DEAD_LETTER_PIPELINE, generated: [{ name: INPUT_FILE, content: deadLetterInput(kinds) }] },
    ];
    for (const { id, generated } of sets) {
        const own = readDir(path.join(pipelinesDir, id), (n) => n.endsWith(".conf"));
        if (own.length === 0) throw new Error(`no pipeline files for ${id} in ${path.join(pipelinesDir, id)}`);
        const all = [...generated, ...own, ...shared];
        const names = all.map((f) => f.name);
        const clash = names.find((n, i) => names.indexOf(n) !== i);
        if (clash !== undefined) throw new Error(`pipeline file ${id}/${clash} is both generated and static, or in both ${id}/ and ${SHARED_DIR}/`);
        files.push(...all.sort((a, b) => (a.name < b.name ? -1 : 1)).map((f) => ({ path: `${id}/${f.name}`, content: f.content })));
    }
    const patterns = readDir(path.join(pipelinesDir, PATTERNS_DIR), (n) => !n.startsWith("."));
    files.push(...patterns.map((f) => ({ path: `${PATTERNS_DIR}/${f.name}`, content: f.content })));
    return { pipelines, files };
}

/**
 * The input of the dead letter pipeline: one reader per source pipeline's queue. Offsets are committed and
 * consumed segments removed, so a restart does not write a dead letter twice and the queue does not grow
 * without end. A queue folder that does not exist yet (its pipeline has not started) fails the reader's run
 * (logstash-input-dead_letter_queue, DeadLetterQueueInputPlugin.java, lazyInitQueueReader), and Logstash runs an
 * input that failed again a second later (logstash-core lib/logstash/java_pipeline.rb, inputworker).
 */
export function deadLetterInput(kinds: readonly LogSourceKind[]): string {
    const inputs = kinds.map(
        (kind) => `  dead_letter_queue {
    id => ${lsString(`dead_letters_of_${kind}`)}
    path => ${lsString(DEAD_LETTER_QUEUE_PATH)}
    pipeline_id => ${lsString(kind)}
    commit_offsets => true
    clean_consumed => true
  }`,
    );
    return `${HEADER(`the dead letter queues of the ${kinds.join(" and ")} pipelines`)}input {\n${inputs.join("\n")}\n}\n`;
}
