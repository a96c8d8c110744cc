/**
 * Where a test run makes its temporary files: one directory per run, which jest's global setup makes and hands to
 * the workers (and every process they start) as `TMPDIR`, so that `os.tmpdir()`, Python's `tempfile` and npm put
 * their files there, and which the global teardown removes with whatever a test left in it.
 *
 * It is on a memory file system (tmpfs, `/dev/shm`) when the machine has one with room where programs may run (the
 * tests write scripts there and run them), because the tests create many files: on the 2-core development machine's
 * disk, `npm install` of the scratch consumer in tests/examples.test.ts took 17 s of CPU (12 s of it in the kernel,
 * in about 16,000 opens and 31,000 mkdirs) and 6.8 s on tmpfs; a whole run took 238 s of CPU on disk, 207 s and 197 s
 * on tmpfs. Without such a file system, or when `TMPDIR` is set (someone chose where temporary files go), the run's
 * directory is made under `os.tmpdir()`. A run that was killed before its teardown leaves its directory: the next
 * run's setup removes it, once the process that made it has ended.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** The run's temporary directory, also given as TMPDIR; set by jest's global setup. */
export const RUN_TMPDIR_ENV = "ELK_TEST_TMPDIR";

/** TMPDIR as it was before the global setup set it ("" when unset), for the teardown to put back. */
export const ORIGINAL_TMPDIR_ENV = "ELK_TEST_ORIGINAL_TMPDIR";

/** tmpfs's file system type in statfs(2)'s f_type (linux/magic.h TMPFS_MAGIC). */
export const TMPFS_MAGIC = 0x01021994;

/** Room a run needs at most: the scratch consumer's node_modules (about 150 MB) many times over. */
export const MIN_FREE_BYTES = 2 * 1024 ** 3;

const PREFIX = "elk-test-run-";
/** The file in a run's directory that names the process that made it. */
const OWNER = "owner.pid";

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

/** Whether a program written into `dir` runs there: not on a file system mounted noexec (as /dev/shm often is). */
export function canRunProgramsIn(dir: string): boolean {
    let probe: string | undefined;
    try {
        probe = fs.mkdtempSync(path.join(dir, "elk-exec-probe-"));
        const script = path.join(probe, "probe.sh");
        fs.writeFileSync(script, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
        return spawnSync(script, [], { timeout: 10_000 }).status === 0;
    } catch {
        return false;
    } finally {
        if (probe) fs.rmSync(probe, { recursive: true, force: true });
    }
}

/**
 * Makes the run's temporary directory, owned by `owner` (a pid): under `TMPDIR` when the environment sets it, else
 * under `memory` when that suits ({@link suitsMemoryTemp}, {@link canRunProgramsIn}), else under `os.tmpdir()`.
 * First removes what runs killed before their teardown left there.
 */
export function makeRunTempDir(env: NodeJS.ProcessEnv = process.env, memory = "/dev/shm", owner = process.pid): string {
    const parent = env.TMPDIR ? env.TMPDIR : suitsMemoryTemp(statfs(memory)) && canRunProgramsIn(memory) ? memory : os.tmpdir();
    removeAbandoned(parent);
    const dir = fs.mkdtempSync(path.join(parent, PREFIX));
    fs.writeFileSync(path.join(dir, OWNER), String(owner));
    return dir;
}

/** Removes the run directories under `parent` whose owner has ended (a run killed before its teardown). */
export function removeAbandoned(parent: string): string[] {
    const removed: string[] = [];
    let entries: string[];
    try {
        entries = fs.readdirSync(parent).filter((e) => e.startsWith(PREFIX));
    } catch {
        return removed;
    }
    for (const entry of entries) {
        const dir = path.join(parent, entry);
        let owner: number;
        try {
            owner = Number(fs.readFileSync(path.join(dir, OWNER), "utf8"));
        } catch {
            // Not ours to judge: no owner recorded.
            continue;
        }
        if (Number.isInteger(owner) && owner > 0 && !processRunning(owner)) {
            fs.rmSync(dir, { recursive: true, force: true });
            removed.push(dir);
        }
    }
    return removed;
}

/** Whether a process with this pid runs (signal 0 checks without sending anything). */
export function processRunning(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (error) {
        // EPERM: it runs, as another user.
        return (error as NodeJS.ErrnoException).code === "EPERM";
    }
}
