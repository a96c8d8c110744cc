/**
 * Kibana's saved objects: the NDJSON files parse, every reference resolves, every field a panel or the saved
 * search uses is mapped by the index templates; and the provisioning script, run for real with bash + curl
 * against a fake Kibana over TLS, imports them idempotently.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { BUILTIN_FIELDS, FIELD_MAPPINGS, type FieldMap, type MappingSet, dataStreamTemplates } from "../components/model/indexing";
import {
    ENVIRONMENT_PLACEHOLDER,
    KIBANA_OBJECTS_FILE,
    KIBANA_OBJECT_IDS,
    KIBANA_SETUP_ENV,
    type SavedObject,
    kibanaProvisioningPlan,
    kibanaProvisioningPlanFiles,
    kibanaProvisioningSpec,
    loadSavedObjects,
    parseNdjson,
    stackSavedObjects,
    toNdjson,
} from "../components/model/kibanaObjects";
import { parseLogSources } from "../components/model/sources";
import { type TestPki, makeTestPki } from "./support/fakeElasticsearch";
import { type FakeKibana, multipartFile, startFakeKibana } from "./support/fakeKibana";
import { stageCurlStep, writeSecretFiles } from "./support/curlStep";
import { runScript } from "./support/runScript";

const SOURCES = parseLogSources(["nginx:web", "nginx:shop", "django:app", "django:billing-api"]);
const OBJECTS = stackSavedObjects({ environment: "dev", sources: SOURCES });
const byKey = new Map(OBJECTS.map((o) => [`${o.type}:${o.id}`, o]));

/** Which template field sets each data view of the files spans. */
const DATA_VIEW_FIELDS: Record<string, readonly MappingSet[]> = {
    [KIBANA_OBJECT_IDS.nginxDataView]: ["nginx"],
    [KIBANA_OBJECT_IDS.djangoDataView]: ["django"],
    [KIBANA_OBJECT_IDS.parseFailureDataView]: ["parse_failure"],
    [KIBANA_OBJECT_IDS.allLogsDataView]: ["nginx", "django", "parse_failure"],
};

function fieldsOf(dataView: string): FieldMap {
    const sets = DATA_VIEW_FIELDS[dataView] ?? (dataView.startsWith("elk-logs-nginx") ? ["nginx"] : ["django"]);
    return Object.assign({}, BUILTIN_FIELDS, ...sets.map((s) => FIELD_MAPPINGS[s])) as FieldMap;
}

/** Field names in a KQL query: the names before `:`, `>=`, `<=`, `>` or `<`. */
function kqlFields(query: string): string[] {
    return [...query.matchAll(/([A-Za-z_@][\w.@]*)\s*(?:>=|<=|>|<|:)/g)].map((m) => m[1]).filter((f) => f !== "kql");
}

interface LensColumn {
    sourceField?: string;
    operationType?: string;
    filter?: { query: string };
    params?: { formula?: string; filters?: { input: { query: string } }[] };
}
interface LensAttributes {
    references: { id: string; type: string; name: string }[];
    state: { query: { query: string }; datasourceStates: { formBased: { layers: Record<string, { columns: Record<string, LensColumn>; columnOrder: string[] }> } }; visualization: unknown };
    visualizationType: string;
}
interface Panel {
    type: string;
    panelIndex: string;
    panelRefName?: string;
    title: string;
    embeddableConfig: { attributes?: LensAttributes };
}

const dashboard = byKey.get(`dashboard:${KIBANA_OBJECT_IDS.dashboard}`) as SavedObject;
const panels = JSON.parse(dashboard.attributes.panelsJSON as string) as Panel[];

/** Every field a Lens panel uses, with the data view it reads. */
function lensFields(panel: Panel): { dataView: string; fields: string[] } {
    const lens = panel.embeddableConfig.attributes as LensAttributes;
    const fields = kqlFields(lens.state.query.query);
    for (const layer of Object.values(lens.state.datasourceStates.formBased.layers)) {
        for (const c of Object.values(layer.columns)) {
            if (c.sourceField !== undefined && c.sourceField !== "___records___") fields.push(c.sourceField);
            if (c.filter) fields.push(...kqlFields(c.filter.query));
            for (const f of c.params?.filters ?? []) fields.push(...kqlFields(f.input.query));
            for (const m of (c.params?.formula ?? "").matchAll(/kql='([^']*)'/g)) fields.push(...kqlFields(m[1]));
        }
    }
    return { dataView: lens.references[0].id, fields };
}

describe("saved objects in kibana/", () => {
    it("parse, with unique ids, and only the expected types", () => {
        const files = loadSavedObjects();
        expect(files.map((o) => `${o.type}:${o.id}`).sort()).toEqual(
            [
                "dashboard:elk-web-traffic",
                "index-pattern:elk-logs-all",
                "index-pattern:elk-logs-django",
                "index-pattern:elk-logs-nginx",
                "index-pattern:elk-logs-parse-failures",
                "search:elk-live-logs",
            ].sort(),
        );
        expect(() => parseNdjson('{"id":"x"}\n', "bad.ndjson")).toThrow(/bad.ndjson:1: missing "type"/);
        expect(() => parseNdjson("{oops\n", "bad.ndjson")).toThrow(/bad.ndjson:1: not JSON/);
    });

    it("fill in the environment everywhere and add one data view per source", () => {
        expect(toNdjson(OBJECTS)).not.toContain(ENVIRONMENT_PLACEHOLDER);
        expect(byKey.get("index-pattern:elk-logs-nginx")?.attributes.title).toBe("logs-nginx-dev,logs-nginx.*-dev");
        for (const s of SOURCES) {
            expect(byKey.get(`index-pattern:elk-logs-${s.dataset}`)?.attributes).toMatchObject({ title: `logs-${s.dataset}-dev`, timeFieldName: "@timestamp", allowNoIndex: true });
        }
        expect(() => stackSavedObjects({ environment: "bad-env", sources: SOURCES })).toThrow(/data stream namespace/);
    });

    it("have a data view per kind that covers each of its data streams, and one over all of them", () => {
        const globToRegExp = (g: string) => new RegExp(`^${g.replace(/[.]/g, "\\.").replace(/\*/g, ".*")}$`);
        const covers = (id: string, stream: string) => String(byKey.get(`index-pattern:${id}`)?.attributes.title).split(",").some((t) => globToRegExp(t).test(stream));
        const viewOf: Record<MappingSet, string> = { nginx: KIBANA_OBJECT_IDS.nginxDataView, django: KIBANA_OBJECT_IDS.djangoDataView, parse_failure: KIBANA_OBJECT_IDS.parseFailureDataView };
        const streams = dataStreamTemplates({ environment: "dev", sources: SOURCES });
        expect(streams.map((s) => s.dataStream)).toContain("logs-nginx-dev");
        for (const stream of streams) {
            expect([stream.dataStream, covers(viewOf[stream.mappings], stream.dataStream)]).toEqual([stream.dataStream, true]);
            expect(covers(KIBANA_OBJECT_IDS.allLogsDataView, stream.dataStream)).toBe(true);
        }
        // A kind's view does not pick up another kind's streams, nor another environment's.
        expect(covers(KIBANA_OBJECT_IDS.nginxDataView, "logs-django.app-dev")).toBe(false);
        expect(covers(KIBANA_OBJECT_IDS.nginxDataView, "logs-nginx.web-prod")).toBe(false);
    });

    it("resolve every reference, top-level and inside by-value Lens panels, to an object in the set", () => {
        for (const o of OBJECTS) {
            for (const r of o.references) expect(byKey.has(`${r.type}:${r.id}`)).toBe(true);
        }
        const names = new Set(dashboard.references.map((r) => r.name));
        for (const p of panels) {
            if (p.type === "lens") {
                for (const r of (p.embeddableConfig.attributes as LensAttributes).references) {
                    expect(byKey.has(`${r.type}:${r.id}`)).toBe(true);
                    expect(names.has(`${p.panelIndex}:${r.name}`)).toBe(true);
                }
            } else {
                expect(p.type).toBe("search");
                expect(names.has(`${p.panelIndex}:${p.panelRefName ?? ""}`)).toBe(true);
            }
        }
    });

    it("has the panels docs/operations.md describes", () => {
        expect(panels.map((p) => [p.title, p.type, p.embeddableConfig.attributes?.visualizationType ?? "search"])).toEqual([
            ["Requests over time by status class", "lens", "lnsXY"],
            ["5xx rate", "lens", "lnsXY"],
            ["Top paths", "lens", "lnsDatatable"],
            ["Slowest and most failing upstreams", "lens", "lnsDatatable"],
            ["Error records per Django service", "lens", "lnsXY"],
            ["Records dropped by the app, per Django service", "lens", "lnsXY"],
            ["Live logs", "search", "search"],
        ]);
        expect(dashboard.attributes).toMatchObject({ timeRestore: true, timeFrom: "now-15m", refreshInterval: { pause: false, value: 10000 } });
        // Every column a visualization shows exists in its layer.
        for (const p of panels.filter((x) => x.type === "lens")) {
            const lens = p.embeddableConfig.attributes as LensAttributes;
            const [layer] = Object.values(lens.state.datasourceStates.formBased.layers);
            expect(Object.keys(layer.columns).sort()).toEqual([...layer.columnOrder].sort());
            const shown = JSON.stringify(lens.state.visualization).match(/"(?:xAccessor|splitAccessor|columnId)":"([^"]+)"|"accessors":\["([^"]+)"\]/g) ?? [];
            expect(shown.length).toBeGreaterThan(0);
            for (const s of shown) expect(layer.columns).toHaveProperty([s.replace(/.*"([^"]+)"\]?$/, "$1")]);
        }
    });

    it("show the app's dropped records as a sum of elk.dropped, a number the Django template maps as long", () => {
        const loss = panels.find((p) => p.panelIndex === "django-dropped");
        const lens = loss?.embeddableConfig.attributes as LensAttributes;
        const [layer] = Object.values(lens.state.datasourceStates.formBased.layers);
        expect(Object.values(layer.columns).find((c) => c.operationType === "sum")).toMatchObject({ sourceField: "elk.dropped" });
        expect(fieldsOf(lens.references[0].id)["elk.dropped"]).toEqual({ type: "long" });
    });

    it("use only fields the index templates map (or that logs@mappings maps)", () => {
        for (const p of panels.filter((x) => x.type === "lens")) {
            const { dataView, fields } = lensFields(p);
            expect(fields.length).toBeGreaterThan(0);
            const known = fieldsOf(dataView);
            for (const f of fields) expect([p.title, f, f in known]).toEqual([p.title, f, true]);
        }
        const search = byKey.get(`search:${KIBANA_OBJECT_IDS.liveLogsSearch}`) as SavedObject;
        const known = fieldsOf(search.references[0].id);
        const used = [...(search.attributes.columns as string[]), ...(search.attributes.sort as string[][]).map((s) => s[0])];
        for (const f of used) expect([f, f in known]).toEqual([f, true]);
        for (const o of OBJECTS.filter((x) => x.type === "index-pattern")) expect(o.attributes.timeFieldName).toBe("@timestamp");
    });
});

describe("provisioning script (bash + curl) against a fake Kibana over TLS", () => {
    const PASSWORD = 'Kb-Pw "q" \\ $HOME & %s';
    let dir = "";
    let pki: TestPki;
    let objectsFile = "";
    let scriptFile = "";
    let planPath = "";
    const servers: FakeKibana[] = [];

    beforeAll(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "elk-kibana-test-"));
        pki = await makeTestPki(dir);
        objectsFile = path.join(dir, "objects.ndjson");
        fs.writeFileSync(objectsFile, toNdjson(OBJECTS));
        ({ scriptPath: scriptFile, planPath } = stageCurlStep(path.join(dir, "step"), "kibana-setup.sh", kibanaProvisioningPlanFiles(kibanaProvisioningPlan(objectsFile))));
    }, 60_000);

    afterAll(async () => {
        await Promise.all(servers.map((s) => s.close()));
        if (dir !== "") fs.rmSync(dir, { recursive: true, force: true });
    });

    async function fake(unavailableFor = 0, degradedFor = 0): Promise<FakeKibana> {
        const k = await startFakeKibana({ cert: pki.serverCert, key: pki.serverKey, elasticPassword: PASSWORD, unavailableFor, degradedFor });
        servers.push(k);
        return k;
    }

    /** The environment of one run, with the password written as a fresh secret file (the script removes it). */
    const env = (url: string, overrides: Record<string, string> = {}, password = PASSWORD, plan = planPath): Record<string, string> => ({
        ...writeSecretFiles(dir, { elastic: password }).env,
        [KIBANA_SETUP_ENV.kibanaUrl]: url,
        [KIBANA_SETUP_ENV.ca]: pki.caCert,
        [KIBANA_SETUP_ENV.plan]: plan,
        [KIBANA_SETUP_ENV.attempts]: "3",
        [KIBANA_SETUP_ENV.interval]: "1",
        ...overrides,
    });

    it("waits for Kibana, imports every object with overwrite, sets the default data view; a second run creates nothing", async () => {
        const kibana = await fake(1);
        const first = await runScript(scriptFile, env(kibana.url));
        expect(first).toMatchObject({ code: 0, stderr: "", timedOut: false });
        expect(first.stdout).toContain("waiting for Kibana (HTTP 503, overall level unavailable)");
        expect(kibana.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
            "GET /api/status 503",
            "GET /api/status 200",
            "POST /api/saved_objects/_import?overwrite=true 200",
            "POST /api/data_views/default 200",
        ]);
        const importRequest = kibana.requests[2];
        expect(importRequest.headers["kbn-xsrf"]).toBeDefined();
        expect(multipartFile(importRequest.rawBody, importRequest.headers["content-type"])).toEqual({ filename: "objects.ndjson", content: toNdjson(OBJECTS) });
        expect(importRequest.response).toMatchObject({ success: true, successCount: OBJECTS.length });
        expect(JSON.parse(kibana.requests[3].rawBody.toString("utf8"))).toEqual({ data_view_id: "elk-logs-all", force: true });
        expect(kibana.creations.sort()).toEqual([...byKey.keys()].sort());
        expect(kibana.defaultDataView).toBe("elk-logs-all");
        const stored = new Map([...kibana.objects].map(([k, v]) => [k, v.json]));

        const second = await runScript(scriptFile, env(kibana.url));
        expect(second).toMatchObject({ code: 0, stderr: "" });
        expect(kibana.creations.length).toBe(OBJECTS.length);
        expect(new Map([...kibana.objects].map(([k, v]) => [k, v.json]))).toEqual(stored);
        expect(kibana.requests.slice(4).map((r) => r.status)).toEqual([200, 200, 200]);
        for (const text of [first.stdout, second.stdout, fs.readFileSync(scriptFile, "utf8"), fs.readFileSync(planPath, "utf8")]) expect(text).not.toContain(PASSWORD);
    }, 60_000);

    it("waits while the overall level is degraded, although core services and plugins (and overall's meta) say available", async () => {
        const kibana = await fake(1, 2);
        const result = await runScript(scriptFile, env(kibana.url, { [KIBANA_SETUP_ENV.attempts]: "5", [KIBANA_SETUP_ENV.interval]: "0" }));
        expect(result).toMatchObject({ code: 0, stderr: "", timedOut: false });
        expect(result.stdout).toContain("waiting for Kibana (HTTP 503, overall level unavailable), attempt 1 of 5");
        expect(result.stdout).toContain("waiting for Kibana (HTTP 200, overall level degraded), attempt 2 of 5");
        expect(result.stdout).toContain("waiting for Kibana (HTTP 200, overall level degraded), attempt 3 of 5");
        // Nothing is imported until the fourth status answer, the first with overall "available".
        expect(kibana.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
            "GET /api/status 503",
            "GET /api/status 200",
            "GET /api/status 200",
            "GET /api/status 200",
            "POST /api/saved_objects/_import?overwrite=true 200",
            "POST /api/data_views/default 200",
        ]);
    }, 30_000);

    it("gives up when Kibana stays degraded, without importing anything", async () => {
        const kibana = await fake(0, 100);
        const result = await runScript(scriptFile, env(kibana.url, { [KIBANA_SETUP_ENV.interval]: "0" }));
        expect(result.code).toBe(1);
        expect(result.stderr).toContain("not available after 3 attempts (last HTTP 200)");
        expect(kibana.requests.every((r) => r.path === "/api/status")).toBe(true);
        expect(kibana.objects.size).toBe(0);
    }, 30_000);

    it("fails, printing Kibana's answer, when an import reports object errors with HTTP 200", async () => {
        const kibana = await fake();
        const broken = path.join(dir, "broken.ndjson");
        fs.writeFileSync(broken, toNdjson(OBJECTS.filter((o) => o.id !== KIBANA_OBJECT_IDS.allLogsDataView)));
        const staged = stageCurlStep(path.join(dir, "broken"), "kibana-setup.sh", kibanaProvisioningPlanFiles(kibanaProvisioningPlan(broken)));
        const result = await runScript(staged.scriptPath, env(kibana.url, {}, PASSWORD, staged.planPath));
        expect(result.code).toBe(1);
        expect(result.stderr).toContain("elk-kibana-setup: FAILED (200): import data views");
        expect(result.stderr).toContain("missing_references");
    }, 30_000);

    it("stops on a wrong password, and refuses a Kibana its CA does not vouch for", async () => {
        const kibana = await fake();
        const wrong = await runScript(scriptFile, env(kibana.url, {}, "nope"));
        expect(wrong.code).toBe(1);
        expect(wrong.stderr).toContain("refused the elastic password (HTTP 401)");
        const rogue = await runScript(scriptFile, env(kibana.url, { [KIBANA_SETUP_ENV.ca]: pki.rogueCaCert }));
        expect(rogue.code).toBe(1);
        expect(rogue.stderr).toContain("not available after 3 attempts (last HTTP 000)");
        expect(kibana.objects.size).toBe(0);
    }, 30_000);

    it("refuses a password with a line break before sending anything, and removes the password file after a run", async () => {
        const kibana = await fake();
        const injected = env(kibana.url, {}, "pw\ninsecure\n#");
        const refused = await runScript(scriptFile, injected);
        expect(refused.code).toBe(1);
        expect(refused.stderr).toContain("holds a NUL, CR or LF byte: refused");
        expect(kibana.requests).toEqual([]);
        const ok = env(kibana.url);
        const run = await runScript(scriptFile, ok);
        expect(run.code).toBe(0);
        expect(fs.readdirSync(ok.ELK_CONFIDENTIAL_DIR)).toEqual([]);
    }, 30_000);
});

describe("kibanaProvisioningSpec", () => {
    it("is a job with the script, its plan, the objects of the stack and the CA; the password only as a 0600 secret file", () => {
        const spec = kibanaProvisioningSpec({ name: "kibana-setup", version: "9.4.1", kibanaUrl: "https://kibana:5601", caCertPem: "CA-PEM", elasticPassword: "s3cret-pw", environment: "dev", sources: SOURCES });
        expect(spec).toMatchObject({ kind: "job", privileged: false, image: "docker.elastic.co/elasticsearch/elasticsearch:9.4.1", env: { ELK_KIBANA_URL: "https://kibana:5601", ELK_CONFIDENTIAL: "elastic", ELK_CONFIDENTIAL_DIR: "/tmp" } });
        expect(spec.entrypoint).toEqual(["/bin/bash", "/opt/elk-kibana-setup/kibana-setup.sh"]);
        expect(spec.files.map((f) => f.path)).toEqual([
            "/opt/elk-kibana-setup/kibana-setup.sh",
            "/opt/elk-kibana-setup/elk-common.sh",
            "/opt/elk-kibana-setup/plan.tsv",
            "/opt/elk-kibana-setup/body-2.json",
            KIBANA_OBJECTS_FILE,
            "/opt/elk-kibana-setup/ca.crt",
            "/tmp/elk-secret.elastic",
        ]);
        expect(spec.files[4].content).toBe(toNdjson(OBJECTS));
        const secret = spec.files[6];
        expect(secret).toEqual({ path: "/tmp/elk-secret.elastic", content: "s3cret-pw", mode: "0600", secret: true });
        expect(JSON.stringify(spec.files.filter((f) => !f.secret))).not.toContain("s3cret-pw");
        expect(JSON.stringify(spec.env)).not.toContain("s3cret-pw");
    });
});
