/**
 * Snapshots of the stack's log data: the repository the bootstrap registers, the snapshot lifecycle (SLM) policy
 * per environment, and their requests. Pure: no Pulumi, no I/O. Like the templates (indexing.ts) every request
 * creates or overwrites (or deletes what config turned off), so the bootstrap runs them on every `pulumi up`.
 *
 * The repository is a shared file system (`fs`) at {@link SNAPSHOT_PATH} in every node, listed in `path.repo`:
 * a named volume on Docker, a ReadWriteMany claim on Kubernetes; or, on Kubernetes, an object store (S3, GCS,
 * Azure) whose credentials are in Elasticsearch's keystore.
 */
import type { BootstrapRequest } from "./requests";

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
    /** The object store the repository lives in; the shared file system when unset. */
    readonly objectStore?: ObjectStoreSettings;
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

/** The object stores Elasticsearch ships repository types for (modules/repository-s3, -gcs, -azure). */
export type ObjectStoreType = "s3" | "gcs" | "azure";
/** Every snapshot repository type the stack sets up: a shared file system, or an object store. */
export const SNAPSHOT_REPOSITORY_TYPES = ["fs", "s3", "gcs", "azure"] as const;
/** A snapshot repository type. */
export type SnapshotRepositoryType = (typeof SNAPSHOT_REPOSITORY_TYPES)[number];

/** Name of the client whose settings (elasticsearch.yml) and secure settings (keystore) the repository uses. */
export const SNAPSHOT_CLIENT = "elk";

/** An object-store repository: where, and how Elasticsearch's client for it reaches the store. */
export interface ObjectStoreSettings {
    readonly type: ObjectStoreType;
    /** The S3 or GCS bucket, or the Azure container. */
    readonly bucket: string;
    /** Folder inside the bucket; the bucket's root when unset. */
    readonly basePath?: string;
    /** Another endpoint than the provider's (an S3-compatible store, an emulator); the client setting `endpoint`. */
    readonly endpoint?: string;
}

/**
 * The secure settings each object store's client needs, by setting name, and whether the keystore takes the value
 * as a string (`elasticsearch-keystore add`) or a file (`add-file`). Names as the repository modules declare them:
 * elastic/elasticsearch modules/repository-s3/.../S3ClientSettings.java (access_key, secret_key),
 * modules/repository-gcs/.../GoogleCloudStorageClientSettings.java (credentials_file, a secure file),
 * modules/repository-azure/.../AzureStorageSettings.java (account, key).
 */
export function objectStoreSecureSettings(type: ObjectStoreType): readonly { readonly setting: string; readonly file: boolean }[] {
    const c = (name: string) => `${type}.client.${SNAPSHOT_CLIENT}.${name}`;
    switch (type) {
        case "s3":
            return [{ setting: c("access_key"), file: false }, { setting: c("secret_key"), file: false }];
        case "gcs":
            return [{ setting: c("credentials_file"), file: true }];
        case "azure":
            return [{ setting: c("account"), file: false }, { setting: c("key"), file: false }];
    }
}

/** The client settings of an object store that belong in elasticsearch.yml (not secret). */
export function objectStoreClientSettings(store: ObjectStoreSettings): Record<string, string> {
    return store.endpoint === undefined ? {} : { [`${store.type}.client.${SNAPSHOT_CLIENT}.endpoint`]: store.endpoint };
}

/** Body of the repository registration. */
export type SnapshotRepositoryBody =
    | { type: "fs"; settings: { location: string; compress: boolean } }
    | { type: ObjectStoreType; settings: { client: string; compress: boolean; bucket?: string; container?: string; base_path?: string } };

/**
 * The repository: a shared file system, or an object store through the stack's client, compressed metadata.
 * Azure names the bucket `container` (modules/repository-azure/.../AzureRepository.java); S3 and GCS `bucket`
 * (S3Repository.java, GoogleCloudStorageRepository.java).
 */
export function snapshotRepositoryBody(store?: ObjectStoreSettings): SnapshotRepositoryBody {
    if (!store) return { type: "fs", settings: { location: SNAPSHOT_PATH, compress: true } };
    return {
        type: store.type,
        settings: {
            client: SNAPSHOT_CLIENT,
            ...(store.type === "azure" ? { container: store.bucket } : { bucket: store.bucket }),
            ...(store.basePath === undefined ? {} : { base_path: store.basePath }),
            compress: true,
        },
    };
}

/** Where the repository keeps the snapshots, for messages. */
export function repositoryLocation(store?: ObjectStoreSettings): string {
    if (!store) return SNAPSHOT_PATH;
    return `${store.type} ${store.type === "azure" ? "container" : "bucket"} ${store.bucket}${store.basePath === undefined ? "" : `/${store.basePath}`}`;
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
            description: `register snapshot repository ${SNAPSHOT_REPOSITORY} (${repositoryLocation(s.objectStore)})`,
            method: "PUT",
            path: `/_snapshot/${SNAPSHOT_REPOSITORY}`,
            body: snapshotRepositoryBody(s.objectStore),
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
