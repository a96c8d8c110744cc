/**
 * The requests that one-shot steps send to Elasticsearch, as data: the bootstrap, indexing and snapshot plans build
 * them, and shell/bootstrap.sh sends them, filling in secrets from files.
 */

/** The bootstrap's secrets, by the names its script reads them under (`elastic` is the one it logs in with). */
export const BOOTSTRAP_SECRETS = {
    elasticPassword: "elastic",
    kibanaSystemPassword: "kibana_system_password",
    logstashWriterPassword: "logstash_writer_password",
} as const;

/** Name of a secret that a request body needs. */
export type SecretName = (typeof BOOTSTRAP_SECRETS)["kibanaSystemPassword" | "logstashWriterPassword"];

/** A value in a request body that the script fills in from a secret file at run time. */
export interface SecretRef {
    readonly fromSecret: SecretName;
}

/** A JSON body in which some strings are secrets taken from files. */
export type BodyValue = string | number | boolean | null | SecretRef | readonly BodyValue[] | { readonly [key: string]: BodyValue };

/** One Elasticsearch API call of the bootstrap. */
export interface BootstrapRequest {
    /** What it does, printed by the script. */
    readonly description: string;
    readonly method: "GET" | "PUT" | "POST" | "DELETE";
    /** Path and query, starting with `/`. */
    readonly path: string;
    readonly body?: BodyValue;
    /** HTTP status codes that mean success. Every request is an upsert, so a second run gets the same codes. */
    readonly okStatus: readonly number[];
    /** HTTP status codes that mean "not yet": the request is sent again until the script's deadline. */
    readonly retryStatus?: readonly number[];
}
