/**
 * The names of what the `eck` engine puts into a namespace, in one place: the custom resources (from `clusterName`,
 * the instance names and the stack's `namePrefix`), and the Services Elastic's operator derives from them, which
 * clients dial. The engine, the program's outputs and the e2e run all take their names from here, so they cannot
 * drift apart.
 *
 * ECK derives every object's name from the resource's: `<name>-<kind short name>-<suffix>`
 * (github.com/elastic/cloud-on-k8s v3.5.0: pkg/controller/common/name/name.go Namer, pkg/apis/elasticsearch/v1/name.go,
 * pkg/apis/kibana/v1/name.go, pkg/apis/logstash/v1alpha1/name.go). Prefixing the resources' names is thus enough to
 * keep two stacks' operator-made objects apart in one namespace.
 */
import type { NodeSetConfig } from "./nodeSets";

/** Names of the custom resources of one stack. */
export interface EckNames {
    /** The Elasticsearch resource; ECK makes it the cluster name (`cluster.name`). */
    readonly elasticsearch: string;
    readonly kibana: string;
    readonly logstash: string;
}

/** What the names of a stack on the eck engine come from. */
export interface EckNaming {
    /** `clusterName`: the Elasticsearch resource's name when there is no prefix. */
    readonly clusterName: string;
    /** Instance names; Kibana's and Logstash's name their resources. */
    readonly instances: { readonly elasticsearch: string; readonly kibana: string; readonly logstash: string };
    /** The stack's `namePrefix`: every resource is `<prefix>-<name>` when set, as every object on the manifests engine. */
    readonly prefix?: string;
}

/** The Kubernetes name of `name` under an optional prefix, as on the manifests engine (kubernetesManifests.objectName). */
const prefixed = (prefix: string | undefined, name: string): string => (prefix ? `${prefix}-${name}` : name);

/** The custom resources' names: `clusterName` and the Kibana and Logstash instance names, each after the prefix. */
export function eckResourceNames(n: EckNaming): EckNames {
    return { elasticsearch: prefixed(n.prefix, n.clusterName), kibana: prefixed(n.prefix, n.instances.kibana), logstash: prefixed(n.prefix, n.instances.logstash) };
}

/** Name of the one Service the stack asks ECK to make for Logstash's listeners (`spec.services[].name`). */
export const LOGSTASH_LISTENER_SERVICE = "listeners";

/** Service of Elasticsearch's HTTP API (esv1.HTTPService). */
export const esHttpService = (es: string): string => `${es}-es-http`;
/** Service the operator itself dials (esv1.InternalHTTPService). */
export const esInternalHttpService = (es: string): string => `${es}-es-internal-http`;
/** Service of the transport layer (esv1.TransportService). */
export const esTransportService = (es: string): string => `${es}-es-transport`;
/** Service of Kibana (kbv1.HTTPService). */
export const kibanaHttpService = (kb: string): string => `${kb}-kb-http`;
/** A Service of `spec.services` of a Logstash resource (lsv1alpha1.UserServiceName). */
export const logstashService = (ls: string, name: string): string => `${ls}-ls-${name}`;

/**
 * The Service clients in the cluster dial for `instance` on the eck engine: Elasticsearch's HTTP Service, Kibana's,
 * Logstash's listeners; other instances (extra certificate names) keep their own names.
 */
export function eckServiceName(n: EckNaming, instance: string): string {
    const names = eckResourceNames(n);
    if (instance === n.instances.elasticsearch) return esHttpService(names.elasticsearch);
    if (instance === n.instances.kibana) return kibanaHttpService(names.kibana);
    if (instance === n.instances.logstash) return logstashService(names.logstash, LOGSTASH_LISTENER_SERVICE);
    return prefixed(n.prefix, instance);
}

/**
 * Longest name of an Elasticsearch, Kibana or Logstash resource: ECK's validating webhook refuses longer ones
 * (MaxResourceNameLength in pkg/controller/common/name/name.go, checked by esv1.ValidateNames and
 * commonv1.CheckNameLength for Kibana and Logstash).
 */
export const ECK_MAX_RESOURCE_NAME = 36;
/** Characters of the controller-revision-hash label value after a pod's name (esv1 name.go, controllerRevisionHashLen). */
const CONTROLLER_REVISION_HASH = 10;
/** Characters of a label value. */
const LABEL_MAX = 63;

/** A name ECK would refuse, with the config key behind it and why. */
export interface EckNameProblem {
    /** Which name: `elasticsearch`, `kibana`, `logstash` or `nodeSet`. */
    readonly what: "elasticsearch" | "kibana" | "logstash" | "nodeSet";
    readonly name: string;
    readonly problem: string;
    /** Longest length the name may have. */
    readonly limit: number;
}

/**
 * Names ECK 3.5.0's webhook would refuse (so `pulumi up` would fail after the preview): a resource name over
 * {@link ECK_MAX_RESOURCE_NAME} characters, or a node set whose StatefulSet `<es>-es-<set>` leaves no room in a
 * 63-character label for a pod's ordinal and the controller revision hash (esv1.ValidateNames).
 */
export function eckNameProblems(n: EckNaming, nodeSets: readonly Pick<NodeSetConfig, "name" | "count">[]): EckNameProblem[] {
    const names = eckResourceNames(n);
    const out: EckNameProblem[] = [];
    for (const what of ["elasticsearch", "kibana", "logstash"] as const) {
        const name = names[what];
        if (name.length > ECK_MAX_RESOURCE_NAME) {
            out.push({ what, name, limit: ECK_MAX_RESOURCE_NAME, problem: `the ${what} resource's name '${name}' has ${name.length} characters; the operator refuses more than ${ECK_MAX_RESOURCE_NAME}` });
        }
    }
    for (const set of nodeSets) {
        const sset = `${names.elasticsearch}-es-${set.name}`;
        const limit = LABEL_MAX - CONTROLLER_REVISION_HASH - (String(set.count).length + 1);
        if (sset.length > limit) {
            out.push({ what: "nodeSet", name: sset, limit, problem: `node set ${set.name} makes the StatefulSet '${sset}' (${sset.length} characters), too long for the operator: its pods' names and revision label must fit in 63 characters` });
        }
    }
    return out;
}
