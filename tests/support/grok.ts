/**
 * Grok as Logstash runs it, on Oniguruma (vscode-oniguruma's WebAssembly build), for tests.
 *
 * Logstash's grok (jls-grok) reads pattern files line by line (`NAME<spaces>REGEX`, `#` comments), expands
 * `%{NAME}` / `%{NAME:field}` / `%{NAME:field:int|float}` again and again until none is left, then compiles the
 * result as a Ruby regexp with `Regexp::MULTILINE` (JRuby's Joni, a port of Oniguruma). Here the same expansion
 * runs over the same files and the result is compiled by Oniguruma with Ruby syntax and the same option, so a
 * pattern that matches here matches in Logstash, and an undefined pattern fails here as it would there.
 * Patterns are never copied into tests: they are read from pipelines/patterns.
 *
 * As in Logstash (`named_captures_only`), only `%{NAME:field}` captures; `%{NAME}` is a non-capturing group.
 * Captures are handed out like logstash-filter-grok's `handle`: empty ones are dropped, `:int`/`:float`
 * convert, a field that already has a value becomes an array unless it is in `overwrite`.
 */
import * as fs from "fs";
import * as path from "path";
import * as onig from "vscode-oniguruma";

let loaded: Promise<void> | undefined;

/** Loads the Oniguruma WebAssembly module once per process. */
export function loadOniguruma(): Promise<void> {
    if (!loaded) {
        const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm"));
        loaded = onig.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
    }
    return loaded;
}

/** Ruby's Regexp::MULTILINE, as Oniguruma names it: '.' also matches a newline. */
const RUBY_MULTILINE = 4 as onig.FindOption;
const RUBY_SYNTAX = 10 as onig.Syntax;

/**
 * A compiled regular expression with Ruby semantics. Call {@link loadOniguruma} first. Grok and gsub compile with
 * Regexp::MULTILINE (the default here); a conditional's `=~ /.../` without options.
 */
export class RubyRegex {
    private static readonly compiled = new Map<string, RubyRegex>();
    private readonly scanner: onig.OnigScanner;

    /**
     * The expression compiled once and kept, as Logstash compiles a pipeline's expressions at load. A scanner lives
     * in Oniguruma's WebAssembly heap until it is freed: compiled anew for every event (a `gsub`, a `=~`, a prune's
     * whitelist), scanners filled that heap (2 GB, about 5 KB a line) until every match failed, 400,000 lines into a
     * test file.
     */
    static of(source: string, opts: { multiline?: boolean } = {}): RubyRegex {
        const key = `${opts.multiline === false ? "s" : "m"}${source}`;
        let re = RubyRegex.compiled.get(key);
        if (re === undefined) {
            re = new RubyRegex(source, opts);
            RubyRegex.compiled.set(key, re);
        }
        return re;
    }

    constructor(
        readonly source: string,
        opts: { multiline?: boolean } = {},
    ) {
        this.scanner = new onig.OnigScanner([source], { syntax: RUBY_SYNTAX, options: opts.multiline === false ? [] : [RUBY_MULTILINE] });
    }

    /** The first match at or after `from`: offsets (UTF-16) of the whole match and of each group; undefined when none. */
    exec(text: string, from = 0): { start: number; end: number }[] | undefined {
        const match = this.scanner.findNextMatchSync(text, from);
        return match?.captureIndices.map((c) => ({ start: c.start, end: c.end }));
    }

    /** Ruby's `String#gsub(regex, replacement)`: `\0`/`\&` whole match, `\1`..`\9` groups, `\\` a backslash. */
    gsub(text: string, replacement: string): string {
        let out = "";
        let pos = 0;
        while (pos <= text.length) {
            const m = this.exec(text, pos);
            if (!m) break;
            const [whole] = m;
            out += text.slice(pos, whole.start);
            out += replacement.replace(/\\([0-9&\\])/g, (_all, ref: string) => {
                if (ref === "\\") return "\\";
                const group = m[ref === "&" ? 0 : Number(ref)];
                return group && group.start >= 0 ? text.slice(group.start, group.end) : "";
            });
            if (whole.end === whole.start) {
                // An empty match: copy one character and move on, as Ruby does.
                out += text.slice(whole.end, whole.end + 1);
                pos = whole.end + 1;
            } else {
                pos = whole.end;
            }
        }
        return pos <= text.length ? out + text.slice(pos) : out;
    }
}

/**
 * Reads grok pattern files the way jls-grok's `add_patterns_from_file` does: lines starting with `#` (after
 * spaces) are comments, a line is NAME, whitespace, pattern; a line without a pattern is skipped; trailing
 * whitespace in a pattern is an error. Later definitions replace earlier ones, as in Logstash.
 */
export function readPatternFiles(files: readonly { name: string; content: string }[]): Map<string, string> {
    const patterns = new Map<string, string>();
    for (const file of files) {
        file.content.split("\n").forEach((line, i) => {
            if (/^\s*#/.test(line)) return;
            const m = /^\s*(\S+)\s+(.*)$/.exec(line);
            if (!m) return;
            const [, name, pattern] = m;
            if (/\s$/.test(pattern)) throw new Error(`${file.name}:${i + 1}: trailing whitespace in pattern ${name}`);
            patterns.set(name, pattern);
        });
    }
    return patterns;
}

/** Reads every file of a patterns directory (Logstash's default `patterns_files_glob` is "*"). */
export function readPatternDir(dir: string): Map<string, string> {
    const files = fs
        .readdirSync(dir)
        .sort()
        .filter((name) => fs.statSync(path.join(dir, name)).isFile())
        .map((name) => ({ name, content: fs.readFileSync(path.join(dir, name), "utf8") }));
    return readPatternFiles(files);
}

/** A typed value grok can produce. */
export type GrokValue = string | number;

/** One capture of a compiled expression. */
interface Capture {
    readonly group: number;
    readonly field: string;
    readonly type?: "int" | "float";
}

// jls-grok's PATTERN_RE, without its inline-definition branch (`%{NAME=regex}`), which our files do not use.
const REFERENCE = /%\{([A-Za-z0-9_]+)(?::([@[\]A-Za-z0-9_:.-]+))?\}/;
const ITERATION_LIMIT = 10000;

/** A grok expression expanded over a set of patterns and compiled. */
export class Grok {
    readonly regex: RubyRegex;
    private readonly captures: Capture[];

    constructor(
        readonly expression: string,
        patterns: ReadonlyMap<string, string>,
    ) {
        const named: { id: string; field: string; type?: "int" | "float" }[] = [];
        let expanded = expression;
        for (let i = 0; ; i++) {
            if (i === ITERATION_LIMIT) throw new Error(`grok: deep recursion expanding ${expression}`);
            const m = REFERENCE.exec(expanded);
            if (!m) break;
            const [whole, name, semantic] = m;
            const body = patterns.get(name);
            if (body === undefined) throw new Error(`grok: pattern %{${name}} not defined (in ${expression})`);
            let replacement = `(?:${body})`;
            if (semantic !== undefined) {
                const [field, type] = semantic.split(":");
                if (type !== undefined && type !== "int" && type !== "float") throw new Error(`grok: unknown type ${type} in ${whole}`);
                const id = `g${named.length}x`;
                named.push({ id, field, type });
                replacement = `(?<${id}>${body})`;
            }
            expanded = expanded.slice(0, m.index) + replacement + expanded.slice(m.index + whole.length);
        }
        // With named groups, Ruby numbers only those, left to right: find where each of ours ended up.
        const order = [...expanded.matchAll(/\(\?<([A-Za-z][A-Za-z0-9_]*)>/g)].map((m) => m[1]);
        const foreign = order.find((id) => !named.some((n) => n.id === id));
        if (foreign !== undefined) throw new Error(`grok: raw named group (?<${foreign}>) is not supported here; use %{NAME:field}`);
        this.captures = named.map((n) => ({ group: order.indexOf(n.id) + 1, field: n.field, type: n.type }));
        this.regex = new RubyRegex(expanded);
    }

    /** The captures of the first match in `text` as [field, value] pairs in pattern order, or undefined when it does not match. */
    match(text: string): [string, GrokValue][] | undefined {
        const m = this.regex.exec(text);
        if (!m) return undefined;
        const out: [string, GrokValue][] = [];
        for (const c of this.captures) {
            const g = m[c.group];
            if (!g || g.start < 0 || g.end <= g.start) continue; // no match, or empty: Logstash keeps neither
            const raw = text.slice(g.start, g.end);
            out.push([c.field, c.type === "int" ? Math.trunc(parseInt(raw, 10)) : c.type === "float" ? parseFloat(raw) : raw]);
        }
        return out;
    }
}
