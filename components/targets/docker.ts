import * as crypto from "crypto";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { ContainerSpec, Endpoint, HostStep, JobSpec, PlacedJob, PlacedService, PlacementOptions, Platform, PortSpec, ServiceSpec } from "../spec";
import { afterSteps } from "./ordering";

/** Arguments of {@link DockerPlatform}. */
export interface DockerPlatformArgs {
    /** Prefix of container, network and volume names; keeps several stacks apart on one Docker engine. */
    namePrefix: string;
    /** Host address published ports bind to. */
    bindAddress: string;
    /** Docker provider to use (another engine, a remote host); the default provider otherwise. */
    provider?: docker.Provider;
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
    private readonly bindAddress: string;
    private readonly images = new Map<string, docker.RemoteImage>();
    private readonly resourceOpts: pulumi.CustomResourceOptions;

    constructor(name: string, args: DockerPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        super("elk:docker:Platform", name, {}, opts);
        this.prefix = args.namePrefix;
        this.bindAddress = args.bindAddress;
        this.resourceOpts = args.provider ? { provider: args.provider } : {};
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

    endpoint(instance: string, port: PortSpec): Endpoint {
        const host = this.bindAddress === "0.0.0.0" || this.bindAddress === "127.0.0.1" ? "localhost" : this.bindAddress;
        if (port.hostPort === undefined) throw new Error(`port ${port.name} of ${instance} is not published on the host`);
        return { host, port: port.hostPort };
    }

    /** The host is this one Docker engine: the step runs once, before the service. */
    hostStep(spec: JobSpec, opts: PlacementOptions): HostStep {
        return { job: this.runJob(spec, opts) };
    }

    runService(spec: ServiceSpec, opts: PlacementOptions): PlacedService {
        const volumes = spec.volumes.map(
            (v) =>
                new docker.Volume(
                    `${this.prefix}-${spec.name}-${v.name}`,
                    { name: `${this.prefix}-${spec.name}-${v.name}`, labels: [{ label: STACK_LABEL, value: this.prefix }] },
                    // Data must outlive the container: replacing a container never touches its volume.
                    { parent: opts.parent, ...this.resourceOpts },
                ),
        );
        const container = new docker.Container(
            `${this.prefix}-${spec.name}`,
            {
                ...this.common(spec),
                mustRun: true,
                restart: "unless-stopped",
                memory: spec.memoryMb,
                memorySwap: spec.memoryMb,
                ports: spec.ports
                    .filter((p) => p.hostPort !== undefined)
                    .map((p) => ({ internal: p.containerPort, external: p.hostPort, protocol: p.protocol, ip: this.bindAddress })),
                volumes: spec.volumes.map((v, i) => ({ volumeName: volumes[i].name, containerPath: v.mountPath })),
                healthcheck: {
                    tests: ["CMD-SHELL", spec.healthCheck.command],
                    interval: `${spec.healthCheck.intervalSeconds}s`,
                    timeout: `${spec.healthCheck.timeoutSeconds}s`,
                    retries: spec.healthCheck.retries,
                    startPeriod: `${spec.healthCheck.startPeriodSeconds}s`,
                },
                wait: true,
                waitTimeout: spec.healthCheck.startPeriodSeconds + spec.healthCheck.retries * spec.healthCheck.intervalSeconds + 60,
            },
            { parent: opts.parent, dependsOn: this.dependencies(opts), ...this.resourceOpts },
        );
        return { ready: container, resources: [...volumes, container] };
    }

    runJob(spec: JobSpec, opts: PlacementOptions): PlacedJob {
        const container = new docker.Container(
            `${this.prefix}-${spec.name}`,
            {
                ...this.common(spec),
                // Run once, wait for the end, keep the exited container so its logs can be read.
                attach: true,
                mustRun: false,
                logs: true,
                restart: "no",
                memory: spec.memoryMb,
            },
            { parent: opts.parent, dependsOn: this.dependencies(opts), ...this.resourceOpts },
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

    /** After `dependsOn`, the steps in `after`, and the host steps, which on Docker are one-shot containers. */
    private dependencies(opts: PlacementOptions): pulumi.Input<pulumi.Input<pulumi.Resource>[]> {
        return afterSteps(opts.dependsOn, [...(opts.after ?? []), ...(opts.hostSteps ?? []).flatMap((h) => (h.job ? [h.job] : []))]);
    }

    private image(ref: string): docker.RemoteImage {
        let image = this.images.get(ref);
        if (!image) {
            const resourceName = `${this.prefix}-image-${ref.replace(/^.*\//, "").replace(/[^a-zA-Z0-9.-]/g, "-")}`;
            image = new docker.RemoteImage(resourceName, { name: ref, keepLocally: true }, { parent: this, ...this.resourceOpts });
            this.images.set(ref, image);
        }
        return image;
    }

    private common(spec: ContainerSpec): docker.ContainerArgs {
        const secretEntries = Object.entries(spec.secretEnv);
        const envs = pulumi
            .all(secretEntries.map(([, s]) => s.value))
            .apply((values) => [
                ...Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
                ...(spec.instanceNameEnv ? [`${spec.instanceNameEnv}=${spec.name}`] : []),
                ...secretEntries.map(([k], i) => `${k}=${values[i]}`),
            ]);
        return {
            name: `${this.prefix}-${spec.name}`,
            hostname: spec.name,
            image: this.image(spec.image).imageId,
            entrypoints: spec.entrypoint ? [...spec.entrypoint] : undefined,
            envs: secretEntries.length > 0 ? pulumi.secret(envs) : envs,
            privileged: spec.privileged,
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
                permissions: f.mode,
                owner: String(spec.runAs.uid),
                group: String(spec.runAs.gid),
            })),
        };
    }
}
