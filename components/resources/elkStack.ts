/**
 * `ElkStack`, the top component: builds the certificates, the kernel step, Elasticsearch, the bootstrap, Kibana and
 * its setup, Logstash and the wiring from one stack's settings, and connects them.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { Bootstrap, type BootstrapArgs } from "./bootstrap";
import { certificateNames } from "../model/certificates";
import { CertificateAuthority, InstanceCertificate } from "./certificates";
import { type StackConfig, isIp } from "../model/config";
import { ES_HTTP_PORT } from "../model/elasticsearch";
import { Elasticsearch, type ElasticsearchArgs } from "./elasticsearch";
import { KernelSettings } from "./kernel";
import { indexingRequests } from "../model/indexing";
import { KIBANA_PORT } from "../model/kibana";
import { Kibana, type KibanaArgs } from "./kibana";
import { KibanaSetup, type KibanaSetupArgs } from "./kibanaSetup";
import { Logstash, type LogstashArgs } from "./logstash";
import { indexingNodeCount } from "../model/nodeSets";
import { type LogSource, NGINX_SYSLOG_PORT, logstashListeners } from "../model/sources";
import { wiringFiles } from "../model/wiring";
import { earliestExpiry } from "../model/renewal";
import { type ClusterFormation, clusterIdentity } from "../model/clusterFormation";
import { SNAPSHOT_REPOSITORY, scheduleIntervalHours, snapshotPolicyName, snapshotRequests } from "../model/snapshots";
import { type Endpoint, type Platform, type PortSpec, formatEndpoint } from "../model/spec";
import { platformFor } from "../targets";
import { BOOTSTRAP_STEP, KIBANA_SETUP_STEP } from "../model/traffic";
import { DNS_LABEL, type PasswordUse, argumentOf, passwordProblem, validateSettings } from "../model/validation";
import { LOGSTASH_WRITER_ROLE, LOGSTASH_WRITER_USER } from "../model/writerIdentity";

export { LOGSTASH_WRITER_ROLE, LOGSTASH_WRITER_USER } from "../model/writerIdentity";

/**
 * Passwords of the stack; any left out is generated and kept as a secret in the stack's state. Each must have at
 * least 16 printable ASCII characters (no CR, LF or NUL: they are written into scripts and keystores) and no '@@'.
 */
export interface ElkStackPasswords {
    /** Password of the `elastic` superuser. */
    elastic?: pulumi.Input<string>;
    /**
     * Password of the built-in `kibana_system` user Kibana connects as. Refused on the eck engine (a platform whose
     * `kibanaAuth` is `operator`), where ECK turns that user off and issues Kibana a service-account token instead.
     */
    kibanaSystem?: pulumi.Input<string>;
    /** Password of the least-privilege user Logstash writes as (`logstash_writer`). */
    logstashWriter?: pulumi.Input<string>;
}

/** Arguments of {@link ElkStack}. */
export interface ElkStackArgs {
    /** Validated settings (see `parseStackConfig`); they decide which resources exist, so they are plain values. */
    settings: StackConfig;
    /** Passwords (secrets). */
    passwords?: ElkStackPasswords;
    /** Folder of Logstash's static pipeline files and patterns; this repository's `pipelines/` by default. */
    pipelinesDir?: string;
    /** Run on this platform instead of the one `settings.target` names (e.g. a Docker platform with its own provider). */
    platform?: Platform;
    /**
     * Prefix of the physical names, which must be unique on a Docker engine or in a Kubernetes namespace: Docker
     * container, network and volume names (`<namePrefix>-<instance>`; `settings.clusterName` when unset, as in
     * 0.4.0) and Kubernetes object names (`<namePrefix>-<instance>`, also the value of the stack label that selects
     * the pods; when unset objects are named after their instances and labelled with `clusterName`, as in 0.4.0). On
     * the eck engine it prefixes the custom resources (`<namePrefix>-<clusterName>` for Elasticsearch), and with them
     * every object the operator names after them.
     * Pulumi resource names come from the component's name instead (see components/model/naming.ts). Set it when two
     * stacks share an engine or a namespace; give them different host ports (`settings.ports`, Django source ports)
     * on Docker too: two Docker stacks of one program that would share a name or a host port on one engine stop the
     * preview (components/targets/dockerClaims.ts). On Kubernetes, changing it on a deployed stack would rename the
     * object holding Elasticsearch's data and start an empty cluster: refused at preview (see `dataHomeRefusal`).
     */
    namePrefix?: string;
    /**
     * Pulumi identity of the Docker data volumes (their resource names are `<dataKey>-<role>-<volume>`); the
     * component's name when unset. Set it when the component's name follows a setting that may be renamed (this
     * repository's index.ts names its stack after `clusterName` and keys the volumes by the Pulumi stack), so that
     * a rename never swaps a volume for an empty one.
     */
    dataKey?: string;
    /**
     * Whether an earlier update saw this cluster formed (see `previouslyFormed` in components/model/clusterFormation.ts):
     * its nodes then start without `cluster.initial_master_nodes`. Unset: they keep it. Ignored on the eck engine,
     * whose operator manages that setting.
     */
    clusterFormed?: pulumi.Input<boolean>;
    /** Credentials of the snapshot repository's object store (secrets), in the order of its secure settings. */
    snapshotCredentials?: pulumi.Input<string>[];
}

/**
 * `given` once the password rules hold for it (components/model/validation.ts `passwordProblem`): at once for a string,
 * when its value is known for an Output. A password is written into the bootstrap script and keystores, where a CR,
 * LF or NUL would end a line. `fail` reports the problem under the argument's name.
 */
export function checkedPassword(argument: string, given: pulumi.Input<string>, fail: (argument: string, problem: string, fix: string) => never, use: PasswordUse = "elasticsearch"): pulumi.Input<string> {
    const check = (value: string): string => {
        const problem = passwordProblem(value, use);
        return problem ? fail(argument, problem.problem, problem.fix) : value;
    };
    return typeof given === "string" ? check(given) : pulumi.output(given).apply(check);
}

/** The snapshot repository and policy of a stack, for `verify`, `snapshot` and `restore`. */
export interface SnapshotInfo {
    /** Repository name; undefined when the stack has none. */
    readonly repository?: string;
    /** Lifecycle policy name; undefined when the schedule is off. */
    readonly policy?: string;
    readonly schedule: string;
    /** Hours between scheduled snapshots; undefined when off. */
    readonly intervalHours?: number;
    readonly retentionDays: number;
}

/** How to reach Logstash from the applications that send it logs. */
export interface LogstashEndpoints {
    /** Where nginx sends syslog: `host:port` over UDP. */
    readonly nginxSyslog: string;
    /** Where each Django source sends RFC 5424 over TLS: source name -> `host:port`. */
    readonly django: Readonly<Record<string, string>>;
}

/**
 * The whole stack: CA and certificates, the kernel step, Elasticsearch, the bootstrap of users and roles,
 * Kibana and Logstash, with TLS on every connection between them.
 */
export class ElkStack extends pulumi.ComponentResource {
    /** Elasticsearch HTTPS URL for people and tools on the host. */
    readonly elasticsearchUrl: pulumi.Output<string>;
    /** Kibana HTTPS URL. */
    readonly kibanaUrl: pulumi.Output<string>;
    /** CA certificate (PEM) every client needs to trust the stack. */
    readonly caCertPem: pulumi.Output<string>;
    /** Password of the elastic superuser (secret). */
    readonly elasticPassword: pulumi.Output<string>;
    /** Where applications send logs. */
    readonly logstashEndpoints: pulumi.Output<LogstashEndpoints>;
    /** The nginx and Django configuration for each log source, file name -> content (see components/model/wiring.ts). */
    readonly wiring: pulumi.Output<Record<string, string>>;
    /** The snapshot repository and lifecycle policy. */
    readonly snapshots: pulumi.Output<SnapshotInfo>;
    /** Which cluster this is and whether it has formed (the bootstrap succeeded against it), for the next update. */
    readonly clusterFormation: pulumi.Output<ClusterFormation>;
    /**
     * When the first of the stack's certificates (the CA's or an instance's) expires, and how many days before
     * expiry a `pulumi up` renews them.
     */
    readonly certificateExpiry: pulumi.Output<{ earliestExpiry?: string; renewBeforeDays: number }>;
    /** The parts, for consumers that want to wire more onto them. */
    readonly ca: CertificateAuthority;
    /** The CA of Elasticsearch's transport layer only; no client of the stack trusts it. */
    readonly transportCa: CertificateAuthority;
    /** HTTP (server) certificates from {@link ca}, by instance name. */
    readonly certificates: Readonly<Record<string, InstanceCertificate>>;
    /** Elasticsearch's transport certificate (purpose `peer`), from {@link transportCa}. */
    readonly transportCertificate: InstanceCertificate;
    readonly elasticsearch: Elasticsearch;
    readonly kibana: Kibana;
    readonly logstash: Logstash;
    readonly bootstrap: Bootstrap;
    readonly kibanaSetup: KibanaSetup;
    readonly kernel?: KernelSettings;

    constructor(name: string, args: ElkStackArgs, opts?: pulumi.ComponentResourceOptions) {
        super("elk:index:ElkStack", name, {}, opts);
        const s = args.settings;
        // The same rules as the stack config's (components/model/validation.ts), naming the argument instead of the key.
        const fail: Fail = (argument, problem, fix) => {
            throw new pulumi.ResourceError(`ElkStack '${name}': invalid argument '${argument}': ${problem}. Fix: ${fix}`, this);
        };
        checkArguments(name, args, fail);
        const child = { parent: this };
        const platform = args.platform ?? platformFor(name, s, { parent: this }, { namePrefix: args.namePrefix, dataKey: args.dataKey });
        checkPlatform(args, platform, fail);
        const { passwords, encryptionKeys } = stackSecrets(name, args, fail, platform.kibanaAuth === "operator", child);

        // The HTTP CA: every client of the stack trusts it (the caCertificate output).
        this.ca = new CertificateAuthority(`${name}-ca`, caArgs(s, `${s.clusterName} stack CA (${s.stack})`), child);
        // The transport CA signs Elasticsearch's transport certificates and nothing else, and transport trusts only it.
        this.transportCa = new CertificateAuthority(`${name}-transport-ca`, caArgs(s, `${s.clusterName} transport CA (${s.stack})`), child);
        const certificates = instanceCertificates(name, s, platform, this.ca, child);
        this.transportCertificate = transportCertificate(name, s, platform, this.transportCa, child);
        this.certificates = certificates;

        this.kernel = s.setMaxMapCount ? new KernelSettings(`${name}-kernel`, { platform, name: "sysctl" }, child) : undefined;
        this.elasticsearch = new Elasticsearch(
            `${name}-elasticsearch`,
            elasticsearchArgs(args, platform, {
                certificate: certificates[s.names.elasticsearch],
                transportCertificate: this.transportCertificate,
                transportCa: this.transportCa,
                elasticPassword: passwords.elastic,
                kernelStep: this.kernel?.step,
            }),
            child,
        );
        const esInternalUrl = `https://${platform.internalHost(s.names.elasticsearch)}:${ES_HTTP_PORT}`;
        this.bootstrap = new Bootstrap(`${name}-bootstrap`, bootstrapArgs(s, platform, esInternalUrl, this.ca.certPem, passwords, this.elasticsearch.ready), child);

        const kibanaUrl = kibanaUrlOf(s, platform);
        this.kibana = new Kibana(
            `${name}-kibana`,
            kibanaArgs(s, platform, {
                elasticsearchHosts: [esInternalUrl],
                publicBaseUrl: kibanaUrl,
                certificate: certificates[s.names.kibana],
                kibanaSystemPassword: passwords.kibanaSystem,
                encryptionKeys,
                after: [this.bootstrap.step],
            }),
            child,
        );
        this.kibanaSetup = new KibanaSetup(`${name}-kibana-setup`, kibanaSetupArgs(s, platform, this.ca.certPem, passwords.elastic, this.kibana.ready), child);

        const logstashPorts = logstashPortsOf(s);
        this.logstash = new Logstash(
            `${name}-logstash`,
            logstashArgs(args, platform, {
                elasticsearchUrl: esInternalUrl,
                writerPassword: passwords.logstashWriter,
                ports: logstashPorts,
                certificate: certificates[s.names.logstash],
                after: [this.bootstrap.step],
            }),
            child,
        );

        this.elasticsearchUrl = pulumi.output(`https://${published(platform, s.names.elasticsearch, "https", ES_HTTP_PORT, "tcp", s.ports.elasticsearch)}`);
        this.kibanaUrl = pulumi.output(kibanaUrl);
        this.caCertPem = this.ca.certPem;
        this.elasticPassword = passwords.elastic;
        const dialled = logstashDialled(s, platform, logstashPorts);
        this.logstashEndpoints = pulumi.output({
            nginxSyslog: formatEndpoint(dialled.nginxSyslog),
            django: Object.fromEntries([...dialled.django].map(([source, e]) => [source, formatEndpoint(e)])),
        });
        this.wiring = pulumi.output(wiringOf(s, dialled));
        this.snapshots = pulumi.output(snapshotInfo(s));
        // Formed once the bootstrap succeeded against it; once formed, always formed (the next update reads this).
        this.clusterFormation = pulumi
            .all([pulumi.output(args.clusterFormed ?? false), this.bootstrap.step.succeeded])
            .apply(([before, now]) => ({ cluster: clusterIdentity(s), formed: before || now }));
        // Read from the certificates themselves, so the CAs (whose components expose no end time) count too.
        this.certificateExpiry = pulumi
            .all([this.ca.certPem, this.transportCa.certPem, this.transportCertificate.certPem, ...Object.values(certificates).map((c) => c.certPem)])
            .apply((pems) => ({ earliestExpiry: earliestExpiry(pems), renewBeforeDays: s.certRenewBeforeDays }));
        this.registerOutputs({
            certificateExpiry: this.certificateExpiry,
            snapshots: this.snapshots,
            clusterFormation: this.clusterFormation,
            elasticsearchUrl: this.elasticsearchUrl,
            kibanaUrl: this.kibanaUrl,
            caCertPem: this.caCertPem,
            elasticPassword: this.elasticPassword,
            logstashEndpoints: this.logstashEndpoints,
            wiring: this.wiring,
        });
    }
}

/** Reports a bad argument of {@link ElkStack} under its name, with the fix; never returns. */
type Fail = (argument: string, problem: string, fix: string) => never;

/** The password rules a field's value must meet: kibana_system's goes into Kibana's keystore too, which takes some values as something else. */
function useOf(field: string): PasswordUse {
    return field === "kibanaSystem" ? "kibana" : "elasticsearch";
}

/** The checks that need no resource, before any child exists: the settings' rules, the prefix, plain passwords, name lengths. */
function checkArguments(name: string, args: ElkStackArgs, fail: Fail): void {
    const s = args.settings;
    validateSettings(s, { name: argumentOf, fail: (key, problem, fix) => fail(argumentOf(key), problem, fix) }, { namePrefix: args.namePrefix });
    if (args.namePrefix !== undefined && !DNS_LABEL.test(args.namePrefix)) {
        fail("namePrefix", `'${args.namePrefix}' is not a DNS label`, "use 2-63 lowercase letters, digits and '-', starting with a letter");
    }
    // Plain passwords now; the others when their value is known.
    for (const [field, given] of Object.entries(args.passwords ?? {})) {
        if (typeof given === "string") void checkedPassword(`passwords.${field}`, given, fail, useOf(field));
    }
    if (s.target === "kubernetes" && args.platform === undefined) {
        // A Job is named after its resource (the provider adds '-' and 8 characters), and its pods carry that name
        // in the job-name label, which has at most 63 characters.
        const longest = `${name}-${KIBANA_SETUP_STEP}-job-12345678`;
        if (longest.length > 63) fail("name", `'${name}' makes the Kibana setup Job's name ${longest.length} characters long, longer than a label's 63`, `use a name of at most ${name.length - (longest.length - 63)} characters`);
    }
}

/** The checks that depend on the platform the stack runs on. */
function checkPlatform(args: ElkStackArgs, platform: Platform, fail: Fail): void {
    const objectStore = args.settings.snapshots.objectStore;
    if (objectStore && platform.kind !== "kubernetes") {
        // Only the Kubernetes target writes keystore settings (an init container); elsewhere the credentials would be dropped.
        fail("settings.snapshots.objectStore", `an ${objectStore.type} snapshot repository needs the kubernetes target, not ${platform.kind}`, "use the kubernetes target, or leave objectStore unset");
    }
    // On the eck engine the operator issues Kibana's credentials: no kibana_system user exists there to set.
    if (platform.kibanaAuth === "operator" && args.passwords?.kibanaSystem !== undefined) {
        fail(
            "passwords.kibanaSystem",
            "it is not used on this platform: its operator (ECK) turns the built-in kibana_system user off and gives Kibana a service-account token of its own",
            "leave passwords.kibanaSystem unset (config: pulumi config rm kibanaSystemPassword)",
        );
    }
}

/** The stack's passwords (given and checked, or generated) and Kibana's encryption keys, all secrets. */
function stackSecrets(name: string, args: ElkStackArgs, fail: Fail, operatorIssuesKibana: boolean, child: pulumi.CustomResourceOptions) {
    const password = (key: string, given: pulumi.Input<string> | undefined, length: number, argument = ""): pulumi.Output<string> =>
        pulumi.secret(
            (given === undefined ? undefined : checkedPassword(argument, given, fail, useOf(argument.replace(/^passwords\./, "")))) ??
                // No special characters: these end up in YAML and shell environments of other people's tools.
                new random.RandomPassword(`${name}-${key}`, { length, special: false, minLower: 2, minUpper: 2, minNumeric: 2 }, child).result,
        );
    const passwords = {
        elastic: password("elastic-password", args.passwords?.elastic, 32, "passwords.elastic"),
        kibanaSystem: operatorIssuesKibana ? undefined : password("kibana-system-password", args.passwords?.kibanaSystem, 32, "passwords.kibanaSystem"),
        logstashWriter: password("logstash-writer-password", args.passwords?.logstashWriter, 32, "passwords.logstashWriter"),
    };
    // Kibana refuses encryption keys shorter than 32 characters.
    const encryptionKeys = {
        security: password("kibana-security-key", undefined, 48),
        savedObjects: password("kibana-saved-objects-key", undefined, 48),
        reporting: password("kibana-reporting-key", undefined, 48),
    };
    return { passwords, encryptionKeys };
}

/** The stack's passwords, as {@link stackSecrets} makes them. */
type StackPasswords = ReturnType<typeof stackSecrets>["passwords"];

/** Days as hours, the unit of @pulumi/tls validity periods. */
function hours(days: number): number {
    return days * 24;
}

/** How long an instance certificate is valid, and how long before its end a `pulumi up` renews it. */
function certificateValidity(s: StackConfig): { validityHours: number; earlyRenewalHours: number } {
    return { validityHours: hours(s.certValidityDays), earlyRenewalHours: hours(s.certRenewBeforeDays) };
}

/** A CA valid ten times as long as the instance certificates it signs. */
function caArgs(s: StackConfig, commonName: string) {
    return { commonName, organization: "elk-stack", validityHours: hours(s.certValidityDays * 10), earlyRenewalHours: hours(s.certRenewBeforeDays) };
}

/** The HTTP (server) certificate of every instance, with the names each is dialled under on this platform. */
function instanceCertificates(name: string, s: StackConfig, platform: Platform, ca: CertificateAuthority, child: pulumi.CustomResourceOptions): Record<string, InstanceCertificate> {
    // A service published on another address than loopback is dialled there: its certificate names it.
    const boundTo: Record<string, string> = {
        [s.names.elasticsearch]: s.bindAddresses.elasticsearch,
        [s.names.kibana]: s.bindAddresses.kibana,
        [s.names.logstash]: s.bindAddresses.logstash,
    };
    const extraIps = (instance: string) => {
        const address = boundTo[instance] ?? s.bindAddress;
        return address === "127.0.0.1" ? [] : [address];
    };
    const replicas: Record<string, number> = { [s.names.elasticsearch]: s.elasticsearch.replicas, [s.names.logstash]: s.logstash.replicas };
    const validity = certificateValidity(s);
    const certificates: Record<string, InstanceCertificate> = {};
    // Applications outside the stack may reach Logstash under a name of their own; its certificate must carry it.
    const publicLogstash = s.logstashPublicHost;
    const publicNames = (instance: string, ip: boolean) => (instance === s.names.logstash && publicLogstash && isIp(publicLogstash) === ip ? [publicLogstash] : []);
    // Who dials `localhost`: Elasticsearch's and Kibana's health checks and probes, inside their own containers;
    // people and `verify` through ports published on the Docker host or port-forwards, for all three services.
    // The extra names are for services the stack does not run, which it cannot know to be dialled that way.
    const services = new Set([s.names.elasticsearch, s.names.kibana, s.names.logstash]);
    for (const instance of [s.names.elasticsearch, s.names.kibana, s.names.logstash, ...s.names.extra]) {
        const sans = certificateNames({
            instance,
            extraDnsNames: [...platform.extraDnsNames(instance, replicas[instance] ?? 1), ...publicNames(instance, false)],
            loopback: services.has(instance) && platform.publishesOnHost,
            extraIpAddresses: [...extraIps(instance), ...publicNames(instance, true)],
        });
        certificates[instance] = new InstanceCertificate(
            `${name}-${instance}-cert`,
            { ca, commonName: instance, dnsNames: sans.dnsNames, ipAddresses: sans.ipAddresses, ...validity },
            child,
        );
    }
    return certificates;
}

/** Elasticsearch's transport certificate: peers dial each other by discovery names or pod IPs, never through a host port or localhost. */
function transportCertificate(name: string, s: StackConfig, platform: Platform, transportCa: CertificateAuthority, child: pulumi.CustomResourceOptions): InstanceCertificate {
    const transportNames = certificateNames({
        instance: s.names.elasticsearch,
        extraDnsNames: platform.extraDnsNames(s.names.elasticsearch, s.elasticsearch.replicas),
        loopback: false,
    });
    return new InstanceCertificate(
        `${name}-${s.names.elasticsearch}-transport-cert`,
        {
            ca: transportCa,
            commonName: s.names.elasticsearch,
            dnsNames: transportNames.dnsNames,
            ipAddresses: [],
            purpose: "peer",
            ...certificateValidity(s),
        },
        child,
    );
}

/** Elasticsearch from the settings, with the stack's certificates, password and kernel step. */
function elasticsearchArgs(
    args: ElkStackArgs,
    platform: Platform,
    parts: Pick<ElasticsearchArgs, "certificate" | "transportCertificate" | "transportCa" | "elasticPassword" | "kernelStep">,
): ElasticsearchArgs {
    const s = args.settings;
    return {
        platform,
        version: s.elasticVersion,
        clusterName: s.clusterName,
        nodeName: s.names.elasticsearch,
        nodeCount: s.elasticsearch.replicas,
        heapMb: s.elasticsearch.heapMb,
        memoryMb: s.elasticsearch.memoryMb,
        cpu: s.elasticsearch.cpu,
        storageGb: s.elasticsearch.storageGb,
        hostPort: s.ports.elasticsearch,
        ...parts,
        snapshotVolume: s.snapshots.repository && !s.snapshots.objectStore ? { sizeGb: s.snapshots.storageGb, storageClass: s.snapshots.storageClass } : undefined,
        objectStore: s.snapshots.objectStore ? { settings: s.snapshots.objectStore, credentials: (args.snapshotCredentials ?? []).map((c) => pulumi.secret(c)) } : undefined,
        // The operator manages cluster.initial_master_nodes itself on the eck engine.
        clusterFormed: s.target === "kubernetes" && s.kubernetes.engine === "eck" ? undefined : args.clusterFormed,
    };
}

/** The bootstrap: the stack's users and roles, then its templates, lifecycle policy and snapshot policy. */
function bootstrapArgs(s: StackConfig, platform: Platform, elasticsearchUrl: string, caCertPem: pulumi.Input<string>, passwords: StackPasswords, elasticsearchReady: pulumi.Resource): BootstrapArgs {
    return {
        platform,
        version: s.elasticVersion,
        name: BOOTSTRAP_STEP,
        elasticsearchUrl,
        caCertPem,
        elasticPassword: passwords.elastic,
        kibanaSystemPassword: passwords.kibanaSystem,
        logstashWriterPassword: passwords.logstashWriter,
        logstashUser: LOGSTASH_WRITER_USER,
        logstashRole: LOGSTASH_WRITER_ROLE,
        // Only this environment's log data streams: logs-<dataset>-<environment>.
        logstashIndexPatterns: [`logs-*-${s.environment}`],
        // Templates and the lifecycle policy exist before Logstash, which waits for this step, writes a line.
        extraRequests: [
            ...indexingRequests({ environment: s.environment, retentionDays: s.logRetentionDays, sources: s.logSources, nodeCount: indexingNodeCount(s) }),
            ...(s.snapshots.repository ? snapshotRequests({ environment: s.environment, schedule: s.snapshots.schedule, retentionDays: s.snapshots.retentionDays, objectStore: s.snapshots.objectStore }) : []),
        ],
        elasticsearchReady,
    };
}

/** `host:port` where people reach a service's published port on this platform. */
function published(platform: Platform, instance: string, portName: string, containerPort: number, protocol: "tcp" | "udp", hostPort: number): string {
    return formatEndpoint(platform.endpoint(instance, { name: portName, containerPort, protocol, hostPort }));
}

/** Kibana's URL for people: its Ingress when it has one, else its published port. */
function kibanaUrlOf(s: StackConfig, platform: Platform): string {
    return s.kubernetes.kibanaIngress ? `https://${s.kubernetes.kibanaIngress.host}` : `https://${published(platform, s.names.kibana, "https", KIBANA_PORT, "tcp", s.ports.kibana)}`;
}

/** Kibana from the settings, connected to Elasticsearch and started after the bootstrap. */
function kibanaArgs(s: StackConfig, platform: Platform, parts: Pick<KibanaArgs, "elasticsearchHosts" | "publicBaseUrl" | "certificate" | "kibanaSystemPassword" | "encryptionKeys" | "after">): KibanaArgs {
    return {
        platform,
        version: s.elasticVersion,
        name: s.names.kibana,
        heapMb: s.kibana.heapMb,
        memoryMb: s.kibana.memoryMb,
        cpu: s.kibana.cpu,
        hostPort: s.ports.kibana,
        ...parts,
    };
}

/** The step that imports the stack's saved objects into Kibana once it is ready. */
function kibanaSetupArgs(s: StackConfig, platform: Platform, caCertPem: pulumi.Input<string>, elasticPassword: pulumi.Input<string>, kibanaReady: pulumi.Resource): KibanaSetupArgs {
    return {
        platform,
        name: KIBANA_SETUP_STEP,
        version: s.elasticVersion,
        kibanaUrl: `https://${platform.internalHost(s.names.kibana)}:${KIBANA_PORT}`,
        caCertPem,
        elasticPassword,
        environment: s.environment,
        sources: s.logSources,
        kibanaReady,
    };
}

/** Logstash's listeners, one per log source port, published on the host. */
function logstashPortsOf(s: StackConfig): PortSpec[] {
    return logstashListeners(s.logSources).map((l) => ({
        name: l.name,
        containerPort: l.port,
        protocol: l.protocol,
        // nginx's port may be published under another number; the Django ports keep theirs.
        hostPort: l.port === NGINX_SYSLOG_PORT && l.protocol === "udp" ? s.ports.nginxSyslog : l.port,
    }));
}

/** Logstash from the settings: its pipelines for the log sources, writing as its own user. */
function logstashArgs(args: ElkStackArgs, platform: Platform, parts: Pick<LogstashArgs, "elasticsearchUrl" | "writerPassword" | "ports" | "certificate" | "after">): LogstashArgs {
    const s = args.settings;
    return {
        platform,
        version: s.elasticVersion,
        name: s.names.logstash,
        heapMb: s.logstash.heapMb,
        memoryMb: s.logstash.memoryMb,
        cpu: s.logstash.cpu,
        replicas: s.logstash.replicas,
        storageGb: s.logstash.storageGb,
        queueCheckpointWrites: s.logstashQueueCheckpointWrites,
        elasticsearchUrl: parts.elasticsearchUrl,
        writerUser: LOGSTASH_WRITER_USER,
        writerPassword: parts.writerPassword,
        environment: s.environment,
        sources: s.logSources,
        pipelinesDir: args.pipelinesDir,
        ports: parts.ports,
        certificate: parts.certificate,
        after: parts.after,
    };
}

/** Where applications dial Logstash: nginx's syslog endpoint and each Django source's. */
interface DialledLogstash {
    readonly nginxSyslog: Endpoint;
    readonly django: ReadonlyMap<string, Endpoint>;
}

/** Where applications dial each Logstash listener: the platform's address, or logstashPublicHost on the same port. */
function logstashDialled(s: StackConfig, platform: Platform, logstashPorts: readonly PortSpec[]): DialledLogstash {
    const dialled = (p: PortSpec): Endpoint => {
        const at = platform.endpoint(s.names.logstash, p);
        return s.logstashPublicHost ? { host: s.logstashPublicHost, port: at.port } : at;
    };
    const nginxPort = logstashPorts.find((p) => p.containerPort === NGINX_SYSLOG_PORT && p.protocol === "udp");
    const nginxSyslog = dialled(nginxPort ?? { name: "nginx-syslog", containerPort: NGINX_SYSLOG_PORT, protocol: "udp", hostPort: s.ports.nginxSyslog });
    const django = new Map<string, Endpoint>();
    for (const source of s.logSources.filter((x) => x.kind === "django")) {
        const listener = logstashPorts.find((p) => p.containerPort === source.port && p.protocol === source.protocol);
        if (!listener) throw new Error(`no Logstash listener for log source ${source.name} (${source.protocol} ${source.port})`);
        django.set(source.name, dialled(listener));
    }
    return { nginxSyslog, django };
}

/** The nginx and Django files for each log source, file name -> content, dialling the endpoints applications use. */
function wiringOf(s: StackConfig, dialled: DialledLogstash): Record<string, string> {
    // Applications dial the host of these endpoints, and the Django handler checks it against Logstash's certificate.
    // nginx resolves "localhost" once and may pick ::1, where a port published on 127.0.0.1 is not listening.
    const logstashHost = dialled.nginxSyslog.host === "localhost" ? "127.0.0.1" : dialled.nginxSyslog.host;
    // The port each source dials is its endpoint's (Docker may publish nginx's under another number).
    const portOf = (source: LogSource) => (source.kind === "nginx" ? dialled.nginxSyslog : (dialled.django.get(source.name) as Endpoint)).port;
    return Object.fromEntries(wiringFiles(s.logSources, logstashHost, undefined, portOf).map((f) => [f.fileName, f.content]));
}

/** The snapshot repository and policy, for `verify`, `snapshot` and `restore`. */
function snapshotInfo(s: StackConfig): SnapshotInfo {
    return {
        repository: s.snapshots.repository ? SNAPSHOT_REPOSITORY : undefined,
        policy: s.snapshots.repository && s.snapshots.schedule !== "off" ? snapshotPolicyName(s.environment) : undefined,
        schedule: s.snapshots.schedule,
        intervalHours: scheduleIntervalHours(s.snapshots.schedule),
        retentionDays: s.snapshots.retentionDays,
    };
}
