/** The Kibana setup step as a component: imports the saved objects (components/model/kibanaObjects.ts) once Kibana is up. */
import * as pulumi from "@pulumi/pulumi";
import { type PlacedJob, type Platform } from "../model/spec";
import { type KibanaProvisioningInput, kibanaProvisioningSpec } from "../model/kibanaObjects";

/** Arguments of {@link KibanaSetup}. */
export interface KibanaSetupArgs extends KibanaProvisioningInput {
    /** Where the step runs. */
    platform: Platform;
    /** Kibana must be up first. */
    kibanaReady: pulumi.Resource;
}

/**
 * Imports the stack's data views and dashboard into Kibana once it is healthy: a one-shot container on Docker,
 * a Job on Kubernetes. Every import overwrites by fixed id, so it runs again safely on any `pulumi up`.
 */
export class KibanaSetup extends pulumi.ComponentResource {
    /** The finished step. */
    readonly step: PlacedJob;

    constructor(name: string, args: KibanaSetupArgs, opts?: pulumi.ComponentResourceOptions) {
        super("elk:index:KibanaSetup", name, {}, opts);
        const { platform, kibanaReady, ...input } = args;
        this.step = platform.runJob(kibanaProvisioningSpec(input), { parent: this, dependsOn: [kibanaReady] });
        this.registerOutputs({});
    }
}
