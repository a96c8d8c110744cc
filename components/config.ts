/**
 * Stack configuration: the one place that knows every key, its type, its default and how to check it.
 *
 * Two paths read configuration and both must see the same values:
 *  - the Pulumi CLI, which applies the defaults declared in `Pulumi.yaml`;
 *  - the mock runtime (unit tests) and the offline `render` command, which apply nothing.
 * So the defaults live here, `Pulumi.yaml`'s `config:` block is generated from {@link CONFIG_SCHEMA}
 * (`npm run gen:pulumi-yaml`), and a test fails when the two drift apart.
 */

import { ConfigError } from "./configError";
import { type NodeSetConfig, parseNodeSets, totalNodes } from "./nodeSets";
import { DEFAULT_LOG_SOURCES, type LogSource, parseLogSources } from "./sources";
import { type ObjectStoreSettings, type ObjectStoreType, SNAPSHOT_REPOSITORY_TYPES, SNAPSHOT_SCHEDULES, type SnapshotRepositoryType, type SnapshotSchedule } from "./snapshots";
import { DEFAULT_ELASTIC_VERSION, INTEGER_RANGES, type IntegerKey, MIN_PASSWORD_LENGTH, MIN_SUPPORTED_8X, DNS_LABEL, passwordProblem, validateSettings } from "./validation";

export { DEFAULT_ELASTIC_VERSION, MAX_ELASTICSEARCH_HEAP_MB, MIN_PASSWORD_LENGTH, MIN_SUPPORTED_8X, compareVersions, isIp, parseVersion } from "./validation";

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
 * (`objectStoreSecureSettings` in components/snapshots.ts): each value goes into the keystore under that setting.
 */
export const OBJECT_STORE_CREDENTIAL_KEYS = {
    s3: ["snapshotS3AccessKey", "snapshotS3SecretKey"],
    gcs: ["snapshotGcsCredentials"],
    azure: ["snapshotAzureAccount", "snapshotAzureKey"],
} as const satisfies Record<ObjectStoreType, readonly ConfigKey[]>;
/** Name of a secret config key of an object store. */
export type ObjectStoreCredentialKey = (typeof OBJECT_STORE_CREDENTIAL_KEYS)[ObjectStoreType][number];

/** Size of one long-running service. */
export interface MemorySettings {
    /** JVM heap (Elasticsearch, Logstash) or Node.js old space (Kibana), MiB. */
    readonly heapMb: number;
    /** Container memory limit, MiB. */
    readonly memoryMb: number;
    /** CPU request and limit (Kubernetes). */
    readonly cpu: CpuSettings;
    /** Instances: Elasticsearch nodes, Logstash replicas, 1 for Kibana. */
    readonly replicas: number;
    /** Persistent volume per instance, GiB (Kubernetes); 0 for none. */
    readonly storageGb: number;
}

/** CPU of one service, millicores (Kubernetes requests and limits). */
export interface CpuSettings {
    /** CPU request, millicores. */
    readonly requestMillis: number;
    /** CPU limit, millicores; at least the request. */
    readonly limitMillis: number;
}

/** Kubernetes type of a Service. */
export type ServiceType = "ClusterIP" | "NodePort" | "LoadBalancer";

/** Settings only the Kubernetes target reads. */
export interface KubernetesSettings {
    /** Namespace of every object of the stack. */
    readonly namespace: string;
    /**
     * False when someone else owns the namespace: the stack then creates no Namespace and labels none. Only then may
     * it be `default` or a `kube-*` namespace. True when unset.
     */
    readonly createNamespace?: boolean;
    /** Kubeconfig path or contents; the ambient kubeconfig when unset. Passed to the provider as a secret. */
    readonly kubeconfig?: string;
    /** Kubeconfig context; the current one when unset. */
    readonly context?: string;
    /**
     * The provider's `clusterIdentifier`: which cluster this is, whatever the kubeconfig says (`kubernetesClusterId`).
     * {@link DEFAULT_CLUSTER_ID} when unset.
     */
    readonly clusterId?: string;
    /** When set, manifests are written here instead of applied. */
    readonly renderDir?: string;
    /** Storage class of the persistent volumes; the cluster default when unset. */
    readonly storageClass?: string;
    /** Service type of Kibana. */
    readonly kibanaServiceType: ServiceType;
    /** Service type of Logstash. */
    readonly logstashServiceType: ServiceType;
    /** An Ingress for Kibana (host name and class); none when unset. */
    readonly kibanaIngress?: { readonly host: string; readonly className?: string };
    /** Spread Elasticsearch nodes over Kubernetes nodes: required (hard) or preferred (soft). */
    readonly antiAffinity: "hard" | "soft";
    /** `eck` (Elastic's operator) or `manifests` (the stack's own workloads). */
    readonly engine: KubernetesEngine;
    /** Settings of the `eck` engine. */
    readonly eck: EckSettings;
}

/** How the stack runs on Kubernetes. */
export type KubernetesEngine = "eck" | "manifests";

/** Settings of the `eck` Kubernetes engine. */
export interface EckSettings {
    /** `install`: the stack installs the pinned operator; `present`: it expects one to run. */
    readonly operator: "install" | "present";
    /** Namespace the operator is installed into. */
    readonly operatorNamespace: string;
    /** Elasticsearch node sets; one set of every role unless configured. */
    readonly nodeSets: readonly NodeSetConfig[];
    /** Zones to spread nodes over; none for no zone awareness. */
    readonly zones: readonly string[];
}

/** The snapshot repository and lifecycle policy of a stack. */
export interface SnapshotConfig {
    /**
     * Whether the stack has a snapshot repository: always on Docker (a named volume), on Kubernetes when a
     * ReadWriteMany storage class is configured for its shared claim.
     */
    readonly repository: boolean;
    /** How often the lifecycle policy snapshots the log data streams. */
    readonly schedule: SnapshotSchedule;
    /** Days a scheduled snapshot is kept (the newest is always kept). */
    readonly retentionDays: number;
    /** Size of the shared claim, GiB (Kubernetes). */
    readonly storageGb: number;
    /** Storage class of the shared claim (Kubernetes). */
    readonly storageClass?: string;
    /** The object store of the repository (Kubernetes); the shared file system when unset. */
    readonly objectStore?: ObjectStoreSettings;
}

/** Host ports published by the stack. */
export interface PortSettings {
    /** Host port of Elasticsearch's HTTPS API (Docker). */
    readonly elasticsearch: number;
    /** Host port of Kibana's HTTPS (Docker). */
    readonly kibana: number;
    /** Host port (UDP) of Logstash's nginx syslog input (Docker). */
    readonly nginxSyslog: number;
}

/** Instance names, used as host names and certificate names. */
export interface InstanceNames {
    readonly elasticsearch: string;
    readonly kibana: string;
    readonly logstash: string;
    /** More names that get certificates from the stack's CA. */
    readonly extra: readonly string[];
}

/**
 * The validated, typed stack configuration. Passwords are not in here: they are secrets and travel as
 * `pulumi.Output`s (see `index.ts`); {@link StackConfig.passwordsSet} says which ones the user supplied.
 */
export interface StackConfig {
    /** Pulumi project name (named in error messages). */
    readonly project: string;
    /** Pulumi stack name; the default `environment`. */
    readonly stack: string;
    /** Data stream namespace of this stack's events. */
    readonly environment: string;
    /** Where the stack runs: `docker` or `kubernetes`. */
    readonly target: Target;
    /** Elastic Stack release of the Elasticsearch, Kibana and Logstash images (9.x, or 8.x from 8.17.0). */
    readonly elasticVersion: string;
    /** Elasticsearch cluster name (a DNS label); also the default physical name prefix on Docker. */
    readonly clusterName: string;
    /** Instance names: host and certificate names (DNS labels, not `localhost`). */
    readonly names: InstanceNames;
    /** Host address (IPv4 or IPv6) published ports bind to (Docker). */
    readonly bindAddress: string;
    /** Host address each service's published ports bind to (Docker): its own key, else `bindAddress`. */
    readonly bindAddresses: { readonly elasticsearch: string; readonly kibana: string; readonly logstash: string };
    /** Host ports (Docker); give each stack on one Docker engine its own. */
    readonly ports: PortSettings;
    /** Size of the Elasticsearch nodes. */
    readonly elasticsearch: MemorySettings;
    /** Size of Kibana; its heap is optional: unset, Node.js sizes it from the container's memory limit. */
    readonly kibana: Omit<MemorySettings, "heapMb"> & { readonly heapMb?: number };
    /** Size of the Logstash replicas. */
    readonly logstash: MemorySettings;
    /** Run the privileged step that raises `vm.max_map_count` to 262144. */
    readonly setMaxMapCount: boolean;
    /** Data volumes (Docker) and the namespace (Kubernetes) are `protect`ed: destroy and replacement refuse. */
    readonly protectData: boolean;
    /** Settings only the Kubernetes target reads. */
    readonly kubernetes: KubernetesSettings;
    /** Validity of instance certificates, days (the CAs get ten times this). */
    readonly certValidityDays: number;
    /** A `pulumi up` this many days or fewer before expiry issues new certificates; less than `certValidityDays`. */
    readonly certRenewBeforeDays: number;
    /** Services that send logs, with their ports and data streams. */
    readonly logSources: readonly LogSource[];
    /** Days log data is kept. */
    readonly logRetentionDays: number;
    /**
     * Logstash's `queue.checkpoint.writes` for every pipeline: events written to the persistent queue between fsyncs
     * (unset: Logstash's 1024).
     */
    readonly logstashQueueCheckpointWrites?: number;
    /** The snapshot repository and lifecycle policy. */
    readonly snapshots: SnapshotConfig;
    /** Where applications outside the stack reach Logstash, when not at the platform's own address. */
    readonly logstashPublicHost?: string;
    /** Password keys that the stack config sets (others are generated). */
    readonly passwordsSet: readonly PasswordKey[];
}

export { ConfigError };

/** A raw config lookup: returns the string the stack sets for a key, or undefined. */
export type RawConfigLookup = (key: ConfigKey) => string | undefined;

/** What a raw config lookup needs to know to report errors with the user's key names. */
export interface ConfigSource {
    /** Pulumi project name, named in error messages (`<project>:<key>`). */
    readonly project: string;
    /** Pulumi stack name; the default `environment`. */
    readonly stack: string;
    /** Reads one key's raw value. */
    readonly get: RawConfigLookup;
    /**
     * Whether the stack holds a key's value as a secret (encrypted in its stack file). When given, every key the
     * schema marks `secret` must be one: `Pulumi.yaml` cannot declare them `secret: true` (see scripts/projectFile.ts),
     * so the program refuses a plain one itself, as the CLI would refuse a declared one.
     */
    readonly isSecret?: (key: ConfigKey) => boolean;
}


/** A key that has a default: the CLI writes it into every stack's config, so it is never absent. */
type DefaultedKey = { [K in ConfigKey]: (typeof CONFIG_SCHEMA)[K] extends { readonly default: unknown } ? K : never }[ConfigKey];
/** A key without a default: absent unless the stack sets it. */
type OptionalKey = Exclude<ConfigKey, DefaultedKey>;

function defaultOf(key: ConfigKey): string | number | boolean | readonly string[] | undefined {
    const schema: ConfigKeySchema = CONFIG_SCHEMA[key];
    return schema.default;
}

/**
 * Reads and validates every key. Pure: give it any lookup (Pulumi config, a stack file, a test's map).
 * Throws {@link ConfigError} on the first problem, naming the key (as `project:key`) and the fix.
 */
export function parseStackConfig(source: ConfigSource): StackConfig {
    const fq = (key: string) => `${source.project}:${key}`;
    const fail = (key: string, problem: string, fix: string): never => {
        throw new ConfigError(fq(key), problem, fix);
    };
    const raw = (key: ConfigKey): string | undefined => {
        const v = source.get(key);
        return v === undefined || v === "" ? undefined : v;
    };
    // The Pulumi CLI writes the default of every key Pulumi.yaml declares into the stack's config before the program
    // runs (`mergeConfig` in pulumi/pulumi sdk/go/common/workspace/config.go): a key with a default is always
    // present. So presence is asked only of keys without one (`optional`), and "set by the user" of a key with a
    // default can only mean "set to another value than its default" (`setOffDefault`).
    const optional = (key: OptionalKey): string | undefined => raw(key);
    const setOffDefault = (key: DefaultedKey): boolean => {
        const v = raw(key);
        if (v === undefined) return false;
        const d = defaultOf(key);
        if (typeof d === "number") return !(/^-?\d+$/.test(v.trim()) && Number(v) === d);
        if (typeof d === "string" || typeof d === "boolean") return v !== String(d);
        let parsed: unknown;
        try {
            parsed = JSON.parse(v);
        } catch {
            return true;
        }
        return JSON.stringify(parsed) !== JSON.stringify(d);
    };

    const str = (key: ConfigKey): string => {
        const v = raw(key) ?? defaultOf(key);
        if (typeof v !== "string") return fail(key, "has no value", `set it with 'pulumi config set ${key} <value>'`);
        return v;
    };
    const int = (key: IntegerKey): number => {
        const [min, max] = INTEGER_RANGES[key];
        const v = raw(key);
        const n = v === undefined ? defaultOf(key) : /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
        if (typeof n !== "number" || !Number.isInteger(n)) {
            return fail(key, `'${v}' is not a whole number`, `set a whole number, e.g. 'pulumi config set ${key} ${String(defaultOf(key))}'`);
        }
        if (n < min || n > max) return fail(key, `${n} is out of range`, `choose a value from ${min} to ${max}`);
        return n;
    };
    const bool = (key: ConfigKey): boolean => {
        const v = raw(key);
        if (v === undefined) return defaultOf(key) as boolean;
        if (v === "true" || v === "false") return v === "true";
        return fail(key, `'${v}' is not a boolean`, `set true or false, e.g. 'pulumi config set ${key} false'`);
    };
    const list = (key: ConfigKey): string[] => {
        const v = raw(key);
        if (v === undefined) return [...((defaultOf(key) as readonly string[] | undefined) ?? [])];
        let parsed: unknown;
        try {
            parsed = JSON.parse(v);
        } catch {
            parsed = undefined;
        }
        if (!Array.isArray(parsed) || !parsed.every((x): x is string => typeof x === "string")) {
            return fail(key, `'${v}' is not a list of strings`, `set a list, e.g. 'pulumi config set --path '${key}[0]' apm'`);
        }
        return parsed;
    };

    if (source.isSecret) {
        for (const [key, schema] of Object.entries(CONFIG_SCHEMA) as [ConfigKey, ConfigKeySchema][]) {
            if (schema.secret && raw(key) !== undefined && !source.isSecret(key)) {
                fail(key, `is in plain text in the stack's config, and it is a secret`, `set it encrypted: 'pulumi config set --secret ${key} ...' (it is then stored encrypted in Pulumi.${source.stack}.yaml)`);
            }
        }
    }

    const target = str("target");
    if (target !== "docker" && target !== "kubernetes") {
        fail("target", `unknown target '${target}'`, "set 'docker' or 'kubernetes'");
    }

    // Each service's address defaults to bindAddress; components/validation.ts checks them all.
    const bindAddress = str("bindAddress");
    const serviceAddress = (key: "elasticsearchBindAddress" | "kibanaBindAddress" | "logstashBindAddress"): string => optional(key) ?? bindAddress;
    const bindAddresses = {
        elasticsearch: serviceAddress("elasticsearchBindAddress"),
        kibana: serviceAddress("kibanaBindAddress"),
        logstash: serviceAddress("logstashBindAddress"),
    };
    const serviceType = (key: "kibanaServiceType" | "logstashServiceType"): ServiceType => {
        const v = str(key);
        if (v !== "ClusterIP" && v !== "NodePort" && v !== "LoadBalancer") {
            return fail(key, `unknown service type '${v}'`, "set ClusterIP, NodePort or LoadBalancer");
        }
        return v;
    };
    const antiAffinity = str("antiAffinity");
    if (antiAffinity !== "hard" && antiAffinity !== "soft") fail("antiAffinity", `'${antiAffinity}' is neither hard nor soft`, "set hard or soft");
    const snapshotSchedule = str("snapshotSchedule");
    if (!(SNAPSHOT_SCHEDULES as readonly string[]).includes(snapshotSchedule)) {
        fail("snapshotSchedule", `unknown schedule '${snapshotSchedule}'`, `set one of ${SNAPSHOT_SCHEDULES.join(", ")}`);
    }

    const ingressHost = optional("kibanaIngressHost");
    const engine = str("kubernetesEngine");
    if (engine !== "eck" && engine !== "manifests") fail("kubernetesEngine", `unknown engine '${engine}'`, "set eck or manifests");
    const eckOperator = str("eckOperator");
    if (eckOperator !== "install" && eckOperator !== "present") fail("eckOperator", `'${eckOperator}' is neither install nor present`, "set install or present");
    const operatorNamespace = str("eckOperatorNamespace");
    if (!DNS_LABEL.test(operatorNamespace)) {
        fail("eckOperatorNamespace", `'${operatorNamespace}' is not a valid namespace name`, "use 2-63 lowercase letters, digits and '-', starting with a letter");
    }
    const zones = list("elasticsearchZones");
    const onEck = target === "kubernetes" && engine === "eck";
    const rawNodeSets = raw("elasticsearchNodeSets");
    const nodeSetsGiven = setOffDefault("elasticsearchNodeSets");
    if (nodeSetsGiven && !onEck) fail("elasticsearchNodeSets", "node sets need target kubernetes with kubernetesEngine eck", "remove the key, or set kubernetesEngine to eck");
    if (zones.length > 0 && !onEck) fail("elasticsearchZones", "zone awareness needs target kubernetes with kubernetesEngine eck", "remove the key, or set kubernetesEngine to eck");
    // ECK turns the reserved realm off, so kibana_system does not exist there; Kibana gets a token from the operator.
    if (onEck && optional("kibanaSystemPassword") !== undefined) {
        fail(
            "kibanaSystemPassword",
            "it is not used on the eck engine: ECK turns the built-in kibana_system user off and gives Kibana a service-account token of its own",
            "remove it with 'pulumi config rm kibanaSystemPassword'",
        );
    }
    // Its default (1) is in every stack's config, written there by the CLI: only another count contradicts the sets.
    if (nodeSetsGiven && setOffDefault("elasticsearchNodeCount")) {
        fail(
            "elasticsearchNodeCount",
            `it is ${String(raw("elasticsearchNodeCount"))} next to ${fq("elasticsearchNodeSets")}, which counts the nodes itself`,
            `remove elasticsearchNodeCount (its default, ${String(defaultOf("elasticsearchNodeCount"))}, is ignored next to node sets) and give each node set its count`,
        );
    }
    const kubernetes: KubernetesSettings = {
        namespace: str("kubernetesNamespace"),
        createNamespace: bool("createNamespace"),
        kubeconfig: optional("kubeconfig"),
        context: optional("kubeContext"),
        clusterId: str("kubernetesClusterId"),
        renderDir: optional("kubernetesRenderDir"),
        storageClass: optional("storageClass"),
        kibanaServiceType: serviceType("kibanaServiceType"),
        logstashServiceType: serviceType("logstashServiceType"),
        kibanaIngress: ingressHost ? { host: ingressHost, className: optional("ingressClassName") } : undefined,
        antiAffinity: antiAffinity as "hard" | "soft",
        engine: engine as KubernetesEngine,
        // Filled in below, once the Elasticsearch sizes are known (they are the node sets' defaults).
        eck: { operator: eckOperator as "install" | "present", operatorNamespace, nodeSets: [], zones },
    };
    // The node sets (eck) count the nodes themselves; elasticsearchNodeCount is the single set's count otherwise.
    let nodeCount = int("elasticsearchNodeCount");
    const sizing: Record<"elasticsearch" | "kibana" | "logstash", { replicas: number; storageGb: number }> = {
        elasticsearch: { replicas: int("elasticsearchNodeCount"), storageGb: int("elasticsearchStorageGb") },
        kibana: { replicas: 1, storageGb: 0 },
        logstash: { replicas: int("logstashReplicas"), storageGb: int("logstashStorageGb") },
    };
    const memory = (service: "elasticsearch" | "kibana" | "logstash"): MemorySettings => ({
        heapMb: int(`${service}HeapMb`),
        memoryMb: int(`${service}MemoryMb`),
        cpu: { requestMillis: int(`${service}CpuMillis`), limitMillis: int(`${service}CpuLimitMillis`) },
        ...sizing[service],
    });
    // Kibana's heap has no default: unset, Node.js sizes it from the container's memory limit.
    const kibanaMemory = (): StackConfig["kibana"] => {
        if (optional("kibanaHeapMb") !== undefined) return memory("kibana");
        return { memoryMb: int("kibanaMemoryMb"), cpu: { requestMillis: int("kibanaCpuMillis"), limitMillis: int("kibanaCpuLimitMillis") }, ...sizing.kibana };
    };

    const snapshotStorageClass = optional("snapshotStorageClass");
    const repositoryType = str("snapshotRepositoryType");
    if (!(SNAPSHOT_REPOSITORY_TYPES as readonly string[]).includes(repositoryType)) {
        fail("snapshotRepositoryType", `unknown repository type '${repositoryType}'`, `set one of ${SNAPSHOT_REPOSITORY_TYPES.join(", ")}`);
    }
    const objectStore = objectStoreSettings(repositoryType as SnapshotRepositoryType, { target, snapshotStorageClass, optional, fail });
    const snapshotRepository = target === "docker" || snapshotStorageClass !== undefined || objectStore !== undefined;
    const snapshots: SnapshotConfig = {
        repository: snapshotRepository,
        schedule: snapshotSchedule as SnapshotSchedule,
        retentionDays: int("snapshotRetentionDays"),
        storageGb: int("snapshotStorageGb"),
        storageClass: snapshotStorageClass,
        objectStore,
    };

    const passwordsSet: PasswordKey[] = [];
    for (const key of PASSWORD_KEYS) {
        const v = optional(key);
        if (v === undefined) continue;
        const problem = passwordProblem(v, key === "kibanaSystemPassword" ? "kibana" : "elasticsearch");
        if (problem) {
            const fix = problem.tooShort ? `set one of at least ${MIN_PASSWORD_LENGTH} characters with 'pulumi config set --secret ${key} ...', or remove it to have one generated` : problem.fix;
            fail(key, problem.problem, fix);
        }
        passwordsSet.push(key);
    }

    const esMemory = memory("elasticsearch");
    const nodeSets = parseNodeSets(rawNodeSets, nodeCount, { storageGb: sizing.elasticsearch.storageGb, heapMb: esMemory.heapMb, memoryMb: esMemory.memoryMb, cpu: esMemory.cpu }, fq("elasticsearchNodeSets"));
    if (nodeSetsGiven) nodeCount = totalNodes(nodeSets);
    if (nodeSetsGiven && nodeCount === 2) {
        fail("elasticsearchNodeSets", "the node sets have 2 nodes in all, and the stack runs 1, or 3 and more", "add a node, or run a single node");
    }
    const settings: StackConfig = {
        project: source.project,
        stack: source.stack,
        environment: optional("environment") ?? source.stack.toLowerCase().replace(/[^a-z0-9_]/g, "_"),
        target: target as Target,
        elasticVersion: str("elasticVersion"),
        clusterName: str("clusterName"),
        names: { elasticsearch: str("elasticsearchName"), kibana: str("kibanaName"), logstash: str("logstashName"), extra: list("extraCertificateNames") },
        bindAddress,
        bindAddresses,
        ports: { elasticsearch: int("elasticsearchPort"), kibana: int("kibanaPort"), nginxSyslog: int("nginxSyslogPort") },
        elasticsearch: { ...esMemory, replicas: nodeCount },
        kibana: kibanaMemory(),
        logstash: memory("logstash"),
        setMaxMapCount: bool("setMaxMapCount"),
        protectData: bool("protectData"),
        kubernetes: { ...kubernetes, eck: { ...kubernetes.eck, nodeSets } },
        certValidityDays: int("certValidityDays"),
        certRenewBeforeDays: int("certRenewBeforeDays"),
        // parseLogSources reads the CLI's JSON text itself and applies the default when the key is unset.
        logSources: parseLogSources(raw("logSources"), source.project),
        logRetentionDays: int("logRetentionDays"),
        logstashQueueCheckpointWrites: int("logstashQueueCheckpointWrites"),
        snapshots,
        logstashPublicHost: optional("logstashPublicHost"),
        passwordsSet,
    };
    // The rules every stack's settings obey, from config or from code (components/validation.ts).
    validateSettings(settings, { name: fq, fail });
    return settings;
}

/** What {@link objectStoreSettings} needs from the parser. */
interface ObjectStoreCheck {
    readonly target: string;
    readonly snapshotStorageClass: string | undefined;
    readonly optional: (key: OptionalKey) => string | undefined;
    readonly fail: (key: string, problem: string, fix: string) => never;
}

/** The object store of the snapshot repository, checked; undefined for `fs`. */
function objectStoreSettings(type: SnapshotRepositoryType, c: ObjectStoreCheck): ObjectStoreSettings | undefined {
    if (type === "fs") {
        for (const key of ["snapshotBucket", "snapshotBasePath", "snapshotEndpoint", ...Object.values(OBJECT_STORE_CREDENTIAL_KEYS).flat()] as const) {
            if (c.optional(key) !== undefined) c.fail(key, "is set, but the snapshot repository is a shared file system (snapshotRepositoryType fs)", "set snapshotRepositoryType to s3, gcs or azure, or remove the key");
        }
        return undefined;
    }
    if (c.target !== "kubernetes") {
        c.fail("snapshotRepositoryType", `an ${type} repository is set up on target kubernetes only`, "set fs (a Docker volume), or set target to kubernetes");
    }
    if (c.snapshotStorageClass !== undefined) {
        c.fail("snapshotStorageClass", `is the shared claim of an fs repository, but snapshotRepositoryType is ${type}`, "remove snapshotStorageClass, or set snapshotRepositoryType to fs");
    }
    const bucket = c.optional("snapshotBucket");
    if (bucket === undefined) {
        return c.fail("snapshotBucket", `an ${type} repository needs a ${type === "azure" ? "container" : "bucket"}`, `set it with 'pulumi config set snapshotBucket <name>'`);
    }
    // S3, GCS and Azure names are all lowercase letters, digits, '-', '.' and '_' within these bounds.
    if (!/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/.test(bucket)) {
        c.fail("snapshotBucket", `'${bucket}' is not a bucket or container name`, "use lowercase letters, digits, '-', '.' and '_', starting and ending with a letter or digit");
    }
    const basePath = c.optional("snapshotBasePath");
    if (basePath !== undefined && !/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(basePath)) {
        c.fail("snapshotBasePath", `'${basePath}' is not a relative folder path`, "use names of letters, digits, '.', '_' and '-' separated by '/', without a leading '/'");
    }
    const endpoint = c.optional("snapshotEndpoint");
    if (endpoint !== undefined && !/^(https?:\/\/)?[A-Za-z0-9.-]+(:\d{1,5})?(\/\S*)?$/.test(endpoint)) {
        c.fail("snapshotEndpoint", `'${endpoint}' is not an endpoint`, "set a host name, host:port or URL, e.g. https://minio.example.com:9000");
    }
    for (const [other, keys] of Object.entries(OBJECT_STORE_CREDENTIAL_KEYS)) {
        for (const key of keys) {
            const mine = other === type;
            if (mine && c.optional(key) === undefined) {
                c.fail(key, `an ${type} repository needs it, in Elasticsearch's keystore`, `set it as a secret: 'pulumi config set --secret ${key} ...'`);
            }
            if (!mine && c.optional(key) !== undefined) {
                c.fail(key, `belongs to an ${other} repository, but snapshotRepositoryType is ${type}`, "remove the key");
            }
        }
    }
    return { type, bucket, basePath, endpoint };
}
