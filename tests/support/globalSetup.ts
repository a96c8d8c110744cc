/**
 * jest's global setup, run once before any test file: makes the run's temporary directory (tests/support/tempRoot.ts)
 * and in it the run's directories of program evaluations (tests/support/programMemo.ts) and of the packed library
 * (tests/support/packedLibrary.ts), which the workers find through the environment they inherit, and fills the RSA
 * key pool realTls.ts draws from (tests/support/keyPool.ts) when it is missing.
 */
import * as fs from "fs";
import * as path from "path";
import { ensureKeyPool, keyPoolFile } from "./keyPool";
import { PACKED_LIBRARY_ENV } from "./packedLibrary";
import { PROGRAM_MEMO_ENV } from "./programMemo";
import { ORIGINAL_TMPDIR_ENV, RUN_TMPDIR_ENV, makeRunTempDir } from "./tempRoot";

export default async function globalSetup(): Promise<void> {
    // What TMPDIR was, for the teardown to put back (jest's watch mode runs the setup again in the same process).
    process.env[ORIGINAL_TMPDIR_ENV] = process.env.TMPDIR ?? "";
    const tmp = makeRunTempDir();
    process.env[RUN_TMPDIR_ENV] = tmp;
    process.env.TMPDIR = tmp;
    // Inside the run's directory: the teardown removes them with it.
    process.env[PROGRAM_MEMO_ENV] = fs.mkdtempSync(path.join(tmp, "elk-program-memo-"));
    process.env[PACKED_LIBRARY_ENV] = fs.mkdtempSync(path.join(tmp, "elk-packed-library-"));
    const started = Date.now();
    const generated = await ensureKeyPool();
    if (generated > 0) process.stdout.write(`\nthe tests' RSA key pool: ${generated} keys generated in ${Date.now() - started} ms, kept in ${keyPoolFile()}\n`);
}
