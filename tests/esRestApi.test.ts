/**
 * The REST API specification the fakes check requests against (tests/support/elasticsearchRestApi.json, made by
 * scripts/esRestSpec.ts): it names its source, it agrees with the official client package.json pins (the client is
 * generated from the same specification), and the checks refuse what Elasticsearch refuses, with its answers.
 */
import { Client } from "@elastic/elasticsearch";
import clientPackage from "@elastic/elasticsearch/package.json";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { STACK_APIS, parseCommonQuery, parseRequestFile, specificationResolver } from "../scripts/esRestSpec";
import { KNOWN_APIS, REST_API_SOURCE, type Refusal, checkRequest, gate, isRefusal, queryParamsOf, routeRequest, serverDefault, urlsOf } from "./support/esRestApi";

interface Captured {
    readonly method: string;
    readonly path: string;
    readonly querystring?: Record<string, unknown>;
    readonly meta: { readonly name: string; readonly acceptedParams: { readonly query: readonly string[] } };
}

/** The client's method for a specification name: `indices.resolve_index` -> client.indices.resolveIndex. */
function clientMethod(client: Client, api: string): (params: Record<string, unknown>) => Promise<unknown> {
    const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    const parts = api.split(".");
    let target: unknown = client;
    for (const p of parts.slice(0, -1)) target = (target as Record<string, unknown>)[camel(p)];
    const fn = (target as Record<string, unknown>)[camel(parts[parts.length - 1])];
    if (typeof fn !== "function") throw new Error(`the client has no method for ${api}`);
    return (fn as (params: Record<string, unknown>) => Promise<unknown>).bind(target);
}

describe("the REST API specification file", () => {
    test("names its source: elastic/elasticsearch-specification at the pinned release's branch, and a commit", () => {
        expect(REST_API_SOURCE.repository).toBe("elastic/elasticsearch-specification");
        expect(REST_API_SOURCE.ref).toBe("9.4");
        expect(REST_API_SOURCE.commit).toMatch(/^[0-9a-f]{40}$/);
        expect(clientPackage.version).toMatch(/^9\.4\./);
        expect([...KNOWN_APIS].sort()).toEqual([...STACK_APIS].sort());
    });

    test.each(STACK_APIS)("%s: the installed client sends a request the specification routes to it, and accepts the same query parameters", async (api) => {
        const client = new Client({ node: "http://127.0.0.1:9" });
        let captured: Captured | undefined;
        (client.transport as unknown as { request: (p: Captured) => Promise<unknown> }).request = (p: Captured) => {
            captured = p;
            return Promise.resolve({});
        };
        // Every path part of the longest URL, so the client picks that URL (the client calls some parts `name`, the
        // specification's `@codegen_name`), and the operations bulk requires.
        const longest = [...urlsOf(api)].sort((a, b) => b.path.length - a.path.length)[0];
        const parts = Object.fromEntries([...longest.path.matchAll(/\{([^}]+)\}/g)].map((m) => [m[1], m[1] === "block" ? "write" : "x"]));
        const params = { name: "x", ...parts, ...(api === "bulk" ? { operations: [] } : {}) };
        await clientMethod(client, api)(params);
        expect(captured?.meta.name).toBe(api);
        const routed = routeRequest(captured?.method ?? "", captured?.path ?? "");
        expect(isRefusal(routed) ? routed : routed.api).toBe(api);
        // The client lists serverless-only parameters too; the specification file keeps those a stack cluster knows.
        const stackOnly = new Set(queryParamsOf(api));
        expect([...stackOnly].every((p) => captured?.meta.acceptedParams.query.includes(p))).toBe(true);
        const clientOnly = (captured?.meta.acceptedParams.query ?? []).filter((p) => !stackOnly.has(p));
        expect(clientOnly.filter((p) => !["project_routing"].includes(p))).toEqual([]);
    });

    test("keeps the defaults the specification states, such as ignore_unavailable false", () => {
        for (const api of ["indices.resolve_index", "indices.recovery", "count", "indices.close", "indices.add_block", "search"]) {
            expect([api, serverDefault(api, "ignore_unavailable")]).toEqual([api, "false"]);
        }
        expect(serverDefault("indices.resolve_index", "allow_no_indices")).toBe("true");
    });

    test("the generator reads a request file's URLs, parameters, defaults and body, and leaves out serverless-only members", () => {
        const text = `
import { RequestBase } from '@_types/Base'
/**
 * @rest_spec_name demo.thing
 */
export interface Request extends RequestBase {
  urls: [ { path: '/_demo/{name}'; methods: ['GET', 'POST'] }, { path: '/_demo'; methods: ['GET'] } ]
  path_parts: { name: string }
  query_parameters: {
    /** @server_default false */
    ignore_unavailable?: boolean
    /** @availability serverless stability=stable visibility=public */
    project_only?: string
  }
  body?: {
    keep?: string
    /** @availability serverless stability=stable visibility=feature_flag */
    project_routing?: string
  }
}`;
        expect(parseRequestFile("DemoRequest.ts", text)).toEqual({
            name: "demo.thing",
            api: {
                urls: [
                    { path: "/_demo/{name}", methods: ["GET", "POST"] },
                    { path: "/_demo", methods: ["GET"] },
                ],
                query: { ignore_unavailable: { type: "boolean", serverDefault: "false", accepts: ["boolean"] } },
                body: { kind: "fields", required: false, fields: ["keep"] },
            },
        });
        expect(parseCommonQuery("export interface CommonQueryParameters {\n /** @server_default false */\n pretty?: boolean\n}")).toEqual({ pretty: { type: "boolean", serverDefault: "false", accepts: ["boolean"] } });
    });

    test("the generator resolves a parameter's type through aliases, imports and enums (with @aliases, without serverless-only members)", () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "es-spec-kinds-"));
        try {
            const write = (rel: string, text: string) => {
                fs.mkdirSync(path.dirname(path.join(root, "specification", rel)), { recursive: true });
                fs.writeFileSync(path.join(root, "specification", rel), text);
            };
            write("tsconfig.json", '{ "compilerOptions": { "paths": { "@_types/*": ["_types/*"] } } }');
            write("_types/Numeric.ts", "export type integer = number\n");
            write("_types/Time.ts", "export type Duration = string | -1 | 0\n");
            write(
                "_types/common.ts",
                "import { integer } from './Numeric'\nexport enum Colour {\n  /** @aliases RED */\n  red,\n  /** @availability serverless */\n  ultraviolet,\n  'light-blue'\n}\nexport type Colours = Colour | Colour[]\nexport type Count = integer | Colour\n",
            );
            const file = path.join(root, "specification/demo/DemoRequest.ts");
            write(
                "demo/DemoRequest.ts",
                "import { Colours, Count } from '@_types/common'\nimport { Duration } from '@_types/Time'\n/**\n * @rest_spec_name demo.kinds\n */\nexport interface Request {\n  urls: [{ path: '/_demo'; methods: ['GET'] }]\n  query_parameters: {\n    colours?: Colours\n    count?: Count\n    timeout?: Duration\n    names?: string | string[]\n  }\n}\n",
            );
            const colour = { enum: ["red", "RED", "light-blue"] };
            expect(parseRequestFile(file, fs.readFileSync(file, "utf8"), specificationResolver(root))?.api.query).toEqual({
                colours: { type: "Colours", accepts: [colour, { list: [colour] }] },
                count: { type: "Count", accepts: ["integer", colour] },
                timeout: { type: "Duration", accepts: ["duration"] },
                names: { type: "string | string[]", accepts: ["string", { list: ["string"] }] },
            });
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });
});

describe("Elasticsearch's refusals", () => {
    const ok: { contentType: string; accept: string | undefined; user: string; authenticated: boolean } = { contentType: "application/json", accept: undefined, user: "elastic", authenticated: true };
    const refused = (method: string, url: string, rawBody = "", more: Partial<typeof ok> = {}): Refusal => {
        const r = gate({ method, url, rawBody, ...ok, ...more });
        if (!isRefusal(r)) throw new Error(`${method} ${url} was accepted`);
        return r;
    };

    test("a path no API has: 400 no handler found, once authenticated", () => {
        expect(refused("GET", "/_no_such_api?x=1")).toEqual({ status: 400, body: { error: "no handler found for uri [/_no_such_api?x=1] and method [GET]", status: 400 } });
    });

    test("the order: authentication, the media-type headers, routing, the body's media type (Security.java's header validator, RestRequest, RestController)", () => {
        // No credentials and a body of a type Elasticsearch refuses: authentication comes first, at the headers stage.
        const both = refused("PUT", "/_security/role/r", "{}", { contentType: "text/plain", authenticated: false, user: null as unknown as string });
        expect(both.status).toBe(401);
        expect(JSON.stringify(both.body)).toContain("missing authentication credentials for REST request [/_security/role/r]");
        // Without credentials, an unknown path and a malformed header are 401 as well.
        expect(refused("GET", "/_no_such_api", "", { authenticated: false }).status).toBe(401);
        expect(refused("GET", "/", "", { authenticated: false, accept: "application/vnd.elasticsearch+json; compatible-with=7" }).status).toBe(401);
        // Authenticated: the media-type headers are parsed with the request, before it is routed.
        const v7 = refused("GET", "/_no_such_api", "", { accept: "application/vnd.elasticsearch+json; compatible-with=7" });
        expect(v7.status).toBe(400);
        expect(v7.body).toMatchObject({ error: { type: "media_type_header_exception", reason: "Invalid media-type value on headers [Accept, Content-Type]", caused_by: { type: "status_exception" } } });
        expect(refused("PUT", "/_no_such_api", "{}", { contentType: "json" }).body).toMatchObject({
            error: { type: "media_type_header_exception", reason: "Invalid media-type value on headers [Content-Type]", caused_by: { type: "illegal_argument_exception", reason: "invalid media-type [json]" } },
        });
        // A well-formed type the handler does not read is 406, after routing: an unknown path is still 400.
        expect(refused("PUT", "/_no_such_api", "{}", { contentType: "text/plain" }).status).toBe(400);
        expect(refused("PUT", "/_security/role/r", "{}", { contentType: "text/plain" })).toEqual({ status: 406, body: { error: "Content-Type header [text/plain] is not supported", status: 406 } });
        expect(refused("PUT", "/_security/role/r", "{}", { contentType: undefined as unknown as string }).body).toEqual({ error: "Content-Type header is missing", status: 406 });
    });

    test("a known path with another method: 405 naming the methods allowed, with an Allow header", () => {
        expect(refused("GET", "/_snapshot/repo/snap/_restore")).toEqual({
            status: 405,
            body: { error: "Incorrect HTTP method for uri [/_snapshot/repo/snap/_restore] and method [GET], allowed: [POST]", status: 405 },
            headers: { allow: "POST" },
        });
        expect(refused("DELETE", "/_resolve/index/x").body).toEqual({ error: "Incorrect HTTP method for uri [/_resolve/index/x] and method [DELETE], allowed: [GET, POST]", status: 405 });
    });

    test("an unknown query parameter: 400 illegal_argument_exception, with BaseRestHandler's suggestion", () => {
        expect(refused("GET", "/_resolve/index/logs-x?ignore_unavailables=true")).toEqual({
            status: 400,
            body: {
                error: {
                    root_cause: [{ type: "illegal_argument_exception", reason: "request [/_resolve/index/logs-x] contains unrecognized parameter: [ignore_unavailables] -> did you mean [ignore_unavailable]?" }],
                    type: "illegal_argument_exception",
                    reason: "request [/_resolve/index/logs-x] contains unrecognized parameter: [ignore_unavailables] -> did you mean [ignore_unavailable]?",
                },
                status: 400,
            },
        });
        expect((refused("GET", "/_cluster/health?zzz=1&aaa=2").body as { error: { reason: string } }).error.reason).toBe("request [/_cluster/health] contains unrecognized parameters: [aaa], [zzz]");
    });

    test("a boolean that is not true or false, a body where none is read, a missing required body, an unknown body field", () => {
        expect((refused("GET", "/_resolve/index/x?ignore_unavailable=yes").body as { error: { reason: string } }).error.reason).toBe("Failed to parse value [yes] as only [true] or [false] are allowed.");
        expect((refused("GET", "/_cluster/health", "{}").body as { error: { reason: string } }).error.reason).toBe("request [GET /_cluster/health] does not support having a body");
        expect((refused("PUT", "/_security/role/r").body as { error: { type: string } }).error.type).toBe("parse_exception");
        expect((refused("POST", "/_snapshot/r/s/_restore", '{"ignore_index_setting":["x"]}').body as { error: { reason: string } }).error.reason).toBe("[snapshot.restore] unknown field [ignore_index_setting]");
    });

    test("a parameter value its handler cannot parse: 400 illegal_argument_exception, in Elasticsearch's words", () => {
        const reason = (url: string) => {
            const r = refused("GET", url);
            expect([r.status, (r.body as { error: { type: string } }).error.type]).toEqual([400, "illegal_argument_exception"]);
            return (r.body as { error: { reason: string } }).error.reason;
        };
        // Durations: TimeValue.parseTimeValue.
        expect(reason("/_cluster/health?timeout=60")).toBe("failed to parse setting [timeout] with value [60] as a time value: unit is missing or unrecognized");
        expect(reason("/_cluster/health?master_timeout=1.5s")).toBe("failed to parse [1.5s], fractional time values are not supported");
        expect(reason("/_cluster/health?timeout=-5s")).toBe("failed to parse setting [timeout] with value [-5s] as a time value: negative durations are not supported");
        expect(reason("/_cluster/health?timeout=1M")).toBe("failed to parse setting [timeout] with value [1M] as a time value: unit is missing or unrecognized");
        expect(reason("/_cluster/health?timeout=xs")).toBe("failed to parse [xs]");
        // Enums: the specification's values, or Elasticsearch's own parser where it differs.
        expect(reason("/_cluster/health?wait_for_status=greeen")).toBe("No enum constant org.elasticsearch.cluster.health.ClusterHealthStatus.GREEEN");
        expect(reason("/_cluster/health?wait_for_status=unknown")).toBe("No enum constant org.elasticsearch.cluster.health.ClusterHealthStatus.UNKNOWN");
        expect(reason("/_resolve/index/x?expand_wildcards=open,hiden")).toBe("No valid expand wildcard value [hiden]");
        expect(reason("/_cluster/health?level=node")).toBe("[level] does not take [node]: the specification of Elasticsearch 9.4 allows [cluster, indices, shards]");
        // Integers: RestRequest.paramAsInt, in an int's range.
        expect(reason("/_snapshot/r/_all?size=ten")).toBe("Failed to parse int parameter [size] with value [ten]");
        expect(reason("/_snapshot/r/_all?size=2147483648")).toBe("Failed to parse int parameter [size] with value [2147483648]");
        expect(reason("/x/_count?terminate_after=1.5")).toBe("Failed to parse int parameter [terminate_after] with value [1.5]");
        expect(reason("/x/_count?min_score=high")).toBe("Failed to parse float parameter [min_score] with value [high]");
    });

    test("values Elasticsearch takes pass: units, -1 and 0, lists, enum aliases, numbers in range", () => {
        for (const url of [
            "/_cluster/health?timeout=60s&master_timeout=-1",
            "/_cluster/health?timeout=0&wait_for_status=YELLOW&level=shards",
            "/_cluster/health?timeout=10nanos&master_timeout=5micros",
            "/_cluster/health?timeout=250ms&master_timeout=2m",
            "/_cluster/health?timeout=1h&master_timeout=1d&wait_for_active_shards=all&wait_for_nodes=>=2",
            "/_resolve/index/x?expand_wildcards=open,hidden",
            "/_snapshot/r/_all?size=10&order=desc&sort=start_time&state=SUCCESS,FAILED",
            "/x/_count?min_score=0.5&terminate_after=100&default_operator=AND",
        ]) {
            expect([url, isRefusal(gate({ method: "GET", url, rawBody: "", ...ok }))]).toEqual([url, false]);
        }
    });

    test("authentication: 401 with WWW-Authenticate for bad credentials and while the security index is unavailable", () => {
        const bad = refused("GET", "/", "", { authenticated: false });
        expect(bad.status).toBe(401);
        expect(bad.headers?.["www-authenticate"]).toContain('Basic realm="security", charset="UTF-8"');
        const recovering = gate({ method: "GET", url: "/", rawBody: "", ...ok }, { securityIndexUnavailable: () => true });
        expect(isRefusal(recovering) && recovering.status).toBe(401);
        expect(JSON.stringify((recovering as Refusal).body)).toContain("unable to authenticate user [elastic] for REST request [/]");
    });

    test("pressure: 429 es_rejected_execution_exception, after the request's own checks", () => {
        const r = gate({ method: "POST", url: "/_bulk", rawBody: '{"create":{}}\n{}\n', ...ok, contentType: "application/x-ndjson" }, { rejectExecution: () => true });
        expect(isRefusal(r) && r.status).toBe(429);
        expect((r as Refusal).body).toMatchObject({ error: { type: "es_rejected_execution_exception" }, status: 429 });
        // A bad parameter is still a 400, not a 429.
        expect(isRefusal(gate({ method: "GET", url: "/?nope=1", rawBody: "", ...ok }, { rejectExecution: () => true })) && 400).toBe(400);
    });

    test("media types: a body of another type is 406; the official client's compatible-with=8 headers pass, a mismatch is 400", () => {
        expect(refused("PUT", "/_security/role/r", "{}", { contentType: "text/plain" }).status).toBe(406);
        const v8 = "application/vnd.elasticsearch+json; compatible-with=8";
        expect(isRefusal(gate({ method: "PUT", url: "/_security/role/r", rawBody: "{}", ...ok, contentType: v8, accept: v8 }))).toBe(false);
        expect(refused("PUT", "/_security/role/r", "{}", { contentType: v8, accept: "application/vnd.elasticsearch+json; compatible-with=9" }).status).toBe(400);
        expect(refused("GET", "/", "", { accept: "application/vnd.elasticsearch+json; compatible-with=7" }).status).toBe(400);
    });

    test("what passes: path parts decoded, the server default applied to an absent parameter", () => {
        const routed = routeRequest("GET", "/_resolve/index/logs-%2A-dev?expand_wildcards=open");
        if (isRefusal(routed)) throw new Error("refused");
        const r = checkRequest("GET", "/_resolve/index/logs-%2A-dev?expand_wildcards=open", "", routed);
        if (isRefusal(r)) throw new Error("refused");
        expect(r.api).toBe("indices.resolve_index");
        expect(r.parts).toEqual({ name: "logs-*-dev" });
        expect(r.flag("ignore_unavailable")).toBe(false);
        expect(r.flag("allow_no_indices")).toBe(true);
        expect(r.param("expand_wildcards")).toBe("open");
    });
});
