/**
 * Pure builders of the Kubernetes objects one platform-neutral spec becomes. They hold every decision about
 * what the manifests say (security contexts, probes, resources, placement), so tests and `render` can read it
 * without a cluster; {@link KubernetesPlatform} only turns these objects into provider resources.
 */
import type * as pulumi from "@pulumi/pulumi";
import type * as k8s from "@pulumi/kubernetes";
import type { ServiceType } from "../model/config";
import type { ContainerSpec, FileSpec, HealthCheckSpec, JobSpec, ServiceSpec, VolumeSpec } from "../model/spec";
import type { IngressRule } from "../model/traffic";

type Container = k8s.types.input.core.v1.Container;
type PodSpec = k8s.types.input.core.v1.PodSpec;
type ObjectMeta = k8s.types.input.meta.v1.ObjectMeta;

/** Label keys the stack puts on everything it creates. */
export const LABELS = {
    name: "app.kubernetes.io/name",
    instance: "app.kubernetes.io/instance",
    partOf: "app.kubernetes.io/part-of",
    managedBy: "app.kubernetes.io/managed-by",
    component: "app.kubernetes.io/component",
    stack: "elk-stack.dev/stack",
} as const;

/** pulumi-kubernetes annotation: replace the resource on the next update when it is not ready (Jobs only). */
export const REPLACE_UNREADY_ANNOTATION = "pulumi.com/replaceUnready";

/** Where the pieces of one spec live in the cluster. */
export interface Placement {
    /** Namespace of every object. */
    readonly namespace: string;
    /** Stack name (cluster name), labelled on every object so several stacks can share a namespace. */
    readonly stack: string;
    /**
     * Prefix of every object name (`<prefix>-<instance>`), so several stacks with the same instance names can share
     * a namespace. Unset: objects are named after their instances, as in 0.4.0.
     */
    readonly prefix?: string;
}

/** Name of the objects (workload, Services, budget, claims, policies) of `instance` in this stack. */
export function objectName(p: Placement, instance: string): string {
    return p.prefix ? `${p.prefix}-${instance}` : instance;
}

/** Labels of every object made for `spec`. */
export function labels(p: Placement, spec: ContainerSpec): Record<string, string> {
    return {
        [LABELS.name]: spec.role,
        [LABELS.instance]: spec.name,
        [LABELS.component]: spec.role,
        [LABELS.partOf]: "elk-stack",
        [LABELS.managedBy]: "pulumi",
        [LABELS.stack]: p.stack,
    };
}

/** Labels that select the pods of `spec` (stable across upgrades: selectors of StatefulSets are immutable). */
export function selector(p: Placement, spec: ContainerSpec): Record<string, string> {
    return instanceSelector(p, spec.name);
}

/** Labels that select the pods of the instance (service or step) named `instance` in this stack. */
export function instanceSelector(p: Placement, instance: string): Record<string, string> {
    return { [LABELS.instance]: instance, [LABELS.stack]: p.stack };
}

/** Name of the headless Service that gives the pods of a StatefulSet their DNS names. */
export function headlessName(instance: string): string {
    return `${instance}-headless`;
}

/** Pod names of a StatefulSet: `<name>-0`, `<name>-1`, ... */
export function podNames(instance: string, replicas: number): string[] {
    return Array.from({ length: replicas }, (_, i) => `${instance}-${i}`);
}

/**
 * Every name a client or peer may dial to reach `instance` or one of its pods. The pods' own names
 * (`<pod>.<headless>.<namespace>.svc`) are covered by a wildcard, not listed: a list would change with the
 * replica count, so scaling would issue a new certificate and roll every pod.
 */
export function serviceDnsNames(instance: string, namespace: string, statefulSet: boolean): string[] {
    const forms = (host: string) => [host, `${host}.${namespace}`, `${host}.${namespace}.svc`, `${host}.${namespace}.svc.cluster.local`];
    const names = forms(instance);
    if (statefulSet) {
        const headless = headlessName(instance);
        names.push(...forms(headless));
        names.push(`*.${headless}.${namespace}.svc`, `*.${headless}.${namespace}.svc.cluster.local`);
    }
    return names;
}

/** A spec's file, with the ConfigMap or Secret key it is stored under. */
export interface KeyedFile {
    readonly file: FileSpec;
    readonly key: string;
}

/**
 * Gives each file a key that is valid in a ConfigMap or Secret (`[-._a-zA-Z0-9]+`) and unique in the spec; the
 * file name when it is unique, so `kubectl describe` stays readable.
 */
export function keyFiles(files: readonly FileSpec[]): KeyedFile[] {
    const base = (f: FileSpec) => f.path.slice(f.path.lastIndexOf("/") + 1).replace(/[^-._a-zA-Z0-9]/g, "_");
    const counts = new Map<string, number>();
    for (const f of files) counts.set(base(f), (counts.get(base(f)) ?? 0) + 1);
    return files.map((file, i) => {
        const b = base(file);
        return { file, key: counts.get(b) === 1 ? b : `${i}-${b}` };
    });
}

/**
 * File mode inside the pod. Kubernetes makes mounted files owned by root with the pod's fsGroup as group, so
 * the service user reads them through the group: keys are 0440 rather than the 0600 used on Docker.
 */
export function podFileMode(file: FileSpec): number {
    const executable = (parseInt(file.mode, 8) & 0o111) !== 0;
    if (file.secret) return executable ? 0o550 : 0o440;
    return executable ? 0o555 : 0o444;
}

/** ConfigMap data of a spec: its non-secret files. Secrets never go here. */
export function configMapData(spec: ContainerSpec): Record<string, pulumi.Input<string>> {
    return Object.fromEntries(keyFiles(spec.files).filter((k) => !k.file.secret).map((k) => [k.key, k.file.content]));
}

/**
 * Secret data of a spec: its secret files, mounted from the Secret as files. Never an env var with `secretKeyRef`:
 * that puts the value in the container's environment, readable in /proc/<pid>/environ.
 */
export function secretData(spec: ContainerSpec): Record<string, pulumi.Input<string>> {
    return Object.fromEntries(keyFiles(spec.files).filter((k) => k.file.secret).map((k) => [k.key, k.file.content]));
}

/** Names of the ConfigMap and Secret a pod reads (generated by Pulumi, so a content change rolls the pods). */
export interface ContentRefs {
    readonly configMapName?: pulumi.Input<string>;
    readonly secretName?: pulumi.Input<string>;
}

const FILES_VOLUME = "files";

/** The one projected volume that carries a spec's files, from its ConfigMap and Secret. */
export function filesVolume(spec: ContainerSpec, refs: ContentRefs): k8s.types.input.core.v1.Volume | undefined {
    const keyed = keyFiles(spec.files);
    if (keyed.length === 0) return undefined;
    const items = (secret: boolean) => keyed.filter((k) => k.file.secret === secret).map((k) => ({ key: k.key, path: k.key, mode: podFileMode(k.file) }));
    const sources: k8s.types.input.core.v1.VolumeProjection[] = [];
    if (refs.configMapName && items(false).length > 0) sources.push({ configMap: { name: refs.configMapName, items: items(false) } });
    if (refs.secretName && items(true).length > 0) sources.push({ secret: { name: refs.secretName, items: items(true) } });
    return { name: `${spec.name}-${FILES_VOLUME}`, projected: { sources } };
}

/** One mount per file, with subPath, so the image's other files in the same directories stay visible. */
export function fileMounts(spec: ContainerSpec): k8s.types.input.core.v1.VolumeMount[] {
    return keyFiles(spec.files).map((k) => ({ name: `${spec.name}-${FILES_VOLUME}`, mountPath: k.file.path, subPath: k.key, readOnly: true }));
}

/** Plain env (never a secret: those are files) and the pod's own name where the spec asks for it. */
export function containerEnv(spec: ContainerSpec, _refs: ContentRefs): k8s.types.input.core.v1.EnvVar[] {
    const env: k8s.types.input.core.v1.EnvVar[] = Object.entries(spec.env).map(([name, value]) => ({ name, value }));
    if (spec.instanceNameEnv) env.push({ name: spec.instanceNameEnv, valueFrom: { fieldRef: { fieldPath: "metadata.name" } } });
    return env;
}

/** Container security for everything but the kernel step: no root, no privilege escalation, no capabilities. */
export function restrictedContainerSecurity(): k8s.types.input.core.v1.SecurityContext {
    return { privileged: false, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, runAsNonRoot: true };
}

/** Pod security: the image's user, never root, and volumes group-owned by that user's group id. */
export function podSecurity(spec: ContainerSpec): k8s.types.input.core.v1.PodSecurityContext {
    return {
        runAsNonRoot: true,
        runAsUser: spec.runAs.uid,
        runAsGroup: spec.runAs.gid,
        // The official Elastic images all run as uid 1000; giving volumes group 1000 lets them write their data.
        fsGroup: spec.runAs.uid,
        // Large Elasticsearch volumes: only walk them when the top directory has the wrong group.
        fsGroupChangePolicy: "OnRootMismatch",
        seccompProfile: { type: "RuntimeDefault" },
    };
}

const mebibytes = (mb: number) => `${mb}Mi`;
const millicores = (m: number) => `${m}m`;

/** Failures of the start-up probe before Kubernetes gives up on a container and restarts it. */
export function startupFailureThreshold(hc: HealthCheckSpec): number {
    return Math.ceil(hc.startPeriodSeconds / hc.intervalSeconds) + hc.retries;
}

/**
 * Probes from the spec's health check: start-up grace, readiness (traffic, dependants, and the pace of a rolling
 * update), liveness (restart) only where the spec has an alive command.
 */
export function probes(hc: HealthCheckSpec): Pick<Container, "startupProbe" | "readinessProbe" | "livenessProbe"> {
    const exec = (command: string) => ({ exec: { command: ["sh", "-c", command] } });
    return {
        startupProbe: {
            ...exec(hc.command),
            periodSeconds: hc.intervalSeconds,
            timeoutSeconds: hc.timeoutSeconds,
            failureThreshold: startupFailureThreshold(hc),
        },
        readinessProbe: { ...exec(hc.readinessCommand ?? hc.command), periodSeconds: hc.intervalSeconds, timeoutSeconds: hc.timeoutSeconds, failureThreshold: 3 },
        livenessProbe: hc.aliveCommand === undefined ? undefined : { ...exec(hc.aliveCommand), periodSeconds: 30, timeoutSeconds: hc.timeoutSeconds, failureThreshold: 4 },
    };
}

/**
 * Seconds a stopping pod keeps serving before its process gets the stop signal. Removing a terminating pod from
 * a Service's endpoints is asynchronous (EndpointSlice controller, then kube-proxy or the ingress controller on
 * every node), so for a few seconds clients are still sent to it; a process that stops at once answers them
 * with refused connections. The pod's grace period is lengthened by the same time.
 */
export const PRE_STOP_DELAY_SECONDS = 15;

/** The main container of a long-running service. */
export function serviceContainer(spec: ServiceSpec, refs: ContentRefs): Container {
    return {
        name: spec.role,
        image: spec.image,
        command: spec.entrypoint ? [...spec.entrypoint] : undefined,
        env: containerEnv(spec, refs),
        ports: spec.ports.map((p) => ({ name: p.name, containerPort: p.containerPort, protocol: p.protocol.toUpperCase() })),
        volumeMounts: [...fileMounts(spec), ...spec.volumes.map((v) => ({ name: v.name, mountPath: v.mountPath }))],
        // Memory is not overcommitted: request = limit, so the JVM heap sized from it is always there.
        resources: {
            requests: { memory: mebibytes(spec.memoryMb), cpu: millicores(spec.cpu.requestMillis) },
            limits: { memory: mebibytes(spec.memoryMb), cpu: millicores(spec.cpu.limitMillis) },
        },
        ...probes(spec.healthCheck),
        // `sleep` is in every Elastic image; the exec form rather than the `sleep` action works on clusters before 1.30.
        lifecycle: { preStop: { exec: { command: ["sleep", String(PRE_STOP_DELAY_SECONDS)] } } },
        securityContext: restrictedContainerSecurity(),
    };
}

/** The container of a step (Job or init container). */
export function stepContainer(spec: JobSpec, refs: ContentRefs): Container {
    const security: k8s.types.input.core.v1.SecurityContext = spec.privileged
        ? // The kernel step only: writing a host sysctl needs root and a privileged container.
          { privileged: true, runAsUser: 0, runAsNonRoot: false, allowPrivilegeEscalation: true }
        : restrictedContainerSecurity();
    return {
        name: spec.name,
        image: spec.image,
        command: spec.entrypoint ? [...spec.entrypoint] : undefined,
        env: containerEnv(spec, refs),
        volumeMounts: fileMounts(spec),
        resources: {
            requests: { memory: mebibytes(spec.memoryMb), cpu: millicores(50) },
            limits: { memory: mebibytes(spec.memoryMb), cpu: millicores(500) },
        },
        securityContext: security,
    };
}

/** How replicas of one service spread over Kubernetes nodes. */
export type AntiAffinity = "hard" | "soft";

/** Keeps replicas of a service off the same node, so losing a node loses at most one of them. */
export function podAntiAffinity(p: Placement, spec: ServiceSpec, mode: AntiAffinity): k8s.types.input.core.v1.Affinity {
    const term = { labelSelector: { matchLabels: selector(p, spec) }, topologyKey: "kubernetes.io/hostname" };
    return {
        podAntiAffinity:
            mode === "hard"
                ? { requiredDuringSchedulingIgnoredDuringExecution: [term] }
                : { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }] },
    };
}

/** Where the keystore step finds the secure settings' values: one file per setting, named after it. */
export const KEYSTORE_SECRETS_DIR = "/mnt/elk-keystore-secrets";
/** Where the keystore step builds the configuration directory the service then mounts. */
export const KEYSTORE_CONFIG_DIR = "/mnt/elk-config";
const KEYSTORE_SECRET_VOLUME = "keystore-secrets";
const KEYSTORE_CONFIG_VOLUME = "config-with-keystore";

/** Quotes `s` for a POSIX shell. */
const shellQuote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

/**
 * The init container that writes a service's secure settings into its keystore (see {@link ServiceSpec.keystore}).
 *
 * The keystore is `elasticsearch.keystore` in the configuration directory, and the image's entrypoint rewrites it
 * at start (it adds `bootstrap.password`) by writing a new file and renaming it over the old one, which a single
 * file mounted from elsewhere would not allow. So this step copies the image's configuration directory into an
 * emptyDir, adds each setting there (`add --stdin` for strings, `add-file` for files, `--force` to overwrite what
 * an earlier run of the step left), and the service mounts that emptyDir as its configuration directory; the
 * service's own files (elasticsearch.yml, certificates) are mounted over it as before. Values are read from files
 * of a Secret volume on standard input or by path: never in an environment variable or on a command line.
 */
export function keystoreInitContainer(spec: ServiceSpec): Container {
    const keystore = spec.keystore;
    if (!keystore) throw new Error(`${spec.name}: no keystore settings`);
    return {
        name: "keystore",
        image: spec.image,
        command: ["bash", "-c", keystoreScript(keystore, { secrets: KEYSTORE_SECRETS_DIR, config: KEYSTORE_CONFIG_DIR })],
        volumeMounts: [
            { name: KEYSTORE_SECRET_VOLUME, mountPath: KEYSTORE_SECRETS_DIR, readOnly: true },
            { name: KEYSTORE_CONFIG_VOLUME, mountPath: KEYSTORE_CONFIG_DIR },
        ],
        // The keystore tool is a small JVM; the service's own heap settings are not in this container.
        resources: { requests: { memory: mebibytes(256), cpu: millicores(100) }, limits: { memory: mebibytes(256), cpu: millicores(500) } },
        securityContext: restrictedContainerSecurity(),
    };
}

/** The keystore step's script, with the directories where it finds the values and builds the configuration. */
export function keystoreScript(keystore: NonNullable<ServiceSpec["keystore"]>, dirs: { readonly secrets: string; readonly config: string }): string {
    const tool = `ES_PATH_CONF=${shellQuote(dirs.config)} ${shellQuote(keystore.tool)}`;
    const valueFile = (setting: string) => shellQuote(`${dirs.secrets}/${setting}`);
    return [
        "set -eu",
        `cp -R ${shellQuote(keystore.configDir)}/. ${shellQuote(dirs.config)}/`,
        ...keystore.entries.map((e) =>
            e.file
                ? `${tool} add-file --force ${shellQuote(e.setting)} ${valueFile(e.setting)}`
                : `${tool} add --stdin --force ${shellQuote(e.setting)} < ${valueFile(e.setting)}`,
        ),
    ].join("\n");
}

/** The Secret volume with the keystore's values (each under its setting's name) and the emptyDir of the keystore. */
export function keystoreVolumes(spec: ServiceSpec, secretName: pulumi.Input<string>): k8s.types.input.core.v1.Volume[] {
    const entries = spec.keystore?.entries ?? [];
    return [
        { name: KEYSTORE_SECRET_VOLUME, secret: { secretName, items: entries.map((e) => ({ key: e.setting, path: e.setting, mode: 0o440 })) } },
        { name: KEYSTORE_CONFIG_VOLUME, emptyDir: {} },
    ];
}

/** The Secret data of the keystore's values: a key per setting. */
export function keystoreSecretData(spec: ServiceSpec): Record<string, pulumi.Input<string>> {
    return Object.fromEntries((spec.keystore?.entries ?? []).map((e) => [e.setting, e.value]));
}

/** Inputs of {@link servicePod}. */
export interface ServicePodInput {
    readonly placement: Placement;
    readonly spec: ServiceSpec;
    readonly refs: ContentRefs;
    /** Steps that prepare the node first (the kernel step). */
    readonly initSteps: readonly JobSpec[];
    readonly antiAffinity: AntiAffinity;
    /** Claim name of each shared volume (see {@link sharedClaim}). */
    readonly sharedClaims?: Readonly<Record<string, pulumi.Input<string>>>;
    /** Name of the Secret with the keystore's values, when the spec has keystore settings. */
    readonly keystoreSecretName?: pulumi.Input<string>;
}

/** The pod template of a long-running service. */
export function servicePod(input: ServicePodInput): { metadata: ObjectMeta; spec: PodSpec } {
    const { spec, refs, placement } = input;
    const files = filesVolume(spec, refs);
    const ephemeral = spec.volumes.filter((v) => !v.durable).map((v) => ({ name: v.name, emptyDir: {} }));
    const shared = spec.volumes.filter((v) => v.shared).map((v) => {
        const claimName = input.sharedClaims?.[v.name];
        if (claimName === undefined) throw new Error(`${spec.name}: shared volume ${v.name} has no claim`);
        return { name: v.name, persistentVolumeClaim: { claimName } };
    });
    if (spec.keystore && input.keystoreSecretName === undefined) throw new Error(`${spec.name}: keystore settings need their Secret`);
    const keystore = spec.keystore && input.keystoreSecretName !== undefined ? spec.keystore : undefined;
    const main = serviceContainer(spec, refs);
    const inits = [...input.initSteps.map((s) => stepContainer(s, {})), ...(keystore ? [keystoreInitContainer(spec)] : [])];
    return {
        metadata: { labels: labels(placement, spec) },
        spec: {
            securityContext: podSecurity(spec),
            // The pod needs no Kubernetes API access; no token is mounted.
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            initContainers: inits.length > 0 ? inits : undefined,
            containers: [
                keystore
                    ? { ...main, volumeMounts: [{ name: KEYSTORE_CONFIG_VOLUME, mountPath: keystore.configDir }, ...((main.volumeMounts as k8s.types.input.core.v1.VolumeMount[] | undefined) ?? [])] }
                    : main,
            ],
            volumes: [...(files ? [files] : []), ...ephemeral, ...shared, ...(keystore ? keystoreVolumes(spec, input.keystoreSecretName as pulumi.Input<string>) : [])],
            affinity: spec.replicas > 1 ? podAntiAffinity(placement, spec, input.antiAffinity) : undefined,
            // The pre-stop delay counts against the grace period: the process still gets all of stopGraceSeconds.
            terminationGracePeriodSeconds: spec.stopGraceSeconds + PRE_STOP_DELAY_SECONDS,
        },
    };
}

/** True when a service keeps state that must follow each replica (a claim per pod): a StatefulSet. */
export function needsStatefulSet(spec: ServiceSpec): boolean {
    return spec.volumes.some((v) => v.durable);
}

/** Inputs of the workload builders. */
export interface WorkloadInput extends ServicePodInput {
    /** Storage class of the claims; the cluster default when unset. */
    readonly storageClass?: string;
}

/**
 * Seconds a rolling update of `spec`'s workload may take before the provider gives up waiting (its default is ten
 * minutes whatever the size). Pods roll one at a time, and each may take its stop (pre-stop delay and grace
 * period), its start (the start-up probe's whole budget) and a recovery allowance: shard recovery before an
 * Elasticsearch node is ready again, pipelines starting for Logstash.
 */
export function rolloutTimeoutSeconds(spec: ServiceSpec): number {
    const hc = spec.healthCheck;
    const perPod = PRE_STOP_DELAY_SECONDS + spec.stopGraceSeconds + startupFailureThreshold(hc) * hc.intervalSeconds + RECOVERY_ALLOWANCE_SECONDS;
    return Math.max(DEFAULT_AWAIT_SECONDS, spec.replicas * perPod);
}

/** The provider's own await limit (pulumi-kubernetes provider/pkg/await/await.go: ten minutes when nothing is set). */
export const DEFAULT_AWAIT_SECONDS = 600;
/** What one pod of a roll may spend becoming ready after its start-up probe passed. */
export const RECOVERY_ALLOWANCE_SECONDS = 300;

/** A StatefulSet: stable pod names (Elasticsearch node names) and a volume claim per pod. */
export function statefulSet(input: WorkloadInput): { metadata: ObjectMeta; spec: k8s.types.input.apps.v1.StatefulSetSpec } {
    const { spec, placement } = input;
    return {
        metadata: { name: objectName(placement, spec.name), namespace: placement.namespace, labels: labels(placement, spec) },
        spec: {
            serviceName: headlessName(objectName(placement, spec.name)),
            replicas: spec.replicas,
            // Cluster nodes start together so the first master election can see them all.
            podManagementPolicy: "Parallel",
            updateStrategy: { type: "RollingUpdate" },
            selector: { matchLabels: selector(placement, spec) },
            template: servicePod(input),
            volumeClaimTemplates: spec.volumes
                .filter((v) => v.durable && !v.shared)
                .map((v) => ({
                    metadata: { name: v.name, labels: selector(placement, spec) },
                    spec: {
                        accessModes: ["ReadWriteOnce"],
                        storageClassName: input.storageClass,
                        resources: { requests: { storage: `${v.sizeGb}Gi` } },
                    },
                })),
            // Claims stay when the StatefulSet is deleted or scaled down: data is never removed by accident.
            persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
        },
    };
}

/** What a claim template of a StatefulSet asks for: what Kubernetes never lets change on an existing StatefulSet. */
export interface ClaimStorage {
    /** Volume (claim template) name. */
    readonly volume: string;
    readonly sizeGb: number;
    /** Storage class; null for the cluster's default. */
    readonly storageClass: string | null;
}

/** The claim templates {@link statefulSet} writes for `spec`, as {@link ClaimStorage}. */
export function claimStorage(spec: ServiceSpec, storageClass: string | undefined): ClaimStorage[] {
    return spec.volumes.filter((v) => v.durable && !v.shared).map((v) => ({ volume: v.name, sizeGb: v.sizeGb, storageClass: storageClass ?? null }));
}

/** The stack config keys behind a StatefulSet's storage, for messages. */
export interface StorageKeys {
    /** The size key, e.g. `elk-stack:elasticsearchStorageGb`. */
    readonly size: string;
    /** The storage class key, e.g. `elk-stack:storageClass`. */
    readonly storageClass: string;
}

/** Inputs of {@link storageChangeRefusal}. */
export interface StorageChangeInput {
    readonly placement: Placement;
    readonly spec: ServiceSpec;
    /** The claim templates the StatefulSet was created with (or last accepted). */
    readonly previous: readonly ClaimStorage[];
    readonly current: readonly ClaimStorage[];
    readonly keys: StorageKeys;
    /** URN of the record of {@link previous}, which `pulumi up --replace` resets to {@link current}. */
    readonly recordUrn: string;
}

/**
 * Why `current` cannot be applied over `previous`, with what to do instead; undefined when nothing changed.
 *
 * A StatefulSet's `volumeClaimTemplates` are immutable. pulumi-kubernetes lists the field as replace-on-change
 * (provider/pkg/provider/diff.go, `statefulSet`), and a replace deletes the named StatefulSet with foreground
 * cascade (provider/pkg/await/await.go, `Deletion`: every pod goes at once) before creating it again, while
 * the retained claims keep their old size and class. So the change is refused before anything happens, and the
 * message gives the steps that do what was meant: grow the claims in place (where the storage class allows
 * expansion), remove the StatefulSet without its pods, and let the next update create it again, adopting them.
 */
export function storageChangeRefusal(input: StorageChangeInput): string | undefined {
    const { spec, placement, keys } = input;
    const ns = placement.namespace;
    for (const now of input.current) {
        const before = input.previous.find((p) => p.volume === now.volume);
        if (!before || (before.sizeGb === now.sizeGb && before.storageClass === now.storageClass)) continue;
        const claims = podNames(spec.name, spec.replicas).map((pod) => `${now.volume}-${pod}`);
        const head = `the claims '${now.volume}' of StatefulSet ${ns}/${spec.name} were created with`;
        const why =
            "a StatefulSet's volumeClaimTemplates cannot change, and the Kubernetes provider would replace the StatefulSet: " +
            "delete it with every pod at once and create it again, while the existing claims keep their size and class";
        if (before.storageClass !== now.storageClass) {
            const show = (c: string | null) => (c === null ? "the cluster's default class" : `class ${c}`);
            return (
                `Refused change of '${keys.storageClass}': ${head} ${show(before.storageClass)}, not ${show(now.storageClass)}; ${why}. ` +
                `Fix: set '${keys.storageClass}' back${before.storageClass === null ? " (remove it)" : ` to ${before.storageClass}`}. ` +
                `A claim never changes class; to move the data, snapshot it (npm run snapshot) and restore it into a stack whose claims have the new class.`
            );
        }
        if (now.sizeGb < before.sizeGb) {
            return (
                `Refused change of '${keys.size}': ${head} ${before.sizeGb} GiB, not ${now.sizeGb} GiB; a claim never shrinks. ` +
                `Fix: set '${keys.size}' back to ${before.sizeGb}.`
            );
        }
        const cls = now.storageClass === null ? "" : ` ${now.storageClass}`;
        const patch = `{"spec":{"resources":{"requests":{"storage":"${now.sizeGb}Gi"}}}}`;
        return [
            `Refused change of '${keys.size}': ${head} ${before.sizeGb} GiB, not ${now.sizeGb} GiB; ${why}.`,
            `Fix: set '${keys.size}' back to ${before.sizeGb}, or grow the claims by hand, then let this update run:`,
            `  1. kubectl get storageclass${cls}   (ALLOWVOLUMEEXPANSION must be true${now.storageClass === null ? " for the class marked (default)" : ""}; otherwise the claims cannot grow)`,
            ...claims.map((c, i) => `  ${i === 0 ? "2." : "  "} kubectl -n ${ns} patch pvc ${c} -p '${patch}'`),
            `     and wait until 'kubectl -n ${ns} get pvc' shows ${now.sizeGb}Gi for each`,
            `  3. kubectl -n ${ns} delete statefulset ${spec.name} --cascade=orphan   (the pods keep running)`,
            // The provider's delete of the replaced StatefulSet then finds nothing, which it counts as deleted
            // (provider/pkg/await/await.go, Deletion: NotFound is success), and it creates the new one.
            `  4. pulumi up --replace '${input.recordUrn}'   (records the new size; the StatefulSet is created again with it and adopts the running pods)`,
        ].join("\n");
    }
    return undefined;
}

/** Name of the claim of a shared volume: one for every pod of the service. */
export function sharedClaimName(p: Placement, spec: ServiceSpec, volume: VolumeSpec): string {
    return `${objectName(p, spec.name)}-${volume.name}`;
}

/** The one ReadWriteMany claim every pod of a service mounts for a shared volume (the snapshot repository). */
export function sharedClaim(p: Placement, spec: ServiceSpec, volume: VolumeSpec): { metadata: ObjectMeta; spec: k8s.types.input.core.v1.PersistentVolumeClaimSpec } {
    if (!volume.shared) throw new Error(`${spec.name}: volume ${volume.name} is not shared`);
    return {
        metadata: { name: sharedClaimName(p, spec, volume), namespace: p.namespace, labels: labels(p, spec) },
        spec: {
            // Every node writes its shards of a snapshot to the same file system.
            accessModes: ["ReadWriteMany"],
            storageClassName: volume.shared.storageClass,
            resources: { requests: { storage: `${volume.sizeGb}Gi` } },
        },
    };
}

/** A Deployment, for services without per-pod state (Kibana). */
export function deployment(input: WorkloadInput): { metadata: ObjectMeta; spec: k8s.types.input.apps.v1.DeploymentSpec } {
    const { spec, placement } = input;
    return {
        metadata: { name: objectName(placement, spec.name), namespace: placement.namespace, labels: labels(placement, spec) },
        spec: {
            replicas: spec.replicas,
            selector: { matchLabels: selector(placement, spec) },
            // Old and new Kibana versions must not run side by side while the new one migrates the saved objects
            // (Kibana's upgrade guide: "Kibana does not support rolling upgrades", shut down all instances first).
            strategy: { type: "Recreate" },
            template: servicePod(input),
        },
    };
}

/** The Service clients use: `<name>.<namespace>.svc`. */
export function clientService(p: Placement, spec: ServiceSpec, type: ServiceType): { metadata: ObjectMeta; spec: k8s.types.input.core.v1.ServiceSpec } {
    return {
        metadata: { name: objectName(p, spec.name), namespace: p.namespace, labels: labels(p, spec) },
        spec: {
            type,
            selector: selector(p, spec),
            ports: spec.ports.map((port) => ({ name: port.name, port: port.containerPort, targetPort: port.name, protocol: port.protocol.toUpperCase() })),
        },
    };
}

/** The headless Service that names each pod of a StatefulSet and lets cluster nodes find each other. */
export function headlessService(p: Placement, spec: ServiceSpec): { metadata: ObjectMeta; spec: k8s.types.input.core.v1.ServiceSpec } {
    return {
        metadata: { name: headlessName(objectName(p, spec.name)), namespace: p.namespace, labels: labels(p, spec) },
        spec: {
            clusterIP: "None",
            // Nodes must find each other before any is ready: readiness needs a formed cluster.
            publishNotReadyAddresses: true,
            selector: selector(p, spec),
            ports: spec.ports.map((port) => ({ name: port.name, port: port.containerPort, targetPort: port.name, protocol: port.protocol.toUpperCase() })),
        },
    };
}

/** At most one pod of the service down through voluntary disruptions (node drains, upgrades). */
export function disruptionBudget(p: Placement, spec: ServiceSpec): { metadata: ObjectMeta; spec: k8s.types.input.policy.v1.PodDisruptionBudgetSpec } {
    return {
        metadata: { name: objectName(p, spec.name), namespace: p.namespace, labels: labels(p, spec) },
        spec: { maxUnavailable: 1, selector: { matchLabels: selector(p, spec) } },
    };
}

/** Inputs of {@link ingress}. */
export interface IngressInput {
    readonly host: string;
    readonly className?: string;
    /** Name of the Service port to route to. */
    readonly portName: string;
}

/** An Ingress in front of an HTTPS service: the controller talks HTTPS to the pods too. */
export function ingress(p: Placement, spec: ServiceSpec, input: IngressInput): { metadata: ObjectMeta; spec: k8s.types.input.networking.v1.IngressSpec } {
    return {
        metadata: {
            name: objectName(p, spec.name),
            namespace: p.namespace,
            labels: labels(p, spec),
            // ingress-nginx and compatible controllers: the backend speaks TLS, do not downgrade the last hop.
            annotations: { "nginx.ingress.kubernetes.io/backend-protocol": "HTTPS" },
        },
        spec: {
            ingressClassName: input.className,
            tls: [{ hosts: [input.host] }],
            rules: [
                {
                    host: input.host,
                    http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: objectName(p, spec.name), port: { name: input.portName } } } }] },
                },
            ],
        },
    };
}

/** A Job running a step to completion. */
export function job(p: Placement, spec: JobSpec, refs: ContentRefs): { metadata: ObjectMeta; spec: k8s.types.input.batch.v1.JobSpec } {
    const files = filesVolume(spec, refs);
    return {
        // No name: Pulumi names it, so a changed step replaces the Job (a Job's pod template cannot change).
        metadata: {
            namespace: p.namespace,
            labels: labels(p, spec),
            // A Job that failed stays failed, and by default the provider waits for it again on every update. With
            // this annotation the provider's Diff reads the live Job and schedules a replacement when it is not
            // ready (pulumi-kubernetes provider/pkg/provider/provider.go, metadata.ReplaceUnready): the next
            // `pulumi up` runs the step afresh.
            annotations: { [REPLACE_UNREADY_ANNOTATION]: "true" },
        },
        spec: {
            backoffLimit: 3,
            activeDeadlineSeconds: spec.timeoutSeconds,
            template: {
                metadata: { labels: labels(p, spec) },
                spec: {
                    restartPolicy: "Never",
                    securityContext: podSecurity(spec),
                    automountServiceAccountToken: false,
                    enableServiceLinks: false,
                    containers: [stepContainer(spec, refs)],
                    volumes: files ? [files] : [],
                },
            },
        },
    };
}

/** The namespace, with Pod Security admission labels: restricted everywhere, privileged only if the kernel step runs. */
export function namespace(p: Placement, privilegedInitContainers: boolean): { metadata: ObjectMeta } {
    return {
        metadata: {
            name: p.namespace,
            labels: {
                [LABELS.partOf]: "elk-stack",
                [LABELS.managedBy]: "pulumi",
                "pod-security.kubernetes.io/enforce": privilegedInitContainers ? "privileged" : "restricted",
                // Warnings and audit events still flag anything beyond restricted (the sysctl init container, by design).
                "pod-security.kubernetes.io/warn": "restricted",
                "pod-security.kubernetes.io/audit": "restricted",
            },
        },
    };
}

type NetworkPolicySpec = k8s.types.input.networking.v1.NetworkPolicySpec;

/**
 * Selects every pod of the stack and admits nothing: NetworkPolicies only add what they allow, so each pod then
 * accepts exactly what the policies of {@link ingressPolicies} admit to it. Egress is left open.
 */
export function denyIngressPolicy(p: Placement): { metadata: ObjectMeta; spec: NetworkPolicySpec } {
    return {
        metadata: { name: `${p.stack}-deny-ingress`, namespace: p.namespace, labels: { [LABELS.partOf]: "elk-stack", [LABELS.managedBy]: "pulumi", [LABELS.stack]: p.stack } },
        spec: { podSelector: { matchLabels: { [LABELS.stack]: p.stack } }, policyTypes: ["Ingress"], ingress: [] },
    };
}

/** One NetworkPolicy per instance that receives connections, admitting each port from exactly its clients. */
export function ingressPolicies(p: Placement, rules: readonly IngressRule[]): { instance: string; manifest: { metadata: ObjectMeta; spec: NetworkPolicySpec } }[] {
    const instances = [...new Set(rules.map((r) => r.instance))];
    return instances.map((instance) => ({
        instance,
        manifest: {
            metadata: {
                name: `${objectName(p, instance)}-ingress`,
                namespace: p.namespace,
                labels: { [LABELS.instance]: instance, [LABELS.partOf]: "elk-stack", [LABELS.managedBy]: "pulumi", [LABELS.stack]: p.stack },
            },
            spec: {
                podSelector: { matchLabels: instanceSelector(p, instance) },
                policyTypes: ["Ingress"],
                ingress: rules
                    .filter((r) => r.instance === instance)
                    .map((r) => ({
                        // No `from`: any source, in the cluster or outside it. A pod selector without a namespace selector
                        // matches pods of this namespace only.
                        ...(r.from === "anywhere" ? {} : { from: r.from.map((client) => ({ podSelector: { matchLabels: instanceSelector(p, client) } })) }),
                        ports: [{ port: r.port, protocol: r.protocol.toUpperCase() }],
                    })),
            },
        },
    }));
}
