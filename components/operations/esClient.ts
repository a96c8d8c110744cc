/** The official Elasticsearch client as the stack's commands (verify, snapshot, restore) use it. */
import { Client } from "@elastic/elasticsearch";

/** Where and as whom to connect. */
export interface ElasticsearchConnection {
    readonly esUrl: string;
    /** PEM of the CA that must vouch for Elasticsearch's certificate. */
    readonly ca: string;
    readonly user: string;
    readonly password: string;
    /** Bound on each request, ms. */
    readonly requestTimeoutMs: number;
}

/** A client that verifies the server against the stack's CA and never retries behind the caller's back. */
export function elasticsearchClient(c: ElasticsearchConnection): Client {
    return new Client({
        node: c.esUrl,
        auth: { username: c.user, password: c.password },
        tls: { ca: c.ca, rejectUnauthorized: true },
        requestTimeout: c.requestTimeoutMs,
        maxRetries: 0,
        // The 9.x client asks for the 9.x REST API, which an 8.x cluster refuses. Every supported cluster speaks
        // version 8 (9.x through REST API compatibility); both headers must name the same version.
        headers: {
            accept: "application/vnd.elasticsearch+json; compatible-with=8",
            "content-type": "application/vnd.elasticsearch+json; compatible-with=8",
        },
    });
}
