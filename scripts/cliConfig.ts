/**
 * A stack's config as the Pulumi CLI resolves it before the program runs, for every path here that reads a stack
 * file without the CLI: the tests' program harness, `npm run render`, `npm run e2e` and the checks of the examples.
 *
 * The CLI does more than hand the stack file to the program. It reads `Pulumi.yaml` and `Pulumi.<stack>.yaml`, puts
 * every bare key into the project's namespace, writes the default (or value) of every key the project declares into
 * the stack's config when the stack does not set it, refuses a stack that leaves out a declared key without either,
 * refuses a plain value for a key declared secret and a value of the wrong declared type, and then hands the program
 * every value as text: strings as written, numbers and booleans as their text, lists and maps as JSON, secure values
 * decrypted, with the list of keys whose values were secure. {@link resolveStackConfig} does the same, with the CLI's
 * own messages; given a {@link placeholderDecrypter} (no secrets manager), it checks a secure value's declared type
 * only where the outcome does not depend on the plaintext. Copied from pulumi/pulumi v3.248.0 (the CLI of @pulumi/pulumi 3.248.x):
 *  - sdk/go/common/workspace/config.go: `mergeConfig` (defaults and values for missing keys; one error naming every
 *    missing key, `formatMissingKeys`), `validateStackConfigValues` and `validateStackConfigValue` (secret keys must
 *    be secure; declared types; an object value is checked as parsed JSON), `createConfigValue` (a default of type
 *    string, int or bool becomes its text, anything else JSON text flagged as an object);
 *  - sdk/go/common/workspace/project.go: `ProjectConfigType`, `Project.Validate` (an array declares its items, a
 *    default matches its type, a key of another namespace has a `value` and neither type nor default), the schema's
 *    closed set of attributes (project.json `configTypeDeclaration`), `RewriteShorthandConfigValues` (`key: 5` is a
 *    default, `other:key: 5` a value), `ValidateConfigValue` and `InferFullTypeName`;
 *  - sdk/go/common/workspace/loaders.go `stackConfigNamespacedWithProject`, sdk/go/common/resource/config/key.go
 *    `ParseKey` (`ns:name`, or the old `ns:config:name`);
 *  - sdk/go/common/resource/config/object.go, value.go and plaintext.go: a YAML scalar that is a number or a
 *    boolean becomes its JSON text; a list or map becomes JSON (Go's encoder: keys sorted, `<`, `>` and `&` escaped)
 *    and is flagged an object; `{secure: ...}` is a secure value; a value left empty is the object `null`;
 *  - sdk/go/common/resource/config/map.go `Decrypt` and `SecureKeys`, pkg/resource/deploy/source_eval.go: what
 *    reaches the program.
 * Stricter than the CLI where the CLI's YAML reader (gopkg.in/yaml.v3) and this one (`yaml`, YAML 1.2 core) would
 * read a plain scalar differently (`010` is 8 to yaml.v3 and 10 here; `1_000`, `0b1`, `-0x1F`, integers beyond
 * 2^53, `-0.0`), and where the CLI's outcome depends on Go's map order (a key given bare and namespaced): refused,
 * with the fix. ESC environments (`environment:` in a stack file) are not resolved here: refused.
 */
import * as fs from "fs";
import * as path from "path";
import YAML, { Alias, type Document, isMap, isScalar, isSeq, type Node, Scalar } from "yaml";
import { CONFIG_SCHEMA, type ConfigKey, type ConfigKeySchema, type StackConfig, parseStackConfig } from "../components/model/config";

/** What the CLI would refuse, in the CLI's words where it has them. */
export class CliConfigError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "CliConfigError";
    }
}

/** A whole number as yaml.v3 reads it (Go `int`): formats without a decimal point. */
export class GoInt {
    constructor(readonly value: number) {}
}
/** A number with a fraction or exponent as yaml.v3 reads it (Go `float64`). */
export class GoFloat {
    constructor(readonly value: number) {}
}
/** `{secure: <ciphertext>}` inside a list or map. */
export class SecureLeaf {
    constructor(readonly ciphertext: string) {}
}
/** A value as the CLI's YAML reader leaves it: the types `unmarshalObject` (config/object.go) distinguishes. */
export type GoValue = null | boolean | string | GoInt | GoFloat | SecureLeaf | GoValue[] | Map<string, GoValue>;

/** One config value as the CLI keeps it (config/value.go `Value`): its text, and whether it is secure or an object. */
export interface CliConfigValue {
    /** The value's text; JSON for an object; the ciphertext for a secure value. */
    readonly text: string;
    readonly secure: boolean;
    readonly object: boolean;
}

/** A stack's config: fully qualified key (`namespace:name`) to value. */
export type CliConfigMap = ReadonlyMap<string, CliConfigValue>;

/** The config type names `Pulumi.yaml` may declare (project.json `simpleConfigType`). */
export type ProjectConfigTypeName = "string" | "integer" | "boolean" | "array" | "object";

/** Item type of a declared array (`ProjectConfigItemsType`). */
export interface ProjectConfigItems {
    readonly type: string;
    readonly items?: ProjectConfigItems;
}

/** One entry of `Pulumi.yaml`'s `config:` block (`ProjectConfigType`). */
export interface ProjectConfigDeclaration {
    readonly type?: string;
    readonly description?: string;
    readonly items?: ProjectConfigItems;
    readonly default?: GoValue;
    readonly value?: GoValue;
    readonly secret?: boolean;
}

/** What the CLI reads from `Pulumi.yaml` for config. */
export interface ProjectFile {
    readonly name: string;
    /** The `config:` block, keys as written (bare for the project's own). */
    readonly config: ReadonlyMap<string, ProjectConfigDeclaration>;
}

/** What the CLI reads from `Pulumi.<stack>.yaml`. */
export interface StackFile {
    readonly config: CliConfigMap;
    /** The passphrase secrets manager's state (`encryptionsalt:`), when the stack has one. */
    readonly encryptionSalt?: string;
    /** A secrets provider other than the passphrase one (`secretsprovider:`), when set. */
    readonly secretsProvider?: string;
}

/** What reaches the program: every value as text, by fully qualified key, and the keys that were secure. */
export interface ResolvedConfig {
    readonly values: Readonly<Record<string, string>>;
    readonly secretKeys: readonly string[];
}

/** Turns a secure value's ciphertext into its plaintext (the stack's secrets manager). */
export type Decrypter = (ciphertext: string, key: string) => string;

const NOT_DECRYPTABLE: Decrypter = (_c, key) => {
    throw new CliConfigError(`the stack config holds a secret value for '${key}', and no decrypter was given to read it`);
};

// --- YAML as the CLI reads it -------------------------------------------------------------------------------------

const GO_NULL = new Set(["", "~", "null", "Null", "NULL"]);
const GO_TRUE = new Set(["true", "True", "TRUE"]);
const GO_FALSE = new Set(["false", "False", "FALSE"]);
/** yaml.v3 resolve.go `yamlStyleFloat`. */
const GO_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;

/** Go's `strconv.ParseInt(s, 0, 64)`: sign, then 0x/0o/0b or a leading 0 (octal), else decimal; undefined when not. */
function goParseIntBase0(s: string): bigint | undefined {
    const m = /^([-+]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
    if (!m) return undefined;
    const body = m[2];
    let n: bigint;
    if (/^0[xXoObB]/.test(body)) n = BigInt(`0${body[1].toLowerCase()}${body.slice(2)}`);
    else if (body.length > 1 && body.startsWith("0")) n = BigInt(`0o${body.slice(1)}`);
    else n = BigInt(body);
    return m[1] === "-" ? -n : n;
}

/**
 * The value yaml.v3 gives an untagged plain scalar decoded into `any` (resolve.go `resolve`, decode.go: a timestamp
 * stays text), as far as the stack relies on it; `undefined` where the CLI could not go on (`.inf`, `.nan`: Go's
 * JSON encoder refuses them when the CLI writes the value's text).
 */
function goPlainScalar(src: string): GoValue | undefined {
    if (GO_NULL.has(src)) return null;
    if (GO_TRUE.has(src)) return true;
    if (GO_FALSE.has(src)) return false;
    if (/^[-+]?\.(inf|Inf|INF)$|^\.(nan|NaN|NAN)$/.test(src)) return undefined;
    if (!/^[-+.0-9]/.test(src)) return src;
    const plain = src.replace(/_/g, "");
    const int = goParseIntBase0(plain);
    if (int !== undefined) {
        if (int > BigInt(Number.MAX_SAFE_INTEGER) || int < BigInt(Number.MIN_SAFE_INTEGER)) return new GoInt(Number.NaN);
        return new GoInt(Number(int));
    }
    if (GO_FLOAT.test(plain)) return new GoFloat(Number(plain));
    return src;
}

function sameValue(a: GoValue, b: unknown): boolean {
    if (a instanceof GoInt || a instanceof GoFloat) return typeof b === "number" && Object.is(a.value, b);
    return a === b;
}

/** Where a node is, for messages: `file:line`. */
type Locate = (node: Node) => string;

/**
 * A YAML node as the CLI's reader leaves it. Refuses what the two readers would read differently, and what the CLI
 * cannot turn into text.
 */
function goValueOf(node: Node | null, doc: Document, where: string, locate: Locate): GoValue {
    if (node === null) return null;
    if (node instanceof Alias) return goValueOf(node.resolve(doc) ?? null, doc, where, locate);
    if (node.tag !== undefined) throw new CliConfigError(`${where} (${locate(node)}) has the explicit tag ${node.tag}, which this reader does not resolve: write the value without it`);
    if (isScalar(node)) {
        if (node.type !== Scalar.PLAIN) {
            if (typeof node.value !== "string") throw new CliConfigError(`${where} (${locate(node)}) is not text`);
            return node.value;
        }
        const src = node.source ?? String(node.value);
        const go = goPlainScalar(src);
        const quote = `quote it ('${src}') if it is text, or write the number in decimal without leading zeros or '_'`;
        if (go === undefined) throw new CliConfigError(`${where} (${locate(node)}) is ${src}, which the Pulumi CLI cannot turn into text (Go's JSON encoder refuses infinity and NaN): ${quote}`);
        if ((go instanceof GoInt && Number.isNaN(go.value)) || ((go instanceof GoInt || go instanceof GoFloat) && Object.is(go.value, -0))) {
            throw new CliConfigError(`${where} (${locate(node)}) is ${src}, which Node.js cannot hold exactly as the CLI's Go reader does: quote it ('${src}')`);
        }
        if (!sameValue(go, node.value)) {
            throw new CliConfigError(`${where} (${locate(node)}) is ${src}, which the Pulumi CLI's YAML reader (yaml.v3) reads as ${describeGo(go)} and YAML 1.2 as ${JSON.stringify(node.value)}: ${quote}`);
        }
        return go;
    }
    if (isSeq(node)) return node.items.map((item, i) => goValueOf(item as Node | null, doc, `${where}[${i}]`, locate));
    if (isMap(node)) {
        const out = new Map<string, GoValue>();
        for (const pair of node.items) {
            const keyNode = pair.key as Node | null;
            if (!isScalar(keyNode) || (typeof keyNode.value !== "string" && typeof keyNode.value !== "number")) throw new CliConfigError(`${where} has a key that is not text`);
            const key = keyNode.type === Scalar.PLAIN ? (keyNode.source ?? String(keyNode.value)) : String(keyNode.value);
            if (key === "<<") throw new CliConfigError(`${where} (${locate(keyNode)}) uses a YAML merge key ('<<'), which YAML 1.2 does not have: write the entries out`);
            out.set(key, goValueOf(pair.value as Node | null, doc, `${where}.${key}`, locate));
        }
        // `{secure: <text>}` is a secure value (object.go `isSecureValue`).
        const secure = out.get("secure");
        if (out.size === 1 && typeof secure === "string") return new SecureLeaf(secure);
        return out;
    }
    throw new CliConfigError(`${where} (${locate(node)}) is not a YAML value this reader knows`);
}

function describeGo(v: GoValue): string {
    if (v instanceof GoInt) return `the integer ${v.value}`;
    if (v instanceof GoFloat) return `the number ${v.value}`;
    if (v === null) return "null";
    return JSON.stringify(v);
}

function parseYaml(text: string, file: string): { doc: Document; locate: Locate } {
    const lines = new YAML.LineCounter();
    const doc = YAML.parseDocument(text, { version: "1.2", schema: "core", uniqueKeys: true, lineCounter: lines, prettyErrors: false });
    if (doc.errors.length > 0) throw new CliConfigError(`could not unmarshal '${file}': ${doc.errors[0].message}`);
    const locate: Locate = (node) => `${path.basename(file)}:${node.range ? lines.linePos(node.range[0]).line : "?"}`;
    return { doc, locate };
}

// --- Go's JSON text ----------------------------------------------------------------------------------------------

function goJsonString(s: string): string {
    // JSON.stringify escapes as Go does for quotes, backslashes and control characters; Go's encoder also escapes
    // <, > and & (HTML safety) and U+2028/U+2029 (encoding/json encode.go `appendString`).
    return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Go's `json.Marshal` of a value read from YAML: map keys sorted by their UTF-8 bytes. */
export function goJson(v: GoValue, reveal: (leaf: SecureLeaf) => string = (leaf) => `{"secure":${goJsonString(leaf.ciphertext)}}`): string {
    if (v === null) return "null";
    if (typeof v === "boolean") return String(v);
    if (typeof v === "string") return goJsonString(v);
    if (v instanceof GoInt || v instanceof GoFloat) return String(v.value);
    if (v instanceof SecureLeaf) return reveal(v);
    if (Array.isArray(v)) return `[${v.map((x) => goJson(x, reveal)).join(",")}]`;
    const keys = [...v.keys()].sort((a, b) => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8")));
    return `{${keys.map((k) => `${goJsonString(k)}:${goJson(v.get(k) as GoValue, reveal)}`).join(",")}}`;
}

function hasSecure(v: GoValue): boolean {
    if (v instanceof SecureLeaf) return true;
    if (Array.isArray(v)) return v.some(hasSecure);
    if (v instanceof Map) return [...v.values()].some(hasSecure);
    return false;
}

/** A value read from a stack file as the CLI keeps it (object.go `MarshalString`). */
function cliValueOf(v: GoValue): CliConfigValue {
    if (typeof v === "string") return { text: v, secure: false, object: false };
    if (v instanceof SecureLeaf) return { text: v.ciphertext, secure: true, object: false };
    if (typeof v === "boolean" || v instanceof GoInt || v instanceof GoFloat) return { text: goJson(v), secure: false, object: false };
    return { text: goJson(v), secure: hasSecure(v), object: true };
}

/** JSON text back into the reader's values (an object value's text), numbers as Go's decoder keeps them. */
export function fromJson(x: unknown): GoValue {
    if (x === null || typeof x === "boolean" || typeof x === "string") return x;
    if (typeof x === "number") return Number.isInteger(x) ? new GoInt(x) : new GoFloat(x);
    if (Array.isArray(x)) return x.map(fromJson);
    const m = new Map<string, GoValue>(Object.entries(x as Record<string, unknown>).map(([k, v]) => [k, fromJson(v)]));
    const secure = m.get("secure");
    return m.size === 1 && typeof secure === "string" ? new SecureLeaf(secure) : m;
}

// --- Keys --------------------------------------------------------------------------------------------------------

/** config/key.go `ParseKey`, after loaders.go has put a bare key into the project's namespace. */
export function qualifyKey(project: string, key: string): string {
    const colons = key.split(":").length - 1;
    if (colons === 0) return `${project}:${key}`;
    if (colons === 1) return key;
    const m = colons === 2 ? /^([^:]+):config:([^:]+)$/.exec(key) : null;
    if (m) return `${m[1]}:${m[2]}`;
    throw new CliConfigError(`could not parse ${key} as a configuration key (configuration keys should be of the form \`<namespace>:<name>\`)`);
}

function namespaceOf(key: string): string {
    return key.slice(0, key.indexOf(":"));
}

// --- Pulumi.yaml ------------------------------------------------------------------------------------------------

const DECLARATION_ATTRIBUTES = new Set(["type", "items", "description", "secret", "default", "value"]);
const SIMPLE_TYPES = new Set<string>(["string", "integer", "boolean", "array", "object"]);

function itemsOf(v: GoValue | undefined, where: string): ProjectConfigItems | undefined {
    if (v === undefined || v === null) return undefined;
    if (!(v instanceof Map)) throw new CliConfigError(`${where}: items must be an object with a type`);
    const type = v.get("type");
    if (typeof type !== "string" || !SIMPLE_TYPES.has(type)) throw new CliConfigError(`${where}: items needs a type of string, integer, boolean, array or object`);
    const nested = itemsOf(v.get("items"), `${where}.items`);
    if (type === "array" && nested === undefined) throw new CliConfigError(`${where}: items of type array need items themselves`);
    return { type, ...(nested ? { items: nested } : {}) };
}

/** Reads `Pulumi.yaml` text as the CLI does, and checks its config block as `Project.Validate` does. */
export function parseProjectFile(text: string, file = "Pulumi.yaml"): ProjectFile {
    const { doc, locate } = parseYaml(text, file);
    const root = goValueOf(doc.contents, doc, file, locate);
    if (!(root instanceof Map)) throw new CliConfigError(`expected project to be an object, was '${describeGo(root)}'`);
    const name = root.get("name");
    if (typeof name !== "string" || name === "") throw new CliConfigError("project is missing a 'name' attribute");
    const block = root.get("config");
    const config = new Map<string, ProjectConfigDeclaration>();
    if (typeof block === "string") throw new CliConfigError(`'${file}' names a config directory in config:, which this reader does not follow: use stackConfigDir`);
    if (root.get("stackConfigDir") !== undefined) throw new CliConfigError(`'${file}' sets stackConfigDir, which this reader does not follow`);
    if (block instanceof Map) {
        for (const [key, raw] of block) {
            const ours = !key.includes(":") || key.startsWith(`${name}:`);
            // RewriteShorthandConfigValues: a bare value is a default of the project's key, a value of another's.
            let entry: Map<string, GoValue>;
            if (raw instanceof Map) entry = raw;
            else if (typeof raw === "string" || typeof raw === "boolean" || raw instanceof GoInt || Array.isArray(raw)) entry = new Map([[ours ? "default" : "value", raw]]);
            else throw new CliConfigError(`project config '${key}' must be a value or a declaration`);
            for (const attr of entry.keys()) {
                if (!DECLARATION_ATTRIBUTES.has(attr)) throw new CliConfigError(`project config '${key}' has the unknown attribute '${attr}' (project.json configTypeDeclaration allows ${[...DECLARATION_ATTRIBUTES].join(", ")})`);
            }
            const type = entry.get("type");
            if (type !== undefined && (typeof type !== "string" || !SIMPLE_TYPES.has(type))) throw new CliConfigError(`project config '${key}' has type ${describeGo(type)}: use string, integer, boolean, array or object (project.json simpleConfigType)`);
            const secret = entry.get("secret");
            if (secret !== undefined && typeof secret !== "boolean") throw new CliConfigError(`project config '${key}': secret must be true or false`);
            const description = entry.get("description");
            const declaration: ProjectConfigDeclaration = {
                ...(type !== undefined ? { type } : {}),
                ...(typeof description === "string" ? { description } : {}),
                ...(entry.has("items") ? { items: itemsOf(entry.get("items"), `project config '${key}'`) } : {}),
                // Go's `any` holds nil for both an absent attribute and `default: ~`.
                ...(entry.get("default") !== undefined && entry.get("default") !== null ? { default: entry.get("default") } : {}),
                ...(entry.get("value") !== undefined && entry.get("value") !== null ? { value: entry.get("value") } : {}),
                ...(secret === true ? { secret: true } : {}),
            };
            validateDeclaration(name, key, declaration);
            config.set(key, declaration);
        }
    } else if (block !== undefined && block !== null) {
        throw new CliConfigError(`'${file}': config must be a map of keys`);
    }
    return { name, config };
}

/** `Project.Validate` for one key. */
function validateDeclaration(project: string, key: string, d: ProjectConfigDeclaration): void {
    if (d.default !== undefined && d.value !== undefined) throw new CliConfigError(`project config '${key}' cannot have both a 'default' and 'value' attribute`);
    const ours = !key.includes(":") || key.startsWith(`${project}:`);
    if (ours) {
        if (d.type === "array" && d.items === undefined) {
            throw new CliConfigError(`The configuration key '${key}' declares an array but does not specify the underlying type via the 'items' attribute`);
        }
        if (d.type !== undefined && d.default !== undefined && !validateConfigValue(d.type, d.items, d.default)) {
            throw new CliConfigError(`The default value specified for configuration key '${key}' is not of the expected type '${inferFullTypeName(d.type, d.items)}'`);
        }
        return;
    }
    if (d.type !== undefined) throw new CliConfigError(`Configuration key '${key}' is not namespaced by the project and should not define a type`);
    if (d.default !== undefined) {
        throw new CliConfigError(`Configuration key '${key}' is not namespaced by the project and should not define a default value. Did you mean to use the 'value' attribute instead of 'default'?`);
    }
    if (d.value === undefined) throw new CliConfigError(`Configuration key '${key}' is namespaced and must provide an attribute 'value'`);
}

/** project.go `InferFullTypeName`. */
export function inferFullTypeName(type: string, items?: ProjectConfigItems): string {
    return items ? `array<${inferFullTypeName(items.type, items.items)}>` : type;
}

/** Go's `strconv.Atoi` on a 64-bit machine: a sign, decimal digits, within int64. */
function goAtoi(s: string): boolean {
    if (!/^[-+]?[0-9]+$/.test(s)) return false;
    const n = BigInt(s);
    return n <= 9223372036854775807n && n >= -9223372036854775808n;
}

/** project.go `ValidateConfigValue`, over the values the CLI's readers produce. */
export function validateConfigValue(type: string, items: ProjectConfigItems | undefined, value: GoValue): boolean {
    switch (type) {
        case "string":
            return typeof value === "string";
        case "integer":
            if (value instanceof GoInt) return true;
            if (value instanceof GoFloat) return Number.isInteger(value.value);
            return typeof value === "string" && goAtoi(value);
        case "boolean":
            return value === "true" || value === "false" || typeof value === "boolean";
        case "object":
            return value instanceof Map;
        default:
            if (!Array.isArray(value) || items === undefined) return false;
            return value.every((item) => validateConfigValue(items.type, items.items, item));
    }
}

/** Reads `<root>/Pulumi.yaml`. */
export function readProjectFile(root: string): ProjectFile {
    const file = path.join(root, "Pulumi.yaml");
    return parseProjectFile(fs.readFileSync(file, "utf8"), file);
}

// --- Pulumi.<stack>.yaml -------------------------------------------------------------------------------------

/** Reads a stack file's text as the CLI does: bare keys into the project's namespace, each value as the CLI keeps it. */
export function parseStackFile(text: string, project: string, file = "Pulumi.<stack>.yaml"): StackFile {
    const { doc, locate } = parseYaml(text, file);
    const root = goValueOf(doc.contents, doc, file, locate);
    if (root === null) return { config: new Map() };
    if (!(root instanceof Map)) throw new CliConfigError(`'${file}' is not a map of settings`);
    if (root.has("environment")) throw new CliConfigError(`'${file}' imports ESC environments (environment:), which this reader does not resolve: set the values in config: instead`);
    const block = root.get("config");
    const config = new Map<string, CliConfigValue>();
    const written = new Map<string, string>();
    if (block instanceof Map) {
        for (const [key, value] of block) {
            const full = qualifyKey(project, key);
            const other = written.get(full);
            if (other !== undefined) {
                throw new CliConfigError(`'${file}' sets ${full} twice, as '${other}' and as '${key}': which one the Pulumi CLI takes depends on Go's map order. Keep one`);
            }
            written.set(full, key);
            config.set(full, cliValueOf(value));
        }
    } else if (block !== undefined && block !== null) {
        throw new CliConfigError(`'${file}': config must be a map of keys`);
    }
    const salt = root.get("encryptionsalt");
    const provider = root.get("secretsprovider");
    return {
        config,
        ...(typeof salt === "string" ? { encryptionSalt: salt } : {}),
        ...(typeof provider === "string" && provider !== "passphrase" && provider !== "default" ? { secretsProvider: provider } : {}),
    };
}

/** Reads `<root>/Pulumi.<stack>.yaml`; throws when there is none. */
export function readStackFile(root: string, stack: string, project: string): StackFile {
    const file = path.join(root, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) throw new CliConfigError(`no stack file ${file}`);
    return parseStackFile(fs.readFileSync(file, "utf8"), project, file);
}

/**
 * The stack config a stack file holding these keys would give, for callers that start from a map of texts (the
 * tests): keys bare or namespaced; each value is the text the program is to receive. A value of a key the project
 * declares an array is a YAML list in the file (its text must be JSON; a string there is what the CLI refuses);
 * every other value is a quoted string. `secretKeys` are set as secure values (their ciphertext is the text itself:
 * resolve them with {@link IDENTITY_DECRYPTER}).
 */
export function stackConfigFromTexts(project: ProjectFile, texts: Readonly<Record<string, string>>, secretKeys: readonly string[] = []): CliConfigMap {
    const secret = new Set(secretKeys.map((k) => qualifyKey(project.name, k)));
    const config = new Map<string, CliConfigValue>();
    for (const [key, text] of Object.entries(texts)) {
        const full = qualifyKey(project.name, key);
        if (config.has(full)) throw new CliConfigError(`${full} is given twice`);
        const declared = declarationOf(project, full);
        let value: CliConfigValue = { text, secure: false, object: false };
        if (declared?.type === "array") {
            let parsed: unknown;
            try {
                parsed = JSON.parse(text);
            } catch {
                parsed = undefined;
            }
            if (Array.isArray(parsed)) value = { text: goJson(fromJson(parsed)), secure: false, object: true };
        }
        config.set(full, secret.has(full) ? { ...value, secure: true } : value);
    }
    for (const k of secret) if (!config.has(k)) throw new CliConfigError(`secret key ${k} has no value`);
    return config;
}

/** Reads a secure value's text as it was written: for maps built by {@link stackConfigFromTexts}. */
export const IDENTITY_DECRYPTER: Decrypter = (ciphertext) => ciphertext;

const PLACEHOLDER_DECRYPTERS = new WeakSet<Decrypter>();

/**
 * A decrypter that reads every secure value as `text`, for the checks and the offline rendering that have no secrets
 * manager. The CLI checks a declared type against the decrypted value (config.go `validateStackConfigValues`), which
 * is not known here: {@link resolveStackConfig} then checks only what holds whatever the plaintext is (see
 * {@link validateUndecrypted}).
 */
export function placeholderDecrypter(text: string): Decrypter {
    const decrypter: Decrypter = () => text;
    PLACEHOLDER_DECRYPTERS.add(decrypter);
    return decrypter;
}

/**
 * {@link validateConfigValue} for a value whose secure parts were not decrypted: a secure part is some text, so it is
 * a `string` whatever it says, and may or may not read as an `integer` or a `boolean` (not refused: the CLI decides on
 * the plaintext); a text is never an `object` or an array (refused, as the CLI refuses any plaintext there).
 */
function validateUndecrypted(type: string, items: ProjectConfigItems | undefined, value: GoValue): boolean {
    if (value instanceof SecureLeaf) return type === "string" || type === "integer" || type === "boolean";
    if (type === "string" || type === "integer" || type === "boolean" || type === "object") return validateConfigValue(type, items, value);
    if (!Array.isArray(value) || items === undefined) return false;
    return value.every((item) => validateUndecrypted(items.type, items.items, item));
}

function declarationOf(project: ProjectFile, fullKey: string): ProjectConfigDeclaration | undefined {
    for (const [key, d] of project.config) if (qualifyKey(project.name, key) === fullKey) return d;
    return undefined;
}

// --- Resolution -----------------------------------------------------------------------------------------------

/** config.go `formatMissingKeys`. */
function formatMissingKeys(keys: string[]): string {
    if (keys.length === 1) return `'${keys[0]}'`;
    const sorted = [...keys].sort();
    return sorted.map((k, i) => (i === sorted.length - 1 ? `and '${k}'` : i === sorted.length - 2 ? `'${k}' ` : `'${k}', `)).join("");
}

/** config.go `createConfigValue`: a default of type string, int or bool becomes its text; anything else JSON. */
function configValueOf(v: GoValue): CliConfigValue {
    if (typeof v === "string") return { text: v, secure: false, object: false };
    if (typeof v === "boolean" || v instanceof GoInt) return { text: String(v instanceof GoInt ? v.value : v), secure: false, object: false };
    return { text: goJson(v), secure: false, object: true };
}

/** The plaintext of a value (config/value.go `Value` with the stack's decrypter; map.go `Decrypt`). */
function plaintextOf(key: string, v: CliConfigValue, decrypt: Decrypter): string {
    if (!v.secure) return v.text;
    if (!v.object) return decrypt(v.text, key);
    return goJson(fromJson(JSON.parse(v.text)), (leaf) => goJsonString(decrypt(leaf.ciphertext, key)));
}

/**
 * What the program receives from `pulumi preview` or `pulumi up` of stack `stackName` with this stack config:
 * `mergeConfig` then `validateStackConfigValues` (pulumi/pulumi sdk/go/common/workspace/config.go), then the
 * decrypted texts and the secure keys (sdk/go/common/resource/config/map.go). Throws {@link CliConfigError} with
 * the CLI's message where the CLI stops.
 */
export function resolveStackConfig(project: ProjectFile, stackName: string, stackConfig: CliConfigMap, decrypt: Decrypter = NOT_DECRYPTABLE): ResolvedConfig {
    const config = new Map(stackConfig);
    const keys = [...project.config.keys()].sort();
    const missing: string[] = [];
    for (const key of keys) {
        const d = project.config.get(key) as ProjectConfigDeclaration;
        const full = qualifyKey(project.name, key);
        if (config.has(full)) continue;
        if (d.value === undefined && d.default === undefined) {
            if (namespaceOf(full) === project.name) missing.push(key);
            continue;
        }
        config.set(full, configValueOf((d.default ?? d.value) as GoValue));
    }
    if (missing.length > 0) throw new CliConfigError(`Stack '${stackName}' is missing configuration ${missing.length > 1 ? "values" : "value"} ${formatMissingKeys(missing)}`);

    for (const key of keys) {
        const d = project.config.get(key) as ProjectConfigDeclaration;
        if (d.type === undefined) continue;
        const full = qualifyKey(project.name, key);
        const v = config.get(full) as CliConfigValue;
        if (d.secret && !v.secure) throw new CliConfigError(`Stack '${stackName}' with configuration key '${key}' must be encrypted as it's secret`);
        // The CLI checks the decrypted value; a placeholder is not it, so the secure parts stay undecrypted here.
        const undecrypted = v.secure && PLACEHOLDER_DECRYPTERS.has(decrypt);
        const valid = undecrypted
            ? validateUndecrypted(d.type, d.items, v.object ? fromJson(JSON.parse(v.text)) : new SecureLeaf(v.text))
            : validateConfigValue(d.type, d.items, v.object ? fromJson(JSON.parse(plaintextOf(full, v, decrypt))) : plaintextOf(full, v, decrypt));
        if (!valid) {
            throw new CliConfigError(`Stack '${stackName}' with configuration key '${key}' must be of type '${inferFullTypeName(d.type, d.items)}'`);
        }
    }

    const values: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [key, v] of [...config.entries()].sort(([a], [b]) => a.localeCompare(b))) {
        values[key] = plaintextOf(key, v, decrypt);
        if (v.secure) secretKeys.push(key);
    }
    return { values, secretKeys };
}

/** The values of the project's own namespace, by bare key: what `new pulumi.Config()` reads in the program. */
export function projectValues(project: ProjectFile, resolved: ResolvedConfig): Record<string, string> {
    const prefix = `${project.name}:`;
    return Object.fromEntries(Object.entries(resolved.values).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
}

/**
 * The settings the program reads from `<root>/Pulumi.<stack>.yaml`, as the Pulumi CLI hands the file over: throws
 * {@link CliConfigError} where the CLI stops, ConfigError (components/model/configError.ts) where the program does.
 * Nothing is decrypted here (for checks and offline rendering). A secure value of a key the schema keeps secret (a
 * password, a credential) is read as `secretPlaceholder`, still a secret. A secure value of any other key (a port, a
 * boolean, a list with a secure entry, an address) is a value the checks cannot know, and the program's rules would
 * refuse the placeholder in its place: such a key is read as not set (its default applies) and handed to `unread`,
 * for the caller to say so; `pulumi up` reads and checks its value.
 */
export function stackSettings(root: string, stack: string, secretPlaceholder: string, unread: (key: ConfigKey) => void = () => undefined): StackConfig {
    const project = readProjectFile(root);
    const resolved = resolveStackConfig(project, stack, readStackFile(root, stack, project.name).config, placeholderDecrypter(secretPlaceholder));
    const values = projectValues(project, resolved);
    const secret = new Set(resolved.secretKeys);
    const isSecret = (k: string) => secret.has(`${project.name}:${k}`);
    const unknown = new Set((Object.keys(CONFIG_SCHEMA) as ConfigKey[]).filter((k) => isSecret(k) && (CONFIG_SCHEMA[k] as ConfigKeySchema).secret !== true));
    for (const k of unknown) unread(k);
    return parseStackConfig({ project: project.name, stack, get: (k) => (unknown.has(k) ? undefined : values[k]), isSecret });
}
