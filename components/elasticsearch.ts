import * as pulumi from "@pulumi/pulumi";
import YAML from "yaml";
import type { InstanceCertificate } from "./certificates";
import type { CpuSettings } from "./config";
import { SNAPSHOT_PATH } from "./snapshots";
import { keystoreStart } from "./shellScripts";
import { type HealthCheckSpec, type HostStep, type Platform, type ServiceSizing, type ServiceSpec, type TlsMaterial, publicFile, secretFile, tlsFiles } from "./spec";

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
                  // Read only when the cluster forms for the first time; harmless afterwards.
                  "cluster.initial_master_nodes": [...input.masterNodes],
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
        "ingest.geoip.downloader.enabled": false,
    };
}

/** elasticsearch.yml as text. */
export function elasticsearchYml(input: ElasticsearchYmlInput): string {
    return `# Generated by elk-stack. Changes are overwritten on the next \`pulumi up\`.\n${YAML.stringify(elasticsearchSettings(input))}`;
}

/**
 * A health check that passes only when Elasticsearch answers on HTTPS with a certificate the CA vouches for
 * under the name `localhost`. 401 is healthy: it proves TLS and the security layer are up, and the check
 * needs no password (which would otherwise sit in the container's config in plain text).
 */
export function elasticsearchHealthCheck(caPath: string): HealthCheckSpec {
    return {
        command: `code=$(curl -s -o /dev/null -w '%{http_code}' --cacert ${caPath} https://localhost:${ES_HTTP_PORT}/) && { [ "$code" = 200 ] || [ "$code" = 401 ]; }`,
        // Any HTTP answer at all: the node's HTTP layer is alive even while the cluster elects a master.
        aliveCommand: `curl -s -o /dev/null --max-time 5 --cacert ${caPath} https://localhost:${ES_HTTP_PORT}/`,
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
}

/** The container of one Elasticsearch node. Pure. */
export function elasticsearchSpec(input: ElasticsearchSpecInput): ServiceSpec {
    // The elastic user's password, as the image's own entrypoint sets it from ELASTIC_PASSWORD: `bootstrap.password`
    // in the keystore, which the reserved realm accepts for elastic until a password is set through the API (the
    // bootstrap never does). Filled from a file by the start script, so it never sits in an environment.
    const start = keystoreStart({
        service: "elasticsearch",
        dir: ES_START_DIR,
        secrets: { "bootstrap.password": { description: "password of the elastic superuser", value: input.elasticPassword } },
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
            publicFile(`${ES_CONFIG_DIR}/elasticsearch.yml`, elasticsearchYml(input)),
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
        healthCheck: elasticsearchHealthCheck(`${ES_CERT_DIR}/ca.crt`),
        memoryMb: input.memoryMb,
        cpu: input.cpu,
        replicas: input.masterNodes.length,
        // Closing shards and flushing translogs on a busy node takes seconds to a minute; a kill mid-write means
        // translog replay (or worse) on the next start.
        stopGraceSeconds: 120,
    };
}

/** Arguments of {@link Elasticsearch}. */
export interface ElasticsearchArgs {
    /** Where to run. */
    platform: Platform;
    /** Elastic release, e.g. "9.4.1". */
    version: string;
    clusterName: string;
    /** Instance name; must be a DNS name in `certificate`. Cluster nodes are named after it by the platform. */
    nodeName: string;
    /** 1 for a single node; 3 or more for a cluster of master-eligible data nodes. */
    nodeCount?: number;
    heapMb: number;
    memoryMb: number;
    /** CPU request and limit per node, millicores (Kubernetes). */
    cpu?: CpuSettings;
    /** Data volume per node, GiB (Kubernetes). */
    storageGb?: number;
    /** Publish HTTPS on this host port (Docker). */
    hostPort?: number;
    /** The node's HTTP certificate, from the stack's CA. */
    certificate: InstanceCertificate;
    /** The node's transport certificate (purpose `peer`), from a CA that signs nothing else. */
    transportCertificate: InstanceCertificate;
    /** Password of the elastic superuser (secret). */
    elasticPassword: pulumi.Input<string>;
    /** The kernel step, when the host needs it: Elasticsearch starts only after it succeeded. */
    kernelStep?: HostStep;
    /** Mount a shared volume for the snapshot repository and allow it in `path.repo`. */
    snapshotVolume?: { sizeGb: number; storageClass?: string };
}

/** Elasticsearch, one node or a cluster, with TLS on HTTP and transport and security on. */
export class Elasticsearch extends pulumi.ComponentResource {
    /** URL other services of the stack use (verifies against the CA under the node name). */
    readonly internalUrl: pulumi.Output<string>;
    /** The instance name. */
    readonly nodeName: string;
    /** Names of the nodes. */
    readonly nodeNames: readonly string[];
    /** Resource to depend on for "Elasticsearch is up and healthy". */
    readonly ready: pulumi.Resource;

    constructor(name: string, args: ElasticsearchArgs, opts?: pulumi.ComponentResourceOptions) {
        super("elk:index:Elasticsearch", name, {}, opts);
        this.nodeName = args.nodeName;
        const nodeCount = args.nodeCount ?? 1;
        if (nodeCount === 2 || nodeCount < 1) {
            throw new Error(`Elasticsearch ${args.nodeName}: ${nodeCount} nodes cannot keep a master; use 1, or 3 and more`);
        }
        this.nodeNames = args.platform.memberNames(args.nodeName, nodeCount);
        const spec = elasticsearchSpec({
            clusterName: args.clusterName,
            nodeName: args.nodeName,
            masterNodes: this.nodeNames,
            seedHosts: nodeCount > 1 ? [`${args.platform.discoveryHost(args.nodeName)}:${ES_TRANSPORT_PORT}`] : undefined,
            version: args.version,
            heapMb: args.heapMb,
            memoryMb: args.memoryMb,
            cpu: args.cpu ?? { requestMillis: 1000, limitMillis: 2000 },
            storageGb: args.storageGb ?? 30,
            hostPort: args.hostPort,
            tls: { caCertPem: args.certificate.caCertPem, certPem: args.certificate.certPem, keyPem: args.certificate.privateKeyPem },
            transportTls: {
                caCertPem: args.transportCertificate.caCertPem,
                certPem: args.transportCertificate.certPem,
                keyPem: args.transportCertificate.privateKeyPem,
            },
            elasticPassword: args.elasticPassword,
            snapshotRepository: args.snapshotVolume !== undefined,
            snapshotVolume: args.snapshotVolume,
        });
        const placed = args.platform.runService(spec, { parent: this, hostSteps: args.kernelStep ? [args.kernelStep] : [] });
        this.ready = placed.ready;
        this.internalUrl = pulumi.output(`https://${args.platform.internalHost(args.nodeName)}:${ES_HTTP_PORT}`);
        this.registerOutputs({ internalUrl: this.internalUrl });
    }
}
