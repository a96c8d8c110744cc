/** The bootstrap step as a component: runs the bootstrap plan (components/model/bootstrap.ts) against Elasticsearch once it is healthy. */
import * as pulumi from "@pulumi/pulumi";
import { type PlacedJob, type Platform } from "../model/spec";
import { BOOTSTRAP_DEADLINE_SECONDS, BOOTSTRAP_DIR, BOOTSTRAP_ENV, BOOTSTRAP_SECRETS, type BootstrapRequest, bootstrapPlan, bootstrapPlanFiles, curlScriptJob } from "../model/bootstrap";

/** Arguments of {@link Bootstrap}. */
export interface BootstrapArgs {
    /** Where the step runs (Docker or Kubernetes). */
    platform: Platform;
    /** Elastic release; the script runs in the Elasticsearch image, which has bash and curl. */
    version: string;
    /** Instance name of the step. */
    name: string;
    /** Elasticsearch URL inside the stack. */
    elasticsearchUrl: string;
    /** The stack CA's certificate (PEM): the step verifies Elasticsearch against it. */
    caCertPem: pulumi.Input<string>;
    /** Password of the `elastic` superuser the step authenticates as (secret). */
    elasticPassword: pulumi.Input<string>;
    /**
     * Password the step sets for the built-in `kibana_system` user (secret). Unset where that user does not exist
     * and Kibana authenticates otherwise (the eck engine): the step then names no such user.
     */
    kibanaSystemPassword?: pulumi.Input<string>;
    /** Password the step sets for Logstash's writer user (secret). */
    logstashWriterPassword: pulumi.Input<string>;
    /** Name of the least-privilege user Logstash writes as, created by the step. */
    logstashUser: string;
    /** Name of that user's role, created by the step. */
    logstashRole: string;
    /** Index patterns the role may create and write (the environment's log data streams). */
    logstashIndexPatterns: string[];
    /** More requests to run after users and roles (index templates, lifecycle policies). */
    extraRequests?: readonly BootstrapRequest[];
    /** Elasticsearch must be ready first. */
    elasticsearchReady: pulumi.Resource;
}

/**
 * Sets the kibana_system password (unless none is given) and creates Logstash's least-privilege role and user, once
 * Elasticsearch is healthy. On Docker a one-shot container; on Kubernetes a Job. It runs again whenever what it sets changes.
 */
export class Bootstrap extends pulumi.ComponentResource {
    /** The finished step; Kibana and Logstash wait for it to have succeeded. */
    readonly step: PlacedJob;
    /** The requests it makes. */
    readonly plan: readonly BootstrapRequest[];

    constructor(name: string, args: BootstrapArgs, opts?: pulumi.ComponentResourceOptions) {
        super("elk:index:Bootstrap", name, {}, opts);
        this.plan = [
            ...bootstrapPlan({
                logstashUser: args.logstashUser,
                logstashRole: args.logstashRole,
                logstashIndexPatterns: args.logstashIndexPatterns,
                setKibanaSystemPassword: args.kibanaSystemPassword !== undefined,
            }),
            ...(args.extraRequests ?? []),
        ];
        const spec = curlScriptJob({
            name: args.name,
            description: "bootstrap of users, roles, lifecycle policy and index templates",
            role: "bootstrap",
            version: args.version,
            dir: BOOTSTRAP_DIR,
            script: "bootstrap.sh",
            plan: bootstrapPlanFiles(this.plan),
            caCertPem: args.caCertPem,
            env: { [BOOTSTRAP_ENV.esUrl]: args.elasticsearchUrl, [BOOTSTRAP_ENV.deadline]: String(BOOTSTRAP_DEADLINE_SECONDS) },
            secrets: {
                [BOOTSTRAP_SECRETS.elasticPassword]: { description: "password of the elastic superuser", value: args.elasticPassword },
                ...(args.kibanaSystemPassword === undefined ? {} : { [BOOTSTRAP_SECRETS.kibanaSystemPassword]: { description: "password to set for kibana_system", value: args.kibanaSystemPassword } }),
                [BOOTSTRAP_SECRETS.logstashWriterPassword]: { description: `password to set for ${args.logstashUser}`, value: args.logstashWriterPassword },
            },
        });
        this.step = args.platform.runJob(spec, { parent: this, dependsOn: [args.elasticsearchReady] });
        this.registerOutputs({});
    }
}
