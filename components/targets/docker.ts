/**
 * The Docker target: a private network, a container and named volume per service, one-shot steps, and files
 * uploaded into the containers, all through @pulumi/docker.
 */
import * as crypto from "crypto";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { ContainerSpec, Endpoint, FileSpec, HealthCheckSpec, HostStep, JobSpec, PlacedJob, PlacedService, PlacementOptions, Platform, PortSpec, ServiceSpec, VolumeSpec } from "../model/spec";
import { childName, formerNames } from "../model/naming";
import { canonicalIp } from "../model/validation";
import { type NameClaim, type PortClaim, claimName, claimPort } from "./dockerClaims";
import { afterSteps } from "./ordering";

/** Arguments of {@link DockerPlatform}. */
export interface DockerPlatformArgs {
    /**
     * Prefix of the Docker names of containers, the network and volumes (`<namePrefix>-<instance>`,
     * `<namePrefix>-net`): keeps several stacks apart on one Docker engine (a second stack of the program claiming
     * one of these names, or a host port, on the same engine stops the preview: see ./dockerClaims.ts). Also the
     * value of the stack label.
     */
    namePrefix: string;
    /**
     * Prefix of the Pulumi resource names of the containers and images (see `childName` in components/model/naming.ts):
     * the owning `ElkStack`'s name. `namePrefix` when unset, which is how 0.4.0 named them; when it differs, each
     * resource carries an alias to its 0.4.0 name.
     */
    resourcePrefix?: string;
    /** Host address published ports bind to (an IPv4 or IPv6 address; 127.0.0.1 keeps the stack off the LAN). */
    bindAddress: string;
    /** Host address per instance name, where it differs from `bindAddress` (Logstash on the LAN, the rest not). */
    bindAddresses?: Readonly<Record<string, string>>;
    /**
     * Docker provider to use (another engine, a remote host). When unset, the provider of `opts.provider`,
     * `opts.providers` or a parent, and the default provider only when there is none.
     */
    provider?: docker.Provider;
    /**
     * Stable identity of the data volumes in Pulumi (their resource names), independent of `namePrefix` and of
     * instance names, so that renaming either never swaps a volume for an empty one. `resourcePrefix` when unset.
     */
    dataKey?: string;
    /**
     * The data key a 0.4.0 stack used, when it differs from {@link dataKey} (an `ElkStack` then used the Pulumi
     * stack's name): each data volume carries an alias to its 0.4.0 resource name, so an upgrade keeps it.
     */
    formerDataKey?: string;
    /** Mark the data volumes `protect`ed: `pulumi destroy` and replacements refuse to proceed. */
    protectData?: boolean;
}

/**
 * A duration as Go's `time.Duration.String()` writes it ("10s", "1m0s", "1h0m30s"). The provider reads the
 * health check back in this form (kreuzwerker/terraform-provider-docker, internal/provider/
 * resource_docker_container_funcs.go, resourceDockerContainerRead), so "60s" would differ from "1m0s" on every
 * `pulumi up`.
 */
export function goDuration(seconds: number): string {
    if (!Number.isInteger(seconds) || seconds < 0) throw new Error(`not a whole number of seconds: ${seconds}`);
    if (seconds === 0) return "0s";
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const sec = seconds % 60;
    if (h > 0) return `${h}h${m}m${sec}s`;
    if (m > 0) return `${m}m${sec}s`;
    return `${sec}s`;
}

/** The provider's health check of a spec, in the form the provider reads back. */
export function dockerHealthcheck(hc: HealthCheckSpec): docker.types.input.ContainerHealthcheck {
    return {
        tests: ["CMD-SHELL", hc.command],
        interval: goDuration(hc.intervalSeconds),
        timeout: goDuration(hc.timeoutSeconds),
        retries: hc.retries,
        startPeriod: goDuration(hc.startPeriodSeconds),
    };
}

/**
 * Resource name of a data volume: the stack's data key and the service's role, never the instance name or the
 * cluster name, which are cosmetic and may be renamed.
 */
export function dataVolumeResourceName(dataKey: string, spec: ServiceSpec, volume: VolumeSpec): string {
    return childName(dataKey, spec.role, volume.name);
}

/**
 * Options of a data volume. Data must outlive containers, stacks and typos:
 * - `retainOnDelete`: `pulumi destroy`, a replacement or a removal from the program drops the volume from the
 *   stack's state but leaves it, with its data, on the Docker engine;
 * - `ignoreChanges` on `name` and `labels`: both force a new volume in the provider (ForceNew in
 *   kreuzwerker/terraform-provider-docker internal/provider/resource_docker_volume.go), and both follow cosmetic
 *   settings (`clusterName`, instance names). The volume keeps the Docker name it was created with; the
 *   container mounts it by that name;
 * - aliases to the resource names of earlier releases (`<prefix>-<instance>-<volume>` before 0.4.0, and
 *   `<formerDataKey>-<role>-<volume>` of 0.4.0 when the data key changed), so an existing stack adopts its volume
 *   instead of creating an empty one (upgrade before renaming anything);
 * - `protect` when asked (production).
 * Retention and protection are for durable volumes (Elasticsearch's data, Logstash's queue) only.
 */
export function dataVolumeOptions(
    prefix: string,
    spec: ServiceSpec,
    volume: VolumeSpec,
    protect: boolean,
    dataKey?: string,
    formerDataKey?: string,
): pulumi.CustomResourceOptions {
    const current = dataKey === undefined ? "" : dataVolumeResourceName(dataKey, spec, volume);
    return {
        // Kibana's volume only holds its instance id: it goes with the stack.
        retainOnDelete: volume.durable,
        protect: protect && volume.durable,
        ignoreChanges: ["name", "labels"],
        aliases: formerNames(current, `${prefix}-${spec.name}-${volume.name}`, formerDataKey === undefined ? undefined : dataVolumeResourceName(formerDataKey, spec, volume)),
    };
}

/** Small pinned image with chown, for handing a new volume to a service's user. */
export const VOLUME_OWNER_IMAGE = "busybox:1.37.0";

/** Makes `path` the service user's and writable by its group (the Elastic images run as 1000:0). */
export function volumeOwnerCommand(runAs: { readonly uid: number; readonly gid: number }, path: string): string[] {
    return ["sh", "-c", `chown ${runAs.uid}:${runAs.gid} ${path} && chmod 0770 ${path}`];
}

/** File a one-shot step writes when it succeeded; its health check looks for it. */
export const STEP_DONE_FILE = "/tmp/elk-step-done";
/** Seconds a succeeded step stays up, so that the provider sees it healthy before it exits. */
export const STEP_LINGER_SECONDS = 10;

/**
 * Runs `argv`; when it succeeds, writes the done file and stays up a little (so the health check sees it); when it
 * fails, exits at once with its status, without the file.
 */
export function succeededGateCommand(argv: readonly string[]): string[] {
    return ["/bin/sh", "-c", '"$@" && touch "$ELK_STEP_DONE_FILE" && sleep "$ELK_STEP_LINGER_SECONDS"', "elk-step", ...argv];
}

/**
 * What keeps a failed one-shot step from being recorded as created. With `attach` alone the provider records any
 * run, failed or not, with its exit code (kreuzwerker/terraform-provider-docker, internal/provider/
 * resource_docker_container_funcs.go: resourceDockerContainerCreate never looks at the exit code), and every later
 * `pulumi up` would fail again on the old run. So the step must also become healthy (`wait`), which only a
 * succeeded step does: a failed one makes the provider's create fail once the wait times out, after the step's own
 * deadline. The bridge then records the container as failed to initialise
 * (pulumi-terraform-bridge pkg/tfbridge/provider.go, initializationError), and the next `pulumi up` replaces it:
 * the step runs again. A succeeded step still ends with exit code 0 and its log captured by `attach`.
 */
export function succeededGate(spec: JobSpec, envs: docker.ContainerArgs["envs"]): Pick<docker.ContainerArgs, "entrypoints" | "envs" | "healthcheck" | "wait" | "waitTimeout"> {
    if (spec.entrypoint === undefined) throw new Error(`${spec.name}: a gated step needs an entrypoint`);
    const gateEnv = [`ELK_STEP_DONE_FILE=${STEP_DONE_FILE}`, `ELK_STEP_LINGER_SECONDS=${STEP_LINGER_SECONDS}`];
    return {
        entrypoints: succeededGateCommand(spec.entrypoint),
        envs: pulumi.output(envs ?? []).apply((e) => [...(e ?? []), ...gateEnv]),
        healthcheck: { tests: ["CMD-SHELL", `test -f ${STEP_DONE_FILE}`], interval: goDuration(1), timeout: goDuration(5), retries: 3, startPeriod: goDuration(0) },
        wait: true,
        waitTimeout: spec.timeoutSeconds + 60,
    };
}

/** Docker's default capabilities of a container (moby/moby oci/caps/defaults.go, DefaultCapabilities). */
export const DOCKER_DEFAULT_CAPABILITIES = [
    "CHOWN",
    "DAC_OVERRIDE",
    "FSETID",
    "FOWNER",
    "MKNOD",
    "NET_RAW",
    "SETGID",
    "SETUID",
    "SETFCAP",
    "SETPCAP",
    "NET_BIND_SERVICE",
    "SYS_CHROOT",
    "KILL",
    "AUDIT_WRITE",
] as const;

/** A default capability. */
export type DockerCapability = (typeof DOCKER_DEFAULT_CAPABILITIES)[number];

/** Log rotation of every container: the json-file driver keeps at most `max-file` files of `max-size` each. */
export const LOG_ROTATION = { driver: "json-file", maxSize: "10m", maxFiles: 3 } as const;

/**
 * Capabilities, privilege escalation and logs of a container. `keep` lists the default capabilities it keeps: none
 * for the Elastic images, which run as uid 1000 and whose entrypoints chown, chroot or setuid only when started as
 * root (elastic/elasticsearch distribution/docker/src/docker/bin/docker-entrypoint.sh; the Kibana and Logstash
 * images have USER 1000 too). The root helper that hands a volume to that user keeps CHOWN and FOWNER, expressed as
 * dropping every other default rather than `drops: ALL` plus `adds` (which the policy pack refuses for anything but
 * NET_BIND_SERVICE); the set is the same. A privileged step gets every capability whatever the lists say (moby/moby
 * daemon/oci_linux.go, WithCapabilities), so none are given for it. `no-new-privileges` stops a setuid binary
 * from gaining any.
 */
export function containerHardening(keep: readonly DockerCapability[] | "privileged"): Pick<docker.ContainerArgs, "capabilities" | "securityOpts" | "logDriver" | "logOpts"> {
    const capabilities =
        keep === "privileged"
            ? undefined
            : keep.length === 0
              ? { drops: ["ALL"] }
              : { drops: DOCKER_DEFAULT_CAPABILITIES.filter((c) => !keep.includes(c)) };
    return {
        ...(capabilities ? { capabilities } : {}),
        securityOpts: ["no-new-privileges:true"],
        logDriver: LOG_ROTATION.driver,
        logOpts: { "max-size": LOG_ROTATION.maxSize, "max-file": String(LOG_ROTATION.maxFiles) },
    };
}

/**
 * Group of every secret file uploaded into a container: root's (0), the group a file gets when the provider does not
 * apply an upload's `owner` and `group`. @pulumi/docker 5.2.0 declares both (its ContainerUpload type: "numeric IDs
 * can be used directly"), but no provider source that implements them could be read for this release: the newest
 * pulumi/pulumi-docker source at hand wraps kreuzwerker/terraform-provider-docker v4.5.0, whose upload
 * (internal/provider/resource_docker_container_funcs.go, resourceDockerContainerCreate) writes a tar header with the
 * mode only, no Uid or Gid, and Docker extracts a file with the header's owner (moby/moby pkg/archive, createTarFile):
 * root's. So nothing here depends on them: a secret file is readable by its group (see {@link uploadPermissions}),
 * whose id is 0 either way, and every process that reads one runs with group 0 (see {@link processGroups}). The owner
 * is still given, so that where the provider applies it the service also owns the file (and may delete a step's
 * file once read, in the sticky /tmp).
 */
export const SECRET_FILE_GROUP = 0;

/** The upload mode of a file: read by its owner, a secret file is read by its group too (0600 becomes 0640). */
export function uploadPermissions(file: Pick<FileSpec, "mode" | "secret">): string {
    if (!file.secret) return file.mode;
    const mode = parseInt(file.mode, 8);
    return `0${(mode | ((mode & 0o400) >> 3)).toString(8).padStart(3, "0")}`;
}

/**
 * The process identity of a container: `user` as the spec's uid and gid (as Kubernetes' runAsUser and runAsGroup),
 * and group {@link SECRET_FILE_GROUP} added when the primary group is another and the container reads secret files
 * (Logstash, 1000:1000). The Elasticsearch and Kibana images run with group 0 already.
 */
export function processGroups(spec: Pick<ContainerSpec, "runAs" | "files">): Pick<docker.ContainerArgs, "user" | "groupAdds"> {
    const readsSecrets = spec.files.some((f) => f.secret);
    return {
        user: `${spec.runAs.uid}:${spec.runAs.gid}`,
        ...(readsSecrets && spec.runAs.gid !== SECRET_FILE_GROUP ? { groupAdds: [String(SECRET_FILE_GROUP)] } : {}),
    };
}

/** Label every container of the stack carries, so `docker ps --filter label=...` finds them. */
export const STACK_LABEL = "dev.elk-stack.stack";

/**
 * The Docker target: a private bridge network, one container per service, named volumes for data, and
 * one-shot containers for steps. Containers start only after what they depend on is healthy (the provider
 * waits for the Docker health status), never after a fixed sleep.
 */
export class DockerPlatform extends pulumi.ComponentResource implements Platform {
    readonly kind = "docker" as const;
    readonly publishesOnHost = true;
    /** The private network every container joins. */
    readonly network: docker.Network;
    /** Name of the private network. */
    readonly networkName: pulumi.Output<string>;

    private readonly prefix: string;
    private readonly resourcePrefix: string;
    private readonly dataKey: string;
    private readonly formerDataKey?: string;
    private readonly protectData: boolean;
    private readonly bindAddress: string;
    private readonly bindAddresses: Readonly<Record<string, string>>;
    private readonly images = new Map<string, docker.RemoteImage>();
    private readonly resourceOpts: pulumi.CustomResourceOptions;
    /** The provider of the engine the names and ports are claimed on (components/targets/dockerClaims.ts). */
    private readonly engine?: pulumi.ProviderResource;

    constructor(name: string, args: DockerPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        super("elk:docker:Platform", name, {}, opts);
        this.prefix = args.namePrefix;
        this.resourcePrefix = args.resourcePrefix ?? args.namePrefix;
        this.dataKey = args.dataKey ?? this.resourcePrefix;
        this.formerDataKey = args.formerDataKey;
        this.protectData = args.protectData ?? false;
        this.bindAddress = args.bindAddress;
        this.bindAddresses = args.bindAddresses ?? {};
        // A platform built by hand skips the settings' validator: its addresses become URLs (endpoint) and port bindings.
        for (const address of [this.bindAddress, ...Object.values(this.bindAddresses)]) {
            const ip = canonicalIp(address);
            if (ip === undefined || ip === "::") {
                throw new pulumi.ResourceError(`DockerPlatform '${name}': bind address '${address}' is ${ip === "::" ? "the IPv6 unspecified address, which would make URLs https://[::]:<port> that no client dials" : "not an IP address without a zone"}. Fix: use 127.0.0.1, ::1, 0.0.0.0 or one of the host's addresses`, this);
            }
        }
        // An explicit provider first, then one given to this component or a parent (opts.provider, opts.providers),
        // and the default provider only when there is none.
        const provider = args.provider ?? this.getProvider("docker::Provider");
        this.resourceOpts = provider ? { provider } : {};
        this.engine = provider;
        this.claim({ kind: "network", name: `${this.prefix}-net` });
        this.network = new docker.Network(
            `${name}-network`,
            {
                name: `${this.prefix}-net`,
                driver: "bridge",
                labels: [{ label: STACK_LABEL, value: this.prefix }],
            },
            { parent: this, ...this.resourceOpts },
        );
        this.networkName = this.network.name;
        this.registerOutputs({ networkName: this.networkName });
    }

    internalHost(instance: string): string {
        return instance;
    }

    extraDnsNames(_instance: string, _replicas: number): string[] {
        return [];
    }

    memberNames(instance: string, replicas: number): string[] {
        if (replicas !== 1) throw new Error(`Docker runs one ${instance}, not ${replicas}: use the kubernetes target for more`);
        return [instance];
    }

    discoveryHost(instance: string): string {
        return instance;
    }

    /** The host address `instance`'s published ports bind to. */
    bindAddressOf(instance: string): string {
        return this.bindAddresses[instance] ?? this.bindAddress;
    }

    endpoint(instance: string, port: PortSpec): Endpoint {
        const bind = this.bindAddressOf(instance);
        const host = bind === "0.0.0.0" || bind === "127.0.0.1" ? "localhost" : bind;
        if (port.hostPort === undefined) throw new Error(`port ${port.name} of ${instance} is not published on the host`);
        return { host, port: port.hostPort };
    }

    /** The host is this one Docker engine: the step runs once, before the service. */
    hostStep(spec: JobSpec, opts: PlacementOptions): HostStep {
        return { job: this.runJob(spec, opts) };
    }

    /** Claims a physical name or a host port on this engine; a second stack claiming it stops the program. */
    private claim(claim: NameClaim | PortClaim): void {
        const by = { stack: this.resourcePrefix, namePrefix: this.prefix };
        const problem = "kind" in claim ? claimName(this.engine, by, claim) : claimPort(this.engine, by, claim);
        if (problem) throw new pulumi.ResourceError(problem, this);
    }

    runService(spec: ServiceSpec, opts: PlacementOptions): PlacedService {
        for (const v of spec.volumes) this.claim({ kind: "volume", name: `${this.prefix}-${spec.name}-${v.name}`, what: `${spec.description}'s ${v.name}` });
        for (const v of spec.volumes.filter((x) => x.shared)) this.claim({ kind: "container", name: `${this.prefix}-${spec.name}-${v.name}-owner` });
        this.claim({ kind: "container", name: `${this.prefix}-${spec.name}` });
        for (const p of spec.ports) {
            if (p.hostPort !== undefined) this.claim({ protocol: p.protocol, address: this.bindAddressOf(spec.name), port: p.hostPort, container: `${this.prefix}-${spec.name}` });
        }
        const volumes = spec.volumes.map(
            (v) =>
                new docker.Volume(
                    dataVolumeResourceName(this.dataKey, spec, v),
                    { name: `${this.prefix}-${spec.name}-${v.name}`, labels: [{ label: STACK_LABEL, value: this.prefix }] },
                    { parent: opts.parent, ...dataVolumeOptions(this.prefix, spec, v, this.protectData, this.dataKey, this.formerDataKey), ...this.resourceOpts },
                ),
        );
        // A new named volume takes the owner of its mount point in the image, and root's when the image has no such
        // directory (the snapshot repository's): hand it to the service's user before the service starts.
        const owners = spec.volumes.flatMap((v, i) => {
            if (!v.shared) return [];
            const ownerName = childName(this.resourcePrefix, spec.name, v.name, "owner");
            const owner = new docker.Container(
                ownerName,
                {
                    name: `${this.prefix}-${spec.name}-${v.name}-owner`,
                    image: this.image(VOLUME_OWNER_IMAGE).imageId,
                    entrypoints: volumeOwnerCommand(spec.runAs, "/volume"),
                    // Root without privileges: chown, then chmod of a directory root no longer owns, nothing more.
                    user: "0:0",
                    privileged: false,
                    ...containerHardening(["CHOWN", "FOWNER"]),
                    volumes: [{ volumeName: volumes[i].name, containerPath: "/volume" }],
                    networkMode: "none",
                    labels: [
                        { label: STACK_LABEL, value: this.prefix },
                        { label: "dev.elk-stack.role", value: `${spec.role}-volume-owner` },
                    ],
                    attach: true,
                    mustRun: false,
                    logs: true,
                    restart: "no",
                    memory: 16,
                },
                { parent: opts.parent, aliases: formerNames(ownerName, `${this.prefix}-${spec.name}-${v.name}-owner`), ...this.resourceOpts },
            );
            const succeeded = owner.exitCode.apply((code) => {
                if (code !== undefined && code !== null && code !== 0) {
                    throw new pulumi.RunError(`handing volume ${this.prefix}-${spec.name}-${v.name} (or the name it was created with) to uid ${spec.runAs.uid} (container ${this.prefix}-${spec.name}-${v.name}-owner) exited with code ${code}`);
                }
                return true;
            });
            return [{ done: owner, succeeded }];
        });
        const container = new docker.Container(
            this.resourceName(spec),
            {
                ...this.common(spec),
                mustRun: true,
                restart: "unless-stopped",
                // On replacement and destroy the provider stops the container with this timeout, and with 0 (an
                // immediate kill) without it (upstream resourceDockerContainerDelete).
                destroyGraceSeconds: spec.stopGraceSeconds,
                // The container's own timeout, used by `docker stop` and when the Docker daemon shuts down.
                stopTimeout: spec.stopGraceSeconds,
                memory: spec.memoryMb,
                // -1 (swap not limited by the container) is what Docker reports back on every host: a limit equal to
                // `memory` reads back as -1 where the kernel has no swap accounting, a change on every `pulumi up`.
                // Keep swap off on the host for Elasticsearch (Elastic's advice) rather than per container.
                memorySwap: -1,
                ports: spec.ports
                    .filter((p) => p.hostPort !== undefined)
                    .map((p) => ({ internal: p.containerPort, external: p.hostPort, protocol: p.protocol, ip: this.bindAddressOf(spec.name) })),
                volumes: spec.volumes.map((v, i) => ({ volumeName: volumes[i].name, containerPath: v.mountPath })),
                healthcheck: dockerHealthcheck(spec.healthCheck),
                wait: true,
                waitTimeout: spec.healthCheck.startPeriodSeconds + spec.healthCheck.retries * spec.healthCheck.intervalSeconds + 60,
            },
            {
                parent: opts.parent,
                aliases: this.formerNames(spec),
                dependsOn: this.dependencies(opts, owners),
                // The provider updates a changed health check in its state only: Docker cannot change it on a
                // container (upstream resourceDockerContainerUpdate), so a new one needs a new container.
                replaceOnChanges: ["healthcheck"],
                ...this.resourceOpts,
            },
        );
        return { ready: container, resources: [...volumes, ...owners.map((o) => o.done), container] };
    }

    runJob(spec: JobSpec, opts: PlacementOptions): PlacedJob {
        this.claim({ kind: "container", name: `${this.prefix}-${spec.name}` });
        const common = this.common(spec);
        // The privileged kernel step keeps its bare command (the policy pack accepts exactly that); it rarely fails.
        const gated = !spec.privileged && spec.entrypoint !== undefined;
        const container = new docker.Container(
            this.resourceName(spec),
            {
                ...common,
                ...(gated ? succeededGate(spec, common.envs) : {}),
                // Run once, wait for the end, keep the exited container so its logs can be read.
                attach: true,
                mustRun: false,
                logs: true,
                restart: "no",
                memory: spec.memoryMb,
            },
            { parent: opts.parent, aliases: this.formerNames(spec), dependsOn: this.dependencies(opts), ...this.resourceOpts },
        );
        const succeeded = pulumi.all([container.exitCode, container.containerLogs]).apply(([code, logs]) => {
            // The provider records a failed step without failing; a failed step must stop the deployment.
            if (code !== undefined && code !== null && code !== 0) {
                throw new pulumi.RunError(`${spec.description} (container ${this.prefix}-${spec.name}) exited with code ${code}:\n${logs ?? ""}`);
            }
            return true;
        });
        return { done: container, succeeded };
    }

    /** After `dependsOn`, the steps in `after`, the host steps (on Docker one-shot containers) and `more`. */
    private dependencies(opts: PlacementOptions, more: readonly PlacedJob[] = []): pulumi.Output<pulumi.Resource[]> {
        return afterSteps(opts.dependsOn, [...(opts.after ?? []), ...(opts.hostSteps ?? []).flatMap((h) => (h.job ? [h.job] : [])), ...more]);
    }

    /** Resource name of a spec's container. */
    private resourceName(spec: ContainerSpec): string {
        return childName(this.resourcePrefix, spec.name);
    }

    /** The 0.4.0 resource name of a spec's container, when it differs. */
    private formerNames(spec: ContainerSpec): pulumi.Alias[] {
        return formerNames(this.resourceName(spec), `${this.prefix}-${spec.name}`);
    }

    private image(ref: string): docker.RemoteImage {
        let image = this.images.get(ref);
        if (!image) {
            const part = `image-${ref.replace(/^.*\//, "").replace(/[^a-zA-Z0-9.-]/g, "-")}`;
            const resourceName = childName(this.resourcePrefix, part);
            image = new docker.RemoteImage(
                resourceName,
                { name: ref, keepLocally: true },
                { parent: this, aliases: formerNames(resourceName, `${this.prefix}-${part}`), ...this.resourceOpts },
            );
            this.images.set(ref, image);
        }
        return image;
    }

    private common(spec: ContainerSpec): docker.ContainerArgs {
        // Never a secret: `docker inspect` shows the environment. Secrets are uploaded files (0640, group 0).
        const envs = [...Object.entries(spec.env).map(([k, v]) => `${k}=${v}`), ...(spec.instanceNameEnv ? [`${spec.instanceNameEnv}=${spec.name}`] : [])];
        return {
            name: `${this.prefix}-${spec.name}`,
            hostname: spec.name,
            image: this.image(spec.image).imageId,
            entrypoints: spec.entrypoint ? [...spec.entrypoint] : undefined,
            envs,
            privileged: spec.privileged,
            ...processGroups(spec),
            ...containerHardening(spec.privileged ? "privileged" : []),
            networksAdvanced: [{ name: this.network.name, aliases: [spec.name] }],
            labels: [
                { label: STACK_LABEL, value: this.prefix },
                { label: "dev.elk-stack.role", value: spec.role },
                // One key file makes the whole uploads list secret in previews; these digests keep config changes visible.
                ...spec.files
                    .filter((f) => !f.secret)
                    .map((f) => ({
                        label: `dev.elk-stack.file.${f.path.slice(f.path.lastIndexOf("/") + 1)}`,
                        value: pulumi.output(f.content).apply((c) => crypto.createHash("sha256").update(c).digest("hex").slice(0, 16)),
                    })),
            ],
            uploads: spec.files.map((f) => ({
                file: f.path,
                content: f.secret ? pulumi.secret(f.content) : f.content,
                permissions: uploadPermissions(f),
                owner: String(spec.runAs.uid),
                group: String(f.secret ? SECRET_FILE_GROUP : spec.runAs.gid),
            })),
        };
    }
}
