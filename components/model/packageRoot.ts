/**
 * The package's root folder, where the data folders a component reads at run time live (`pipelines/`, `shell/`,
 * `kibana/`, `wiring/`). Computed from this file's place: `components/model/` in the sources and `dist/model/` in the
 * published package (tsconfig.build.json's rootDir is `components`), both two levels below the root.
 */
import * as path from "path";

/** Absolute path of the package root. */
export const PACKAGE_ROOT = path.resolve(__dirname, "..", "..");
