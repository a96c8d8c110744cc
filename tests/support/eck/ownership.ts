/**
 * What ECK writes to our Elasticsearch, Kibana and Logstash resources, and what that does to field ownership under
 * server-side apply: the annotations its controllers set with a full read-modify-write (`client.Update`), the
 * object as its Go types encode it back, and the fields of ours whose value that rewrite changes, which then belong
 * to the operator's field manager. Facts from github.com/elastic/cloud-on-k8s at tag {@link ECK_TAG} (file named
 * beside each), quantities from k8s.io/apimachinery pkg/api/resource/quantity.go, ownership from Kubernetes'
 * Server-Side Apply documentation: "whenever a field's value does change, ownership moves from its current manager
 * to the manager making the change", and an apply that sets "a different value" for a field "owned by another
 * manager" is a conflict.
 */
import { type CustomResource, ECK_TAG } from "./naming";

export { ECK_TAG };

/** An annotation an operator controller writes on a resource of ours, by key or key prefix. */
export interface OperatorAnnotation {
    readonly key: string;
    /** True when `key` is a prefix (`...recreate-<StatefulSet>`). */
    readonly prefix?: boolean;
    readonly source: string;
    readonly when: string;
}

/** Annotations ECK 3.5.0 writes with `client.Update`, per kind of resource. */
export const OPERATOR_ANNOTATIONS: Readonly<Record<"Elasticsearch" | "Kibana" | "Logstash", readonly OperatorAnnotation[]>> = {
    Elasticsearch: [
        { key: "elasticsearch.k8s.elastic.co/cluster-uuid", source: "pkg/controller/elasticsearch/bootstrap/bootstrap.go annotateWithUUID", when: "once the cluster has formed" },
        { key: "elasticsearch.k8s.elastic.co/initial-master-nodes", source: "pkg/controller/elasticsearch/version/zen2/initial_master_nodes.go", when: "while a new cluster forms (removed after)" },
        { key: "eck.k8s.elastic.co/orchestration-hints", source: "pkg/controller/elasticsearch/elasticsearch_controller.go annotateResource, hints/hints.go", when: "every reconciliation whose hints change" },
        { key: "elasticsearch.k8s.elastic.co/managed-remote-clusters", source: "pkg/controller/elasticsearch/remotecluster/annotations.go", when: "remote clusters declared" },
        { key: "eck.k8s.elastic.co/client-authentication-required", source: "pkg/controller/common/annotation/client_cert.go", when: "an association requires client certificates" },
        { key: "elasticsearch.k8s.elastic.co/recreate-", prefix: true, source: "pkg/controller/common/volume/pvc_expansion.go annotateForRecreation", when: "a StatefulSet is recreated for grown claims" },
    ],
    Kibana: [{ key: "association.k8s.elastic.co/es-conf", source: "pkg/controller/association/conf.go UpdateAssociationConf (kibana_types.go KibanaEsAssociation)", when: "spec.elasticsearchRef set" }],
    Logstash: [
        { key: "association.k8s.elastic.co/es-conf", prefix: true, source: "pkg/controller/association/conf.go (logstash_types.go LogstashESAssociation)", when: "spec.elasticsearchRefs set" },
        { key: "logstash.k8s.elastic.co/recreate-", prefix: true, source: "pkg/controller/common/volume/pvc_expansion.go annotateForRecreation (logstash/reconcile.go)", when: "a StatefulSet is recreated for grown claims" },
    ],
};

/** Whether `key` is an annotation the operator writes on a resource of `kind`. */
export function operatorOwnsAnnotation(kind: string, key: string): boolean {
    const list = OPERATOR_ANNOTATIONS[kind as keyof typeof OPERATOR_ANNOTATIONS] ?? [];
    return list.some((a) => (a.prefix ? key.startsWith(a.key) : key === a.key));
}

const DECIMAL: Readonly<Record<string, number>> = { n: -9, u: -6, m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY: Readonly<Record<string, number>> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const DECIMAL_SUFFIX: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(DECIMAL).map(([k, v]) => [v, k]));

const pow = (b: bigint, e: number): bigint => b ** BigInt(e);
const ceilDiv = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;

/**
 * A quantity as `resource.Quantity` encodes it after decoding (apimachinery quantity.go: ParseQuantity keeps the
 * text only when it is canonical, MarshalJSON writes CanonicalizeBytes otherwise): values below 1n round up to 1n;
 * a binary-suffixed value of at least 1024 that is a whole number keeps a binary suffix, the largest that leaves a
 * whole number; everything else takes the largest decimal suffix (exponent a multiple of 3) that leaves a whole
 * number. Written independently of the stack's components/targets/quantities.ts, which it checks.
 */
export function goQuantity(text: string): string {
    const m = /^([+-]?)(\d*)(?:\.(\d*))?(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+|[numkMGTPE])?$/.exec(text.trim());
    if (!m || (m[2] === "" && (m[3] ?? "") === "")) throw new Error(`not a quantity: ${text}`);
    const [, sign, whole, fraction = "", suffix = ""] = m;
    const digits = BigInt(`${whole}${fraction}` || "0");
    const scale = fraction.length;
    const binary = suffix in BINARY;
    const exponentForm = /^[eE]/.test(suffix);
    // The value in nano units, rounded up (away from zero) as ParseQuantity rounds to nano.
    let nano: bigint;
    if (binary) {
        nano = ceilDiv(digits * pow(2n, 10 * BINARY[suffix]) * pow(10n, 9), pow(10n, scale));
    } else {
        const e = exponentForm ? Number(suffix.slice(1)) : DECIMAL[suffix];
        const shift = e + 9 - scale;
        nano = shift >= 0 ? digits * pow(10n, shift) : ceilDiv(digits, pow(10n, -shift));
    }
    if (nano === 0n) return "0";
    const minus = sign === "-" ? "-" : "";
    const whole1 = nano % pow(10n, 9) === 0n ? nano / pow(10n, 9) : undefined;
    if (binary && nano >= 1024n * pow(10n, 9) && whole1 !== undefined) {
        let n = whole1;
        let i = 0;
        while (n % 1024n === 0n && i < 6) {
            n /= 1024n;
            i++;
        }
        return `${minus}${n}${["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][i]}`;
    }
    let exponent = -9;
    let mantissa = nano;
    while (exponent < 18 && mantissa % 1000n === 0n) {
        mantissa /= 1000n;
        exponent += 3;
    }
    const unit = exponentForm ? (exponent === 0 ? "" : `e${exponent}`) : DECIMAL_SUFFIX[exponent];
    return `${minus}${mantissa}${unit}`;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** The quantity maps of a `ResourceRequirements` or a claim's `resources`, rewritten as the Go types write them. */
function rewriteResources(resources: unknown): unknown {
    if (!isObj(resources)) return resources;
    const out: Obj = { ...resources };
    for (const key of ["limits", "requests"]) {
        const map = resources[key];
        if (isObj(map)) out[key] = Object.fromEntries(Object.entries(map).map(([k, v]) => [k, typeof v === "string" || typeof v === "number" ? goQuantity(String(v)) : v]));
    }
    return out;
}

/** A pod spec with every quantity field of corev1 rewritten: container resources, emptyDir size limits, overhead. */
function rewritePodSpec(spec: unknown): unknown {
    if (!isObj(spec)) return spec;
    const containers = (v: unknown): unknown => (Array.isArray(v) ? (v as unknown[]).map((c): unknown => (isObj(c) ? { ...c, ...(c.resources !== undefined ? { resources: rewriteResources(c.resources) } : {}) } : c)) : v);
    const out: Obj = { ...spec, containers: containers(spec.containers) };
    if (spec.initContainers !== undefined) out.initContainers = containers(spec.initContainers);
    if (Array.isArray(spec.volumes)) {
        out.volumes = (spec.volumes as unknown[]).map((v): unknown => (isObj(v) && isObj(v.emptyDir) && v.emptyDir.sizeLimit !== undefined ? { ...v, emptyDir: { ...v.emptyDir, sizeLimit: goQuantity(String(v.emptyDir.sizeLimit as string | number)) } } : v));
    }
    if (isObj(spec.overhead)) out.overhead = Object.fromEntries(Object.entries(spec.overhead).map(([k, v]) => [k, goQuantity(String(v))]));
    if (spec.containers === undefined) delete out.containers;
    return out;
}

const rewriteTemplate = (t: unknown): unknown => (isObj(t) ? { ...t, spec: rewritePodSpec(t.spec) } : t);
const rewriteClaims = (claims: unknown): unknown =>
    Array.isArray(claims) ? (claims as unknown[]).map((c): unknown => (isObj(c) && isObj(c.spec) ? { ...c, spec: { ...c.spec, resources: rewriteResources(c.spec.resources) } } : c)) : claims;

/**
 * `cr` as the operator's `client.Update` writes it back: every `resource.Quantity` of its Go types (the pod
 * templates' corev1 types, the claim templates' PersistentVolumeClaims) re-encoded, plus the annotations it sets.
 * Fields the Go types add (`creationTimestamp: null`, empty `status`) are new fields of the operator's, not ours,
 * and are left out: they cannot change a value we set.
 */
export function operatorUpdate(cr: CustomResource & { readonly metadata: { readonly annotations?: Record<string, string> } }, annotations: Record<string, string> = {}): CustomResource & { metadata: { annotations: Record<string, string> } } {
    const spec: Obj = { ...cr.spec };
    if (cr.kind === "Elasticsearch" && Array.isArray(spec.nodeSets)) {
        spec.nodeSets = (spec.nodeSets as unknown[]).map((s): unknown => (isObj(s) ? { ...s, podTemplate: rewriteTemplate(s.podTemplate), volumeClaimTemplates: rewriteClaims(s.volumeClaimTemplates) } : s));
    } else {
        if (spec.podTemplate !== undefined) spec.podTemplate = rewriteTemplate(spec.podTemplate);
        if (spec.volumeClaimTemplates !== undefined) spec.volumeClaimTemplates = rewriteClaims(spec.volumeClaimTemplates);
    }
    return { ...cr, metadata: { ...cr.metadata, annotations: { ...(cr.metadata.annotations ?? {}), ...annotations } }, spec };
}

/** Leaf paths of `applied` (the fields our apply sets) whose value in `live` is another, present value. */
export function rewrittenFields(applied: unknown, live: unknown, at = ""): string[] {
    if (Array.isArray(applied)) {
        if (!Array.isArray(live)) return live === undefined ? [] : [at];
        return applied.flatMap((v, i) => rewrittenFields(v, live[i], `${at}[${i}]`));
    }
    if (isObj(applied)) {
        if (!isObj(live)) return live === undefined ? [] : [at];
        return Object.entries(applied).flatMap(([k, v]) => rewrittenFields(v, live[k], at ? `${at}.${k}` : k));
    }
    if (applied === undefined || live === undefined) return [];
    return applied === live ? [] : [at];
}

/**
 * The fields the next apply of `applied` would conflict on once the operator has updated the resource: those its
 * update rewrote (now the operator's) and our annotations it owns. Empty: the stack and the operator share the object.
 */
export function applyConflicts(applied: CustomResource & { readonly metadata: { readonly annotations?: Record<string, string> } }): string[] {
    const written: Record<string, string> = {};
    for (const a of OPERATOR_ANNOTATIONS[applied.kind as keyof typeof OPERATOR_ANNOTATIONS] ?? []) written[a.prefix ? `${a.key}x` : a.key] = "operator";
    const live = operatorUpdate(applied, written);
    return rewrittenFields({ metadata: applied.metadata, spec: applied.spec }, { metadata: live.metadata, spec: live.spec });
}
