/** Files other processes of a test run read while they are written. */
import * as fs from "fs";

/**
 * Writes `text` to `file` aside, then renames it into place: a process reading meanwhile sees no file (or the old
 * one) or the whole new one, never half of it. The aside name carries the pid, so two writers never share it.
 */
export function writeWhole(file: string, text: string, mode?: number): void {
    const partial = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(partial, text, mode === undefined ? undefined : { mode });
    fs.renameSync(partial, file);
}
