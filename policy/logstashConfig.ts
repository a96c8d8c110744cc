/**
 * A reader of Logstash pipeline configuration, enough for the policies to see every plugin block and its settings:
 * sections (`input`, `filter`, `output`), plugins, conditionals (`if`, `else if`, `else`, read past, with their
 * branches' plugins kept), and values (strings, numbers, barewords, arrays, hashes, codecs written as plugins).
 * It follows the grammar of logstash-core's `lib/logstash/compiler/lscl.treetop`: `#` starts a comment to the end
 * of the line; a quoted string ends at the first unescaped quote of its kind (`\"` does not end it); a regular
 * expression in a condition is `/.../` with `\/` inside. A text it cannot read is an error, never a partial answer:
 * a policy that skipped what it could not parse would pass whatever was hidden behind the error.
 */

/** A value of a plugin setting. */
export type LsValue =
    | { readonly kind: "string"; readonly text: string }
    | { readonly kind: "bareword"; readonly text: string }
    | { readonly kind: "number"; readonly text: string }
    | { readonly kind: "array"; readonly items: readonly LsValue[] }
    | { readonly kind: "hash"; readonly entries: readonly (readonly [string, LsValue])[] }
    | { readonly kind: "plugin"; readonly plugin: LsPlugin };

/** One setting of a plugin: `name => value`. A name may appear more than once. */
export interface LsSetting {
    readonly name: string;
    readonly value: LsValue;
}

/** A plugin block, e.g. `elasticsearch { hosts => [...] }`, with the section it is in. */
export interface LsPlugin {
    readonly section: string;
    readonly name: string;
    readonly settings: readonly LsSetting[];
}

/** Why a text is not a pipeline this reader understands. */
export class LsParseError extends Error {}

const SECTIONS = new Set(["input", "filter", "output"]);

/** True when `text` starts (after comments and blank lines) like a Logstash pipeline: `input {`, `filter {` or `output {`. */
export function looksLikePipeline(text: string): boolean {
    const body = text.replace(/^(\s*(#[^\n]*)?\n)*\s*/, "");
    return /^(input|filter|output)\s*\{/.test(body);
}

type Token =
    | { readonly t: "word"; readonly v: string; readonly at: number }
    | { readonly t: "string"; readonly v: string; readonly at: number }
    | { readonly t: "number"; readonly v: string; readonly at: number }
    | { readonly t: "regex"; readonly v: string; readonly at: number }
    | { readonly t: "punct"; readonly v: string; readonly at: number };

/** The tokens of a pipeline. Condition operators become punct tokens; the reader skips them. */
function tokenize(text: string): Token[] {
    const out: Token[] = [];
    let i = 0;
    // A `/` starts a regular expression only where a value is expected (after an operator or an opening bracket).
    const regexAllowed = (): boolean => {
        const last = out[out.length - 1];
        return last !== undefined && last.t === "punct" && ["=~", "!~", "(", ",", "==", "!="].includes(last.v);
    };
    while (i < text.length) {
        const c = text[i];
        if (/\s/.test(c)) {
            i++;
        } else if (c === "#") {
            while (i < text.length && text[i] !== "\n") i++;
        } else if (c === '"' || c === "'") {
            const start = i++;
            let v = "";
            for (;;) {
                if (i >= text.length) throw new LsParseError(`unterminated string at offset ${start}`);
                if (text[i] === "\\" && text[i + 1] === c) {
                    v += c;
                    i += 2;
                } else if (text[i] === c) {
                    i++;
                    break;
                } else {
                    v += text[i++];
                }
            }
            out.push({ t: "string", v, at: start });
        } else if (c === "/" && regexAllowed()) {
            const start = i++;
            let v = "";
            for (;;) {
                if (i >= text.length) throw new LsParseError(`unterminated regular expression at offset ${start}`);
                if (text[i] === "\\" && text[i + 1] === "/") {
                    v += "\\/";
                    i += 2;
                } else if (text[i] === "/") {
                    i++;
                    break;
                } else {
                    v += text[i++];
                }
            }
            out.push({ t: "regex", v, at: start });
        } else if (/[-0-9]/.test(c) && /^-?[0-9]/.test(text.slice(i, i + 2))) {
            const m = /^-?[0-9]+(\.[0-9]*)?/.exec(text.slice(i)) as RegExpExecArray;
            out.push({ t: "number", v: m[0], at: i });
            i += m[0].length;
        } else if (/[A-Za-z_@]/.test(c)) {
            const m = /^[A-Za-z_@][A-Za-z0-9_@.-]*/.exec(text.slice(i)) as RegExpExecArray;
            out.push({ t: "word", v: m[0], at: i });
            i += m[0].length;
        } else {
            const two = text.slice(i, i + 2);
            const op = ["=>", "==", "!=", "<=", ">=", "=~", "!~", "&&", "||"].includes(two) ? two : c;
            out.push({ t: "punct", v: op, at: i });
            i += op.length;
        }
    }
    return out;
}

/**
 * Where the parse steps are in the tokens, and the checks they share: one cursor passed from step to step, so each
 * construct of the grammar is a function of its own and every error is worded in one place.
 */
class TokenCursor {
    private p = 0;
    constructor(private readonly tokens: readonly Token[]) {}
    peek(): Token | undefined {
        return this.tokens[this.p];
    }
    /** Steps past the token {@link peek} returned. */
    next(): void {
        this.p++;
    }
    fail(what: string): never {
        const tok = this.peek();
        throw new LsParseError(tok ? `${what} at offset ${tok.at} (found ${JSON.stringify(tok.v)})` : `${what} at the end of the text`);
    }
    expect(v: string): void {
        const tok = this.peek();
        if (!tok || tok.t !== "punct" || tok.v !== v) this.fail(`expected "${v}"`);
        this.p++;
    }
    isPunct(v: string): boolean {
        return this.peek()?.t === "punct" && this.peek()?.v === v;
    }
}

/** Every plugin block of a pipeline's text, in order, with the section each is in; throws {@link LsParseError}. */
export function parsePipeline(text: string): LsPlugin[] {
    const cur = new TokenCursor(tokenize(text));
    const plugins: LsPlugin[] = [];
    while (cur.peek()) {
        const tok = cur.peek();
        if (!tok || tok.t !== "word" || !SECTIONS.has(tok.v)) return cur.fail("expected input, filter or output");
        cur.next();
        readBlock(cur, tok.v, plugins);
    }
    return plugins;
}

/** A setting's value: a string, number, bareword, array, hash, or a plugin written as a value (a codec). */
function readValue(cur: TokenCursor, section: string): LsValue {
    const tok = cur.peek();
    if (!tok) return cur.fail("expected a value");
    if (tok.t === "string") {
        cur.next();
        return { kind: "string", text: tok.v };
    }
    if (tok.t === "number") {
        cur.next();
        return { kind: "number", text: tok.v };
    }
    if (tok.t === "word") {
        cur.next();
        // `codec => json { charset => "UTF-8" }`: a plugin as a value.
        if (cur.isPunct("{")) return { kind: "plugin", plugin: readPluginBody(cur, section, tok.v) };
        return { kind: "bareword", text: tok.v };
    }
    if (tok.t === "punct" && tok.v === "[") return readArray(cur, section);
    if (tok.t === "punct" && tok.v === "{") return readHash(cur, section);
    return cur.fail("expected a value");
}

/** `[a, b, ...]`, from its `[` (the cursor is on it) to its `]`. */
function readArray(cur: TokenCursor, section: string): LsValue {
    cur.next();
    const items: LsValue[] = [];
    while (!cur.isPunct("]")) {
        items.push(readValue(cur, section));
        if (cur.isPunct(",")) cur.next();
        else if (!cur.isPunct("]")) cur.fail('expected "," or "]"');
    }
    cur.next();
    return { kind: "array", items };
}

/** `{ key => value ... }`, from its `{` (the cursor is on it) to its `}`; commas between entries are optional. */
function readHash(cur: TokenCursor, section: string): LsValue {
    cur.next();
    const entries: [string, LsValue][] = [];
    while (!cur.isPunct("}")) {
        const key = cur.peek();
        if (!key || (key.t !== "string" && key.t !== "word" && key.t !== "number")) return cur.fail("expected a hash key");
        cur.next();
        cur.expect("=>");
        entries.push([key.v, readValue(cur, section)]);
        if (cur.isPunct(",")) cur.next();
    }
    cur.next();
    return { kind: "hash", entries };
}

/** A plugin's `{ setting => value ... }`, its name already read. */
function readPluginBody(cur: TokenCursor, section: string, name: string): LsPlugin {
    cur.expect("{");
    const settings: LsSetting[] = [];
    while (!cur.isPunct("}")) {
        const key = cur.peek();
        if (!key || (key.t !== "word" && key.t !== "string")) return cur.fail(`expected a setting of plugin ${name}`);
        cur.next();
        cur.expect("=>");
        settings.push({ name: key.v, value: readValue(cur, section) });
    }
    cur.next();
    return { section, name, settings };
}

/** Reads a condition up to its block's `{`: strings and regular expressions are tokens already. */
function skipCondition(cur: TokenCursor): void {
    let depth = 0;
    for (;;) {
        const tok = cur.peek();
        if (!tok) cur.fail("expected the block of a condition");
        if (tok?.t === "punct" && (tok.v === "(" || tok.v === "[")) depth++;
        if (tok?.t === "punct" && (tok.v === ")" || tok.v === "]")) depth--;
        if (tok?.t === "punct" && tok.v === "{" && depth === 0) return;
        cur.next();
    }
}

/** The plugins and branches of a block, up to its closing `}`; its plugins are added to `plugins` in order. */
function readBlock(cur: TokenCursor, section: string, plugins: LsPlugin[]): void {
    cur.expect("{");
    while (!cur.isPunct("}")) {
        const tok = cur.peek();
        if (!tok) cur.fail('expected "}"');
        if (tok?.t === "word" && tok.v === "if") {
            cur.next();
            readConditional(cur, section, plugins);
        } else if (tok?.t === "word" || tok?.t === "string") {
            cur.next();
            plugins.push(readPluginBody(cur, section, tok.v));
        } else {
            cur.fail("expected a plugin or a condition");
        }
    }
    cur.next();
}

/**
 * An `if` (already read) with its `else if` and `else` branches: the conditions are read past, every branch's
 * plugins are kept, since a policy must see each plugin whichever branch runs.
 */
function readConditional(cur: TokenCursor, section: string, plugins: LsPlugin[]): void {
    skipCondition(cur);
    readBlock(cur, section, plugins);
    while (cur.peek()?.t === "word" && cur.peek()?.v === "else") {
        cur.next();
        if (cur.peek()?.t === "word" && cur.peek()?.v === "if") {
            cur.next();
            skipCondition(cur);
        }
        readBlock(cur, section, plugins);
    }
}

/** Every value a plugin gives a setting: a setting written twice is checked twice. */
export function settingValues(plugin: LsPlugin, name: string): LsValue[] {
    return plugin.settings.filter((s) => s.name === name).map((s) => s.value);
}

/** A setting's value as text when it is a string, bareword or number; undefined otherwise. */
export function scalar(v: LsValue | undefined): string | undefined {
    return v && (v.kind === "string" || v.kind === "bareword" || v.kind === "number") ? v.text : undefined;
}

/** A setting's values as texts: every scalar of an array, or the one scalar. */
export function scalars(v: LsValue | undefined): string[] {
    if (!v) return [];
    if (v.kind === "array") return v.items.flatMap((i) => scalars(i));
    const s = scalar(v);
    return s === undefined ? [] : [s];
}
