/**
 * A program of your own that uses elk-stack as a library: a logging stack (Elasticsearch, Kibana, Logstash with TLS
 * on every hop) next to the services of an application, plus a certificate authority of the application's own,
 * for the TLS between its services. Every import below comes from the `elk-stack` package.
 */
import * as pulumi from "@pulumi/pulumi";
import { CertificateAuthority, ElkStack, type StackConfig, parseStackConfig } from "elk-stack";

const config = new pulumi.Config();

// The library's settings, read from this project's config (`pulumi config set target kubernetes`, ...) with the
// library's defaults for every key left unset, and validated: a bad value stops the preview naming the key and the fix.
const settings: StackConfig = parseStackConfig({
    project: pulumi.getProject(),
    stack: pulumi.getStack(),
    get: (key) => config.get(key),
});

const logs = new ElkStack("logs", {
    settings,
    // Unset passwords are generated and kept as secrets in this stack's state.
    passwords: { elastic: config.getSecret("elasticPassword") },
});

// The application's services get certificates from a CA of their own: rotating one never touches the other.
const appCa = new CertificateAuthority("app-ca", {
    commonName: `my-app internal CA (${pulumi.getStack()})`,
    organization: "my-app",
    validityHours: 5 * 365 * 24,
    earlyRenewalHours: 30 * 24,
});

/** Where people open Kibana. */
export const kibanaUrl = logs.kibanaUrl;
/** Where the application's log shippers send to. */
export const logstashEndpoints = logs.logstashEndpoints;
/** Trust this to reach Elasticsearch and Kibana. */
export const logsCaCertificate = logs.caCertPem;
/** Trust this between the application's own services. */
export const appCaCertificate = appCa.certPem;
/** The elastic superuser's password (secret). */
export const elasticPassword = logs.elasticPassword;
