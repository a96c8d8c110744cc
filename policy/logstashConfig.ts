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

/** Every plugin block of a pipeline's text, in order, with the section each is in; throws {@link LsParseError}. */
export function parsePipeline(text: string): LsPlugin[] {
    const tokens = tokenize(text);
    let p = 0;
    const peek = (): Token | undefined => tokens[p];
    const fail = (what: string): never => {
        const tok = peek();
        throw new LsParseError(tok ? `${what} at offset ${tok.at} (found ${JSON.stringify(tok.v)})` : `${what} at the end of the text`);
    };
    const expect = (v: string): void => {
        const tok = peek();
        if (!tok || tok.t !== "punct" || tok.v !== v) fail(`expected "${v}"`);
        p++;
    };
    const isPunct = (v: string): boolean => peek()?.t === "punct" && peek()?.v === v;
    const plugins: LsPlugin[] = [];

    const value = (section: string): LsValue => {
        const tok = peek();
        if (!tok) return fail("expected a value");
        if (tok.t === "string") {
            p++;
            return { kind: "string", text: tok.v };
        }
        if (tok.t === "number") {
            p++;
            return { kind: "number", text: tok.v };
        }
        if (tok.t === "word") {
            p++;
            // `codec => json { charset => "UTF-8" }`: a plugin as a value.
            if (isPunct("{")) return { kind: "plugin", plugin: pluginBody(section, tok.v) };
            return { kind: "bareword", text: tok.v };
        }
        if (tok.t === "punct" && tok.v === "[") {
            p++;
            const items: LsValue[] = [];
            while (!isPunct("]")) {
                items.push(value(section));
                if (isPunct(",")) p++;
                else if (!isPunct("]")) fail('expected "," or "]"');
            }
            p++;
            return { kind: "array", items };
        }
        if (tok.t === "punct" && tok.v === "{") {
            p++;
            const entries: [string, LsValue][] = [];
            while (!isPunct("}")) {
                const key = peek();
                if (!key || (key.t !== "string" && key.t !== "word" && key.t !== "number")) return fail("expected a hash key");
                p++;
                expect("=>");
                entries.push([key.v, value(section)]);
                if (isPunct(",")) p++;
            }
            p++;
            return { kind: "hash", entries };
        }
        return fail("expected a value");
    };

    const pluginBody = (section: string, name: string): LsPlugin => {
        expect("{");
        const settings: LsSetting[] = [];
        while (!isPunct("}")) {
            const key = peek();
            if (!key || (key.t !== "word" && key.t !== "string")) return fail(`expected a setting of plugin ${name}`);
            p++;
            expect("=>");
            settings.push({ name: key.v, value: value(section) });
        }
        p++;
        return { section, name, settings };
    };

    /** Reads a condition up to its block's `{`: strings and regular expressions are tokens already. */
    const condition = (): void => {
        let depth = 0;
        for (;;) {
            const tok = peek();
            if (!tok) fail("expected the block of a condition");
            if (tok?.t === "punct" && (tok.v === "(" || tok.v === "[")) depth++;
            if (tok?.t === "punct" && (tok.v === ")" || tok.v === "]")) depth--;
            if (tok?.t === "punct" && tok.v === "{" && depth === 0) return;
            p++;
        }
    };

    /** The plugins and branches of a block, up to its closing `}`. */
    const block = (section: string): void => {
        expect("{");
        while (!isPunct("}")) {
            const tok = peek();
            if (!tok) fail('expected "}"');
            if (tok?.t === "word" && tok.v === "if") {
                p++;
                condition();
                block(section);
                while (peek()?.t === "word" && peek()?.v === "else") {
                    p++;
                    if (peek()?.t === "word" && peek()?.v === "if") {
                        p++;
                        condition();
                    }
                    block(section);
                }
            } else if (tok?.t === "word" || tok?.t === "string") {
                p++;
                plugins.push(pluginBody(section, tok.v));
            } else {
                fail("expected a plugin or a condition");
            }
        }
        p++;
    };

    while (peek()) {
        const tok = peek();
        if (!tok || tok.t !== "word" || !SECTIONS.has(tok.v)) return fail("expected input, filter or output");
        p++;
        block(tok.v);
    }
    return plugins;
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
