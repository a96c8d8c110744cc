/** The kernel setting Elasticsearch needs (`vm.max_map_count`) and the spec of the privileged step that raises it. */
import { raiseMaxMapCountCommand } from "./maxMapCount";
import type { JobSpec } from "./spec";

/** The setting Elasticsearch needs for its memory-mapped index files. */
export const MAX_MAP_COUNT = 262144;
/** Small pinned image that has `sysctl`. */
export const SYSCTL_IMAGE = "busybox:1.37.0";

/**
 * The one privileged step of the stack: raise `vm.max_map_count` on the host kernel (on Docker Desktop, the
 * VM's kernel) to at least {@link MAX_MAP_COUNT} before Elasticsearch starts, leaving a higher value alone. Pure.
 */
export function maxMapCountSpec(name: string): JobSpec {
    return {
        kind: "job",
        name,
        description: `kernel setting vm.max_map_count >= ${MAX_MAP_COUNT}`,
        role: "kernel",
        image: SYSCTL_IMAGE,
        // Raises the setting when it is lower and never lowers it.
        entrypoint: raiseMaxMapCountCommand(MAX_MAP_COUNT),
        env: {},
        files: [],
        runAs: { uid: 0, gid: 0 },
        // Writing a kernel parameter needs it; nothing else in the stack is privileged.
        privileged: true,
        timeoutSeconds: 60,
        memoryMb: 16,
    };
}
