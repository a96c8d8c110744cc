/**
 * The index templates and lifecycle policy the bootstrap installs, request by request: method, path, body,
 * retention from config, and that a second run sends exactly the same upserts.
 */
import {
    BUILTIN_COMPONENT_TEMPLATES,
    FIELD_MAPPINGS,
    INDEX_TEMPLATE_PRIORITY,
    type IndexingInput,
    dataStreamTemplates,
    indexingRequests,
    lifecyclePolicy,
    nestedProperties,
} from "../components/model/indexing";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { bootstrapPlan, bootstrapPlanFiles } from "../components/model/bootstrap";
import { stageBootstrap } from "./support/curlStep";
import { parseLogSources } from "../components/model/sources";
import { type FakeElasticsearch, type RecordedRequest, makeTestPki, startFakeElasticsearch } from "./support/fakeElasticsearch";
import { runScript } from "./support/runScript";

const SOURCES = parseLogSources(["nginx:web", "django:app", "django:billing-api"]);
const DEV: IndexingInput = { environment: "dev", retentionDays: 7, sources: SOURCES, nodeCount: 1 };

describe("lifecycle policy", () => {
    it("rolls over in the hot phase and deletes after the retention", () => {
        expect(lifecyclePolicy(7)).toEqual({
            policy: {
                _meta: { managed_by: "elk-stack", retention_days: 7 },
                phases: {
                    hot: { min_age: "0ms", actions: { rollover: { max_primary_shard_size: "50gb", max_age: "1d" } } },
                    delete: { min_age: "7d", actions: { delete: {} } },
                },
            },
        });
        expect(lifecyclePolicy(30)).toMatchObject({ policy: { phases: { delete: { min_age: "30d" } } } });
    });

    it.each([0, -1, 1.5, 3651, NaN])("refuses retention %p", (days) => {
        expect(() => lifecyclePolicy(days)).toThrow(/whole number of days from 1 to 3650/);
    });
});

describe("indexing requests", () => {
    const requests = indexingRequests(DEV);

    it("are, in order: policy, settings, mappings per field set, one index template per data stream", () => {
        expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual([
            "PUT /_ilm/policy/elk-logs-dev",
            "PUT /_component_template/elk-logs-dev%40settings",
            "PUT /_component_template/elk-logs-nginx%40mappings",
            "PUT /_component_template/elk-logs-django%40mappings",
            "PUT /_component_template/elk-logs-parse-failure%40mappings",
            "PUT /_index_template/elk-logs-nginx.web-dev",
            "PUT /_index_template/elk-logs-django.app-dev",
            "PUT /_index_template/elk-logs-django.billing_api-dev",
            "PUT /_index_template/elk-logs-nginx-dev",
            "PUT /_index_template/elk-logs-elk.parse_failure-dev",
        ]);
        for (const r of requests) expect(r.okStatus).toEqual([200]);
    });

    it("puts the retention in the policy and the policy in the settings component", () => {
        expect(requests[0].body).toEqual(lifecyclePolicy(7));
        // One node: a replica asked for could never be placed and would keep the cluster yellow.
        expect(requests[1].body).toEqual({ template: { settings: { "index.lifecycle.name": "elk-logs-dev", "index.auto_expand_replicas": "0-1" } }, _meta: { managed_by: "elk-stack" } });
    });

    it("maps the pipelines' fields with their ECS types, nested by dotted name", () => {
        const nginx = requests[2].body as { template: { mappings: { properties: Record<string, unknown> } } };
        expect(nginx.template.mappings.properties.http).toEqual({
            properties: {
                request: {
                    properties: {
                        bytes: { type: "long" },
                        id: { type: "keyword", ignore_above: 1024 },
                        method: { type: "keyword", ignore_above: 1024 },
                        referrer: { type: "keyword", ignore_above: 1024 },
                    },
                },
                response: { properties: { body: { properties: { bytes: { type: "long" } } }, status_code: { type: "long" } } },
                version: { type: "keyword", ignore_above: 1024 },
            },
        });
        expect(nginx.template.mappings.properties).toMatchObject({
            source: { properties: { ip: { type: "ip" } } },
            nginx: { properties: { access: { properties: { request_time: { type: "float" } } } } },
            message: { type: "match_only_text" },
        });
        const django = requests[3].body as { template: { mappings: { properties: Record<string, unknown> } } };
        expect(django.template.mappings.properties).toMatchObject({ log: { properties: { origin: { properties: { file: { properties: { line: { type: "long" } } } } } } } });
        expect(django.template.mappings.properties).not.toHaveProperty("url");
        // Parse failures: every field a line can keep half-way, plus the reason of a dead letter.
        const deadLetter = ["elk.dead_letter.dataset", "error.message", "error.type"];
        expect(Object.keys(FIELD_MAPPINGS.parse_failure).sort()).toEqual([...new Set([...Object.keys(FIELD_MAPPINGS.nginx), ...Object.keys(FIELD_MAPPINGS.django), ...deadLetter])].sort());
    });

    it("composes each index template of the built-ins, ours and the optional @custom, above the built-in logs template", () => {
        const web = requests[5].body;
        expect(web).toEqual({
            index_patterns: ["logs-nginx.web-dev"],
            data_stream: {},
            priority: INDEX_TEMPLATE_PRIORITY,
            composed_of: [...BUILTIN_COMPONENT_TEMPLATES, "elk-logs-nginx@mappings", "elk-logs-dev@settings", "logs@custom", "logs-nginx.web@custom"],
            ignore_missing_component_templates: ["logs@custom", "logs-nginx.web@custom"],
            _meta: { managed_by: "elk-stack", dataset: "nginx.web" },
        });
        expect(INDEX_TEMPLATE_PRIORITY).toBeGreaterThan(100);
        expect(BUILTIN_COMPONENT_TEMPLATES).toEqual(["logs@mappings", "logs@settings", "ecs@mappings"]);
        expect((requests[9].body as { composed_of: string[] }).composed_of).toContain("elk-logs-parse-failure@mappings");
        expect((requests[6].body as { composed_of: string[] }).composed_of).toContain("elk-logs-django@mappings");
    });

    it("gives every data stream the Logstash role may write exactly one template (patterns never overlap)", () => {
        const patterns = requests.filter((r) => r.path.startsWith("/_index_template/")).flatMap((r) => (r.body as { index_patterns: string[] }).index_patterns);
        expect(new Set(patterns).size).toBe(patterns.length);
        for (const s of SOURCES) expect(patterns).toContain(`logs-${s.dataset}-dev`);
        for (const p of patterns) expect(p).toMatch(/^logs-[a-z0-9._]+-dev$/);
    });

    it("is identical on a second run, and only PUTs (upserts)", () => {
        expect(indexingRequests(DEV)).toEqual(requests);
        expect(JSON.stringify(indexingRequests(DEV))).toBe(JSON.stringify(requests));
        for (const r of requests) expect(r.method).toBe("PUT");
    });

    it("follows config: retention and environment change the policy and the patterns, nothing else", () => {
        const prod = indexingRequests({ environment: "prod", retentionDays: 30, sources: SOURCES, nodeCount: 3 });
        expect(prod[0]).toMatchObject({ path: "/_ilm/policy/elk-logs-prod", body: { policy: { phases: { delete: { min_age: "30d" } } } } });
        expect(prod[1].body).toEqual({ template: { settings: { "index.lifecycle.name": "elk-logs-prod", "index.number_of_replicas": 1 } }, _meta: { managed_by: "elk-stack" } });
        expect(prod[5].body).toMatchObject({ index_patterns: ["logs-nginx.web-prod"] });
        expect(prod.slice(2, 5)).toEqual(requests.slice(2, 5));
    });

    it("adds no shared nginx stream without nginx sources", () => {
        const only = dataStreamTemplates({ environment: "dev", sources: parseLogSources(["django:app"]) });
        expect(only.map((s) => s.dataStream)).toEqual(["logs-django.app-dev", "logs-elk.parse_failure-dev"]);
    });
});

describe("nestedProperties", () => {
    it("builds objects from dotted names and keeps leaf mappings", () => {
        expect(nestedProperties({ "a.b": { type: "long" }, "a.c.d": { type: "ip" }, e: { type: "keyword" } })).toEqual({
            a: { properties: { b: { type: "long" }, c: { properties: { d: { type: "ip" } } } } },
            e: { type: "keyword" },
        });
    });
});

describe("the bootstrap script with the indexing requests, against a fake Elasticsearch over TLS", () => {
    const PASSWORD = "Elastic-Pw-4Rt8yU2i";
    const requests = indexingRequests(DEV);
    let dir = "";
    let es: FakeElasticsearch | undefined;
    /** What the fake stored, by path; "created" entries record first-time creations only. */
    const stored = new Map<string, string>();
    const created: string[] = [];

    /** Upsert semantics of the ILM and template APIs: PUT answers 200 {"acknowledged":true}, created or not. */
    const upsert = (r: RecordedRequest) => {
        if (r.method !== "PUT" || !/^\/(_ilm\/policy|_component_template|_index_template)\//.test(r.path)) return undefined;
        const composed = r.body as { composed_of?: string[] };
        const missing = (composed.composed_of ?? []).filter(
            (c) => !c.includes("@custom") && !["logs@mappings", "logs@settings", "ecs@mappings"].includes(c) && !stored.has(`/_component_template/${encodeURIComponent(c)}`),
        );
        if (missing.length > 0) {
            const reason = `index template [x] specifies component templates ${JSON.stringify(missing)} that do not exist`;
            return { status: 400, body: { error: { type: "invalid_index_template_exception", reason }, status: 400 } };
        }
        if (!stored.has(r.path)) created.push(r.path);
        stored.set(r.path, r.rawBody);
        return { status: 200, body: { acknowledged: true } };
    };

    beforeAll(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "elk-indexing-test-"));
        const pki = await makeTestPki(dir);
        es = await startFakeElasticsearch({ cert: pki.serverCert, key: pki.serverKey, elasticPassword: PASSWORD, override: upsert });
        fs.writeFileSync(path.join(dir, "ca.crt"), fs.readFileSync(pki.caCert));
    }, 60_000);

    afterAll(async () => {
        await es?.close();
        if (dir !== "") fs.rmSync(dir, { recursive: true, force: true });
    });

    it("sends each request as planned, and a second run overwrites the same bodies without error or duplicates", async () => {
        const server = es as FakeElasticsearch;
        const plan = [...bootstrapPlan({ logstashUser: "logstash_writer", logstashRole: "elk_logstash_writer", logstashIndexPatterns: ["logs-*-dev"] }), ...indexingRequests(DEV)];
        const step = stageBootstrap(
            path.join(dir, "bootstrap"),
            bootstrapPlanFiles(plan),
            { url: server.url, ca: path.join(dir, "ca.crt") },
            { elastic: PASSWORD, kibanaSystem: "Kibana-Sys-Pw-1234", logstash: "Logstash-Pw-5678" },
        );
        const first = await runScript(step.scriptPath, step.env());
        expect(first).toMatchObject({ code: 0, stderr: "", timedOut: false });
        const indexing = server.requests.filter((r) => !r.path.startsWith("/_security") && !r.path.startsWith("/_cluster") && r.path !== "/");
        expect(indexing.map((r) => ({ method: r.method, path: r.path, body: r.body, status: r.status }))).toEqual(
            requests.map((r) => ({ method: r.method, path: r.path, body: r.body, status: 200 })),
        );
        const afterFirst = new Map(stored);
        const count = server.requests.length;

        const second = await runScript(step.scriptPath, step.env());
        expect(second).toMatchObject({ code: 0, stderr: "" });
        expect(second.stdout).toBe(first.stdout);
        const again = server.requests.slice(count).filter((r) => indexing.some((i) => i.path === r.path));
        expect(again.map((r) => [r.method, r.path, r.rawBody, r.status])).toEqual(indexing.map((r) => [r.method, r.path, r.rawBody, 200]));
        expect(created).toEqual(requests.map((r) => r.path));
        expect(stored).toEqual(afterFirst);
    }, 60_000);
});
