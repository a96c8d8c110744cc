/**
 * Stack configuration, read: turns a raw lookup (Pulumi config, a stack file, a test's map) into checked
 * {@link StackConfig} settings, applying the defaults of {@link CONFIG_SCHEMA} (configSchema.ts).
 *
 * Two paths read configuration and both must see the same values:
 *  - the Pulumi CLI, which applies the defaults declared in `Pulumi.yaml`;
 *  - the mock runtime (unit tests) and the offline `render` command, which apply nothing.
 * So the defaults live in configSchema.ts, `Pulumi.yaml`'s `config:` block is generated from it
 * (`npm run gen:pulumi-yaml`), and a test fails when the two drift apart. The rules for each value are in
 * validation.ts.
 */

import { ConfigError } from "./configError";
import { parseNodeSets, totalNodes } from "./nodeSets";
import { parseLogSources } from "./sources";
import { type ObjectStoreSettings, SNAPSHOT_REPOSITORY_TYPES, SNAPSHOT_SCHEDULES, type SnapshotRepositoryType, type SnapshotSchedule } from "./snapshots";
import { DNS_LABEL, INTEGER_RANGES, type IntegerKey, MIN_PASSWORD_LENGTH, passwordProblem, validateSettings } from "./validation";
import { CONFIG_SCHEMA, type ConfigKey, type ConfigKeySchema, OBJECT_STORE_CREDENTIAL_KEYS, PASSWORD_KEYS, type PasswordKey, type Target } from "./configSchema";
import { type KubernetesEngine, type KubernetesSettings, type MemorySettings, type ServiceType, type SnapshotConfig, type StackConfig } from "./settings";

export * from "./configSchema";
export * from "./settings";
export { DEFAULT_ELASTIC_VERSION, MIN_SUPPORTED_8X, compareVersions, parseVersion } from "./versions";
export { MAX_ELASTICSEARCH_HEAP_MB, MIN_PASSWORD_LENGTH, isIp } from "./validation";

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

    // Each service's address defaults to bindAddress; components/model/validation.ts checks them all.
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
    // The rules every stack's settings obey, from config or from code (components/model/validation.ts).
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
