/**
 * A pool of RSA keys for realTls.ts, generated once and kept in node_modules/.cache/elk-stack-tests, so that a test
 * run does not generate two 4096-bit and four 2048-bit keys for every program it evaluates (49 evaluations: about
 * two thirds of the suite's CPU time went to key generation). jest's global setup (tests/support/globalSetup.ts)
 * fills the pool when it is missing or unreadable, with node's asynchronous key generation on all cores; a fresh
 * clone pays for it once. The keys are test keys on this machine only: nothing outside the tests reads them.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

/** How many keys of each size the pool holds: enough that a program of three stacks gets different keys everywhere. */
export const KEY_POOL_SIZES: Readonly<Record<number, number>> = { 4096: 12, 2048: 24 };

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

function generateRsa(bits: number): Promise<string> {
    return new Promise((resolve, reject) =>
        crypto.generateKeyPair("rsa", { modulusLength: bits }, (error, _publicKey, privateKey) =>
            error ? reject(error) : resolve(privateKey.export({ type: "pkcs8", format: "pem" }).toString()),
        ),
    );
}

/** Makes sure the pool exists; returns how many keys were generated (0 when the pool was there). */
export async function ensureKeyPool(): Promise<number> {
    const file = keyPoolFile();
    if (readPool(file)) return 0;
    const keys: Record<string, string[]> = {};
    // libuv's thread pool runs these on every core; the event loop stays free.
    await Promise.all(
        Object.entries(KEY_POOL_SIZES).map(async ([bits, count]) => {
            keys[bits] = await Promise.all(Array.from({ length: count }, () => generateRsa(Number(bits))));
        }),
    );
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // Written aside, then renamed: a run that starts meanwhile reads the old file or the whole new one.
    const partial = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(partial, JSON.stringify({ format: FORMAT, keys } satisfies PoolFile), { mode: 0o600 });
    fs.renameSync(partial, file);
    return Object.values(keys).reduce((n, k) => n + k.length, 0);
}
