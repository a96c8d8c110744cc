/**
 * The request checks every fake Elasticsearch applies before it answers, as Elasticsearch 9.4 applies them, driven by
 * the REST API specification of the pinned release (tests/support/elasticsearchRestApi.json, extracted by
 * scripts/esRestSpec.ts from elastic/elasticsearch-specification; its `source` names the branch and commit):
 *
 * - routing (server/src/main/java/org/elasticsearch/rest/RestController.java): a path no handler knows is
 *   `400 {"error":"no handler found for uri [...] and method [...]"}`; a known path with another method is
 *   `405 {"error":"Incorrect HTTP method for uri [...] and method [...], allowed: [...]"}` with an `Allow` header.
 *   Both come after authentication and the media-type headers, and before the body's media type ({@link gate}
 *   gives the whole order);
 * - parameters and body (server/src/main/java/org/elasticsearch/rest/BaseRestHandler.java): a query parameter the
 *   API does not read is `400 illegal_argument_exception` "request [<path>] contains unrecognized parameter: [x]"
 *   (with BaseRestHandler's "did you mean" suggestions); a body sent to an API that reads none is "request [<METHOD>
 *   <path>] does not support having a body";
 * - a parameter value the handler cannot parse is `400 illegal_argument_exception`, checked against the type the
 *   specification gives it (resolved by scripts/esRestSpec.ts): booleans take only `true`, `false` or an empty value
 *   (libs/core/src/main/java/org/elasticsearch/core/Booleans.java); durations as TimeValue.parseTimeValue reads them;
 *   integers, longs and floats as RestRequest's paramAsInt and paramAsFloat do; an enum takes the specification's
 *   values and `@aliases`, except `wait_for_status` and `expand_wildcards`, which follow Elasticsearch's own parsers
 *   (see {@link valueProblem}); a list is values between commas. The reasons are Elasticsearch's except for other
 *   enums, whose reason is this file's own. The unknown parameter is reported before a bad value; Elasticsearch does
 *   so only for handlers that declare their parameters (BaseRestHandler's `allSupportedParameters`), and reports the
 *   bad value first otherwise (it parses values in `prepareRequest`): either way a 400 illegal_argument_exception;
 * - a body with a top-level field the API does not parse is `400 x_content_parse_exception` "[<api>] unknown field
 *   [x]" (libs/x-content/src/main/java/org/elasticsearch/xcontent/ObjectParser.java; Elasticsearch also prefixes
 *   the line and column, which this omits); an API whose body is required answers `400 parse_exception` "request
 *   body is required" without one (server/src/main/java/org/elasticsearch/rest/RestRequest.java).
 *
 * Only the APIs the stack calls are in the file: anything else is refused as "no handler found", which is stricter
 * than Elasticsearch (it would answer), never kinder.
 */
import spec from "./elasticsearchRestApi.json";

/** A query parameter's entry in the specification file: `accepts` is scripts/esRestSpec.ts's `ValueKind[]`. */
interface ParamSpec {
    readonly type: string;
    readonly serverDefault?: string;
    readonly accepts: readonly ValueKind[];
}
type ValueKind = "string" | "boolean" | "integer" | "long" | "float" | "double" | "duration" | { readonly enum: readonly string[] } | { readonly list: readonly ValueKind[] };

/** One API's entry in the specification file (see scripts/esRestSpec.ts). */
interface ApiSpec {
    readonly urls: readonly { readonly path: string; readonly methods: readonly string[] }[];
    readonly query: Readonly<Record<string, ParamSpec>>;
    readonly body: { readonly kind: string; readonly required?: boolean; readonly fields?: readonly string[] };
}

const APIS = spec.apis as unknown as Readonly<Record<string, ApiSpec>>;
const COMMON = spec.commonQuery as unknown as Readonly<Record<string, ParamSpec>>;

/** Where the specification came from, for messages and tests. */
export const REST_API_SOURCE: { readonly repository: string; readonly ref: string; readonly commit: string } = spec.source;

/** Names of the APIs the fakes know. */
export const KNOWN_APIS: readonly string[] = Object.keys(APIS);

/** An answer that refuses the request. */
export interface Refusal {
    readonly status: number;
    readonly body: unknown;
    readonly headers?: Readonly<Record<string, string | string[]>>;
}

/** A request that passed the checks. */
export interface CheckedRequest {
    /** The specification's name of the API (`indices.resolve_index`, ...). */
    readonly api: string;
    readonly method: string;
    /** The path without the query, as sent. */
    readonly path: string;
    /** Path parts by the specification's names, URL-decoded. */
    readonly parts: Readonly<Record<string, string>>;
    /** Query parameters as sent (decoded), without defaults. */
    readonly query: ReadonlyMap<string, string>;
    /** A query parameter's value, or its `@server_default` when absent. */
    param(name: string): string | undefined;
    /** A boolean query parameter, its server default applied (an empty value is true, as in Elasticsearch). */
    flag(name: string): boolean;
    /** The body parsed as JSON (undefined without one, or for NDJSON bodies). */
    readonly body: unknown;
    readonly rawBody: string;
}

/** Elasticsearch's JSON error body for an exception of `type`. */
export function esError(status: number, type: string, reason: string, extra: Record<string, unknown> = {}): Refusal {
    const cause = { type, reason, ...extra };
    return { status, body: { error: { root_cause: [cause], ...cause }, status } };
}

/** IndexNotFoundException as Elasticsearch renders it (server/src/main/java/org/elasticsearch/index/IndexNotFoundException.java). */
export function indexNotFound(name: string): Refusal {
    return esError(404, "index_not_found_exception", `no such index [${name}]`, { "resource.type": "index_or_alias", "resource.id": name, index_uuid: "_na_", index: name });
}

// RestRequest.Method's order, which the 405 message's set follows.
const METHOD_ORDER = ["GET", "POST", "PUT", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE", "CONNECT"];

interface Route {
    readonly pattern: string;
    readonly segments: readonly string[];
    /** Method -> API. */
    readonly methods: Map<string, string>;
}

const ROUTES: Route[] = (() => {
    const byPattern = new Map<string, Route>();
    for (const [api, s] of Object.entries(APIS)) {
        for (const u of s.urls) {
            let route = byPattern.get(u.path);
            if (route === undefined) {
                route = { pattern: u.path, segments: u.path.split("/").filter((x) => x !== ""), methods: new Map() };
                byPattern.set(u.path, route);
            }
            for (const m of u.methods) route.methods.set(m, api);
        }
    }
    return [...byPattern.values()];
})();

/**
 * The route for a path as RestController's PathTrie picks it: segment by segment, an exact segment before a
 * `{placeholder}`; undefined when none fits.
 */
function route(segments: readonly string[]): { route: Route; parts: Record<string, string> } | undefined {
    let best: { route: Route; parts: Record<string, string>; score: string } | undefined;
    for (const r of ROUTES) {
        if (r.segments.length !== segments.length) continue;
        const parts: Record<string, string> = {};
        let score = "";
        let fits = true;
        for (let i = 0; i < segments.length && fits; i++) {
            const s = r.segments[i];
            const placeholder = /^\{(.+)\}$/.exec(s);
            if (placeholder) {
                parts[placeholder[1]] = segments[i];
                score += "0";
            } else if (s === segments[i]) {
                score += "1";
            } else {
                fits = false;
            }
        }
        if (fits && (best === undefined || score > best.score)) best = { route: r, parts, score };
    }
    return best && { route: best.route, parts: best.parts };
}

/** Lucene's LevenshteinDistance similarity (1 - edits / longer length), which BaseRestHandler ranks suggestions by. */
function similarity(a: string, b: string): number {
    const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
    for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    return 1 - d[a.length][b.length] / Math.max(a.length, b.length);
}

function unrecognized(path: string, invalid: readonly string[], candidates: readonly string[]): string {
    const sorted = [...invalid].sort();
    const items = sorted.map((name) => {
        const close = candidates
            .map((c) => ({ c, s: similarity(name, c) }))
            .filter((x) => x.s > 0.5)
            .sort((x, y) => y.s - x.s || (x.c < y.c ? -1 : 1))
            .map((x) => x.c);
        if (close.length === 0) return `[${name}]`;
        return close.length === 1 ? `[${name}] -> did you mean [${close[0]}]?` : `[${name}] -> did you mean any of [${close.join(", ")}]?`;
    });
    return `request [${path}] contains unrecognized parameter${sorted.length > 1 ? "s" : ""}: ${items.join(", ")}`;
}

/**
 * TimeValue.parseTimeValue (libs/core/src/main/java/org/elasticsearch/core/TimeValue.java), which RestRequest's
 * paramAsTime calls with the parameter's name: a whole number with a unit (`nanos`, `micros`, `ms`, `s`, `m` in
 * lower case only, `h`, `d`; no negative but -1), or `-1` or `0` without one. The reason for anything else.
 */
function durationProblem(name: string, value: string): string | undefined {
    const normalized = javaTrim(value.toLowerCase());
    const unit = ["nanos", "micros", "ms", "s"].find((u) => normalized.endsWith(u)) ?? (value.endsWith("m") ? "m" : ["h", "d"].find((u) => normalized.endsWith(u)));
    if (unit === undefined) {
        if (/^-0*1$/.test(normalized) || /^0+$/.test(normalized)) return undefined;
        return `failed to parse setting [${name}] with value [${value}] as a time value: unit is missing or unrecognized`;
    }
    const number = javaTrim(normalized.slice(0, normalized.length - unit.length));
    if (javaLong(number)) return BigInt(number) < -1n ? `failed to parse setting [${name}] with value [${value}] as a time value: negative durations are not supported` : undefined;
    return javaDouble(number) ? `failed to parse [${value}], fractional time values are not supported` : `failed to parse [${value}]`;
}

/** Java's String.trim: characters up to U+0020 off both ends. */
function javaTrim(v: string): string {
    let start = 0;
    let end = v.length;
    while (start < end && v.charCodeAt(start) <= 0x20) start++;
    while (end > start && v.charCodeAt(end - 1) <= 0x20) end--;
    return v.slice(start, end);
}

/** Java's Long.parseLong of decimal digits (ASCII only here: stricter, never kinder). */
function javaLong(v: string): boolean {
    return /^[+-]?\d+$/.test(v) && BigInt(v) >= -(2n ** 63n) && BigInt(v) < 2n ** 63n;
}
/** Java's Integer.parseInt. */
function javaInt(v: string): boolean {
    return /^[+-]?\d+$/.test(v) && BigInt(v) >= -(2n ** 31n) && BigInt(v) < 2n ** 31n;
}
/** Java's Double.parseDouble and Float.parseFloat, without their hexadecimal form (stricter, never kinder). */
function javaDouble(v: string): boolean {
    return /^[+-]?(NaN|Infinity|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[fFdD]?)$/.test(javaTrim(v));
}

/**
 * Enum parameters whose parsing in Elasticsearch is not the specification's list, with their own reasons:
 * `wait_for_status` is `ClusterHealthStatus.valueOf(value.toUpperCase(Locale.ROOT))`
 * (server/src/main/java/org/elasticsearch/rest/action/admin/cluster/RestClusterHealthAction.java): green, yellow or
 * red in any case, and Java's enum message otherwise (the specification's `unknown` and `unavailable` are refused);
 * `expand_wildcards` is IndicesOptions.WildcardOptions (server/src/main/java/org/elasticsearch/action/support/
 * IndicesOptions.java), value by value.
 */
const ENUM_PARSERS: Readonly<Record<string, (value: string) => string | undefined>> = {
    wait_for_status: (v) => (["GREEN", "YELLOW", "RED"].includes(v.toUpperCase()) ? undefined : `No enum constant org.elasticsearch.cluster.health.ClusterHealthStatus.${v.toUpperCase()}`),
    expand_wildcards: (v) => splitByComma(v).map((w) => (["open", "closed", "hidden", "all", "none"].includes(w) ? undefined : `No valid expand wildcard value [${w}]`)).find((x) => x !== undefined),
};

/** Strings.splitStringByCommaToArray: the values between commas, trimmed, empty ones left out. */
function splitByComma(v: string): string[] {
    return v
        .split(",")
        .map((x) => x.trim())
        .filter((x) => x !== "");
}

/** Whether one kind of the specification takes the value (a list's elements each by one of its kinds). */
function takes(kind: ValueKind, name: string, value: string): boolean {
    if (typeof kind === "object") return "enum" in kind ? kind.enum.includes(value) : splitByComma(value).every((v) => kind.list.some((k) => takes(k, name, v)));
    switch (kind) {
        case "string":
            return true;
        case "boolean":
            return ["true", "false", ""].includes(value);
        case "integer":
        case "long":
            return javaInt(value);
        case "float":
        case "double":
            return javaDouble(value);
        case "duration":
            return durationProblem(name, value) === undefined;
    }
}

/**
 * What Elasticsearch says of a query parameter's value its handler cannot parse, or undefined when it can: booleans
 * (libs/core/src/main/java/org/elasticsearch/core/Booleans.java), numbers (RestRequest's paramAsInt, paramAsLong and
 * paramAsFloat, server/src/main/java/org/elasticsearch/rest/RestRequest.java: both integer messages say "int", and
 * these APIs read their `long` parameters with paramAsInt, RestSearchAction and RestCountAction, so an int's range
 * is checked), durations ({@link durationProblem}), and the enums of {@link ENUM_PARSERS} in Elasticsearch's words.
 * Another enum value outside the specification's list is refused with this file's own reason.
 */
function valueProblem(name: string, param: ParamSpec, value: string): string | undefined {
    const parser = ENUM_PARSERS[name];
    if (parser !== undefined) return parser(value);
    if (param.accepts.some((k) => takes(k, name, value))) return undefined;
    const scalars = param.accepts.filter((k) => typeof k === "string" || "enum" in k);
    const last = scalars[scalars.length - 1];
    if (last === "boolean") return `Failed to parse value [${value}] as only [true] or [false] are allowed.`;
    if (last === "integer" || last === "long") return `Failed to parse int parameter [${name}] with value [${value}]`;
    if (last === "float" || last === "double") return `Failed to parse float parameter [${name}] with value [${value}]`;
    if (last === "duration") return durationProblem(name, value);
    const allowed = param.accepts.flatMap((k) => (typeof k === "object" && "enum" in k ? k.enum : []));
    return `[${name}] does not take [${value}]: the specification of Elasticsearch 9.4 allows [${allowed.join(", ")}]`;
}

/** Routing only: the API a method and path reach, or the refusal (400 no handler, 405 wrong method). */
export function routeRequest(method: string, url: string): { api: string; parts: Record<string, string> } | Refusal {
    const q = url.indexOf("?");
    const rawPath = q < 0 ? url : url.slice(0, q);
    const segments = rawPath.split("/").filter((x) => x !== "");
    const found = route(segments);
    if (found === undefined) return { status: 400, body: { error: `no handler found for uri [${url}] and method [${method}]`, status: 400 } };
    const api = found.route.methods.get(method);
    if (api === undefined) {
        const allowed = [...found.route.methods.keys()].sort((a, b) => METHOD_ORDER.indexOf(a) - METHOD_ORDER.indexOf(b));
        return {
            status: 405,
            body: { error: `Incorrect HTTP method for uri [${url}] and method [${method}], allowed: [${allowed.join(", ")}]`, status: 405 },
            headers: { allow: allowed.join(",") },
        };
    }
    const parts = Object.fromEntries(Object.entries(found.parts).map(([k, v]) => [k, decodeURIComponent(v)]));
    return { api, parts };
}

/**
 * Parameters and body of a routed request (the checks after authentication): the request as the handler sees it,
 * or the refusal.
 */
export function checkRequest(method: string, url: string, rawBody: string, routed: { api: string; parts: Record<string, string> }): CheckedRequest | Refusal {
    const q = url.indexOf("?");
    const path = q < 0 ? url : url.slice(0, q);
    const api = APIS[routed.api];
    const known = { ...COMMON, ...api.query };
    const query = new Map<string, string>();
    for (const [k, v] of new URLSearchParams(q < 0 ? "" : url.slice(q + 1))) query.set(k, v);
    const invalid = [...query.keys()].filter((k) => !(k in known));
    if (invalid.length > 0) return esError(400, "illegal_argument_exception", unrecognized(path, invalid, Object.keys(known)));
    for (const [k, v] of query) {
        const problem = valueProblem(k, known[k], v);
        if (problem !== undefined) return esError(400, "illegal_argument_exception", problem);
    }
    let body: unknown = undefined;
    if (rawBody !== "") {
        if (api.body.kind === "none" || (api.body.kind === "fields" && (api.body.fields ?? []).length === 0)) {
            return esError(400, "illegal_argument_exception", `request [${method} ${path}] does not support having a body`);
        }
        if (routed.api !== "bulk") {
            try {
                body = JSON.parse(rawBody) as unknown;
            } catch {
                return esError(400, "x_content_parse_exception", "Failed to parse object: request body is not valid JSON");
            }
            if (api.body.kind === "fields" && typeof body === "object" && body !== null && !Array.isArray(body)) {
                const extra = Object.keys(body).filter((k) => !(api.body.fields ?? []).includes(k));
                if (extra.length > 0) return esError(400, "x_content_parse_exception", `[${routed.api}] unknown field [${extra[0]}]`);
            }
        }
    } else if (api.body.required === true) {
        return esError(400, "parse_exception", "request body is required");
    }
    const param = (name: string) => query.get(name) ?? known[name]?.serverDefault;
    return {
        api: routed.api,
        method,
        path,
        parts: routed.parts,
        query,
        param,
        flag: (name: string) => {
            const v = param(name);
            return v === "" || v === "true";
        },
        body,
        rawBody,
    };
}

/** True when `x` is a refusal rather than a routed or checked request. */
export function isRefusal(x: unknown): x is Refusal {
    return typeof x === "object" && x !== null && "status" in x && "body" in x && !("api" in x);
}

/** The specification's `@server_default` of a query parameter, for tests that state a default. */
export function serverDefault(api: string, param: string): string | undefined {
    return APIS[api]?.query[param]?.serverDefault;
}

/** The query parameter names the specification gives an API (without the common ones). */
export function queryParamsOf(api: string): readonly string[] {
    return Object.keys(APIS[api]?.query ?? {});
}

/** The paths and methods the specification gives an API. */
export function urlsOf(api: string): ApiSpec["urls"] {
    return APIS[api]?.urls ?? [];
}

/**
 * Elasticsearch's answers under stress, for fakes to give when a test asks:
 * - while the `.security` index is not available (recovering after a restart), the reserved and native realms
 *   cannot read the user, and authentication fails as for a wrong password: 401 security_exception
 *   (x-pack/plugin/security/src/main/java/org/elasticsearch/xpack/security/authc/esnative/ReservedRealm.java:
 *   getUserInfo hands on null when NativeUsersStore reports UnavailableShardsException, and doAuthenticate then
 *   terminates with "failed to authenticate user"; the REST answer is DefaultAuthenticationFailureHandler's
 *   "unable to authenticate user [..] for REST request [..]");
 * - a full thread pool queue rejects the request: 429 es_rejected_execution_exception
 *   (server/src/main/java/org/elasticsearch/common/util/concurrent/EsRejectedExecutionException.java, whose
 *   status() is TOO_MANY_REQUESTS; the reason is EsAbortPolicy's text).
 */
export const WWW_AUTHENTICATE = ['Basic realm="security", charset="UTF-8"', 'Bearer realm="security"', "ApiKey"];

export function authenticationFailed(user: string | null, url: string): Refusal {
    const reason = user === null ? `missing authentication credentials for REST request [${url}]` : `unable to authenticate user [${user}] for REST request [${url}]`;
    return { ...esError(401, "security_exception", reason, { header: { "WWW-Authenticate": WWW_AUTHENTICATE } }), headers: { "www-authenticate": WWW_AUTHENTICATE } };
}

export function rejectedExecution(pool: string): Refusal {
    return esError(
        429,
        "es_rejected_execution_exception",
        `rejected execution of org.elasticsearch.common.util.concurrent.TimedRunnable@1f2e3d4c on EsThreadPoolExecutor[name = es01/${pool}, queue capacity = 1000, task execution rejected]`,
    );
}

/** What a fake knows about the connection a request came on. */
export interface GateInput {
    readonly method: string;
    /** Path and query, as sent. */
    readonly url: string;
    readonly rawBody: string;
    readonly contentType: string | undefined;
    readonly accept: string | undefined;
    /** The basic auth user, null without credentials. */
    readonly user: string | null;
    /** True when the credentials are right. */
    readonly authenticated: boolean;
}

/** Conditions a test puts the fake in. */
export interface GateConditions {
    /** The `.security` index is not available yet (a restart): the request's authentication fails with 401. */
    readonly securityIndexUnavailable?: (request: GateInput) => boolean;
    /** The thread pool of this API is full: the request is rejected with 429. */
    readonly rejectExecution?: (api: string, request: GateInput) => boolean;
}

const MEDIA = /^application\/(?:(json|x-ndjson)|vnd\.elasticsearch\+(json|x-ndjson)\s*;\s*compatible-with=(\d+))\s*(?:;.*)?$/i;

function compatibleVersion(header: string | undefined): number | undefined {
    const m = header === undefined ? null : MEDIA.exec(header);
    return m?.[3] === undefined ? undefined : Number(m[3]);
}

/**
 * ParsedMediaType.parseMediaType's syntax check (libs/x-content/src/main/java/org/elasticsearch/xcontent/
 * ParsedMediaType.java): a header holding a list (`,`) or `*\/*` counts as absent; otherwise the part before the first
 * `;` must be `type/subtype` of RFC 7230 token characters. The reason when it is not.
 */
function mediaTypeSyntaxProblem(value: string): string | undefined {
    if (value.includes(",") || value === "*/*") return undefined;
    const parts = value.toLowerCase().split(";")[0].split("/");
    const token = /^[a-z0-9!#$%&'*+\-.^_`|~]+$/;
    return parts.length === 2 && token.test(parts[0].trim()) && token.test(parts[1].trim()) ? undefined : `invalid media-type [${value}]`;
}

/**
 * RestRequest's MediaTypeHeaderException, which AbstractHttpServerTransport dispatches as a bad request (400): its
 * message names the headers (the two of a version problem in Set.of's order, which varies from one JVM run to the
 * next), its cause says what is wrong.
 */
function mediaTypeHeaderFailure(headers: string, causeType: string, causeReason: string): Refusal {
    const reason = `Invalid media-type value on headers [${headers}]`;
    return { status: 400, body: { error: { root_cause: [{ type: "media_type_header_exception", reason }], type: "media_type_header_exception", reason, caused_by: { type: causeType, reason: causeReason } }, status: 400 } };
}

/** The media-type headers as RestRequest parses them (the constructor, before any routing): the 400, or undefined. */
function mediaTypeHeaders(input: GateInput): Refusal | undefined {
    for (const [header, value] of [["Accept", input.accept], ["Content-Type", input.contentType]] as const) {
        if (value === undefined) continue;
        const problem = value.trim() === "" ? `Header [${header}] cannot be empty.` : mediaTypeSyntaxProblem(value);
        if (problem !== undefined) return mediaTypeHeaderFailure(header, "illegal_argument_exception", problem);
    }
    // RestCompatibleVersionHelper.getCompatibleVersion (server/src/main/java/org/elasticsearch/rest/RestCompatibleVersionHelper.java).
    const bodyVersion = input.rawBody !== "" ? compatibleVersion(input.contentType) : undefined;
    const acceptVersion = compatibleVersion(input.accept);
    for (const [header, version, value] of [["Content-Type", bodyVersion, input.contentType], ["Accept", acceptVersion, input.accept]] as const) {
        if (version !== undefined && version !== 8 && version !== 9) {
            return mediaTypeHeaderFailure("Accept, Content-Type", "status_exception", `${header} version must be either version 8 or 9, but found ${version}. ${header}=${value ?? ""}`);
        }
    }
    if (bodyVersion !== undefined && acceptVersion !== undefined && bodyVersion !== acceptVersion) {
        return mediaTypeHeaderFailure(
            "Accept, Content-Type",
            "status_exception",
            `A compatible version is required on both Content-Type and Accept headers if either one has requested a compatible version and the compatible versions must match. Accept=${input.accept ?? ""}, Content-Type=${input.contentType ?? ""}`,
        );
    }
    return undefined;
}

/**
 * Every check Elasticsearch makes before an API runs, in its order:
 * 1. authentication (401, also while the security index is unavailable), at the HTTP headers stage, before the
 *    request is parsed or routed: the security plugin's header validator runs AuthenticationService.authenticate
 *    (x-pack/plugin/security/src/main/java/org/elasticsearch/xpack/security/Security.java, through
 *    modules/transport-netty4's Netty4HttpHeaderValidator), and a failure reaches
 *    AbstractHttpServerTransport.handleIncomingRequest as the request's exception, which RestController's
 *    dispatchBadRequest answers with its own status (HttpHeadersValidationException);
 * 2. the media-type headers, as the RestRequest constructor parses them (400 media_type_header_exception: a malformed
 *    Accept or Content-Type, or RestCompatibleVersionHelper refusing the compatible versions asked for); a failed
 *    authentication takes precedence (handleIncomingRequest keeps the first cause, `ExceptionsHelper.useOrSuppress`);
 * 3. routing in RestController.tryAllHandlers (400 no handler, 405 another method);
 * 4. the body's media type, in RestController.dispatchRequest once the handler is known (406: none given, a
 *    browser-safelisted type such as text/plain, or one the handler does not read);
 * 5. parameters and body, by the handler (400);
 * 6. the thread pool (429).
 * Returns the checked request, or the refusal.
 */
export function gate(input: GateInput, conditions: GateConditions = {}): CheckedRequest | Refusal {
    if (!input.authenticated || conditions.securityIndexUnavailable?.(input) === true) return authenticationFailed(input.user, input.url);
    const headers = mediaTypeHeaders(input);
    if (headers !== undefined) return headers;
    const routed = routeRequest(input.method, input.url);
    if (isRefusal(routed)) return routed;
    if (input.rawBody !== "" && (input.contentType === undefined || MEDIA.exec(input.contentType) === null)) {
        // RestController.sendContentTypeErrorMessage.
        const error = input.contentType === undefined ? "Content-Type header is missing" : `Content-Type header [${input.contentType}] is not supported`;
        return { status: 406, body: { error, status: 406 } };
    }
    const checked = checkRequest(input.method, input.url, input.rawBody, routed);
    if (isRefusal(checked)) return checked;
    if (conditions.rejectExecution?.(checked.api, input) === true) return rejectedExecution(checked.api === "bulk" ? "write" : "management");
    return checked;
}

/** Writes a refusal or answer as Elasticsearch does: JSON, the product header, and the refusal's own headers. */
export function respond(res: import("http").ServerResponse, answer: { status: number; body: unknown; headers?: Readonly<Record<string, string | string[]>> }): void {
    res.writeHead(answer.status, { "content-type": "application/json", "x-elastic-product": "Elasticsearch", ...(answer.headers ?? {}) });
    res.end(JSON.stringify(answer.body));
}
