/** The order of a target's resources: what a service or step waits for before it starts. */
import * as pulumi from "@pulumi/pulumi";
import type { PlacedJob } from "../model/spec";

/**
 * The `dependsOn` of a resource that must come after `dependsOn`, after every step in `steps` and after `extra`.
 * Each step's `succeeded` Output is awaited too, so a failed step fails the dependant's registration instead of
 * starting it against a half-set-up cluster. Shared by every target.
 */
export function afterSteps(
    dependsOn: pulumi.Input<pulumi.Input<pulumi.Resource>[]> | undefined,
    steps: readonly PlacedJob[],
    extra: readonly pulumi.Resource[] = [],
): pulumi.Input<pulumi.Input<pulumi.Resource>[]> {
    return pulumi
        .output(dependsOn ?? [])
        .apply((deps) => pulumi.all(steps.map((j) => j.succeeded)).apply(() => [...deps, ...steps.map((j) => j.done), ...extra]));
}
