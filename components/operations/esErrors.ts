/**
 * Tells the Elasticsearch client's errors apart without loading the client: importing the package must not load
 * `@elastic/elasticsearch` (only `verify` and the snapshot commands talk to Elasticsearch, and they load it when they
 * run). The client's error classes set `name` to their class name (`this.name = 'ResponseError'` and so on in
 * @elastic/transport's lib/errors.js, which `@elastic/elasticsearch` re-exports as `errors`); checking the name also
 * holds when two copies of the client are installed, where `instanceof` would not.
 */
import type { errors } from "@elastic/elasticsearch";

/** An HTTP error response from Elasticsearch (it has `statusCode` and `body`). */
export function isResponseError(err: unknown): err is errors.ResponseError {
    return err instanceof Error && err.name === "ResponseError";
}

/** The client could not connect, or the request timed out. */
export function isConnectionOrTimeoutError(err: unknown): err is errors.ConnectionError | errors.TimeoutError {
    return err instanceof Error && (err.name === "ConnectionError" || err.name === "TimeoutError");
}
