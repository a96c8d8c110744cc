/**
 * Every stack config key: its type, default and description, the one source from which `Pulumi.yaml`'s `config:` block
 * is generated (`npm run gen:pulumi-yaml`) and against which a stack's config is read (config.ts).
 */
import { DEFAULT_LOG_SOURCES } from "./sources";
import { type ObjectStoreType } from "./snapshots";
import { DEFAULT_ELASTIC_VERSION, MIN_SUPPORTED_8X } from "./versions";

/** Deployment platform of a stack. */
export type Target = "docker" | "kubernetes";

/** The value type of a config key, as Pulumi's project `config:` block names it. */
export type ConfigKeyType = "string" | "integer" | "boolean" | "array";

/** Declaration of one stack config key. */
export interface ConfigKeySchema {
    readonly type: ConfigKeyType;
    readonly description: string;
    /** Typed default; absent for keys that have none (secrets are generated instead). */
    readonly default?: string | number | boolean | readonly string[];
    /** True for passwords: they are read as Pulumi secrets and never printed. */
    readonly secret?: boolean;
    /**
     * Why `Pulumi.yaml` leaves the key out, when the CLI's types cannot describe its values; the program applies
     * the default and checks the value itself.
     */
    readonly undeclared?: string;
}

/** The cluster identifier of a stack whose `kubernetesClusterId` is unset. */
export const DEFAULT_CLUSTER_ID = "default";

/**
 * Every project config key. Order is the order of `Pulumi.yaml` and of the reference table in docs/configuration.md.
 */
export const CONFIG_SCHEMA = {
    target: { type: "string", default: "docker", description: "Where the stack runs: docker or kubernetes." },
    elasticVersion: {
        type: "string",
        default: DEFAULT_ELASTIC_VERSION,
        description: `Elastic Stack release for Elasticsearch, Kibana and Logstash images (9.x, or 8.x from ${MIN_SUPPORTED_8X}).`,
    },
    clusterName: {
        type: "string",
        default: "elk",
        description: "Elasticsearch cluster name; also prefixes Docker container, network and volume names.",
    },
    elasticsearchName: { type: "string", default: "es01", description: "Instance (host and certificate) name of the Elasticsearch node." },
    kibanaName: { type: "string", default: "kibana", description: "Instance (host and certificate) name of Kibana." },
    logstashName: { type: "string", default: "logstash", description: "Instance (host and certificate) name of Logstash." },
    extraCertificateNames: {
        type: "array",
        default: [],
        description: "More instance names to issue certificates for from the stack's CA (e.g. apm, fleet).",
    },
    logSources: {
        type: "array",
        default: DEFAULT_LOG_SOURCES,
        description:
            "Services that send logs: 'kind:name' or 'kind:name:port' (kinds nginx, django), or objects {kind, name, port, errorLevel} (errorLevel: an nginx source's error_log level, default warn). nginx shares UDP 5140; each django source gets its own TCP+TLS port from 5141.",
        // The CLI checks a declared array item by item against one item type, and the project schema offers only
        // string, integer, boolean and array (sdk/go/common/workspace/project.json and ValidateConfigValue in
        // project.go, github.com/pulumi/pulumi): a list of strings and objects cannot be declared.
        undeclared: "its entries are strings or objects, and a declared array has one item type, which cannot be an object",
    },
    logstashPublicHost: {
        type: "string",
        description: "Host name or IP address at which applications outside the stack reach Logstash (a load balancer, a node, a DNS name); put in Logstash's certificate and in the wiring.",
    },
    logRetentionDays: { type: "integer", default: 7, description: "Days log data streams keep their data before the lifecycle policy deletes it." },
    snapshotSchedule: {
        type: "string",
        default: "off",
        description: "How often the snapshot lifecycle policy snapshots the log data streams: off, hourly, daily or weekly (daily in Pulumi.prod.yaml).",
    },
    snapshotRetentionDays: { type: "integer", default: 30, description: "Days a scheduled snapshot is kept (the newest one is always kept)." },
    snapshotStorageClass: {
        type: "string",
        description: "Storage class of the snapshot repository's shared claim (Kubernetes): it must offer ReadWriteMany (NFS, EFS, Filestore, Azure Files). No repository on Kubernetes when unset.",
    },
    snapshotStorageGb: { type: "integer", default: 50, description: "Size of the snapshot repository's shared claim, GiB (Kubernetes)." },
    snapshotRepositoryType: {
        type: "string",
        default: "fs",
        description: "Where snapshots go: fs (a Docker volume, or on Kubernetes the shared claim of snapshotStorageClass), or on Kubernetes an object store: s3, gcs or azure.",
    },
    snapshotBucket: { type: "string", description: "Bucket (s3, gcs) or container (azure) of an object-store snapshot repository." },
    snapshotBasePath: { type: "string", description: "Folder inside snapshotBucket for this stack's snapshots; the bucket's root when unset." },
    snapshotEndpoint: {
        type: "string",
        description: "Endpoint of the object store when not the provider's own (an S3-compatible store, an Azure or GCS emulator): the client's endpoint setting.",
    },
    snapshotS3AccessKey: { type: "string", secret: true, description: "Access key id of the s3 snapshot repository's client (into Elasticsearch's keystore)." },
    snapshotS3SecretKey: { type: "string", secret: true, description: "Secret access key of the s3 snapshot repository's client (into Elasticsearch's keystore)." },
    snapshotGcsCredentials: {
        type: "string",
        secret: true,
        description: "Service account key (the JSON file's content) of the gcs snapshot repository's client (into Elasticsearch's keystore).",
    },
    snapshotAzureAccount: { type: "string", secret: true, description: "Storage account name of the azure snapshot repository's client (into Elasticsearch's keystore)." },
    snapshotAzureKey: { type: "string", secret: true, description: "Storage account key of the azure snapshot repository's client (into Elasticsearch's keystore)." },
    bindAddress: {
        type: "string",
        default: "127.0.0.1",
        description: "Host address that published ports bind to (Docker). 127.0.0.1 keeps the stack off the LAN.",
    },
    elasticsearchBindAddress: {
        type: "string",
        description: "Host address Elasticsearch's published port binds to (Docker); bindAddress when unset.",
    },
    kibanaBindAddress: { type: "string", description: "Host address Kibana's published port binds to (Docker); bindAddress when unset." },
    logstashBindAddress: {
        type: "string",
        description: "Host address Logstash's published ports bind to (Docker); bindAddress when unset. Set 0.0.0.0 here alone to take logs from the LAN while Elasticsearch and Kibana stay on 127.0.0.1.",
    },
    elasticsearchPort: { type: "integer", default: 9200, description: "Host port for the Elasticsearch HTTPS API." },
    kibanaPort: { type: "integer", default: 5601, description: "Host port for Kibana (HTTPS)." },
    nginxSyslogPort: { type: "integer", default: 5140, description: "Host port (UDP) where Logstash receives nginx syslog (RFC 3164)." },
    elasticsearchHeapMb: { type: "integer", default: 512, description: "Elasticsearch JVM heap in MiB (-Xms and -Xmx)." },
    elasticsearchMemoryMb: { type: "integer", default: 1536, description: "Elasticsearch container memory limit in MiB." },
    kibanaHeapMb: {
        type: "integer",
        description: "Kibana Node.js old-space limit in MiB. Unset: Node.js sizes the heap from kibanaMemoryMb, the container's limit.",
    },
    kibanaMemoryMb: { type: "integer", default: 1024, description: "Kibana container memory limit in MiB." },
    logstashHeapMb: { type: "integer", default: 512, description: "Logstash JVM heap in MiB (-Xms and -Xmx)." },
    logstashMemoryMb: { type: "integer", default: 1024, description: "Logstash container memory limit in MiB." },
    elasticsearchNodeCount: {
        type: "integer",
        default: 1,
        description: "Elasticsearch nodes: 1 (single node) or 3 and more (a cluster; Kubernetes only).",
    },
    logstashReplicas: { type: "integer", default: 1, description: "Logstash replicas (Kubernetes; Docker runs one)." },
    elasticsearchCpuMillis: { type: "integer", default: 1000, description: "CPU request of each Elasticsearch node, millicores (Kubernetes)." },
    elasticsearchCpuLimitMillis: { type: "integer", default: 2000, description: "CPU limit of each Elasticsearch node, millicores (Kubernetes)." },
    kibanaCpuMillis: { type: "integer", default: 500, description: "CPU request of Kibana, millicores (Kubernetes)." },
    kibanaCpuLimitMillis: { type: "integer", default: 1000, description: "CPU limit of Kibana, millicores (Kubernetes)." },
    logstashCpuMillis: { type: "integer", default: 500, description: "CPU request of each Logstash replica, millicores (Kubernetes)." },
    logstashCpuLimitMillis: { type: "integer", default: 1000, description: "CPU limit of each Logstash replica, millicores (Kubernetes)." },
    elasticsearchStorageGb: { type: "integer", default: 30, description: "Persistent volume size of each Elasticsearch node, GiB (Kubernetes)." },
    logstashStorageGb: { type: "integer", default: 5, description: "Persistent volume size of each Logstash replica (persistent queue), GiB (Kubernetes)." },
    logstashQueueCheckpointWrites: {
        type: "integer",
        default: 1024,
        description: "Logstash's queue.checkpoint.writes for every pipeline: events written to the persistent queue between fsyncs, so at most this many can be lost if the host crashes. 1 syncs every event (slowest, safest); 0 never forces a sync.",
    },
    storageClass: { type: "string", description: "Storage class of the persistent volumes (Kubernetes); the cluster default when unset." },
    kubernetesNamespace: { type: "string", default: "elk", description: "Namespace the stack is created in (Kubernetes)." },
    createNamespace: {
        type: "boolean",
        default: true,
        description: "Create (and label for Pod Security) the namespace (Kubernetes). Set false when someone else owns it: only then may it be default or kube-*.",
    },
    kubernetesEngine: {
        type: "string",
        default: "eck",
        description: "How the stack runs on Kubernetes: eck (custom resources of Elastic's operator, ECK, which rolls, scales and resizes Elasticsearch safely) or manifests (the stack's own StatefulSets, where no operator may run).",
    },
    eckOperator: {
        type: "string",
        default: "install",
        description: "With kubernetesEngine eck: install (the stack installs the eck-operator Helm chart at its pinned version) or present (an operator someone else runs; preview fails when its CRDs are missing).",
    },
    eckOperatorNamespace: {
        type: "string",
        default: "elastic-system",
        description: "Namespace of the ECK operator (kubernetesEngine eck): where the stack installs it, or where it runs with eckOperator present; admitted to Elasticsearch's HTTP port.",
    },
    elasticsearchNodeSets: {
        type: "array",
        default: [],
        description:
            "ECK node sets: objects {name, count, roles, storageGb, heapMb, memoryMb, cpuMillis, cpuLimitMillis}; sizes default to the elasticsearch* keys, roles to all. Empty: one set 'default' of elasticsearchNodeCount nodes.",
        undeclared: "its entries are objects, and a declared array has one item type, which cannot be an object",
    },
    elasticsearchZones: {
        type: "array",
        default: [],
        description: "Zones (values of the nodes' topology.kubernetes.io/zone label) to spread every node set over, with shard allocation awareness (kubernetesEngine eck).",
    },
    kubeconfig: { type: "string", description: "Kubeconfig path or contents (Kubernetes); the ambient kubeconfig when unset." },
    kubeContext: { type: "string", description: "Kubeconfig context to use (Kubernetes); the current context when unset." },
    kubernetesClusterId: {
        type: "string",
        default: DEFAULT_CLUSTER_ID,
        description:
            "A name of the cluster the stack runs on (Kubernetes), given to the provider as its clusterIdentifier: a new kubeconfig or context for the same cluster then updates the provider instead of replacing it and every object. Changing it moves the stack to another cluster, which is refused at preview with the steps to do it deliberately.",
    },
    kubernetesRenderDir: {
        type: "string",
        description: "Write the Kubernetes manifests to this directory instead of applying them (GitOps).",
    },
    kibanaServiceType: { type: "string", default: "ClusterIP", description: "Service type of Kibana: ClusterIP, NodePort or LoadBalancer (Kubernetes)." },
    logstashServiceType: { type: "string", default: "ClusterIP", description: "Service type of Logstash: ClusterIP, NodePort or LoadBalancer (Kubernetes)." },
    kibanaIngressHost: { type: "string", description: "Host name of an Ingress for Kibana (Kubernetes); no Ingress when unset." },
    ingressClassName: { type: "string", description: "Ingress class of the Kibana Ingress (Kubernetes)." },
    antiAffinity: {
        type: "string",
        default: "hard",
        description: "Spread Elasticsearch nodes over Kubernetes nodes: hard (required) or soft (preferred).",
    },
    setMaxMapCount: {
        type: "boolean",
        default: true,
        description: "Run the privileged one-shot step that raises vm.max_map_count to 262144 (never lowers it); turn off where the host already has it.",
    },
    protectData: {
        type: "boolean",
        default: false,
        description: "Mark the data volumes (Docker) and the namespace (Kubernetes) protected, so that pulumi destroy and replacements refuse to touch them; set true in production. They are retained on delete either way.",
    },
    environment: {
        type: "string",
        description: "Environment name events are stored under (data stream namespace, e.g. logs-nginx-<environment>). Defaults to the stack name.",
    },
    certValidityDays: { type: "integer", default: 365, description: "Validity of instance certificates in days (the CA gets ten times this)." },
    certRenewBeforeDays: {
        type: "integer",
        default: 30,
        description: "A `pulumi up` this many days or fewer before expiry issues new certificates.",
    },
    elasticPassword: {
        type: "string",
        secret: true,
        description: "Password of the elastic superuser. Generated (and kept secret) when unset.",
    },
    kibanaSystemPassword: {
        type: "string",
        secret: true,
        description: "Password of the built-in kibana_system user (Docker and the manifests engine; refused on eck, where the operator issues Kibana's credentials). Generated when unset.",
    },
    logstashWriterPassword: {
        type: "string",
        secret: true,
        description: "Password of the least-privilege user Logstash writes with. Generated when unset.",
    },
} as const satisfies Record<string, ConfigKeySchema>;

/** Name of a project config key. */
export type ConfigKey = keyof typeof CONFIG_SCHEMA;

/** Keys that hold passwords. */
export const PASSWORD_KEYS = ["elasticPassword", "kibanaSystemPassword", "logstashWriterPassword"] as const;
/** Name of a password config key. */
export type PasswordKey = (typeof PASSWORD_KEYS)[number];

/**
 * The secret config keys of each object store, in the order of its secure settings
 * (`objectStoreSecureSettings` in components/model/snapshots.ts): each value goes into the keystore under that setting.
 */
export const OBJECT_STORE_CREDENTIAL_KEYS = {
    s3: ["snapshotS3AccessKey", "snapshotS3SecretKey"],
    gcs: ["snapshotGcsCredentials"],
    azure: ["snapshotAzureAccount", "snapshotAzureKey"],
} as const satisfies Record<ObjectStoreType, readonly ConfigKey[]>;
/** Name of a secret config key of an object store. */
export type ObjectStoreCredentialKey = (typeof OBJECT_STORE_CREDENTIAL_KEYS)[ObjectStoreType][number];
