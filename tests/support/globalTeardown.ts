/** jest's global teardown: removes this run's directory of program evaluations (tests/support/globalSetup.ts). */
import * as fs from "fs";
import { PROGRAM_MEMO_ENV } from "./programMemo";

export default function globalTeardown(): void {
    const dir = process.env[PROGRAM_MEMO_ENV];
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
}
