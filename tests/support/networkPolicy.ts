/**
 * NetworkPolicies as a network plugin that implements them enforces them, for one connection at a time: what the
 * API (k8s.io/api networking/v1 types.go, the comments of NetworkPolicySpec, NetworkPolicyIngressRule,
 * NetworkPolicyEgressRule, NetworkPolicyPeer and NetworkPolicyPort) defines, and as strict as the API server's
 * validation (kubernetes/kubernetes pkg/apis/networking/validation/validation.go ValidateNetworkPolicySpec) about what
 * a policy may say. A policy the API server would refuse makes every evaluation throw; an `ipBlock` peer is matched
 * only against a source that has an IP (the API leaves pod IPs to the plugin). Pure.
 */
import * as net from "net";

/** A label selector as JSON (metav1.LabelSelector). */
export interface Selector {
    readonly matchLabels?: Readonly<Record<string, string>>;
    readonly matchExpressions?: readonly { key: string; operator: string; values?: readonly string[] }[];
}

/** A NetworkPolicy as JSON: its namespace and spec. */
export interface Policy {
    readonly metadata: { readonly name: string; readonly namespace: string };
    readonly spec: {
        readonly podSelector: Selector;
        readonly policyTypes?: readonly string[];
        readonly ingress?: readonly Rule[];
        readonly egress?: readonly Rule[];
    };
}

interface Rule {
    readonly from?: readonly Peer[];
    readonly to?: readonly Peer[];
    readonly ports?: readonly { protocol?: string; port?: number | string; endPort?: number }[];
}

interface Peer {
    readonly podSelector?: Selector;
    readonly namespaceSelector?: Selector;
    readonly ipBlock?: { cidr: string; except?: readonly string[] };
}

/** A pod as the policies see it: where it runs, its labels, its named ports. */
export interface PodEndpoint {
    readonly kind: "pod";
    /** What the pod is, for messages. */
    readonly name: string;
    readonly namespace: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly ports?: readonly { name?: string; containerPort: number; protocol?: string }[];
    readonly ip?: string;
}

/** A client outside the cluster's pods (a node, a load balancer, the internet). */
export interface ExternalEndpoint {
    readonly kind: "external";
    readonly name: string;
    readonly ip: string;
}

/** One connection: a TCP or UDP flow from a source to a port of a pod. */
export interface Connection {
    readonly description: string;
    readonly from: PodEndpoint | ExternalEndpoint;
    readonly to: PodEndpoint;
    readonly port: number;
    readonly protocol: "TCP" | "UDP" | "SCTP";
}

/** The namespaces of the cluster with their labels; each also carries `kubernetes.io/metadata.name` (set by the API server). */
export type Namespaces = Readonly<Record<string, Readonly<Record<string, string>>>>;

const PROTOCOLS = ["TCP", "UDP", "SCTP"];
// IANA_SVC_NAME (validation.go ValidatePortNumOrName): 1-15 lowercase letters, digits and '-', a letter, no '--'.
const SVC_NAME = /^(?=.*[a-z])(?!.*--)[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/;

/** Problems the API server would refuse the policy for; none for a valid policy. */
export function policyErrors(p: Policy): string[] {
    const errors: string[] = [];
    const at = `${p.metadata.namespace}/${p.metadata.name}`;
    const selectorErrors = (s: Selector | undefined, where: string) => {
        for (const e of s?.matchExpressions ?? []) {
            const values = e.values ?? [];
            if ((e.operator === "In" || e.operator === "NotIn") && values.length === 0) errors.push(`${at} ${where}: ${e.operator} needs values`);
            else if ((e.operator === "Exists" || e.operator === "DoesNotExist") && values.length > 0) errors.push(`${at} ${where}: ${e.operator} takes no values`);
            else if (!["In", "NotIn", "Exists", "DoesNotExist"].includes(e.operator)) errors.push(`${at} ${where}: unknown operator ${e.operator}`);
        }
    };
    if (p.spec.podSelector === undefined) errors.push(`${at}: spec.podSelector is required`);
    selectorErrors(p.spec.podSelector, "spec.podSelector");
    for (const t of p.spec.policyTypes ?? []) if (t !== "Ingress" && t !== "Egress") errors.push(`${at}: policyTypes may hold Ingress and Egress, not ${t}`);
    if ((p.spec.policyTypes ?? []).length > 2) errors.push(`${at}: more than two policyTypes`);
    const rules = [...(p.spec.ingress ?? []).map((r) => ({ r, peers: r.from, dir: "ingress" })), ...(p.spec.egress ?? []).map((r) => ({ r, peers: r.to, dir: "egress" }))];
    rules.forEach(({ r, peers, dir }, i) => {
        for (const port of r.ports ?? []) {
            if (port.protocol !== undefined && !PROTOCOLS.includes(port.protocol)) errors.push(`${at} ${dir}[${i}]: protocol ${port.protocol}`);
            if (typeof port.port === "number" && (port.port < 1 || port.port > 65535 || !Number.isInteger(port.port))) errors.push(`${at} ${dir}[${i}]: port ${port.port} out of range`);
            if (typeof port.port === "string" && !SVC_NAME.test(port.port)) errors.push(`${at} ${dir}[${i}]: '${port.port}' is not a port name`);
            if (port.endPort !== undefined) {
                if (typeof port.port !== "number") errors.push(`${at} ${dir}[${i}]: endPort needs a numeric port`);
                else if (port.endPort < port.port) errors.push(`${at} ${dir}[${i}]: endPort below port`);
            }
        }
        for (const peer of peers ?? []) {
            const set = [peer.podSelector, peer.namespaceSelector, peer.ipBlock].filter((x) => x !== undefined).length;
            if (set === 0) errors.push(`${at} ${dir}[${i}]: a peer must name a podSelector, a namespaceSelector or an ipBlock`);
            if (peer.ipBlock && set > 1) errors.push(`${at} ${dir}[${i}]: an ipBlock peer may not have selectors`);
            if (peer.ipBlock && !cidr(peer.ipBlock.cidr)) errors.push(`${at} ${dir}[${i}]: '${peer.ipBlock.cidr}' is not a CIDR`);
            selectorErrors(peer.podSelector, `${dir}[${i}].podSelector`);
            selectorErrors(peer.namespaceSelector, `${dir}[${i}].namespaceSelector`);
        }
    });
    return errors;
}

function cidr(s: string): { ip: string; bits: number; family: 4 | 6 } | undefined {
    const m = /^(.+)\/(\d+)$/.exec(s);
    if (!m) return undefined;
    const family = net.isIP(m[1]);
    const bits = Number(m[2]);
    if (family === 0 || bits > (family === 4 ? 32 : 128)) return undefined;
    return { ip: m[1], bits, family: family as 4 | 6 };
}

function inCidr(ip: string, block: string): boolean {
    const c = cidr(block);
    if (!c || net.isIP(ip) !== c.family) return false;
    const list = new net.BlockList();
    list.addSubnet(c.ip, c.bits, c.family === 4 ? "ipv4" : "ipv6");
    return list.check(ip, c.family === 4 ? "ipv4" : "ipv6");
}

/** Whether the labels satisfy the selector (metav1.LabelSelectorAsSelector); an empty selector matches everything. */
export function matches(selector: Selector, labels: Readonly<Record<string, string>>): boolean {
    for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
    for (const e of selector.matchExpressions ?? []) {
        const has = Object.prototype.hasOwnProperty.call(labels, e.key);
        const values = e.values ?? [];
        if (e.operator === "In" && !(has && values.includes(labels[e.key]))) return false;
        if (e.operator === "NotIn" && has && values.includes(labels[e.key])) return false;
        if (e.operator === "Exists" && !has) return false;
        if (e.operator === "DoesNotExist" && has) return false;
    }
    return true;
}

/** A namespace's labels, with the one the API server sets on every namespace. */
function namespaceLabels(namespaces: Namespaces, name: string): Record<string, string> {
    const own = namespaces[name];
    if (own === undefined) throw new Error(`namespace ${name} is not in the model`);
    return { ...own, "kubernetes.io/metadata.name": name };
}

/** policyTypes as the API server defaults them: Ingress, and Egress when there are egress rules. */
function typesOf(p: Policy): string[] {
    return p.spec.policyTypes ? [...p.spec.policyTypes] : ["Ingress", ...((p.spec.egress ?? []).length > 0 ? ["Egress"] : [])];
}

function peerMatches(peer: Peer, policyNamespace: string, other: PodEndpoint | ExternalEndpoint, namespaces: Namespaces): boolean {
    if (peer.ipBlock) {
        const ip = other.ip;
        if (ip === undefined) throw new Error(`an ipBlock peer cannot be matched against ${other.name}, which has no IP in the model`);
        return inCidr(ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((x) => inCidr(ip, x));
    }
    if (other.kind !== "pod") return false;
    if (peer.namespaceSelector) {
        if (!matches(peer.namespaceSelector, namespaceLabels(namespaces, other.namespace))) return false;
    } else if (other.namespace !== policyNamespace) return false;
    return peer.podSelector === undefined || matches(peer.podSelector, other.labels);
}

function portMatches(rulePorts: Rule["ports"], pod: PodEndpoint, port: number, protocol: string): boolean {
    if (rulePorts === undefined || rulePorts.length === 0) return true;
    return rulePorts.some((p) => {
        if ((p.protocol ?? "TCP") !== protocol) return false;
        if (p.port === undefined) return true;
        if (typeof p.port === "string") return (pod.ports ?? []).some((cp) => cp.name === p.port && cp.containerPort === port && (cp.protocol ?? "TCP") === protocol);
        return p.endPort === undefined ? p.port === port : port >= p.port && port <= p.endPort;
    });
}

/** The verdict on one connection, with the policies that decided it. */
export interface Verdict {
    readonly allowed: boolean;
    readonly reason: string;
}

/**
 * Whether the policies let the connection through: the destination pod must be unisolated for ingress or admitted
 * by a rule of a policy selecting it, and a source pod unisolated for egress or admitted by a rule of a policy
 * selecting it. Throws when a policy is one the API server would refuse.
 */
export function evaluate(policies: readonly Policy[], namespaces: Namespaces, c: Connection): Verdict {
    for (const p of policies) {
        const errors = policyErrors(p);
        if (errors.length > 0) throw new Error(`invalid NetworkPolicy: ${errors.join("; ")}`);
    }
    const side = (pod: PodEndpoint, type: "Ingress" | "Egress", other: PodEndpoint | ExternalEndpoint, portPod: PodEndpoint): Verdict => {
        const selecting = policies.filter((p) => p.metadata.namespace === pod.namespace && typesOf(p).includes(type) && matches(p.spec.podSelector, pod.labels));
        if (selecting.length === 0) return { allowed: true, reason: `${pod.name} is not isolated for ${type.toLowerCase()}` };
        for (const p of selecting) {
            const rules = (type === "Ingress" ? p.spec.ingress : p.spec.egress) ?? [];
            for (const r of rules) {
                const peers = type === "Ingress" ? r.from : r.to;
                const peerOk = peers === undefined || peers.length === 0 || peers.some((peer) => peerMatches(peer, p.metadata.namespace, other, namespaces));
                if (peerOk && portMatches(r.ports, portPod, c.port, c.protocol)) return { allowed: true, reason: `admitted by ${p.metadata.namespace}/${p.metadata.name}` };
            }
        }
        return { allowed: false, reason: `${type.toLowerCase()} of ${pod.name} isolated by ${selecting.map((p) => p.metadata.name).join(", ")}, and no rule admits ${other.name} to ${c.protocol} ${c.port}` };
    };
    const ingress = side(c.to, "Ingress", c.from, c.to);
    if (!ingress.allowed) return ingress;
    if (c.from.kind === "pod") {
        const egress = side(c.from, "Egress", c.to, c.to);
        if (!egress.allowed) return egress;
    }
    return ingress;
}
