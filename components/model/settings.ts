/** The stack's settings once read and checked: what the program, the render command and the operations work from. */
import { type NodeSetConfig } from "./nodeSets";
import { type LogSource } from "./sources";
import { type ObjectStoreSettings, type SnapshotSchedule } from "./snapshots";
import { type PasswordKey, type Target } from "./configSchema";

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
     * `DEFAULT_CLUSTER_ID` ("default") when unset.
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
    /** Elastic Stack release of the Elasticsearch, Kibana and Logstash images (9.x, or 8.x from 8.19.0). */
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
