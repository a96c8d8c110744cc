/** Elasticsearch as data: elasticsearch.yml, the readiness check, and the platform-neutral spec of its nodes. */
import * as pulumi from "@pulumi/pulumi";
import YAML from "yaml";
import { type ObjectStoreSettings, SNAPSHOT_PATH, objectStoreClientSettings, objectStoreSecureSettings } from "./snapshots";
import { keystoreStart, secretFilePath } from "./shellScripts";
import { type HealthCheckSpec, type ServiceSizing, type ServiceSpec, type TlsMaterial, publicFile, secretFile, tlsFiles } from "./spec";

/** Where the Elasticsearch image keeps its configuration. */
export const ES_CONFIG_DIR = "/usr/share/elasticsearch/config";
/** Where certificates go inside the Elasticsearch container (relative paths in elasticsearch.yml resolve here). */
export const ES_CERT_DIR = `${ES_CONFIG_DIR}/certs`;
/** Elasticsearch HTTP port inside the stack. */
export const ES_HTTP_PORT = 9200;
/** Elasticsearch transport port inside the stack. */
export const ES_TRANSPORT_PORT = 9300;
/** User id and group of the official Elasticsearch image. */
export const ES_RUN_AS = { uid: 1000, gid: 0 };
/** Files of the transport layer in {@link ES_CERT_DIR}: its own CA, apart from the HTTP layer's `ca.crt`. */
export const ES_TRANSPORT_FILES = { ca: "transport-ca.crt", certificate: "transport.crt", key: "transport.key" } as const;
/** Where the keystore start script and the password file go inside the Elasticsearch container. */
export const ES_START_DIR = `${ES_CONFIG_DIR}/elk-start`;
/** The keystore setting that carries the elastic user's password (the reserved realm's bootstrap password). */
export const ES_ELASTIC_PASSWORD_SETTING = "bootstrap.password";
/**
 * The image's entrypoint and command (ENTRYPOINT ["/bin/tini", "--", "/usr/local/bin/docker-entrypoint.sh"],
 * CMD ["eswrapper"], as docker-library/repo-info repos/elasticsearch/remote/*.md records for the 8.x and later
 * images), run by the start script once the keystore holds the password.
 */
export const ES_IMAGE_INIT = ["/bin/tini", "--"] as const;
export const ES_IMAGE_COMMAND = ["/usr/local/bin/docker-entrypoint.sh", "eswrapper"] as const;
/** Environment variable holding the node's own name where several nodes share one spec (Kubernetes pods). */
export const ES_NODE_NAME_ENV = "ELK_NODE_NAME";

/** Inputs of {@link elasticsearchYml}. */
export interface ElasticsearchYmlInput {
    readonly clusterName: string;
    /** Name of the instance: its certificate files are named after it. */
    readonly nodeName: string;
    /**
     * Every master-eligible node's name. One name means single-node discovery; more means a cluster that
     * discovers its peers through `seedHosts`.
     */
    readonly masterNodes: readonly string[];
    /** Transport addresses of the peers (multi-node only). */
    readonly seedHosts?: readonly string[];
    /** Whether the nodes mount the snapshot repository's file system (and list it in `path.repo`). */
    readonly snapshotRepository?: boolean;
    /** The object store of the snapshot repository: its client's non-secret settings go into elasticsearch.yml. */
    readonly objectStore?: ObjectStoreSettings;
    /**
     * Whether this cluster has formed before (see {@link ElasticsearchArgs.clusterFormed}): its nodes then start
     * without `cluster.initial_master_nodes`.
     */
    readonly clusterFormed?: boolean;
}

/** The settings elasticsearch.yml gets, as a flat map of Elastic's dotted setting names. */
export function elasticsearchSettings(input: ElasticsearchYmlInput): Record<string, unknown> {
    const single = input.masterNodes.length === 1;
    // Several nodes share one spec: each reads its own name (the pod name) from the environment.
    const ownName = single ? input.nodeName : `\${${ES_NODE_NAME_ENV}}`;
    const tls = (prefix: string, files: { ca: string; certificate: string; key: string }) => ({
        [`${prefix}.enabled`]: true,
        [`${prefix}.key`]: `certs/${files.key}`,
        [`${prefix}.certificate`]: `certs/${files.certificate}`,
        [`${prefix}.certificate_authorities`]: [`certs/${files.ca}`],
    });
    return {
        "cluster.name": input.clusterName,
        "node.name": ownName,
        "network.host": "0.0.0.0",
        "http.port": ES_HTTP_PORT,
        "transport.port": ES_TRANSPORT_PORT,
        ...(single
            ? { "discovery.type": "single-node" }
            : {
                  "discovery.seed_hosts": [...(input.seedHosts ?? [])],
                  // Only for the very first election. Once the cluster has formed it must go: a node that lost its
                  // data but still has the setting could bootstrap a second, empty cluster (Elasticsearch warns about
                  // it at every start); without it such a node joins the existing cluster through the seed hosts.
                  ...(input.clusterFormed ? {} : { "cluster.initial_master_nodes": [...input.masterNodes] }),
              }),
        "xpack.security.enabled": true,
        // Enrollment tokens are for clusters that generate their own certificates; ours come from the stack's CA.
        "xpack.security.enrollment.enabled": false,
        ...tls("xpack.security.http.ssl", { ca: "ca.crt", certificate: `${input.nodeName}.crt`, key: `${input.nodeName}.key` }),
        // Transport trusts its own CA only, which signs nothing but Elasticsearch's transport certificates: a Kibana,
        // Logstash or HTTP certificate of the stack is refused as a peer (settings as documented in elastic/elasticsearch
        // docs/reference/elasticsearch/configuration-reference/security-settings.md, "Transport TLS/SSL settings").
        ...tls("xpack.security.transport.ssl", ES_TRANSPORT_FILES),
        // Nodes must prove who they are to each other with a certificate from the transport CA. A single node checks
        // names too. Cluster nodes dial each other by pod IP, which no certificate issued before the pod exists can
        // name, so hostname checks would refuse every peer (elastic/elasticsearch#32729); the transport CA and mutual
        // TLS below are what keeps strangers out.
        "xpack.security.transport.ssl.verification_mode": single ? "full" : "certificate",
        "xpack.security.transport.ssl.client_authentication": "required",
        "xpack.license.self_generated.type": "basic",
        // A file-system repository may only be registered at a path listed here.
        ...(input.snapshotRepository ? { "path.repo": [SNAPSHOT_PATH] } : {}),
        ...(input.objectStore ? objectStoreClientSettings(input.objectStore) : {}),
        "ingest.geoip.downloader.enabled": false,
    };
}

/** elasticsearch.yml as text. */
export function elasticsearchYml(input: ElasticsearchYmlInput): string {
    return `# Generated by elk-stack. Changes are overwritten on the next \`pulumi up\`.\n${YAML.stringify(elasticsearchSettings(input))}`;
}

/** What {@link elasticsearchReadinessCommand} asks of the cluster before a freshly started node counts as ready. */
export type ReadinessLevel = "green" | "yellow";

/**
 * The cluster health a node waits for after each start: green when there are replicas to recover (a cluster),
 * yellow on a single node, whose replicas can never be assigned (its primaries recovered is all there is).
 */
export function readinessLevel(nodeCount: number): ReadinessLevel {
    return nodeCount > 1 ? "green" : "yellow";
}

/** Where the readiness command notes that this container has once seen the cluster healthy. */
export const READY_ONCE_MARKER = "/tmp/elk-ready-once";

/** Inputs of {@link elasticsearchReadinessCommand}. */
export interface ReadinessCommandInput {
    readonly caPath: string;
    /** Base URL of the node itself. */
    readonly url: string;
    readonly level: ReadinessLevel;
    /** File whose absence means "this container has not yet been ready". */
    readonly marker: string;
    /** File holding the elastic user's password (the start script's `bootstrap.password` file). */
    readonly passwordFile: string;
}

/**
 * Kubernetes readiness of an Elasticsearch node, gated on the cluster's health once per container start.
 *
 * Why: a StatefulSet's rolling update restarts the next pod as soon as the previous one is Ready. Ready on "HTTP
 * answers" lets it restart the next node while the last one's shard copies are still recovering, and two
 * nodes' copies gone can turn the cluster red. So until this container has seen the cluster at `level` (green
 * in a cluster: every replica assigned again), it is not ready, and the roll waits.
 *
 * Once seen, it notes that in `marker` (in the container's own file system, which a restarted container does
 * not keep) and from then on only asks the node to answer. A cluster that turns yellow later (another node
 * lost) must not take every node out of the Service: clients would lose the cluster they can still use.
 *
 * The very first start cannot deadlock: nodes find each other through the headless Service, which publishes
 * pods before they are ready, and start in parallel (`Parallel` pod management), so the cluster forms without
 * any pod being ready; a new cluster holds no shards and is green as soon as a master is elected (503 before
 * that: not ready, retried). The credentials are the elastic user's, read from the file the start script puts into
 * the keystore as `bootstrap.password` before the node starts: nothing the bootstrap creates later. The password
 * goes to curl on its standard input (a config file `-K -`), never in a command line or an environment; the
 * shared validator refuses CR, LF and NUL in it, and backslash and quote are escaped.
 *
 * An operator can release a node that waits for a health the cluster will not reach (an index whose replicas
 * cannot be placed) with `kubectl exec POD -- touch MARKER`. Elastic's Helm chart gates its readiness the same
 * way, with a start file in /tmp (elastic/helm-charts elasticsearch/templates/statefulset.yaml), but passes the
 * password to curl as an argument.
 */
export function elasticsearchReadinessCommand(input: ReadinessCommandInput): string {
    const statuses = input.level === "green" ? "green" : "green|yellow";
    const curlTls = `--cacert ${input.caPath}`;
    return [
        `if [ -f ${input.marker} ]; then`,
        `  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 ${curlTls} ${input.url}/) && { [ "$code" = 200 ] || [ "$code" = 401 ]; }; exit $?`,
        `fi`,
        `pw=$(cat '${input.passwordFile}') || exit 1`,
        // curl's config syntax: inside double quotes, backslash and quote are escaped with a backslash.
        `esc=$(printf '%s' "$pw" | sed 's/[\\\\"]/\\\\&/g')`,
        `body=$(printf 'user = "elastic:%s"\\n' "$esc" | curl -sf -K - --max-time 8 ${curlTls} '${input.url}/_cluster/health?wait_for_status=${input.level}&timeout=5s') || exit 1`,
        `case "$body" in *'"timed_out":false'*) ;; *) exit 1 ;; esac`,
        `case "$body" in ${statuses.split("|").map((s) => `*'"status":"${s}"'*`).join("|")}) ;; *) exit 1 ;; esac`,
        `touch ${input.marker}`,
    ].join("\n");
}

/**
 * A health check that passes only when Elasticsearch answers on HTTPS with a certificate the CA vouches for
 * under the name `localhost`. 401 is healthy: it proves TLS and the security layer are up, and the check
 * needs no password (which would otherwise sit in the container's config in plain text). On Kubernetes this
 * gates start-up only; readiness waits for the cluster's health (see {@link elasticsearchReadinessCommand}), and
 * there is no liveness probe: a node in a long garbage collection pause answers nothing for a while, and a
 * restart then would only add a recovery to the pause (Elastic's Helm chart has none either:
 * elastic/helm-charts elasticsearch/templates/statefulset.yaml).
 */
export function elasticsearchHealthCheck(caPath: string, nodeCount = 1): HealthCheckSpec {
    return {
        command: `code=$(curl -s -o /dev/null -w '%{http_code}' --cacert ${caPath} https://localhost:${ES_HTTP_PORT}/) && { [ "$code" = 200 ] || [ "$code" = 401 ]; }`,
        readinessCommand: elasticsearchReadinessCommand({ caPath, url: `https://localhost:${ES_HTTP_PORT}`, level: readinessLevel(nodeCount), marker: READY_ONCE_MARKER, passwordFile: secretFilePath(ES_START_DIR, "bootstrap.password") }),
        intervalSeconds: 10,
        timeoutSeconds: 10,
        retries: 30,
        startPeriodSeconds: 30,
    };
}

/** Inputs of {@link elasticsearchSpec}. */
export interface ElasticsearchSpecInput extends ElasticsearchYmlInput, ServiceSizing {
    /** HTTP layer: the stack CA, and the certificate clients verify. */
    readonly tls: TlsMaterial;
    /** Transport layer: the transport CA, and the node's peer certificate from it. */
    readonly transportTls: TlsMaterial;
    readonly elasticPassword: pulumi.Input<string>;
    /** Data volume of each node, GiB (Kubernetes). */
    readonly storageGb: number;
    /** The snapshot repository's shared volume, when the stack has one. */
    readonly snapshotVolume?: { readonly sizeGb: number; readonly storageClass?: string };
    /** Known only once the program runs: whether the cluster formed before (overrides `clusterFormed`). */
    readonly formed?: pulumi.Input<boolean>;
    /** The object store's credentials (secrets), in the order of `objectStoreSecureSettings`. */
    readonly objectStoreCredentials?: readonly pulumi.Input<string>[];
    /** The transport CA, for platforms that issue per-node transport certificates themselves (see ServiceSpec.issuingCa). */
    readonly transportCa?: { readonly certPem: pulumi.Input<string>; readonly keyPem: pulumi.Input<string> };
}

/** The keystore entries of the object store's client: each credential under its secure setting. */
export function objectStoreKeystore(store: ObjectStoreSettings, credentials: readonly pulumi.Input<string>[]): ServiceSpec["keystore"] {
    const settings = objectStoreSecureSettings(store.type);
    if (credentials.length !== settings.length) {
        throw new Error(`${store.type} repository: ${settings.length} credentials needed (${settings.map((x) => x.setting).join(", ")}), ${credentials.length} given`);
    }
    return {
        configDir: ES_CONFIG_DIR,
        tool: "/usr/share/elasticsearch/bin/elasticsearch-keystore",
        entries: settings.map((x, i) => ({ setting: x.setting, file: x.file, value: credentials[i] })),
    };
}

/** The container of one Elasticsearch node. Pure. */
export function elasticsearchSpec(input: ElasticsearchSpecInput): ServiceSpec {
    // The elastic user's password, as the image's own entrypoint sets it from ELASTIC_PASSWORD: `bootstrap.password`
    // in the keystore, which the reserved realm accepts for elastic until a password is set through the API (the
    // bootstrap never does). Filled from a file by the start script, so it never sits in an environment.
    const start = keystoreStart({
        service: "elasticsearch",
        dir: ES_START_DIR,
        secrets: { [ES_ELASTIC_PASSWORD_SETTING]: { description: "password of the elastic superuser", value: input.elasticPassword } },
        init: ES_IMAGE_INIT,
        command: ES_IMAGE_COMMAND,
    });
    return {
        kind: "service",
        name: input.nodeName,
        description: "Elasticsearch node",
        role: "elasticsearch",
        image: `docker.elastic.co/elasticsearch/elasticsearch:${input.version}`,
        entrypoint: start.entrypoint,
        env: { ES_JAVA_OPTS: `-Xms${input.heapMb}m -Xmx${input.heapMb}m`, ...start.env },
        instanceNameEnv: input.masterNodes.length > 1 ? ES_NODE_NAME_ENV : undefined,
        files: [
            ...start.files,
            publicFile(`${ES_CONFIG_DIR}/elasticsearch.yml`, input.formed === undefined ? elasticsearchYml(input) : pulumi.output(input.formed).apply((f) => elasticsearchYml({ ...input, clusterFormed: f }))),
            ...tlsFiles(ES_CERT_DIR, input.nodeName, input.tls),
            publicFile(`${ES_CERT_DIR}/${ES_TRANSPORT_FILES.ca}`, input.transportTls.caCertPem),
            publicFile(`${ES_CERT_DIR}/${ES_TRANSPORT_FILES.certificate}`, input.transportTls.certPem),
            secretFile(`${ES_CERT_DIR}/${ES_TRANSPORT_FILES.key}`, input.transportTls.keyPem),
        ],
        runAs: ES_RUN_AS,
        privileged: false,
        ports: [
            { name: "https", containerPort: ES_HTTP_PORT, protocol: "tcp", hostPort: input.hostPort },
            { name: "transport", containerPort: ES_TRANSPORT_PORT, protocol: "tcp" },
        ],
        volumes: [
            { name: "data", mountPath: "/usr/share/elasticsearch/data", durable: true, sizeGb: input.storageGb },
            ...(input.snapshotVolume
                ? [{ name: "snapshots", mountPath: SNAPSHOT_PATH, durable: true, sizeGb: input.snapshotVolume.sizeGb, shared: { storageClass: input.snapshotVolume.storageClass } }]
                : []),
        ],
        healthCheck: elasticsearchHealthCheck(`${ES_CERT_DIR}/ca.crt`, input.masterNodes.length),
        memoryMb: input.memoryMb,
        cpu: input.cpu,
        replicas: input.masterNodes.length,
        // Closing shards and flushing translogs on a busy node takes seconds to a minute; a kill mid-write means
        // translog replay (or worse) on the next start.
        stopGraceSeconds: 120,
        keystore: input.objectStore ? objectStoreKeystore(input.objectStore, input.objectStoreCredentials ?? []) : undefined,
        issuingCa: input.transportCa,
    };
}
