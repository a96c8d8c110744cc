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
import { DEFAULT_LOG_SOURCES, type LogSource, parseLogSources } from "./sources";
import { SNAPSHOT_SCHEDULES, type SnapshotSchedule } from "./snapshots";

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

/** Default Elastic release: the current 9.x line. 8.17+ keeps working (see {@link MIN_SUPPORTED_8X}). */
export const DEFAULT_ELASTIC_VERSION = "9.4.1";
/** Oldest 8.x release whose settings (standardised `ssl_*` plugin options, `api.http.*`) we rely on. */
export const MIN_SUPPORTED_8X = "8.17.0";
/** Largest Elasticsearch heap, MiB (31 GiB): above about 32 GiB the JVM cannot use compressed object pointers. */
export const MAX_ELASTICSEARCH_HEAP_MB = 31 * 1024;
/** Shortest password we accept for the built-in and Logstash users. */
export const MIN_PASSWORD_LENGTH = 16;

/**
 * Every project config key. Order is the order of `Pulumi.yaml` and of the README's reference table.
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
    kibanaHeapMb: { type: "integer", default: 512, description: "Kibana Node.js old-space limit in MiB." },
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
    storageClass: { type: "string", description: "Storage class of the persistent volumes (Kubernetes); the cluster default when unset." },
    kubernetesNamespace: { type: "string", default: "elk", description: "Namespace the stack is created in (Kubernetes)." },
    kubeconfig: { type: "string", description: "Kubeconfig path or contents (Kubernetes); the ambient kubeconfig when unset." },
    kubeContext: { type: "string", description: "Kubeconfig context to use (Kubernetes); the current context when unset." },
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
        description: "Password of the built-in kibana_system user. Generated when unset.",
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

/** Size of one long-running service. */
export interface MemorySettings {
    /** JVM heap (Elasticsearch, Logstash) or Node.js old space (Kibana), MiB. */
    readonly heapMb: number;
    /** Container memory limit, MiB. */
    readonly memoryMb: number;
    readonly cpu: CpuSettings;
    /** Instances: Elasticsearch nodes, Logstash replicas, 1 for Kibana. */
    readonly replicas: number;
    /** Persistent volume per instance, GiB (Kubernetes); 0 for none. */
    readonly storageGb: number;
}

/** CPU of one service, millicores (Kubernetes requests and limits). */
export interface CpuSettings {
    readonly requestMillis: number;
    readonly limitMillis: number;
}

/** Kubernetes type of a Service. */
export type ServiceType = "ClusterIP" | "NodePort" | "LoadBalancer";

/** Settings only the Kubernetes target reads. */
export interface KubernetesSettings {
    readonly namespace: string;
    readonly kubeconfig?: string;
    readonly context?: string;
    /** When set, manifests are written here instead of applied. */
    readonly renderDir?: string;
    readonly storageClass?: string;
    readonly kibanaServiceType: ServiceType;
    readonly logstashServiceType: ServiceType;
    readonly kibanaIngress?: { readonly host: string; readonly className?: string };
    readonly antiAffinity: "hard" | "soft";
}

/** The snapshot repository and lifecycle policy of a stack. */
export interface SnapshotConfig {
    /**
     * Whether the stack has a snapshot repository: always on Docker (a named volume), on Kubernetes when a
     * ReadWriteMany storage class is configured for its shared claim.
     */
    readonly repository: boolean;
    readonly schedule: SnapshotSchedule;
    readonly retentionDays: number;
    /** Size of the shared claim, GiB (Kubernetes). */
    readonly storageGb: number;
    /** Storage class of the shared claim (Kubernetes). */
    readonly storageClass?: string;
}

/** Host ports published by the stack. */
export interface PortSettings {
    readonly elasticsearch: number;
    readonly kibana: number;
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
    readonly project: string;
    readonly stack: string;
    /** Data stream namespace of this stack's events. */
    readonly environment: string;
    readonly target: Target;
    readonly elasticVersion: string;
    readonly clusterName: string;
    readonly names: InstanceNames;
    readonly bindAddress: string;
    /** Host address each service's published ports bind to (Docker): its own key, else `bindAddress`. */
    readonly bindAddresses: { readonly elasticsearch: string; readonly kibana: string; readonly logstash: string };
    readonly ports: PortSettings;
    readonly elasticsearch: MemorySettings;
    readonly kibana: MemorySettings;
    readonly logstash: MemorySettings;
    readonly setMaxMapCount: boolean;
    /** Data volumes (Docker) and the namespace (Kubernetes) are `protect`ed: destroy and replacement refuse. */
    readonly protectData: boolean;
    readonly kubernetes: KubernetesSettings;
    readonly certValidityDays: number;
    readonly certRenewBeforeDays: number;
    /** Services that send logs, with their ports and data streams. */
    readonly logSources: readonly LogSource[];
    /** Days log data is kept. */
    readonly logRetentionDays: number;
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
    readonly project: string;
    readonly stack: string;
    readonly get: RawConfigLookup;
}

/** True for an IPv4 or IPv6 address. */
export function isIp(s: string): boolean {
    return /^(\d{1,3})(\.\d{1,3}){3}$/.test(s) || (s.includes(":") && /^[0-9a-fA-F:.]+$/.test(s));
}

const INSTANCE_NAME = /^[a-z][a-z0-9-]{0,61}[a-z0-9]$/;
const VERSION = /^(\d+)\.(\d+)\.(\d+)$/;

/** Parses "X.Y.Z" into numbers, or undefined. */
export function parseVersion(v: string): [number, number, number] | undefined {
    const m = VERSION.exec(v);
    return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** Negative when a < b, 0 when equal, positive when a > b. */
export function compareVersions(a: string, b: string): number {
    const pa = parseVersion(a);
    const pb = parseVersion(b);
    if (!pa || !pb) throw new Error(`not a version: ${pa ? b : a}`);
    for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
    return 0;
}

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

    const str = (key: ConfigKey): string => {
        const v = raw(key) ?? defaultOf(key);
        if (typeof v !== "string") return fail(key, "has no value", `set it with 'pulumi config set ${key} <value>'`);
        return v;
    };
    const int = (key: ConfigKey, min: number, max: number): number => {
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

    const target = str("target");
    if (target !== "docker" && target !== "kubernetes") {
        fail("target", `unknown target '${target}'`, "set 'docker' or 'kubernetes'");
    }

    const elasticVersion = str("elasticVersion");
    const parsedVersion = parseVersion(elasticVersion);
    if (!parsedVersion) {
        fail("elasticVersion", `'${elasticVersion}' is not an exact release`, `pin a full version such as ${DEFAULT_ELASTIC_VERSION}`);
    } else if (parsedVersion[0] < 8 || parsedVersion[0] > 9 || compareVersions(elasticVersion, MIN_SUPPORTED_8X) < 0) {
        fail(
            "elasticVersion",
            `${elasticVersion} is not supported`,
            `use a 9.x release (default ${DEFAULT_ELASTIC_VERSION}) or 8.x from ${MIN_SUPPORTED_8X}`,
        );
    }

    const clusterName = str("clusterName");
    if (!INSTANCE_NAME.test(clusterName)) {
        fail("clusterName", `'${clusterName}' is malformed`, "use 2-63 lowercase letters, digits and '-', starting with a letter");
    }

    const nameKeys = ["elasticsearchName", "kibanaName", "logstashName"] as const;
    const seen = new Map<string, string>();
    const checkName = (key: string, name: string) => {
        if (!INSTANCE_NAME.test(name)) {
            fail(key, `instance name '${name}' is malformed`, "use 2-63 lowercase letters, digits and '-', starting with a letter (a DNS label)");
        }
        const other = seen.get(name);
        if (other) fail(key, `instance name '${name}' is already used by ${fq(other)}`, "give every instance its own name");
        seen.set(name, key);
    };
    for (const key of nameKeys) checkName(key, str(key));
    const extra = list("extraCertificateNames");
    extra.forEach((n, i) => checkName(`extraCertificateNames[${i}]`, n));

    const address = (key: ConfigKey, value: string): string => {
        if (!/^(\d{1,3})(\.\d{1,3}){3}$/.test(value) && !/^[0-9a-fA-F:]+$/.test(value)) {
            fail(key, `'${value}' is not an IP address`, "use 127.0.0.1 (this machine only) or 0.0.0.0 (all interfaces)");
        }
        return value;
    };
    const bindAddress = address("bindAddress", str("bindAddress"));
    const serviceAddress = (key: "elasticsearchBindAddress" | "kibanaBindAddress" | "logstashBindAddress"): string => {
        const v = raw(key);
        return v === undefined ? bindAddress : address(key, v);
    };
    const bindAddresses = {
        elasticsearch: serviceAddress("elasticsearchBindAddress"),
        kibana: serviceAddress("kibanaBindAddress"),
        logstash: serviceAddress("logstashBindAddress"),
    };

    const portKeys = ["elasticsearchPort", "kibanaPort", "nginxSyslogPort"] as const;
    const ports = new Map<number, string>();
    for (const key of portKeys) {
        const p = int(key, 1, 65535);
        const other = ports.get(p);
        if (other) fail(key, `port ${p} is already taken by ${fq(other)}`, "give each published port its own number");
        ports.set(p, key);
    }

    // parseLogSources reads the CLI's JSON text itself and applies the default when the key is unset.
    const logSources = parseLogSources(raw("logSources"), source.project);
    if (target === "docker") {
        // Docker publishes each Django port on the host under the same number.
        for (const s of logSources.filter((x) => x.kind === "django")) {
            const other = ports.get(s.port);
            if (other) fail("logSources", `Django source ${s.name} wants port ${s.port}, already taken by ${fq(other)}`, `give ${s.name} another port ('django:${s.name}:<port>')`);
        }
    }

    const optional = (key: ConfigKey): string | undefined => raw(key);
    const logstashPublicHost = optional("logstashPublicHost");
    if (logstashPublicHost !== undefined && !isIp(logstashPublicHost) && !/^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(logstashPublicHost)) {
        fail("logstashPublicHost", `'${logstashPublicHost}' is neither a DNS name nor an IP address`, "set the name or address applications dial, e.g. logs.example.com");
    }
    const serviceType = (key: "kibanaServiceType" | "logstashServiceType"): ServiceType => {
        const v = str(key);
        if (v !== "ClusterIP" && v !== "NodePort" && v !== "LoadBalancer") {
            return fail(key, `unknown service type '${v}'`, "set ClusterIP, NodePort or LoadBalancer");
        }
        return v;
    };
    const antiAffinity = str("antiAffinity");
    if (antiAffinity !== "hard" && antiAffinity !== "soft") fail("antiAffinity", `'${antiAffinity}' is neither hard nor soft`, "set hard or soft");
    const namespace = str("kubernetesNamespace");
    if (!INSTANCE_NAME.test(namespace)) {
        fail("kubernetesNamespace", `'${namespace}' is not a valid namespace name`, "use 2-63 lowercase letters, digits and '-', starting with a letter");
    }
    const ingressHost = optional("kibanaIngressHost");
    if (ingressHost !== undefined && !/^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$/.test(ingressHost)) {
        fail("kibanaIngressHost", `'${ingressHost}' is not a DNS name`, "set a fully qualified host name such as kibana.example.com");
    }
    const kubernetes: KubernetesSettings = {
        namespace,
        kubeconfig: optional("kubeconfig"),
        context: optional("kubeContext"),
        renderDir: optional("kubernetesRenderDir"),
        storageClass: optional("storageClass"),
        kibanaServiceType: serviceType("kibanaServiceType"),
        logstashServiceType: serviceType("logstashServiceType"),
        kibanaIngress: ingressHost ? { host: ingressHost, className: optional("ingressClassName") } : undefined,
        antiAffinity: antiAffinity as "hard" | "soft",
    };

    const nodeCount = int("elasticsearchNodeCount", 1, 99);
    if (nodeCount === 2) {
        fail("elasticsearchNodeCount", "2 nodes cannot elect a master when one is lost", "use 1, or 3 and more");
    }
    const logstashReplicas = int("logstashReplicas", 1, 99);
    if (target === "docker" && nodeCount > 1) {
        fail("elasticsearchNodeCount", `${nodeCount} nodes need target kubernetes`, "set 1 for Docker, or set target to kubernetes");
    }
    if (target === "docker" && ingressHost !== undefined) {
        fail("kibanaIngressHost", "an Ingress needs target kubernetes", "remove the key, or set target to kubernetes");
    }
    if (target === "docker" && logstashReplicas > 1) {
        fail("logstashReplicas", `${logstashReplicas} replicas need target kubernetes`, "set 1 for Docker, or set target to kubernetes");
    }
    const sizing: Record<"elasticsearch" | "kibana" | "logstash", { replicas: number; storageGb: number }> = {
        elasticsearch: { replicas: nodeCount, storageGb: int("elasticsearchStorageGb", 1, 65536) },
        kibana: { replicas: 1, storageGb: 0 },
        logstash: { replicas: logstashReplicas, storageGb: int("logstashStorageGb", 1, 65536) },
    };

    const memory = (service: "elasticsearch" | "kibana" | "logstash"): MemorySettings => {
        const heapKey = `${service}HeapMb` as const;
        const memKey = `${service}MemoryMb` as const;
        const cpuKey = `${service}CpuMillis` as const;
        const cpuLimitKey = `${service}CpuLimitMillis` as const;
        const cpu = { requestMillis: int(cpuKey, 10, 256000), limitMillis: int(cpuLimitKey, 10, 256000) };
        if (cpu.limitMillis < cpu.requestMillis) {
            fail(cpuLimitKey, `limit ${cpu.limitMillis}m is below the request ${cpu.requestMillis}m (${fq(cpuKey)})`, `raise ${cpuLimitKey} to at least ${cpu.requestMillis}`);
        }
        const heapMb = int(heapKey, 128, 65536);
        const memoryMb = int(memKey, 256, 262144);
        if (heapMb > memoryMb) {
            fail(heapKey, `heap ${heapMb} MiB is larger than the memory limit ${memoryMb} MiB (${fq(memKey)})`, `lower ${heapKey} to at most half of ${memKey}, or raise ${memKey}`);
        }
        if (service === "elasticsearch") {
            // Elasticsearch adds direct memory of up to half the heap and relies on the file-system cache for the
            // rest: Elastic's rule is a heap of at most 50% of the memory, and below the compressed-oops threshold.
            if (heapMb * 2 > memoryMb) {
                fail(heapKey, `heap ${heapMb} MiB is more than half of the ${memoryMb} MiB limit (${fq(memKey)}); Elasticsearch's direct memory and file cache need the other half`, `keep ${heapKey} at most 50% of ${memKey}: lower it to ${Math.floor(memoryMb / 2)} or raise ${memKey} to ${heapMb * 2}`);
            }
            if (heapMb > MAX_ELASTICSEARCH_HEAP_MB) {
                fail(heapKey, `heap ${heapMb} MiB is above 31 GiB, where the JVM loses compressed object pointers`, `keep ${heapKey} at most ${MAX_ELASTICSEARCH_HEAP_MB}; for more memory, add nodes`);
            }
        } else if (heapMb * 4 > memoryMb * 3) {
            fail(heapKey, `heap ${heapMb} MiB leaves too little of the ${memoryMb} MiB limit (${fq(memKey)}) for off-heap memory`, `keep ${heapKey} at most 75% of ${memKey}`);
        }
        return { heapMb, memoryMb, cpu, ...sizing[service] };
    };

    const certValidityDays = int("certValidityDays", 2, 3650);
    const certRenewBeforeDays = int("certRenewBeforeDays", 1, 3649);
    if (certRenewBeforeDays >= certValidityDays) {
        fail("certRenewBeforeDays", `${certRenewBeforeDays} days is not shorter than certValidityDays (${certValidityDays})`, "renew some days before the certificates expire, e.g. 30");
    }

    const environment = raw("environment") ?? source.stack.toLowerCase().replace(/[^a-z0-9_]/g, "_");
    if (!/^[a-z0-9_]{1,64}$/.test(environment)) {
        fail("environment", `'${environment}' cannot be a data stream namespace`, "use 1-64 lowercase letters, digits or '_' (no '-')");
    }

    const snapshotSchedule = str("snapshotSchedule");
    if (!(SNAPSHOT_SCHEDULES as readonly string[]).includes(snapshotSchedule)) {
        fail("snapshotSchedule", `unknown schedule '${snapshotSchedule}'`, `set one of ${SNAPSHOT_SCHEDULES.join(", ")}`);
    }
    const snapshotStorageClass = optional("snapshotStorageClass");
    const snapshotRepository = target === "docker" || snapshotStorageClass !== undefined;
    if (snapshotSchedule !== "off" && !snapshotRepository) {
        fail("snapshotSchedule", `a ${snapshotSchedule} schedule needs a snapshot repository, and on Kubernetes that needs ${fq("snapshotStorageClass")}`, "set snapshotStorageClass to a storage class that offers ReadWriteMany, or set snapshotSchedule to off");
    }
    const snapshots: SnapshotConfig = {
        repository: snapshotRepository,
        schedule: snapshotSchedule as SnapshotSchedule,
        retentionDays: int("snapshotRetentionDays", 1, 3650),
        storageGb: int("snapshotStorageGb", 1, 65536),
        storageClass: snapshotStorageClass,
    };

    const passwordsSet: PasswordKey[] = [];
    for (const key of PASSWORD_KEYS) {
        const v = raw(key);
        if (v === undefined) continue;
        if (/[^\x20-\x7e]/.test(v)) {
            fail(key, "the password has control or non-ASCII characters", "use printable ASCII characters only");
        }
        if (v.includes("@@")) {
            fail(key, "the password contains '@@', which the bootstrap script uses to mark placeholders", "choose a password without '@@'");
        }
        if (v.length < MIN_PASSWORD_LENGTH) {
            fail(key, `the password is too short (${v.length} characters)`, `set one of at least ${MIN_PASSWORD_LENGTH} characters with 'pulumi config set --secret ${key} ...', or remove it to have one generated`);
        }
        passwordsSet.push(key);
    }

    return {
        project: source.project,
        stack: source.stack,
        environment,
        target: target as Target,
        elasticVersion,
        clusterName,
        names: { elasticsearch: str("elasticsearchName"), kibana: str("kibanaName"), logstash: str("logstashName"), extra },
        bindAddress,
        bindAddresses,
        ports: { elasticsearch: int("elasticsearchPort", 1, 65535), kibana: int("kibanaPort", 1, 65535), nginxSyslog: int("nginxSyslogPort", 1, 65535) },
        elasticsearch: memory("elasticsearch"),
        kibana: memory("kibana"),
        logstash: memory("logstash"),
        setMaxMapCount: bool("setMaxMapCount"),
        protectData: bool("protectData"),
        kubernetes,
        certValidityDays,
        certRenewBeforeDays,
        logSources,
        logRetentionDays: int("logRetentionDays", 1, 3650),
        snapshots,
        logstashPublicHost,
        passwordsSet,
    };
}
