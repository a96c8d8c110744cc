/**
 * A fake Kibana for the provisioning script's tests: HTTPS on 127.0.0.1 with a certificate of the test PKI
 * (see fakeElasticsearch.ts), basic auth as `elastic`, and the behaviour of the endpoints the script uses, as
 * Kibana documents it: `/api/status` (503 until "available"), the saved objects import (multipart field `file`,
 * `.ndjson` only, `kbn-xsrf` required, conflicts without `overwrite`, missing references reported, HTTP 200 with
 * `success:false` on object errors) and setting the default data view.
 */
import * as fs from "fs";
import type { IncomingMessage, ServerResponse } from "http";
import * as https from "https";
import type { AddressInfo } from "net";

/** One request the fake received. */
export interface KibanaRecord {
    readonly method: string;
    readonly path: string;
    readonly headers: IncomingMessage["headers"];
    readonly rawBody: Buffer;
    status: number;
    response: unknown;
}

/** A stored object, by `type:id`. */
export interface StoredObject {
    readonly type: string;
    readonly id: string;
    readonly json: string;
}

/** Options of {@link startFakeKibana}. */
export interface FakeKibanaOptions {
    readonly cert: string;
    readonly key: string;
    readonly elasticPassword: string;
    /** How many status requests answer 503 before Kibana is "available". */
    readonly unavailableFor?: number;
    /**
     * How many status requests, after those, answer 200 with overall level "degraded" while core services and
     * plugins report "available" (as Kibana does while one service, e.g. Elasticsearch, is still degraded).
     */
    readonly degradedFor?: number;
}

/** A /api/status body in Kibana's 8.x/9.x format: overall, core services and plugins each with a level. */
export function kibanaStatusBody(overall: "available" | "degraded" | "unavailable"): unknown {
    const available = { level: "available", summary: "All services and plugins are available" };
    const degraded = { level: "degraded", summary: "Waiting for Elasticsearch", meta: { warningNodes: [], incompatibleNodes: [] } };
    return {
        name: "kibana",
        uuid: "5b2de169-2785-441b-ae8c-186a1936b17d",
        version: { number: "9.0.0", build_hash: "0", build_number: 1, build_snapshot: false, build_flavor: "traditional", build_date: "2025-04-08T00:00:00.000Z" },
        status: {
            // Key order as a client cannot rely on it: summary and meta before the level.
            overall: overall === "available" ? available : { summary: `1 service is ${overall}: elasticsearch`, meta: { affectedServices: ["elasticsearch"], level: "available" }, level: overall },
            core: { elasticsearch: overall === "available" ? available : degraded, savedObjects: available },
            plugins: { alerting: available, dataViews: { level: "available", summary: "All dependencies are available", meta: { level: "available" } } },
        },
        metrics: { last_updated: "2025-04-08T00:00:00.000Z", collection_interval_in_millis: 5000 },
    };
}

/** A running fake. */
export interface FakeKibana {
    readonly url: string;
    readonly requests: KibanaRecord[];
    /** Saved objects by `type:id`. */
    readonly objects: Map<string, StoredObject>;
    /** Objects created (not overwritten), one entry per creation. */
    readonly creations: string[];
    defaultDataView: string | undefined;
    close(): Promise<void>;
}

const JSON_HEADERS = { "content-type": "application/json" };

/** The `file` part of a multipart/form-data body: its file name and content. */
export function multipartFile(body: Buffer, contentType: string | undefined): { filename: string; content: string } | undefined {
    const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType ?? "");
    if (!boundary) return undefined;
    const delimiter = `--${boundary[1] ?? boundary[2]}`;
    for (const part of body.toString("utf8").split(delimiter)) {
        const headerEnd = part.indexOf("\r\n\r\n");
        if (headerEnd < 0) continue;
        const headers = part.slice(0, headerEnd);
        const m = /content-disposition:\s*form-data;\s*name="file";\s*filename="([^"]*)"/i.exec(headers);
        if (m) return { filename: m[1], content: part.slice(headerEnd + 4).replace(/\r\n$/, "") };
    }
    return undefined;
}

/** Starts the fake on 127.0.0.1, port 0. */
export async function startFakeKibana(options: FakeKibanaOptions): Promise<FakeKibana> {
    const requests: KibanaRecord[] = [];
    let statusCalls = 0;
    const state = { objects: new Map<string, StoredObject>(), creations: [] as string[], defaultDataView: undefined as string | undefined };
    const expected = `Basic ${Buffer.from(`elastic:${options.elasticPassword}`).toString("base64")}`;

    const importObjects = (record: KibanaRecord, url: URL): { status: number; body: unknown } => {
        const file = multipartFile(record.rawBody, record.headers["content-type"]);
        if (!file) return { status: 400, body: { statusCode: 400, error: "Bad Request", message: "[request body.file]: expected value of type [Stream]" } };
        if (!file.filename.endsWith(".ndjson")) return { status: 400, body: { statusCode: 400, error: "Bad Request", message: `Invalid file extension ${file.filename}` } };
        const overwrite = url.searchParams.get("overwrite") === "true";
        const parsed = file.content.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as { type: string; id: string; references?: { type: string; id: string }[] });
        const inFile = new Set(parsed.map((o) => `${o.type}:${o.id}`));
        const errors: unknown[] = [];
        const successResults: unknown[] = [];
        for (const o of parsed) {
            const key = `${o.type}:${o.id}`;
            const missing = (o.references ?? []).filter((r) => !inFile.has(`${r.type}:${r.id}`) && !state.objects.has(`${r.type}:${r.id}`));
            if (missing.length > 0) {
                errors.push({ id: o.id, type: o.type, error: { type: "missing_references", references: missing } });
            } else if (state.objects.has(key) && !overwrite) {
                errors.push({ id: o.id, type: o.type, error: { type: "conflict" } });
            }
        }
        if (errors.length === 0) {
            for (const o of parsed) {
                const key = `${o.type}:${o.id}`;
                if (!state.objects.has(key)) state.creations.push(key);
                state.objects.set(key, { type: o.type, id: o.id, json: JSON.stringify(o) });
                successResults.push({ type: o.type, id: o.id, ...(overwrite ? { overwrite: true } : {}) });
            }
        }
        return { status: 200, body: errors.length === 0 ? { success: true, successCount: parsed.length, successResults } : { success: false, successCount: 0, errors } };
    };

    const answer = (record: KibanaRecord): { status: number; body: unknown } => {
        if (record.headers.authorization !== expected) return { status: 401, body: { statusCode: 401, error: "Unauthorized", message: "Unauthorized" } };
        const url = new URL(record.path, "https://kibana");
        if (record.method !== "GET" && record.headers["kbn-xsrf"] === undefined) {
            return { status: 400, body: { statusCode: 400, error: "Bad Request", message: "Request must contain a kbn-xsrf header." } };
        }
        const route = `${record.method} ${url.pathname}`;
        if (route === "GET /api/status") {
            statusCalls++;
            const unavailable = statusCalls <= (options.unavailableFor ?? 0);
            const degraded = !unavailable && statusCalls <= (options.unavailableFor ?? 0) + (options.degradedFor ?? 0);
            return { status: unavailable ? 503 : 200, body: kibanaStatusBody(unavailable ? "unavailable" : degraded ? "degraded" : "available") };
        }
        if (route === "POST /api/saved_objects/_import") return importObjects(record, url);
        if (route === "POST /api/data_views/default") {
            const body = JSON.parse(record.rawBody.toString("utf8")) as { data_view_id?: string; force?: boolean };
            if (!state.objects.has(`index-pattern:${body.data_view_id ?? ""}`)) return { status: 404, body: { statusCode: 404, error: "Not Found", message: "no such data view" } };
            if (state.defaultDataView !== undefined && body.force !== true) return { status: 200, body: { acknowledged: false } };
            state.defaultDataView = body.data_view_id;
            return { status: 200, body: { acknowledged: true } };
        }
        return { status: 404, body: { statusCode: 404, error: "Not Found", message: "Not Found" } };
    };

    const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        const record: KibanaRecord = { method: req.method ?? "", path: req.url ?? "", headers: req.headers, rawBody: Buffer.concat(chunks), status: 0, response: undefined };
        requests.push(record);
        const result = answer(record);
        record.status = result.status;
        record.response = result.body;
        res.writeHead(result.status, JSON_HEADERS);
        res.end(JSON.stringify(result.body));
    };

    const server = https.createServer({ cert: fs.readFileSync(options.cert), key: fs.readFileSync(options.key) }, (req, res) => {
        handle(req, res).catch((err: unknown) => {
            res.writeHead(500, JSON_HEADERS);
            res.end(JSON.stringify({ statusCode: 500, message: String(err) }));
        });
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    const fake: FakeKibana = {
        url: `https://127.0.0.1:${port}`,
        requests,
        objects: state.objects,
        creations: state.creations,
        get defaultDataView() {
            return state.defaultDataView;
        },
        set defaultDataView(v: string | undefined) {
            state.defaultDataView = v;
        },
        close: () =>
            new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
    return fake;
}
