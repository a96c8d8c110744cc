/**
 * The Kubernetes target on plain manifests (the `manifests` engine): provider, namespace, ConfigMaps and Secrets, and
 * the workloads that kubernetesManifests.ts builds.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ServiceType } from "../model/config";
import type { ContainerSpec, Endpoint, HostStep, JobSpec, PlacedJob, PlacedService, PlacementOptions, Platform, PortSpec, ServiceSpec } from "../model/spec";
import { childName, formerNames } from "../model/naming";
import * as m from "./kubernetesManifests";
import type { AntiAffinity, StorageKeys } from "./kubernetesManifests";
import { afterSteps, waitingFor } from "./ordering";
import type { IngressRule } from "../model/traffic";

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
     * Prefix of the Pulumi resource names of the objects (see `childName` in components/model/naming.ts): the owning
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
    /** `clusterIdentifier` of the provider the platform builds (see `ClusterAccessArgs.clusterIdentifier`). */
    clusterIdentifier?: string;
    /** Record the stack's data home and refuse a change of it (see {@link dataHomeRefusal}). */
    dataHome?: DataHomeGuard;
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

/**
 * Where a stack's Elasticsearch data lives on Kubernetes. Each part names an object that holds the data: change any
 * and the next update makes a new object, which starts a new, empty cluster, while the old one is deleted and its
 * claims are left behind.
 */
export interface DataHome {
    readonly engine: "eck" | "manifests";
    readonly namespace: string;
    /** The object holding the data: the Elasticsearch resource (eck) or the StatefulSet (manifests). */
    readonly elasticsearch: string;
    /** The provider's `clusterIdentifier`: another value replaces the provider, and every object with it. */
    readonly cluster: string;
}

/** The config keys (or arguments) behind each part of a {@link DataHome}, named when a change is refused. */
export type DataHomeKeys = { readonly [K in keyof DataHome]: string };

/** The record of a stack's {@link DataHome}, which refuses a change of it before anything is sent. */
export interface DataHomeGuard {
    /**
     * Parent of the record: the owning stack, so that the record keeps its URN whichever engine runs the stack
     * (a change of engine is one of the changes it catches).
     */
    readonly parent?: pulumi.Resource;
    /** Pulumi name of the record (`<stack>-cluster-identity`). */
    readonly recordName: string;
    readonly current: DataHome;
    readonly keys: DataHomeKeys;
}

/** What a DataHome part is called in a message. */
const DATA_HOME_PART: Readonly<Record<keyof DataHome, string>> = {
    engine: "the Kubernetes engine",
    namespace: "the namespace",
    elasticsearch: "the Elasticsearch object's name",
    cluster: "the cluster (the provider's clusterIdentifier)",
};

/**
 * The claims holding the data of `h`: ECK names them `<claim template>-<StatefulSet>-<n>` with the StatefulSets
 * `<es>-es-<node set>` (cloud-on-k8s pkg/controller/elasticsearch/volume/names.go, esv1.StatefulSet), a StatefulSet
 * of the stack's own `data-<name>-<n>` (kubernetesManifests.ts).
 */
function dataClaims(h: DataHome): string {
    return h.engine === "eck" ? `elasticsearch-data-${h.elasticsearch}-es-<node set>-<n>` : `data-${h.elasticsearch}-<n>`;
}

/** The object holding the data, as a message names it. */
function dataObject(h: DataHome): string {
    return `${h.engine === "eck" ? "Elasticsearch resource" : "StatefulSet"} ${h.namespace}/${h.elasticsearch} (engine ${h.engine}${h.cluster === "" ? "" : `, cluster ${h.cluster}`})`;
}

/**
 * Why the stack's data home may not move from `previous` to `current`, with what would be lost and how to proceed
 * deliberately; undefined when nothing moved or `previous` is not a record this program wrote.
 *
 * Every part is identity: a Kubernetes object's name and namespace cannot change, so pulumi-kubernetes replaces the
 * object (provider/pkg/provider/diff.go, forceNew on metadata.name and metadata.namespace), another engine writes
 * another kind of object, and another clusterIdentifier replaces the provider and every object it made
 * (provider/pkg/provider/provider.go, DiffConfig). On eck a new Elasticsearch resource is a new cluster: the operator
 * bootstraps it empty, and deleting the old one keeps its claims (volumeClaimDeletePolicy DeleteOnScaledownOnly,
 * pkg/apis/elasticsearch/v1/elasticsearch_types.go in cloud-on-k8s 3.5.0); on manifests the new StatefulSet gets new,
 * empty claims and the old ones stay (the StatefulSet's default retention). See tests/support/eck/changes.ts.
 */
export function dataHomeRefusal(input: { readonly previous: unknown; readonly current: DataHome; readonly keys: DataHomeKeys; readonly recordUrn: string }): string | undefined {
    const previous = input.previous as Partial<DataHome> | undefined;
    if (typeof previous !== "object" || previous === null || Array.isArray(previous)) return undefined;
    const before = previous as Record<string, unknown>;
    const parts = (Object.keys(DATA_HOME_PART) as (keyof DataHome)[]).filter((k) => typeof before[k] === "string" && before[k] !== input.current[k]);
    if (parts.length === 0) return undefined;
    const old = { ...input.current, ...(previous as DataHome) };
    const now = input.current;
    const changes = parts.map((k) => `'${input.keys[k]}' (${DATA_HOME_PART[k]}: ${old[k]} -> ${now[k]})`).join(", ");
    const back = parts.map((k) => `'${input.keys[k]}' back to ${k === "elasticsearch" ? `what names the object ${old[k]}` : old[k]}`).join(", ");
    const engineOf = (h: DataHome) => (h.engine === "eck" ? "the operator starts a new, empty cluster from it" : "its pods start a new, empty cluster on new claims");
    return [
        `Refused change of ${changes}: this stack's data is in the ${dataObject(old)}.`,
        `The update would create the ${dataObject(now)}, where ${engineOf(now)}, and delete the ${dataObject(old)}: ` +
            `its pods stop, and its claims (${dataClaims(old)}) stay behind in namespace ${old.namespace}, orphaned, with the data; nothing reads them again.`,
        `Fix: set ${back}.`,
        "To move to a new cluster deliberately:",
        "  1. npm run snapshot   (a snapshot of the current cluster; the new one must reach the same repository: an object store, or the same namespace's shared claim)",
        `  2. pulumi up --replace '${input.recordUrn}'   (records the new place: this update then creates the new, empty cluster and deletes the old one, leaving its claims)`,
        "  3. npm run restore   (restores the snapshot into the new cluster)",
    ].join("\n");
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
    /**
     * The `clusterIdentifier` of the provider the platform builds (not of one it is given): the provider is replaced,
     * and every object with it, only when this changes; a new kubeconfig or context for the same cluster updates it
     * in place (pulumi-kubernetes provider/pkg/provider/provider.go, DiffConfig). Unset: the provider's own
     * heuristics, which replace everything when the kubeconfig's active cluster entry changes.
     */
    clusterIdentifier?: string;
    /** Record the stack's data home and refuse a change of it (see {@link dataHomeRefusal}); no record when unset. */
    dataHome?: DataHomeGuard;
}

/** What {@link clusterAccess} gives a platform. */
export interface ClusterAccess {
    readonly provider: pulumi.ProviderResource;
    readonly namespace?: k8s.core.v1.Namespace;
    /**
     * Resolves once the data home is checked; fails the update with the refusal otherwise. Every object of the
     * platform waits for it, so a refused change sends nothing.
     */
    readonly checked: pulumi.Output<true>;
    /** Which cluster this is, for telling apart stacks of one program: by the provider object, or the provider's settings. */
    readonly clusterKey: string;
}

/** Numbers for provider objects, so stacks given the same provider object know they share a cluster. */
const providerIds = new WeakMap<pulumi.ProviderResource, number>();
let providersSeen = 0;

/**
 * Fails the program (a RunError: the message alone) when the recorded data home and the current one differ (see
 * {@link dataHomeRefusal}). Like the claims record, a `pulumi.Stash` keeps the first value: the engine's built-in
 * provider stores the stash's input at creation as its `output` and keeps it on every later update
 * (pulumi/pulumi pkg/resource/deploy/builtins.go, Create and Update), previews included.
 */
function guardDataHome(guard: DataHomeGuard | undefined): pulumi.Output<true> {
    if (guard === undefined) return pulumi.output(true as const);
    const record = new pulumi.Stash(guard.recordName, { input: { ...guard.current } }, { parent: guard.parent });
    return pulumi.all([record.output, record.urn]).apply(([previous, urn]: [unknown, string]) => {
        const refusal = dataHomeRefusal({ previous, current: guard.current, keys: guard.keys, recordUrn: urn });
        if (refusal) throw new pulumi.RunError(refusal);
        return true as const;
    });
}

/**
 * The provider and the namespace of a Kubernetes platform, on either engine: an explicit provider, else the one
 * given to `owner` or a parent (`opts.provider`, `opts.providers`), and one built from kubeconfig/context only when
 * there is none; the namespace unless someone else owns it (`createNamespace: false`); and the check of the data home.
 */
export function clusterAccess(owner: pulumi.ComponentResource, name: string, args: ClusterAccessArgs, placement: m.Placement): ClusterAccess {
    const given = args.provider ?? owner.getProvider("kubernetes::Provider");
    const provider =
        given ??
        new k8s.Provider(
            `${name}-provider`,
            {
                // Contents or a path: either way it opens the cluster, so it is kept encrypted in the state.
                kubeconfig: args.kubeconfig === undefined ? undefined : pulumi.secret(args.kubeconfig),
                context: args.context,
                namespace: args.namespace,
                renderYamlToDirectory: args.renderDir,
                enableServerSideApply: true,
                clusterIdentifier: args.clusterIdentifier,
            },
            { parent: owner },
        );
    if (given !== undefined && !providerIds.has(given)) providerIds.set(given, ++providersSeen);
    const clusterKey =
        given !== undefined
            ? `provider #${String(providerIds.get(given))}`
            : JSON.stringify({ kubeconfig: args.kubeconfig ?? null, context: args.context ?? null, renderDir: args.renderDir ?? null, cluster: args.clusterIdentifier ?? null });
    const checked = guardDataHome(args.dataHome);
    const namespace =
        args.createNamespace === false
            ? undefined
            : new k8s.core.v1.Namespace(`${name}-namespace`, m.namespace(placement, args.privilegedHostSteps), {
                  parent: owner,
                  provider,
                  dependsOn: checked.apply(() => []),
                  // Deleting a namespace deletes every claim in it, whatever the StatefulSets' retention policy says. So
                  // `pulumi destroy`, a namespace rename or dropping the stack leave it (and the data) in the cluster.
                  retainOnDelete: true,
                  protect: args.protectData ?? false,
              });
    return { provider, namespace, checked, clusterKey };
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
    /** Resolves once the data home is checked (see clusterAccess); every object waits for it. */
    private readonly checked: pulumi.Output<true>;

    constructor(name: string, args: KubernetesPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        super("elk:kubernetes:Platform", name, {}, opts);
        this.args = args;
        this.placement = { namespace: args.namespace, stack: args.stackName, prefix: args.objectPrefix };
        ({ provider: this.provider, namespace: this.namespace, checked: this.checked } = clusterAccess(this, name, args, this.placement));
        if (args.ingressRules) {
            // Before any pod: a pod never runs without its policy.
            const inNamespace = (resourceName: string, ...former: string[]) => ({
                parent: this,
                provider: this.provider,
                dependsOn: waitingFor(undefined, this.namespace ? [this.namespace] : [], [this.checked]),
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

    /** Pulumi name of an object of this stack (see components/model/naming.ts). */
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
            // After the data home's check: a refused change sends nothing.
            dependsOn: waitingFor(dependsOn, namespace ? [namespace] : [], [this.checked]),
            aliases: formerNames(this.resourceName(...parts), childName(this.args.stackName, ...parts)),
        };
    }
}
