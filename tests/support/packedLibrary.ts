/**
 * The library as `npm pack` ships it, packed once per test run for the test files that read it: examples.test.ts
 * (the file list, a consumer of the tarball) and api.test.ts (API Extractor's report of the declarations). Packing
 * runs prepack, a full build of the library (9 s of CPU on the 2-core machine); api.test.ts ran a build of its own
 * for the declarations before (8 s). The first test file to ask packs, in a directory jest's global setup makes for this run and
 * its global teardown removes (`ELK_PACKED_LIBRARY`); a file in another worker that asks meanwhile waits for it,
 * for a bounded time, and gets the same result, or the same failure.
 */
import * as fs from "fs";
import * as path from "path";
import { runCommandOk } from "./command";
import { writeWhole } from "./atomicWrite";
import { waitUntil } from "./deadline";
import { processRunning } from "./tempRoot";

/** The directory of this run's packed library, set by jest's global setup (tests/support/globalSetup.ts). */
export const PACKED_LIBRARY_ENV = "ELK_PACKED_LIBRARY";

/**
 * How long packing may take (npm pack with its build, under load), and a waiting test file waits 15 s more: both
 * within the 180 s and more that each test using the package has, so that these messages come before jest's own.
 */
const PACK_TIMEOUT_MS = 150_000;

const ROOT = path.join(__dirname, "..", "..");

/** What `npm pack` made. */
export interface PackedLibrary {
    /** The tarball. */
    readonly tarball: string;
    /** The paths npm reports it packed, sorted. */
    readonly files: readonly string[];
    /**
     * The copy of the repository npm packed: its `dist/` is what prepack built and the tarball holds, with the
     * repository's node_modules beside it (a link), so the declarations there resolve their imports.
     */
    readonly packedFrom: string;
}

let packing: Promise<PackedLibrary> | undefined;

/** This run's packed library: packed now by this test file, or by another one of the run. */
export function packedLibrary(): Promise<PackedLibrary> {
    packing ??= packOrWait();
    return packing;
}

async function packOrWait(): Promise<PackedLibrary> {
    const dir = process.env[PACKED_LIBRARY_ENV];
    if (!dir) throw new Error(`${PACKED_LIBRARY_ENV} is not set: jest's global setup (tests/support/globalSetup.ts) makes the run's directory for the packed library`);
    return onceInRun(dir, () => pack(dir), "the library packed by another test file of this run (tests/support/packedLibrary.ts)", PACK_TIMEOUT_MS + 15_000);
}

/**
 * `produce()`'s result, made once for every process that asks with the same `dir`: the first to ask makes it, and
 * the others wait (up to `waitMs`, a wait for `what`) for its result or its failure. The result is JSON. A waiter
 * whose maker ended without either (a worker that crashed) fails at once, naming it.
 */
export async function onceInRun<T>(dir: string, produce: () => Promise<T>, what: string, waitMs: number): Promise<T> {
    const result = path.join(dir, "result.json");
    const failure = path.join(dir, "failure.txt");
    const lock = path.join(dir, "lock");
    try {
        // mkdir is atomic, also across processes: the one that makes the lock produces.
        fs.mkdirSync(lock);
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        const done = await waitUntil(
            () => {
                if (fs.existsSync(result)) return "result";
                if (fs.existsSync(failure)) return "failure";
                const maker = makerPid(lock);
                if (maker !== undefined && !processRunning(maker)) return "gone";
                return undefined;
            },
            waitMs,
            `${what}, in ${dir}`,
            100,
        );
        if (done === "failure") throw new Error(`${what} failed:\n${fs.readFileSync(failure, "utf8")}`);
        // The maker may have written its result just before it ended.
        if (done === "gone" && !fs.existsSync(result)) throw new Error(`${what}: the process making it (pid ${makerPid(lock)}) ended without a result, in ${dir}`);
        return JSON.parse(fs.readFileSync(result, "utf8")) as T;
    }
    writeWhole(path.join(lock, "pid"), String(process.pid));
    try {
        const made = await produce();
        writeWhole(result, JSON.stringify(made));
        return made;
    } catch (error) {
        writeWhole(failure, error instanceof Error ? error.message : String(error));
        throw error;
    }
}

function makerPid(lock: string): number | undefined {
    const file = path.join(lock, "pid");
    return fs.existsSync(file) ? Number(fs.readFileSync(file, "utf8")) : undefined;
}

/** Packs a copy of the repository: prepack builds dist/, which must not appear in the working tree of whoever runs the tests. */
async function pack(dir: string): Promise<PackedLibrary> {
    const copy = path.join(dir, "repo");
    const skip = new Set(["node_modules", ".git", "dist", "bin", "out", "coverage", "render"]);
    fs.cpSync(ROOT, copy, { recursive: true, filter: (src) => !skip.has(path.relative(ROOT, src).split(path.sep)[0]) });
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(copy, "node_modules"), "dir");
    const out = await runCommandOk("npm", ["pack", "--json", "--ignore-scripts=false", "--pack-destination", dir], {
        cwd: copy,
        timeoutMs: PACK_TIMEOUT_MS,
        env: { ...process.env, npm_config_update_notifier: "false" },
    });
    const [report] = JSON.parse(out) as { filename: string; files: { path: string }[] }[];
    return { tarball: path.join(dir, report.filename), files: report.files.map((f) => f.path).sort(), packedFrom: copy };
}
