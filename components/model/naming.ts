/**
 * How elk-stack names what it creates. There are two kinds of names, kept apart on purpose:
 *
 * - Pulumi resource names (the last part of a URN) come from the name of the component that owns the resources,
 *   the way pulumi-awsx and pulumi-eks do it: {@link childName}`(owner, ...parts)` is `<owner>-<part>-<part>`. An
 *   `ElkStack` named `logs` registers `logs-ca`, `logs-elasticsearch`, `logs-es01` and so on, so stacks with
 *   different names register different URNs whatever their settings, unless one name is another's followed by '-'
 *   (`logs` beside `logs-a`, where an instance of `logs` named `a-es01` would meet `logs-a`'s `es01`).
 * - Physical names (Docker container, network and volume names; Kubernetes object names) come from the
 *   `namePrefix` argument (see `ElkStackArgs.namePrefix`), because they must be unique on a Docker engine or in a
 *   namespace, which Pulumi does not see.
 *
 * Up to 0.4.0 resource names came from `clusterName` (and data volumes from the Pulumi stack name). Where a name
 * changed, the resource carries an alias to its 0.4.0 name ({@link formerNames}), so an existing stack keeps its
 * resources on upgrade instead of replacing them.
 */
import type * as pulumi from "@pulumi/pulumi";

/**
 * The Pulumi resource name of a part of the component named `owner`: `<owner>-<parts joined by '-'>`. Every
 * resource elk-stack creates, and every one a new feature adds, is named this way, with `owner` the name of the
 * `ElkStack` (or of the platform, for a platform used on its own) and `parts` saying which part it is (an
 * instance name, a role, a kind: `childName("logs", "es01", "headless")`).
 */
export function childName(owner: string, ...parts: readonly string[]): string {
    if (owner === "") throw new Error("a resource name needs the name of its owner");
    return [owner, ...parts].join("-");
}

/**
 * Aliases of a resource now named `current` that had another name before: one per earlier name that differs
 * from `current` (no alias when nothing changed, which is the case of a program whose stack is named after its
 * `clusterName`, like this repository's index.ts). Parent, type, stack and project stay the resource's own.
 */
export function formerNames(current: string, ...former: readonly (string | undefined)[]): pulumi.Alias[] {
    const names = [...new Set(former.filter((n): n is string => n !== undefined && n !== current))];
    return names.map((name) => ({ name }));
}
