import * as pulumi from "@pulumi/pulumi";
import { raiseMaxMapCountCommand } from "./maxMapCount";
import type { HostStep, JobSpec, Platform } from "./spec";

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

/** Arguments of {@link KernelSettings}. */
export interface KernelSettingsArgs {
    /** Where the step runs: a one-shot container on Docker, an init container of each pod on Kubernetes. */
    platform: Platform;
    /** Instance name of the step. */
    name: string;
}

/**
 * Sets `vm.max_map_count` on the hosts Elasticsearch runs on, before it starts: a one-shot container on Docker,
 * an init container of every Elasticsearch pod on Kubernetes (a pod may land on any node). Leave it out where
 * the hosts already have the setting.
 */
export class KernelSettings extends pulumi.ComponentResource {
    /** The step; pass it to Elasticsearch, which starts only after it succeeded. */
    readonly step: HostStep;

    constructor(name: string, args: KernelSettingsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("elk:index:KernelSettings", name, {}, opts);
        this.step = args.platform.hostStep(maxMapCountSpec(args.name), { parent: this });
        this.registerOutputs({});
    }
}
