/** The Elasticsearch component: turns the node spec (components/model/elasticsearch.ts) into resources on a platform. */
import * as pulumi from "@pulumi/pulumi";
import type { InstanceCertificate } from "./certificates";
import type { CpuSettings } from "../model/config";
import { type ObjectStoreSettings } from "../model/snapshots";
import { type HostStep, type Platform } from "../model/spec";
import { ES_HTTP_PORT, ES_TRANSPORT_PORT, elasticsearchSpec } from "../model/elasticsearch";

/** Arguments of {@link Elasticsearch}. */
export interface ElasticsearchArgs {
    /** Where to run. */
    platform: Platform;
    /** Elastic release, e.g. "9.4.1". */
    version: string;
    /** Elasticsearch `cluster.name`. */
    clusterName: string;
    /** Instance name; must be a DNS name in `certificate`. Cluster nodes are named after it by the platform. */
    nodeName: string;
    /** 1 for a single node; 3 or more for a cluster of master-eligible data nodes. */
    nodeCount?: number;
    /** JVM heap, MiB (-Xms and -Xmx); at most half of `memoryMb`. */
    heapMb: number;
    /** Memory limit of each node's container, MiB. */
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
    /** The object store of the snapshot repository, and its client's credentials (secrets) for the keystore. */
    objectStore?: { settings: ObjectStoreSettings; credentials: pulumi.Input<string>[] };
    /**
     * Whether this cluster has formed before: true once an earlier update of the stack saw the bootstrap succeed
     * against it (see `clusterFormation` in components/resources/elkStack.ts). Unset or false, the nodes keep
     * `cluster.initial_master_nodes` (ignored by any node that already holds cluster state).
     */
    clusterFormed?: pulumi.Input<boolean>;
    /** The CA of {@link transportCertificate}, for platforms that issue per-node transport certificates from it. */
    transportCa?: { certPem: pulumi.Input<string>; privateKeyPem: pulumi.Input<string> };
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
            formed: args.clusterFormed,
            objectStore: args.objectStore?.settings,
            objectStoreCredentials: args.objectStore?.credentials,
            transportCa: args.transportCa ? { certPem: args.transportCa.certPem, keyPem: args.transportCa.privateKeyPem } : undefined,
        });
        const placed = args.platform.runService(spec, { parent: this, hostSteps: args.kernelStep ? [args.kernelStep] : [] });
        this.ready = placed.ready;
        this.internalUrl = pulumi.output(`https://${args.platform.internalHost(args.nodeName)}:${ES_HTTP_PORT}`);
        this.registerOutputs({ internalUrl: this.internalUrl });
    }
}
