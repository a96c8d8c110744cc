/**
 * The layout's rules (docs/architecture.md): the four layers of components/ import one way only (components →
 * targets → model, operations → model), nothing imports in a circle, the model creates no resource and touches no
 * network, no function is longer than 120 lines, and every source file opens with a comment saying what it is for.
 * The checks read the sources with the TypeScript parser, so type-only imports and re-exports count too.
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

const ROOT = path.join(__dirname, "..");
const COMPONENTS = path.join(ROOT, "components");
const MAX_FUNCTION_LINES = 120;

type Layer = "model" | "targets" | "resources" | "operations" | "root";
/** Which layers each layer may import (itself included). */
const MAY_IMPORT: Readonly<Record<Layer, readonly Layer[]>> = {
    model: ["model"],
    targets: ["targets", "model"],
    resources: ["resources", "targets", "model"],
    operations: ["operations", "model"],
    root: ["root", "resources", "targets", "model", "operations"],
};
/**
 * Packages the model may use: Node's file, path and hashing modules, `net` for `isIP` only (no socket is opened:
 * checked below), the YAML and semver libraries, and @pulumi/pulumi for its Input, Output and Alias types.
 */
const MODEL_EXTERNALS = new Set(["fs", "path", "crypto", "net", "yaml", "semver", "@pulumi/pulumi"]);

function tsFiles(dir: string): string[] {
    const out: string[] = [];
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) {
            if (e.name !== "node_modules" && e.name !== "dist") out.push(...tsFiles(p));
        } else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) out.push(p);
    }
    return out.sort();
}

function parse(file: string): ts.SourceFile {
    return ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
}

/** Every module specifier a file names: imports and re-exports (type-only too), `import()` and `require()`. */
function specifiers(sf: ts.SourceFile): string[] {
    const out: string[] = [];
    const visit = (n: ts.Node): void => {
        if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) out.push(n.moduleSpecifier.text);
        else if (ts.isCallExpression(n) && n.arguments.length === 1 && ts.isStringLiteral(n.arguments[0])) {
            if (n.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(n.expression) && n.expression.text === "require")) out.push(n.arguments[0].text);
        } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteral(n.argument.literal)) out.push(n.argument.literal.text);
        ts.forEachChild(n, visit);
    };
    visit(sf);
    return out;
}

function layerOf(file: string): Layer {
    const rel = path.relative(COMPONENTS, file).split(path.sep);
    return rel.length > 1 && ["model", "targets", "resources", "operations"].includes(rel[0]) ? (rel[0] as Layer) : "root";
}

function resolveLocal(from: string, spec: string): string {
    const base = path.resolve(path.dirname(from), spec);
    for (const candidate of [`${base}.ts`, path.join(base, "index.ts")]) if (fs.existsSync(candidate)) return candidate;
    throw new Error(`${path.relative(ROOT, from)}: cannot resolve ${spec}`);
}

/** The import graph of components/: file → the local files it imports. */
function importGraph(): Map<string, string[]> {
    const graph = new Map<string, string[]>();
    for (const f of tsFiles(COMPONENTS)) graph.set(f, specifiers(parse(f)).filter((s) => s.startsWith(".")).map((s) => resolveLocal(f, s)));
    return graph;
}

/** Edges that break the layer rule, as "from → to (layer → layer)". */
function layerViolations(graph: ReadonlyMap<string, readonly string[]>, layer: (f: string) => Layer): string[] {
    const out: string[] = [];
    for (const [from, tos] of graph) {
        for (const to of tos) {
            if (!MAY_IMPORT[layer(from)].includes(layer(to))) out.push(`${path.relative(ROOT, from)} → ${path.relative(ROOT, to)} (${layer(from)} → ${layer(to)})`);
        }
    }
    return out;
}

/** The circles of a graph: each strongly connected component of more than one file, or a file importing itself. */
function circles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
    let counter = 0;
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const found: string[][] = [];
    const connect = (v: string): void => {
        index.set(v, counter);
        low.set(v, counter);
        counter++;
        stack.push(v);
        onStack.add(v);
        for (const w of graph.get(v) ?? []) {
            if (!index.has(w)) {
                connect(w);
                low.set(v, Math.min(low.get(v)!, low.get(w)!));
            } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
        }
        if (low.get(v) === index.get(v)) {
            const component: string[] = [];
            let w: string;
            do {
                w = stack.pop()!;
                onStack.delete(w);
                component.push(w);
            } while (w !== v);
            if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
        }
    };
    for (const v of graph.keys()) if (!index.has(v)) connect(v);
    return found;
}

/** Functions, methods, constructors, accessors and arrow functions longer than `max` lines, as "file:line name (n lines)". */
function longFunctions(sf: ts.SourceFile, max: number): string[] {
    const out: string[] = [];
    const visit = (n: ts.Node): void => {
        if (ts.isFunctionLike(n) && "body" in n && n.body) {
            const first = sf.getLineAndCharacterOfPosition(n.getStart(sf)).line;
            const last = sf.getLineAndCharacterOfPosition(n.getEnd()).line;
            const lines = last - first + 1;
            if (lines > max) {
                const name = n.name && ts.isIdentifier(n.name) ? n.name.text : ts.isConstructorDeclaration(n) ? "constructor" : "(anonymous)";
                out.push(`${path.relative(ROOT, sf.fileName)}:${first + 1} ${name} (${lines} lines)`);
            }
        }
        ts.forEachChild(n, visit);
    };
    visit(sf);
    return out;
}

/** True when the file opens with a comment (a shebang line may come first). */
function opensWithComment(text: string): boolean {
    const body = text.startsWith("#!") ? text.slice(text.indexOf("\n") + 1) : text;
    return /^\s*(\/\*|\/\/)/.test(body);
}

describe("the layers of components/ (docs/architecture.md)", () => {
    const graph = importGraph();

    test("every file is in a layer's folder, apart from the package root", () => {
        const loose = [...graph.keys()].filter((f) => layerOf(f) === "root").map((f) => path.relative(ROOT, f));
        expect(loose).toEqual(["components/index.ts"]);
        for (const layer of ["model", "targets", "resources", "operations"]) expect([...graph.keys()].some((f) => layerOf(f) === layer)).toBe(true);
    });

    test("imports go one way only: components → targets → model, operations → model", () => {
        expect(layerViolations(graph, layerOf)).toEqual([]);
    });

    test("no import circle, counting type-only imports and re-exports", () => {
        expect(circles(graph).map((c) => c.map((f) => path.relative(ROOT, f)))).toEqual([]);
    });

    test("the model imports only its allowed packages, creates no resource and opens no connection", () => {
        const problems: string[] = [];
        for (const f of [...graph.keys()].filter((x) => layerOf(x) === "model")) {
            const sf = parse(f);
            for (const s of specifiers(sf)) if (!s.startsWith(".") && !MODEL_EXTERNALS.has(s)) problems.push(`${path.relative(ROOT, f)} imports ${s}`);
            const text = sf.getFullText();
            for (const pattern of [/extends\s+pulumi\.(ComponentResource|CustomResource)/, /new\s+pulumi\.[A-Z]\w*\(/, /\bnet\.(connect|createConnection|createServer|Socket)\b/]) {
                if (pattern.test(text)) problems.push(`${path.relative(ROOT, f)} matches ${pattern}`);
            }
        }
        expect(problems).toEqual([]);
    });

    test("the operations create no resource", () => {
        const problems = [...graph.keys()]
            .filter((f) => layerOf(f) === "operations")
            .filter((f) => specifiers(parse(f)).some((s) => s.startsWith("@pulumi/")))
            .map((f) => path.relative(ROOT, f));
        expect(problems).toEqual([]);
    });

    test("the checks find what they look for", () => {
        const a = path.join(COMPONENTS, "model", "a.ts");
        const b = path.join(COMPONENTS, "resources", "b.ts");
        const c = path.join(COMPONENTS, "model", "c.ts");
        const fake = new Map([
            [a, [b, c]],
            [b, [a]],
            [c, [a]],
        ]);
        expect(layerViolations(fake, layerOf)).toEqual(["components/model/a.ts → components/resources/b.ts (model → resources)"]);
        expect(circles(fake).map((x) => x.length)).toEqual([3]);
        expect(circles(new Map([[a, [a]]]))).toEqual([[a]]);
        const sf = ts.createSourceFile("x.ts", `import type { T } from "./t";\nexport { U } from "./u";\nconst f = () => {\n${"  x();\n".repeat(130)}};\nawait import("./v");\n`, ts.ScriptTarget.Latest, true);
        expect(specifiers(sf)).toEqual(["./t", "./u", "./v"]);
        expect(longFunctions(sf, MAX_FUNCTION_LINES)).toEqual([`${path.relative(ROOT, "x.ts")}:3 (anonymous) (132 lines)`]);
        expect(opensWithComment("import x;\n")).toBe(false);
        expect(opensWithComment("#!/usr/bin/env node\n/** What. */\nimport x;\n")).toBe(true);
    });
});

describe("readable code", () => {
    const SOURCES = [
        ...tsFiles(COMPONENTS),
        path.join(ROOT, "index.ts"),
        ...tsFiles(path.join(ROOT, "scripts")),
        ...tsFiles(path.join(ROOT, "policy")),
        ...tsFiles(path.join(ROOT, "plugin")).filter((f) => !f.includes(`${path.sep}bin${path.sep}`)),
    ];

    test(`no function is longer than ${MAX_FUNCTION_LINES} lines`, () => {
        expect(SOURCES.flatMap((f) => longFunctions(parse(f), MAX_FUNCTION_LINES))).toEqual([]);
    });

    test("every source file opens with a comment saying what it is for", () => {
        const files = [...SOURCES, ...tsFiles(path.join(ROOT, "tests"))];
        expect(files.length).toBeGreaterThan(100);
        expect(files.filter((f) => !opensWithComment(fs.readFileSync(f, "utf8"))).map((f) => path.relative(ROOT, f))).toEqual([]);
    });
});
