/** Whether the stack's Elasticsearch cluster has formed: the identity of a cluster and the rule that reads the stack's last record of it. */
import type { StackConfig } from "./config";

/**
 * What a stack records, as its `clusterFormation` output, about the Elasticsearch cluster it runs: which cluster,
 * and whether an update has seen the bootstrap succeed against it (so the cluster had formed by then).
 */
export interface ClusterFormation {
    /** Target, namespace, cluster name and instance name: another value means another cluster. */
    readonly cluster: string;
    readonly formed: boolean;
}

/** The name {@link ClusterFormation.cluster} records for the stack's cluster. */
export function clusterIdentity(s: StackConfig): string {
    const place = s.target === "kubernetes" ? s.kubernetes.namespace : "docker";
    return `${s.target}/${place}/${s.clusterName}/${s.names.elasticsearch}`;
}

/**
 * Whether `previous` (the `clusterFormation` output of the stack's last update, if any) says that this very
 * cluster has formed. Anything else (no earlier update, an update before this output existed, a renamed cluster,
 * a moved namespace) counts as not formed: keeping `cluster.initial_master_nodes` is harmless for nodes that
 * hold cluster state, and only dropping it on a cluster that never formed would stop it from ever forming.
 */
export function formedBefore(previous: unknown, identity: string): boolean {
    if (typeof previous !== "object" || previous === null) return false;
    const p = previous as Partial<Record<keyof ClusterFormation, unknown>>;
    return p.cluster === identity && p.formed === true;
}

/** Output name under which index.ts exports the {@link ClusterFormation}. */
export const CLUSTER_FORMATION_OUTPUT = "clusterFormation";
