/**
 * Platform-neutral description of what to run. Pure functions in the service modules build these; a
 * {@link Platform} (Docker, Kubernetes) turns them into resources. The `render` command prints them.
 */
import type * as pulumi from "@pulumi/pulumi";

/** A file placed into a container before it starts. */
export interface FileSpec {
    /** Absolute path inside the container. */
    readonly path: string;
    /** File content; secret contents (keys) are Outputs marked secret. */
    readonly content: pulumi.Input<string>;
    /** Octal permission string, e.g. "0640". */
    readonly mode: string;
    /** True when the content is confidential (private keys): it is rendered as a placeholder. */
    readonly secret: boolean;
}

/** A port a service listens on. */
export interface PortSpec {
    /** Short name, used in Kubernetes Service ports and in descriptions. */
    readonly name: string;
    readonly containerPort: number;
    readonly protocol: "tcp" | "udp";
    /** Published on the host (Docker) at this port; undefined keeps the port on the private network. */
    readonly hostPort?: number;
}

/** A volume mounted into a service. */
export interface VolumeSpec {
    /** Short name, unique within the service ("data"). */
    readonly name: string;
    readonly mountPath: string;
    /** Must outlive pods and containers (Elasticsearch data, Logstash's queue): a claim per instance on Kubernetes. */
    readonly durable: boolean;
    /** Size of a durable volume, GiB (Kubernetes). */
    readonly sizeGb: number;
    /**
     * One volume for every instance of the service rather than one each (a snapshot repository must be the same
     * file system on every node): on Kubernetes a ReadWriteMany claim, with its own storage class.
     */
    readonly shared?: { readonly storageClass?: string };
}

/** A health check run inside the container (`sh -c`), used for Docker health and Kubernetes probes. */
export interface HealthCheckSpec {
    /** Shell command; exit 0 means healthy (ready for dependants and traffic). */
    readonly command: string;
    /**
     * Shell command that only checks the process still answers. Kubernetes restarts a container when this fails,
     * so it must not depend on other services (Kibana is unhealthy while Elasticsearch is down, yet alive).
     * Undefined: no liveness probe at all (Elasticsearch, where a long GC pause must not get a node restarted).
     */
    readonly aliveCommand?: string;
    /**
     * Kubernetes readiness, where it must differ from `command` (which then only gates start-up): Elasticsearch's
     * waits for the cluster's health once per container start, so a rolling restart moves on only after the
     * restarted node's shards recovered.
     */
    readonly readinessCommand?: string;
    readonly intervalSeconds: number;
    readonly timeoutSeconds: number;
    readonly retries: number;
    /** Grace period after start before failures count. */
    readonly startPeriodSeconds: number;
}

/** The part common to long-running services and one-shot steps. */
export interface ContainerSpec {
    /** Instance name: container name on Docker, workload name on Kubernetes, and host name. */
    readonly name: string;
    /** What this is, for descriptions ("Elasticsearch node"). */
    readonly description: string;
    /** Which part of the stack it is; names the folder `render` writes its files to. */
    readonly role: "elasticsearch" | "kibana" | "logstash" | "bootstrap" | "kibana-setup" | "kernel";
    /** Pinned image reference. */
    readonly image: string;
    /** Replaces the image's entrypoint when set. */
    readonly entrypoint?: readonly string[];
    /**
     * Plain environment, never a secret: an environment is readable through `docker inspect` and
     * /proc/<pid>/environ. Secrets are {@link secretFile}s, read by the service's keystore or the step's script.
     */
    readonly env: Readonly<Record<string, string>>;
    readonly files: readonly FileSpec[];
    /** User the image runs as; uploaded files are owned by it so that 0600 keys stay readable. */
    readonly runAs: { readonly uid: number; readonly gid: number };
    /** Only the kernel step may be privileged. */
    readonly privileged: boolean;
    /** Environment variable that receives the instance's own name (container or pod name). */
    readonly instanceNameEnv?: string;
}

/** A secure setting for a service's keystore (Elasticsearch's object-store credentials). */
export interface KeystoreEntry {
    /** Setting name, e.g. `s3.client.elk.access_key`. */
    readonly setting: string;
    /** The value (a Pulumi secret). */
    readonly value: pulumi.Input<string>;
    /** A file setting (`elasticsearch-keystore add-file`) rather than a string (`add --stdin`). */
    readonly file: boolean;
}

/** A long-running service. */
export interface ServiceSpec extends ContainerSpec {
    readonly kind: "service";
    readonly ports: readonly PortSpec[];
    readonly volumes: readonly VolumeSpec[];
    readonly healthCheck: HealthCheckSpec;
    /** Memory limit in MiB (also the request on Kubernetes: memory is not overcommitted). */
    readonly memoryMb: number;
    /** CPU request and limit, millicores (Kubernetes). */
    readonly cpu: { readonly requestMillis: number; readonly limitMillis: number };
    /** Identical instances (Elasticsearch nodes, Logstash replicas). */
    readonly replicas: number;
    /**
     * Seconds between the stop signal and a forced kill: long enough to shut down cleanly (Elasticsearch closing
     * its shards, Logstash finishing its in-flight batches and checkpointing its persistent queue).
     */
    readonly stopGraceSeconds: number;
    /**
     * Secure settings the service reads from its keystore (Kubernetes only): on the manifests engine written into the
     * keystore in `configDir` by an init container before the service starts, on the eck engine handed to the operator
     * as `secureSettings`; never into its environment or config files.
     */
    readonly keystore?: { readonly configDir: string; readonly tool: string; readonly entries: readonly KeystoreEntry[] };
    /**
     * A CA for platforms whose operator issues each instance's certificate itself (ECK issues every Elasticsearch
     * pod's transport certificate from it). Never mounted into a container; other platforms ignore it.
     */
    readonly issuingCa?: { readonly certPem: pulumi.Input<string>; readonly keyPem: pulumi.Input<string> };
}

/** A step that runs to completion (the kernel setting, the bootstrap). */
export interface JobSpec extends ContainerSpec {
    readonly kind: "job";
    /** Upper bound for the step, in seconds. */
    readonly timeoutSeconds: number;
    /** Memory limit in MiB. */
    readonly memoryMb: number;
}

/** Options for placing a spec on a platform. */
export interface PlacementOptions {
    /** The component that owns the resources. */
    readonly parent: pulumi.Resource;
    /** What must be ready or finished first. */
    readonly dependsOn?: pulumi.Input<pulumi.Input<pulumi.Resource>[]>;
    /** Steps that must have succeeded, not merely run: a failed step stops the service from being placed. */
    readonly after?: readonly PlacedJob[];
    /** Steps that prepare the host the service runs on (see {@link Platform.hostStep}). */
    readonly hostSteps?: readonly HostStep[];
}

/**
 * A step that prepares the host of a service (the kernel setting). Docker runs it once as a one-shot
 * container (`job`); Kubernetes runs it as an init container of every pod of the service (`initContainer`),
 * because the pod may land on any node.
 */
export interface HostStep {
    readonly job?: PlacedJob;
    readonly initContainer?: JobSpec;
}

/** A running service on some platform. */
export interface PlacedService {
    /** Resource to depend on for "this service is up and healthy". */
    readonly ready: pulumi.Resource;
    /** Every resource created for it. */
    readonly resources: readonly pulumi.Resource[];
}

/** A finished step on some platform. */
export interface PlacedJob {
    /** Resource to depend on for "this step has run". */
    readonly done: pulumi.Resource;
    /** Resolves when the step succeeded; fails the deployment with the step's logs when it did not. */
    readonly succeeded: pulumi.Output<boolean>;
}

/**
 * How Kibana authenticates to Elasticsearch. `kibana_system`: as the built-in user, whose password the bootstrap sets
 * and Kibana reads from its keystore (Docker, the manifests engine). `operator`: with credentials the platform's
 * operator issues and writes into Kibana's configuration itself (the eck engine: ECK turns the built-in users off,
 * and issues a service-account token for Kibana's `elasticsearchRef`); the bootstrap then sets no password, and
 * Kibana's spec names no user and holds no password.
 */
export type KibanaAuth = "kibana_system" | "operator";

/**
 * One implementation per platform (see components/targets/). Components only talk to this interface, so
 * the same Elasticsearch, Kibana and Logstash components run on Docker and on Kubernetes.
 */
export interface Platform {
    readonly kind: "docker" | "kubernetes";
    /**
     * How Kibana authenticates to Elasticsearch here; `kibana_system` when unset. See {@link KibanaAuth}.
     */
    readonly kibanaAuth?: KibanaAuth;
    /** Host name under which other services of the stack reach `instance`. */
    internalHost(instance: string): string;
    /** Whether published ports are reachable on the host as localhost (decides certificate SANs). */
    readonly publishesOnHost: boolean;
    /** Extra DNS names clients and peers use for `instance` and its `replicas` members (Kubernetes service and pod names). */
    extraDnsNames(instance: string, replicas: number): string[];
    /** Names of the members of a service with `replicas` instances (node names of an Elasticsearch cluster). */
    memberNames(instance: string, replicas: number): string[];
    /** Host name that resolves to every member of `instance`, for cluster discovery. */
    discoveryHost(instance: string): string;
    /** Prepares the hosts a service runs on; pass the result in {@link PlacementOptions.hostSteps}. */
    hostStep(spec: JobSpec, opts: PlacementOptions): HostStep;
    /** Where people and tools outside the stack reach `port` of `instance`. */
    endpoint(instance: string, port: PortSpec): Endpoint;
    /** Runs a long-running service, healthy before dependants start. */
    runService(spec: ServiceSpec, opts: PlacementOptions): PlacedService;
    /** Runs a step to completion before dependants start. */
    runJob(spec: JobSpec, opts: PlacementOptions): PlacedJob;
}

/** A host and port to dial. */
export interface Endpoint {
    readonly host: string;
    readonly port: number;
}

/** `host:port`, with an IPv6 address in brackets. */
export function formatEndpoint(e: Endpoint): string {
    return `${e.host.includes(":") ? `[${e.host}]` : e.host}:${e.port}`;
}

/** Builds a plain `FileSpec` for non-secret content. */
export function publicFile(path: string, content: pulumi.Input<string>, mode = "0644"): FileSpec {
    return { path, content, mode, secret: false };
}

/** Builds a `FileSpec` for a key or other confidential content. */
export function secretFile(path: string, content: pulumi.Input<string>, mode = "0600"): FileSpec {
    return { path, content, mode, secret: true };
}

/** TLS material of one instance. */
export interface TlsMaterial {
    /** The stack CA certificate, to verify peers. */
    readonly caCertPem: pulumi.Input<string>;
    /** The instance's certificate. */
    readonly certPem: pulumi.Input<string>;
    /** The instance's key (secret). */
    readonly keyPem: pulumi.Input<string>;
}

/** The CA, certificate and key files of an instance in `dir` (ca.crt, NAME.crt and the key as `keyFile`). */
export function tlsFiles(dir: string, instance: string, tls: TlsMaterial, keyFile = `${instance}.key`): FileSpec[] {
    return [publicFile(`${dir}/ca.crt`, tls.caCertPem), publicFile(`${dir}/${instance}.crt`, tls.certPem), secretFile(`${dir}/${keyFile}`, tls.keyPem)];
}

/** Image version and memory of a long-running service. */
export interface ServiceSizing {
    readonly version: string;
    /** JVM heap or Node.js old space, MiB. */
    readonly heapMb: number;
    /** Container memory limit, MiB. */
    readonly memoryMb: number;
    /** Host port for the main endpoint, when published. */
    readonly hostPort?: number;
    /** CPU request and limit, millicores (Kubernetes). */
    readonly cpu: { readonly requestMillis: number; readonly limitMillis: number };
}
