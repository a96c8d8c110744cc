/**
 * A fake Elasticsearch 9.4 for the bootstrap script's tests: a real HTTPS server on 127.0.0.1 (port 0) with a
 * certificate from a test CA made with the `openssl` CLI. Every request first goes through Elasticsearch's own
 * checks (tests/support/esRestApi.ts: route and method, basic auth as `elastic`, media types, parameters and body
 * against the REST API specification of 9.4; 401 while the security index is unavailable and 429 under pressure when
 * a test puts it in that condition); then the security APIs answer with their upsert semantics, `override` answers
 * what a test stands in for, and every request is recorded.
 */
import { execFile } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import type { IncomingMessage, ServerResponse } from "http";
import * as https from "https";
import type { AddressInfo } from "net";
import * as path from "path";
import { promisify } from "util";
import { type CheckedRequest, type GateConditions, gate, isRefusal, respond } from "./esRestApi";

const execFileAsync = promisify(execFile);

/** Files of the test PKI, all PEM. */
export interface TestPki {
    /** The CA that signed both server certificates. */
    readonly caCert: string;
    /** A different CA with the very same subject name, which signed nothing the servers present. */
    readonly rogueCaCert: string;
    /** Server certificate for DNS es01 + localhost and IP 127.0.0.1 (serverAuth), signed by {@link caCert}. */
    readonly serverCert: string;
    readonly serverKey: string;
    /** Server certificate for DNS es01 only (no localhost, no IP), signed by {@link caCert}. */
    readonly es01OnlyCert: string;
    readonly es01OnlyKey: string;
}

const OPENSSL_TIMEOUT_MS = 30_000;

async function openssl(cwd: string, args: string[]): Promise<void> {
    await execFileAsync("openssl", args, { cwd, timeout: OPENSSL_TIMEOUT_MS });
}

async function makeCa(dir: string, name: string): Promise<string> {
    const cnf = path.join(dir, `${name}.cnf`);
    // Both CAs get the same subject: a client must check the signature, not just match the issuer name.
    fs.writeFileSync(
        cnf,
        [
            "[req]",
            "distinguished_name = dn",
            "prompt = no",
            "[dn]",
            "CN = elk-stack bootstrap test CA",
            "[v3_ca]",
            "basicConstraints = critical,CA:TRUE",
            "keyUsage = critical,keyCertSign,cRLSign",
            "subjectKeyIdentifier = hash",
            "",
        ].join("\n"),
    );
    const cert = path.join(dir, `${name}.crt`);
    await openssl(dir, ["req", "-x509", "-config", cnf, "-extensions", "v3_ca", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "2",
        "-keyout", path.join(dir, `${name}.key`), "-out", cert]);
    return cert;
}

async function makeLeaf(dir: string, name: string, ca: string, subjectAltName: string): Promise<{ cert: string; key: string }> {
    const cnf = path.join(dir, `${name}.cnf`);
    fs.writeFileSync(cnf, ["[req]", "distinguished_name = dn", "prompt = no", "[dn]", "CN = es01", ""].join("\n"));
    const ext = path.join(dir, `${name}.ext`);
    fs.writeFileSync(
        ext,
        [
            "basicConstraints = critical,CA:FALSE",
            "keyUsage = critical,digitalSignature,keyEncipherment",
            "extendedKeyUsage = serverAuth",
            `subjectAltName = ${subjectAltName}`,
            "subjectKeyIdentifier = hash",
            "authorityKeyIdentifier = keyid,issuer",
            "",
        ].join("\n"),
    );
    const key = path.join(dir, `${name}.key`);
    const csr = path.join(dir, `${name}.csr`);
    const cert = path.join(dir, `${name}.crt`);
    await openssl(dir, ["req", "-new", "-config", cnf, "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr]);
    await openssl(dir, ["x509", "-req", "-in", csr, "-CA", `${ca}.crt`, "-CAkey", `${ca}.key`, "-set_serial", `0x${crypto.randomBytes(15).toString("hex")}`,
        "-days", "2", "-sha256", "-extfile", ext, "-out", cert]);
    return { cert, key };
}

/** Makes the test CA, a rogue CA with the same name, and the two server certificates in `dir`. */
export async function makeTestPki(dir: string): Promise<TestPki> {
    const caCert = await makeCa(dir, "ca");
    const rogueCaCert = await makeCa(dir, "rogue-ca");
    const server = await makeLeaf(dir, "es01", path.join(dir, "ca"), "DNS:es01,DNS:localhost,IP:127.0.0.1");
    const es01Only = await makeLeaf(dir, "es01-only", path.join(dir, "ca"), "DNS:es01");
    return { caCert, rogueCaCert, serverCert: server.cert, serverKey: server.key, es01OnlyCert: es01Only.cert, es01OnlyKey: es01Only.key };
}

/** One request the fake received. */
export interface RecordedRequest {
    readonly method: string;
    /** Path with query, as sent. */
    readonly path: string;
    /** The body as received (UTF-8), "" when none. */
    readonly rawBody: string;
    /** The body parsed as JSON; undefined when there was no body or it was not JSON. */
    readonly body: unknown;
    readonly contentType: string | undefined;
    /** User of the basic auth header, null without one. */
    readonly authUser: string | null;
    /** True when the credentials were elastic's. */
    readonly authenticated: boolean;
    /** The API the request reached (the specification's name), undefined when Elasticsearch refused it first. */
    api?: string;
    /** What the fake answered. */
    status: number;
    response: unknown;
}

/** A response the test forces instead of the normal one. */
export interface ForcedResponse {
    readonly status: number;
    readonly body: unknown;
    /** Close the connection without any response instead (status is then recorded as 0). */
    readonly drop?: boolean;
}

/** Options of {@link startFakeElasticsearch}. */
export interface FakeElasticsearchOptions {
    readonly cert: string;
    readonly key: string;
    /** Password of the `elastic` user. */
    readonly elasticPassword: string;
    /**
     * Lets a test answer a request itself (e.g. 500 or 503) once Elasticsearch's own checks passed (route, auth,
     * parameters: tests/support/esRestApi.ts); undefined for the normal answer.
     */
    readonly override?: (request: RecordedRequest, index: number) => ForcedResponse | undefined;
    /** Runs before an authenticated request is answered, while the client waits. */
    readonly beforeRespond?: (request: RecordedRequest) => Promise<void>;
    /** The cluster's condition: security index unavailable (401), thread pools full (429). */
    readonly conditions?: GateConditions;
}

/** A user created through the API. */
export interface FakeUser {
    readonly password: string | undefined;
    readonly document: unknown;
}

/** What the security APIs changed. */
export interface FakeState {
    /** Every password set on kibana_system, in order. */
    readonly kibanaSystemPasswords: string[];
    readonly roles: Map<string, unknown>;
    readonly users: Map<string, FakeUser>;
    /** Names of roles created (not updated), one entry per creation. */
    readonly roleCreations: string[];
    /** Names of users created (not updated), one entry per creation. */
    readonly userCreations: string[];
}

/** A running fake. */
export interface FakeElasticsearch {
    /** https://127.0.0.1:PORT */
    readonly url: string;
    readonly port: number;
    readonly requests: RecordedRequest[];
    readonly state: FakeState;
    /** TLS handshakes that failed on the server side (e.g. the client rejected the certificate). */
    readonly tlsClientErrors: Error[];
    /** TLS handshakes that completed. */
    readonly secureConnections: () => number;
    close(): Promise<void>;
}

function badRequest(type: string, reason: string): unknown {
    return { error: { root_cause: [{ type, reason }], type, reason }, status: 400 };
}

/** GET / of the release the stack pins (components/model/versions.ts DEFAULT_ELASTIC_VERSION). */
function clusterInfo(): unknown {
    return {
        name: "es01",
        cluster_name: "elk-test",
        cluster_uuid: "k2y8oGZVR9u1TbE6wUAJ3w",
        version: {
            number: "9.4.1",
            build_flavor: "default",
            build_type: "docker",
            build_hash: "112859b85d50de2a7e63f73c8fc70b99eea24291",
            build_date: "2026-05-12T15:13:46.049795831Z",
            build_snapshot: false,
            lucene_version: "10.3.2",
            minimum_wire_compatibility_version: "8.19.0",
            minimum_index_compatibility_version: "8.0.0",
        },
        tagline: "You Know, for Search",
    };
}

function clusterHealth(): unknown {
    return {
        cluster_name: "elk-test",
        status: "green",
        timed_out: false,
        number_of_nodes: 1,
        number_of_data_nodes: 1,
        active_primary_shards: 3,
        active_shards: 3,
        relocating_shards: 0,
        initializing_shards: 0,
        unassigned_shards: 0,
        unassigned_primary_shards: 0,
        delayed_unassigned_shards: 0,
        number_of_pending_tasks: 0,
        number_of_in_flight_fetch: 0,
        task_max_waiting_in_queue_millis: 0,
        active_shards_percent_as_number: 100.0,
    };
}

/** The user and password of a basic auth header, null without one. */
export function parseBasicAuth(header: string | undefined): { user: string; password: string } | null {
    if (header === undefined || !header.startsWith("Basic ")) return null;
    const decoded = Buffer.from(header.slice("Basic ".length), "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) return null;
    return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function isObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Starts the fake on 127.0.0.1, port 0. */
export async function startFakeElasticsearch(options: FakeElasticsearchOptions): Promise<FakeElasticsearch> {
    const requests: RecordedRequest[] = [];
    const tlsClientErrors: Error[] = [];
    let secureConnections = 0;
    const state: FakeState = { kibanaSystemPasswords: [], roles: new Map(), users: new Map(), roleCreations: [], userCreations: [] };

    // The security APIs' answers, upserts that say whether they created (elastic/elasticsearch, x-pack/plugin/security/
    // src/main/java/org/elasticsearch/xpack/security/rest/action/role/RestPutRoleAction.java, .../user/RestPutUserAction.java,
    // .../user/RestChangePasswordAction.java); the password rules are x-pack/plugin/core/src/main/java/org/elasticsearch/
    // xpack/core/security/support/Validation.java's (at least 6 characters) and PutUserRequest's (a new user needs one).
    const answer = (request: CheckedRequest): ForcedResponse => {
        const body = request.body;
        switch (request.api) {
            case "info":
                return { status: 200, body: clusterInfo() };
            case "cluster.health":
                return { status: 200, body: clusterHealth() };
            case "security.change_password": {
                const password = isObject(body) ? body.password : undefined;
                if (typeof password !== "string" || password.length < 6) {
                    return { status: 400, body: badRequest("action_request_validation_exception", "Validation Failed: 1: passwords must be at least [6] characters long;") };
                }
                if (request.parts.username === "kibana_system") state.kibanaSystemPasswords.push(password);
                return { status: 200, body: {} };
            }
            case "security.put_role": {
                const name = request.parts.name;
                const created = !state.roles.has(name);
                state.roles.set(name, body);
                if (created) state.roleCreations.push(name);
                return { status: 200, body: { role: { created } } };
            }
            case "security.put_user": {
                const name = request.parts.username;
                const existing = state.users.get(name);
                const password = isObject(body) ? body.password : undefined;
                if (password !== undefined && (typeof password !== "string" || password.length < 6)) {
                    return { status: 400, body: badRequest("action_request_validation_exception", "Validation Failed: 1: passwords must be at least [6] characters long;") };
                }
                if (existing === undefined && password === undefined) {
                    return { status: 400, body: badRequest("action_request_validation_exception", "Validation Failed: 1: password must be specified unless you are updating an existing user;") };
                }
                state.users.set(name, { password: typeof password === "string" ? password : existing?.password, document: body });
                if (existing === undefined) state.userCreations.push(name);
                return { status: 200, body: { created: existing === undefined } };
            }
            default:
                // An API in the specification that this fake has no state for: a test answers it with `override`.
                return { status: 500, body: { error: `the fake has no answer for ${request.api}; give one with override`, status: 500 } };
        }
    };

    const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        const rawBody = Buffer.concat(chunks).toString("utf8");
        let body: unknown = undefined;
        if (rawBody !== "") {
            try {
                body = JSON.parse(rawBody) as unknown;
            } catch {
                body = undefined;
            }
        }
        const auth = parseBasicAuth(req.headers.authorization);
        const record: RecordedRequest = {
            method: req.method ?? "",
            path: req.url ?? "",
            rawBody,
            body,
            contentType: req.headers["content-type"],
            authUser: auth?.user ?? null,
            authenticated: auth !== null && auth.user === "elastic" && auth.password === options.elasticPassword,
            status: 0,
            response: undefined,
        };
        const index = requests.length;
        requests.push(record);
        const checked = gate(
            { method: record.method, url: record.path, rawBody, contentType: record.contentType, accept: req.headers.accept, user: record.authUser, authenticated: record.authenticated },
            options.conditions,
        );
        let result: ForcedResponse & { headers?: Readonly<Record<string, string | string[]>> };
        if (isRefusal(checked)) {
            result = checked;
        } else {
            record.api = checked.api;
            result = options.override?.(record, index) ?? answer(checked);
            if (options.beforeRespond) await options.beforeRespond(record);
        }
        if (result.drop === true) {
            req.socket.destroy();
            return;
        }
        record.status = result.status;
        record.response = result.body;
        respond(res, result);
    };

    const server = https.createServer({ cert: fs.readFileSync(options.cert), key: fs.readFileSync(options.key) }, (req, res) => {
        handle(req, res).catch((err: unknown) => respond(res, { status: 500, body: { error: String(err), status: 500 } }));
    });
    server.on("tlsClientError", (err: Error) => tlsClientErrors.push(err));
    server.on("secureConnection", () => {
        secureConnections++;
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
            server.off("error", reject);
            resolve();
        });
    });
    const port = (server.address() as AddressInfo).port;
    return {
        url: `https://127.0.0.1:${port}`,
        port,
        requests,
        state,
        tlsClientErrors,
        secureConnections: () => secureConnections,
        close: () =>
            new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
}
