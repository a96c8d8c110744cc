/**
 * Snapshots of the stack's log data: the repository the bootstrap registers, the snapshot lifecycle (SLM) policy
 * per environment, and their requests. Pure: no Pulumi, no I/O. Like the templates (indexing.ts) every request
 * creates or overwrites (or deletes what config turned off), so the bootstrap runs them on every `pulumi up`.
 *
 * The repository is a shared file system (`fs`) at {@link SNAPSHOT_PATH} in every node, listed in `path.repo`:
 * a named volume on Docker, a ReadWriteMany claim on Kubernetes.
 */
import type { BootstrapRequest } from "./bootstrap";

/** Name of the snapshot repository. */
export const SNAPSHOT_REPOSITORY = "elk-snapshots";
/** Where the repository's file system is mounted in every Elasticsearch node (and listed in `path.repo`). */
export const SNAPSHOT_PATH = "/usr/share/elasticsearch/snapshots";

/** How often the lifecycle policy takes a snapshot; `off` removes the policy. */
export type SnapshotSchedule = "off" | "hourly" | "daily" | "weekly";

/** Every accepted schedule. */
export const SNAPSHOT_SCHEDULES: readonly SnapshotSchedule[] = ["off", "hourly", "daily", "weekly"];

/**
 * Elasticsearch cron expression (seconds minutes hours day-of-month month day-of-week) and the interval of each
 * schedule. 01:30 UTC keeps the nightly run away from midnight's rollovers.
 */
export const SCHEDULE_CRON: Readonly<Record<Exclude<SnapshotSchedule, "off">, { readonly cron: string; readonly intervalHours: number }>> = {
    hourly: { cron: "0 0 * * * ?", intervalHours: 1 },
    daily: { cron: "0 30 1 * * ?", intervalHours: 24 },
    weekly: { cron: "0 30 1 ? * SUN", intervalHours: 7 * 24 },
};

/** What the stack snapshots, when and for how long. */
export interface SnapshotSettings {
    /** Data stream namespace whose streams are snapshotted (`logs-*-<environment>`). */
    readonly environment: string;
    readonly schedule: SnapshotSchedule;
    /** Days a snapshot of the policy is kept. */
    readonly retentionDays: number;
}

/** Name of the environment's snapshot lifecycle policy. */
export function snapshotPolicyName(environment: string): string {
    return `elk-snapshots-${environment}`;
}

/** Index pattern of the environment's log data streams: what snapshots hold and restores bring back. */
export function snapshotIndices(environment: string): string {
    return `logs-*-${environment}`;
}

/** Hours between two scheduled snapshots; undefined when off. */
export function scheduleIntervalHours(schedule: SnapshotSchedule): number | undefined {
    return schedule === "off" ? undefined : SCHEDULE_CRON[schedule].intervalHours;
}

/** The repository: a shared file system, compressed metadata. */
export function snapshotRepositoryBody(): { type: "fs"; settings: { location: string; compress: boolean } } {
    return { type: "fs", settings: { location: SNAPSHOT_PATH, compress: true } };
}

/** The lifecycle policy of an environment whose schedule is not off. */
export function snapshotPolicyBody(s: SnapshotSettings): {
    schedule: string;
    name: string;
    repository: string;
    config: { indices: string[]; include_global_state: boolean; ignore_unavailable: boolean };
    retention: { expire_after: string; min_count: number };
} {
    if (s.schedule === "off") throw new Error("no snapshot policy when the schedule is off");
    if (!Number.isInteger(s.retentionDays) || s.retentionDays < 1) throw new Error(`snapshot retention must be a whole number of days, not ${s.retentionDays}`);
    return {
        schedule: SCHEDULE_CRON[s.schedule].cron,
        // Date math in <...>; Elasticsearch adds a unique suffix to each snapshot's name.
        name: `<elk-${s.environment}-{now/d}>`,
        repository: SNAPSHOT_REPOSITORY,
        config: {
            indices: [snapshotIndices(s.environment)],
            // Users, roles, templates and policies come back with the bootstrap; restoring global state would
            // overwrite the security index and passwords with old ones.
            include_global_state: false,
            ignore_unavailable: true,
        },
        // The newest snapshot is never deleted, however old it is.
        retention: { expire_after: `${s.retentionDays}d`, min_count: 1 },
    };
}

/** The bootstrap's snapshot requests: the repository, then the policy (or its removal when the schedule is off). */
export function snapshotRequests(s: SnapshotSettings): BootstrapRequest[] {
    const policy = snapshotPolicyName(s.environment);
    return [
        {
            description: `register snapshot repository ${SNAPSHOT_REPOSITORY} (${SNAPSHOT_PATH})`,
            method: "PUT",
            path: `/_snapshot/${SNAPSHOT_REPOSITORY}`,
            body: snapshotRepositoryBody(),
            okStatus: [200],
        },
        s.schedule === "off"
            ? {
                  description: `remove snapshot policy ${policy} (schedule off)`,
                  method: "DELETE",
                  path: `/_slm/policy/${policy}`,
                  // 404: there was none, which is what off asks for.
                  okStatus: [200, 404],
              }
            : {
                  description: `create or update snapshot policy ${policy} (${s.schedule}, kept ${s.retentionDays} days)`,
                  method: "PUT",
                  path: `/_slm/policy/${policy}`,
                  body: snapshotPolicyBody(s),
                  okStatus: [200],
              },
    ];
}
