/**
 * Who in the stack opens connections to whom, as data: the Kubernetes target turns it into NetworkPolicies. Pure.
 */
import type { StackConfig } from "./config";
import { ES_HTTP_PORT, ES_TRANSPORT_PORT } from "./elasticsearch";
import { KIBANA_PORT } from "./kibana";
import { logstashListeners } from "./sources";

/** Instance name of the bootstrap step (users, roles, templates). */
export const BOOTSTRAP_STEP = "bootstrap";
/** Instance name of the step that imports Kibana's saved objects. */
export const KIBANA_SETUP_STEP = "kibana-setup";

/** Who may open connections to one port of an instance's pods. */
export interface IngressRule {
    /** Instance name of the pods the rule admits traffic to. */
    readonly instance: string;
    readonly port: number;
    readonly protocol: "tcp" | "udp";
    /** Instance names of the stack's pods that may connect, or `anywhere` for clients the stack cannot name. */
    readonly from: readonly string[] | "anywhere";
}

/**
 * Every connection the stack needs, and no other: Elasticsearch's transport port from Elasticsearch nodes only;
 * its HTTP port from Kibana, Logstash and the bootstrap; Kibana from the set-up step, or from anywhere when an Ingress
 * or a NodePort/LoadBalancer Service exposes it; Logstash's listeners from anywhere (the applications that send
 * logs are not part of the stack).
 */
export function stackIngressRules(s: StackConfig): IngressRule[] {
    const n = s.names;
    const kibanaExposed = s.kubernetes.kibanaIngress !== undefined || s.kubernetes.kibanaServiceType !== "ClusterIP";
    return [
        { instance: n.elasticsearch, port: ES_HTTP_PORT, protocol: "tcp", from: [n.kibana, n.logstash, BOOTSTRAP_STEP] },
        { instance: n.elasticsearch, port: ES_TRANSPORT_PORT, protocol: "tcp", from: [n.elasticsearch] },
        { instance: n.kibana, port: KIBANA_PORT, protocol: "tcp", from: kibanaExposed ? "anywhere" : [KIBANA_SETUP_STEP] },
        ...logstashListeners(s.logSources).map((l): IngressRule => ({ instance: n.logstash, port: l.port, protocol: l.protocol, from: "anywhere" })),
    ];
}
