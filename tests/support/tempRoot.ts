/**
 * Where a test run makes its temporary files: one directory per run, which jest's global setup makes and hands to
 * the workers (and every process they start) as `TMPDIR`, so that `os.tmpdir()`, Python's `tempfile` and npm put
 * their files there, and which the global teardown removes with whatever a test left in it.
 *
 * It is on a memory file system (tmpfs, `/dev/shm`) when the machine has one with room, because the tests create
 * many files: on the 2-core development machine's disk, `npm install` of the scratch consumer in
 * tests/examples.test.ts took 17 s of CPU (12 s of it in the kernel, creating 15,000 files) and 6.8 s on tmpfs, and a
 * whole run 207 to 219 s of CPU instead of 238 s. Without such a file system, or when `TMPDIR` is set already
 * (someone chose where temporary files go), the run's directory is made under `os.tmpdir()`.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** The run's temporary directory, also given as TMPDIR; set by jest's global setup. */
export const RUN_TMPDIR_ENV = "ELK_TEST_TMPDIR";

/** tmpfs's file system type in statfs(2)'s f_type (linux/magic.h TMPFS_MAGIC). */
export const TMPFS_MAGIC = 0x01021994;

/** Room a run needs at most: the scratch consumer's node_modules (about 150 MB) many times over. */
export const MIN_FREE_BYTES = 2 * 1024 ** 3;

/** What statfs(2) says of a directory, as much as the choice needs. */
export interface FileSystemInfo {
    readonly type: number;
    readonly bavail: number;
    readonly bsize: number;
}

/** Whether a file system suits a run's temporary files in memory: tmpfs, with {@link MIN_FREE_BYTES} free. */
export function suitsMemoryTemp(info: FileSystemInfo | undefined): boolean {
    return info !== undefined && info.type === TMPFS_MAGIC && info.bavail * info.bsize >= MIN_FREE_BYTES;
}

function statfs(dir: string): FileSystemInfo | undefined {
    try {
        fs.accessSync(dir, fs.constants.W_OK);
        return fs.statfsSync(dir);
    } catch {
        return undefined;
    }
}

/**
 * Makes the run's temporary directory: under `TMPDIR` when the environment sets it, else under `/dev/shm` when
 * that suits ({@link suitsMemoryTemp}), else under `os.tmpdir()`.
 */
export function makeRunTempDir(env: NodeJS.ProcessEnv = process.env, memory = "/dev/shm"): string {
    const parent = env.TMPDIR ? env.TMPDIR : suitsMemoryTemp(statfs(memory)) ? memory : os.tmpdir();
    return fs.mkdtempSync(path.join(parent, "elk-test-run-"));
}
