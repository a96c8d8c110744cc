/**
 * Whether a set of pods can be placed on a set of nodes, by the kube-scheduler's filters that the stack's pods meet
 * (kubernetes/kubernetes pkg/scheduler/framework/plugins): NodeResourcesFit on memory (a pod requests the larger of
 * its containers' sum and its largest init container, noderesources/fit.go via resource.PodRequests), NodeAffinity's
 * required terms, InterPodAffinity's required anti-affinity in both directions (the incoming pod's terms against pods
 * already placed, and placed pods' terms against the incoming pod: interpodaffinity/filtering.go), and
 * PodTopologySpread's DoNotSchedule constraints (podtopologyspread/filtering.go: skew = matching pods in the
 * candidate's domain + 1 - the fewest in any eligible domain). Preferred terms only rank nodes and are ignored. The
 * search tries every placement (with nodes interchangeable until used), so "does not fit" is a proof, not a guess.
 */
import type { Affinity, Container, LabelSelector, PodSpec } from "./eck/pods";
import { matches } from "./networkPolicy";

/** A node of the cluster. */
export interface SchedNode {
    readonly name: string;
    readonly labels: Readonly<Record<string, string>>;
    /** Allocatable memory, MiB; unlimited when unset. */
    readonly memoryMi?: number;
}

/** A pod to place: one replica of a workload. */
export interface SchedPod {
    readonly name: string;
    readonly namespace: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly spec: Pick<PodSpec, "affinity" | "topologySpreadConstraints" | "containers" | "initContainers">;
}

/** Mebibytes of a Kubernetes memory quantity (Mi, Gi, or bytes). */
export function mebibytes(q: string | undefined): number {
    if (q === undefined) return 0;
    const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti)?$/.exec(q);
    if (!m) throw new Error(`memory quantity ${q} not understood`);
    const n = Number(m[1]);
    return m[2] === "Gi" ? n * 1024 : m[2] === "Ti" ? n * 1024 * 1024 : m[2] === "Ki" ? n / 1024 : m[2] === "Mi" ? n : n / (1024 * 1024);
}

/** A pod's memory request as the scheduler counts it: max(sum of containers, largest init container). */
export function memoryRequestMi(spec: SchedPod["spec"]): number {
    const req = (c: Container) => mebibytes(c.resources?.requests?.memory ?? c.resources?.limits?.memory);
    const sum = spec.containers.reduce((n, c) => n + req(c), 0);
    return Math.max(sum, ...(spec.initContainers ?? []).map(req));
}

const antiTerms = (a: Affinity | undefined) => a?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];

function nodeAffinityOk(pod: SchedPod, node: SchedNode): boolean {
    const terms = pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
    if (!terms || terms.length === 0) return true;
    return terms.some((t) =>
        (t.matchExpressions ?? []).every((e) => {
            const v = node.labels[e.key];
            if (e.operator === "In") return v !== undefined && (e.values ?? []).includes(v);
            if (e.operator === "NotIn") return v === undefined || !(e.values ?? []).includes(v);
            if (e.operator === "Exists") return v !== undefined;
            if (e.operator === "DoesNotExist") return v === undefined;
            throw new Error(`node selector operator ${e.operator} not modelled`);
        }),
    );
}

/** Whether `term` of a pod in `ns` selects `other` (a term without namespaces means the pod's own namespace). */
function termSelects(term: { labelSelector?: LabelSelector; namespaces?: string[]; namespaceSelector?: LabelSelector }, ns: string, other: SchedPod): boolean {
    if (term.namespaceSelector !== undefined) throw new Error("namespaceSelector in pod affinity is not modelled");
    const namespaces = term.namespaces && term.namespaces.length > 0 ? term.namespaces : [ns];
    // A term without a label selector selects nothing (metav1.LabelSelectorAsSelector(nil) is labels.Nothing()).
    return namespaces.includes(other.namespace) && term.labelSelector !== undefined && matches(term.labelSelector, other.labels);
}

/** Whether `pod` may go to `node` given what is already placed. */
function fits(pod: SchedPod, node: SchedNode, nodes: readonly SchedNode[], placed: ReadonlyMap<SchedPod, SchedNode>): boolean {
    if (!nodeAffinityOk(pod, node)) return false;
    if (node.memoryMi !== undefined) {
        const used = [...placed].filter(([, n]) => n === node).reduce((sum, [p]) => sum + memoryRequestMi(p.spec), 0);
        if (used + memoryRequestMi(pod.spec) > node.memoryMi) return false;
    }
    const sameDomain = (a: SchedNode, b: SchedNode, key: string) => a.labels[key] !== undefined && a.labels[key] === b.labels[key];
    for (const [other, where] of placed) {
        for (const t of antiTerms(pod.spec.affinity)) if (sameDomain(node, where, t.topologyKey) && termSelects(t, pod.namespace, other)) return false;
        for (const t of antiTerms(other.spec.affinity)) if (sameDomain(node, where, t.topologyKey) && termSelects(t, other.namespace, pod)) return false;
    }
    for (const c of pod.spec.topologySpreadConstraints ?? []) {
        if (c.whenUnsatisfiable !== "DoNotSchedule") continue;
        const domain = node.labels[c.topologyKey];
        if (domain === undefined) return false;
        // Domains of the nodes the pod could go to by its node affinity.
        const domains = new Set(nodes.filter((n) => nodeAffinityOk(pod, n) && n.labels[c.topologyKey] !== undefined).map((n) => n.labels[c.topologyKey]));
        const count = (d: string) => [...placed].filter(([p, n]) => n.labels[c.topologyKey] === d && p.namespace === pod.namespace && c.labelSelector !== undefined && matches(c.labelSelector, p.labels)).length;
        const min = Math.min(...[...domains].map(count));
        const self = c.labelSelector !== undefined && matches(c.labelSelector, pod.labels) ? 1 : 0;
        if (count(domain) + self - min > c.maxSkew) return false;
    }
    return true;
}

/** A placement of every pod, or undefined when none exists. */
export function place(pods: readonly SchedPod[], nodes: readonly SchedNode[]): Map<SchedPod, SchedNode> | undefined {
    const placed = new Map<SchedPod, SchedNode>();
    const go = (i: number, used: number): boolean => {
        if (i === pods.length) return true;
        // Nodes not used yet are interchangeable only when their labels are equal; try each distinct one once.
        const tried = new Set<string>();
        for (let n = 0; n < nodes.length; n++) {
            const node = nodes[n];
            if (n >= used) {
                const key = JSON.stringify([node.labels, node.memoryMi]);
                if (tried.has(key)) continue;
                tried.add(key);
            }
            if (!fits(pods[i], node, nodes, placed)) continue;
            placed.set(pods[i], node);
            if (go(i + 1, Math.max(used, n + 1))) return true;
            placed.delete(pods[i]);
        }
        return false;
    };
    return go(0, 0) ? placed : undefined;
}

/** The fewest nodes made by `node(i)` on which every pod fits, up to `max`; undefined when even `max` do not. */
export function fewestNodes(pods: readonly SchedPod[], node: (i: number) => SchedNode, max = 12): number | undefined {
    for (let n = 1; n <= max; n++) {
        if (place(pods, Array.from({ length: n }, (_, i) => node(i)))) return n;
    }
    return undefined;
}
