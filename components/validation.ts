/**
 * The one set of rules for a stack's settings, whichever way they arrive: `parseStackConfig` runs them on what
 * it read from the stack config (and names the config key, `elk-stack:kibanaPort`), and the `ElkStack` constructor
 * runs them on the arguments a program passed (and names the argument, `settings.ports.kibana`). Pure and free of
 * the Pulumi SDK, like config.ts.
 */
import * as net from "net";
import type { ConfigKey, StackConfig } from "./config";
import { eckNameProblems } from "./targets/eckNaming";

/** How a caller names settings and reports the first problem (a config key or an argument path). */
export interface SettingsReporter {
    /** The name the user knows a setting by: `elk-stack:kibanaPort` in config, `settings.ports.kibana` in code. */
    readonly name: (key: SettingKey) => string;
    /** Stops with the problem and its fix. */
    readonly fail: (key: SettingKey, problem: string, fix: string) => never;
}

/** A config key, or an entry of a list key (`extraCertificateNames[1]`). */
export type SettingKey = ConfigKey | `extraCertificateNames[${number}]`;

/** Where each config key lives in `ElkStackArgs` (the argument path a problem names in code). */
export const ARGUMENT_OF: Readonly<Record<ConfigKey, string>> = {
    target: "settings.target",
    elasticVersion: "settings.elasticVersion",
    clusterName: "settings.clusterName",
    elasticsearchName: "settings.names.elasticsearch",
    kibanaName: "settings.names.kibana",
    logstashName: "settings.names.logstash",
    extraCertificateNames: "settings.names.extra",
    logSources: "settings.logSources",
    logstashPublicHost: "settings.logstashPublicHost",
    logRetentionDays: "settings.logRetentionDays",
    snapshotSchedule: "settings.snapshots.schedule",
    snapshotRetentionDays: "settings.snapshots.retentionDays",
    snapshotStorageClass: "settings.snapshots.storageClass",
    snapshotStorageGb: "settings.snapshots.storageGb",
    snapshotRepositoryType: "settings.snapshots.objectStore.type",
    snapshotBucket: "settings.snapshots.objectStore.bucket",
    snapshotBasePath: "settings.snapshots.objectStore.basePath",
    snapshotEndpoint: "settings.snapshots.objectStore.endpoint",
    snapshotS3AccessKey: "snapshotCredentials",
    snapshotS3SecretKey: "snapshotCredentials",
    snapshotGcsCredentials: "snapshotCredentials",
    snapshotAzureAccount: "snapshotCredentials",
    snapshotAzureKey: "snapshotCredentials",
    bindAddress: "settings.bindAddress",
    elasticsearchBindAddress: "settings.bindAddresses.elasticsearch",
    kibanaBindAddress: "settings.bindAddresses.kibana",
    logstashBindAddress: "settings.bindAddresses.logstash",
    elasticsearchPort: "settings.ports.elasticsearch",
    kibanaPort: "settings.ports.kibana",
    nginxSyslogPort: "settings.ports.nginxSyslog",
    elasticsearchHeapMb: "settings.elasticsearch.heapMb",
    elasticsearchMemoryMb: "settings.elasticsearch.memoryMb",
    kibanaHeapMb: "settings.kibana.heapMb",
    kibanaMemoryMb: "settings.kibana.memoryMb",
    logstashHeapMb: "settings.logstash.heapMb",
    logstashMemoryMb: "settings.logstash.memoryMb",
    elasticsearchNodeCount: "settings.elasticsearch.replicas",
    logstashReplicas: "settings.logstash.replicas",
    elasticsearchCpuMillis: "settings.elasticsearch.cpu.requestMillis",
    elasticsearchCpuLimitMillis: "settings.elasticsearch.cpu.limitMillis",
    kibanaCpuMillis: "settings.kibana.cpu.requestMillis",
    kibanaCpuLimitMillis: "settings.kibana.cpu.limitMillis",
    logstashCpuMillis: "settings.logstash.cpu.requestMillis",
    logstashCpuLimitMillis: "settings.logstash.cpu.limitMillis",
    elasticsearchStorageGb: "settings.elasticsearch.storageGb",
    logstashStorageGb: "settings.logstash.storageGb",
    storageClass: "settings.kubernetes.storageClass",
    kubernetesNamespace: "settings.kubernetes.namespace",
    createNamespace: "settings.kubernetes.createNamespace",
    kubernetesEngine: "settings.kubernetes.engine",
    eckOperator: "settings.kubernetes.eck.operator",
    eckOperatorNamespace: "settings.kubernetes.eck.operatorNamespace",
    elasticsearchNodeSets: "settings.kubernetes.eck.nodeSets",
    elasticsearchZones: "settings.kubernetes.eck.zones",
    kubeconfig: "settings.kubernetes.kubeconfig",
    kubeContext: "settings.kubernetes.context",
    kubernetesClusterId: "settings.kubernetes.clusterId",
    kubernetesRenderDir: "settings.kubernetes.renderDir",
    kibanaServiceType: "settings.kubernetes.kibanaServiceType",
    logstashServiceType: "settings.kubernetes.logstashServiceType",
    kibanaIngressHost: "settings.kubernetes.kibanaIngress.host",
    ingressClassName: "settings.kubernetes.kibanaIngress.className",
    antiAffinity: "settings.kubernetes.antiAffinity",
    setMaxMapCount: "settings.setMaxMapCount",
    protectData: "settings.protectData",
    environment: "settings.environment",
    certValidityDays: "settings.certValidityDays",
    certRenewBeforeDays: "settings.certRenewBeforeDays",
    elasticPassword: "passwords.elastic",
    kibanaSystemPassword: "passwords.kibanaSystem",
    logstashWriterPassword: "passwords.logstashWriter",
};

/** The argument path of a setting key (`settings.names.extra[1]` for `extraCertificateNames[1]`). */
export function argumentOf(key: SettingKey): string {
    const entry = /^extraCertificateNames\[(\d+)\]$/.exec(key);
    return entry ? `${ARGUMENT_OF.extraCertificateNames}[${entry[1]}]` : ARGUMENT_OF[key as ConfigKey];
}

/** Inclusive range of each whole-number key: the parser reads them with it, and code is held to it too. */
export const INTEGER_RANGES = {
    logRetentionDays: [1, 3650],
    snapshotRetentionDays: [1, 3650],
    snapshotStorageGb: [1, 65536],
    elasticsearchPort: [1, 65535],
    kibanaPort: [1, 65535],
    nginxSyslogPort: [1, 65535],
    elasticsearchHeapMb: [128, 65536],
    elasticsearchMemoryMb: [256, 262144],
    kibanaHeapMb: [128, 65536],
    kibanaMemoryMb: [256, 262144],
    logstashHeapMb: [128, 65536],
    logstashMemoryMb: [256, 262144],
    elasticsearchNodeCount: [1, 99],
    logstashReplicas: [1, 99],
    elasticsearchCpuMillis: [10, 256000],
    elasticsearchCpuLimitMillis: [10, 256000],
    kibanaCpuMillis: [10, 256000],
    kibanaCpuLimitMillis: [10, 256000],
    logstashCpuMillis: [10, 256000],
    logstashCpuLimitMillis: [10, 256000],
    elasticsearchStorageGb: [1, 65536],
    logstashStorageGb: [1, 65536],
    certValidityDays: [2, 3650],
    certRenewBeforeDays: [1, 3649],
} as const satisfies Partial<Record<ConfigKey, readonly [number, number]>>;

/** A whole-number key. */
export type IntegerKey = keyof typeof INTEGER_RANGES;

/** A DNS label as Kubernetes and Docker names need it: lowercase letters, digits and '-', starting with a letter. */
export const DNS_LABEL = /^[a-z][a-z0-9-]{0,61}[a-z0-9]$/;
const DNS_NAME = /^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const VERSION = /^(\d+)\.(\d+)\.(\d+)$/;
/** Characters that end a line or a C string: none may be in a value written into a script or a config file. */
const LINE_BREAKING = /[\r\n\0]/;

/** Default Elastic release: the current 9.x line. 8.17+ keeps working (see {@link MIN_SUPPORTED_8X}). */
export const DEFAULT_ELASTIC_VERSION = "9.4.1";
/** Oldest 8.x release whose settings (standardised `ssl_*` plugin options, `api.http.*`) we rely on. */
export const MIN_SUPPORTED_8X = "8.17.0";
/** Largest Elasticsearch heap, MiB (31 GiB): above about 32 GiB the JVM cannot use compressed object pointers. */
export const MAX_ELASTICSEARCH_HEAP_MB = 31 * 1024;
/** Shortest password we accept for the built-in and Logstash users. */
export const MIN_PASSWORD_LENGTH = 16;

/**
 * Longest Kubernetes object name of an instance that runs as a StatefulSet (Elasticsearch, Logstash). Its pods
 * carry the label `controller-revision-hash: <name>-<hash>` (ControllerRevisionName in kubernetes
 * pkg/controller/history/controller_history.go: the hash is a SafeEncodeString of a 32-bit FNV hash, up to 10
 * characters), and a label value has at most 63 characters.
 */
export const MAX_STATEFULSET_NAME = 63 - 1 - 10;
/** Suffix of the headless Service of an instance (see kubernetesManifests.ts `headlessName`). */
export const HEADLESS_SUFFIX = "-headless";

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

/** True for an IPv4 or IPv6 address (Node's own parser: `999.1.1.1` and `abc` are not). */
export function isIp(s: string): boolean {
    return net.isIP(s) !== 0;
}

/** The address in its shortest form (`::1` for `0:0:0:0:0:0:0:1`), for comparisons; undefined when not an address. */
function canonicalIp(s: string): string | undefined {
    if (net.isIPv4(s)) return s;
    if (!net.isIPv6(s)) return undefined;
    return new URL(`http://[${s}]/`).hostname.slice(1, -1);
}

/** What is wrong with a password, or undefined; the same rule for config and code. */
export function passwordProblem(value: string): { problem: string; fix: string; tooShort?: boolean } | undefined {
    if (/[^\x20-\x7e]/.test(value)) {
        const breaking = LINE_BREAKING.test(value) ? " (CR, LF or NUL: it is written into scripts and keystores)" : "";
        return { problem: `the password has control or non-ASCII characters${breaking}`, fix: "use printable ASCII characters only" };
    }
    if (value.includes("@@")) return { problem: "the password contains '@@', which the bootstrap script uses to mark placeholders", fix: "choose a password without '@@'" };
    if (value.length < MIN_PASSWORD_LENGTH) {
        return { problem: `the password is too short (${value.length} characters)`, fix: `use at least ${MIN_PASSWORD_LENGTH} characters, or leave it out to have one generated`, tooShort: true };
    }
    return undefined;
}

/** Naming arguments of a stack checked with its settings (see `ElkStackArgs.namePrefix`). */
export interface NamingArgs {
    /** Prefix of physical names; undefined when the stack uses the default. */
    readonly namePrefix?: string;
}

/**
 * Checks every rule on `s` and reports the first problem through `r`. Run by the config parser after reading and by
 * the `ElkStack` constructor; a rule added here holds for both.
 */
export function validateSettings(s: StackConfig, r: SettingsReporter, naming: NamingArgs = {}): void {
    const { fail } = r;
    if (s.target !== "docker" && s.target !== "kubernetes") fail("target", `unknown target '${String(s.target)}'`, "set 'docker' or 'kubernetes'");
    const docker = s.target === "docker";

    const version = parseVersion(s.elasticVersion);
    if (!version) {
        fail("elasticVersion", `'${s.elasticVersion}' is not an exact release`, `pin a full version such as ${DEFAULT_ELASTIC_VERSION}`);
    } else if (version[0] < 8 || version[0] > 9 || compareVersions(s.elasticVersion, MIN_SUPPORTED_8X) < 0) {
        fail("elasticVersion", `${s.elasticVersion} is not supported`, `use a 9.x release (default ${DEFAULT_ELASTIC_VERSION}) or 8.x from ${MIN_SUPPORTED_8X}`);
    }

    if (!DNS_LABEL.test(s.clusterName)) fail("clusterName", `'${s.clusterName}' is malformed`, "use 2-63 lowercase letters, digits and '-', starting with a letter");

    const seen = new Map<string, SettingKey>();
    const names: [SettingKey, string][] = [
        ["elasticsearchName", s.names.elasticsearch],
        ["kibanaName", s.names.kibana],
        ["logstashName", s.names.logstash],
        ...s.names.extra.map((n, i): [SettingKey, string] => [`extraCertificateNames[${i}]`, n]),
    ];
    for (const [key, name] of names) {
        if (!DNS_LABEL.test(name)) fail(key, `instance name '${name}' is malformed`, "use 2-63 lowercase letters, digits and '-', starting with a letter (a DNS label)");
        // Every client of an instance dials it by this name: as 'localhost' they would dial themselves.
        if (name === "localhost") fail(key, "'localhost' cannot name an instance: Kibana, the bootstrap and Logstash would dial themselves", "choose another name, e.g. es01");
        const other = seen.get(name);
        if (other) fail(key, `instance name '${name}' is already used by ${r.name(other)}`, "give every instance its own name");
        seen.set(name, key);
    }

    const integer = (key: IntegerKey, value: number): number => {
        const [min, max] = INTEGER_RANGES[key];
        if (!Number.isInteger(value)) fail(key, `${String(value)} is not a whole number`, `set a whole number from ${min} to ${max}`);
        if (value < min || value > max) fail(key, `${value} is out of range`, `choose a value from ${min} to ${max}`);
        return value;
    };

    if (!isIp(s.bindAddress)) fail("bindAddress", `'${s.bindAddress}' is not an IP address`, "use 127.0.0.1 (this machine only) or 0.0.0.0 (all interfaces)");
    for (const [key, address] of [["elasticsearchBindAddress", s.bindAddresses.elasticsearch], ["kibanaBindAddress", s.bindAddresses.kibana], ["logstashBindAddress", s.bindAddresses.logstash]] as const) {
        if (!isIp(address)) fail(key, `'${address}' is not an IP address`, "use 127.0.0.1 (this machine only) or 0.0.0.0 (all interfaces)");
    }

    const ports = new Map<number, ConfigKey>();
    for (const [key, port] of [["elasticsearchPort", s.ports.elasticsearch], ["kibanaPort", s.ports.kibana], ["nginxSyslogPort", s.ports.nginxSyslog]] as const) {
        integer(key, port);
        const other = ports.get(port);
        if (other) fail(key, `port ${port} is already taken by ${r.name(other)}`, "give each published port its own number");
        ports.set(port, key);
    }
    if (docker) {
        // Docker publishes each Django port on the host under the same number.
        for (const source of s.logSources.filter((x) => x.kind === "django")) {
            const other = ports.get(source.port);
            if (other) fail("logSources", `Django source ${source.name} wants port ${source.port}, already taken by ${r.name(other)}`, `give ${source.name} another port ('django:${source.name}:<port>')`);
        }
    }

    const publicHost = s.logstashPublicHost;
    if (publicHost !== undefined) {
        const ip = canonicalIp(publicHost);
        if (ip === undefined && !DNS_NAME.test(publicHost)) {
            fail("logstashPublicHost", `'${publicHost}' is neither a DNS name nor an IP address`, "set the name or address applications dial, e.g. logs.example.com");
        }
        // 0.0.0.0 and :: mean "every interface" to a listener; nothing can dial them.
        if (ip === "0.0.0.0" || ip === "::") fail("logstashPublicHost", `'${publicHost}' is the unspecified address, which applications cannot dial`, "set the address or name applications dial, e.g. 127.0.0.1 on this machine or logs.example.com");
        // Docker publishes on bindAddress, IPv4 unless told otherwise: ::1 would find nothing listening.
        if (ip === "::1" && canonicalIp(s.bindAddresses.logstash) !== "::1" && canonicalIp(s.bindAddresses.logstash) !== "::") {
            fail("logstashPublicHost", `'${publicHost}' is IPv6 loopback, where Logstash's ports are not published (its bind address is ${s.bindAddresses.logstash})`, "set 127.0.0.1 (or localhost), or bind the ports to ::1");
        }
    }

    const k = s.kubernetes;
    if (!DNS_LABEL.test(k.namespace)) fail("kubernetesNamespace", `'${k.namespace}' is not a valid namespace name`, "use 2-63 lowercase letters, digits and '-', starting with a letter");
    if ((k.namespace === "default" || k.namespace.startsWith("kube-")) && k.createNamespace !== false) {
        fail(
            "kubernetesNamespace",
            `'${k.namespace}' belongs to the cluster: the stack would label it (Pod Security) and own it in its state`,
            `use a namespace of the stack's own (e.g. elk), or set ${r.name("createNamespace")} to false to put the stack in a namespace it does not create`,
        );
    }
    if (k.kibanaIngress && !/^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$/.test(k.kibanaIngress.host)) {
        fail("kibanaIngressHost", `'${k.kibanaIngress.host}' is not a DNS name`, "set a fully qualified host name such as kibana.example.com");
    }
    const singleLine: [ConfigKey, string | undefined][] = [
        ["storageClass", k.storageClass],
        ["snapshotStorageClass", s.snapshots.storageClass],
        ["ingressClassName", k.kibanaIngress?.className],
        ["kubeContext", k.context],
        ["kubernetesClusterId", k.clusterId],
        ["kubernetesRenderDir", k.renderDir],
    ];
    for (const [key, value] of singleLine) {
        if (value !== undefined && LINE_BREAKING.test(value)) fail(key, "the value contains CR, LF or NUL", "set it on one line, without control characters");
    }
    if (k.clusterId !== undefined && k.clusterId.trim() === "") fail("kubernetesClusterId", "it is empty", "name the cluster the stack runs on, e.g. prod-eu-1 (unset, it is 'default')");
    if (!docker) {
        // Kubernetes names derived from an instance's: its StatefulSet's pod label, its headless Service.
        const prefix = naming.namePrefix ? `${naming.namePrefix}-` : "";
        for (const [key, instance, statefulSet] of [
            ["elasticsearchName", s.names.elasticsearch, true],
            ["kibanaName", s.names.kibana, false],
            ["logstashName", s.names.logstash, true],
        ] as const) {
            const objectName = prefix + instance;
            const limit = statefulSet ? MAX_STATEFULSET_NAME : 63 - HEADLESS_SUFFIX.length;
            if (objectName.length > limit) {
                const why = statefulSet
                    ? `its StatefulSet's pods get the label controller-revision-hash '${objectName}-<hash of up to 10 characters>', longer than a label's 63 characters`
                    : `its headless Service name '${objectName}${HEADLESS_SUFFIX}' is longer than a DNS label's 63 characters`;
                fail(key, `the Kubernetes name '${objectName}' has ${objectName.length} characters: ${why}`, `shorten it (and the name prefix) to at most ${limit} characters together`);
            }
        }
        if (k.engine === "eck") {
            // Names ECK's webhook refuses: the first `pulumi up` would fail after a clean preview.
            const keyOf = { elasticsearch: "clusterName", kibana: "kibanaName", logstash: "logstashName", nodeSet: "elasticsearchNodeSets" } as const;
            for (const p of eckNameProblems({ clusterName: s.clusterName, instances: s.names, prefix: naming.namePrefix }, k.eck.nodeSets)) {
                fail(keyOf[p.what], p.problem, p.what === "nodeSet" ? `shorten the node set's name, clusterName or the name prefix (at most ${p.limit} characters together with '-es-')` : `shorten it (with the name prefix and '-') to at most ${p.limit} characters`);
            }
        }
    }

    const nodeCount = integer("elasticsearchNodeCount", s.elasticsearch.replicas);
    if (nodeCount === 2) fail("elasticsearchNodeCount", "2 nodes cannot elect a master when one is lost", "use 1, or 3 and more");
    const logstashReplicas = integer("logstashReplicas", s.logstash.replicas);
    if (docker && nodeCount > 1) fail("elasticsearchNodeCount", `${nodeCount} nodes need target kubernetes`, "set 1 for Docker, or set target to kubernetes");
    if (docker && k.kibanaIngress !== undefined) fail("kibanaIngressHost", "an Ingress needs target kubernetes", "remove the key, or set target to kubernetes");
    if (docker && logstashReplicas > 1) fail("logstashReplicas", `${logstashReplicas} replicas need target kubernetes`, "set 1 for Docker, or set target to kubernetes");
    integer("elasticsearchStorageGb", s.elasticsearch.storageGb);
    integer("logstashStorageGb", s.logstash.storageGb);

    for (const service of ["elasticsearch", "kibana", "logstash"] as const) {
        const m = s[service];
        const heapKey = `${service}HeapMb` as const;
        const memKey = `${service}MemoryMb` as const;
        const cpuKey = `${service}CpuMillis` as const;
        const cpuLimitKey = `${service}CpuLimitMillis` as const;
        integer(cpuKey, m.cpu.requestMillis);
        integer(cpuLimitKey, m.cpu.limitMillis);
        if (m.cpu.limitMillis < m.cpu.requestMillis) {
            fail(cpuLimitKey, `limit ${m.cpu.limitMillis}m is below the request ${m.cpu.requestMillis}m (${r.name(cpuKey)})`, `raise it to at least ${m.cpu.requestMillis}`);
        }
        const memoryMb = integer(memKey, m.memoryMb);
        // Kibana's heap may be left unset: Node.js then sizes it from the container's memory limit.
        if (m.heapMb === undefined) continue;
        const heapMb = integer(heapKey, m.heapMb);
        if (heapMb > memoryMb) {
            fail(heapKey, `heap ${heapMb} MiB is larger than the memory limit ${memoryMb} MiB (${r.name(memKey)})`, `lower ${heapKey} to at most half of ${memKey}, or raise ${memKey}`);
        }
        if (service === "elasticsearch") {
            // Elasticsearch adds direct memory of up to half the heap and relies on the file-system cache for the
            // rest: Elastic's rule is a heap of at most 50% of the memory, and below the compressed-oops threshold.
            if (heapMb * 2 > memoryMb) {
                fail(heapKey, `heap ${heapMb} MiB is more than half of the ${memoryMb} MiB limit (${r.name(memKey)}); Elasticsearch's direct memory and file cache need the other half`, `keep ${heapKey} at most 50% of ${memKey}: lower it to ${Math.floor(memoryMb / 2)} or raise ${memKey} to ${heapMb * 2}`);
            }
            if (heapMb > MAX_ELASTICSEARCH_HEAP_MB) {
                fail(heapKey, `heap ${heapMb} MiB is above 31 GiB, where the JVM loses compressed object pointers`, `keep ${heapKey} at most ${MAX_ELASTICSEARCH_HEAP_MB}; for more memory, add nodes`);
            }
        } else if (heapMb * 4 > memoryMb * 3) {
            fail(heapKey, `heap ${heapMb} MiB leaves too little of the ${memoryMb} MiB limit (${r.name(memKey)}) for off-heap memory`, `keep ${heapKey} at most 75% of ${memKey}`);
        }
    }

    const validity = integer("certValidityDays", s.certValidityDays);
    const renewBefore = integer("certRenewBeforeDays", s.certRenewBeforeDays);
    if (renewBefore >= validity) fail("certRenewBeforeDays", `${renewBefore} days is not shorter than ${r.name("certValidityDays")} (${validity})`, "renew some days before the certificates expire, e.g. 30");

    if (!/^[a-z0-9_]{1,64}$/.test(s.environment)) fail("environment", `'${s.environment}' cannot be a data stream namespace`, "use 1-64 lowercase letters, digits or '_' (no '-')");
    integer("logRetentionDays", s.logRetentionDays);
    integer("snapshotRetentionDays", s.snapshots.retentionDays);
    integer("snapshotStorageGb", s.snapshots.storageGb);
    if (s.snapshots.schedule !== "off" && !s.snapshots.repository) {
        fail("snapshotSchedule", `a ${s.snapshots.schedule} schedule needs a snapshot repository, and on Kubernetes that needs ${r.name("snapshotStorageClass")}`, "set snapshotStorageClass to a storage class that offers ReadWriteMany, set snapshotRepositoryType to s3, gcs or azure, or set snapshotSchedule to off");
    }
}
