/**
 * A small, strict stand-in for Logstash, for tests: it parses our pipeline files with Logstash's config grammar
 * and runs events through them with the semantics of the plugins and options they use (udp/tcp inputs with the
 * plain/line codecs in ECS mode, grok, mutate, date, syslog_pri, conditionals, `${VAR:default}` and
 * `%{[field]}` references, the elasticsearch output's data stream naming). Grok and gsub run on Oniguruma with
 * Ruby syntax (see grok.ts), like Logstash's JRuby.
 *
 * Codecs convert bytes to text as Logstash's `LogStash::Util::Charset` does, and `ruby` filters run their code in
 * real Ruby (see ruby.ts), so the tests see what Logstash would make of bytes that are not UTF-8.
 *
 * Anything outside that subset (another plugin, another option, a Joda format it does not know) throws instead
 * of being skipped, so a pipeline change the tests cannot follow fails loudly. `useragent` is the one plugin
 * accepted but not run: its output comes from a user-agent database, not from our files; it is recorded.
 */
import { Grok, type GrokValue, RubyRegex, loadOniguruma, readPatternFiles } from "./grok";
import { charsetConvert, runRubyFilter } from "./ruby";

// ---------------------------------------------------------------------------------------------------------------
// Config syntax

/** A setting value. Barewords (true, line) are kept as strings. */
export type LsValue = string | number | LsValue[] | LsHash | LsPlugin;
export interface LsHash {
    readonly kind: "hash";
    readonly entries: [string, LsValue][];
}
export interface LsPlugin {
    readonly kind: "plugin";
    readonly name: string;
    readonly settings: [string, LsValue][];
}
export interface LsIf {
    readonly kind: "if";
    readonly branches: { cond?: Cond; body: LsStatement[] }[];
}
export type LsStatement = LsPlugin | LsIf;
export interface LsConfig {
    readonly input: LsStatement[];
    readonly filter: LsStatement[];
    readonly output: LsStatement[];
}

type Rvalue = { field: string[] } | { str: string } | { num: number } | { list: Rvalue[] };
type Cond =
    | { op: "and" | "or"; l: Cond; r: Cond }
    | { op: "not"; e: Cond }
    | { op: "cmp"; cmp: "==" | "!=" | "<" | ">" | "<=" | ">="; l: Rvalue; r: Rvalue }
    | { op: "in" | "not in"; l: Rvalue; r: Rvalue }
    | { op: "=~" | "!~"; l: Rvalue; regex: string }
    | { op: "truthy"; v: Rvalue };

/** Parses a Logstash config (several files concatenated). Strings keep their text as written (no `config.support_escapes`). */
export function parseConfig(text: string): LsConfig {
    return new ConfigParser(text).config();
}

class ConfigParser {
    private pos = 0;
    constructor(private readonly text: string) {}

    private fail(message: string): never {
        const line = this.text.slice(0, this.pos).split("\n").length;
        throw new Error(`config line ${line}: ${message} near ${JSON.stringify(this.text.slice(this.pos, this.pos + 30))}`);
    }

    private skip(): void {
        for (;;) {
            const m = /^(?:\s+|#[^\n]*)/.exec(this.text.slice(this.pos));
            if (!m || m[0].length === 0) return;
            this.pos += m[0].length;
        }
    }

    private peek(s: string): boolean {
        this.skip();
        return this.text.startsWith(s, this.pos);
    }

    private eat(s: string): void {
        if (!this.peek(s)) this.fail(`expected '${s}'`);
        this.pos += s.length;
    }

    private word(): string {
        this.skip();
        const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(this.text.slice(this.pos));
        if (!m) this.fail("expected a name");
        this.pos += m[0].length;
        return m[0];
    }

    private peekWord(w: string): boolean {
        this.skip();
        return new RegExp(`^${w}(?![A-Za-z0-9_-])`).test(this.text.slice(this.pos));
    }

    /** A quoted string: a backslash before the quote keeps it from ending the string; the text is kept as is. */
    private string(): string {
        this.skip();
        const quote = this.text[this.pos];
        if (quote !== '"' && quote !== "'") this.fail("expected a string");
        let i = this.pos + 1;
        while (i < this.text.length && this.text[i] !== quote) i += this.text[i] === "\\" && this.text[i + 1] === quote ? 2 : 1;
        if (i >= this.text.length) this.fail("unterminated string");
        const value = this.text.slice(this.pos + 1, i);
        this.pos = i + 1;
        return value;
    }

    config(): LsConfig {
        const config: LsConfig = { input: [], filter: [], output: [] };
        while (this.skip(), this.pos < this.text.length) {
            const section = this.word();
            if (section !== "input" && section !== "filter" && section !== "output") this.fail(`unknown section ${section}`);
            this.eat("{");
            config[section].push(...this.body());
            this.eat("}");
        }
        return config;
    }

    private body(): LsStatement[] {
        const out: LsStatement[] = [];
        while (!this.peek("}")) out.push(this.peekWord("if") ? this.conditional() : this.plugin(this.word()));
        return out;
    }

    private conditional(): LsIf {
        const branches: LsIf["branches"] = [];
        this.word(); // if
        for (;;) {
            const cond = this.condition();
            this.eat("{");
            branches.push({ cond, body: this.body() });
            this.eat("}");
            if (!this.peekWord("else")) break;
            this.word();
            if (this.peekWord("if")) {
                this.word();
                continue;
            }
            this.eat("{");
            branches.push({ body: this.body() });
            this.eat("}");
            break;
        }
        return { kind: "if", branches };
    }

    private plugin(name: string): LsPlugin {
        this.eat("{");
        const settings: [string, LsValue][] = [];
        while (!this.peek("}")) {
            const key = this.word();
            this.eat("=>");
            settings.push([key, this.value()]);
        }
        this.eat("}");
        return { kind: "plugin", name, settings };
    }

    private value(): LsValue {
        this.skip();
        const c = this.text[this.pos];
        if (c === '"' || c === "'") return this.string();
        if (c === "[") return this.list(() => this.value());
        if (c === "{") {
            this.pos++;
            const entries: [string, LsValue][] = [];
            while (!this.peek("}")) {
                this.skip();
                const q = this.text[this.pos];
                const key = q === '"' || q === "'" ? this.string() : this.word();
                this.eat("=>");
                entries.push([key, this.value()]);
            }
            this.eat("}");
            return { kind: "hash", entries };
        }
        const num = /^-?[0-9]+(?:\.[0-9]+)?/.exec(this.text.slice(this.pos));
        if (num) {
            this.pos += num[0].length;
            return Number(num[0]);
        }
        const bare = this.word();
        return this.peek("{") ? this.plugin(bare) : bare;
    }

    /** `[ item, item, ... ]` (a trailing comma allowed), starting at the '['. */
    private list<T>(item: () => T): T[] {
        this.eat("[");
        const items: T[] = [];
        while (!this.peek("]")) {
            items.push(item());
            if (this.peek(",")) this.eat(",");
        }
        this.eat("]");
        return items;
    }

    // Conditions: or < and < not < comparison.
    private condition(): Cond {
        return this.chain("or", () => this.chain("and", () => this.negation()));
    }

    /** Left-associative `operand (op operand)*`. */
    private chain(op: "or" | "and", operand: () => Cond): Cond {
        let left = operand();
        while (this.peekWord(op)) {
            this.word();
            left = { op, l: left, r: operand() };
        }
        return left;
    }

    private negation(): Cond {
        if (this.peek("!") && !this.peek("!=")) {
            this.eat("!");
            return { op: "not", e: this.negation() };
        }
        if (this.peek("(")) {
            this.eat("(");
            const inner = this.condition();
            this.eat(")");
            return inner;
        }
        const l = this.rvalue();
        for (const cmp of ["==", "!=", "<=", ">=", "<", ">"] as const) {
            if (this.peek(cmp)) {
                this.eat(cmp);
                return { op: "cmp", cmp, l, r: this.rvalue() };
            }
        }
        for (const op of ["=~", "!~"] as const) {
            if (this.peek(op)) {
                this.eat(op);
                return { op, l, regex: this.regexLiteral() };
            }
        }
        if (this.peekWord("in")) {
            this.word();
            return { op: "in", l, r: this.rvalue() };
        }
        if (this.peekWord("not")) {
            this.word();
            if (!this.peekWord("in")) this.fail("expected 'in' after 'not'");
            this.word();
            return { op: "not in", l, r: this.rvalue() };
        }
        return { op: "truthy", v: l };
    }

    /** `/.../` as Logstash's grammar reads it (logstash-core/lib/logstash/compiler/lscl.rb): `\/` does not end it; the text between the slashes is the pattern. */
    private regexLiteral(): string {
        this.skip();
        if (this.text[this.pos] !== "/") this.fail("expected a /regex/ (a string on the right of =~ is not emulated)");
        let i = this.pos + 1;
        while (i < this.text.length && this.text[i] !== "/") i += this.text[i] === "\\" && this.text[i + 1] === "/" ? 2 : 1;
        if (i >= this.text.length) this.fail("unterminated regex");
        const pattern = this.text.slice(this.pos + 1, i);
        this.pos = i + 1;
        return pattern;
    }

    private rvalue(): Rvalue {
        this.skip();
        const c = this.text[this.pos];
        if (c === '"' || c === "'") return { str: this.string() };
        if (c === "[") {
            const ref = /^(?:\[[^[\]"',]+\])+/.exec(this.text.slice(this.pos));
            if (ref) {
                this.pos += ref[0].length;
                return { field: parseFieldRef(ref[0]) };
            }
            return { list: this.list(() => this.rvalue()) };
        }
        const num = /^-?[0-9]+(?:\.[0-9]+)?/.exec(this.text.slice(this.pos));
        if (num) {
            this.pos += num[0].length;
            return { num: Number(num[0]) };
        }
        return this.fail("expected a value in the condition");
    }
}

/**
 * Paths of the references parsed so far: the pipelines name a few dozen fields, and each event reads and writes them
 * many times. Parsing them again each time was a fifth of the CPU time of the Django delivery tests
 * (django.accounting, django.faults and pipelines run alone: 17.9 to 20.0 s of CPU before, 13.7 to 15.8 s after).
 */
const fieldRefPaths = new Map<string, readonly string[]>();

/** `[a][b]` or `a` to a path (a new array: the caller may change it). */
export function parseFieldRef(ref: string): string[] {
    let path = fieldRefPaths.get(ref);
    if (path === undefined) {
        const parts = ref.startsWith("[") ? [...ref.matchAll(/\[([^\]]+)\]/g)].map((m) => m[1]) : [ref];
        if (ref.startsWith("[") && parts.join("").length + parts.length * 2 !== ref.length) throw new Error(`bad field reference ${ref}`);
        path = parts;
        // References can come from event data (a sprintf'd field name): the cache stays bounded.
        if (fieldRefPaths.size >= 10_000) fieldRefPaths.clear();
        fieldRefPaths.set(ref, path);
    }
    return [...path];
}

// ---------------------------------------------------------------------------------------------------------------
// Events

export type EventValue = string | number | boolean | EventValue[] | EventObject;
export interface EventObject {
    [key: string]: EventValue;
}

/** An event: nested fields, `@metadata` included, as Logstash's Event holds them. */
export class LsEvent {
    readonly data: EventObject;

    constructor(data: EventObject = {}) {
        this.data = data;
    }

    get(ref: string | string[]): EventValue | undefined {
        const path = typeof ref === "string" ? parseFieldRef(ref) : ref;
        let node: EventValue | undefined = this.data;
        for (const key of path) {
            if (node === undefined || typeof node !== "object" || Array.isArray(node)) return undefined;
            node = node[key];
        }
        return node;
    }

    set(ref: string | string[], value: EventValue): void {
        const path = typeof ref === "string" ? parseFieldRef(ref) : ref;
        let node: EventObject = this.data;
        for (const key of path.slice(0, -1)) {
            const next = node[key];
            if (next === undefined || typeof next !== "object" || Array.isArray(next)) node[key] = {};
            node = node[key] as EventObject;
        }
        node[path[path.length - 1]] = value;
    }

    remove(ref: string | string[]): void {
        const path = typeof ref === "string" ? parseFieldRef(ref) : ref;
        const parent = path.length === 1 ? this.data : this.get(path.slice(0, -1));
        if (parent && typeof parent === "object" && !Array.isArray(parent)) delete parent[path[path.length - 1]];
    }

    get tags(): string[] {
        const tags = this.get("tags");
        return Array.isArray(tags) ? tags.map(String) : [];
    }

    addTag(tag: string): void {
        const tags = this.tags;
        if (!tags.includes(tag)) this.set("tags", [...tags, tag]);
    }

    /** A field as a string (for assertions); undefined when absent. */
    str(ref: string): string | undefined {
        const v = this.get(ref);
        return v === undefined ? undefined : typeof v === "object" ? JSON.stringify(v) : String(v);
    }

    /** Logstash's sprintf: `%{[a][b]}` and `%{name}`; a missing field stays as written. */
    sprintf(template: string): string {
        return template.replace(/%\{([^}]+)\}/g, (whole, ref: string) => {
            if (ref.startsWith("+")) throw new Error(`sprintf date formats are not supported: ${whole}`);
            const v = this.get(ref);
            if (v === undefined) return whole;
            if (Array.isArray(v)) return v.map(String).join(",");
            return typeof v === "object" ? JSON.stringify(v) : String(v);
        });
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Pipeline

/** A file in the pipeline directory (as components/model/sources.ts's `logstashPipelines` returns them). */
export interface PipelineFile {
    readonly path: string;
    readonly content: string;
}

/** What arrives at an input. */
export interface Arrival {
    readonly protocol: "udp" | "tcp";
    readonly port: number;
    /** One datagram (udp) or a connection's whole byte stream (tcp). */
    readonly data: Buffer;
    /** The sender's address. */
    readonly peer: string;
}

/** Where the elasticsearch output would write an event. */
export interface Delivery {
    readonly outputId: string;
    /** The data stream (the index the output names). */
    readonly dataStream: string;
    /** The bulk action: always create for a data stream. */
    readonly action: string;
    /** The document id the output sets, when it sets one (otherwise Elasticsearch makes one up). */
    readonly documentId?: string;
}

const PIPELINE_ROOT = "/usr/share/logstash/pipeline";
const COMMON_OPTIONS = new Set(["id", "add_field", "add_tag", "remove_field", "remove_tag", "enable_metric", "periodic_flush"]);
const SYSLOG_FACILITIES = ["kernel", "user-level", "mail", "daemon", "security/authorization", "syslogd", "line printer", "network news", "uucp", "clock", "security/authorization", "ftp", "ntp", "log audit", "log alert", "clock", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"];
const SYSLOG_SEVERITIES = ["emergency", "alert", "critical", "error", "warning", "notice", "informational", "debug"];
// logstash-output-elasticsearch's validator: a dataset or namespace may not contain these.
const INVALID_IDENTIFIER = /[\\/*?"<>| ,#:]/;

function settingsOf(plugin: LsPlugin, allowed: readonly string[]): Map<string, LsValue> {
    const map = new Map<string, LsValue>();
    for (const [key, value] of plugin.settings) {
        if (!allowed.includes(key) && !COMMON_OPTIONS.has(key)) throw new Error(`${plugin.name}: option '${key}' is not supported by this test harness`);
        if (map.has(key)) throw new Error(`${plugin.name}: option '${key}' set twice`);
        map.set(key, value);
    }
    return map;
}

function asString(value: LsValue | undefined, what: string): string {
    if (typeof value === "string") return value;
    if (typeof value === "number") return String(value);
    throw new Error(`${what} must be a string`);
}

function asList(value: LsValue | undefined, what: string): string[] {
    if (value === undefined) return [];
    const items = Array.isArray(value) ? value : [value];
    return items.map((v) => asString(v, what));
}

/** Hash settings given as a hash, or as Logstash's flat array form ["k1", "v1", "k2", "v2"]. */
function asPairs(value: LsValue | undefined, what: string): [string, LsValue][] {
    if (value === undefined) return [];
    if (typeof value === "object" && !Array.isArray(value) && value.kind === "hash") return value.entries;
    if (Array.isArray(value)) {
        const out: [string, LsValue][] = [];
        for (let i = 0; i + 1 < value.length; i += 2) out.push([asString(value[i], what), value[i + 1]]);
        return out;
    }
    throw new Error(`${what} must be a hash`);
}

/** Logstash substitutes `${VAR}` and `${VAR:default}` in every setting when the pipeline loads. */
function substituteEnv(value: LsValue, env: Readonly<Record<string, string>>): LsValue {
    if (typeof value === "string") {
        return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}/g, (_m, name: string, fallback?: string) => {
            const v = env[name] ?? fallback;
            if (v === undefined) throw new Error(`Logstash would not start: environment variable ${name} is not set and has no default`);
            return v;
        });
    }
    if (typeof value === "number") return value;
    if (Array.isArray(value)) return value.map((v) => substituteEnv(v, env));
    if (value.kind === "hash") return { kind: "hash", entries: value.entries.map(([k, v]) => [k, substituteEnv(v, env)]) };
    return { kind: "plugin", name: value.name, settings: value.settings.map(([k, v]) => [k, substituteEnv(v, env)]) };
}

function substituteStatements(statements: LsStatement[], env: Readonly<Record<string, string>>): LsStatement[] {
    return statements.map((s) =>
        s.kind === "plugin"
            ? (substituteEnv(s, env) as LsPlugin)
            : { kind: "if", branches: s.branches.map((b) => ({ cond: b.cond, body: substituteStatements(b.body, env) })) },
    );
}

/** Every plugin of a section, conditionals flattened (for static checks). */
export function pluginsOf(statements: readonly LsStatement[]): LsPlugin[] {
    return statements.flatMap((s) => (s.kind === "plugin" ? [s] : s.branches.flatMap((b) => pluginsOf(b.body))));
}

/** Minimal glob for `path.config`: `dir/*.conf` style, one directory level. */
function globFiles(files: readonly PipelineFile[], pattern: string): PipelineFile[] {
    const re = new RegExp(`^${pattern.replace(/[.+^$()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*")}$`);
    return files.filter((f) => re.test(f.path)).sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** A pipeline loaded from pipeline files, as Logstash would run it with `path.config` and the given environment. */
export class Pipeline {
    readonly config: LsConfig;
    /** Names of plugins that ran but are not emulated (useragent). */
    readonly notEmulated = new Set<string>();
    private readonly groks = new Map<string, Grok>();

    private constructor(
        readonly files: readonly PipelineFile[],
        readonly configFiles: readonly PipelineFile[],
        env: Readonly<Record<string, string>>,
    ) {
        const parsed = parseConfig(configFiles.map((f) => f.content).join("\n"));
        this.config = {
            input: substituteStatements(parsed.input, env),
            filter: substituteStatements(parsed.filter, env),
            output: substituteStatements(parsed.output, env),
        };
    }

    /** Loads the files matched by `pathConfig` (relative to the pipeline directory), in Logstash's order. */
    static async load(files: readonly PipelineFile[], pathConfig: string, env: Readonly<Record<string, string>>): Promise<Pipeline> {
        await loadOniguruma();
        const configFiles = globFiles(files, pathConfig);
        if (configFiles.length === 0) throw new Error(`no files match ${pathConfig}`);
        const pipeline = new Pipeline(files, configFiles, env);
        pipeline.compileGroks(pipeline.config.filter);
        return pipeline;
    }

    /** Compiles every grok up front, as Logstash does at startup: an undefined pattern fails the load. */
    private compileGroks(statements: LsStatement[]): void {
        for (const plugin of pluginsOf(statements).filter((p) => p.name === "grok")) this.grokPatterns(plugin);
    }

    private grokPatterns(plugin: LsPlugin): { field: string; groks: Grok[] }[] {
        const s = settingsOf(plugin, ["match", "patterns_dir", "tag_on_failure", "overwrite", "break_on_match"]);
        const dirs = asList(s.get("patterns_dir"), "patterns_dir");
        const patternFiles = dirs.flatMap((dir) => {
            if (!dir.startsWith(`${PIPELINE_ROOT}/`)) throw new Error(`patterns_dir ${dir} is outside the pipeline directory`);
            const rel = dir.slice(PIPELINE_ROOT.length + 1).replace(/\/$/, "");
            const inDir = this.files.filter((f) => f.path.startsWith(`${rel}/`) && !f.path.slice(rel.length + 1).includes("/"));
            if (inDir.length === 0) throw new Error(`patterns_dir ${dir} holds no files`);
            return inDir.map((f) => ({ name: f.path, content: f.content }));
        });
        const patterns = readPatternFiles(patternFiles);
        return asPairs(s.get("match"), "grok match").map(([field, value]) => ({
            field,
            groks: asList(value, "grok pattern").map((expr) => {
                const key = `${dirs.join(",")}\u0000${expr}`;
                let grok = this.groks.get(key);
                if (!grok) {
                    grok = new Grok(expr, patterns);
                    this.groks.set(key, grok);
                }
                return grok;
            }),
        }));
    }

    /** Events an input would emit for what arrived, with its codec, decorations and ECS fields. */
    receive(arrival: Arrival): LsEvent[] {
        const inputs = pluginsOf(this.config.input).filter((p) => p.name === arrival.protocol && Number(p.settings.find(([k]) => k === "port")?.[1]) === arrival.port);
        if (inputs.length !== 1) throw new Error(`no single ${arrival.protocol} input on port ${arrival.port}`);
        const [input] = inputs;
        const s =
            input.name === "udp"
                ? settingsOf(input, ["port", "codec", "source_ip_fieldname", "host"])
                : settingsOf(input, ["port", "codec", "host", "ssl_enabled", "ssl_certificate", "ssl_key", "ssl_client_authentication", "ssl_certificate_authorities", "dns_reverse_lookup_enabled"]);
        const codec = s.get("codec");
        if (!codec || typeof codec !== "object" || Array.isArray(codec) || codec.kind !== "plugin") throw new Error(`${input.name} input: set the codec explicitly`);
        const codecSettings = settingsOf(codec, ["charset"]);
        const charset = asString(codecSettings.get("charset") ?? "UTF-8", "charset");
        let messages: string[];
        if (codec.name === "plain") {
            messages = [charsetConvert(arrival.data, charset)];
        } else if (codec.name === "line") {
            // The line codec splits the bytes on "\n" and converts each line on its own; what follows the last
            // "\n" is flushed when the connection closes.
            const lines: Buffer[] = [];
            let start = 0;
            for (let i = arrival.data.indexOf(10); i >= 0; i = arrival.data.indexOf(10, start)) {
                lines.push(arrival.data.subarray(start, i));
                start = i + 1;
            }
            if (start < arrival.data.length) lines.push(arrival.data.subarray(start));
            messages = lines.map((line) => charsetConvert(line, charset));
        } else {
            throw new Error(`codec ${codec.name} is not emulated`);
        }
        return messages.map((message) => {
            // ECS mode: plain and line codecs keep the raw text in event.original.
            const event = new LsEvent({ "@timestamp": new Date().toISOString(), message, event: { original: message } });
            if (input.name === "udp") {
                // logstash-input-udp (lib/logstash/inputs/udp.rb): in ECS mode the sender's address goes to
                // [host][ip] unless source_ip_fieldname names another field, and never over a value already there.
                const field = asString(s.get("source_ip_fieldname") ?? "[host][ip]", "source_ip_fieldname");
                if (event.get(field) === undefined) event.set(field, arrival.peer);
            } else {
                event.set("[@metadata][input][tcp][source][ip]", arrival.peer);
            }
            this.decorate(event, input);
            return event;
        });
    }

    /**
     * What the dead_letter_queue input emits for an event another pipeline's elasticsearch output wrote to its
     * queue: the event with its @metadata, plus the entry's plugin and reason under
     * [@metadata][dead_letter_queue] (logstash-input-dead_letter_queue lib/logstash/inputs/dead_letter_queue.rb).
     */
    receiveDeadLetter(entry: { event: LsEvent; pipelineId: string; pluginId: string; reason: string; queuePath: string }): LsEvent {
        const inputs = pluginsOf(this.config.input).filter((p) => p.name === "dead_letter_queue" && p.settings.some(([k, v]) => k === "pipeline_id" && v === entry.pipelineId));
        if (inputs.length !== 1) throw new Error(`no single dead_letter_queue input for pipeline ${entry.pipelineId}`);
        const [input] = inputs;
        const s = settingsOf(input, ["path", "pipeline_id", "commit_offsets", "clean_consumed"]);
        if (asString(s.get("path"), "path") !== entry.queuePath) throw new Error(`dead_letter_queue input reads ${asString(s.get("path"), "path")}, the queue is in ${entry.queuePath}`);
        if (asString(s.get("clean_consumed") ?? "false", "clean_consumed") === "true" && asString(s.get("commit_offsets") ?? "true", "commit_offsets") !== "true") {
            throw new Error("enabling clean_consumed requires commit_offsets to also be enabled");
        }
        const event = new LsEvent(JSON.parse(JSON.stringify(entry.event.data)) as EventObject);
        event.set("[@metadata][dead_letter_queue][plugin_type]", "elasticsearch");
        event.set("[@metadata][dead_letter_queue][plugin_id]", entry.pluginId);
        event.set("[@metadata][dead_letter_queue][reason]", entry.reason);
        event.set("[@metadata][dead_letter_queue][entry_time]", new Date().toISOString());
        this.decorate(event, input);
        return event;
    }

    /** Common options applied when a plugin succeeds (and by inputs): add_field, remove_field, add_tag, remove_tag. */
    private decorate(event: LsEvent, plugin: LsPlugin): void {
        const get = (key: string) => plugin.settings.find(([k]) => k === key)?.[1];
        for (const [field, value] of asPairs(get("add_field"), "add_field")) {
            const ref = event.sprintf(field);
            const v = event.sprintf(asString(value, "add_field value"));
            const existing = event.get(ref);
            if (existing === undefined) event.set(ref, v);
            else event.set(ref, Array.isArray(existing) ? [...existing, v] : [existing, v]);
        }
        for (const field of asList(get("remove_field"), "remove_field")) event.remove(event.sprintf(field));
        for (const tag of asList(get("add_tag"), "add_tag")) event.addTag(event.sprintf(tag));
        const remove = new Set(asList(get("remove_tag"), "remove_tag").map((t) => event.sprintf(t)));
        if (remove.size > 0) event.set("tags", event.tags.filter((t) => !remove.has(t)));
    }

    /** Runs the filter section on an event (in place) and returns it. */
    filter(event: LsEvent): LsEvent {
        this.filterBatch([event]);
        return event;
    }

    /**
     * Runs the filter section on a batch of events (in place), as a Logstash worker does: each filter sees the
     * part of the batch its conditionals let through. A `ruby` filter runs once per batch, in one Ruby process.
     */
    filterBatch(events: readonly LsEvent[]): void {
        this.run(this.config.filter, events);
    }

    private run(statements: readonly LsStatement[], events: readonly LsEvent[]): void {
        for (const statement of statements) {
            if (events.length === 0) return;
            if (statement.kind === "if") {
                let rest = events;
                for (const branch of statement.branches) {
                    const cond = branch.cond;
                    const taken = cond === undefined ? rest : rest.filter((e) => this.test(cond, e));
                    rest = rest.filter((e) => !taken.includes(e));
                    this.run(branch.body, taken);
                }
            } else if (statement.name === "ruby") {
                this.ruby(statement, events);
            } else {
                for (const event of events) this.apply(statement, event);
            }
        }
    }

    /** logstash-filter-ruby (lib/logstash/filters/ruby.rb): `code` runs per event; on success the common options apply, on an exception the event is tagged. */
    private ruby(plugin: LsPlugin, events: readonly LsEvent[]): void {
        const s = settingsOf(plugin, ["code", "tag_on_exception"]);
        const results = runRubyFilter(
            asString(s.get("code"), "code"),
            events.map((e) => e.data),
            asString(s.get("tag_on_exception") ?? "_rubyexception", "tag_on_exception"),
        );
        events.forEach((event, i) => {
            const { data, ok } = results[i];
            for (const key of Object.keys(event.data)) delete event.data[key];
            Object.assign(event.data, data);
            if (ok) this.decorate(event, plugin);
        });
    }

    private apply(plugin: LsPlugin, event: LsEvent): void {
        switch (plugin.name) {
            case "grok":
                return this.grok(plugin, event);
            case "mutate":
                return this.mutate(plugin, event);
            case "date":
                return this.date(plugin, event);
            case "syslog_pri":
                return this.syslogPri(plugin, event);
            case "prune":
                return this.prune(plugin, event);
            case "useragent":
                settingsOf(plugin, ["source", "target"]);
                this.notEmulated.add("useragent");
                return;
            default:
                throw new Error(`filter ${plugin.name} is not supported by this test harness`);
        }
    }

    private grok(plugin: LsPlugin, event: LsEvent): void {
        const s = settingsOf(plugin, ["match", "patterns_dir", "tag_on_failure", "overwrite", "break_on_match"]);
        const overwrite = new Set(asList(s.get("overwrite"), "overwrite"));
        const failureTags = s.has("tag_on_failure") ? asList(s.get("tag_on_failure"), "tag_on_failure") : ["_grokparsefailure"];
        if (s.has("break_on_match") && asString(s.get("break_on_match"), "break_on_match") !== "true") throw new Error("break_on_match => false is not emulated");
        let matched = false;
        for (const { field, groks } of this.grokPatterns(plugin)) {
            const value = event.get(field);
            if (typeof value !== "string") continue;
            for (const grok of groks) {
                const captures = grok.match(value);
                if (!captures) continue;
                matched = true;
                for (const [target, v] of captures) this.grokHandle(event, target, v, overwrite);
                break;
            }
            if (matched) break;
        }
        if (matched) this.decorate(event, plugin);
        else failureTags.forEach((t) => event.addTag(t));
    }

    /** logstash-filter-grok's `handle`: set, or turn an existing string into an array, unless overwritten. */
    private grokHandle(event: LsEvent, field: string, value: GrokValue, overwrite: ReadonlySet<string>): void {
        const existing = event.get(field);
        if (overwrite.has(field) || existing === undefined) event.set(field, value);
        else if (Array.isArray(existing)) event.set(field, [...existing, value]);
        else if (typeof existing === "string") event.set(field, [existing, value]);
    }

    /** logstash-filter-prune with whitelist_names: top-level fields (never @metadata) whose name matches none go. */
    private prune(plugin: LsPlugin, event: LsEvent): void {
        const s = settingsOf(plugin, ["whitelist_names"]);
        const keep = asList(s.get("whitelist_names"), "whitelist_names").map((re) => RubyRegex.of(re));
        for (const name of Object.keys(event.data)) {
            if (name === "@metadata") continue;
            if (!keep.some((re) => re.exec(name) !== undefined)) delete event.data[name];
        }
        this.decorate(event, plugin);
    }

    private mutate(plugin: LsPlugin, event: LsEvent): void {
        const s = settingsOf(plugin, ["rename", "update", "replace", "gsub", "uppercase", "lowercase", "strip", "copy"]);
        // The order is mutate's own, whatever the order in the file.
        for (const [from, to] of asPairs(s.get("rename"), "rename")) {
            const v = event.get(from);
            if (v !== undefined) {
                event.remove(from);
                event.set(asString(to, "rename"), v);
            }
        }
        for (const [field, v] of asPairs(s.get("update"), "update")) if (event.get(field) !== undefined) event.set(field, event.sprintf(asString(v, "update")));
        for (const [field, v] of asPairs(s.get("replace"), "replace")) event.set(field, event.sprintf(asString(v, "replace")));
        const gsub = asList(s.get("gsub"), "gsub");
        if (gsub.length % 3 !== 0) throw new Error("gsub needs field, pattern, replacement triples");
        for (let i = 0; i < gsub.length; i += 3) {
            const [field, pattern, replacement] = gsub.slice(i, i + 3);
            const v = event.get(field);
            const re = RubyRegex.of(pattern);
            if (typeof v === "string") event.set(field, re.gsub(v, replacement));
            else if (Array.isArray(v)) event.set(field, v.map((x) => (typeof x === "string" ? re.gsub(x, replacement) : x)));
        }
        const eachString = (key: string, fn: (s: string) => string) => {
            for (const field of asList(s.get(key), key)) {
                const v = event.get(field);
                if (typeof v === "string") event.set(field, fn(v));
            }
        };
        eachString("uppercase", (x) => x.toUpperCase());
        eachString("lowercase", (x) => x.toLowerCase());
        eachString("strip", (x) => x.trim());
        for (const [from, to] of asPairs(s.get("copy"), "copy")) {
            const v = event.get(from);
            if (v !== undefined) event.set(asString(to, "copy"), JSON.parse(JSON.stringify(v)) as EventValue);
        }
        this.decorate(event, plugin);
    }

    private date(plugin: LsPlugin, event: LsEvent): void {
        const s = settingsOf(plugin, ["match", "target", "timezone", "tag_on_failure"]);
        const [field, ...formats] = asList(s.get("match"), "date match");
        const target = asString(s.get("target") ?? "@timestamp", "target");
        const timezone = asString(s.get("timezone") ?? "UTC", "timezone");
        if (timezone !== "UTC" && timezone !== "Etc/UTC") throw new Error(`timezone ${timezone} is not emulated`);
        const failureTags = s.has("tag_on_failure") ? asList(s.get("tag_on_failure"), "tag_on_failure") : ["_dateparsefailure"];
        const value = event.get(field);
        if (typeof value !== "string" && typeof value !== "number") return;
        const text = String(value);
        for (const format of formats) {
            const ms = parseDate(text, format);
            if (ms !== undefined) {
                event.set(target, new Date(ms).toISOString());
                this.decorate(event, plugin);
                return;
            }
        }
        failureTags.forEach((t) => event.addTag(t));
    }

    private syslogPri(plugin: LsPlugin, event: LsEvent): void {
        const s = settingsOf(plugin, ["syslog_pri_field_name"]);
        const field = asString(s.get("syslog_pri_field_name") ?? "[log][syslog][priority]", "syslog_pri_field_name");
        const raw = event.get(field);
        const pri = raw === undefined ? 13 : Number(Array.isArray(raw) ? raw[0] : raw);
        const facility = Math.floor(pri / 8);
        const severity = pri % 8;
        event.set("[log][syslog][facility][code]", facility);
        event.set("[log][syslog][facility][name]", SYSLOG_FACILITIES[facility]);
        event.set("[log][syslog][severity][code]", severity);
        event.set("[log][syslog][severity][name]", SYSLOG_SEVERITIES[severity]);
        this.decorate(event, plugin);
    }

    private test(cond: Cond, event: LsEvent): boolean {
        switch (cond.op) {
            case "and":
                return this.test(cond.l, event) && this.test(cond.r, event);
            case "or":
                return this.test(cond.l, event) || this.test(cond.r, event);
            case "not":
                return !this.test(cond.e, event);
            case "truthy": {
                const v = this.rvalue(cond.v, event);
                return v !== undefined && v !== false;
            }
            case "in":
            case "not in": {
                const needle = this.rvalue(cond.l, event);
                const hay = this.rvalue(cond.r, event);
                const found = Array.isArray(hay) ? hay.some((h) => JSON.stringify(h) === JSON.stringify(needle)) : typeof hay === "string" && typeof needle === "string" && hay.includes(needle);
                return cond.op === "in" ? found : !found;
            }
            case "=~":
            case "!~": {
                // logstash-core's EventCondition.java: a Ruby regexp without options, matched only against a string.
                const v = this.rvalue(cond.l, event);
                const matched = typeof v === "string" && RubyRegex.of(cond.regex, { multiline: false }).exec(v) !== undefined;
                return cond.op === "=~" ? matched : !matched;
            }
            case "cmp": {
                const l = this.rvalue(cond.l, event);
                const r = this.rvalue(cond.r, event);
                if (cond.cmp === "==") return JSON.stringify(l) === JSON.stringify(r);
                if (cond.cmp === "!=") return JSON.stringify(l) !== JSON.stringify(r);
                if (typeof l !== "number" || typeof r !== "number") return false;
                return cond.cmp === "<" ? l < r : cond.cmp === ">" ? l > r : cond.cmp === "<=" ? l <= r : l >= r;
            }
        }
    }

    private rvalue(v: Rvalue, event: LsEvent): EventValue | undefined {
        if ("field" in v) return event.get(v.field);
        if ("str" in v) return v.str;
        if ("num" in v) return v.num;
        return v.list.map((x) => this.rvalue(x, event) ?? "");
    }

    /** Where the output section would send an event (conditionals evaluated). */
    route(event: LsEvent): Delivery[] {
        const out: Delivery[] = [];
        const walk = (statements: readonly LsStatement[]) => {
            for (const st of statements) {
                if (st.kind === "if") {
                    const branch = st.branches.find((b) => b.cond === undefined || this.test(b.cond, event));
                    if (branch) walk(branch.body);
                } else if (st.name === "elasticsearch") {
                    out.push(this.elasticsearch(st, event));
                } else {
                    throw new Error(`output ${st.name} is not supported by this test harness`);
                }
            }
        };
        walk(this.config.output);
        return out;
    }

    /**
     * logstash-output-elasticsearch's choice of index, action and id, with the checks it makes at register time
     * (lib/logstash/outputs/elasticsearch/data_stream_support.rb): `data_stream => true` refuses `index`,
     * `document_id` and any action but create; `data_stream => false` refuses the `data_stream_*` settings.
     * Data streams take only op_type create (Elasticsearch refuses `index` there), and an unresolved `%{...}`
     * in the index or id would write somewhere unintended: both throw here.
     */
    private elasticsearch(plugin: LsPlugin, event: LsEvent): Delivery {
        const s = settingsOf(plugin, [
            "hosts", "user", "password", "ssl_enabled", "ssl_certificate_authorities", "ssl_verification_mode",
            "data_stream", "data_stream_type", "data_stream_dataset", "data_stream_namespace",
            "manage_template", "ilm_enabled", "index", "action", "document_id", "silence_errors_in_log",
        ]);
        const outputId = asString(s.get("id") ?? "elasticsearch", "id");
        const mode = asString(s.get("data_stream") ?? "auto", "data_stream");
        if (mode === "true") {
            for (const key of ["index", "document_id", "ilm_enabled"]) if (s.has(key)) throw new Error(`Invalid data stream configuration: ["${key}"]`);
            if (s.has("action") && asString(s.get("action"), "action") !== "create") throw new Error('Invalid data stream configuration: ["action"]');
            const defaults = {
                type: asString(s.get("data_stream_type") ?? "logs", "data_stream_type"),
                dataset: asString(s.get("data_stream_dataset") ?? "generic", "data_stream_dataset"),
                namespace: asString(s.get("data_stream_namespace") ?? "default", "data_stream_namespace"),
            };
            for (const [k, v] of Object.entries(defaults)) if (INVALID_IDENTIFIER.test(v)) throw new Error(`data_stream_${k} '${v}' is invalid`);
            // data_stream_auto_routing (default on): the event's data_stream.* fields win over the settings.
            const pick = (k: "type" | "dataset" | "namespace") => {
                const v = event.get(["data_stream", k]);
                return typeof v === "string" ? v : defaults[k];
            };
            return { outputId, dataStream: `${pick("type")}-${pick("dataset")}-${pick("namespace")}`, action: "create" };
        }
        if (mode !== "false") throw new Error("set data_stream explicitly: 'auto' depends on the Logstash version");
        const dsSettings = plugin.settings.map(([k]) => k).filter((k) => k.startsWith("data_stream_"));
        if (dsSettings.length > 0) throw new Error(`Ambiguous configuration; data stream settings must not be present when data streams are disabled: ${dsSettings.join(", ")}`);
        // Left on, the output would install its own template and an ILM alias, which the writer role may not do.
        if (asString(s.get("manage_template") ?? "true", "manage_template") !== "false") throw new Error("manage_template must be false: the bootstrap owns the templates");
        if (asString(s.get("ilm_enabled") ?? "auto", "ilm_enabled") !== "false") throw new Error("ilm_enabled must be false: the bootstrap owns the lifecycle");
        const resolved = (key: string): string | undefined => {
            if (!s.has(key)) return undefined;
            const v = event.sprintf(asString(s.get(key), key));
            if (v.includes("%{")) throw new Error(`${outputId}: ${key} '${v}' has an unresolved reference`);
            return v;
        };
        const index = resolved("index");
        if (index === undefined) throw new Error(`${outputId}: set index`);
        const action = resolved("action") ?? "index";
        if (/^(logs|metrics|traces|synthetics)-[^-]+-[^-]+$/.test(index) && action !== "create") throw new Error(`${outputId}: a data stream takes only op_type create, not ${action}`);
        const documentId = resolved("document_id");
        return documentId === undefined ? { outputId, dataStream: index, action } : { outputId, dataStream: index, action, documentId };
    }
}

/** The date filter's formats we use: UNIX, ISO8601 and Joda patterns made of yyyy MM dd HH mm ss SSS, in UTC. */
export function parseDate(text: string, format: string): number | undefined {
    if (format === "UNIX") return /^[0-9]+(?:\.[0-9]+)?$/.test(text) ? Math.round(parseFloat(text) * 1000) : undefined;
    if (format === "UNIX_MS") return /^[0-9]+$/.test(text) ? Number(text) : undefined;
    if (format === "ISO8601") {
        const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/.exec(text);
        if (!m) return undefined;
        const [, y, mo, d, h, mi, sec, frac = "0", zone = "Z"] = m;
        const ms = Math.floor(Number(`0.${frac}`) * 1000);
        const offset = zone === "Z" ? 0 : (zone.startsWith("-") ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(-2)));
        return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec), ms) - offset * 60000;
    }
    const tokens: Record<string, string> = { yyyy: "(\\d{4})", MM: "(\\d{2})", dd: "(\\d{2})", HH: "(\\d{2})", mm: "(\\d{2})", ss: "(\\d{2})", SSS: "(\\d{3})" };
    const order: string[] = [];
    const source = format.replace(/yyyy|MM|dd|HH|mm|ss|SSS|[A-Za-z]+|[^A-Za-z]/g, (t) => {
        if (tokens[t]) {
            order.push(t);
            return tokens[t];
        }
        if (/[A-Za-z]/.test(t)) throw new Error(`Joda token ${t} is not emulated`);
        return t.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    });
    const m = new RegExp(`^${source}$`).exec(text);
    if (!m) return undefined;
    const part = (t: string, dflt: number) => (order.includes(t) ? Number(m[order.indexOf(t) + 1]) : dflt);
    return Date.UTC(part("yyyy", 1970), part("MM", 1) - 1, part("dd", 1), part("HH", 0), part("mm", 0), part("ss", 0), part("SSS", 0));
}
