/**
 * The objects ECK makes for our custom resources and the names it gives them, as data and small functions: the
 * Services clients dial, the Secrets it writes (users, certificates, configuration), its StatefulSets and Deployments,
 * and its disruption budget, each derived from the resource's name. Every fact is read from
 * github.com/elastic/cloud-on-k8s at tag {@link ECK_TAG}, in the file named beside it. When the pinned operator
 * changes (ECK_OPERATOR_VERSION in components/targets/eckResources.ts), a test fails until these are read again.
 *
 * The lists are what the operator may make: some objects exist only in some configurations (said in `when`). A check
 * for name clashes must take them all: an object the operator makes later must not find its name taken.
 */

/** The cloud-on-k8s tag every fact here was read from. */
export const ECK_TAG = "v3.5.0";

/** An object the operator makes for a custom resource. */
export interface DerivedObject {
    readonly kind: "Service" | "Secret" | "ConfigMap" | "StatefulSet" | "Deployment" | "PodDisruptionBudget";
    readonly namespace: string;
    readonly name: string;
    /** The upstream file that names it. */
    readonly source: string;
    /** When it exists, if not always. */
    readonly when?: string;
}

/** A custom resource as the stack registers it (the parts naming reads). */
export interface CustomResource {
    readonly kind: string;
    readonly metadata: { readonly name: string; readonly namespace: string };
    readonly spec: Record<string, unknown>;
}

/**
 * `Namer.Suffix(owner, ...suffixes)` with the kind's default suffix (pkg/controller/common/name/name.go):
 * `<owner>-<short>-<suffix>...`. The Namer truncates an owner name that leaves no room, and the webhook refuses one
 * over 36 characters (MaxResourceNameLength); a name that would need truncating is an error here.
 */
export function suffixed(short: "es" | "kb" | "ls", owner: string, ...suffixes: string[]): string {
    const name = [owner, short, ...suffixes].join("-");
    if (name.length > 253) throw new Error(`${name}: longer than a Kubernetes name; the operator would truncate '${owner}'`);
    return name;
}

const list = (v: unknown): Record<string, unknown>[] => (Array.isArray(v) ? (v as Record<string, unknown>[]) : []);

/** The objects ECK 3.5.0 makes for an Elasticsearch resource. */
function elasticsearchObjects(es: string, ns: string, spec: Record<string, unknown>): DerivedObject[] {
    const o = (kind: DerivedObject["kind"], name: string, source: string, when?: string): DerivedObject => ({ kind, namespace: ns, name, source, when });
    const names = "pkg/apis/elasticsearch/v1/name.go";
    const certs = "pkg/controller/common/certificates/secret.go, ca_reconcile.go";
    const out: DerivedObject[] = [
        o("Service", suffixed("es", es, "http"), `${names} HTTPService`),
        o("Service", suffixed("es", es, "internal-http"), `${names} InternalHTTPService`),
        o("Service", suffixed("es", es, "transport"), `${names} TransportService`),
        o("Service", suffixed("es", es, "remote-cluster"), `${names} RemoteClusterService`, "remote cluster server enabled"),
        o("Secret", suffixed("es", es, "elastic-user"), `${names} ElasticUserSecret`),
        o("Secret", suffixed("es", es, "internal-users"), `${names} InternalUsersSecret`),
        o("Secret", suffixed("es", es, "xpack-file-realm"), `${names} RolesAndFileRealmSecret`),
        o("Secret", suffixed("es", es, "secure-settings"), `${names} SecureSettingsSecret`, "spec.secureSettings set"),
        o("Secret", suffixed("es", es, "keystore-password"), `${names} KeystorePasswordSecret`, "a password-protected keystore"),
        o("Secret", suffixed("es", es, "file-settings"), `${names} FileSettingsSecretName`),
        o("Secret", suffixed("es", es, "remote-ca"), `${names} RemoteCaSecretName`),
        o("Secret", suffixed("es", es, "remote-api-keys"), `${names} RemoteAPIKeysSecretName`, "remote clusters with API keys"),
        o("Secret", suffixed("es", es, "license"), `${names} LicenseSecretName`, "an enterprise license"),
        o("Secret", suffixed("es", es, "http", "certs-internal"), `${certs} InternalCertsSecretName`),
        o("Secret", suffixed("es", es, "http", "certs-public"), `${certs} PublicCertsSecretName`),
        o("Secret", suffixed("es", es, "http", "ca-internal"), `${certs} CAInternalSecretName`, "self-signed HTTP certificates"),
        o("Secret", suffixed("es", es, "transport", "ca-internal"), `${certs} CAInternalSecretName`, "the operator's own transport CA"),
        o("Secret", suffixed("es", es, "transport", "certs-public"), `${certs} PublicTransportCertsSecretName`),
        o("ConfigMap", suffixed("es", es, "unicast-hosts"), `${names} UnicastHostsConfigMap`),
        o("ConfigMap", suffixed("es", es, "scripts"), `${names} ScriptsConfigMap`),
        o("PodDisruptionBudget", suffixed("es", es, "default"), `${names} DefaultPodDisruptionBudget`),
    ];
    for (const set of list(spec.nodeSets)) {
        const sset = suffixed("es", es, String(set.name));
        out.push(
            o("StatefulSet", sset, `${names} StatefulSet`),
            // The headless Service of a node set is named after its StatefulSet (nodespec/statefulset.go HeadlessServiceName).
            o("Service", sset, "pkg/controller/elasticsearch/nodespec/statefulset.go HeadlessServiceName"),
            o("Secret", suffixed("es", sset, "config"), `${names} ConfigSecret`),
            o("Secret", suffixed("es", sset, "transport-certs"), `${names} StatefulSetTransportCertificatesSecret`),
        );
    }
    return out;
}

/** The objects ECK 3.5.0 makes for a Kibana resource. */
function kibanaObjects(kb: string, ns: string, spec: Record<string, unknown>): DerivedObject[] {
    const o = (kind: DerivedObject["kind"], name: string, source: string, when?: string): DerivedObject => ({ kind, namespace: ns, name, source, when });
    const names = "pkg/apis/kibana/v1/name.go";
    const certs = "pkg/controller/common/certificates/secret.go, ca_reconcile.go";
    const out: DerivedObject[] = [
        o("Deployment", suffixed("kb", kb), `${names} Deployment`),
        o("Service", suffixed("kb", kb, "http"), `${names} HTTPService`),
        o("Secret", suffixed("kb", kb, "config"), `${names} ConfigSecret`),
        o("ConfigMap", suffixed("kb", kb, "scripts"), `${names} ScriptsConfigMap`),
        o("Secret", suffixed("kb", kb, "secure-settings"), "pkg/controller/common/keystore/user_secret.go secureSettingsSecretName", "spec.secureSettings set"),
        o("Secret", suffixed("kb", kb, "http", "certs-internal"), `${certs} InternalCertsSecretName`),
        o("Secret", suffixed("kb", kb, "http", "certs-public"), `${certs} PublicCertsSecretName`),
        o("Secret", suffixed("kb", kb, "http", "ca-internal"), `${certs} CAInternalSecretName`, "self-signed HTTP certificates"),
    ];
    const ref = spec.elasticsearchRef as { name?: string; namespace?: string } | undefined;
    if (ref?.name) {
        // The association (pkg/controller/association/controller/kibana_es.go: name kb-es, user suffix kibana-user):
        // the user's Secret in Kibana's namespace, its copy in Elasticsearch's (user.go userSecretObjectName,
        // elasticsearchUserName), and the copy of Elasticsearch's CA (ca.go CACertSecretName).
        const esNs = ref.namespace ?? ns;
        out.push(
            o("Secret", `${kb}-kibana-user`, "pkg/controller/association/user.go userSecretObjectName", "spec.elasticsearchRef set"),
            { kind: "Secret", namespace: esNs, name: `${ns}-${kb}-kibana-user`, source: "pkg/controller/association/user.go elasticsearchUserName", when: "spec.elasticsearchRef set" },
            o("Secret", `${kb}-kb-es-ca`, "pkg/controller/association/ca.go CACertSecretName", "spec.elasticsearchRef set"),
        );
    }
    return out;
}

/** The objects ECK 3.5.0 makes for a Logstash resource. */
function logstashObjects(ls: string, ns: string, spec: Record<string, unknown>): DerivedObject[] {
    const o = (kind: DerivedObject["kind"], name: string, source: string, when?: string): DerivedObject => ({ kind, namespace: ns, name, source, when });
    const names = "pkg/apis/logstash/v1alpha1/name.go";
    const out: DerivedObject[] = [
        o("StatefulSet", suffixed("ls", ls), `${names} Name`),
        o("Service", suffixed("ls", ls, "api"), `${names} APIServiceName`),
        o("Secret", suffixed("ls", ls, "config"), `${names} ConfigSecretName`),
        o("Secret", suffixed("ls", ls, "pipeline"), `${names} PipelineSecretName`),
        o("Secret", suffixed("ls", ls, "secure-settings"), "pkg/controller/common/keystore/user_secret.go secureSettingsSecretName", "spec.secureSettings set"),
    ];
    for (const svc of list(spec.services)) {
        out.push(o("Service", suffixed("ls", ls, String(svc.name)), `${names} UserServiceName (pkg/controller/logstash/service.go)`));
    }
    return out;
}

/** Every object ECK 3.5.0 may make for `cr`, with its name; none for a kind it does not manage. */
export function derivedObjects(cr: CustomResource): DerivedObject[] {
    const { name, namespace } = cr.metadata;
    switch (cr.kind) {
        case "Elasticsearch":
            return elasticsearchObjects(name, namespace, cr.spec);
        case "Kibana":
            return kibanaObjects(name, namespace, cr.spec);
        case "Logstash":
            return logstashObjects(name, namespace, cr.spec);
        default:
            return [];
    }
}

/** The Service clients dial for each kind: Elasticsearch's HTTP Service, Kibana's, and a Logstash Service by name. */
export function clientService(cr: CustomResource, logstashService?: string): string {
    const kind = cr.kind === "Elasticsearch" ? "es" : cr.kind === "Kibana" ? "kb" : "ls";
    if (kind === "ls") {
        if (logstashService === undefined) throw new Error("a Logstash resource has a Service per spec.services entry: name one");
        return suffixed("ls", cr.metadata.name, logstashService);
    }
    return suffixed(kind, cr.metadata.name, "http");
}
