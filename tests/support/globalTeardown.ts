/**
 * jest's global teardown: removes this run's temporary directory, with the directories of program evaluations and of
 * the packed library in it and whatever a test left there, and puts TMPDIR back as it was (tests/support/globalSetup.ts).
 */
import * as fs from "fs";
import { ORIGINAL_TMPDIR_ENV, RUN_TMPDIR_ENV } from "./tempRoot";

export default function globalTeardown(): void {
    const dir = process.env[RUN_TMPDIR_ENV];
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    const original = process.env[ORIGINAL_TMPDIR_ENV];
    if (original === undefined) return;
    if (original === "") delete process.env.TMPDIR;
    else process.env.TMPDIR = original;
}
