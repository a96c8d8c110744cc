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
import { type NodeSetConfig, parseNodeSets, totalNodes } from "./nodeSets";
import { parseLogSources } from "./sources";
import { type ObjectStoreSettings, SNAPSHOT_REPOSITORY_TYPES, SNAPSHOT_SCHEDULES, type SnapshotRepositoryType, type SnapshotSchedule } from "./snapshots";
import { DNS_LABEL, INTEGER_RANGES, type IntegerKey, MIN_PASSWORD_LENGTH, passwordProblem, validateSettings } from "./validation";
import { CONFIG_SCHEMA, type ConfigKey, type ConfigKeySchema, OBJECT_STORE_CREDENTIAL_KEYS, PASSWORD_KEYS, type PasswordKey, type Target } from "./configSchema";
import { type EckSettings, type KubernetesEngine, type KubernetesSettings, type MemorySettings, type ServiceType, type SnapshotConfig, type StackConfig } from "./settings";

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
    const c = configReader(source);
    // Each group checks its keys as it reads them, so this order decides which of several wrong keys is reported.
    checkSecretsEncrypted(c, source);
    const target = c.choice("target");
    const addresses = readBindAddresses(c);
    const antiAffinity = c.choice("antiAffinity");
    const snapshotSchedule = c.choice("snapshotSchedule");
    const { kubernetes, nodeSetsKey } = readKubernetes(c, target, antiAffinity);
    const nodeCount = c.int("elasticsearchNodeCount");
    const sizing = readSizing(c);
    const snapshots = readSnapshots(c, target, snapshotSchedule);
    const passwordsSet = readPasswords(c);
    const esMemory = readMemory(c, "elasticsearch", sizing);
    const nodes = readNodeSets(c, nodeSetsKey, nodeCount, esMemory);
    const settings: StackConfig = {
        project: source.project,
        stack: source.stack,
        environment: c.optional("environment") ?? source.stack.toLowerCase().replace(/[^a-z0-9_]/g, "_"),
        target,
        elasticVersion: c.str("elasticVersion"),
        clusterName: c.str("clusterName"),
        names: { elasticsearch: c.str("elasticsearchName"), kibana: c.str("kibanaName"), logstash: c.str("logstashName"), extra: c.list("extraCertificateNames") },
        bindAddress: addresses.bindAddress,
        bindAddresses: addresses.bindAddresses,
        ports: { elasticsearch: c.int("elasticsearchPort"), kibana: c.int("kibanaPort"), nginxSyslog: c.int("nginxSyslogPort") },
        elasticsearch: { ...esMemory, replicas: nodes.count },
        kibana: readKibanaMemory(c, sizing),
        logstash: readMemory(c, "logstash", sizing),
        setMaxMapCount: c.bool("setMaxMapCount"),
        protectData: c.bool("protectData"),
        kubernetes: { ...kubernetes, eck: { ...kubernetes.eck, nodeSets: nodes.nodeSets } },
        certValidityDays: c.int("certValidityDays"),
        certRenewBeforeDays: c.int("certRenewBeforeDays"),
        // parseLogSources reads the CLI's JSON text itself and applies the default when the key is unset.
        logSources: parseLogSources(c.raw("logSources"), source.project),
        logRetentionDays: c.int("logRetentionDays"),
        logstashQueueCheckpointWrites: c.int("logstashQueueCheckpointWrites"),
        snapshots,
        logstashPublicHost: c.optional("logstashPublicHost"),
        passwordsSet,
    };
    // The rules every stack's settings obey, from config or from code (components/model/validation.ts).
    validateSettings(settings, { name: c.fq, fail: c.fail });
    return settings;
}

/** A key whose value is one of a closed set: the values, and what the parser says of any other. */
interface Choice<T extends string> {
    readonly values: readonly T[];
    readonly problem: (value: string) => string;
    readonly fix: string;
}

/** A {@link Choice} of `values`, checked by the compiler against the settings type `T`. */
function oneOf<T extends string>(values: readonly T[], problem: (value: string) => string, fix: string): Choice<T> {
    return { values, problem, fix };
}

/** Kubernetes Service types the stack can ask for. */
const SERVICE_TYPE = oneOf<ServiceType>(["ClusterIP", "NodePort", "LoadBalancer"], (v) => `unknown service type '${v}'`, "set ClusterIP, NodePort or LoadBalancer");

/**
 * The keys that name one of a few choices: a typo would otherwise reach a platform as an unknown mode, so each is
 * refused where it is read, with the choices it has.
 */
const CHOICES = {
    target: oneOf<Target>(["docker", "kubernetes"], (v) => `unknown target '${v}'`, "set 'docker' or 'kubernetes'"),
    antiAffinity: oneOf<KubernetesSettings["antiAffinity"]>(["hard", "soft"], (v) => `'${v}' is neither hard nor soft`, "set hard or soft"),
    snapshotSchedule: oneOf<SnapshotSchedule>(SNAPSHOT_SCHEDULES, (v) => `unknown schedule '${v}'`, `set one of ${SNAPSHOT_SCHEDULES.join(", ")}`),
    kubernetesEngine: oneOf<KubernetesEngine>(["eck", "manifests"], (v) => `unknown engine '${v}'`, "set eck or manifests"),
    eckOperator: oneOf<EckSettings["operator"]>(["install", "present"], (v) => `'${v}' is neither install nor present`, "set install or present"),
    kibanaServiceType: SERVICE_TYPE,
    logstashServiceType: SERVICE_TYPE,
    snapshotRepositoryType: oneOf<SnapshotRepositoryType>(SNAPSHOT_REPOSITORY_TYPES, (v) => `unknown repository type '${v}'`, `set one of ${SNAPSHOT_REPOSITORY_TYPES.join(", ")}`),
} satisfies Partial<Record<ConfigKey, Choice<string>>>;

/** A key of {@link CHOICES}. */
type ChoiceKey = keyof typeof CHOICES;
/** The values of a choice key. */
type ChoiceOf<K extends ChoiceKey> = (typeof CHOICES)[K]["values"][number];

/** The parser's view of one config source: each key read with its default and type, and the failure naming it. */
interface ConfigReader {
    /** The name the user knows a key by: `project:key`. */
    readonly fq: (key: string) => string;
    /** Stops with a {@link ConfigError} naming the key. */
    readonly fail: (key: string, problem: string, fix: string) => never;
    /** The value the stack sets; undefined when it sets none (an empty string is none). */
    readonly raw: (key: ConfigKey) => string | undefined;
    /** The value of a key without a default, if set. */
    readonly optional: (key: OptionalKey) => string | undefined;
    /** Whether a key with a default is set to another value than its default. */
    readonly setOffDefault: (key: DefaultedKey) => boolean;
    /** A string, its default when unset; a key with neither has no value. */
    readonly str: (key: ConfigKey) => string;
    /** A whole number within the key's range. */
    readonly int: (key: IntegerKey) => number;
    /** `true` or `false`. */
    readonly bool: (key: ConfigKey) => boolean;
    /** A JSON list of strings. */
    readonly list: (key: ConfigKey) => string[];
    /** A key of {@link CHOICES}, refused unless it is one of its values. */
    readonly choice: <K extends ChoiceKey>(key: K) => ChoiceOf<K>;
}

/** The reads of `source`'s keys, each one applying the schema's default and checking the value's type. */
function configReader(source: ConfigSource): ConfigReader {
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
    return {
        fq,
        fail,
        raw,
        // The Pulumi CLI writes the default of every key Pulumi.yaml declares into the stack's config before the
        // program runs (`mergeConfig` in pulumi/pulumi sdk/go/common/workspace/config.go): a key with a default is
        // always present. So presence is asked only of keys without one (`optional`), and "set by the user" of a key
        // with a default can only mean "set to another value than its default" (`setOffDefault`).
        optional: (key) => raw(key),
        setOffDefault: (key) => isOffDefault(key, raw(key)),
        str,
        int: (key) => readInteger(key, raw(key), fail),
        bool: (key) => {
            const v = raw(key);
            if (v === undefined) return defaultOf(key) as boolean;
            if (v === "true" || v === "false") return v === "true";
            return fail(key, `'${v}' is not a boolean`, `set true or false, e.g. 'pulumi config set ${key} false'`);
        },
        list: (key) => readList(key, raw(key), fail),
        choice: <K extends ChoiceKey>(key: K): ChoiceOf<K> => {
            const v = str(key);
            const choice: Choice<string> = CHOICES[key];
            if (!choice.values.includes(v)) fail(key, choice.problem(v), choice.fix);
            return v as ChoiceOf<K>;
        },
    };
}

/** Whether `v`, the raw value of a key with a default, differs from that default (compared as the key's type). */
function isOffDefault(key: DefaultedKey, v: string | undefined): boolean {
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
}

/** A whole number within the key's {@link INTEGER_RANGES} range; the default when unset. */
function readInteger(key: IntegerKey, v: string | undefined, fail: ConfigReader["fail"]): number {
    const [min, max] = INTEGER_RANGES[key];
    const n = v === undefined ? defaultOf(key) : /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
    if (typeof n !== "number" || !Number.isInteger(n)) {
        return fail(key, `'${v}' is not a whole number`, `set a whole number, e.g. 'pulumi config set ${key} ${String(defaultOf(key))}'`);
    }
    if (n < min || n > max) return fail(key, `${n} is out of range`, `choose a value from ${min} to ${max}`);
    return n;
}

/** A JSON list of strings (as `pulumi config set --path` writes one); the default when unset. */
function readList(key: ConfigKey, v: string | undefined, fail: ConfigReader["fail"]): string[] {
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
}

/**
 * Secrets: every key the schema marks `secret` that the stack sets is encrypted. `Pulumi.yaml` cannot declare them
 * `secret: true` (see scripts/projectFile.ts), so the program refuses a plain one itself, as the CLI would refuse a
 * declared one. Only when the source can tell (`isSecret`).
 */
function checkSecretsEncrypted(c: ConfigReader, source: ConfigSource): void {
    if (!source.isSecret) return;
    for (const [key, schema] of Object.entries(CONFIG_SCHEMA) as [ConfigKey, ConfigKeySchema][]) {
        if (schema.secret && c.raw(key) !== undefined && !source.isSecret(key)) {
            c.fail(key, `is in plain text in the stack's config, and it is a secret`, `set it encrypted: 'pulumi config set --secret ${key} ...' (it is then stored encrypted in Pulumi.${source.stack}.yaml)`);
        }
    }
}

/** Bind addresses: each service's defaults to `bindAddress`, so one key moves them all; validation.ts checks them. */
function readBindAddresses(c: ConfigReader): Pick<StackConfig, "bindAddress" | "bindAddresses"> {
    const bindAddress = c.str("bindAddress");
    const serviceAddress = (key: "elasticsearchBindAddress" | "kibanaBindAddress" | "logstashBindAddress"): string => c.optional(key) ?? bindAddress;
    return {
        bindAddress,
        bindAddresses: {
            elasticsearch: serviceAddress("elasticsearchBindAddress"),
            kibana: serviceAddress("kibanaBindAddress"),
            logstash: serviceAddress("logstashBindAddress"),
        },
    };
}

/** The node sets as the stack gives them, read with the ECK keys and parsed once the node sizes are known. */
interface NodeSetsKey {
    readonly raw: string | undefined;
    /** Whether the stack sets node sets of its own (not the default). */
    readonly given: boolean;
}

/**
 * The Kubernetes keys, with the ECK ones ({@link readEck}). The node sets are filled in by {@link readNodeSets},
 * once the Elasticsearch sizes (their defaults) are known.
 */
function readKubernetes(c: ConfigReader, target: Target, antiAffinity: KubernetesSettings["antiAffinity"]): { kubernetes: KubernetesSettings; nodeSetsKey: NodeSetsKey } {
    const ingressHost = c.optional("kibanaIngressHost");
    const eck = readEck(c, target);
    const kubernetes: KubernetesSettings = {
        namespace: c.str("kubernetesNamespace"),
        createNamespace: c.bool("createNamespace"),
        kubeconfig: c.optional("kubeconfig"),
        context: c.optional("kubeContext"),
        clusterId: c.str("kubernetesClusterId"),
        renderDir: c.optional("kubernetesRenderDir"),
        storageClass: c.optional("storageClass"),
        kibanaServiceType: c.choice("kibanaServiceType"),
        logstashServiceType: c.choice("logstashServiceType"),
        kibanaIngress: ingressHost ? { host: ingressHost, className: c.optional("ingressClassName") } : undefined,
        antiAffinity,
        engine: eck.engine,
        eck: { operator: eck.operator, operatorNamespace: eck.operatorNamespace, nodeSets: [], zones: eck.zones },
    };
    return { kubernetes, nodeSetsKey: eck.nodeSets };
}

/**
 * The ECK keys: the engine and its operator, and the keys only the eck engine honours (node sets, zones), refused
 * on any other target or engine rather than ignored; so are kibanaSystemPassword on eck (ECK gives Kibana a token)
 * and a node count next to node sets.
 */
function readEck(c: ConfigReader, target: Target): Pick<KubernetesSettings, "engine"> & Omit<EckSettings, "nodeSets"> & { nodeSets: NodeSetsKey } {
    const engine = c.choice("kubernetesEngine");
    const operator = c.choice("eckOperator");
    const operatorNamespace = c.str("eckOperatorNamespace");
    if (!DNS_LABEL.test(operatorNamespace)) {
        c.fail("eckOperatorNamespace", `'${operatorNamespace}' is not a valid namespace name`, "use 2-63 lowercase letters, digits and '-', starting with a letter");
    }
    const zones = c.list("elasticsearchZones");
    const onEck = target === "kubernetes" && engine === "eck";
    const nodeSets: NodeSetsKey = { raw: c.raw("elasticsearchNodeSets"), given: c.setOffDefault("elasticsearchNodeSets") };
    if (nodeSets.given && !onEck) c.fail("elasticsearchNodeSets", "node sets need target kubernetes with kubernetesEngine eck", "remove the key, or set kubernetesEngine to eck");
    if (zones.length > 0 && !onEck) c.fail("elasticsearchZones", "zone awareness needs target kubernetes with kubernetesEngine eck", "remove the key, or set kubernetesEngine to eck");
    // ECK turns the reserved realm off, so kibana_system does not exist there; Kibana gets a token from the operator.
    if (onEck && c.optional("kibanaSystemPassword") !== undefined) {
        c.fail(
            "kibanaSystemPassword",
            "it is not used on the eck engine: ECK turns the built-in kibana_system user off and gives Kibana a service-account token of its own",
            "remove it with 'pulumi config rm kibanaSystemPassword'",
        );
    }
    // Its default (1) is in every stack's config, written there by the CLI: only another count contradicts the sets.
    if (nodeSets.given && c.setOffDefault("elasticsearchNodeCount")) {
        c.fail(
            "elasticsearchNodeCount",
            `it is ${String(c.raw("elasticsearchNodeCount"))} next to ${c.fq("elasticsearchNodeSets")}, which counts the nodes itself`,
            `remove elasticsearchNodeCount (its default, ${String(defaultOf("elasticsearchNodeCount"))}, is ignored next to node sets) and give each node set its count`,
        );
    }
    return { engine, operator, operatorNamespace, zones, nodeSets };
}

/** Each long-running service's instances and disk. */
type Sizing = Record<"elasticsearch" | "kibana" | "logstash", { replicas: number; storageGb: number }>;

/** Replicas and storage of each service (Kibana runs once, without a volume). */
function readSizing(c: ConfigReader): Sizing {
    return {
        elasticsearch: { replicas: c.int("elasticsearchNodeCount"), storageGb: c.int("elasticsearchStorageGb") },
        kibana: { replicas: 1, storageGb: 0 },
        logstash: { replicas: c.int("logstashReplicas"), storageGb: c.int("logstashStorageGb") },
    };
}

/** A service's heap, memory and CPU keys (`<service>HeapMb`, ...), with its sizing. */
function readMemory(c: ConfigReader, service: "elasticsearch" | "kibana" | "logstash", sizing: Sizing): MemorySettings {
    return {
        heapMb: c.int(`${service}HeapMb`),
        memoryMb: c.int(`${service}MemoryMb`),
        cpu: { requestMillis: c.int(`${service}CpuMillis`), limitMillis: c.int(`${service}CpuLimitMillis`) },
        ...sizing[service],
    };
}

/** Kibana's size. Its heap has no default: unset, Node.js sizes it from the container's memory limit. */
function readKibanaMemory(c: ConfigReader, sizing: Sizing): StackConfig["kibana"] {
    if (c.optional("kibanaHeapMb") !== undefined) return readMemory(c, "kibana", sizing);
    return { memoryMb: c.int("kibanaMemoryMb"), cpu: { requestMillis: c.int("kibanaCpuMillis"), limitMillis: c.int("kibanaCpuLimitMillis") }, ...sizing.kibana };
}

/**
 * The Elasticsearch node sets (eck), each defaulting to the single set's size. The node sets count the nodes
 * themselves; elasticsearchNodeCount is the single set's count otherwise. Two nodes in all cannot elect a master.
 */
function readNodeSets(c: ConfigReader, key: NodeSetsKey, nodeCount: number, esMemory: MemorySettings): { nodeSets: NodeSetConfig[]; count: number } {
    const nodeSets = parseNodeSets(key.raw, nodeCount, { storageGb: esMemory.storageGb, heapMb: esMemory.heapMb, memoryMb: esMemory.memoryMb, cpu: esMemory.cpu }, c.fq("elasticsearchNodeSets"));
    const count = key.given ? totalNodes(nodeSets) : nodeCount;
    if (key.given && count === 2) {
        c.fail("elasticsearchNodeSets", "the node sets have 2 nodes in all, and the stack runs 1, or 3 and more", "add a node, or run a single node");
    }
    return { nodeSets, count };
}

/**
 * The snapshot repository and policy. There is a repository on Docker (a volume), on Kubernetes with a shared
 * storage class or an object store; its type decides which of the object store's keys belong.
 */
function readSnapshots(c: ConfigReader, target: Target, schedule: SnapshotSchedule): SnapshotConfig {
    const storageClass = c.optional("snapshotStorageClass");
    const repositoryType = c.choice("snapshotRepositoryType");
    const objectStore = objectStoreSettings(repositoryType, { target, snapshotStorageClass: storageClass, optional: c.optional, fail: c.fail });
    return {
        repository: target === "docker" || storageClass !== undefined || objectStore !== undefined,
        schedule,
        retentionDays: c.int("snapshotRetentionDays"),
        storageGb: c.int("snapshotStorageGb"),
        storageClass,
        objectStore,
    };
}

/** The passwords the stack sets (the others are generated), each one held to the password rules of validation.ts. */
function readPasswords(c: ConfigReader): PasswordKey[] {
    const passwordsSet: PasswordKey[] = [];
    for (const key of PASSWORD_KEYS) {
        const v = c.optional(key);
        if (v === undefined) continue;
        const problem = passwordProblem(v, key === "kibanaSystemPassword" ? "kibana" : "elasticsearch");
        if (problem) {
            const fix = problem.tooShort ? `set one of at least ${MIN_PASSWORD_LENGTH} characters with 'pulumi config set --secret ${key} ...', or remove it to have one generated` : problem.fix;
            c.fail(key, problem.problem, fix);
        }
        passwordsSet.push(key);
    }
    return passwordsSet;
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

