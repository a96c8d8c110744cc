/**
 * The connections that exist because of ECK, and those the stack's own pods open through the Services ECK makes,
 * as data for the NetworkPolicy evaluator (tests/support/networkPolicy.ts). Every fact is read from
 * github.com/elastic/cloud-on-k8s at {@link ECK_TAG}, file named beside it. The kubelet's probes are left out: they
 * come from the node, which NetworkPolicies do not isolate pods from.
 */
import type { Connection, ExternalEndpoint, PodEndpoint } from "../networkPolicy";
import { ECK_LABELS, ECK_TAG, type EffectivePod } from "./pods";

export { ECK_TAG };

/** Elasticsearch's HTTP and transport ports, Kibana's (the network/ports.go of pkg/controller/elasticsearch and pkg/controller/kibana). */
export const ECK_PORTS = { esHttp: 9200, esTransport: 9300, kibana: 5601 } as const;

/**
 * How the operator was installed, which decides its pods' labels: `helm`, the eck-operator chart
 * (deploy/eck-operator/templates/statefulset.yaml: the chart's labels, of which `app.kubernetes.io/name` is the
 * chart's nameOverride "elastic-operator" from values.yaml and `app.kubernetes.io/instance` the Helm release's name);
 * `manifests`, ECK's all-in-one YAML, rendered with `global.manifestGen` (_helpers.tpl selectorLabels:
 * `control-plane: elastic-operator` only).
 */
export type OperatorInstall = "helm" | "manifests";

/**
 * The operator's pod as the policies see it. `release` is the Helm release's name, which Pulumi may generate;
 * `values` the chart values it was installed with (`nameOverride`, default "elastic-operator", names the pods).
 */
export function operatorPod(install: OperatorInstall, namespace: string, release = "elk-eck-operator-5f3a9c1e", values: Record<string, unknown> = {}): PodEndpoint {
    const name = typeof values.nameOverride === "string" && values.nameOverride !== "" ? values.nameOverride : "elastic-operator";
    const labels: Record<string, string> =
        install === "helm"
            ? {
                  "app.kubernetes.io/name": name,
                  "app.kubernetes.io/instance": release,
                  "app.kubernetes.io/version": ECK_TAG.slice(1),
                  "helm.sh/chart": `eck-operator-${ECK_TAG.slice(1)}`,
                  "app.kubernetes.io/managed-by": "Helm",
              }
            : { "control-plane": "elastic-operator" };
    return { kind: "pod", name: `operator (${install})`, namespace, labels };
}

/** A pod of an effective pod template (one replica stands for all: they share labels and ports). */
export function podOf(p: EffectivePod): PodEndpoint {
    return { kind: "pod", name: p.owner, namespace: p.namespace, labels: p.metadata.labels, ports: p.spec.containers.flatMap((c) => c.ports ?? []) };
}

/** A Job's pod, from its manifest's template. */
export function jobPod(name: string, namespace: string, template: { metadata?: { labels?: Record<string, string> } }): PodEndpoint {
    return { kind: "pod", name: `job ${name}`, namespace, labels: template.metadata?.labels ?? {} };
}

const selects = (selector: Record<string, string>, labels: Readonly<Record<string, string>>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

/**
 * The pods behind a Service of ECK's: its selector over the pods of the namespace. Elasticsearch's `<es>-es-http`
 * and `<es>-es-internal-http` select `{cluster-name, type: elasticsearch}` (pkg/controller/elasticsearch/services/
 * services.go NewExternalService, NewInternalService: label.NewLabels); Kibana's `<kb>-kb-http` selects
 * `{type: kibana, kibana.k8s.elastic.co/name}` (pkg/controller/kibana/driver.go NewService with
 * kb.GetIdentityLabels()); a Logstash Service without a selector of its own selects
 * `{type: logstash, logstash.k8s.elastic.co/name}` (pkg/controller/logstash/service.go newService,
 * logstash/labels/labels.go NewLabels).
 */
export function serviceSelector(kind: "elasticsearch" | "kibana" | "logstash", name: string): Record<string, string> {
    if (kind === "elasticsearch") return { [ECK_LABELS.esCluster]: name, [ECK_LABELS.type]: "elasticsearch" };
    if (kind === "kibana") return { [ECK_LABELS.type]: "kibana", [ECK_LABELS.kibanaName]: name };
    return { [ECK_LABELS.type]: "logstash", [ECK_LABELS.logstashName]: name };
}

/** Inputs of {@link eckConnections}. */
export interface StackPods {
    readonly es: string;
    readonly kibana: string;
    readonly logstash: string;
    readonly pods: readonly EffectivePod[];
    /** Jobs by role: which one talks to Elasticsearch, which one to Kibana. */
    readonly bootstrapJob: PodEndpoint;
    readonly kibanaSetupJob: PodEndpoint;
    readonly operators: readonly PodEndpoint[];
    /** Logstash's listeners (port and protocol) that applications send to. */
    readonly listeners: readonly { port: number; protocol: "TCP" | "UDP" }[];
}

/** Every connection of a stack on ECK, each to every pod behind the Service dialled. */
export function eckConnections(s: StackPods): Connection[] {
    const behind = (kind: "elasticsearch" | "kibana" | "logstash", name: string) => s.pods.filter((p) => selects(serviceSelector(kind, name), p.metadata.labels)).map(podOf);
    const esPods = behind("elasticsearch", s.es);
    const kbPods = behind("kibana", s.kibana);
    const lsPods = behind("logstash", s.logstash);
    if (esPods.length === 0 || kbPods.length === 0 || lsPods.length === 0) throw new Error("a Service of ECK selects no pod of the stack");
    const out: Connection[] = [];
    const to = (description: string, from: PodEndpoint | ExternalEndpoint, pods: PodEndpoint[], port: number, protocol: "TCP" | "UDP" = "TCP") => {
        for (const pod of pods) out.push({ description, from, to: pod, port, protocol });
    };
    for (const op of s.operators) {
        // The operator's Elasticsearch client dials a ready (else running) pod directly, `https://<pod>.<sset>.<ns>:9200`,
        // or the internal Service when none runs (services.go NewElasticsearchURLProvider, ElasticsearchPodURL).
        to(`the operator's Elasticsearch API calls (services.go NewElasticsearchURLProvider) from ${op.name}`, op, esPods, ECK_PORTS.esHttp);
    }
    for (const from of esPods) {
        // The pre-stop hook runs in the stopping node's container and calls `<es>-es-internal-http` on 9200
        // (nodespec/lifecycle_hook.go: _cat/nodes, _nodes/<id>/shutdown; its URL from configmap.go
        // services.InternalServiceURL), which may land on any node, itself included.
        to(`the pre-stop hook of ${from.name} (nodespec/lifecycle_hook.go) via ${s.es}-es-internal-http`, from, esPods, ECK_PORTS.esHttp);
        to(`transport between nodes, from ${from.name}`, from, esPods, ECK_PORTS.esTransport);
    }
    for (const from of kbPods) to(`Kibana (${from.name}) to ${s.es}-es-http`, from, esPods, ECK_PORTS.esHttp);
    for (const from of lsPods) to(`Logstash (${from.name}) to ${s.es}-es-http`, from, esPods, ECK_PORTS.esHttp);
    to(`the bootstrap Job to ${s.es}-es-http`, s.bootstrapJob, esPods, ECK_PORTS.esHttp);
    to(`the Kibana set-up Job to ${s.kibana}-kb-http`, s.kibanaSetupJob, kbPods, ECK_PORTS.kibana);
    const app: ExternalEndpoint = { kind: "external", name: "an application outside the cluster", ip: "203.0.113.7" };
    for (const l of s.listeners) to(`an application to Logstash's listener ${l.protocol} ${l.port}`, app, lsPods, l.port, l.protocol);
    return out;
}

/**
 * Connections that must stay refused: a pod of the operator's namespace that is not the operator, and the stack's
 * Jobs and Logstash to Elasticsearch's transport port.
 */
export function refusedConnections(s: StackPods, operatorNamespace: string): Connection[] {
    const esPods = s.pods.filter((p) => selects(serviceSelector("elasticsearch", s.es), p.metadata.labels)).map(podOf);
    const neighbour: PodEndpoint = { kind: "pod", name: "another pod of the operator's namespace", namespace: operatorNamespace, labels: { "app.kubernetes.io/name": "metrics-scraper" } };
    const lsPods = s.pods.filter((p) => selects(serviceSelector("logstash", s.logstash), p.metadata.labels)).map(podOf);
    return [
        ...esPods.map((pod) => ({ description: "a non-operator pod of the operator's namespace to Elasticsearch's HTTP port", from: neighbour, to: pod, port: ECK_PORTS.esHttp, protocol: "TCP" as const })),
        ...esPods.map((pod) => ({ description: "the bootstrap Job to Elasticsearch's transport port", from: s.bootstrapJob, to: pod, port: ECK_PORTS.esTransport, protocol: "TCP" as const })),
        ...esPods.flatMap((pod) => lsPods.map((from) => ({ description: "Logstash to Elasticsearch's transport port", from, to: pod, port: ECK_PORTS.esTransport, protocol: "TCP" as const }))),
    ];
}
