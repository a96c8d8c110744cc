/**
 * The one set of rules for a stack's settings, whichever way they arrive: `parseStackConfig` runs them on what
 * it read from the stack config (and names the config key, `elk-stack:kibanaPort`), and the `ElkStack` constructor
 * runs them on the arguments a program passed (and names the argument, `settings.ports.kibana`). Pure and free of
 * the Pulumi SDK, like config.ts.
 */
import * as net from "net";
import type { ConfigKey } from "./configSchema";
import type { StackConfig } from "./settings";
import { logSourcesProblem } from "./sources";
import { eckNameProblems } from "./eckNaming";
import { DEFAULT_ELASTIC_VERSION, MIN_SUPPORTED_8X, compareVersions, parseVersion } from "./versions";

export { DEFAULT_ELASTIC_VERSION, MIN_SUPPORTED_8X, compareVersions, parseVersion } from "./versions";

/** How a caller names settings and reports the first problem (a config key or an argument path). */
export interface SettingsReporter {
    /** The name the user knows a setting by: `elk-stack:kibanaPort` in config, `settings.ports.kibana` in code. */
    readonly name: (key: SettingKey) => string;
    /** Stops with the problem and its fix. */
    readonly fail: (key: SettingKey, problem: string, fix: string) => never;
}

/** A config key, or an entry of a list key (`extraCertificateNames[1]`, `elasticsearchZones[0]`). */
export type SettingKey = ConfigKey | `extraCertificateNames[${number}]` | `elasticsearchZones[${number}]`;

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
    logstashQueueCheckpointWrites: "settings.logstashQueueCheckpointWrites",
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
    const entry = /^(extraCertificateNames|elasticsearchZones)\[(\d+)\]$/.exec(key);
    return entry ? `${ARGUMENT_OF[entry[1] as ConfigKey]}[${entry[2]}]` : ARGUMENT_OF[key as ConfigKey];
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
    logstashQueueCheckpointWrites: [0, 1048576],
    certValidityDays: [2, 3650],
    certRenewBeforeDays: [1, 3649],
} as const satisfies Partial<Record<ConfigKey, readonly [number, number]>>;

/** A whole-number key. */
export type IntegerKey = keyof typeof INTEGER_RANGES;

/** A DNS label as Kubernetes and Docker names need it: lowercase letters, digits and '-', starting with a letter. */
export const DNS_LABEL = /^[a-z][a-z0-9-]{0,61}[a-z0-9]$/;
const DNS_NAME = /^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
/**
 * A DNS-1123 subdomain, the form Kubernetes requires of a StorageClass's and an IngressClass's name and of the
 * `storageClassName` and `ingressClassName` that refer to them (IsDNS1123Subdomain in kubernetes
 * staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go; a claim's storageClassName goes through
 * ValidateClassName in pkg/apis/core/validation/validation.go, an Ingress's ingressClassName through
 * ValidateIngressClassName in pkg/apis/networking/validation/validation.go): lowercase letters, digits, '-' and '.',
 * at most 253 characters.
 */
export const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Characters that end a line or a C string: none may be in a value written into a script or a config file. */
const LINE_BREAKING = /[\r\n\0]/;

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

/** True for an IPv4 or IPv6 address (Node's own parser: `999.1.1.1` and `abc` are not). */
export function isIp(s: string): boolean {
    return net.isIP(s) !== 0;
}

/**
 * The address in its shortest form (`::1` for `0:0:0:0:0:0:0:1`), for comparisons; undefined when not an address
 * or when it has an IPv6 zone (`fe80::1%eth0`), which Node takes and a URL cannot carry.
 */
export function canonicalIp(s: string): string | undefined {
    if (net.isIPv4(s)) return s;
    if (!net.isIPv6(s) || s.includes("%")) return undefined;
    return new URL(`http://[${s}]/`).hostname.slice(1, -1);
}

/**
 * Whether two host addresses share a listening socket's address space: equal, or one of them the unspecified
 * address of the other's family (0.0.0.0 takes every IPv4 address of the host). `::` is taken to cover IPv4 too,
 * as a dual-stack socket does on Linux (IPV6_V6ONLY off, the kernel's default): the stricter reading.
 */
export function addressesOverlap(a: string, b: string): boolean {
    const ca = canonicalIp(a) ?? a;
    const cb = canonicalIp(b) ?? b;
    if (ca === cb || ca === "::" || cb === "::") return true;
    return net.isIPv4(ca) && net.isIPv4(cb) && (ca === "0.0.0.0" || cb === "0.0.0.0");
}

/**
 * What keeps `name` from being a host name clients can resolve, or undefined: DNS syntax (RFC 1123 2.1: labels of
 * letters, digits and '-', at most 63 characters each and 253 in all) and a last label that is not all digits
 * (RFC 1123 2.1 and RFC 3696 2: a name whose top-level label is numeric would be read as an address; `1.2.3` and
 * `999.999.999.999` are neither a name nor an address).
 */
export function hostNameProblem(name: string): string | undefined {
    if (!DNS_NAME.test(name)) return "it is neither a DNS name nor an IP address";
    if (name.length > 253) return `it has ${name.length} characters, more than a DNS name's 253`;
    const labels = name.split(".");
    const long = labels.find((l) => l.length > 63);
    if (long !== undefined) return `its label '${long}' has ${long.length} characters, more than a DNS label's 63`;
    if (/^\d+$/.test(labels[labels.length - 1])) {
        return "it is not an IP address (an IPv4 address is four numbers from 0 to 255), and a host name's last label cannot be all digits";
    }
    return undefined;
}

/**
 * What Kibana's keystore would do to `value` other than store it as it is, or undefined. `kibana-keystore add`
 * trims the value it reads, then stores the result of `JSON.parse` when the trimmed text parses (elastic/kibana
 * src/cli_keystore/add.js: `value.trim()`, then `parsedJsonValue ?? parsedValue`): surrounding spaces are lost, an
 * all-digit password becomes a number and `"x"` loses its quotes (Kibana then logs in with another password, or
 * refuses a number or an object for `elasticsearch.password`). Refused here as keystore-start.sh refuses it in the
 * container, with the same rule, a little stricter than the tool: any value that starts with `"`, `[` or `{` (valid
 * JSON or not), is `true`, `false` or `null`, or reads as a JSON number. tests/shellScripts.test.ts runs both on the
 * same values against a model of add.js. Read in the newest add.js the code index holds (Elastic License 2.0 / SSPL
 * header); the repository at 9.4.1 was too large to fetch, so that exact version was not read.
 */
export function kibanaKeystoreProblem(value: string): string | undefined {
    if (/^\s|\s$/.test(value)) return "kibana-keystore trims the value it stores, so a password with spaces at either end would lose them";
    if (/^["[{]/.test(value) || /^(true|false|null)$/.test(value) || /^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$/.test(value)) {
        return "kibana-keystore stores a value that parses as JSON as the parsed value (a number, a string without its quotes, an object), not as the password";
    }
    return undefined;
}

/** Where a password goes besides Elasticsearch: `kibana` for kibana_system's, which Kibana's keystore holds. */
export type PasswordUse = "elasticsearch" | "kibana";

/** What is wrong with a password, or undefined; the same rule for config and code. */
export function passwordProblem(value: string, use: PasswordUse = "elasticsearch"): { problem: string; fix: string; tooShort?: boolean } | undefined {
    if (/[^\x20-\x7e]/.test(value)) {
        const breaking = LINE_BREAKING.test(value) ? " (CR, LF or NUL: it is written into scripts and keystores)" : "";
        return { problem: `the password has control or non-ASCII characters${breaking}`, fix: "use printable ASCII characters only" };
    }
    if (value.includes("@@")) return { problem: "the password contains '@@', which the bootstrap script uses to mark placeholders", fix: "choose a password without '@@'" };
    if (value.length < MIN_PASSWORD_LENGTH) {
        return { problem: `the password is too short (${value.length} characters)`, fix: `use at least ${MIN_PASSWORD_LENGTH} characters, or leave it out to have one generated`, tooShort: true };
    }
    const kibana = use === "kibana" ? kibanaKeystoreProblem(value) : undefined;
    if (kibana) return { problem: kibana, fix: "choose a password without spaces at either end that is not a JSON value (not all digits, not starting with \", [ or {), or leave it out to have one generated" };
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
    for (const rule of SETTINGS_RULES) rule.check(s, r, naming);
}

/** One rule of {@link validateSettings}: what it is about, and the check that reports its first problem. */
interface SettingsRule {
    /** What the rule checks, in a few words. */
    readonly name: string;
    /** Reports the first problem through the reporter (whose `fail` does not return). */
    readonly check: (s: StackConfig, r: SettingsReporter, naming: NamingArgs) => void;
}

/**
 * The rules, in the order they run: the first problem is the one reported, so the order decides which of several
 * wrong keys a user hears about first. Add a rule where its keys' neighbours are checked.
 */
const SETTINGS_RULES: readonly SettingsRule[] = [
    { name: "target", check: checkTarget },
    { name: "Elastic version", check: checkElasticVersion },
    { name: "cluster name", check: checkClusterName },
    { name: "instance names", check: checkInstanceNames },
    { name: "bind addresses", check: checkBindAddresses },
    { name: "published ports and log sources", check: checkPortsAndSources },
    { name: "Logstash public host", check: checkLogstashPublicHost },
    { name: "Kubernetes namespace", check: checkNamespace },
    { name: "Kibana Ingress host", check: checkIngressHost },
    { name: "storage and Ingress class names", check: checkClassNames },
    { name: "Kubernetes context, cluster id and render folder", check: checkClusterAccess },
    { name: "ECK zones", check: checkZones },
    { name: "Kubernetes and ECK object names", check: checkKubernetesNames },
    { name: "replicas and storage", check: checkReplicasAndStorage },
    { name: "CPU, memory and heap", check: checkResources },
    { name: "certificate lifetimes", check: checkCertificates },
    { name: "environment", check: checkEnvironment },
    { name: "retention and snapshots", check: checkRetentionAndSnapshots },
];

/** A whole-number setting within its {@link INTEGER_RANGES} range: code may pass any number, config only integers. */
function integer({ fail }: SettingsReporter, key: IntegerKey, value: number): number {
    const [min, max] = INTEGER_RANGES[key];
    if (!Number.isInteger(value)) fail(key, `${String(value)} is not a whole number`, `set a whole number from ${min} to ${max}`);
    if (value < min || value > max) fail(key, `${value} is out of range`, `choose a value from ${min} to ${max}`);
    return value;
}

/** The target: code can pass any string, and every platform decision below reads it. */
function checkTarget(s: StackConfig, { fail }: SettingsReporter): void {
    if (s.target !== "docker" && s.target !== "kubernetes") fail("target", `unknown target '${String(s.target)}'`, "set 'docker' or 'kubernetes'");
}

/** The Elastic release: an exact, supported version that Elastic publishes images under (no leading zeros). */
function checkElasticVersion(s: StackConfig, { fail }: SettingsReporter): void {
    const version = parseVersion(s.elasticVersion);
    if (!version && /^\d+\.\d+\.\d+$/.test(s.elasticVersion)) {
        const tag = s.elasticVersion.split(".").map((n) => String(Number(n))).join(".");
        fail("elasticVersion", `'${s.elasticVersion}' has a leading zero: Elastic tags its images ${tag}, and there is no image ${s.elasticVersion} to pull`, `write it without leading zeros: ${tag}`);
    } else if (!version) {
        fail("elasticVersion", `'${s.elasticVersion}' is not an exact release`, `pin a full version such as ${DEFAULT_ELASTIC_VERSION}`);
    } else if (version[0] < 8 || version[0] > 9 || compareVersions(s.elasticVersion, MIN_SUPPORTED_8X) < 0) {
        fail("elasticVersion", `${s.elasticVersion} is not supported`, `use a 9.x release (default ${DEFAULT_ELASTIC_VERSION}) or 8.x from ${MIN_SUPPORTED_8X}`);
    }
}

/** The cluster name: a DNS label, as it names Docker and Kubernetes objects. */
function checkClusterName(s: StackConfig, { fail }: SettingsReporter): void {
    if (!DNS_LABEL.test(s.clusterName)) fail("clusterName", `'${s.clusterName}' is malformed`, "use 2-63 lowercase letters, digits and '-', starting with a letter");
}

/** Instance and extra certificate names: host and certificate names, so DNS labels, unique, and not localhost. */
function checkInstanceNames(s: StackConfig, r: SettingsReporter): void {
    const { fail } = r;
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
}

/**
 * What is wrong with a bind address, as problem and fix, or undefined. Where a bind address ends up: Docker's port
 * bindings (components/targets/docker.ts), the URLs and endpoints of DockerPlatform.endpoint, and the certificates'
 * IP addresses (extraIps in components/resources/elkStack.ts).
 */
function bindAddressProblem(address: string): [string, string] | undefined {
    const ip = canonicalIp(address);
    if (ip === undefined && isIp(address)) return [`'${address}' has an IPv6 zone, which Docker's port bindings, URLs and certificates cannot carry`, "use an address without '%<zone>'"];
    if (ip === undefined) return [`'${address}' is not an IP address`, "use 127.0.0.1 (this machine only) or 0.0.0.0 (all interfaces)"];
    if (ip === "::") {
        return [
            `'${address}' is the IPv6 unspecified address: the stack's URLs and Logstash endpoints would be https://[::]:<port>, an address no client dials and no certificate names`,
            "use 0.0.0.0 (every IPv4 interface), 127.0.0.1 or ::1 (this machine only), or one of the host's own addresses",
        ];
    }
    return undefined;
}

/** The bind addresses, the stack's and each service's: addresses that ports, URLs and certificates can carry. */
function checkBindAddresses(s: StackConfig, { fail }: SettingsReporter): void {
    for (const [key, address] of [["bindAddress", s.bindAddress], ["elasticsearchBindAddress", s.bindAddresses.elasticsearch], ["kibanaBindAddress", s.bindAddresses.kibana], ["logstashBindAddress", s.bindAddresses.logstash]] as const) {
        const problem = bindAddressProblem(address);
        if (problem) fail(key, ...problem);
    }
}

/** A port the stack publishes on the host, with the key that asks for it. */
interface PublishedPort {
    readonly key: ConfigKey;
    /** What wants the port, when not the key itself (a Django source). */
    readonly what?: string;
    readonly protocol: "tcp" | "udp";
    readonly address: string;
    readonly port: number;
}

/**
 * The published ports and the log sources: each port in range and none taken twice, and the sources as
 * parseLogSources would build them (from code they skip it). Two published ports collide only on the same protocol
 * and overlapping addresses: Kibana's TCP 5140 and nginx's UDP 5140 do not. On Docker each Django source's port is
 * published too, so it joins the check once the sources are known to be sound.
 */
function checkPortsAndSources(s: StackConfig, r: SettingsReporter): void {
    const { fail } = r;
    const published: PublishedPort[] = [];
    const publish = (p: PublishedPort, fix: string): void => {
        const other = published.find((o) => o.port === p.port && o.protocol === p.protocol && addressesOverlap(o.address, p.address));
        if (other) {
            const where = other.address === p.address ? `on ${p.address}` : `on ${other.address} and ${p.address}`;
            fail(p.key, `${p.what ?? ""}port ${p.port} is already taken by ${r.name(other.key)}${other.what ? ` (${other.what.trim()})` : ""}, both ${p.protocol.toUpperCase()} ${where}`, fix);
        }
        published.push(p);
    };
    for (const [key, port, protocol, address] of [
        ["elasticsearchPort", s.ports.elasticsearch, "tcp", s.bindAddresses.elasticsearch],
        ["kibanaPort", s.ports.kibana, "tcp", s.bindAddresses.kibana],
        ["nginxSyslogPort", s.ports.nginxSyslog, "udp", s.bindAddresses.logstash],
    ] as const) {
        integer(r, key, port);
        publish({ key, protocol, address, port }, "give each published port its own number");
    }

    const sourcesProblem = logSourcesProblem(s.logSources);
    if (sourcesProblem) fail("logSources", sourcesProblem.problem, sourcesProblem.fix);
    if (s.target === "docker") {
        // Docker publishes each Django port on the host under the same number, on Logstash's address.
        for (const source of s.logSources.filter((x) => x.kind === "django")) {
            publish({ key: "logSources", what: `Django source ${source.name} wants `, protocol: "tcp", address: s.bindAddresses.logstash, port: source.port }, `give ${source.name} another port ('django:${source.name}:<port>')`);
        }
    }
}

/** Logstash's public host: a name or address applications can dial, and one its ports are published on. */
function checkLogstashPublicHost(s: StackConfig, { fail }: SettingsReporter): void {
    const publicHost = s.logstashPublicHost;
    if (publicHost === undefined) return;
    const ip = canonicalIp(publicHost);
    const nameProblem = ip === undefined ? hostNameProblem(publicHost) : undefined;
    if (nameProblem) fail("logstashPublicHost", `'${publicHost}': ${nameProblem}`, "set the name or address applications dial, e.g. logs.example.com or 192.0.2.10");
    // 0.0.0.0 and :: mean "every interface" to a listener; nothing can dial them.
    if (ip === "0.0.0.0" || ip === "::") fail("logstashPublicHost", `'${publicHost}' is the unspecified address, which applications cannot dial`, "set the address or name applications dial, e.g. 127.0.0.1 on this machine or logs.example.com");
    // Docker publishes on bindAddress, IPv4 unless told otherwise: ::1 would find nothing listening.
    if (ip === "::1" && canonicalIp(s.bindAddresses.logstash) !== "::1") {
        fail("logstashPublicHost", `'${publicHost}' is IPv6 loopback, where Logstash's ports are not published (its bind address is ${s.bindAddresses.logstash})`, "set 127.0.0.1 (or localhost), or bind the ports to ::1");
    }
}

/** The namespace: a valid name, and not one of the cluster's own unless the stack leaves it alone. */
function checkNamespace({ kubernetes: k }: StackConfig, r: SettingsReporter): void {
    const { fail } = r;
    if (!DNS_LABEL.test(k.namespace)) fail("kubernetesNamespace", `'${k.namespace}' is not a valid namespace name`, "use 2-63 lowercase letters, digits and '-', starting with a letter");
    if ((k.namespace === "default" || k.namespace.startsWith("kube-")) && k.createNamespace !== false) {
        fail(
            "kubernetesNamespace",
            `'${k.namespace}' belongs to the cluster: the stack would label it (Pod Security) and own it in its state`,
            `use a namespace of the stack's own (e.g. elk), or set ${r.name("createNamespace")} to false to put the stack in a namespace it does not create`,
        );
    }
}

/** Kibana's Ingress host: a fully qualified DNS name, as an Ingress rule and a certificate need one. */
function checkIngressHost({ kubernetes: k }: StackConfig, { fail }: SettingsReporter): void {
    if (!k.kibanaIngress) return;
    const host = k.kibanaIngress.host;
    const problem = hostNameProblem(host);
    if (problem || !/^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$/.test(host)) fail("kibanaIngressHost", `'${host}' is not a DNS name${problem ? `: ${problem}` : ""}`, "set a fully qualified host name such as kibana.example.com");
}

/** Storage and Ingress class names: names the API server takes, or it refuses every object that refers to them. */
function checkClassNames(s: StackConfig, { fail }: SettingsReporter): void {
    const k = s.kubernetes;
    for (const [key, value, kind] of [
        ["storageClass", k.storageClass, "StorageClass"],
        ["snapshotStorageClass", s.snapshots.storageClass, "StorageClass"],
        ["ingressClassName", k.kibanaIngress?.className, "IngressClass"],
    ] as const) {
        if (value !== undefined && (!DNS_1123_SUBDOMAIN.test(value) || value.length > 253)) {
            const shown = LINE_BREAKING.test(value) ? JSON.stringify(value) : `'${value}'`;
            fail(key, `${shown} is not the name of a ${kind}: Kubernetes refuses it as the object's name, and the API server refuses any object that refers to it`, "use the class's name as `kubectl get " + kind.toLowerCase() + "` shows it: at most 253 lowercase letters, digits, '-' and '.', starting and ending with a letter or digit");
        }
    }
}

/** The kubeconfig context, cluster id and render folder: one line each, and a cluster id that says something. */
function checkClusterAccess({ kubernetes: k }: StackConfig, { fail }: SettingsReporter): void {
    for (const [key, value] of [["kubeContext", k.context], ["kubernetesClusterId", k.clusterId], ["kubernetesRenderDir", k.renderDir]] as const) {
        if (value !== undefined && LINE_BREAKING.test(value)) fail(key, "the value contains CR, LF or NUL", "set it on one line, without control characters");
    }
    if (k.clusterId !== undefined && k.clusterId.trim() === "") fail("kubernetesClusterId", "it is empty", "name the cluster the stack runs on, e.g. prod-eu-1 (unset, it is 'default')");
}

/** The zones: label values (ECK puts them in node selectors), each listed once. */
function checkZones({ kubernetes: k }: StackConfig, { fail }: SettingsReporter): void {
    const zones = new Map<string, number>();
    k.eck.zones.forEach((zone, i) => {
        // A label value (IsValidLabelValue in apimachinery's util/validation): ECK puts it in node selectors.
        if (!/^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/.test(zone)) fail(`elasticsearchZones[${i}]`, `'${zone}' is not a label value`, "use the zone names your nodes carry in topology.kubernetes.io/zone");
        const first = zones.get(zone);
        if (first !== undefined) {
            // ECK declares the list a set (`+listType=set` on ZoneAwareness.Zones in elastic/cloud-on-k8s
            // pkg/apis/elasticsearch/v1/elasticsearch_types.go): the API server refuses a value in it twice.
            fail(`elasticsearchZones[${i}]`, `zone '${zone}' is listed twice (entries ${first} and ${i}); ECK's zoneAwareness.zones is a set, and the API server refuses the Elasticsearch resource`, "list each zone once");
        }
        zones.set(zone, i);
    });
}

/**
 * The Kubernetes names derived from an instance's (its StatefulSet's pod label, its headless Service) and, on
 * eck, the names ECK's webhook refuses: each would fail the first `pulumi up` after a clean preview.
 */
function checkKubernetesNames(s: StackConfig, { fail }: SettingsReporter, naming: NamingArgs): void {
    if (s.target === "docker") return;
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
    if (s.kubernetes.engine === "eck") {
        const keyOf = { elasticsearch: "clusterName", kibana: "kibanaName", logstash: "logstashName", nodeSet: "elasticsearchNodeSets" } as const;
        for (const p of eckNameProblems({ clusterName: s.clusterName, instances: s.names, prefix: naming.namePrefix }, s.kubernetes.eck.nodeSets)) {
            fail(keyOf[p.what], p.problem, p.what === "nodeSet" ? `shorten the node set's name, clusterName or the name prefix (at most ${p.limit} characters together with '-es-')` : `shorten it (with the name prefix and '-') to at most ${p.limit} characters`);
        }
    }
}

/** Replicas and storage: a node count that can elect a master, one of each service on Docker, sizes in range. */
function checkReplicasAndStorage(s: StackConfig, r: SettingsReporter): void {
    const { fail } = r;
    const docker = s.target === "docker";
    const nodeCount = integer(r, "elasticsearchNodeCount", s.elasticsearch.replicas);
    if (nodeCount === 2) fail("elasticsearchNodeCount", "2 nodes cannot elect a master when one is lost", "use 1, or 3 and more");
    const logstashReplicas = integer(r, "logstashReplicas", s.logstash.replicas);
    if (docker && nodeCount > 1) fail("elasticsearchNodeCount", `${nodeCount} nodes need target kubernetes`, "set 1 for Docker, or set target to kubernetes");
    if (docker && s.kubernetes.kibanaIngress !== undefined) fail("kibanaIngressHost", "an Ingress needs target kubernetes", "remove the key, or set target to kubernetes");
    if (docker && logstashReplicas > 1) fail("logstashReplicas", `${logstashReplicas} replicas need target kubernetes`, "set 1 for Docker, or set target to kubernetes");
    integer(r, "elasticsearchStorageGb", s.elasticsearch.storageGb);
    integer(r, "logstashStorageGb", s.logstash.storageGb);
    if (s.logstashQueueCheckpointWrites !== undefined) integer(r, "logstashQueueCheckpointWrites", s.logstashQueueCheckpointWrites);
}

/**
 * Each service's CPU and memory: a limit not below the request, and a heap that leaves the rest of the memory
 * limit what the runtime needs off the heap.
 */
function checkResources(s: StackConfig, r: SettingsReporter): void {
    for (const service of ["elasticsearch", "kibana", "logstash"] as const) checkServiceResources(s, r, service);
}

/** {@link checkResources} for one service. */
function checkServiceResources(s: StackConfig, r: SettingsReporter, service: "elasticsearch" | "kibana" | "logstash"): void {
    const { fail } = r;
    const m = s[service];
    const heapKey = `${service}HeapMb` as const;
    const memKey = `${service}MemoryMb` as const;
    const cpuKey = `${service}CpuMillis` as const;
    const cpuLimitKey = `${service}CpuLimitMillis` as const;
    integer(r, cpuKey, m.cpu.requestMillis);
    integer(r, cpuLimitKey, m.cpu.limitMillis);
    if (m.cpu.limitMillis < m.cpu.requestMillis) {
        fail(cpuLimitKey, `limit ${m.cpu.limitMillis}m is below the request ${m.cpu.requestMillis}m (${r.name(cpuKey)})`, `raise it to at least ${m.cpu.requestMillis}`);
    }
    const memoryMb = integer(r, memKey, m.memoryMb);
    // Kibana's heap may be left unset: Node.js then sizes it from the container's memory limit.
    if (m.heapMb === undefined) return;
    const heapMb = integer(r, heapKey, m.heapMb);
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

/** Certificate lifetimes: renewal has to start before the certificates expire. */
function checkCertificates(s: StackConfig, r: SettingsReporter): void {
    const { fail } = r;
    const validity = integer(r, "certValidityDays", s.certValidityDays);
    const renewBefore = integer(r, "certRenewBeforeDays", s.certRenewBeforeDays);
    if (renewBefore >= validity) fail("certRenewBeforeDays", `${renewBefore} days is not shorter than ${r.name("certValidityDays")} (${validity})`, "renew some days before the certificates expire, e.g. 30");
}

/** The environment: it is the data streams' namespace, which Elasticsearch limits to these characters. */
function checkEnvironment(s: StackConfig, { fail }: SettingsReporter): void {
    if (!/^[a-z0-9_]{1,64}$/.test(s.environment)) fail("environment", `'${s.environment}' cannot be a data stream namespace`, "use 1-64 lowercase letters, digits or '_' (no '-')");
}

/** Retention and snapshots: days and sizes in range, and a schedule only where there is a repository to write to. */
function checkRetentionAndSnapshots(s: StackConfig, r: SettingsReporter): void {
    const { fail } = r;
    integer(r, "logRetentionDays", s.logRetentionDays);
    integer(r, "snapshotRetentionDays", s.snapshots.retentionDays);
    integer(r, "snapshotStorageGb", s.snapshots.storageGb);
    if (s.snapshots.schedule !== "off" && !s.snapshots.repository) {
        fail("snapshotSchedule", `a ${s.snapshots.schedule} schedule needs a snapshot repository, and on Kubernetes that needs ${r.name("snapshotStorageClass")}`, "set snapshotStorageClass to a storage class that offers ReadWriteMany, set snapshotRepositoryType to s3, gcs or azure, or set snapshotSchedule to off");
    }
}
