/**
 * The elk-stack program: one `pulumi up` stands up Elasticsearch, Kibana and Logstash with TLS everywhere.
 * Everything it builds comes from the components in components/, configured from this stack's config.
 */
import * as pulumi from "@pulumi/pulumi";
import { ElkStack, LOGSTASH_WRITER_USER } from "./components/elkStack";
import { readStackConfig } from "./components/stackConfig";

const { settings, passwords } = readStackConfig();
const stack = new ElkStack(settings.clusterName, { settings, passwords });

/** Elasticsearch HTTPS endpoint. */
export const elasticsearchUrl = stack.elasticsearchUrl;
/** Kibana, in a browser (trust the CA, or accept the warning once). */
export const kibanaUrl = stack.kibanaUrl;
/** The stack's CA certificate: save it to verify every endpoint. */
export const caCertificate = stack.caCertPem;
/** Where applications send logs. */
export const logstashEndpoints = stack.logstashEndpoints;
/** The superuser and its password (secret: `pulumi stack output elasticPassword --show-secrets`). */
export const elasticUser = "elastic";
export const elasticPassword = stack.elasticPassword;
/** The least-privilege user Logstash writes as. */
export const logstashUser = LOGSTASH_WRITER_USER;
/** Commands to try right after `pulumi up`. */
export const quickstart = pulumi.interpolate`pulumi stack output caCertificate > elk-ca.crt
curl --cacert elk-ca.crt -u elastic:"$(pulumi stack output elasticPassword --show-secrets)" ${stack.elasticsearchUrl}/_cluster/health
open ${stack.kibanaUrl} and log in as elastic`;
