/**
 * The pods ECK makes from a custom resource: how it merges the resource's `podTemplate` with its own containers,
 * init containers, volumes, labels, security contexts and defaults (pkg/controller/common/defaults/pod_template.go
 * PodTemplateBuilder, pkg/controller/common/container/defaulter.go), per kind as its controllers build them
 * (Elasticsearch: pkg/controller/elasticsearch/nodespec/podspec.go BuildPodTemplateSpec; Kibana:
 * pkg/controller/kibana/pod.go NewPodTemplateSpec; Logstash: pkg/controller/logstash/pod.go buildPodTemplate).
 * Every fact is read from github.com/elastic/cloud-on-k8s at {@link ECK_TAG}. Pure: what the operator would write
 * into the StatefulSets and Deployment, for the Pod Security checker, the NetworkPolicy evaluator and the scheduler.
 */
import { ECK_TAG } from "./settings";

export { ECK_TAG };

/** A container as JSON (the fields the operator and the checks read). */
export interface Container {
    name: string;
    image?: string;
    command?: string[];
    args?: string[];
    env?: { name: string; value?: string; valueFrom?: unknown }[];
    ports?: { name?: string; containerPort: number; protocol?: string; hostPort?: number }[];
    resources?: { requests?: Record<string, string>; limits?: Record<string, string>; claims?: unknown[] };
    volumeMounts?: { name: string; mountPath: string; readOnly?: boolean; subPath?: string }[];
    readinessProbe?: Record<string, unknown>;
    livenessProbe?: Record<string, unknown>;
    startupProbe?: Record<string, unknown>;
    lifecycle?: { preStop?: Record<string, unknown>; postStart?: Record<string, unknown> };
    securityContext?: SecurityContext;
}

/** A container's security context as JSON. */
export interface SecurityContext {
    privileged?: boolean;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    runAsNonRoot?: boolean;
    runAsUser?: number;
    runAsGroup?: number;
    capabilities?: { add?: string[]; drop?: string[] };
    seccompProfile?: { type: string; localhostProfile?: string };
    seLinuxOptions?: { user?: string; role?: string; type?: string; level?: string };
    appArmorProfile?: { type: string };
    procMount?: string;
    windowsOptions?: { hostProcess?: boolean };
}

/** A pod spec as JSON (the fields the operator and the checks read). */
export interface PodSpec {
    securityContext?: SecurityContext & { fsGroup?: number; fsGroupChangePolicy?: string; sysctls?: { name: string; value: string }[] };
    initContainers?: Container[];
    containers: Container[];
    ephemeralContainers?: Container[];
    volumes?: ({ name: string } & Record<string, unknown>)[];
    affinity?: Affinity;
    topologySpreadConstraints?: { maxSkew: number; topologyKey: string; whenUnsatisfiable: string; labelSelector?: LabelSelector }[];
    terminationGracePeriodSeconds?: number;
    automountServiceAccountToken?: boolean;
    hostNetwork?: boolean;
    hostPID?: boolean;
    hostIPC?: boolean;
    hostUsers?: boolean;
    os?: { name: string };
    [key: string]: unknown;
}

/** A label selector as JSON. */
export interface LabelSelector {
    matchLabels?: Record<string, string>;
    matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** A pod affinity term as JSON. */
export interface PodAffinityTerm {
    labelSelector?: LabelSelector;
    topologyKey: string;
    namespaces?: string[];
    namespaceSelector?: LabelSelector;
}

/** Affinity as JSON. */
export interface Affinity {
    nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms: { matchExpressions?: { key: string; operator: string; values?: string[] }[] }[] } };
    podAntiAffinity?: {
        requiredDuringSchedulingIgnoredDuringExecution?: PodAffinityTerm[];
        preferredDuringSchedulingIgnoredDuringExecution?: { weight: number; podAffinityTerm: PodAffinityTerm }[];
    };
    podAffinity?: unknown;
}

/** One pod the operator makes (a StatefulSet's or Deployment's template, which every replica shares). */
export interface EffectivePod {
    /** `<kind>/<resource name>[/<node set>]`. */
    readonly owner: string;
    readonly kind: "elasticsearch" | "kibana" | "logstash";
    /** How many pods share it. */
    readonly replicas: number;
    readonly namespace: string;
    readonly metadata: { labels: Record<string, string>; annotations: Record<string, string> };
    readonly spec: PodSpec;
}

/**
 * How the operator runs. `setDefaultSecurityContext` is the `--set-default-security-context` flag (chart value
 * `config.setDefaultSecurityContext`, default "auto-detect": true except on OpenShift; deploy/eck-operator/values.yaml):
 * when true the operator adds pod-level and (Kibana) container-level security contexts where the template leaves
 * them unset.
 */
export interface OperatorOptions {
    readonly setDefaultSecurityContext: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// Names and values the operator uses.

/** Init containers ECK injects, by name. */
export const ECK_INIT_CONTAINERS = {
    /** pkg/controller/common/keystore/initcontainer.go InitContainerName: every kind with secure settings. */
    keystore: "elastic-internal-init-keystore",
    /** pkg/controller/elasticsearch/initcontainer/initcontainer.go PrepareFilesystemContainerName: always. */
    esPrepareFilesystem: "elastic-internal-init-filesystem",
    /** pkg/controller/elasticsearch/initcontainer/initcontainer.go SuspendContainerName: always. */
    esSuspend: "elastic-internal-suspend",
    /** pkg/controller/kibana/volume/volume.go InitContainerName: always. */
    kibanaInit: "elastic-internal-init",
    /** pkg/controller/logstash/initcontainer.go InitConfigContainerName: always. */
    logstashConfig: "logstash-internal-init-config",
} as const;

/** Main container names (pkg/apis/*: ElasticsearchContainerName, KibanaContainerName, LogstashContainerName). */
export const ECK_MAIN_CONTAINERS = { elasticsearch: "elasticsearch", kibana: "kibana", logstash: "logstash" } as const;

/** Pod labels ECK sets (pkg/controller/elasticsearch/label/label.go, pkg/apis/kibana/v1/labels.go, pkg/apis/logstash/v1alpha1/labels.go). */
export const ECK_LABELS = {
    type: "common.k8s.elastic.co/type",
    esCluster: "elasticsearch.k8s.elastic.co/cluster-name",
    esStatefulSet: "elasticsearch.k8s.elastic.co/statefulset-name",
    esVersion: "elasticsearch.k8s.elastic.co/version",
    esHttpScheme: "elasticsearch.k8s.elastic.co/http-scheme",
    kibanaName: "kibana.k8s.elastic.co/name",
    kibanaVersion: "kibana.k8s.elastic.co/version",
    logstashName: "logstash.k8s.elastic.co/name",
    logstashStatefulSet: "logstash.k8s.elastic.co/statefulset-name",
    logstashVersion: "logstash.k8s.elastic.co/version",
} as const;

/** An Elasticsearch node set's StatefulSet: `<es>-es-<set>` (pkg/apis/elasticsearch/v1/name.go StatefulSet). */
export const esStatefulSet = (es: string, set: string) => `${es}-es-${set}`;

/**
 * Elasticsearch's termination grace period when the template sets none (pkg/controller/elasticsearch/nodespec/
 * defaults.go DefaultTerminationGracePeriodSeconds). The pre-stop hook's retries are sized to it ("0 + 1 + 2 + 4 + 8
 * + 16 + 32 + 64 < 180s", nodespec/lifecycle_hook.go).
 */
export const ES_DEFAULT_TERMINATION_GRACE_SECONDS = 180;
/** The pre-stop hook's own wait before the pod may stop (lifecycle_hook.go PRE_STOP_ADDITIONAL_WAIT_SECONDS). */
export const ES_PRE_STOP_ADDITIONAL_WAIT_SECONDS = 50;

/** The pre-stop hook ECK gives Elasticsearch's container when the template has none (lifecycle_hook.go NewPreStopHook). */
export const ES_PRE_STOP_HOOK = { exec: { command: ["bash", "-c", "/mnt/elastic-internal/scripts/pre-stop-hook-script.sh"] } };

/** A version as numbers. */
function version(v: string): [number, number, number] {
    const m = /^(\d+)\.(\d+)\.(\d+)/.exec(v);
    if (!m) throw new Error(`not a version: ${v}`);
    return [Number(m[1]), Number(m[2]), Number(m[3])];
}
function gte(v: string, min: readonly [number, number, number]): boolean {
    const a = version(v);
    for (let i = 0; i < 3; i++) if (a[i] !== min[i]) return a[i] > min[i];
    return true;
}

/**
 * Elasticsearch's container security context, set on every container and init container that has none
 * (pkg/controller/elasticsearch/securitycontext/securitycontext.go For; nodespec/podspec.go passes
 * readOnlyRootFilesystem true when the data volume is mounted, and the keystore container always gets For(v, true),
 * driver/stateful/keystore.go). Capabilities are dropped from 8.0.0, runAsNonRoot from 8.8.0.
 */
export function esSecurityContext(ver: string, readOnlyRootFilesystem: boolean): SecurityContext {
    const sc: SecurityContext = { privileged: false, readOnlyRootFilesystem, allowPrivilegeEscalation: false };
    if (!gte(ver, [8, 0, 0])) return sc;
    sc.capabilities = { drop: ["ALL"] };
    if (!gte(ver, [8, 8, 0])) return sc;
    sc.runAsNonRoot = true;
    return sc;
}

/** Kibana's default container security context (pkg/controller/kibana/securitycontext.go defaultSecurityContext). */
export const KIBANA_DEFAULT_SECURITY_CONTEXT: SecurityContext = {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
    privileged: false,
    readOnlyRootFilesystem: true,
    runAsUser: 1000,
    runAsGroup: 1000,
};
/** The pod security context ECK adds to all three kinds when the template has none (podspec.go, kibana/securitycontext.go, logstash/pod.go). */
export const ECK_DEFAULT_POD_SECURITY_CONTEXT = { fsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } };

/**
 * The security context ECK gives the keystore init container of Kibana and Logstash, whose controllers pass none
 * (pkg/controller/common/keystore/initcontainer.go initContainer: only `privileged: false`), and Logstash's config
 * init container (pkg/controller/logstash/initcontainer.go initConfigContainer).
 */
export const ECK_BARE_SECURITY_CONTEXT: SecurityContext = { privileged: false };

// ---------------------------------------------------------------------------------------------------------------
// The builder (pkg/controller/common/defaults/pod_template.go, pkg/controller/common/container/defaulter.go).

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/**
 * Fills `base` from `other` where `base` leaves a field unset (defaulter.go From): pre-stop hook, image, command, args,
 * ports (by name), env (by name), resources (when neither requests nor limits are set), volume mounts (by name or
 * path), probes. Never the security context: a container the template names keeps the template's.
 */
export function inheritFrom(base: Container, other: Container): Container {
    const c = clone(base);
    if (other.lifecycle?.preStop && !c.lifecycle?.preStop) c.lifecycle = { ...(c.lifecycle ?? {}), preStop: other.lifecycle.preStop };
    if (!c.image) c.image = other.image;
    if (!c.command || c.command.length === 0) c.command = other.command;
    if (!c.args || c.args.length === 0) c.args = other.args;
    for (const p of other.ports ?? []) if (!(c.ports ?? []).some((x) => x.name === p.name)) c.ports = [...(c.ports ?? []), p];
    for (const e of other.env ?? []) if (!(c.env ?? []).some((x) => x.name === e.name)) c.env = [...(c.env ?? []), e];
    if (!c.resources?.requests && !c.resources?.limits && other.resources) c.resources = { ...other.resources, ...(c.resources?.claims ? { claims: c.resources.claims } : {}) };
    c.volumeMounts = mergeMounts(c.volumeMounts, other.volumeMounts);
    c.readinessProbe ??= other.readinessProbe;
    c.livenessProbe ??= other.livenessProbe;
    c.startupProbe ??= other.startupProbe;
    return strip(c);
}

/** Adds mounts whose name and path are both new (defaulter.go WithVolumeMounts), sorted by name. */
function mergeMounts(base: Container["volumeMounts"], add: Container["volumeMounts"]): Container["volumeMounts"] {
    const out = [...(base ?? [])];
    for (const m of add ?? []) if (!out.some((x) => x.name === m.name || x.mountPath === m.mountPath)) out.push(m);
    return out.length === 0 ? undefined : out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Drops unset fields, so that a JSON comparison sees what the API server would store. */
function strip<T extends object>(o: T): T {
    return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** A pod template being built: the resource's, copied. */
class Builder {
    readonly labels: Record<string, string>;
    readonly annotations: Record<string, string>;
    readonly spec: PodSpec;

    constructor(
        template: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Partial<PodSpec> } | undefined,
        private readonly mainName: string,
    ) {
        this.labels = { ...(template?.metadata?.labels ?? {}) };
        this.annotations = { ...(template?.metadata?.annotations ?? {}) };
        this.spec = clone<PodSpec>({ containers: [], ...(template?.spec ?? {}) });
        // setDefaults: the main container, and no service account token unless the template asks for one.
        if (!this.main()) this.spec.containers.push({ name: mainName });
        this.spec.automountServiceAccountToken ??= false;
    }

    main(): Container {
        return this.spec.containers.find((c) => c.name === this.mainName) as Container;
    }

    private setMain(c: Container): void {
        this.spec.containers = this.spec.containers.map((x) => (x.name === this.mainName ? c : x));
    }

    /** WithLabels: ECK's labels, without overriding the template's. */
    withLabels(labels: Record<string, string>): this {
        for (const [k, v] of Object.entries(labels)) if (!(k in this.labels)) this.labels[k] = v;
        return this;
    }

    /** The main container's unset fields from `defaults` (WithDockerImage, WithResources, WithPorts, WithEnv, ...). */
    withMainDefaults(defaults: Omit<Container, "name">): this {
        this.setMain(inheritFrom(this.main(), { name: this.mainName, ...defaults }));
        return this;
    }

    /** WithVolumes: the volumes whose name is new, then all sorted by name. */
    withVolumes(volumes: PodSpec["volumes"]): this {
        const out = [...(this.spec.volumes ?? [])];
        for (const v of volumes ?? []) if (!out.some((x) => x.name === v.name)) out.push(v);
        this.spec.volumes = out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        return this;
    }

    /** WithTerminationGracePeriod: only when the template sets none. */
    withTerminationGracePeriod(seconds: number): this {
        this.spec.terminationGracePeriodSeconds ??= seconds;
        return this;
    }

    /** WithAffinity: only when the template sets none. */
    withAffinity(affinity: Affinity): this {
        this.spec.affinity ??= affinity;
        return this;
    }

    /** WithPodSecurityContext: only when the template sets none. */
    withPodSecurityContext(sc: PodSpec["securityContext"]): this {
        this.spec.securityContext ??= clone(sc);
        return this;
    }

    /**
     * WithInitContainers: the operator's init containers go first; one the template names is the template's container
     * with the operator's values filling what it leaves unset (inheritFrom); the template's others follow.
     */
    withInitContainers(operator: Container[]): this {
        let rest = [...(this.spec.initContainers ?? [])];
        const first: Container[] = [];
        for (const c of operator) {
            const user = rest.find((x) => x.name === c.name);
            if (user) {
                rest = rest.filter((x) => x !== user);
                first.push(inheritFrom(user, c));
            } else first.push(clone(c));
        }
        this.spec.initContainers = [...first, ...rest];
        return this;
    }

    /**
     * WithInitContainerDefaults: every init container takes the main container's image, volume mounts and resources
     * where it has none, and the downward-API variables.
     */
    withInitContainerDefaults(): this {
        const main = this.main();
        const downward = ["POD_IP", "POD_NAME", "NODE_NAME", "NAMESPACE"].map((name) => ({ name, valueFrom: { fieldRef: { fieldPath: name } } }));
        this.spec.initContainers = (this.spec.initContainers ?? []).map((c) =>
            strip({
                ...c,
                image: c.image || main.image,
                volumeMounts: mergeMounts(c.volumeMounts, main.volumeMounts),
                resources: !c.resources?.requests && !c.resources?.limits ? main.resources : c.resources,
                env: [...(c.env ?? []), ...downward.filter((d) => !(c.env ?? []).some((e) => e.name === d.name))],
            }),
        );
        return this;
    }

    /** WithContainersSecurityContext: containers and init containers without one get `sc`. */
    withContainersSecurityContext(sc: SecurityContext): this {
        for (const list of [this.spec.containers, this.spec.initContainers ?? []]) {
            for (const c of list) c.securityContext ??= clone(sc);
        }
        return this;
    }

    /** WithPreStopHook: only when the main container has none. */
    withPreStopHook(handler: Record<string, unknown>): this {
        const m = this.main();
        if (!m.lifecycle?.preStop) this.setMain({ ...m, lifecycle: { ...(m.lifecycle ?? {}), preStop: handler } });
        return this;
    }

    pod(owner: string, kind: EffectivePod["kind"], replicas: number, namespace: string): EffectivePod {
        return { owner, kind, replicas, namespace, metadata: { labels: this.labels, annotations: this.annotations }, spec: this.spec };
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The three kinds.

type Obj = Record<string, unknown>;
/** A custom resource as the stack writes it. */
export interface CustomResource {
    kind: string;
    metadata: { name: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string> };
    spec: Obj;
}

const secret = (name: string) => ({ name, secret: { secretName: `<${name}>` } });
const configMap = (name: string) => ({ name, configMap: { name: `<${name}>` } });
const emptyDir = (name: string) => ({ name, emptyDir: {} });
const claim = (name: string) => ({ name, persistentVolumeClaim: { claimName: `<${name}>` } });
/** Requests equal to limits, as ECK sets them for its init containers. */
const fixed = (memory: string, cpu: string) => ({ requests: { memory, cpu }, limits: { memory, cpu } });
/**
 * The keystore init container (common/keystore/initcontainer.go): its security context is the controller's
 * (Elasticsearch: securitycontext.For, driver/stateful/keystore.go) or `privileged: false` alone (Kibana, Logstash),
 * its resources the controller's parameters (elasticsearch/initcontainer/keystore.go, kibana/initcontainer/keystore.go,
 * logstash/keystore.go).
 */
const keystoreContainer = (securityContext: SecurityContext, resources: Container["resources"]): Container => ({
    name: ECK_INIT_CONTAINERS.keystore,
    command: ["/usr/bin/env", "bash", "-c", "<keystore script>"],
    securityContext,
    resources,
});
const hasSecureSettings = (spec: Obj) => Array.isArray(spec.secureSettings) && spec.secureSettings.length > 0;
const templateOf = (spec: Obj) => spec.podTemplate as ConstructorParameters<typeof Builder>[0];

/** The node roles of a node set's config (`node.roles`; unset: every role). */
function rolesOf(config: Obj): string[] | undefined {
    const r = config["node.roles"] ?? (config.node as Obj | undefined)?.roles;
    return Array.isArray(r) ? (r as string[]) : undefined;
}

/**
 * Elasticsearch's pods, one per node set (nodespec/podspec.go BuildPodTemplateSpec, in the builder's order).
 * Volumes: nodespec/volumes.go buildVolumes; init containers: initcontainer/initcontainer.go NewInitContainers.
 */
export function elasticsearchPods(cr: CustomResource, o: OperatorOptions): EffectivePod[] {
    const es = cr.metadata.name;
    const ver = String(cr.spec.version);
    const sets = (cr.spec.nodeSets ?? []) as Obj[];
    const zoneAware = sets.some((s) => s.zoneAwareness !== undefined);
    return sets.map((set) => {
        const name = String(set.name);
        const sset = esStatefulSet(es, name);
        const b = new Builder(templateOf(set), ECK_MAIN_CONTAINERS.elasticsearch);
        if (gte(ver, [8, 0, 0]) && o.setDefaultSecurityContext) b.withPodSecurityContext(ECK_DEFAULT_POD_SECURITY_CONTEXT);
        const roles = rolesOf((set.config ?? {}) as Obj);
        const role = (r: string) => String(roles === undefined || roles.includes(r));
        b.withLabels({
            [ECK_LABELS.esCluster]: es,
            [ECK_LABELS.type]: "elasticsearch",
            [ECK_LABELS.esVersion]: ver,
            "elasticsearch.k8s.elastic.co/node-master": role("master"),
            "elasticsearch.k8s.elastic.co/node-data": role("data"),
            "elasticsearch.k8s.elastic.co/node-ingest": role("ingest"),
            [ECK_LABELS.esHttpScheme]: "https",
            [ECK_LABELS.esStatefulSet]: sset,
        });
        const claims = ((set.volumeClaimTemplates ?? []) as { metadata: { name: string } }[]).map((c) => claim(c.metadata.name));
        const volumes = [
            ...claims,
            emptyDir("elastic-internal-elasticsearch-bin-local"),
            emptyDir("elastic-internal-elasticsearch-config-local"),
            emptyDir("elastic-internal-elasticsearch-plugins-local"),
            emptyDir("elasticsearch-logs"),
            secret("elastic-internal-xpack-file-realm"),
            configMap("elastic-internal-unicast-hosts"),
            secret("elastic-internal-probe-user"),
            secret("elastic-internal-transport-certificates"),
            secret("elastic-internal-remote-certificate-authorities"),
            secret("elastic-internal-http-certificates"),
            configMap("elastic-internal-scripts"),
            secret("elastic-internal-elasticsearch-config"),
            { name: "downward-api", downwardAPI: { items: [] } },
            emptyDir("tmp-volume"),
            secret("file-settings"),
            ...(hasSecureSettings(cr.spec) ? [secret("elastic-internal-secure-settings")] : []),
        ];
        const mounts = [
            { name: "elasticsearch-data", mountPath: "/usr/share/elasticsearch/data" },
            { name: "elasticsearch-logs", mountPath: "/usr/share/elasticsearch/logs" },
            { name: "elastic-internal-xpack-file-realm", mountPath: "/usr/share/elasticsearch/config/file-realm" },
            { name: "elastic-internal-scripts", mountPath: "/mnt/elastic-internal/scripts" },
            { name: "elastic-internal-http-certificates", mountPath: "/usr/share/elasticsearch/config/http-certs" },
            { name: "elastic-internal-transport-certificates", mountPath: "/usr/share/elasticsearch/config/transport-certs" },
            { name: "tmp-volume", mountPath: "/tmp" },
        ];
        b.withMainDefaults({
            image: `docker.elastic.co/elasticsearch/elasticsearch:${ver}`,
            resources: { requests: { memory: "2Gi" }, limits: { memory: "2Gi" } },
            ports: [
                { name: "https", containerPort: 9200, protocol: "TCP" },
                { name: "transport", containerPort: 9300, protocol: "TCP" },
            ],
            // nodespec/readiness_probe.go NewReadinessProbe: an exec probe, no host.
            readinessProbe: { exec: { command: ["bash", "-c", "/mnt/elastic-internal/scripts/readiness-port-script.sh"] } },
            volumeMounts: mounts,
        })
            .withTerminationGracePeriod(ES_DEFAULT_TERMINATION_GRACE_SECONDS)
            // nodespec/defaults.go DefaultAffinity: preferred, one node of the cluster per Kubernetes node.
            .withAffinity({
                podAntiAffinity: {
                    preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: { [ECK_LABELS.esCluster]: es } } } }],
                },
            })
            .withVolumes(volumes);
        const init: Container[] = [
            { name: ECK_INIT_CONTAINERS.esPrepareFilesystem, command: ["bash", "-c", "/mnt/elastic-internal/scripts/prepare-fs.sh"], resources: fixed("50Mi", "100m") },
            ...(hasSecureSettings(cr.spec)
                ? [keystoreContainer(esSecurityContext(ver, true), fixed("196Mi", "500m"))]
                : []),
            { name: ECK_INIT_CONTAINERS.esSuspend, command: ["bash", "-c", "/mnt/elastic-internal/scripts/suspend.sh"] },
        ];
        // podspec.go: readOnlyRootFilesystem when the data volume is among the mounts, which it always is here.
        b.withInitContainers(init).withInitContainerDefaults().withContainersSecurityContext(esSecurityContext(ver, true)).withPreStopHook(ES_PRE_STOP_HOOK);
        const za = set.zoneAwareness as { topologyKey?: string; zones?: string[] } | undefined;
        if (za || zoneAware) {
            // podspec.go zoneAwarenessSchedulingDirectives.
            const key = za?.topologyKey ?? "topology.kubernetes.io/zone";
            if (za) {
                b.spec.topologySpreadConstraints = [
                    ...(b.spec.topologySpreadConstraints ?? []).filter((c) => c.topologyKey !== key),
                    { maxSkew: 1, topologyKey: key, whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: { [ECK_LABELS.esCluster]: es, [ECK_LABELS.esStatefulSet]: sset } } },
                ];
            }
            const req = za?.zones && za.zones.length > 0 ? { key, operator: "In", values: [...za.zones] } : { key, operator: "Exists" };
            const aff = (b.spec.affinity ??= {});
            const na = (aff.nodeAffinity ??= {});
            const sel = (na.requiredDuringSchedulingIgnoredDuringExecution ??= { nodeSelectorTerms: [] });
            if (sel.nodeSelectorTerms.length === 0) sel.nodeSelectorTerms.push({ matchExpressions: [req] });
            else for (const t of sel.nodeSelectorTerms) t.matchExpressions = [...(t.matchExpressions ?? []), req];
        }
        return b.pod(`elasticsearch/${es}/${name}`, "elasticsearch", Number(set.count ?? 0), cr.metadata.namespace);
    });
}

/** Kibana's pod (kibana/pod.go NewPodTemplateSpec; volumes kibana/driver.go buildVolumes, kibana/volume/volume.go). */
export function kibanaPod(cr: CustomResource, o: OperatorOptions): EffectivePod {
    const kb = cr.metadata.name;
    const ver = String(cr.spec.version);
    const b = new Builder(templateOf(cr.spec), ECK_MAIN_CONTAINERS.kibana);
    b.withLabels({ [ECK_LABELS.type]: "kibana", [ECK_LABELS.kibanaName]: kb, [ECK_LABELS.kibanaVersion]: ver })
        .withMainDefaults({
            image: `docker.elastic.co/kibana/kibana:${ver}`,
            resources: { requests: { memory: "2Gi" }, limits: { memory: "2Gi" } },
            ports: [{ name: "https", containerPort: 5601, protocol: "TCP" }],
            readinessProbe: { httpGet: { port: 5601, path: "/login", scheme: "HTTPS" } },
            volumeMounts: [
                { name: "kibana-scripts", mountPath: "/mnt/elastic-internal/scripts" },
                { name: "kibana-plugins", mountPath: "/usr/share/kibana/plugins" },
                { name: "kibana-data", mountPath: "/usr/share/kibana/data" },
                { name: "elastic-internal-kibana-config-local", mountPath: "/usr/share/kibana/config" },
            ],
        })
        .withVolumes([
            configMap("kibana-scripts"),
            emptyDir("kibana-plugins"),
            emptyDir("kibana-data"),
            emptyDir("elastic-internal-kibana-config-local"),
            secret("elastic-internal-kibana-config"),
            secret("elastic-internal-http-certificates"),
            ...(cr.spec.elasticsearchRef ? [secret("elasticsearch-certs")] : []),
        ]);
    // initcontainer/prepare_fs.go NewInitContainer: no security context of its own.
    b.withInitContainers([{ name: ECK_INIT_CONTAINERS.kibanaInit, command: ["/usr/bin/env", "bash", "-c", "/mnt/elastic-internal/scripts/init.sh"], resources: fixed("50Mi", "100m") }]);
    if (gte(ver, [7, 10, 0]) && o.setDefaultSecurityContext) {
        b.withContainersSecurityContext(KIBANA_DEFAULT_SECURITY_CONTEXT)
            .withPodSecurityContext(ECK_DEFAULT_POD_SECURITY_CONTEXT)
            .withVolumes([emptyDir("kibana-logs"), emptyDir("temp-volume")]);
    }
    if (hasSecureSettings(cr.spec)) {
        b.withVolumes([secret("elastic-internal-secure-settings")]).withInitContainers([keystoreContainer(ECK_BARE_SECURITY_CONTEXT, fixed("128Mi", "100m"))]);
    }
    b.withInitContainerDefaults();
    return b.pod(`kibana/${kb}`, "kibana", Number(cr.spec.count ?? 1), cr.metadata.namespace);
}

/** Logstash's pod (logstash/pod.go buildPodTemplate; volumes logstash/volume/volumes.go BuildVolumes). */
export function logstashPod(cr: CustomResource, o: OperatorOptions): EffectivePod {
    const ls = cr.metadata.name;
    const ver = String(cr.spec.version);
    const b = new Builder(templateOf(cr.spec), ECK_MAIN_CONTAINERS.logstash);
    if (hasSecureSettings(cr.spec)) {
        b.withVolumes([secret("elastic-internal-secure-settings")]).withInitContainers([keystoreContainer(ECK_BARE_SECURITY_CONTEXT, fixed("1Gi", "1000m"))]);
    }
    const claims = ((cr.spec.volumeClaimTemplates ?? []) as { metadata: { name: string } }[]).map((c) => claim(c.metadata.name));
    b.withLabels({ [ECK_LABELS.type]: "logstash", [ECK_LABELS.logstashName]: ls, [ECK_LABELS.logstashStatefulSet]: `${ls}-ls`, [ECK_LABELS.logstashVersion]: ver })
        .withMainDefaults({
            image: `docker.elastic.co/logstash/logstash:${ver}`,
            resources: { requests: { memory: "2Gi", cpu: "1000m" }, limits: { memory: "2Gi", cpu: "2000m" } },
            ports: [{ name: "http", containerPort: 9600, protocol: "TCP" }],
            readinessProbe: { httpGet: { port: 9600, path: "/", scheme: "HTTP" } },
            volumeMounts: [
                { name: "logstash-data", mountPath: "/usr/share/logstash/data" },
                { name: "logstash-logs", mountPath: "/usr/share/logstash/logs" },
                { name: "config", mountPath: "/usr/share/logstash/config" },
            ],
        })
        .withVolumes([
            ...claims,
            emptyDir("logstash-logs"),
            emptyDir("config"),
            secret("elastic-internal-logstash-config"),
            secret("elastic-internal-logstash-pipeline"),
            secret("elastic-internal-http-certificates"),
        ])
        .withInitContainers([
            { name: ECK_INIT_CONTAINERS.logstashConfig, command: ["/usr/bin/env", "bash", "-c", "<init config script>"], securityContext: ECK_BARE_SECURITY_CONTEXT, resources: fixed("50Mi", "100m") },
        ])
        .withInitContainerDefaults();
    if (o.setDefaultSecurityContext) b.withPodSecurityContext(ECK_DEFAULT_POD_SECURITY_CONTEXT);
    return b.pod(`logstash/${ls}`, "logstash", Number(cr.spec.count ?? 1), cr.metadata.namespace);
}

/** The pods of any of the three kinds. */
export function effectivePods(cr: CustomResource, o: OperatorOptions): EffectivePod[] {
    if (cr.kind === "Elasticsearch") return elasticsearchPods(cr, o);
    if (cr.kind === "Kibana") return [kibanaPod(cr, o)];
    if (cr.kind === "Logstash") return [logstashPod(cr, o)];
    throw new Error(`no pods for kind ${cr.kind}`);
}

/**
 * Init containers of a template that the operator will not inject in this configuration, but that carry no command
 * of their own: the operator keeps them as they are, with the main container's image (withInitContainerDefaults), so
 * they would run that image's entrypoint (Elasticsearch, Kibana, Logstash itself) and the pod would never start.
 */
export function strandedInitContainers(pod: EffectivePod): string[] {
    return (pod.spec.initContainers ?? []).filter((c) => !c.command || c.command.length === 0).map((c) => c.name);
}
