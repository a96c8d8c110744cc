import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ServiceType } from "../config";
import type { ContainerSpec, Endpoint, HostStep, JobSpec, PlacedJob, PlacedService, PlacementOptions, Platform, PortSpec, ServiceSpec } from "../spec";
import { childName, formerNames } from "../naming";
import * as m from "./kubernetesManifests";
import type { AntiAffinity, StorageKeys } from "./kubernetesManifests";
import { afterSteps } from "./ordering";
import type { IngressRule } from "../traffic";

/** An Ingress for one service. */
export interface KubernetesIngress {
    /** Instance name of the service (its Service name). */
    readonly service: string;
    /** Host name the Ingress routes (a DNS name). */
    readonly host: string;
    /** Ingress class; the cluster's default class when unset. */
    readonly className?: string;
    /** Service port to route to. */
    readonly portName: string;
}

/**
 * Fails the program (a RunError: the message alone, no stack) when `previous`, the recorded claim templates, and
 * `current` differ (see {@link m.storageChangeRefusal}). A record of another shape cannot come from this program
 * and is not compared.
 */
export function refuseStorageChange(input: Omit<m.StorageChangeInput, "previous"> & { readonly previous: unknown }): void {
    if (!Array.isArray(input.previous)) return;
    const refusal = m.storageChangeRefusal({ ...input, previous: input.previous as m.ClaimStorage[] });
    if (refusal) throw new pulumi.RunError(refusal);
}

/** Arguments of {@link KubernetesPlatform}. */
export interface KubernetesPlatformArgs {
    /** Namespace to put everything in (and to create, unless `createNamespace` is false). */
    namespace: string;
    /**
     * False when someone else owns the namespace: the platform then creates no Namespace object and labels none
     * (its Pod Security level is the owner's business). True by default.
     */
    createNamespace?: boolean;
    /**
     * Stack name, labelled on every object (and selecting the stack's pods). 0.4.0 also named the Pulumi
     * resources after it: resources named otherwise now carry an alias to that name.
     */
    stackName: string;
    /**
     * Prefix of the Pulumi resource names of the objects (see `childName` in components/naming.ts): the owning
     * `ElkStack`'s name. `stackName` when unset.
     */
    resourcePrefix?: string;
    /**
     * Prefix of the Kubernetes object names (`<objectPrefix>-<instance>`), so stacks with the same instance names
     * can share a namespace. Unset: objects are named after their instances, as in 0.4.0. Changing it renames
     * every object, which replaces them, and gives the StatefulSets new (empty) claims: set it on new stacks only.
     */
    objectPrefix?: string;
    /** Kubeconfig path or contents; the ambient kubeconfig when unset. Passed to the provider as a secret. */
    kubeconfig?: string;
    /** Kubeconfig context; the current one when unset. */
    context?: string;
    /** Write manifests here instead of applying them (GitOps). */
    renderDir?: string;
    /**
     * Use this provider. When unset, the provider of `opts.provider`, `opts.providers` or a parent; only when there
     * is none does the platform build one from `kubeconfig`, `context` and `renderDir`.
     */
    provider?: pulumi.ProviderResource;
    /** Storage class of persistent volumes; the cluster default when unset. */
    storageClass?: string;
    /**
     * Stack config keys behind each StatefulSet's storage (by instance name), named when a change is refused;
     * generic names when an instance is not listed.
     */
    storageKeys?: Readonly<Record<string, StorageKeys>>;
    /** Service type per instance name; ClusterIP when not listed. */
    serviceTypes?: Readonly<Record<string, ServiceType>>;
    /** Ingresses to create. */
    ingresses?: readonly KubernetesIngress[];
    /** How replicas of one service spread over nodes. */
    antiAffinity?: AntiAffinity;
    /** Whether a privileged host step will run (decides the namespace's Pod Security level). */
    privilegedHostSteps: boolean;
    /** Mark the namespace `protect`ed: `pulumi destroy` and replacements refuse to proceed. */
    protectData?: boolean;
    /**
     * Connections the stack's pods accept (see `stackIngressRules`). When given, every pod of the stack refuses all
     * other ingress (a NetworkPolicy selecting them all with no rule), and each instance gets a NetworkPolicy that
     * admits exactly these. The cluster's network plugin must enforce NetworkPolicies for them to have any effect.
     */
    ingressRules?: readonly IngressRule[];
}

/** What {@link clusterAccess} reads: the arguments both Kubernetes engines take alike. */
export interface ClusterAccessArgs {
    namespace: string;
    createNamespace?: boolean;
    kubeconfig?: string;
    context?: string;
    renderDir?: string;
    provider?: pulumi.ProviderResource;
    privilegedHostSteps: boolean;
    protectData?: boolean;
}

/**
 * The provider and the namespace of a Kubernetes platform, on either engine: an explicit provider, else the one
 * given to `owner` or a parent (`opts.provider`, `opts.providers`), and one built from kubeconfig/context only when
 * there is none; the namespace unless someone else owns it (`createNamespace: false`).
 */
export function clusterAccess(
    owner: pulumi.ComponentResource,
    name: string,
    args: ClusterAccessArgs,
    placement: m.Placement,
): { provider: pulumi.ProviderResource; namespace?: k8s.core.v1.Namespace } {
    const provider =
        args.provider ??
        owner.getProvider("kubernetes::Provider") ??
        new k8s.Provider(
            `${name}-provider`,
            {
                // Contents or a path: either way it opens the cluster, so it is kept encrypted in the state.
                kubeconfig: args.kubeconfig === undefined ? undefined : pulumi.secret(args.kubeconfig),
                context: args.context,
                namespace: args.namespace,
                renderYamlToDirectory: args.renderDir,
                enableServerSideApply: true,
            },
            { parent: owner },
        );
    const namespace =
        args.createNamespace === false
            ? undefined
            : new k8s.core.v1.Namespace(`${name}-namespace`, m.namespace(placement, args.privilegedHostSteps), {
                  parent: owner,
                  provider,
                  // Deleting a namespace deletes every claim in it, whatever the StatefulSets' retention policy says. So
                  // `pulumi destroy`, a namespace rename or dropping the stack leave it (and the data) in the cluster.
                  retainOnDelete: true,
                  protect: args.protectData ?? false,
              });
    return { provider, namespace };
}

/**
 * The ConfigMap and Secret holding a spec's files (none when it has no such file), named and placed by `named`:
 * on either engine, the objects the pods mount their files from.
 */
export function specContents(
    spec: ContainerSpec,
    namespace: string,
    placement: m.Placement,
    named: (kind: "files" | "secrets") => { name: string; opts: pulumi.CustomResourceOptions },
): { refs: m.ContentRefs; resources: pulumi.CustomResource[] } {
    const resources: pulumi.CustomResource[] = [];
    const meta = { namespace, labels: m.labels(placement, spec) };
    let configMapName: pulumi.Output<string> | undefined;
    let secretName: pulumi.Output<string> | undefined;
    const cmData = m.configMapData(spec);
    if (Object.keys(cmData).length > 0) {
        const { name, opts } = named("files");
        const cm = new k8s.core.v1.ConfigMap(name, { metadata: meta, data: cmData }, opts);
        configMapName = cm.metadata.name;
        resources.push(cm);
    }
    const secretEntries = m.secretData(spec);
    if (Object.keys(secretEntries).length > 0) {
        const { name, opts } = named("secrets");
        const secret = new k8s.core.v1.Secret(
            name,
            { metadata: meta, type: "Opaque", stringData: pulumi.secret(pulumi.output(secretEntries)) },
            { ...opts, additionalSecretOutputs: ["data", "stringData"] },
        );
        secretName = secret.metadata.name;
        resources.push(secret);
    }
    return { refs: { configMapName, secretName }, resources };
}

/**
 * The Kubernetes target: a namespace; per service a ConfigMap (configs, pipelines, certificates) and a Secret
 * (keys, passwords), a StatefulSet when it keeps per-pod state (Elasticsearch data, Logstash's persistent
 * queue) or else a Deployment, a Service, a headless Service and a PodDisruptionBudget for StatefulSets; steps
 * run as Jobs, and host steps as init containers. The provider waits for workloads to be ready and Jobs to
 * complete, so dependants start only after them.
 */
export class KubernetesPlatform extends pulumi.ComponentResource implements Platform {
    readonly kind = "kubernetes" as const;
    /** Probes run inside the pods and `kubectl port-forward` listens on localhost: certificates name localhost. */
    readonly publishesOnHost = true;
    /** The namespace everything lives in; undefined when the stack does not own it (`createNamespace: false`). */
    readonly namespace?: k8s.core.v1.Namespace;
    /** The provider every object is created with. */
    readonly provider: pulumi.ProviderResource;

    private readonly placement: m.Placement;
    private readonly args: KubernetesPlatformArgs;

    constructor(name: string, args: KubernetesPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        super("elk:kubernetes:Platform", name, {}, opts);
        this.args = args;
        this.placement = { namespace: args.namespace, stack: args.stackName, prefix: args.objectPrefix };
        ({ provider: this.provider, namespace: this.namespace } = clusterAccess(this, name, args, this.placement));
        if (args.ingressRules) {
            // Before any pod: a pod never runs without its policy.
            const inNamespace = (resourceName: string, ...former: string[]) => ({
                parent: this,
                provider: this.provider,
                dependsOn: this.namespace ? [this.namespace] : [],
                aliases: formerNames(resourceName, ...former),
            });
            const denyName = this.resourceName("deny-ingress");
            new k8s.networking.v1.NetworkPolicy(denyName, m.denyIngressPolicy(this.placement), inNamespace(denyName, `${args.stackName}-deny-ingress`));
            for (const policy of m.ingressPolicies(this.placement, args.ingressRules)) {
                const policyName = this.resourceName(policy.instance, "ingress");
                new k8s.networking.v1.NetworkPolicy(policyName, policy.manifest, inNamespace(policyName, `${args.stackName}-${policy.instance}-ingress`));
            }
        }
        this.registerOutputs({ namespace: args.namespace });
    }

    internalHost(instance: string): string {
        return `${m.objectName(this.placement, instance)}.${this.args.namespace}.svc`;
    }

    extraDnsNames(instance: string, _replicas: number): string[] {
        // Every instance may become a StatefulSet; naming the pods too costs nothing and keeps certificates stable.
        // The replica count stays out of it: the pods' names are a wildcard (see serviceDnsNames).
        return m.serviceDnsNames(m.objectName(this.placement, instance), this.args.namespace, true);
    }

    memberNames(instance: string, replicas: number): string[] {
        const name = m.objectName(this.placement, instance);
        return replicas === 1 ? [name] : m.podNames(name, replicas);
    }

    discoveryHost(instance: string): string {
        return `${m.headlessName(m.objectName(this.placement, instance))}.${this.args.namespace}.svc`;
    }

    endpoint(instance: string, port: PortSpec): Endpoint {
        return { host: this.internalHost(instance), port: port.containerPort };
    }

    /** A pod may land on any node, so the step runs as an init container of every pod of the service. */
    hostStep(spec: JobSpec, _opts: PlacementOptions): HostStep {
        return { initContainer: spec };
    }

    runService(spec: ServiceSpec, opts: PlacementOptions): PlacedService {
        const { refs, resources } = this.contents(spec, opts);
        const sharedClaims: Record<string, pulumi.Output<string>> = {};
        for (const v of spec.volumes.filter((x) => x.shared)) {
            const claim = new k8s.core.v1.PersistentVolumeClaim(this.resourceName(spec.name, v.name, "claim"), m.sharedClaim(this.placement, spec, v), {
                ...this.opts(opts.parent, [], [spec.name, v.name, "claim"]),
                // Snapshots are the copy of last resort: the claim outlives destroy and replacements, like the namespace.
                retainOnDelete: true,
                protect: this.args.protectData ?? false,
            });
            sharedClaims[v.name] = claim.metadata.name;
            resources.push(claim);
        }
        const input: m.WorkloadInput = {
            keystoreSecretName: spec.keystore ? this.keystoreSecret(spec, opts, resources) : undefined,
            sharedClaims,
            placement: this.placement,
            spec,
            refs,
            initSteps: (opts.hostSteps ?? []).flatMap((h) => (h.initContainer ? [h.initContainer] : [])),
            antiAffinity: this.args.antiAffinity ?? "hard",
            storageClass: this.args.storageClass,
        };
        const serviceType = this.args.serviceTypes?.[spec.name] ?? "ClusterIP";
        // customTimeouts, not the pulumi.com/timeoutSeconds annotation: the provider takes the resource option
        // first and reads the annotation only when no option is set (provider/pkg/metadata/overrides.go,
        // TimeoutDuration), and an option changes no manifest.
        const rollout = `${m.rolloutTimeoutSeconds(spec)}s`;
        const awaitRollout = { customTimeouts: { create: rollout, update: rollout } };
        let workload: pulumi.CustomResource;
        if (m.needsStatefulSet(spec)) {
            const headless = new k8s.core.v1.Service(this.resourceName(spec.name, "headless"), m.headlessService(this.placement, spec), this.opts(opts.parent, [], [spec.name, "headless"]));
            const pdb = new k8s.policy.v1.PodDisruptionBudget(this.resourceName(spec.name, "pdb"), m.disruptionBudget(this.placement, spec), this.opts(opts.parent, [], [spec.name, "pdb"]));
            workload = new k8s.apps.v1.StatefulSet(this.resourceName(spec.name, "statefulset"), this.checkedStorage(spec, m.statefulSet(input), opts.parent), {
                ...this.opts(opts.parent, this.dependencies(opts, [headless]), [spec.name, "statefulset"]),
                ...awaitRollout,
            });
            resources.push(headless, pdb, workload);
        } else {
            workload = new k8s.apps.v1.Deployment(this.resourceName(spec.name, "deployment"), m.deployment(input), {
                ...this.opts(opts.parent, this.dependencies(opts), [spec.name, "deployment"]),
                ...awaitRollout,
            });
            resources.push(workload);
        }
        // The client Service after its pods are ready: the provider waits for a Service to have endpoints, which a
        // Service created long before its pods (behind Elasticsearch and the bootstrap) would not get in time.
        const service = new k8s.core.v1.Service(this.resourceName(spec.name, "service"), m.clientService(this.placement, spec, serviceType), this.opts(opts.parent, [workload], [spec.name, "service"]));
        resources.push(service);
        for (const ing of this.args.ingresses ?? []) {
            if (ing.service !== spec.name) continue;
            resources.push(new k8s.networking.v1.Ingress(this.resourceName(spec.name, "ingress"), m.ingress(this.placement, spec, ing), this.opts(opts.parent, [service], [spec.name, "ingress"])));
        }
        // Dependants dial the Service's name: ready means the pods are ready and the Service routes to them.
        return { ready: service, resources };
    }

    runJob(spec: JobSpec, opts: PlacementOptions): PlacedJob {
        const { refs } = this.contents(spec, opts);
        const jobResource = new k8s.batch.v1.Job(
            this.resourceName(spec.name, "job"),
            m.job(this.placement, spec, refs),
            // The provider waits for the Job to complete and fails the update when it fails; the deadline bounds the wait.
            {
                ...this.opts(opts.parent, this.dependencies(opts), [spec.name, "job"]),
                customTimeouts: { create: `${spec.timeoutSeconds + 60}s`, update: `${spec.timeoutSeconds + 60}s` },
            },
        );
        return { done: jobResource, succeeded: jobResource.metadata.apply(() => true) };
    }

    /**
     * The StatefulSet's manifest, held back until its claim templates are checked against those it was created
     * with: a change fails the update before any resource is touched, with the steps to take instead
     * (see {@link m.storageChangeRefusal}).
     *
     * The program cannot see earlier updates, so a `pulumi.Stash` keeps the claim templates: the engine's built-in
     * provider stores the stash's input at creation as its `output` and keeps that value on every later update
     * (pulumi/pulumi pkg/resource/deploy/builtins.go, Create and Update), previews included. `pulumi up --replace`
     * on the stash records the current value, once the claims were changed by hand.
     */
    private checkedStorage(
        spec: ServiceSpec,
        manifest: ReturnType<typeof m.statefulSet>,
        parent: pulumi.Resource | undefined,
    ): { metadata: ReturnType<typeof m.statefulSet>["metadata"]; spec: pulumi.Output<ReturnType<typeof m.statefulSet>["spec"]> } {
        const current = m.claimStorage(spec, this.args.storageClass);
        const record = new pulumi.Stash(this.resourceName(spec.name, "claims"), { input: current }, { parent });
        const keys = this.args.storageKeys?.[spec.name] ?? { size: "storage size", storageClass: "storageClass" };
        const checked = pulumi.all([record.output, record.urn]).apply(([previous, urn]: [unknown, string]) => {
            refuseStorageChange({ placement: this.placement, spec, previous, current, keys, recordUrn: urn });
            return manifest.spec;
        });
        return { metadata: manifest.metadata, spec: checked };
    }

    /** The Secret holding the values of a spec's keystore settings, kept apart from its files and environment. */
    private keystoreSecret(spec: ServiceSpec, opts: PlacementOptions, resources: pulumi.CustomResource[]): pulumi.Output<string> {
        const secret = new k8s.core.v1.Secret(
            this.resourceName(spec.name, "keystore"),
            {
                metadata: { namespace: this.args.namespace, labels: m.labels(this.placement, spec) },
                type: "Opaque",
                stringData: pulumi.secret(pulumi.output(m.keystoreSecretData(spec))),
            },
            { ...this.opts(opts.parent, [], [spec.name, "keystore"]), additionalSecretOutputs: ["data", "stringData"] },
        );
        resources.push(secret);
        return secret.metadata.name;
    }

    /** The ConfigMap and Secret of a spec; unnamed, so Pulumi replaces them (and rolls the pods) on any change. */
    private contents(spec: ContainerSpec, opts: PlacementOptions): { refs: m.ContentRefs; resources: pulumi.CustomResource[] } {
        return specContents(spec, this.args.namespace, this.placement, (kind) => ({ name: this.resourceName(spec.name, kind), opts: this.opts(opts.parent, [], [spec.name, kind]) }));
    }

    /** After `dependsOn`, the steps in `after` (Jobs the provider has waited on) and `extra`. */
    private dependencies(opts: PlacementOptions, extra: pulumi.Resource[] = []): pulumi.Input<pulumi.Input<pulumi.Resource>[]> {
        return afterSteps(opts.dependsOn, opts.after ?? [], extra);
    }

    /** Pulumi name of an object of this stack (see components/naming.ts). */
    private resourceName(...parts: string[]): string {
        return childName(this.args.resourcePrefix ?? this.args.stackName, ...parts);
    }

    /**
     * Options of every object: this platform's provider, created after the namespace (when the stack owns it), and
     * an alias to the 0.4.0 resource name (`<stackName>-<parts>`) when the name is another now.
     */
    private opts(parent: pulumi.Resource | undefined, dependsOn: pulumi.Input<pulumi.Input<pulumi.Resource>[]>, parts: string[]): pulumi.CustomResourceOptions {
        const namespace = this.namespace;
        return {
            parent,
            provider: this.provider,
            dependsOn: pulumi.output(dependsOn).apply((d) => (namespace ? [...d, namespace] : d)),
            aliases: formerNames(this.resourceName(...parts), childName(this.args.stackName, ...parts)),
        };
    }
}
