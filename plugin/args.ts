/**
 * The arguments of the ElkStack component as every Pulumi language sees it, and their conversion to the library's
 * validated settings. The TypeScript API (`ElkStackArgs`: a `StackConfig` with unions such as `target`, read-only
 * arrays, a `Platform` object) cannot be described by a Pulumi package schema, so the plugin takes the stack config
 * keys themselves: one argument per key of `CONFIG_SCHEMA`, under the same name, as plain strings, numbers, booleans,
 * lists and one object type, and turns them into the key/value lookup `parseStackConfig` reads. Defaults and
 * validation are therefore those of the stack config, key for key.
 */
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_SCHEMA, ConfigError, type ConfigKey, OBJECT_STORE_CREDENTIAL_KEYS, PASSWORD_KEYS, type PasswordKey, type StackConfig, parseStackConfig } from "../components/model/config";
import type { ElkStackPasswords } from "../components/resources/elkStack";

/** One service that sends logs (the object form of a `logSources` entry). */
export interface LogSource {
    /** nginx or django. */
    kind: string;
    /** Name of the source: a DNS label, unique in the stack. */
    name: string;
    /** Port Logstash listens on for it: nginx sources share 5140 (UDP), each django source gets one from 5141. */
    port?: number;
    /** nginx only: the lowest error_log level sent (default warn). */
    errorLevel?: string;
}

/** One Elasticsearch node set of the eck engine (an entry of `elasticsearchNodeSets`). */
export interface NodeSet {
    /** Part of the StatefulSet and pod names ECK makes (`<cluster>-es-<name>-<n>`). */
    name: string;
    /** Nodes in the set. */
    count: number;
    /** `node.roles` of its nodes; every role when left out. */
    roles?: string[];
    /** Volume claim per node, GiB; elasticsearchStorageGb by default. */
    storageGb?: number;
    /** JVM heap, MiB; elasticsearchHeapMb by default. */
    heapMb?: number;
    /** Container memory limit, MiB; elasticsearchMemoryMb by default. */
    memoryMb?: number;
    /** CPU request, millicores; elasticsearchCpuMillis by default. */
    cpuMillis?: number;
    /** CPU limit, millicores; elasticsearchCpuLimitMillis by default. */
    cpuLimitMillis?: number;
}

/**
 * Arguments of the ElkStack component. Every setting is optional and defaults as the stack config key of the same
 * name does (see the configuration table in docs/configuration.md); passwords left out are generated and kept as secrets.
 */
export interface ElkStackArgs {
    /** Where the stack runs: docker or kubernetes. */
    target?: string;
    /** Elastic Stack release of the Elasticsearch, Kibana and Logstash images. */
    elasticVersion?: string;
    /** Elasticsearch cluster name; also the prefix of Docker container, network and volume names. */
    clusterName?: string;
    /** Instance (host and certificate) name of the Elasticsearch node. */
    elasticsearchName?: string;
    /** Instance name of Kibana. */
    kibanaName?: string;
    /** Instance name of Logstash. */
    logstashName?: string;
    /** More instance names to issue certificates for from the stack's CA. */
    extraCertificateNames?: string[];
    /** Services that send logs. */
    logSources?: LogSource[];
    /** Host name or IP address at which applications outside the stack reach Logstash. */
    logstashPublicHost?: string;
    /** Days log data streams keep their data. */
    logRetentionDays?: number;
    /** How often the log data streams are snapshotted: off, hourly, daily or weekly. */
    snapshotSchedule?: string;
    /** Days a scheduled snapshot is kept. */
    snapshotRetentionDays?: number;
    /** Storage class (ReadWriteMany) of the snapshot repository's claim (Kubernetes). */
    snapshotStorageClass?: string;
    /** Size of the snapshot repository's claim, GiB (Kubernetes). */
    snapshotStorageGb?: number;
    /** Where snapshots go: fs (a Docker volume or the shared claim), or on Kubernetes an object store: s3, gcs or azure. */
    snapshotRepositoryType?: string;
    /** Bucket (s3, gcs) or container (azure) of an object-store snapshot repository. */
    snapshotBucket?: string;
    /** Folder inside snapshotBucket for this stack's snapshots. */
    snapshotBasePath?: string;
    /** Endpoint of an S3-compatible store (s3 only). */
    snapshotEndpoint?: string;
    /** Access key id of the s3 repository's client (secret; into Elasticsearch's keystore). */
    snapshotS3AccessKey?: pulumi.Input<string>;
    /** Secret access key of the s3 repository's client (secret; into Elasticsearch's keystore). */
    snapshotS3SecretKey?: pulumi.Input<string>;
    /** Service account key JSON of the gcs repository's client (secret; into Elasticsearch's keystore). */
    snapshotGcsCredentials?: pulumi.Input<string>;
    /** Storage account name of the azure repository's client (secret; into Elasticsearch's keystore). */
    snapshotAzureAccount?: pulumi.Input<string>;
    /** Storage account key of the azure repository's client (secret; into Elasticsearch's keystore). */
    snapshotAzureKey?: pulumi.Input<string>;
    /** Host address that published ports bind to (Docker). */
    bindAddress?: string;
    /** Host address Elasticsearch's port binds to (Docker); bindAddress by default. */
    elasticsearchBindAddress?: string;
    /** Host address Kibana's port binds to (Docker); bindAddress by default. */
    kibanaBindAddress?: string;
    /** Host address Logstash's ports bind to (Docker); bindAddress by default. */
    logstashBindAddress?: string;
    /** Host port of the Elasticsearch HTTPS API. */
    elasticsearchPort?: number;
    /** Host port of Kibana. */
    kibanaPort?: number;
    /** Host port (UDP) where Logstash receives nginx syslog. */
    nginxSyslogPort?: number;
    /** Elasticsearch JVM heap, MiB. */
    elasticsearchHeapMb?: number;
    /** Elasticsearch container memory limit, MiB. */
    elasticsearchMemoryMb?: number;
    /** Kibana Node.js old-space limit, MiB. */
    kibanaHeapMb?: number;
    /** Kibana container memory limit, MiB. */
    kibanaMemoryMb?: number;
    /** Logstash JVM heap, MiB. */
    logstashHeapMb?: number;
    /** Logstash container memory limit, MiB. */
    logstashMemoryMb?: number;
    /** Elasticsearch nodes: 1, or 3 and more (Kubernetes). */
    elasticsearchNodeCount?: number;
    /** Logstash replicas (Kubernetes). */
    logstashReplicas?: number;
    /** CPU request of each Elasticsearch node, millicores (Kubernetes). */
    elasticsearchCpuMillis?: number;
    /** CPU limit of each Elasticsearch node, millicores (Kubernetes). */
    elasticsearchCpuLimitMillis?: number;
    /** CPU request of Kibana, millicores (Kubernetes). */
    kibanaCpuMillis?: number;
    /** CPU limit of Kibana, millicores (Kubernetes). */
    kibanaCpuLimitMillis?: number;
    /** CPU request of each Logstash replica, millicores (Kubernetes). */
    logstashCpuMillis?: number;
    /** CPU limit of each Logstash replica, millicores (Kubernetes). */
    logstashCpuLimitMillis?: number;
    /** Persistent volume size of each Elasticsearch node, GiB (Kubernetes). */
    elasticsearchStorageGb?: number;
    /** Persistent volume size of each Logstash replica, GiB (Kubernetes). */
    logstashStorageGb?: number;
    /** Logstash's queue.checkpoint.writes: events written to the persistent queue between fsyncs (1: every event). */
    logstashQueueCheckpointWrites?: number;
    /** Storage class of the persistent volumes (Kubernetes). */
    storageClass?: string;
    /** Namespace the stack is created in (Kubernetes). */
    kubernetesNamespace?: string;
    /** Whether the stack creates and owns that namespace (Kubernetes); false for a namespace someone else owns. */
    createNamespace?: boolean;
    /** How the stack runs on Kubernetes: eck (Elastic's operator) or manifests (the stack's own StatefulSets). */
    kubernetesEngine?: string;
    /** With the eck engine: install (the stack installs the pinned operator) or present (someone else runs it). */
    eckOperator?: string;
    /** Namespace of the ECK operator. */
    eckOperatorNamespace?: string;
    /** ECK node sets; one set of elasticsearchNodeCount nodes of every role when left out. */
    elasticsearchNodeSets?: NodeSet[];
    /** Zones to spread every node set over, with shard allocation awareness (eck). */
    elasticsearchZones?: string[];
    /** Kubeconfig path or contents (Kubernetes). Contents given here are kept in the state as this argument: prefer a path. */
    kubeconfig?: string;
    /** Kubeconfig context (Kubernetes). */
    kubeContext?: string;
    /** A name of the cluster (Kubernetes): the provider's clusterIdentifier; changing it moves the stack to another cluster. */
    kubernetesClusterId?: string;
    /** Write the Kubernetes manifests to this directory instead of applying them. */
    kubernetesRenderDir?: string;
    /** Service type of Kibana: ClusterIP, NodePort or LoadBalancer (Kubernetes). */
    kibanaServiceType?: string;
    /** Service type of Logstash: ClusterIP, NodePort or LoadBalancer (Kubernetes). */
    logstashServiceType?: string;
    /** Host name of an Ingress for Kibana (Kubernetes). */
    kibanaIngressHost?: string;
    /** Ingress class of the Kibana Ingress (Kubernetes). */
    ingressClassName?: string;
    /** Spread Elasticsearch nodes over Kubernetes nodes: hard or soft. */
    antiAffinity?: string;
    /** Run the privileged step that raises vm.max_map_count. */
    setMaxMapCount?: boolean;
    /** Protect the data volumes (Docker) and the namespace (Kubernetes) from destroy and replacement. */
    protectData?: boolean;
    /** Data stream namespace of the stack's events; the stack name by default. */
    environment?: string;
    /** Validity of instance certificates, days. */
    certValidityDays?: number;
    /** Renew certificates this many days before they expire. */
    certRenewBeforeDays?: number;
    /** Password of the elastic superuser (secret); generated when left out. */
    elasticPassword?: pulumi.Input<string>;
    /** Password of the built-in kibana_system user (secret); generated when left out. */
    kibanaSystemPassword?: pulumi.Input<string>;
    /** Password of the user Logstash writes with (secret); generated when left out. */
    logstashWriterPassword?: pulumi.Input<string>;
}

/** What the component builds from its arguments: validated settings and the passwords given. */
export interface ConvertedArgs {
    readonly settings: StackConfig;
    readonly passwords: ElkStackPasswords;
    /** The object store's credentials (secrets), in the order of its keystore settings; empty without one. */
    readonly snapshotCredentials: pulumi.Input<string>[];
}

/** The field of ElkStackPasswords a password key fills: the key without "Password" (elasticPassword: elastic). */
const passwordField = (key: PasswordKey) => key.replace(/Password$/, "") as keyof ElkStackPasswords;

/** An argument that cannot be used: names it, says what is wrong and how to fix it. */
export class ArgumentError extends Error {
    constructor(
        readonly argument: string,
        problem: string,
        fix: string,
    ) {
        super(`argument '${argument}': ${problem}. Fix: ${fix}`);
        this.name = "ArgumentError";
    }
}

/** The text the stack config would hold for a plain argument value (numbers and booleans as text, lists as JSON). */
function configText(key: string, value: unknown): string {
    if (pulumi.Output.isInstance(value)) {
        throw new ArgumentError(key, "is an output of another resource, but it decides which resources exist", "pass a plain value");
    }
    if (typeof value === "string") return value;
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    if (Array.isArray(value)) return JSON.stringify(value);
    throw new ArgumentError(key, `has a value of type ${value === null ? "null" : typeof value}`, "pass a string, number, boolean or list as the schema says");
}

/**
 * Converts the component's arguments (as the engine hands them to the plugin) into the settings `parseStackConfig`
 * validates and the passwords. Throws {@link ArgumentError} naming the argument for an unknown argument, a value of
 * the wrong kind, and every problem the stack config's validation finds.
 */
export function convertArgs(args: Readonly<Record<string, unknown>>, context: { readonly project: string; readonly stack: string }): ConvertedArgs {
    const known = new Set<string>(Object.keys(CONFIG_SCHEMA));
    const unknown = Object.keys(args).filter((k) => !known.has(k) && args[k] !== undefined);
    if (unknown.length > 0) throw new ArgumentError(unknown[0], "is not an argument of ElkStack", `use one of ${[...known].join(", ")}`);
    const passwordKeys = new Set<string>(PASSWORD_KEYS);
    const credentialKeys = new Set<string>(Object.values(OBJECT_STORE_CREDENTIAL_KEYS).flat());
    const text = new Map<string, string>();
    for (const [key, value] of Object.entries(args)) {
        if (value === undefined || value === null) continue;
        // A password given as a plain string is checked like the stack config's; a secret output cannot be read here.
        if (passwordKeys.has(key) && typeof value !== "string") continue;
        // The parser only needs to know a credential is there; its value goes to the keystore, not into settings.
        if (credentialKeys.has(key)) {
            text.set(key, "set");
            continue;
        }
        text.set(key, configText(key, value));
    }
    let settings: StackConfig;
    try {
        settings = parseStackConfig({ project: context.project, stack: context.stack, get: (key: ConfigKey) => text.get(key) });
    } catch (e) {
        // The stack config names its keys `project:key`; here they are this component's arguments.
        if (e instanceof ConfigError) throw new ArgumentError(e.key.slice(context.project.length + 1), e.problem, e.fix);
        throw e;
    }
    const passwords: ElkStackPasswords = {};
    for (const key of PASSWORD_KEYS) {
        const value = args[key];
        if (value === undefined || value === null) continue;
        passwords[passwordField(key)] = pulumi.secret(value as pulumi.Input<string>);
    }
    const store = settings.snapshots.objectStore;
    const snapshotCredentials = store ? OBJECT_STORE_CREDENTIAL_KEYS[store.type].map((key) => pulumi.secret(args[key] as pulumi.Input<string>)) : [];
    return { settings, passwords, snapshotCredentials };
}
