/** Reads the stack's own last outputs to learn whether its cluster has formed (the pure rule is in components/model/clusterFormation.ts). */
import * as pulumi from "@pulumi/pulumi";
import { CLUSTER_FORMATION_OUTPUT, formedBefore } from "../model/clusterFormation";

/**
 * Whether the stack's own last update recorded this cluster as formed, read from the stack's outputs through a
 * reference to the stack itself: the engine's built-in provider reads them from the backend
 * (pulumi/pulumi pkg/resource/deploy/builtins.go, readStackReference), as they were when this update started.
 */
export function previouslyFormed(identity: string, opts?: pulumi.CustomResourceOptions): pulumi.Output<boolean> {
    const self = new pulumi.StackReference(`${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`, undefined, opts);
    return self.getOutput(CLUSTER_FORMATION_OUTPUT).apply((previous: unknown) => formedBefore(previous, identity));
}
