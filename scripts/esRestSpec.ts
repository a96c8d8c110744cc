/**
 * Extracts the REST API specification of the Elasticsearch APIs the stack calls (and its test writers call) into
 * tests/support/elasticsearchRestApi.json, which the test fakes check every request against
 * (tests/support/esRestApi.ts).
 *
 * Source: elastic/elasticsearch-specification, the specification the official client (`@elastic/elasticsearch`) is
 * generated from, at the branch of the pinned release: each API's `specification/<namespace>/<api>/*Request.ts`
 * declares its `urls` (paths and methods), `path_parts`, `query_parameters` (with `@server_default` and
 * `@availability` tags) and `body`, and `specification/_spec_utils/behaviors.ts` the query parameters every API
 * takes (`CommonQueryParameters`). Parsed with the TypeScript compiler, not by pattern matching.
 *
 *   ts-node --swc scripts/esRestSpec.ts --spec <clone or .git of elasticsearch-specification> [--ref 9.4]
 *
 * A test (tests/esRestApi.test.ts) checks the output against the installed client, so the file cannot drift from the
 * version package.json pins without a failing test.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ts from "typescript";

/** The APIs, by the specification's `@rest_spec_name`. Only these are extracted; the fakes refuse every other. */
export const STACK_APIS: readonly string[] = [
    // The bootstrap (components/model/bootstrap.ts, indexing.ts, snapshots.ts through shell/bootstrap.sh).
    "info",
    "cluster.health",
    "security.change_password",
    "security.put_role",
    "security.put_user",
    "ilm.put_lifecycle",
    "cluster.put_component_template",
    "indices.put_index_template",
    "snapshot.create_repository",
    "slm.put_lifecycle",
    "slm.delete_lifecycle",
    // `npm run verify` (components/operations/verify.ts) and the e2e collector (scripts/e2e/collector.ts).
    "ilm.get_lifecycle",
    "cluster.get_component_template",
    "indices.get_index_template",
    "search",
    // `npm run snapshot` and `npm run restore` (components/operations/snapshotOps.ts).
    "snapshot.create",
    "snapshot.get",
    "snapshot.status",
    "snapshot.restore",
    "indices.resolve_index",
    "indices.delete_data_stream",
    "indices.close",
    "indices.add_block",
    "indices.put_settings",
    "indices.rollover",
    "indices.recovery",
    "count",
    "security.get_role",
    // What the fakes' writers (a stand-in for Logstash's elasticsearch output) send.
    "bulk",
];

/**
 * One alternative of what a query parameter's value may be, resolved through the specification's type aliases and
 * enums: a text of any kind, a boolean, a number of the specification's numeric type (`_types/Numeric.ts`), a
 * duration (`Duration`, `_types/Time.ts`), one of an enum's values (its members and their `@aliases`), or a
 * comma-separated list of such.
 */
export type ValueKind = "string" | "boolean" | "integer" | "long" | "float" | "double" | "duration" | { readonly enum: readonly string[] } | { readonly list: readonly ValueKind[] };

/** One query parameter. */
export interface QueryParam {
    /** The specification's type, as written (`boolean`, `Duration`, `ExpandWildcards`, ...). */
    readonly type: string;
    /** `@server_default`, when the specification names one. */
    readonly serverDefault?: string;
    /** What the value may be: any of these. */
    readonly accepts: readonly ValueKind[];
}

/** One API. */
export interface ApiSpec {
    readonly urls: readonly { readonly path: string; readonly methods: readonly string[] }[];
    readonly query: Readonly<Record<string, QueryParam>>;
    /**
     * The body: `none` (the API takes none), `fields` (an object of exactly these top-level fields), or `any` (a body
     * whose shape is a named type, not checked here).
     */
    readonly body: { readonly kind: "none" } | { readonly kind: "any"; readonly required: boolean } | { readonly kind: "fields"; readonly required: boolean; readonly fields: readonly string[] };
}

/** The file's content. */
export interface RestApiFile {
    readonly source: { readonly repository: string; readonly ref: string; readonly commit: string; readonly generator: string };
    readonly commonQuery: Readonly<Record<string, QueryParam>>;
    readonly apis: Readonly<Record<string, ApiSpec>>;
}

function tagsOf(node: ts.Node): { name: string; text: string }[] {
    return ts.getJSDocTags(node).map((t) => ({ name: t.tagName.text, text: typeof t.comment === "string" ? t.comment.trim() : (ts.getTextOfJSDocComment(t.comment) ?? "").trim() }));
}

/** True unless the member's `@availability` tags name serverless only (a stack cluster then does not know it). */
function onStack(node: ts.Node): boolean {
    const availability = tagsOf(node).filter((t) => t.name === "availability");
    return availability.length === 0 || availability.some((t) => t.text.startsWith("stack"));
}

function literalText(node: ts.TypeNode): string {
    if (ts.isLiteralTypeNode(node) && ts.isStringLiteral(node.literal)) return node.literal.text;
    throw new Error(`expected a string literal type, got ${node.getText()}`);
}

function members(node: ts.TypeNode | undefined): ts.PropertySignature[] {
    if (node === undefined || !ts.isTypeLiteralNode(node)) return [];
    return node.members.filter((m): m is ts.PropertySignature => ts.isPropertySignature(m));
}

function propName(p: ts.PropertySignature): string {
    if (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) return p.name.text;
    throw new Error(`unexpected property name ${p.name.getText()}`);
}

/** Resolves a type written in `file` into the alternatives of {@link ValueKind}. */
export type KindResolver = (file: string, node: ts.TypeNode) => ValueKind[];

const NUMERIC: Readonly<Record<string, ValueKind>> = { integer: "integer", uint: "integer", long: "long", ulong: "long", float: "float", double: "double" };

/**
 * The kinds of a type node. Keywords, unions, arrays and literals are read here; a name is the specification's
 * numeric type or `Duration` by its name, else handed to `named` (the file's declarations and imports).
 */
export function kindsOf(file: string, node: ts.TypeNode, named: (file: string, name: string) => ValueKind[] = (_f, name) => {
    throw new Error(`${file}: cannot resolve ${name} without the specification tree`);
}): ValueKind[] {
    const unique = (kinds: ValueKind[]) => kinds.filter((k, i) => kinds.findIndex((o) => JSON.stringify(o) === JSON.stringify(k)) === i);
    if (node.kind === ts.SyntaxKind.StringKeyword) return ["string"];
    if (node.kind === ts.SyntaxKind.BooleanKeyword) return ["boolean"];
    if (node.kind === ts.SyntaxKind.NumberKeyword) return ["double"];
    if (ts.isParenthesizedTypeNode(node)) return kindsOf(file, node.type, named);
    if (ts.isUnionTypeNode(node)) return unique(node.types.flatMap((t) => kindsOf(file, t, named)));
    if (ts.isArrayTypeNode(node)) return [{ list: kindsOf(file, node.elementType, named) }];
    if (ts.isLiteralTypeNode(node)) {
        if (node.literal.kind === ts.SyntaxKind.TrueKeyword || node.literal.kind === ts.SyntaxKind.FalseKeyword) return ["boolean"];
        return [{ enum: [ts.isStringLiteral(node.literal) ? node.literal.text : node.literal.getText()] }];
    }
    if (ts.isTypeReferenceNode(node) && ts.isIdentifier(node.typeName)) {
        const name = node.typeName.text;
        if (name in NUMERIC) return [NUMERIC[name]];
        if (name === "Duration") return ["duration"];
        return named(file, name);
    }
    throw new Error(`${file}: unsupported query parameter type ${node.getText()}`);
}

/** Names through the specification tree: a file's own declarations, then its imports (the tsconfig's `paths`). */
export function specificationResolver(root: string): KindResolver {
    const dir = path.join(root, "specification");
    const config = ts.parseConfigFileTextToJson("tsconfig.json", fs.readFileSync(path.join(dir, "tsconfig.json"), "utf8")).config as { compilerOptions: { paths: Record<string, string[]> } };
    const sources = new Map<string, ts.SourceFile>();
    const sourceOf = (file: string) => {
        let source = sources.get(file);
        if (source === undefined) sources.set(file, (source = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true)));
        return source;
    };
    const moduleFile = (from: string, specifier: string): string => {
        if (specifier.startsWith(".")) return `${path.resolve(path.dirname(from), specifier)}.ts`;
        for (const [pattern, [target]] of Object.entries(config.compilerOptions.paths)) {
            const prefix = pattern.replace(/\*$/, "");
            if (specifier.startsWith(prefix)) return `${path.join(dir, target.replace(/\*$/, ""), specifier.slice(prefix.length))}.ts`;
        }
        throw new Error(`${from}: cannot resolve module ${specifier}`);
    };
    const named = (file: string, name: string): ValueKind[] => {
        for (const statement of sourceOf(file).statements) {
            if (ts.isTypeAliasDeclaration(statement) && statement.name.text === name) return kindsOf(file, statement.type, named);
            if (ts.isEnumDeclaration(statement) && statement.name.text === name) {
                const values = statement.members.filter(onStack).flatMap((m) => {
                    const value = m.initializer !== undefined && ts.isStringLiteral(m.initializer) ? m.initializer.text : ts.isIdentifier(m.name) || ts.isStringLiteral(m.name) ? m.name.text : m.name.getText();
                    const aliases = tagsOf(m).filter((t) => t.name === "aliases").flatMap((t) => t.text.split(/[\s,]+/).filter((a) => a !== ""));
                    return [value, ...aliases];
                });
                return [{ enum: values }];
            }
            if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier)) {
                const bindings = statement.importClause?.namedBindings;
                if (bindings !== undefined && ts.isNamedImports(bindings) && bindings.elements.some((e) => e.name.text === name)) return named(moduleFile(file, statement.moduleSpecifier.text), name);
            }
        }
        throw new Error(`${file}: no declaration of ${name}`);
    };
    return (file, node) => kindsOf(file, node, named);
}

function queryParams(file: string, nodes: readonly ts.PropertySignature[], resolve: KindResolver): Record<string, QueryParam> {
    const out: Record<string, QueryParam> = {};
    for (const p of nodes) {
        if (!onStack(p)) continue;
        const serverDefault = tagsOf(p).find((t) => t.name === "server_default")?.text;
        if (p.type === undefined) throw new Error(`${file}: query parameter ${propName(p)} has no type`);
        out[propName(p)] = { type: p.type.getText(), ...(serverDefault !== undefined ? { serverDefault } : {}), accepts: resolve(file, p.type) };
    }
    return out;
}

/**
 * Parses one `*Request.ts`: the `Request` interface and its `@rest_spec_name`. `resolve` reads the query parameters'
 * types (by default keywords, unions, arrays, literals, numbers and `Duration` only).
 */
export function parseRequestFile(file: string, text: string, resolve: KindResolver = (f, node) => kindsOf(f, node)): { name: string; api: ApiSpec } | undefined {
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const request = source.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === "Request");
    if (request === undefined) return undefined;
    const name = tagsOf(request).find((t) => t.name === "rest_spec_name")?.text;
    if (name === undefined) return undefined;
    const field = (key: string) => request.members.find((m): m is ts.PropertySignature => ts.isPropertySignature(m) && propName(m) === key);
    const urlsType = field("urls")?.type;
    if (urlsType === undefined || !ts.isTupleTypeNode(urlsType)) throw new Error(`${file}: no urls tuple`);
    const urls = urlsType.elements.map((e) => {
        const props = members(e);
        const p = props.find((x) => propName(x) === "path");
        const m = props.find((x) => propName(x) === "methods");
        if (p?.type === undefined || m?.type === undefined || !ts.isTupleTypeNode(m.type)) throw new Error(`${file}: a url without path or methods`);
        return { path: literalText(p.type), methods: m.type.elements.map((x) => literalText(x)) };
    });
    const bodyField = field("body");
    let body: ApiSpec["body"] = { kind: "none" };
    if (bodyField?.type !== undefined) {
        const required = bodyField.questionToken === undefined;
        body = ts.isTypeLiteralNode(bodyField.type)
            ? { kind: "fields", required, fields: members(bodyField.type).filter(onStack).map(propName) }
            : { kind: "any", required };
    }
    return { name, api: { urls, query: queryParams(file, members(field("query_parameters")?.type), resolve), body } };
}

/** The query parameters every API takes (`CommonQueryParameters` in behaviors.ts). */
export function parseCommonQuery(text: string, file = "behaviors.ts", resolve: KindResolver = (f, node) => kindsOf(f, node)): Record<string, QueryParam> {
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const common = source.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === "CommonQueryParameters");
    if (common === undefined) throw new Error("behaviors.ts has no CommonQueryParameters");
    return queryParams(file, common.members.filter((m): m is ts.PropertySignature => ts.isPropertySignature(m)), resolve);
}

function walk(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/** Builds the file's content from a specification tree (the folder holding `specification/`). */
export function extract(root: string, source: RestApiFile["source"], names: readonly string[] = STACK_APIS): RestApiFile {
    const found = new Map<string, ApiSpec>();
    const resolve = specificationResolver(root);
    for (const file of walk(path.join(root, "specification")).filter((f) => /Request\.ts$/.test(f))) {
        const text = fs.readFileSync(file, "utf8");
        // Only the APIs asked for are resolved: the others may use types this reader does not know.
        const name = /@rest_spec_name\s+(\S+)/.exec(text)?.[1];
        if (name === undefined || !names.includes(name)) continue;
        const parsed = parseRequestFile(file, text, resolve);
        if (parsed !== undefined) found.set(parsed.name, parsed.api);
    }
    const missing = names.filter((n) => !found.has(n));
    if (missing.length > 0) throw new Error(`not in the specification: ${missing.join(", ")}`);
    const apis = Object.fromEntries([...names].sort().map((n) => [n, found.get(n) as ApiSpec]));
    const behaviors = path.join(root, "specification/_spec_utils/behaviors.ts");
    return { source, commonQuery: parseCommonQuery(fs.readFileSync(behaviors, "utf8"), behaviors, resolve), apis };
}

function main(argv: readonly string[]): void {
    const flag = (name: string) => {
        const i = argv.indexOf(`--${name}`);
        return i >= 0 ? argv[i + 1] : undefined;
    };
    const spec = flag("spec");
    const ref = flag("ref") ?? "9.4";
    const out = flag("out") ?? path.resolve(__dirname, "../tests/support/elasticsearchRestApi.json");
    if (spec === undefined) throw new Error("usage: esRestSpec.ts --spec <elasticsearch-specification clone or .git> [--ref 9.4] [--out FILE]");
    const git = (...args: string[]) => execFileSync("git", [`--git-dir=${fs.existsSync(path.join(spec, ".git")) ? path.join(spec, ".git") : spec}`, ...args], { maxBuffer: 1 << 30 });
    const commit = git("rev-parse", `${ref}^{commit}`).toString().trim();
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "es-spec-"));
    try {
        fs.writeFileSync(path.join(tmp, "spec.tar"), git("archive", "--format=tar", commit, "specification"));
        execFileSync("tar", ["-xf", path.join(tmp, "spec.tar"), "-C", tmp]);
        const file = extract(tmp, { repository: "elastic/elasticsearch-specification", ref, commit, generator: "scripts/esRestSpec.ts" });
        fs.writeFileSync(out, `${JSON.stringify(file, null, 2)}\n`);
        console.log(`wrote ${Object.keys(file.apis).length} APIs from ${file.source.repository}@${ref} (${commit}) to ${out}`);
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
}

if (require.main === module) main(process.argv.slice(2));
