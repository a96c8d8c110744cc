/** The Kibana component: turns the Kibana spec (components/model/kibana.ts) into resources on a platform. */
import * as pulumi from "@pulumi/pulumi";
import type { InstanceCertificate } from "./certificates";
import type { CpuSettings } from "../model/config";
import { type PlacedJob, type Platform } from "../model/spec";
import { type KibanaSpecInput, kibanaSpec } from "../model/kibana";

/** Arguments of {@link Kibana}. */
export interface KibanaArgs {
    /** Where Kibana runs. */
    platform: Platform;
    /** Elastic release, e.g. "9.4.1". */
    version: string;
    /** Instance name; must be a DNS name in `certificate`. */
    name: string;
    /** Node.js old-space limit, MiB; unset, Node.js sizes it from the container's memory limit. */
    heapMb?: number;
    /** Container memory limit, MiB. */
    memoryMb: number;
    /** CPU request and limit, millicores (Kubernetes). */
    cpu?: CpuSettings;
    /** Host port Kibana's HTTPS is published on (Docker); unpublished when unset. */
    hostPort?: number;
    /** Elasticsearch URLs inside the stack. */
    elasticsearchHosts: string[];
    /** URL people open. */
    publicBaseUrl: string;
    /** Kibana's server certificate, from the stack's CA. */
    certificate: InstanceCertificate;
    /**
     * Password of kibana_system (secret); the bootstrap must have set it. Leave it unset on a platform whose operator
     * issues Kibana's credentials (`platform.kibanaAuth` `operator`, the eck engine): it is refused there.
     */
    kibanaSystemPassword?: pulumi.Input<string>;
    /** Encryption keys, each at least 32 characters (secrets). */
    encryptionKeys: KibanaSpecInput["encryptionKeys"];
    /** Steps that must have succeeded first (the bootstrap). */
    after: PlacedJob[];
}

/** Kibana, serving HTTPS with its own certificate and reaching Elasticsearch over verified TLS. */
export class Kibana extends pulumi.ComponentResource {
    /** Resource to depend on for "Kibana is up". */
    readonly ready: pulumi.Resource;

    constructor(name: string, args: KibanaArgs, opts?: pulumi.ComponentResourceOptions) {
        super("elk:index:Kibana", name, {}, opts);
        const spec = kibanaSpec({
            name: args.name,
            elasticsearchHosts: args.elasticsearchHosts,
            publicBaseUrl: args.publicBaseUrl,
            auth: args.platform.kibanaAuth,
            version: args.version,
            heapMb: args.heapMb,
            memoryMb: args.memoryMb,
            cpu: args.cpu ?? { requestMillis: 500, limitMillis: 1000 },
            hostPort: args.hostPort,
            tls: { caCertPem: args.certificate.caCertPem, certPem: args.certificate.certPem, keyPem: args.certificate.privateKeyPem },
            kibanaSystemPassword: args.kibanaSystemPassword,
            encryptionKeys: args.encryptionKeys,
        });
        this.ready = args.platform.runService(spec, { parent: this, after: args.after }).ready;
        this.registerOutputs({});
    }
}
