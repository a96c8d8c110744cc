/** The Logstash component: turns the Logstash spec and pipelines (components/model/logstash.ts) into resources on a platform. */
import * as pulumi from "@pulumi/pulumi";
import type { InstanceCertificate } from "./certificates";
import type { CpuSettings } from "../model/config";
import { type LogSource, logstashPipelines } from "../model/sources";
import { type PlacedJob, type Platform, type PortSpec } from "../model/spec";
import { logstashSpec } from "../model/logstash";

/** Arguments of {@link Logstash}. */
export interface LogstashArgs {
    /** Where Logstash runs. */
    platform: Platform;
    /** Elastic release, e.g. "9.4.1". */
    version: string;
    /** Instance name; must be a DNS name in `certificate`. */
    name: string;
    /** JVM heap, MiB (-Xms and -Xmx); at most 75% of `memoryMb`. */
    heapMb: number;
    /** Container memory limit, MiB. */
    memoryMb: number;
    /** CPU request and limit per replica, millicores (Kubernetes). */
    cpu?: CpuSettings;
    /** Replicas (Kubernetes); Docker runs one. */
    replicas?: number;
    /** Persistent queue volume per replica, GiB (Kubernetes). */
    storageGb?: number;
    /**
     * Events written to each persistent queue between fsyncs (`queue.checkpoint.writes`, default 1024): at most this
     * many accepted events can be lost if the host crashes; 1 syncs every event.
     */
    queueCheckpointWrites?: number;
    /** Elasticsearch URL inside the stack. */
    elasticsearchUrl: string;
    /** User Logstash writes to Elasticsearch as (the bootstrap creates it). */
    writerUser: string;
    /** That user's password (secret). */
    writerPassword: pulumi.Input<string>;
    /** Data stream namespace events are written under (`logs-<dataset>-<environment>`). */
    environment: string;
    /** Services that send logs: they decide the pipelines' inputs and the ports. */
    sources: readonly LogSource[];
    /** Folder of the static pipeline files and patterns; this repository's `pipelines/` by default. */
    pipelinesDir?: string;
    /** Ports the pipelines listen on, with their host ports. */
    ports: PortSpec[];
    /** Logstash's server certificate (the Django handler verifies it), from the stack's CA. */
    certificate: InstanceCertificate;
    /** Steps that must have succeeded first (the bootstrap that creates the writer user). */
    after: PlacedJob[];
}

/** Logstash running the repository's pipelines and writing to Elasticsearch over verified TLS as its own user. */
export class Logstash extends pulumi.ComponentResource {
    /** Resource to depend on for "Logstash is up". */
    readonly ready: pulumi.Resource;

    constructor(name: string, args: LogstashArgs, opts?: pulumi.ComponentResourceOptions) {
        super("elk:index:Logstash", name, {}, opts);
        const spec = logstashSpec({
            name: args.name,
            version: args.version,
            heapMb: args.heapMb,
            memoryMb: args.memoryMb,
            cpu: args.cpu ?? { requestMillis: 500, limitMillis: 1000 },
            replicas: args.replicas ?? 1,
            storageGb: args.storageGb ?? 5,
            queueCheckpointWrites: args.queueCheckpointWrites,
            elasticsearchUrl: args.elasticsearchUrl,
            writerUser: args.writerUser,
            writerPassword: args.writerPassword,
            environment: args.environment,
            pipelines: logstashPipelines(args.sources, args.pipelinesDir),
            ports: args.ports,
            tls: { caCertPem: args.certificate.caCertPem, certPem: args.certificate.certPem, keyPem: args.certificate.privateKeyPemPkcs8 },
        });
        this.ready = args.platform.runService(spec, { parent: this, after: args.after }).ready;
        this.registerOutputs({});
    }
}
