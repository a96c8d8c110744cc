/**
 * The elk-stack component library. Import from the package root to build your own stack, or one part of it:
 *
 *     import { ElkStack, CertificateAuthority, DockerPlatform } from "elk-stack";
 *
 * The root is the package's only entry point (package.json `exports`); a deeper path such as `elk-stack/components`
 * fails with ERR_PACKAGE_PATH_NOT_EXPORTED.
 */
export * from "./bootstrap";
export * from "./certificates";
export * from "./config";
export * from "./elasticsearch";
export * from "./elkStack";
export * from "./indexing";
export * from "./kernel";
export * from "./kibana";
export * from "./kibanaObjects";
export * from "./logstash";
export * from "./naming";
export * from "./shellScripts";
export * from "./sources";
export * from "./spec";
export * from "./stackConfig";
export * from "./targets";
export * from "./verify";
export * from "./wiring";
// Types that public signatures name (KubernetesPlatformArgs, SnapshotConfig, EckPlatform, ...), exported so that users can name them too.
export type { AntiAffinity, StorageKeys } from "./targets/kubernetesManifests";
export { SNAPSHOT_REPOSITORY_TYPES, type ObjectStoreSettings, type ObjectStoreType, type SnapshotRepositoryType, type SnapshotSchedule } from "./snapshots";
export type { ClusterFormation } from "./clusterFormation";
export { NODE_ROLES, type NodeRole, type NodeSetConfig } from "./nodeSets";
export type { EckNames } from "./targets/eckResources";
export type { IngressRule } from "./traffic";
export type { PasswordUse } from "./validation";
