/**
 * A pool of RSA keys for realTls.ts, generated once and kept in node_modules/.cache/elk-stack-tests, so that a test
 * run does not generate two 4096-bit and four 2048-bit keys for every program it evaluates (49 evaluations in a run;
 * in a CPU profile of three of them, key generation took three quarters of the time). jest's global setup (tests/support/globalSetup.ts)
 * fills the pool when it is missing or unreadable, with `openssl genpkey` on every core; a fresh clone pays for it
 * once. The keys are test keys on this machine only: nothing outside the tests reads them.
 */
import { execFile } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { writeWhole } from "./atomicWrite";

/** How many keys of each size the pool holds: a stack takes two of 4096 bits and four of 2048, so a program of up to four stacks gets different keys everywhere. */
export const KEY_POOL_SIZES: Readonly<Record<number, number>> = { 4096: 8, 2048: 16 };

const FORMAT = 1;

/** Where the pool is kept; `ELK_TEST_KEY_POOL` overrides it. */
export function keyPoolFile(): string {
    return process.env.ELK_TEST_KEY_POOL ?? path.join(__dirname, "..", "..", "node_modules", ".cache", "elk-stack-tests", "rsa-key-pool.json");
}

interface PoolFile {
    readonly format: number;
    readonly keys: Record<string, string[]>;
}

/** The pool's keys by size, or undefined when the file is missing, of another format, short of keys or unreadable. */
function readPool(file: string): Map<number, crypto.KeyObject[]> | undefined {
    let parsed: PoolFile;
    try {
        parsed = JSON.parse(fs.readFileSync(file, "utf8")) as PoolFile;
    } catch {
        return undefined;
    }
    if (parsed.format !== FORMAT) return undefined;
    const pool = new Map<number, crypto.KeyObject[]>();
    for (const [bits, count] of Object.entries(KEY_POOL_SIZES)) {
        const pems = parsed.keys?.[bits] ?? [];
        if (pems.length < count) return undefined;
        try {
            const keys = pems.slice(0, count).map((pem) => crypto.createPrivateKey(pem));
            if (!keys.every((k) => k.asymmetricKeyType === "rsa" && k.asymmetricKeyDetails?.modulusLength === Number(bits))) return undefined;
            pool.set(Number(bits), keys);
        } catch {
            return undefined;
        }
    }
    return pool;
}

/**
 * The pool, for realTls.ts: an empty map when there is none (a test run without jest's global setup), and realTls
 * then generates every key as before.
 */
export function loadKeyPool(): Map<number, crypto.KeyObject[]> {
    return readPool(keyPoolFile()) ?? new Map<number, crypto.KeyObject[]>();
}

/**
 * One RSA key as PKCS#8 PEM, from `openssl genpkey` (as realTls.ts generates keys, for the reason given there:
 * node's own key generation can deadlock a later export of the key).
 */
function generateRsa(bits: number): Promise<string> {
    return new Promise((resolve, reject) =>
        execFile("openssl", ["genpkey", "-algorithm", "RSA", "-pkeyopt", `rsa_keygen_bits:${bits}`], { encoding: "utf8", timeout: 120_000, killSignal: "SIGKILL" }, (error, stdout, stderr) =>
            error ? reject(new Error(`openssl genpkey (RSA ${bits}) failed: ${stderr || error.message}`)) : resolve(stdout),
        ),
    );
}

/** Runs `tasks` with at most `limit` at a time. */
async function limited<T>(limit: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
    const results: T[] = new Array<T>(tasks.length);
    let next = 0;
    const lane = async () => {
        while (next < tasks.length) {
            const i = next++;
            results[i] = await tasks[i]();
        }
    };
    await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, lane));
    return results;
}

/** Makes sure the pool exists; returns how many keys were generated (0 when the pool was there). */
export async function ensureKeyPool(): Promise<number> {
    const file = keyPoolFile();
    if (readPool(file)) return 0;
    // One openssl per core at a time; the event loop stays free.
    const sizes = Object.entries(KEY_POOL_SIZES).flatMap(([bits, count]) => Array.from({ length: count }, () => Number(bits)));
    const pems = await limited(os.cpus().length, sizes.map((bits) => () => generateRsa(bits)));
    const keys: Record<string, string[]> = {};
    sizes.forEach((bits, i) => (keys[bits] ??= []).push(pems[i]));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // A run that starts meanwhile reads the old file or the whole new one.
    writeWhole(file, JSON.stringify({ format: FORMAT, keys } satisfies PoolFile), 0o600);
    return Object.values(keys).reduce((n, k) => n + k.length, 0);
}
