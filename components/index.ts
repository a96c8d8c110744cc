/**
 * The elk-stack component library. Import from the package root to build your own stack, or one part of it:
 *
 *     import { ElkStack, CertificateAuthority, DockerPlatform } from "elk-stack";
 *
 * The root is the package's only entry point (package.json `exports`); a deeper path such as `elk-stack/components`
 * fails with ERR_PACKAGE_PATH_NOT_EXPORTED.
 */
// The model: pure functions and types that compute what to deploy (components/model/, docs/architecture.md).
export * from "./model/bootstrap";
export * from "./model/certificates";
export * from "./model/config";
export * from "./model/elasticsearch";
export * from "./model/indexing";
export * from "./model/kernel";
export * from "./model/kibana";
export * from "./model/kibanaObjects";
export * from "./model/logstash";
export * from "./model/naming";
export * from "./model/shellScripts";
export * from "./model/sources";
export * from "./model/spec";
export * from "./model/wiring";
// Types that public signatures name (KubernetesPlatformArgs, SnapshotConfig, EckPlatform, ...), exported so that users can name them too.
export { SNAPSHOT_REPOSITORY_TYPES, type ObjectStoreSettings, type ObjectStoreType, type SnapshotRepositoryType, type SnapshotSchedule } from "./model/snapshots";
export type { ClusterFormation } from "./model/clusterFormation";
export { NODE_ROLES, type NodeRole, type NodeSetConfig } from "./model/nodeSets";
export type { IngressRule } from "./model/traffic";
export type { PasswordUse } from "./model/validation";

// The targets: one module per platform behind the Platform interface (components/targets/).
export * from "./targets";
export type { AntiAffinity, StorageKeys } from "./targets/kubernetesManifests";
export type { EckNames } from "./targets/eckResources";

// The components: Pulumi ComponentResources that turn the model's specs into resources (components/resources/).
export * from "./resources/bootstrap";
export * from "./resources/certificates";
export * from "./resources/elasticsearch";
export * from "./resources/elkStack";
export * from "./resources/kernel";
export * from "./resources/kibana";
export * from "./resources/kibanaSetup";
export * from "./resources/logstash";
export * from "./resources/stackConfig";

// The operations: code that talks to a running stack (components/operations/).
export * from "./operations/verify";
