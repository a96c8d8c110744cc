/**
 * One evaluation of the program per stack config and run options in a test run. Many test files evaluate the same
 * stack (of a run's 49 evaluations, the dev stack file's config seven times, prod's three times on each engine): what
 * runProgram records for a config is kept, in memory for the test file and on disk for the other jest workers, in a
 * directory jest's global setup makes for this run and its global teardown removes (`ELK_PROGRAM_MEMO`).
 *
 * Only runs of index.ts with data options are kept: a run with its own `program` or a `reads` callback is evaluated
 * every time (a function's closure cannot be part of a key), and so is a run that throws (config errors are cheap).
 * Each caller gets its own copy, parsed from JSON in the test file's own realm (so jest's strict equality sees
 * the same constructors as in a fresh run) with `undefined` properties kept; a run JSON cannot carry exactly (a
 * number JSON has no form for, a Buffer) is checked and not kept. A test that changes what it got changes nothing
 * for the next one.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { isDeepStrictEqual } from "util";
import { writeWhole } from "./atomicWrite";

/** The memo directory of this test run, set by jest's global setup (tests/support/globalSetup.ts). */
export const PROGRAM_MEMO_ENV = "ELK_PROGRAM_MEMO";

const inMemory = new Map<string, string>();

/** Stands for `undefined` in the JSON text: JSON drops undefined properties, and jest's strict equality sees them. */
const UNDEFINED = "\u0000undefined\u0000";

function encode(run: unknown): string {
    return JSON.stringify(run, (_key, v: unknown) => (v === undefined ? UNDEFINED : v));
}

function decode(text: string): unknown {
    const restore = (v: unknown): unknown => {
        if (v === UNDEFINED) return undefined;
        if (v !== null && typeof v === "object") {
            for (const [k, x] of Object.entries(v)) (v as Record<string, unknown>)[k] = restore(x);
        }
        return v;
    };
    return restore(JSON.parse(text));
}

interface MemoOptions {
    readonly stack?: string;
    readonly preview?: boolean;
    readonly secretKeys?: readonly string[];
    readonly program?: unknown;
    readonly reads?: unknown;
    readonly previousOutputs?: Record<string, unknown>;
    readonly stashed?: Record<string, unknown>;
}

/** A JSON text with object keys sorted, so that the same config written in another order gives the same key. */
function canonical(value: unknown): string {
    return JSON.stringify(value, (_key, v: unknown) =>
        v !== null && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) : v,
    );
}

/**
 * The key of a run, or undefined for a run that must be evaluated every time. Every option that changes what the
 * program registers is in it; `stack` and `preview` with their defaults, so `{}` and `{ stack: "dev" }` are one run.
 */
export function memoKey(config: Record<string, string>, options: MemoOptions): string | undefined {
    if (options.program !== undefined || options.reads !== undefined) return undefined;
    const known = new Set(["stack", "preview", "secretKeys", "program", "reads", "previousOutputs", "stashed"]);
    // An option this memo does not know could change the run: better evaluated than answered wrongly.
    if (Object.keys(options).some((k) => !known.has(k))) return undefined;
    const key = canonical({
        config,
        stack: options.stack ?? "dev",
        preview: options.preview ?? false,
        secretKeys: [...(options.secretKeys ?? [])].sort(),
        previousOutputs: options.previousOutputs ?? null,
        stashed: options.stashed ?? null,
    });
    return crypto.createHash("sha256").update(key).digest("hex");
}

function memoFile(key: string): string | undefined {
    const dir = process.env[PROGRAM_MEMO_ENV];
    return dir ? path.join(dir, `${key}.json`) : undefined;
}

/** A copy of the run kept under `key`, if this file or another worker evaluated it in this test run. */
export function recall<T>(key: string): T | undefined {
    let text = inMemory.get(key);
    const file = memoFile(key);
    if (text === undefined && file && fs.existsSync(file)) {
        text = fs.readFileSync(file, "utf8");
        inMemory.set(key, text);
    }
    return text === undefined ? undefined : (decode(text) as T);
}

/** Keeps `run` under `key` for the rest of this test run, unless its JSON form would not give it back exactly. */
export function remember(key: string, run: unknown): void {
    let text: string;
    try {
        text = encode(run);
    } catch {
        return;
    }
    if (!isDeepStrictEqual(decode(text), run)) return;
    inMemory.set(key, text);
    const file = memoFile(key);
    if (file && fs.existsSync(path.dirname(file))) {
        // A worker reading meanwhile sees no file or the whole file.
        writeWhole(file, text);
    }
}
