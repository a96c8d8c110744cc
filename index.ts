/**
 * The elk-stack program: one `pulumi up` stands up Elasticsearch, Kibana and Logstash with TLS everywhere.
 * Everything it builds comes from the components in components/, configured from this stack's config.
 */
import * as pulumi from "@pulumi/pulumi";
import { ElkStack, LOGSTASH_WRITER_USER } from "./components/resources/elkStack";
import { readStackConfig } from "./components/resources/stackConfig";
import { clusterIdentity } from "./components/model/clusterFormation";
import { previouslyFormed } from "./components/resources/clusterFormation";
import { kubernetesServiceName } from "./components/targets";

const { settings, passwords, snapshotCredentials } = readStackConfig();
// Whether this stack's last update saw the cluster formed: its nodes then drop cluster.initial_master_nodes.
// Only the manifests engine needs it: ECK manages cluster.initial_master_nodes itself.
const ownWorkloads = settings.target === "kubernetes" && settings.kubernetes.engine === "manifests";
const clusterFormed = ownWorkloads && settings.elasticsearch.replicas > 1 ? previouslyFormed(clusterIdentity(settings)) : undefined;
// Named after the cluster, which is how 0.4.0 named it; the data volumes keep their 0.4.0 key, the Pulumi stack's name.
const stack = new ElkStack(settings.clusterName, { settings, passwords, clusterFormed, snapshotCredentials, dataKey: settings.stack });

/** Elasticsearch HTTPS endpoint. */
export const elasticsearchUrl = stack.elasticsearchUrl;
/** Kibana, in a browser (trust the CA, or accept the warning once). */
export const kibanaUrl = stack.kibanaUrl;
/** The stack's CA certificate: save it to verify every endpoint. */
export const caCertificate = stack.caCertPem;
/** Where applications send logs. */
export const logstashEndpoints = stack.logstashEndpoints;
/**
 * The nginx log formats, the nginx file of each nginx source and the Django logging module of each Django source,
 * file name -> content (`pulumi stack output wiring --json | jq -r '."nginx-web.conf"'`; `npm run render` writes
 * them to DIR/wiring/).
 */
export const wiring = stack.wiring;
/** Data stream namespace of this stack's events, the log sources and their retention (read by `npm run verify`). */
export const environment = settings.environment;
export const logSources = settings.logSources;
export const logRetentionDays = settings.logRetentionDays;
/** Which Elasticsearch cluster this stack runs and whether it has formed; the next update reads it back. */
export const clusterFormation = stack.clusterFormation;
/** The snapshot repository and lifecycle policy (read by `npm run verify`, `snapshot` and `restore`). */
export const snapshots = stack.snapshots;
/** The earliest certificate expiry and the renewal window (read by `npm run verify`; the renew workflow renews). */
export const certificates = stack.certificateExpiry;
/** The superuser and its password (secret: `pulumi stack output elasticPassword --show-secrets`). */
export const elasticUser = "elastic";
export const elasticPassword = stack.elasticPassword;
/** The least-privilege user Logstash writes as. */
export const logstashUser = LOGSTASH_WRITER_USER;
const ns = settings.kubernetes.namespace;
/**
 * Writes elastic's Authorization header into a file only you can read, for `curl --header @elk-auth.header`: the
 * password passes through pipes only, never a command line that `ps` shows (printf is a shell builtin).
 */
const AUTH_HEADER_COMMAND = `(umask 077; { printf 'elastic:'; pulumi stack output elasticPassword --show-secrets | tr -d '\\n'; } | base64 | tr -d '\\n' | sed 's/^/Authorization: Basic /' > elk-auth.header)`;
/** Commands to try right after `pulumi up`. On Kubernetes the Services are in-cluster: reach them through port-forwards. */
export const quickstart =
    settings.target === "docker"
        ? pulumi.interpolate`pulumi stack output caCertificate > elk-ca.crt
${AUTH_HEADER_COMMAND}
curl --cacert elk-ca.crt --header @elk-auth.header ${stack.elasticsearchUrl}/_cluster/health
open ${stack.kibanaUrl} and log in as elastic`
        : pulumi.interpolate`pulumi stack output caCertificate > elk-ca.crt
${AUTH_HEADER_COMMAND}
kubectl -n ${ns} port-forward svc/${kubernetesServiceName(settings, settings.names.elasticsearch)} 9200:9200 &
curl --cacert elk-ca.crt --header @elk-auth.header https://localhost:9200/_cluster/health
kubectl -n ${ns} port-forward svc/${kubernetesServiceName(settings, settings.names.kibana)} 5601:5601 &
open ${settings.kubernetes.kibanaIngress ? stack.kibanaUrl : "https://localhost:5601"} and log in as elastic`;
