/**
 * Pure builders of the objects the `eck` Kubernetes engine creates: the custom resources of Elastic's operator (ECK)
 * for Elasticsearch, Kibana and Logstash, the Secrets they name, and the operator's Helm release. They start from the
 * same platform-neutral specs as the other targets (components/model/elasticsearch.ts, kibana.ts, logstash.ts) and leave
 * to the operator what it manages itself: discovery, node names, the transport certificates of each pod, probes,
 * rolling restarts.
 *
 * Every field is checked against the pinned operator's API types (github.com/elastic/cloud-on-k8s at tag
 * v{@link ECK_OPERATOR_VERSION}): pkg/apis/elasticsearch/v1/elasticsearch_types.go, pkg/apis/kibana/v1/kibana_types.go,
 * pkg/apis/logstash/v1alpha1/logstash_types.go and pkg/apis/common/v1/common.go.
 */
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import YAML from "yaml";
import type { ServiceType } from "../model/config";
import { type NodeSetConfig, isMasterEligible } from "../model/nodeSets";
import { BOOTSTRAP_SECRETS } from "../model/bootstrap";
import { ES_ELASTIC_PASSWORD_SETTING } from "../model/elasticsearch";
import { KIBANA_KEYSTORE_SETTINGS } from "../model/kibana";
import { SECRET_FILES_ENV, secretFilePath } from "../model/shellScripts";
import type { ContainerSpec, FileSpec, JobSpec, ServiceSpec } from "../model/spec";
import type { IngressRule } from "../model/traffic";
import * as m from "./kubernetesManifests";
import { type EckNames, LOGSTASH_LISTENER_SERVICE } from "../model/eckNaming";
import { gibibytes, mebibytes, millicores } from "./quantities";

type ObjectMeta = k8s.types.input.meta.v1.ObjectMeta;
/** Kibana's keystore setting of the kibana_system password, which the eck engine never sets. */
const KIBANA_ES_PASSWORD_SETTING = KIBANA_KEYSTORE_SETTINGS.esPassword;
type Container = k8s.types.input.core.v1.Container;
type PodTemplate = { metadata?: ObjectMeta; spec: k8s.types.input.core.v1.PodSpec };
type Claim = { metadata: ObjectMeta; spec: k8s.types.input.core.v1.PersistentVolumeClaimSpec };

/** The ECK release the stack installs, and whose API the custom resources are written against. */
export const ECK_OPERATOR_VERSION = "3.5.0";
/** Elastic's Helm repository and the operator's chart in it. */
export const ECK_HELM_REPOSITORY = "https://helm.elastic.co";
export const ECK_CHART = "eck-operator";

/** API version, kind and CRD of each custom resource, as served by the pinned operator. */
export const ECK_KINDS = {
    elasticsearch: { apiVersion: "elasticsearch.k8s.elastic.co/v1", kind: "Elasticsearch", crd: "elasticsearches.elasticsearch.k8s.elastic.co" },
    kibana: { apiVersion: "kibana.k8s.elastic.co/v1", kind: "Kibana", crd: "kibanas.kibana.k8s.elastic.co" },
    logstash: { apiVersion: "logstash.k8s.elastic.co/v1alpha1", kind: "Logstash", crd: "logstashes.logstash.k8s.elastic.co" },
} as const;

/** Container names ECK gives its main containers: a podTemplate container of that name is merged into it. */
export const ECK_CONTAINERS = { elasticsearch: "elasticsearch", kibana: "kibana", logstash: "logstash" } as const;
/** Claim names ECK mounts as the data directories (pkg/controller/elasticsearch/volume/names.go, pkg/controller/logstash/volume/names.go). */
export const ECK_DATA_CLAIMS = { elasticsearch: "elasticsearch-data", logstash: "logstash-data" } as const;
/** Key of the elastic user's password in the operator's secret (pkg/controller/elasticsearch/user/predefined.go). */
export const ELASTIC_USER_KEY = "elastic";
/** Label ECK puts on every pod of an Elasticsearch cluster (pkg/controller/elasticsearch/label). */
export const ECK_CLUSTER_LABEL = "elasticsearch.k8s.elastic.co/cluster-name";
// Every name of the engine: components/model/eckNaming.ts.
export { type EckNames, LOGSTASH_LISTENER_SERVICE, esHttpService, kibanaHttpService, logstashService } from "../model/eckNaming";
/** Label ECK puts on every pod of a node set, its StatefulSet's name (label.go StatefulSetNameLabelName). */
export const ECK_STATEFULSET_LABEL = "elasticsearch.k8s.elastic.co/statefulset-name";

/**
 * Init containers ECK injects into Kibana's and Logstash's pods, by the names its controllers give them: the keystore
 * (pkg/controller/common/keystore/initcontainer.go, whenever the resource has `secureSettings`), Kibana's
 * configuration and plugins (pkg/controller/kibana/volume/volume.go InitContainerName, always) and Logstash's
 * configuration (pkg/controller/logstash/initcontainer.go InitConfigContainerName, always).
 */
export const ECK_INIT_CONTAINERS = {
    keystore: "elastic-internal-init-keystore",
    kibanaInit: "elastic-internal-init",
    logstashConfig: "logstash-internal-init-config",
} as const;

/**
 * Elasticsearch's termination grace period when its pod template sets none (pkg/controller/elasticsearch/nodespec/
 * defaults.go DefaultTerminationGracePeriodSeconds). ECK's pre-stop hook waits for the node shutdown API and then 50 s
 * more, with retries sized to it (nodespec/lifecycle_hook.go: "0 + 1 + 2 + 4 + 8 + 16 + 32 + 64 < 180s").
 */
export const ECK_ES_TERMINATION_GRACE_SECONDS = 180;

/**
 * Labels of the operator's pods, by how it was installed: the eck-operator chart's selector label (its nameOverride
 * "elastic-operator" in deploy/eck-operator/values.yaml, which `operatorValues` leaves alone; the chart's other
 * selector label, app.kubernetes.io/instance, is the Helm release's name, which Pulumi generates), or ECK's
 * all-in-one manifests (rendered with global.manifestGen: `control-plane: elastic-operator`, templates/_helpers.tpl).
 */
export const ECK_OPERATOR_POD_LABELS = {
    helm: { "app.kubernetes.io/name": "elastic-operator" },
    manifests: { "control-plane": "elastic-operator" },
} as const;

/**
 * pulumi-kubernetes waits for a resource to satisfy these before it counts as created or updated (the
 * `pulumi.com/waitFor` annotation: one expression or a JSON list, see pulumi/pulumi-kubernetes' generic-await test
 * program). ECK writes `status.health` of each kind (green: every pod ready; pkg/apis/common/v1/common.go
 * DeploymentHealth, pkg/apis/logstash/v1alpha1/logstash_types.go LogstashHealth) and Elasticsearch's cluster health
 * and orchestration phase (pkg/apis/elasticsearch/v1/status.go: ElasticsearchGreenHealth, ElasticsearchReadyPhase).
 */
export const WAIT_FOR_ANNOTATION = "pulumi.com/waitFor";

/**
 * How the stack and the operator share the Elasticsearch, Kibana and Logstash resources under server-side apply.
 *
 * The operator writes to them with `client.Update` (a read-modify-write of the whole object, under its own field
 * manager), only in metadata: on Elasticsearch the annotations `elasticsearch.k8s.elastic.co/cluster-uuid`
 * (pkg/controller/elasticsearch/bootstrap/bootstrap.go), `elasticsearch.k8s.elastic.co/initial-master-nodes` while
 * the cluster forms (version/zen2/initial_master_nodes.go), `eck.k8s.elastic.co/orchestration-hints`
 * (elasticsearch_controller.go annotateResource), `elasticsearch.k8s.elastic.co/managed-remote-clusters`
 * (remotecluster/annotations.go), `eck.k8s.elastic.co/client-authentication-required`
 * (common/annotation/client_cert.go), `elasticsearch.k8s.elastic.co/recreate-<StatefulSet>` while it recreates a
 * StatefulSet for grown claims (common/volume/pvc_expansion.go; `logstash.k8s.elastic.co/recreate-` on Logstash);
 * on Kibana `association.k8s.elastic.co/es-conf` for its `elasticsearchRef` (association/conf.go); and the removal
 * of legacy `finalizer.*.k8s.elastic.co` finalizers (common/finalizer/finalizers.go). Status goes through the status
 * subresource, which an apply of the object does not touch. Nothing writes our spec (autoscaling would; the stack
 * does not use it).
 *
 * Those annotations are not in what the provider applies, so they never conflict: server-side apply reports a
 * conflict only for a field the applier sets to another value than a different manager's (Kubernetes' Server-Side
 * Apply documentation), and pulumi-kubernetes diffs only the fields of our inputs (provider/pkg/provider/provider.go
 * Diff, pruneLiveState). What could conflict is a field of ours that the operator's full-object update rewrites: it
 * decodes the object into its Go types and encodes it again, and a non-canonical quantity comes back rewritten
 * (`2048Mi` as `2Gi`), which hands that field to the operator. So every quantity of these resources is canonical
 * (quantities.ts), and tests/eckOwnership.test.ts applies a model of the operator's writes (tests/support/eck/
 * ownership.ts) to every resource the stack registers.
 *
 * The provider's `pulumi.com/patchForce` annotation (provider/pkg/await/await.go patchForce) makes the stack's apply
 * take back any field of its own that another manager changed, instead of failing the update: what the program
 * declares is what the resource says. It touches no field the program does not declare, so the operator's
 * annotations stay. No `ignoreChanges`: none of the operator's fields is among the stack's inputs.
 */
export const PATCH_FORCE_ANNOTATION = "pulumi.com/patchForce";

/** The operator's secret holding the elastic user's password. */
export const elasticUserSecret = (es: string) => `${es}-es-elastic-user`;
/** Pod name of node `i` of a node set. */
export const esPodName = (es: string, set: string, i: number) => `${es}-es-${set}-${i}`;
/** A node set's StatefulSet (pkg/apis/elasticsearch/v1/name.go StatefulSet), the value of {@link ECK_STATEFULSET_LABEL}. */
export const esStatefulSetName = (es: string, set: string) => `${es}-es-${set}`;
/** Secrets the stack makes for the operator to read. */
export const httpCertSecretName = (owner: string) => `${owner}-elk-http-cert`;
export const transportCaSecretName = (es: string) => `${es}-elk-transport-ca`;
/** The Secret a resource's `secureSettings` names: a key per keystore setting. */
export const secureSettingsSecretName = (owner: string) => `${owner}-elk-secure-settings`;

/** The forms of a Service's DNS name that clients in the cluster dial. */
export function serviceNames(service: string, namespace: string): string[] {
    return [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`];
}

/**
 * Settings ECK writes into elasticsearch.yml itself and that a user's `config` must not fight
 * (pkg/controller/elasticsearch/settings/merged_config.go: baseConfig and xpackConfig): names, addresses and ports,
 * discovery, and the TLS of both layers, which it sets up from `spec.http.tls` and `spec.transport.tls`.
 */
const ECK_MANAGED_ES_SETTINGS = [/^cluster\.name$/, /^node\.name$/, /^network\./, /^http\.port$/, /^transport\.port$/, /^discovery\./, /^cluster\.initial_master_nodes$/, /^xpack\.security\.(enabled|http\.ssl\.|transport\.ssl\.)/];

/**
 * The spec's elasticsearch.yml, less what ECK manages: what every node set's `config` starts from. An Output when
 * the file is one (its text waits for whether the cluster formed before, which only decides settings ECK manages).
 */
export function elasticsearchConfig(spec: ServiceSpec): pulumi.Input<Record<string, unknown>> {
    const file = spec.files.find((f) => f.path.endsWith("/elasticsearch.yml"));
    if (!file) throw new Error(`${spec.name}: no elasticsearch.yml in the spec`);
    const unmanaged = (text: string) => Object.fromEntries(Object.entries(YAML.parse(text) as Record<string, unknown>).filter(([k]) => !ECK_MANAGED_ES_SETTINGS.some((re) => re.test(k))));
    return typeof file.content === "string" ? unmanaged(file.content) : pulumi.output(file.content).apply(unmanaged);
}

/**
 * Settings of kibana.yml that ECK writes itself from the Kibana resource (pkg/controller/kibana/config_settings.go):
 * its address, its HTTPS certificate, which comes from `spec.http.tls`, and the association's Elasticsearch URL; and
 * `server.name`, which ECK 3.5.0 does not write, left to Kibana's default, the pod's host name, so that replicas
 * differ. ECK merges the resource's `config` over its own with go-ucfg's AppendValues (pkg/controller/common/settings/
 * canonical_config.go `Options`), so a list of hosts in `config` would be appended to the association's: the same
 * URL twice.
 */
const ECK_MANAGED_KIBANA_SETTINGS = [/^server\.name$/, /^server\.host$/, /^server\.ssl\./, /^elasticsearch\.hosts$/];

/** The spec's kibana.yml, less what ECK manages. It holds no secret: those are keystore settings. */
export function kibanaConfig(spec: ServiceSpec): Record<string, unknown> {
    const file = spec.files.find((f) => f.path.endsWith("/kibana.yml"));
    if (!file || typeof file.content !== "string") throw new Error(`${spec.name}: no kibana.yml in the spec`);
    const settings = YAML.parse(file.content) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(settings).filter(([k]) => !ECK_MANAGED_KIBANA_SETTINGS.some((re) => re.test(k))));
}

/**
 * Settings of logstash.yml that ECK manages (pkg/controller/logstash/config.go): the API, which its probes and
 * health checks read on all addresses. `node.name` is left out so that each pod keeps Logstash's default, its host
 * (pod) name, and monitoring can tell replicas apart.
 */
const ECK_MANAGED_LOGSTASH_SETTINGS = [/^api\./, /^node\.name$/];

/** The spec's logstash.yml, less what ECK manages. */
export function logstashConfig(spec: ServiceSpec): Record<string, unknown> {
    const file = spec.files.find((f) => f.path.endsWith("/logstash.yml"));
    if (!file || typeof file.content !== "string") throw new Error(`${spec.name}: no logstash.yml in the spec`);
    const settings = YAML.parse(file.content) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(settings).filter(([k]) => !ECK_MANAGED_LOGSTASH_SETTINGS.some((re) => re.test(k))));
}

/** The spec's pipelines.yml as ECK's `spec.pipelines` (the same entries: id, path, queue type, dead letter queue). */
export function logstashPipelines(spec: ServiceSpec): Record<string, unknown>[] {
    const file = spec.files.find((f) => f.path.endsWith("/pipelines.yml"));
    if (!file || typeof file.content !== "string") throw new Error(`${spec.name}: no pipelines.yml in the spec`);
    return YAML.parse(file.content) as Record<string, unknown>[];
}

/**
 * The files of a spec that the pods mount themselves: everything but the configuration files the operator writes
 * from `config`/`pipelines` and the HTTP certificate and key, which reach the operator through a Secret instead.
 */
export function mountedFiles(spec: ContainerSpec, leaveOut: readonly string[]): ContainerSpec {
    return { ...spec, files: spec.files.filter((f: FileSpec) => !leaveOut.includes(f.path)) };
}

/**
 * Each keystore setting of a spec that starts through shell/keystore-start.sh (components/model/shellScripts.ts
 * keystoreStart) and the confidential file that carries its value: the names in `ELK_CONFIDENTIAL`, the files
 * `elk-secret.<name>` in `ELK_CONFIDENTIAL_DIR`. None for a spec without them.
 */
export function confidentialSettings(spec: ContainerSpec): Record<string, FileSpec> {
    const dir = spec.env[SECRET_FILES_ENV.dir];
    if (dir === undefined) return {};
    const names = (spec.env[SECRET_FILES_ENV.names] ?? "").split(" ").filter((n) => n !== "");
    return Object.fromEntries(
        names.map((name) => {
            const file = spec.files.find((f) => f.path === secretFilePath(dir, name));
            if (!file || !file.secret) throw new Error(`${spec.name}: ${SECRET_FILES_ENV.names} names ${name}, but no secret file ${secretFilePath(dir, name)} carries it`);
            return [name, file];
        }),
    );
}

/**
 * A service spec as ECK's pods run it: the image's own entrypoint, without keystore-start.sh, the confidential
 * files and the variables naming them. The operator fills the keystore from `secureSettings` in an init container
 * instead (pkg/controller/elasticsearch/initcontainer/keystore.go, pkg/controller/kibana/initcontainer/keystore.go,
 * pkg/controller/logstash/keystore.go). keystoreStart puts nothing else in `ELK_CONFIDENTIAL_DIR`, so the whole
 * folder goes.
 */
export function withoutKeystoreStart(spec: ServiceSpec): ServiceSpec {
    const dir = spec.env[SECRET_FILES_ENV.dir];
    if (dir === undefined) return spec;
    return {
        ...spec,
        entrypoint: undefined,
        env: Object.fromEntries(Object.entries(spec.env).filter(([k]) => k !== SECRET_FILES_ENV.dir && k !== SECRET_FILES_ENV.names)),
        files: spec.files.filter((f) => !f.path.startsWith(`${dir}/`)),
    };
}

/**
 * The data of a resource's secure-settings Secret: each keystore setting of the spec with its value, and for
 * Elasticsearch the object store's credentials (ServiceSpec.keystore). Not the elastic user's password, which
 * the operator reads from its elastic-user Secret ({@link elasticPasswordOf}).
 */
export function secureSettingsData(spec: ServiceSpec): Record<string, pulumi.Input<string>> {
    const data: Record<string, pulumi.Input<string>> = {};
    for (const [setting, file] of Object.entries(confidentialSettings(spec))) {
        if (spec.role === "elasticsearch" && setting === ES_ELASTIC_PASSWORD_SETTING) continue;
        data[setting] = file.content;
    }
    for (const entry of spec.keystore?.entries ?? []) {
        if (entry.setting in data) throw new Error(`${spec.name}: keystore setting ${entry.setting} given twice`);
        // ECK adds every entry with `elasticsearch-keystore add-file`, so file settings (gcs credentials_file) and
        // string settings alike take the file's content.
        data[entry.setting] = entry.value;
    }
    return data;
}

/** The elastic user's password of an Elasticsearch spec: its `bootstrap.password` confidential file. */
export function elasticPasswordOf(spec: ServiceSpec): pulumi.Input<string> {
    const file = confidentialSettings(spec)[ES_ELASTIC_PASSWORD_SETTING];
    if (!file) throw new Error(`${spec.name}: no ${ES_ELASTIC_PASSWORD_SETTING} among its confidential files`);
    return file.content;
}

/** `secureSettings` of a custom resource: its Secret, when the spec has any setting for it. */
function secureSettings(secretName: string | undefined): { secureSettings?: { secretName: string }[] } {
    return secretName === undefined ? {} : { secureSettings: [{ secretName }] };
}

/** What Elasticsearch's pods mount: nothing of elasticsearch.yml (it becomes `config`) nor of the certificates. */
export function elasticsearchMountedFiles(spec: ServiceSpec): ServiceSpec {
    const own = withoutKeystoreStart(spec);
    const yml = own.files.find((f) => f.path.endsWith("/elasticsearch.yml"));
    const certDir = yml ? `${yml.path.slice(0, yml.path.lastIndexOf("/"))}/certs/` : undefined;
    return { ...own, files: own.files.filter((f) => f !== yml && !(certDir !== undefined && f.path.startsWith(certDir))) };
}

/** What Kibana's pods mount: the CA (kibana.yml becomes `config`, the certificate and key a Secret the operator reads). */
export function kibanaMountedFiles(spec: ServiceSpec): ServiceSpec {
    const own = withoutKeystoreStart(spec);
    return mountedFiles(own, own.files.filter((f) => f.path.endsWith("/kibana.yml") || f.secret || f.path.endsWith(`/${spec.name}.crt`)).map((f) => f.path)) as ServiceSpec;
}

/** What Logstash's pods mount: pipelines, patterns and TLS files (logstash.yml and pipelines.yml become `config` and `pipelines`). */
export function logstashMountedFiles(spec: ServiceSpec): ServiceSpec {
    const own = withoutKeystoreStart(spec);
    return mountedFiles(own, own.files.filter((f) => f.path.endsWith("/logstash.yml") || f.path.endsWith("/pipelines.yml")).map((f) => f.path)) as ServiceSpec;
}

/**
 * A claim template of `sizeGb` GiB, on the storage class or the cluster's default. Quantities here and in
 * {@link resources} are canonical (quantities.ts): the operator's updates of the resource then rewrite none of them.
 */
export function claimTemplate(name: string, sizeGb: number, storageClass: string | undefined): Claim {
    return {
        metadata: { name },
        spec: { accessModes: ["ReadWriteOnce"], storageClassName: storageClass, resources: { requests: { storage: gibibytes(sizeGb) } } },
    };
}

/** Requests and limits; memory is not overcommitted, as on the manifests engine. */
export function resources(memoryMb: number, cpu: { requestMillis: number; limitMillis: number }): k8s.types.input.core.v1.ResourceRequirements {
    return {
        requests: { memory: mebibytes(memoryMb), cpu: millicores(cpu.requestMillis) },
        limits: { memory: mebibytes(memoryMb), cpu: millicores(cpu.limitMillis) },
    };
}

/** Labels of a custom resource (ECK copies them to the objects it makes). */
export function resourceLabels(p: m.Placement, spec: ContainerSpec): Record<string, string> {
    return m.labels(p, spec);
}

/**
 * The API version, kind and metadata of a custom resource of the stack: named `name` in the stack's namespace,
 * labelled as its service, annotated with the conditions the provider waits for (`waitFor`) and applied with force
 * ({@link PATCH_FORCE_ANNOTATION}).
 */
function resourceHeader(kind: keyof typeof ECK_KINDS, name: string, placement: m.Placement, spec: ServiceSpec, waitFor: string): { apiVersion: string; kind: string; metadata: ObjectMeta } {
    return {
        apiVersion: ECK_KINDS[kind].apiVersion,
        kind: ECK_KINDS[kind].kind,
        metadata: { name, namespace: placement.namespace, labels: resourceLabels(placement, spec), annotations: { [WAIT_FOR_ANNOTATION]: waitFor, [PATCH_FORCE_ANNOTATION]: "true" } },
    };
}


/** Inputs of {@link elasticsearchResource}. */
export interface ElasticsearchResourceInput {
    readonly placement: m.Placement;
    readonly names: EckNames;
    readonly version: string;
    /** The platform-neutral spec of the Elasticsearch service (components/model/elasticsearch.ts). */
    readonly spec: ServiceSpec;
    readonly nodeSets: readonly NodeSetConfig[];
    /** Zones to spread every node set over; none for no zone awareness. */
    readonly zones: readonly string[];
    readonly storageClass?: string;
    /** The privileged sysctl step, when it runs; otherwise the nodes do without memory-mapped index files. */
    readonly kernelStep?: JobSpec;
    /** Names of the ConfigMap and Secret of the mounted files. */
    readonly refs: m.ContentRefs;
    /** Claim name of each shared volume (the snapshot repository). */
    readonly sharedClaims: Readonly<Record<string, pulumi.Input<string>>>;
    /** How nodes spread over Kubernetes nodes, as on the manifests engine. */
    readonly antiAffinity: m.AntiAffinity;
    /** The Secret of its keystore settings ({@link secureSettingsData}), when it has any. */
    readonly secureSettingsSecret?: string;
}

/** The label ECK gives a zone when `zoneAwareness` names no key (DefaultZoneAwarenessTopologyKey). */
export const ZONE_TOPOLOGY_KEY = "topology.kubernetes.io/zone";

/**
 * The Elasticsearch custom resource: one node set per configured set, each with its roles, size and claim, the
 * stack's HTTP certificate, the transport CA, and the sysctl init container as the only privileged container.
 */
export function elasticsearchResource(input: ElasticsearchResourceInput): { apiVersion: string; kind: string; metadata: ObjectMeta; spec: Record<string, unknown> } {
    const { spec, placement, names } = input;
    const common = elasticsearchConfig(spec);
    // Nothing of the spec's TLS: the operator mounts the certificates it is given.
    const mounted = elasticsearchMountedFiles(spec);
    const files = m.filesVolume(mounted, input.refs);
    const shared = spec.volumes.filter((v) => v.shared).map((v) => {
        const claimName = input.sharedClaims[v.name];
        if (claimName === undefined) throw new Error(`${spec.name}: shared volume ${v.name} has no claim`);
        return { volume: { name: v.name, persistentVolumeClaim: { claimName } }, mount: { name: v.name, mountPath: v.mountPath } };
    });
    const totalNodes = input.nodeSets.reduce((n, s) => n + s.count, 0);
    const nodeSets = input.nodeSets.map((set) => {
        const own: Record<string, unknown> = {
            ...(set.roles !== undefined ? { "node.roles": [...set.roles] } : {}),
            // Without the sysctl step vm.max_map_count may be too low for mmap; Elasticsearch then uses NIO
            // (ECK's documented alternative to the privileged init container).
            ...(input.kernelStep ? {} : { "node.store.allow_mmap": false }),
        };
        const config = pulumi.Output.isInstance(common) ? common.apply((c) => ({ ...c, ...own })) : { ...(common as Record<string, unknown>), ...own };
        const container: Container = {
            name: ECK_CONTAINERS.elasticsearch,
            env: [{ name: "ES_JAVA_OPTS", value: `-Xms${set.heapMb}m -Xmx${set.heapMb}m` }],
            resources: resources(set.memoryMb, set.cpu),
            volumeMounts: [...m.fileMounts(mounted), ...shared.map((s) => s.mount)],
            securityContext: m.restrictedContainerSecurity(),
        };
        const podTemplate: PodTemplate = {
            metadata: { labels: resourceLabels(placement, spec) },
            spec: {
                securityContext: m.podSecurity(spec),
                // The kernel step alone runs privileged, as root (kubernetesManifests.stepContainer).
                initContainers: input.kernelStep ? [m.stepContainer(input.kernelStep, {})] : undefined,
                containers: [container],
                volumes: [...(files ? [files] : []), ...shared.map((s) => s.volume)],
                affinity: totalNodes > 1 ? nodeSetAntiAffinity(names.elasticsearch, set.name, set.count, input.antiAffinity) : undefined,
                // Never below ECK's default, which its pre-stop hook is sized to: the hook hands the node to the shutdown
                // API and waits for it before Elasticsearch gets its stop signal.
                terminationGracePeriodSeconds: Math.max(spec.stopGraceSeconds, ECK_ES_TERMINATION_GRACE_SECONDS),
            },
        };
        return {
            name: set.name,
            count: set.count,
            config,
            // ECK 3.x: topology spread over the zones (maxSkew 1, DoNotSchedule), node affinity to the listed zones,
            // and `node.attr.zone` with `cluster.routing.allocation.awareness.attributes: k8s_node_name,zone`
            // (pkg/controller/elasticsearch/nodespec/podspec.go zoneAwarenessSchedulingDirectives,
            // pkg/controller/elasticsearch/settings/merged_config.go zoneAwarenessConfig).
            ...(input.zones.length > 0 ? { zoneAwareness: { topologyKey: ZONE_TOPOLOGY_KEY, zones: [...input.zones] } } : {}),
            podTemplate,
            volumeClaimTemplates: [claimTemplate(ECK_DATA_CLAIMS.elasticsearch, set.storageGb, input.storageClass)],
        };
    });
    return {
        ...resourceHeader("elasticsearch", names.elasticsearch, placement, spec, JSON.stringify(["jsonpath={.status.phase}=Ready", "jsonpath={.status.health}=green"])),
        spec: {
            version: input.version,
            http: { tls: { certificate: { secretName: httpCertSecretName(names.elasticsearch) } } },
            // The operator issues each pod's transport certificate from this CA (TransportTLSOptions.Certificate).
            transport: { tls: { certificate: { secretName: transportCaSecretName(names.elasticsearch) } } },
            // At most one node down at a time during a rolling change (ChangeBudget; ECK's default made explicit).
            updateStrategy: { changeBudget: { maxUnavailable: 1 } },
            // Claims of removed nodes go after their data has migrated; deleting the cluster keeps them.
            volumeClaimDeletePolicy: "DeleteOnScaledownOnly",
            ...secureSettings(input.secureSettingsSecret),
            nodeSets,
        },
    };
}

/**
 * Anti-affinity of a node set's pods, by ECK's own labels (which the operator puts on every pod it makes,
 * pkg/controller/elasticsearch/label/label.go NewPodLabels): the nodes of one set on different Kubernetes nodes
 * (required with `hard`, preferred with `soft`), so losing a Kubernetes node loses at most one master and one node of
 * each data set; nodes of different sets may share one, so 3 masters and 3 hot nodes need 3 Kubernetes nodes, not 6.
 * ECK's own default is kept beside it as a preference (pkg/controller/elasticsearch/nodespec/defaults.go
 * DefaultAffinity: any two nodes of the cluster apart where the scheduler can), which a template's affinity would
 * otherwise replace (defaults/pod_template.go WithAffinity sets it only when the template has none).
 */
export function nodeSetAntiAffinity(es: string, set: string, count: number, mode: m.AntiAffinity): k8s.types.input.core.v1.Affinity {
    const apart = (matchLabels: Record<string, string>) => ({ labelSelector: { matchLabels }, topologyKey: "kubernetes.io/hostname" });
    const sameSet = apart({ [ECK_CLUSTER_LABEL]: es, [ECK_STATEFULSET_LABEL]: esStatefulSetName(es, set) });
    const cluster = { weight: mode === "hard" ? 100 : 50, podAffinityTerm: apart({ [ECK_CLUSTER_LABEL]: es }) };
    if (count < 2) return { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [cluster] } };
    return {
        podAntiAffinity:
            mode === "hard"
                ? { requiredDuringSchedulingIgnoredDuringExecution: [sameSet], preferredDuringSchedulingIgnoredDuringExecution: [cluster] }
                : { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: sameSet }, cluster] },
    };
}

/** Master-eligible nodes of the sets. */
export function masterNodeCount(sets: readonly NodeSetConfig[]): number {
    return sets.filter(isMasterEligible).reduce((n, s) => n + s.count, 0);
}

/** Inputs of {@link kibanaResource}. */
export interface KibanaResourceInput {
    readonly placement: m.Placement;
    readonly names: EckNames;
    readonly version: string;
    /** The platform-neutral spec of Kibana (components/model/kibana.ts). */
    readonly spec: ServiceSpec;
    readonly serviceType: ServiceType;
    readonly refs: m.ContentRefs;
    /** The Secret of its keystore settings ({@link secureSettingsData}), when it has any. */
    readonly secureSettingsSecret?: string;
}

/**
 * The operator's init containers of a Kibana or Logstash pod, named in its pod template with a security context that
 * meets the `restricted` Pod Security level. ECK gives them `privileged: false` alone (pkg/controller/common/keystore/
 * initcontainer.go, pkg/controller/logstash/initcontainer.go), or nothing (Kibana's own, which gets
 * pkg/controller/kibana/securitycontext.go's default only while the operator sets default security contexts).
 * ECK merges a template's init container into its own of the same name with the template's fields first and never
 * takes the security context from its own (pkg/controller/common/defaults/pod_template.go WithInitContainers,
 * pkg/controller/common/container/defaulter.go From): each keeps the operator's image, command, mounts and resources
 * and gets this context. Only names the operator injects here: a template's init container of another name would
 * stay as written, without a command, and run the main image's entrypoint.
 */
export function operatorInitContainers(kind: "kibana" | "logstash", hasSecureSettings: boolean): Container[] {
    const restricted = m.restrictedContainerSecurity();
    // ECK's own requests and limits for each, written out so that every container of the template states its limits:
    // kibana/initcontainer/prepare_fs.go defaultResources, kibana/initcontainer/keystore.go, logstash/initcontainer.go,
    // logstash/keystore.go initContainersParameters.
    // Written canonically (components/targets/quantities.ts), so that the operator's updates rewrite none of them.
    const limits = (memoryMb: number, cpuMillis: number) => {
        const memory = mebibytes(memoryMb);
        const cpu = millicores(cpuMillis);
        return { requests: { memory, cpu }, limits: { memory, cpu } };
    };
    const own =
        kind === "kibana"
            ? // ECK's default for it is a read-only root filesystem (securitycontext.go): it writes to volumes only.
              { name: ECK_INIT_CONTAINERS.kibanaInit, resources: limits(50, 100), securityContext: { ...restricted, readOnlyRootFilesystem: true } }
            : { name: ECK_INIT_CONTAINERS.logstashConfig, resources: limits(50, 100), securityContext: restricted };
    const keystore = { name: ECK_INIT_CONTAINERS.keystore, resources: kind === "kibana" ? limits(128, 100) : limits(1024, 1000), securityContext: restricted };
    return [own, ...(hasSecureSettings ? [keystore] : [])];
}

/**
 * The Kibana custom resource. It reaches Elasticsearch through `elasticsearchRef`: ECK turns the built-in
 * kibana_system user off (`xpack.security.authc.reserved_realm.enabled: false`, pkg/controller/elasticsearch/settings/
 * merged_config.go) and issues Kibana a token of the `elastic/kibana` service account instead, which it writes into
 * Kibana's configuration (pkg/controller/kibana/config_settings.go). The association copies Elasticsearch's CA from
 * the HTTP certificate Secret, which carries the stack's CA as `ca.crt` (association/ca.go); kibana.yml's own
 * `elasticsearch.ssl.*` (the same CA, `full` verification) win the merge: its list of CA files replaces the
 * association's one path, and `full` its `certificate`. The hosts are the association's alone: kibana.yml's, the same
 * URL, are left out, since ECK's merge appends lists (tests/support/eck/settings.ts mergeSettings).
 * Its encryption keys are keystore settings,
 * which the operator writes into Kibana's keystore from the `secureSettings` Secret; neither the resource nor any
 * environment holds them.
 */
export function kibanaResource(input: KibanaResourceInput): { apiVersion: string; kind: string; metadata: ObjectMeta; spec: Record<string, unknown> } {
    const { spec, placement, names } = input;
    const mounted = kibanaMountedFiles(spec);
    const files = m.filesVolume(mounted, input.refs);
    // Kibana's data directory holds only its instance UUID: scratch space, as on the manifests engine.
    const scratch = spec.volumes.filter((v) => !v.durable);
    const config = kibanaConfig(spec);
    if (config["elasticsearch.username"] !== undefined || KIBANA_ES_PASSWORD_SETTING in confidentialSettings(spec)) {
        throw new Error(`${spec.name}: on the eck engine Kibana authenticates with the token the operator issues for elasticsearchRef; build its spec with auth 'operator' (no kibana_system user or password)`);
    }
    return {
        ...resourceHeader("kibana", names.kibana, placement, spec, "jsonpath={.status.health}=green"),
        spec: {
            version: input.version,
            count: spec.replicas,
            config,
            elasticsearchRef: { name: names.elasticsearch },
            ...secureSettings(input.secureSettingsSecret),
            http: {
                service: { spec: { type: input.serviceType } },
                tls: { certificate: { secretName: httpCertSecretName(names.kibana) } },
            },
            podTemplate: {
                metadata: { labels: resourceLabels(placement, spec) },
                spec: {
                    securityContext: m.podSecurity(spec),
                    initContainers: operatorInitContainers("kibana", input.secureSettingsSecret !== undefined),
                    containers: [
                        {
                            name: ECK_CONTAINERS.kibana,
                            env: m.containerEnv(mounted, input.refs),
                            resources: resources(spec.memoryMb, spec.cpu),
                            volumeMounts: [...m.fileMounts(mounted), ...scratch.map((v) => ({ name: v.name, mountPath: v.mountPath }))],
                            securityContext: m.restrictedContainerSecurity(),
                        },
                    ],
                    volumes: [...(files ? [files] : []), ...scratch.map((v) => ({ name: v.name, emptyDir: {} }))],
                    terminationGracePeriodSeconds: spec.stopGraceSeconds,
                },
            },
        },
    };
}

/** Inputs of {@link logstashResource}. */
export interface LogstashResourceInput {
    readonly placement: m.Placement;
    readonly names: EckNames;
    readonly version: string;
    /** The platform-neutral spec of Logstash (components/model/logstash.ts). */
    readonly spec: ServiceSpec;
    readonly serviceType: ServiceType;
    readonly storageClass?: string;
    readonly refs: m.ContentRefs;
    readonly antiAffinity: m.AntiAffinity;
    /** The Secret of its keystore settings ({@link secureSettingsData}), when it has any. */
    readonly secureSettingsSecret?: string;
}

/**
 * The Logstash custom resource: the stack's pipelines and settings, a persistent-queue claim per pod, the log
 * listeners as one Service, and the writer user's password in Logstash's keystore, from the `secureSettings` Secret
 * (the pipelines read it as `${ELK_LOGSTASH_PASSWORD}`, as on the other targets). No `elasticsearchRefs`: an
 * association would hand the pipelines the operator's own user, with more privileges than the writer role.
 */
export function logstashResource(input: LogstashResourceInput): { apiVersion: string; kind: string; metadata: ObjectMeta; spec: Record<string, unknown> } {
    const { spec, placement, names } = input;
    const mounted = logstashMountedFiles(spec);
    const files = m.filesVolume(mounted, input.refs);
    const data = spec.volumes.find((v) => v.durable && !v.shared);
    if (!data) throw new Error(`${spec.name}: Logstash has no queue volume`);
    return {
        ...resourceHeader("logstash", names.logstash, placement, spec, "jsonpath={.status.health}=green"),
        spec: {
            version: input.version,
            count: spec.replicas,
            config: logstashConfig(spec),
            pipelines: logstashPipelines(spec),
            ...secureSettings(input.secureSettingsSecret),
            services: [
                {
                    name: LOGSTASH_LISTENER_SERVICE,
                    service: {
                        spec: {
                            type: input.serviceType,
                            ports: spec.ports.map((p) => ({ name: p.name, port: p.containerPort, targetPort: p.containerPort, protocol: p.protocol.toUpperCase() })),
                        },
                    },
                },
            ],
            podTemplate: {
                metadata: { labels: resourceLabels(placement, spec) },
                spec: {
                    securityContext: m.podSecurity(spec),
                    initContainers: operatorInitContainers("logstash", input.secureSettingsSecret !== undefined),
                    containers: [
                        {
                            name: ECK_CONTAINERS.logstash,
                            env: m.containerEnv(mounted, input.refs),
                            resources: resources(spec.memoryMb, spec.cpu),
                            ports: spec.ports.map((p) => ({ name: p.name, containerPort: p.containerPort, protocol: p.protocol.toUpperCase() })),
                            volumeMounts: m.fileMounts(mounted),
                            securityContext: m.restrictedContainerSecurity(),
                        },
                    ],
                    volumes: files ? [files] : [],
                    affinity: spec.replicas > 1 ? m.podAntiAffinity(placement, spec, input.antiAffinity) : undefined,
                    terminationGracePeriodSeconds: spec.stopGraceSeconds,
                },
            },
            // Replaces ECK's default 1.5Gi claim of the same name, mounted at /usr/share/logstash/data
            // (pkg/controller/logstash/volume/defaults.go), where the persisted queues and dead letter queues live.
            volumeClaimTemplates: [claimTemplate(ECK_DATA_CLAIMS.logstash, data.sizeGb, input.storageClass)],
        },
    };
}

/**
 * A custom HTTP certificate as ECK reads it (TLSOptions.Certificate in pkg/apis/common/v1/common.go): `tls.crt`,
 * `tls.key`, and `ca.crt`, the stack's CA, which ECK hands to clients it configures.
 */
export function httpCertificateData(tls: { certPem: pulumi.Input<string>; keyPem: pulumi.Input<string>; caCertPem: pulumi.Input<string> }): Record<string, pulumi.Input<string>> {
    return { "tls.crt": tls.certPem, "tls.key": tls.keyPem, "ca.crt": tls.caCertPem };
}

/** The transport CA as ECK reads it (TransportTLSOptions.Certificate): `ca.crt` and `ca.key`. */
export function transportCaData(ca: { certPem: pulumi.Input<string>; keyPem: pulumi.Input<string> }): Record<string, pulumi.Input<string>> {
    return { "ca.crt": ca.certPem, "ca.key": ca.keyPem };
}

/** Values of the eck-operator chart: the operator watches the stacks' namespaces only. */
export function operatorValues(stackNamespaces: readonly string[]): Record<string, unknown> {
    // managedNamespaces and installCRDs are keys of deploy/eck-operator/values.yaml; the CRDs come from its
    // eck-operator-crds dependency, so a chart upgrade upgrades them too.
    return { installCRDs: true, managedNamespaces: [...stackNamespaces] };
}

/**
 * Admits the operator's pods, and only them, to Elasticsearch's HTTP port: it manages the cluster through the API
 * (voting exclusions, shard migration, node shutdown, health), dialling a pod directly or the internal Service
 * (pkg/controller/elasticsearch/services/services.go NewElasticsearchURLProvider). Its pods are selected by their
 * namespace and their labels ({@link ECK_OPERATOR_POD_LABELS}): the chart's when the stack installs it; with
 * `present` the chart's or the all-in-one manifests'. Added to the stack's own ingress policies
 * (kubernetesManifests.ts ingressPolicies), which admit each port from exactly the stack's clients.
 */
export function operatorIngressPolicy(
    p: m.Placement,
    esInstance: string,
    operatorNamespace: string,
    port: number,
    operator: "install" | "present",
): { metadata: ObjectMeta; spec: k8s.types.input.networking.v1.NetworkPolicySpec } {
    const namespaceSelector = { matchLabels: { "kubernetes.io/metadata.name": operatorNamespace } };
    const installs = operator === "install" ? [ECK_OPERATOR_POD_LABELS.helm] : [ECK_OPERATOR_POD_LABELS.helm, ECK_OPERATOR_POD_LABELS.manifests];
    return {
        metadata: {
            name: `${m.objectName(p, esInstance)}-from-eck-operator`,
            namespace: p.namespace,
            labels: { [m.LABELS.instance]: esInstance, [m.LABELS.partOf]: "elk-stack", [m.LABELS.managedBy]: "pulumi", [m.LABELS.stack]: p.stack },
        },
        spec: {
            podSelector: { matchLabels: m.instanceSelector(p, esInstance) },
            policyTypes: ["Ingress"],
            // Namespace and pod selector in one peer: pods with these labels in that namespace, nothing else of it.
            ingress: [{ from: installs.map((labels) => ({ namespaceSelector, podSelector: { matchLabels: { ...labels } } })), ports: [{ port, protocol: "TCP" }] }],
        },
    };
}

/**
 * The stack's ingress rules with what ECK's pre-stop hook needs besides: it runs in the stopping Elasticsearch
 * container and calls the node shutdown API through `<es>-es-internal-http` on the HTTP port, which may land on any
 * node of the cluster, itself included (pkg/controller/elasticsearch/nodespec/lifecycle_hook.go, its URL from
 * configmap.go services.InternalServiceURL). Without it every stop waits out the hook's retries and the grace period.
 */
export function withPreStopHookRule(rules: readonly IngressRule[], esInstance: string, port: number): IngressRule[] {
    return [...rules, { instance: esInstance, port, protocol: "tcp", from: [esInstance] }];
}

/** Name of the volume that carries the operator's elastic-user Secret into a step. */
const OPERATOR_ELASTIC_VOLUME = "eck-elastic-user";

/**
 * A step (the bootstrap, the Kibana set-up) that reads the elastic user's password from the operator's
 * elastic-user Secret, mounted read-only as the secret file its script expects (`elk-secret.elastic`), instead of
 * the stack's copy: the password the operator enforces is the one that works. The step's other secret files stay
 * in its own Secret, as on the manifests engine. Unchanged, with no volume, when the step reads no elastic password.
 */
export function withOperatorElasticPassword(spec: JobSpec, esName: string): { spec: JobSpec; volume?: k8s.types.input.core.v1.Volume; mount?: k8s.types.input.core.v1.VolumeMount } {
    const file = confidentialSettings(spec)[BOOTSTRAP_SECRETS.elasticPassword];
    if (!file) return { spec };
    return {
        spec: { ...spec, files: spec.files.filter((f) => f !== file) },
        volume: { name: OPERATOR_ELASTIC_VOLUME, secret: { secretName: elasticUserSecret(esName), items: [{ key: ELASTIC_USER_KEY, path: ELASTIC_USER_KEY, mode: m.podFileMode(file) }] } },
        mount: { name: OPERATOR_ELASTIC_VOLUME, mountPath: file.path, subPath: ELASTIC_USER_KEY, readOnly: true },
    };
}

/** An Ingress for Kibana's Service: the controller speaks HTTPS to Kibana too (as on the manifests engine). */
export function kibanaIngress(p: m.Placement, spec: ServiceSpec, service: string, port: number, input: { host: string; className?: string }): { metadata: ObjectMeta; spec: k8s.types.input.networking.v1.IngressSpec } {
    const base = m.ingress(p, spec, { host: input.host, className: input.className, portName: "https" });
    return {
        metadata: base.metadata,
        spec: {
            ...base.spec,
            rules: [{ host: input.host, http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: service, port: { number: port } } } }] } }],
        },
    };
}
