/**
 * The ElkStack component as the plugin offers it to every Pulumi language: the arguments of ./args.ts in, the
 * library's ElkStack (components/resources/elkStack.ts) built from them as its one child, and that stack's outputs out.
 */
import * as pulumi from "@pulumi/pulumi";
import { ElkStack as Stack } from "../components/resources/elkStack";
import { ArgumentError, type ElkStackArgs, convertArgs } from "./args";

export type { ElkStackArgs, LogSource } from "./args";

/** How to reach Logstash from the applications that send it logs. */
export interface LogstashEndpoints {
    /** Where nginx sends syslog: `host:port` over UDP. */
    nginxSyslog: string;
    /** Where each Django source sends RFC 5424 over TLS: source name to `host:port`. */
    django: Record<string, string>;
}

/** The snapshot repository and lifecycle policy of the stack. */
export interface SnapshotInfo {
    /** Repository name; absent when the stack has none. */
    repository?: string;
    /** Lifecycle policy name; absent when the schedule is off. */
    policy?: string;
    /** off, hourly, daily or weekly. */
    schedule: string;
    /** Hours between scheduled snapshots; absent when off. */
    intervalHours?: number;
    /** Days a scheduled snapshot is kept. */
    retentionDays: number;
}

/** When the stack's certificates expire, and when a `pulumi up` renews them. */
export interface CertificateExpiry {
    /** The earliest expiry of the CA and instance certificates (ISO 8601). */
    earliestExpiry?: string;
    /** A `pulumi up` this many days or fewer before expiry issues new certificates. */
    renewBeforeDays: number;
}

/**
 * A secure Elasticsearch, Logstash and Kibana stack on Docker or Kubernetes: CA and certificates, the kernel step,
 * Elasticsearch, the bootstrap of users and roles, Kibana and Logstash, with TLS on every connection between them.
 */
export class ElkStack extends pulumi.ComponentResource {
    /** Elasticsearch HTTPS URL for people and tools on the host. */
    readonly elasticsearchUrl: pulumi.Output<string>;
    /** Kibana HTTPS URL. */
    readonly kibanaUrl: pulumi.Output<string>;
    /** CA certificate (PEM) every client needs to trust the stack. */
    readonly caCertPem: pulumi.Output<string>;
    /** Password of the elastic superuser (secret). */
    readonly elasticPassword: pulumi.Output<string>;
    /** Where applications send logs. */
    readonly logstashEndpoints: pulumi.Output<LogstashEndpoints>;
    /** The nginx and Django configuration of each log source: file name to content. */
    readonly wiring: pulumi.Output<Record<string, string>>;
    /** The snapshot repository and lifecycle policy. */
    readonly snapshots: pulumi.Output<SnapshotInfo>;
    /** The earliest certificate expiry and the renewal window. */
    readonly certificateExpiry: pulumi.Output<CertificateExpiry>;

    constructor(name: string, args: ElkStackArgs, opts?: pulumi.ComponentResourceOptions) {
        super("elk:index:ElkStack", name, {}, opts);
        let converted: ReturnType<typeof convertArgs>;
        try {
            converted = convertArgs(args as unknown as Record<string, unknown>, { project: pulumi.getProject(), stack: pulumi.getStack() });
        } catch (e) {
            // Shown without a stack trace, against this resource.
            if (e instanceof ArgumentError) throw new pulumi.ResourceError(`ElkStack ${name}: ${e.message}`, this, true);
            throw e;
        }
        const stack = new Stack(name, converted, { parent: this });
        this.elasticsearchUrl = stack.elasticsearchUrl;
        this.kibanaUrl = stack.kibanaUrl;
        this.caCertPem = stack.caCertPem;
        this.elasticPassword = stack.elasticPassword;
        this.logstashEndpoints = stack.logstashEndpoints.apply((e) => ({ nginxSyslog: e.nginxSyslog, django: { ...e.django } }));
        this.wiring = stack.wiring;
        this.snapshots = stack.snapshots;
        this.certificateExpiry = stack.certificateExpiry;
        this.registerOutputs({
            elasticsearchUrl: this.elasticsearchUrl,
            kibanaUrl: this.kibanaUrl,
            caCertPem: this.caCertPem,
            elasticPassword: this.elasticPassword,
            logstashEndpoints: this.logstashEndpoints,
            wiring: this.wiring,
            snapshots: this.snapshots,
            certificateExpiry: this.certificateExpiry,
        });
    }
}
