/**
 * A structural check of ECK custom resources against the API of the pinned operator, transcribed by hand from its Go
 * types (github.com/elastic/cloud-on-k8s at tag v3.5.0; not vendored):
 *  - pkg/apis/elasticsearch/v1/elasticsearch_types.go (ElasticsearchSpec, NodeSet, ZoneAwareness, TransportConfig,
 *    TransportTLSOptions, UpdateStrategy, ChangeBudget, VolumeClaimDeletePolicy);
 *  - pkg/apis/kibana/v1/kibana_types.go (KibanaSpec);
 *  - pkg/apis/logstash/v1alpha1/logstash_types.go (LogstashSpec, LogstashService);
 *  - pkg/apis/common/v1/common.go (HTTPConfig, TLSOptions, SecretRef, ServiceTemplate, SecretSource) and config.go
 *    (Config: free-form settings, `PreserveUnknownFields`).
 * Fields the stack does not use are allowed by name only where the type lists them; an unknown field is an error
 * (the API server would prune it silently). Embedded Kubernetes types (pod templates, claims, Service specs) are
 * validated against the Kubernetes OpenAPI schemas of kubernetes-models.
 */

type Schema =
    | { readonly t: "string"; readonly pattern?: RegExp; readonly maxLength?: number; readonly oneOf?: readonly string[] }
    | { readonly t: "int"; readonly min?: number }
    | { readonly t: "bool" }
    | { readonly t: "object"; readonly props: Readonly<Record<string, Schema>>; readonly required?: readonly string[] }
    | { readonly t: "array"; readonly items: Schema; readonly minItems?: number }
    | { readonly t: "freeform" }
    | { readonly t: "k8s"; readonly model: string };

const str = (extra: Partial<{ pattern: RegExp; maxLength: number; oneOf: readonly string[] }> = {}): Schema => ({ t: "string", ...extra });
const int = (min?: number): Schema => ({ t: "int", min });
const bool: Schema = { t: "bool" };
const obj = (props: Record<string, Schema>, required: string[] = []): Schema => ({ t: "object", props, required });
const arr = (items: Schema, minItems?: number): Schema => ({ t: "array", items, minItems });
const freeform: Schema = { t: "freeform" };
const k8s = (model: string): Schema => ({ t: "k8s", model });

/** ObjectMeta as every custom resource carries it. */
const metadata = obj({ name: str(), namespace: str(), labels: freeform, annotations: freeform }, ["name"]);
/** commonv1.SecretRef */
const secretRef = obj({ secretName: str() });
/** commonv1.ServiceTemplate: metadata and a core/v1 ServiceSpec. */
const serviceTemplate = obj({ metadata: freeform, spec: k8s("v1/ServiceSpec") });
/** commonv1.TLSOptions */
const tlsOptions = obj({ selfSignedCertificate: obj({ subjectAltNames: arr(obj({ dns: str(), ip: str() })), disabled: bool }), certificate: secretRef });
/** commonv1.HTTPConfig */
const httpConfig = obj({ service: serviceTemplate, tls: tlsOptions });
/** commonv1.Resources (ECK 3.x): CPU and memory only. */
const ecResources = obj({ limits: obj({ cpu: str(), memory: str() }), requests: obj({ cpu: str(), memory: str() }) });
/** commonv1.SecretSource */
const secretSource = obj({ secretName: str(), entries: arr(obj({ key: str(), path: str() }, ["key"])) }, ["secretName"]);
/** A PersistentVolumeClaim as used in volumeClaimTemplates. */
const claim = k8s("v1/PersistentVolumeClaim");

const nodeSet = obj(
    {
        name: str({ pattern: /^[a-zA-Z0-9-]+$/, maxLength: 23 }),
        config: freeform,
        count: int(0),
        resources: ecResources,
        zoneAwareness: obj({ topologyKey: str(), zones: arr(str(), 1) }),
        podTemplate: k8s("v1/PodTemplateSpec"),
        volumeClaimTemplates: arr(claim),
    },
    ["name"],
);

const ELASTICSEARCH: Schema = obj(
    {
        apiVersion: str({ oneOf: ["elasticsearch.k8s.elastic.co/v1"] }),
        kind: str({ oneOf: ["Elasticsearch"] }),
        metadata,
        spec: obj(
            {
                version: str(),
                image: str(),
                remoteClusterServer: freeform,
                http: obj({ service: serviceTemplate, tls: obj({ selfSignedCertificate: freeform, certificate: secretRef, client: obj({ authentication: bool }) }) }),
                transport: obj({
                    service: serviceTemplate,
                    tls: obj({ otherNameSuffix: str(), subjectAltNames: freeform, certificate: secretRef, certificateAuthorities: obj({ configMapName: str() }), selfSignedCertificates: obj({ disabled: bool }) }),
                }),
                nodeSets: arr(nodeSet, 1),
                updateStrategy: obj({ changeBudget: obj({ maxUnavailable: int(), maxSurge: int() }) }),
                podDisruptionBudget: freeform,
                auth: freeform,
                secureSettings: arr(secretSource),
                serviceAccountName: str(),
                remoteClusters: freeform,
                volumeClaimDeletePolicy: str({ oneOf: ["DeleteOnScaledownOnly", "DeleteOnScaledownAndClusterDeletion"] }),
                monitoring: freeform,
                revisionHistoryLimit: int(),
            },
            ["version", "nodeSets"],
        ),
    },
    ["apiVersion", "kind", "metadata", "spec"],
);

const KIBANA: Schema = obj(
    {
        apiVersion: str({ oneOf: ["kibana.k8s.elastic.co/v1"] }),
        kind: str({ oneOf: ["Kibana"] }),
        metadata,
        spec: obj(
            {
                version: str(),
                image: str(),
                count: int(0),
                elasticsearchRef: freeform,
                packageRegistryRef: freeform,
                enterpriseSearchRef: freeform,
                config: freeform,
                http: httpConfig,
                resources: ecResources,
                podTemplate: k8s("v1/PodTemplateSpec"),
                revisionHistoryLimit: int(),
                secureSettings: arr(secretSource),
                serviceAccountName: str(),
                monitoring: freeform,
            },
            ["version"],
        ),
    },
    ["apiVersion", "kind", "metadata", "spec"],
);

const LOGSTASH: Schema = obj(
    {
        apiVersion: str({ oneOf: ["logstash.k8s.elastic.co/v1alpha1"] }),
        kind: str({ oneOf: ["Logstash"] }),
        metadata,
        spec: obj(
            {
                version: str(),
                count: int(0),
                image: str(),
                elasticsearchRefs: freeform,
                config: freeform,
                configRef: secretRef,
                pipelines: arr(freeform),
                pipelinesRef: secretRef,
                services: arr(obj({ name: str(), service: serviceTemplate, tls: tlsOptions })),
                monitoring: freeform,
                resources: ecResources,
                podTemplate: k8s("v1/PodTemplateSpec"),
                revisionHistoryLimit: int(),
                secureSettings: arr(secretSource),
                serviceAccountName: str(),
                updateStrategy: k8s("apps/v1/StatefulSetUpdateStrategy"),
                volumeClaimTemplates: arr(claim),
            },
            ["version"],
        ),
    },
    ["apiVersion", "kind", "metadata", "spec"],
);

const BY_KIND: Readonly<Record<string, Schema>> = { Elasticsearch: ELASTICSEARCH, Kibana: KIBANA, Logstash: LOGSTASH };

type ModelClass = new (data: object) => { validate(): void };

function check(v: unknown, s: Schema, at: string, errors: string[]): void {
    const fail = (problem: string) => errors.push(`${at || "(root)"}: ${problem}`);
    switch (s.t) {
        case "string":
            if (typeof v !== "string") return void fail(`must be a string, is ${JSON.stringify(v)}`);
            if (s.pattern && !s.pattern.test(v)) fail(`'${v}' does not match ${String(s.pattern)}`);
            if (s.maxLength !== undefined && v.length > s.maxLength) fail(`'${v}' is longer than ${s.maxLength}`);
            if (s.oneOf && !s.oneOf.includes(v)) fail(`'${v}' is not one of ${s.oneOf.join(", ")}`);
            return;
        case "int":
            if (typeof v !== "number" || !Number.isInteger(v)) return void fail(`must be an integer, is ${JSON.stringify(v)}`);
            if (s.min !== undefined && v < s.min) fail(`${v} is below ${s.min}`);
            return;
        case "bool":
            if (typeof v !== "boolean") fail(`must be a boolean, is ${JSON.stringify(v)}`);
            return;
        case "freeform":
            if (typeof v !== "object" || v === null || Array.isArray(v)) fail("must be an object");
            return;
        case "array":
            if (!Array.isArray(v)) return void fail("must be a list");
            if (s.minItems !== undefined && v.length < s.minItems) fail(`needs at least ${s.minItems} item(s)`);
            v.forEach((x, i) => check(x, s.items, `${at}[${i}]`, errors));
            return;
        case "object": {
            if (typeof v !== "object" || v === null || Array.isArray(v)) return void fail("must be an object");
            const o = v as Record<string, unknown>;
            for (const r of s.required ?? []) if (o[r] === undefined) fail(`lacks required field '${r}'`);
            for (const [k, x] of Object.entries(o)) {
                if (x === undefined) continue;
                const sub = s.props[k];
                if (!sub) fail(`unknown field '${k}'`);
                else check(x, sub, at ? `${at}.${k}` : k, errors);
            }
            return;
        }
        case "k8s": {
            const name = s.model.slice(s.model.lastIndexOf("/") + 1);
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const Model = (require(`kubernetes-models/${s.model}`) as Record<string, ModelClass>)[name];
            try {
                new Model(v as object).validate();
            } catch (e) {
                fail(`not a valid ${name}: ${(e as Error).message}`);
            }
            return;
        }
    }
}

/** Errors of an ECK custom resource against the pinned operator's API; empty when it conforms. */
export function eckSchemaErrors(doc: Record<string, unknown>): string[] {
    const schema = BY_KIND[String(doc.kind)];
    if (!schema) return [`no ECK schema for kind ${String(doc.kind)}`];
    const errors: string[] = [];
    check(JSON.parse(JSON.stringify(doc)) as unknown, schema, "", errors);
    return errors;
}
