/** The order of a target's resources: what a service or step waits for before it starts. */
import * as pulumi from "@pulumi/pulumi";
import type { PlacedJob } from "../model/spec";

/**
 * A `dependsOn` that waits for `dependsOn`, for every resource in `resources` and for every Output in `gates` (a
 * gate that fails fails the dependant's registration, so nothing starts after a refused check or a failed step).
 *
 * It resolves to no resource at all: the resources ride on the Output's own dependencies, which the SDK takes as
 * explicit dependencies of the dependant, as it does for any Output given as `dependsOn` (@pulumi/pulumi
 * runtime/dependsOn.ts `gatherExplicitDependencies`). An Output whose value held the resources would cost more on
 * every preview and update: the SDK walks the value of each Output it resolves (output.ts `containsUnknowns`), and
 * from one of the stack's resources that walk reaches everything its parents hold, about 2,000 objects. Those walks
 * took a fifth of the CPU time of the test files that evaluate the program most (CPU profiles of naming.test.ts and
 * program.test.ts), and without them `npm run benchmark` evaluated the dev stack in 15% less time, the large one in 30%.
 */
export function waitingFor(
    dependsOn: pulumi.Input<pulumi.Input<pulumi.Resource>[]> | undefined,
    resources: readonly pulumi.Resource[],
    gates: readonly pulumi.Output<unknown>[] = [],
): pulumi.Output<pulumi.Resource[]> {
    // A resource's URN is an Output that depends on the resource and on nothing else.
    const carried = [...carriersOf(dependsOn), ...resources.map((r) => r.urn), ...gates];
    return pulumi.all(carried).apply((): pulumi.Resource[] => []);
}

/** `r`, or the SDK's own refusal of a `dependsOn` entry that is not a resource (runtime/dependsOn.ts). */
function resource(r: unknown): pulumi.Resource {
    if (!pulumi.Resource.isInstance(r)) throw new Error("'dependsOn' was passed a value that was not a Resource.");
    return r;
}

/** Outputs that depend on exactly the resources `dependsOn` names; none of them holds a resource. */
function carriersOf(dependsOn: pulumi.Input<pulumi.Input<pulumi.Resource>[]> | undefined): pulumi.Output<unknown>[] {
    if (dependsOn === undefined) return [];
    const urnOf = (d: pulumi.Input<pulumi.Resource>): pulumi.Output<string> => (pulumi.Resource.isInstance(d) ? d.urn : pulumi.output(d).apply((r) => resource(r).urn));
    if (Array.isArray(dependsOn)) return dependsOn.map(urnOf);
    // An Output or a promise of a list, such as another waitingFor: its resources, and those its value names.
    return [pulumi.output(dependsOn).apply((list) => pulumi.all(list.map(urnOf)))];
}

/**
 * The `dependsOn` of a resource that must come after `dependsOn`, after every step in `steps` and after `extra`.
 * Each step's `succeeded` Output is awaited too, so a failed step fails the dependant's registration instead of
 * starting it against a half-set-up cluster. Shared by every target.
 */
export function afterSteps(
    dependsOn: pulumi.Input<pulumi.Input<pulumi.Resource>[]> | undefined,
    steps: readonly PlacedJob[],
    extra: readonly pulumi.Resource[] = [],
): pulumi.Output<pulumi.Resource[]> {
    return waitingFor(
        dependsOn,
        [...steps.map((j) => j.done), ...extra],
        steps.map((j) => j.succeeded),
    );
}
