/** The privileged kernel step (vm.max_map_count) as a component; its job spec is in components/model/kernel.ts. */
import * as pulumi from "@pulumi/pulumi";
import type { HostStep, Platform } from "../model/spec";
import { maxMapCountSpec } from "../model/kernel";

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
