/**
 * The Kubernetes target on the Elastic operator (ECK): the operator, the namespace and NetworkPolicies, and ECK's
 * custom resources for Elasticsearch, Kibana and Logstash (built by eckResources.ts).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { EckSettings, ServiceType } from "../model/config";
import { KIBANA_PORT } from "../model/kibana";
import type { ContainerSpec, Endpoint, HostStep, JobSpec, PlacedJob, PlacedService, PlacementOptions, Platform, PortSpec, ServiceSpec } from "../model/spec";
import * as e from "./eckResources";
import { type EckNames, type EckNaming, eckResourceNames, eckServiceName, esInternalHttpService, esTransportService } from "../model/eckNaming";
import type { AntiAffinity } from "./kubernetesManifests";
import * as m from "./kubernetesManifests";
import { type DataHomeGuard, clusterAccess, specContents } from "./kubernetes";
import { afterSteps, waitingFor } from "./ordering";
import { ES_HTTP_PORT } from "../model/elasticsearch";
import type { IngressRule } from "../model/traffic";

/** Arguments of {@link EckPlatform}. */
export interface EckPlatformArgs {
    /** Namespace to create and put the stack in. */
    namespace: string;
    /**
     * Stack (cluster) name: the Elasticsearch resource's name (after `objectPrefix`), so ECK makes it `cluster.name`;
     * labelled on every object when there is no `objectPrefix`.
     */
    stackName: string;
    /**
     * Prefix of every Kubernetes object name (the stack's `namePrefix`): the custom resources become
     * `<prefix>-<stackName>`, `<prefix>-<kibana>` and `<prefix>-<logstash>`, so every object the operator derives
     * from them is prefixed too; the stack's Secrets, NetworkPolicies and claims take it, and it is the stack label
     * that selects the stack's pods. Unset: objects are named as before (see components/model/eckNaming.ts).
     */
    objectPrefix?: string;
    /** Instance names of the services, which name the Kibana and Logstash resources. */
    instances: { elasticsearch: string; kibana: string; logstash: string };
    /** Elastic release of every resource. */
    version: string;
    /** Operator, node sets and zones. */
    eck: EckSettings;
    kubeconfig?: string;
    context?: string;
    /** `clusterIdentifier` of the provider the platform builds (see `ClusterAccessArgs.clusterIdentifier`). */
    clusterIdentifier?: string;
    /** Record the stack's data home and refuse a change of it (see `dataHomeRefusal` in kubernetes.ts). */
    dataHome?: DataHomeGuard;
    /** Write manifests here instead of applying them (GitOps); no live cluster is read then. */
    renderDir?: string;
    /**
     * Use this provider instead of building one from kubeconfig/context/renderDir. When unset, the provider of
     * `opts.provider`, `opts.providers` or a parent, and one built from kubeconfig/context only when there is none.
     */
    provider?: pulumi.ProviderResource;
    /** Create (and label) the namespace; false when someone else owns it: the stack then creates no Namespace. */
    createNamespace?: boolean;
    /**
     * Prefix of the Pulumi resource names (see `childName` in components/model/naming.ts): the owning `ElkStack`'s name.
     * `stackName` when unset.
     */
    resourcePrefix?: string;
    storageClass?: string;
    kibanaServiceType?: ServiceType;
    logstashServiceType?: ServiceType;
    kibanaIngress?: { host: string; className?: string };
    /** How Elasticsearch nodes and Logstash replicas spread over Kubernetes nodes. */
    antiAffinity?: AntiAffinity;
    /** Whether the privileged sysctl init container runs (decides the namespace's Pod Security level). */
    privilegedHostSteps: boolean;
    /** Mark the namespace and the snapshot claim `protect`ed. */
    protectData?: boolean;
    /**
     * Connections the stack's pods accept (see `stackIngressRules`), as on the manifests engine; besides, the
     * operator's pods are admitted to Elasticsearch's HTTP port, and so are Elasticsearch's own pods, for ECK's
     * pre-stop hook. Enforced only by a network plugin that enforces NetworkPolicies.
     */
    ingressRules?: readonly IngressRule[];
}

/** The operator one program installs on one cluster, and the namespaces it is to watch. */
interface OperatorInstall {
    /** The installing stack (the prefix of its Pulumi names). */
    readonly stack: string;
    readonly operatorNamespace: string;
    readonly namespaces: Set<string>;
    /** Whether the chart's values were read: a namespace added after that would not be watched. */
    sealed: boolean;
    /** The chart's values, read once every stack the program set up in the same turn has joined. */
    readonly values: pulumi.Input<Record<string, unknown>>;
    release?: k8s.helm.v3.Release;
}

/**
 * The operators this program installs, by cluster (whatever the operator namespace). The eck-operator chart installs
 * ECK's CRDs and, named after its `fullnameOverride` `elastic-operator`, its ClusterRoles and validating webhook
 * (cloud-on-k8s deploy/eck-operator at 3.5.0: values.yaml, templates/cluster-roles.yaml, templates/webhook.yaml),
 * which are cluster-wide, so a cluster takes one operator: a second Helm release would fail on the objects the first
 * owns, in whichever namespace it goes. One program (one Node.js process) installs it once per cluster; its other
 * stacks on that cluster use it with `eckOperator: present` and the same `eckOperatorNamespace`, and are added to the
 * namespaces it watches.
 */
const operatorInstalls = new Map<string, OperatorInstall>();
/** The first stack set up with `eckOperator: present` on a cluster before any stack of the program installed the operator there. */
const operatorUsers = new Map<string, string>();

/**
 * Registers `stack` as the one that installs the operator on its cluster (`key`), or fails naming the other stack
 * and the fix. The values (the namespaces to watch) are read on the next turn of the event loop, once the stacks the
 * program sets up with it have joined.
 */
function claimOperatorInstall(key: string, stack: string, args: EckPlatformArgs): OperatorInstall {
    const ns = args.eck.operatorNamespace;
    const other = operatorInstalls.get(key);
    if (other) {
        const same = other.operatorNamespace === ns;
        throw new Error(
            `eckOperator: stacks '${other.stack}' and '${stack}' of this program both install the ECK operator ` +
                (same ? `into namespace ${ns} of the same cluster; ` : `on the same cluster, into namespaces ${other.operatorNamespace} and ${ns}; `) +
                `the operator's CRDs and webhook exist once per cluster, so the second Helm release would fail. ` +
                `Fix: set eckOperator to present${same ? "" : ` and eckOperatorNamespace to ${other.operatorNamespace}`} for '${stack}': it then uses the operator '${other.stack}' installs, which also watches namespace ${args.namespace}.`,
        );
    }
    const earlier = operatorUsers.get(key);
    if (earlier) {
        throw new Error(
            `eckOperator: stack '${earlier}' (eckOperator present) was set up before '${stack}', which installs the ECK operator into namespace ${ns} of the same cluster, ` +
                `so that operator would not watch '${earlier}''s namespace and '${earlier}' would not wait for it. Fix: set up '${stack}' first in the program.`,
        );
    }
    const values = new Promise<Record<string, unknown>>((resolve) =>
        setImmediate(() => {
            install.sealed = true;
            resolve(e.operatorValues([...install.namespaces].sort()));
        }),
    );
    const install: OperatorInstall = { stack, operatorNamespace: ns, namespaces: new Set([args.namespace]), sealed: false, values };
    operatorInstalls.set(key, install);
    return install;
}

/**
 * The release of the operator another stack of this program installs on the same cluster (`key`), now also
 * watching this stack's namespace; undefined when none does (the stack then checks the cluster's CRDs). Fails when
 * this stack names another operator namespace than the installing stack's: its NetworkPolicy admits the operator's
 * pods from `eckOperatorNamespace` only (`operatorIngressPolicy` in eckResources.ts).
 */
function joinOperatorInstall(key: string, stack: string, args: EckPlatformArgs): k8s.helm.v3.Release | undefined {
    const installer = operatorInstalls.get(key);
    if (!installer) {
        if (!operatorUsers.has(key)) operatorUsers.set(key, stack);
        return undefined;
    }
    if (installer.operatorNamespace !== args.eck.operatorNamespace) {
        throw new Error(
            `eckOperator: stack '${stack}' (eckOperator present) names eckOperatorNamespace ${args.eck.operatorNamespace}, but the ECK operator '${installer.stack}' installs on the same cluster runs in namespace ${installer.operatorNamespace}; ` +
                "the stack's NetworkPolicy admits the operator's pods from eckOperatorNamespace only, so the operator could not reach Elasticsearch. " +
                `Fix: set eckOperatorNamespace to ${installer.operatorNamespace} for '${stack}'.`,
        );
    }
    if (installer.sealed && !installer.namespaces.has(args.namespace)) {
        throw new Error(
            `eckOperator: stack '${stack}' uses the ECK operator '${installer.stack}' installs, but was set up after that operator's settings were read, so it would not watch namespace ${args.namespace}. ` +
                "Fix: set up every eck stack of the program in one go, before awaiting anything.",
        );
    }
    installer.namespaces.add(args.namespace);
    if (!installer.release) throw new Error(`eckOperator: the operator of stack '${installer.stack}' is not set up yet`);
    return installer.release;
}

/**
 * The `eck` Kubernetes engine: the stack's namespace, Elastic's operator (installed from its Helm chart at a pinned
 * version, or expected to run), and per service a custom resource the operator turns into StatefulSets, Services,
 * disruption budgets and certificates. Steps run as Jobs against the operator's Services. The provider waits for
 * each resource's `status.health` (the `pulumi.com/waitFor` annotation, `WAIT_FOR_ANNOTATION` in eckResources.ts),
 * so dependants start after it is green.
 */
export class EckPlatform extends pulumi.ComponentResource implements Platform {
    readonly kind = "kubernetes" as const;
    /** ECK turns the built-in kibana_system user off and issues Kibana a service-account token (elasticsearchRef). */
    readonly kibanaAuth = "operator" as const;
    /** Probes run inside the pods and `kubectl port-forward` listens on localhost: certificates name localhost. */
    readonly publishesOnHost = true;
    /** The namespace everything lives in; undefined when the stack does not own it (`createNamespace: false`). */
    readonly namespace?: k8s.core.v1.Namespace;
    /** The provider every object is created with. */
    readonly provider: pulumi.ProviderResource;
    /** The operator's Helm release, when the stack installs it. */
    readonly operator?: k8s.helm.v3.Release;
    /** Names of the custom resources. */
    readonly names: EckNames;
    /**
     * The API version of each kind, once the operator is installed or its CRDs checked; fails with the reason when a
     * CRD is missing or serves another version.
     */
    readonly operatorReady: pulumi.Output<string[]>;

    private readonly args: EckPlatformArgs;
    /** Prefix of every Pulumi resource name. */
    private readonly rp: string;
    /** What the objects' names come from (components/model/eckNaming.ts). */
    private readonly naming: EckNaming;
    /** The NetworkPolicies, which every pod-making object waits for. */
    private readonly policies: k8s.networking.v1.NetworkPolicy[] = [];
    private readonly placement: m.Placement;
    /** Per kind, resolves once the operator is there (installed, or its CRD checked); fails with the reason when not. */
    private readonly operatorGates: Record<keyof typeof e.ECK_KINDS, pulumi.Output<string>>;
    /** Resolves once the data home is checked (see clusterAccess); every object waits for it. */
    private readonly checked: pulumi.Output<true>;

    constructor(name: string, args: EckPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        super("elk:kubernetes:EckPlatform", name, {}, opts);
        this.args = args;
        this.rp = args.resourcePrefix ?? args.stackName;
        // As on the manifests engine: the prefix names the objects and, when set, is the label selecting the stack's pods.
        this.placement = { namespace: args.namespace, stack: args.objectPrefix ?? args.stackName, prefix: args.objectPrefix };
        this.naming = { clusterName: args.stackName, instances: args.instances, prefix: args.objectPrefix };
        this.names = eckResourceNames(this.naming);
        let clusterKey: string;
        ({ provider: this.provider, namespace: this.namespace, checked: this.checked, clusterKey } = clusterAccess(this, name, args, this.placement));
        if (args.ingressRules) {
            // Every custom resource and Job waits for these: no pod of the stack runs without its policy.
            const inNamespace = { parent: this, provider: this.provider, dependsOn: waitingFor(undefined, this.namespace ? [this.namespace] : [], [this.checked]) };
            this.policies.push(new k8s.networking.v1.NetworkPolicy(`${this.rp}-deny-ingress`, m.denyIngressPolicy(this.placement), inNamespace));
            const rules = e.withPreStopHookRule(args.ingressRules, args.instances.elasticsearch, ES_HTTP_PORT);
            for (const policy of m.ingressPolicies(this.placement, rules)) {
                this.policies.push(new k8s.networking.v1.NetworkPolicy(`${this.rp}-${policy.instance}-ingress`, policy.manifest, inNamespace));
            }
            this.policies.push(new k8s.networking.v1.NetworkPolicy(
                `${this.rp}-${args.instances.elasticsearch}-from-eck-operator`,
                e.operatorIngressPolicy(this.placement, args.instances.elasticsearch, args.eck.operatorNamespace, ES_HTTP_PORT, args.eck.operator),
                inNamespace,
            ));
        }
        const plain = (k: keyof typeof e.ECK_KINDS) => pulumi.output(e.ECK_KINDS[k].apiVersion);
        const released = (release: k8s.helm.v3.Release) => (k: keyof typeof e.ECK_KINDS) => release.status.apply(() => e.ECK_KINDS[k].apiVersion);
        // One operator per cluster, whatever its namespace: the install record is keyed on the cluster alone.
        const operatorKey = clusterKey;
        if (args.eck.operator === "install") {
            const install = claimOperatorInstall(operatorKey, this.rp, args);
            this.operator = new k8s.helm.v3.Release(
                `${this.rp}-eck-operator`,
                {
                    chart: e.ECK_CHART,
                    version: e.ECK_OPERATOR_VERSION,
                    repositoryOpts: { repo: e.ECK_HELM_REPOSITORY },
                    namespace: args.eck.operatorNamespace,
                    createNamespace: true,
                    values: install.values,
                },
                { parent: this, provider: this.provider, dependsOn: this.checked.apply(() => []) },
            );
            install.release = this.operator;
            const installed = released(this.operator);
            this.operatorGates = { elasticsearch: installed("elasticsearch"), kibana: installed("kibana"), logstash: installed("logstash") };
        } else if (args.renderDir !== undefined) {
            // Rendering to files reads no cluster.
            this.operatorGates = { elasticsearch: plain("elasticsearch"), kibana: plain("kibana"), logstash: plain("logstash") };
        } else {
            const installer = joinOperatorInstall(operatorKey, this.rp, args);
            if (installer) {
                // Another stack of this program installs the operator on this cluster: its release is the gate, and
                // its operator watches this stack's namespace too (no CRD can be read before it is installed).
                const installed = released(installer);
                this.operatorGates = { elasticsearch: installed("elasticsearch"), kibana: installed("kibana"), logstash: installed("logstash") };
            } else {
                this.operatorGates = { elasticsearch: this.requireCrd("elasticsearch"), kibana: this.requireCrd("kibana"), logstash: this.requireCrd("logstash") };
            }
        }
        this.operatorReady = pulumi.all([this.operatorGates.elasticsearch, this.operatorGates.kibana, this.operatorGates.logstash]);
        this.registerOutputs({ namespace: args.namespace });
    }

    /**
     * Reads the kind's CRD from the live cluster (at preview too: a `get` is a read) and resolves to the API version
     * once the CRD serves it. A missing CRD fails the read; the engine names it ("resource '<crd>' does not exist").
     * pulumi/pulumi#3364: a failed `get` cannot be caught by the program, so this is the clearest report there is.
     */
    private requireCrd(kind: keyof typeof e.ECK_KINDS): pulumi.Output<string> {
        const k = e.ECK_KINDS[kind];
        const crd = k8s.apiextensions.v1.CustomResourceDefinition.get(`${this.rp}-eck-operator-required-${k.crd}`, k.crd, { parent: this, provider: this.provider });
        return crd.spec.apply((spec) => {
            const served = (spec?.versions ?? []).filter((v) => v.served).map((v) => `${spec.group}/${v.name}`);
            return checkServedVersion(k.crd, k.apiVersion, served);
        });
    }

    internalHost(instance: string): string {
        return `${this.serviceOf(instance)}.${this.args.namespace}.svc`;
    }

    extraDnsNames(instance: string, _replicas: number): string[] {
        const ns = this.args.namespace;
        if (instance === this.args.instances.elasticsearch) {
            // The operator dials the internal Service; clients the public one.
            return [...e.serviceNames(e.esHttpService(this.names.elasticsearch), ns), ...e.serviceNames(esInternalHttpService(this.names.elasticsearch), ns)];
        }
        if (instance === this.args.instances.kibana || instance === this.args.instances.logstash) return e.serviceNames(this.serviceOf(instance), ns);
        return m.serviceDnsNames(instance, ns, false);
    }

    memberNames(instance: string, replicas: number): string[] {
        if (instance !== this.args.instances.elasticsearch) return replicas === 1 ? [instance] : m.podNames(instance, replicas);
        return this.args.eck.nodeSets.flatMap((s) => Array.from({ length: s.count }, (_, i) => e.esPodName(this.names.elasticsearch, s.name, i)));
    }

    discoveryHost(_instance: string): string {
        return `${esTransportService(this.names.elasticsearch)}.${this.args.namespace}.svc`;
    }

    endpoint(instance: string, port: PortSpec): Endpoint {
        return { host: this.internalHost(instance), port: port.containerPort };
    }

    /** As on the manifests engine: an init container of every pod, here in the node sets' pod template. */
    hostStep(spec: JobSpec, _opts: PlacementOptions): HostStep {
        return { initContainer: spec };
    }

    runService(spec: ServiceSpec, opts: PlacementOptions): PlacedService {
        const resources: pulumi.Resource[] = [];
        const stack = this.rp;
        const kind = spec.role === "elasticsearch" || spec.role === "kibana" || spec.role === "logstash" ? spec.role : undefined;
        if (!kind) throw new Error(`${spec.name}: the eck engine runs Elasticsearch, Kibana and Logstash, not ${spec.role}`);
        const cr = e.ECK_KINDS[kind];
        const deps: pulumi.Resource[] = [];
        let body: { metadata: k8s.types.input.meta.v1.ObjectMeta; spec: Record<string, unknown> };
        if (kind === "elasticsearch") {
            const sharedClaims: Record<string, pulumi.Output<string>> = {};
            for (const v of spec.volumes.filter((x) => x.shared)) {
                const claim = new k8s.core.v1.PersistentVolumeClaim(`${stack}-${spec.name}-${v.name}-claim`, m.sharedClaim(this.placement, spec, v), {
                    ...this.opts(opts.parent),
                    retainOnDelete: true,
                    protect: this.args.protectData ?? false,
                });
                sharedClaims[v.name] = claim.metadata.name;
                resources.push(claim);
            }
            if (!spec.issuingCa) throw new Error(`${spec.name}: the eck engine needs the transport CA (ServiceSpec.issuingCa) to issue node certificates`);
            const elastic = e.elasticPasswordOf(spec);
            deps.push(
                this.secret(`${stack}-${spec.name}-http-cert`, e.httpCertSecretName(this.names.elasticsearch), e.httpCertificateData(this.tlsOf(spec)), opts, "kubernetes.io/tls"),
                this.secret(`${stack}-${spec.name}-transport-ca`, e.transportCaSecretName(this.names.elasticsearch), e.transportCaData(spec.issuingCa), opts),
                // ECK keeps the password it finds in this secret (reuseOrGeneratePassword in
                // pkg/controller/elasticsearch/user/predefined.go), so the stack's elasticPassword output stays true.
                this.secret(`${stack}-${spec.name}-elastic-user`, e.elasticUserSecret(this.names.elasticsearch), { [e.ELASTIC_USER_KEY]: elastic }, opts),
            );
            const { refs, resources: contents } = this.contents(e.elasticsearchMountedFiles(spec), opts);
            resources.push(...contents);
            const secureSettingsSecret = this.secureSettings(spec, this.names.elasticsearch, opts, deps);
            body = e.elasticsearchResource({
                placement: this.placement,
                names: this.names,
                version: this.args.version,
                spec,
                nodeSets: this.args.eck.nodeSets,
                zones: this.args.eck.zones,
                storageClass: this.args.storageClass,
                kernelStep: (opts.hostSteps ?? []).map((h) => h.initContainer).find((x): x is JobSpec => x !== undefined),
                refs,
                sharedClaims,
                antiAffinity: this.args.antiAffinity ?? "hard",
                secureSettingsSecret,
            });
        } else if (kind === "kibana") {
            deps.push(this.secret(`${stack}-${spec.name}-http-cert`, e.httpCertSecretName(this.names.kibana), e.httpCertificateData(this.tlsOf(spec)), opts, "kubernetes.io/tls"));
            const { refs, resources: contents } = this.contents(e.kibanaMountedFiles(spec), opts);
            resources.push(...contents);
            const secureSettingsSecret = this.secureSettings(spec, this.names.kibana, opts, deps);
            body = e.kibanaResource({ placement: this.placement, names: this.names, version: this.args.version, spec, serviceType: this.args.kibanaServiceType ?? "ClusterIP", refs, secureSettingsSecret });
        } else {
            const { refs, resources: contents } = this.contents(e.logstashMountedFiles(spec), opts);
            resources.push(...contents);
            const secureSettingsSecret = this.secureSettings(spec, this.names.logstash, opts, deps);
            body = e.logstashResource({ placement: this.placement, names: this.names, version: this.args.version, spec, serviceType: this.args.logstashServiceType ?? "ClusterIP", storageClass: this.args.storageClass, refs, antiAffinity: this.args.antiAffinity ?? "hard", secureSettingsSecret });
        }
        resources.push(...deps);
        const resource = new k8s.apiextensions.CustomResource(
            `${stack}-${spec.name}-${kind}`,
            {
                apiVersion: cr.apiVersion,
                kind: cr.kind,
                metadata: body.metadata,
                // The spec waits for the operator gate: no resource is sent before the operator is there, and a CRD that
                // does not serve this API version fails the update with the gate's message.
                spec: pulumi.all([this.operatorGates[kind], pulumi.output(body.spec)]).apply(([, s]) => s),
            },
            {
                ...this.opts(opts.parent, afterSteps(opts.dependsOn, opts.after ?? [], [...deps, ...resources, ...this.policies, ...(this.operator ? [this.operator] : [])])),
                // A rolling upgrade of a large cluster takes longer than the provider's default ten minutes.
                customTimeouts: { create: "60m", update: "120m" },
            },
        );
        resources.push(resource);
        if (kind === "kibana" && this.args.kibanaIngress) {
            resources.push(new k8s.networking.v1.Ingress(`${stack}-${spec.name}-ingress`, e.kibanaIngress(this.placement, spec, e.kibanaHttpService(this.names.kibana), KIBANA_PORT, this.args.kibanaIngress), this.opts(opts.parent, [resource])));
        }
        return { ready: resource, resources };
    }

    runJob(spec: JobSpec, opts: PlacementOptions): PlacedJob {
        // The elastic password comes from the operator's secret, not the stack's.
        const { spec: own, volume, mount } = e.withOperatorElasticPassword(spec, this.names.elasticsearch);
        const { refs } = this.contents(own, opts);
        const manifest = m.job(this.placement, own, refs);
        const template = manifest.spec.template as { metadata: k8s.types.input.meta.v1.ObjectMeta; spec: k8s.types.input.core.v1.PodSpec & { containers: k8s.types.input.core.v1.Container[] } };
        const containers = template.spec.containers.map((c) => ({ ...c, volumeMounts: [...((c.volumeMounts ?? []) as k8s.types.input.core.v1.VolumeMount[]), ...(mount ? [mount] : [])] }));
        const volumes = [...((template.spec.volumes ?? []) as k8s.types.input.core.v1.Volume[]), ...(volume ? [volume] : [])];
        const job = new k8s.batch.v1.Job(
            `${this.rp}-${spec.name}-job`,
            { ...manifest, spec: { ...manifest.spec, template: { ...template, spec: { ...template.spec, containers, volumes } } } },
            {
                ...this.opts(opts.parent, afterSteps(opts.dependsOn, opts.after ?? [], this.policies)),
                customTimeouts: { create: `${spec.timeoutSeconds + 60}s`, update: `${spec.timeoutSeconds + 60}s` },
            },
        );
        return { done: job, succeeded: job.metadata.apply(() => true) };
    }

    /** The Service a client of the stack dials for an instance (the one function the e2e run calls too). */
    private serviceOf(instance: string): string {
        return eckServiceName(this.naming, instance);
    }

    /** The HTTP certificate, key and CA of a spec, from its files (`<dir>/<name>.crt`, `<dir>/<name>.key`, `<dir>/ca.crt`). */
    private tlsOf(spec: ServiceSpec): { certPem: pulumi.Input<string>; keyPem: pulumi.Input<string>; caCertPem: pulumi.Input<string> } {
        const cert = spec.files.find((f) => f.path.endsWith(`/${spec.name}.crt`));
        const key = spec.files.find((f) => f.secret && f.path.endsWith(`/${spec.name}.key`));
        const ca = cert && spec.files.find((f) => f.path === `${cert.path.slice(0, cert.path.lastIndexOf("/"))}/ca.crt`);
        if (!cert || !key || !ca) throw new Error(`${spec.name}: no certificate, key and CA among its files`);
        return { certPem: cert.content, keyPem: key.content, caCertPem: ca.content };
    }

    private secret(resourceName: string, name: string, data: Record<string, pulumi.Input<string>>, opts: PlacementOptions, type = "Opaque"): k8s.core.v1.Secret {
        return new k8s.core.v1.Secret(
            resourceName,
            { metadata: { name, namespace: this.args.namespace, labels: { [m.LABELS.partOf]: "elk-stack", [m.LABELS.managedBy]: "pulumi", [m.LABELS.stack]: this.placement.stack } }, type, stringData: pulumi.secret(pulumi.output(data)) },
            { ...this.opts(opts.parent), additionalSecretOutputs: ["data", "stringData"] },
        );
    }

    /**
     * The Secret of a custom resource's `secureSettings`, added to `deps`; its name, or undefined when the spec has
     * no setting for the keystore.
     */
    private secureSettings(spec: ServiceSpec, owner: string, opts: PlacementOptions, deps: pulumi.Resource[]): string | undefined {
        const data = e.secureSettingsData(spec);
        if (Object.keys(data).length === 0) return undefined;
        const name = e.secureSettingsSecretName(owner);
        deps.push(this.secret(`${this.rp}-${spec.name}-secure-settings`, name, data, opts));
        return name;
    }

    /** The ConfigMap and Secret of the files a pod mounts, as on the manifests engine. */
    private contents(spec: ContainerSpec, opts: PlacementOptions): { refs: m.ContentRefs; resources: pulumi.CustomResource[] } {
        return specContents(spec, this.args.namespace, this.placement, (kind) => ({ name: `${this.rp}-${spec.name}-${kind}`, opts: this.opts(opts.parent) }));
    }

    /** Options of every object: this platform's provider, and created after the namespace and the data home's check. */
    private opts(parent: pulumi.Resource | undefined, dependsOn: pulumi.Input<pulumi.Input<pulumi.Resource>[]> = []): pulumi.CustomResourceOptions {
        const namespace = this.namespace;
        return { parent, provider: this.provider, dependsOn: waitingFor(dependsOn, namespace ? [namespace] : [], [this.checked]) };
    }
}

/**
 * The API version a CRD must serve for the stack's resources, or an error that says what to do. Pure, for tests.
 * `served` lists `group/version` of every version the live CRD serves.
 */
export function checkServedVersion(crd: string, apiVersion: string, served: readonly string[]): string {
    if (served.includes(apiVersion)) return apiVersion;
    throw new Error(
        `kubernetesEngine eck with eckOperator present: the cluster's CRD ${crd} serves ${served.length > 0 ? served.join(", ") : "no version"}, not ${apiVersion}, which the stack's resources use (ECK ${e.ECK_OPERATOR_VERSION}). ` +
            `Fix: upgrade the operator to ECK ${e.ECK_OPERATOR_VERSION} or later, or set 'pulumi config set eckOperator install' to let the stack install it.`,
    );
}
