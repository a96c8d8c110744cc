/**
 * Kibana's saved objects (data views, the "Web traffic and errors" dashboard, the live log search) and the
 * step that imports them once Kibana is healthy. The objects live as NDJSON files in `kibana/`, in the format
 * of Kibana's export; the functions here load them, fill in the stack's environment, add a data view per log
 * source, and build the requests and the bash + curl script that import them. Pure but for reading the files.
 *
 * Idempotence: objects have fixed ids and are imported with `overwrite=true`, so a second import replaces
 * each object with the same content and creates nothing new. Edits made in Kibana's UI to these objects are
 * overwritten by the next run; save a copy under another name to keep them.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { BOOTSTRAP_SECRETS, type PlanFiles, curlScriptJob, planLine } from "./bootstrap";
import type { LogSource } from "./sources";
import { type JobSpec, publicFile } from "./spec";
import { PACKAGE_ROOT } from "./packageRoot";

/** The repository's saved-object folder. */
export const DEFAULT_KIBANA_OBJECTS_DIR = path.join(PACKAGE_ROOT, "kibana");

/** Placeholder in the NDJSON files for the stack's environment (data view titles name its data streams). */
export const ENVIRONMENT_PLACEHOLDER = "{{environment}}";

/** Fixed ids of the objects in `kibana/`, for code that links to them. */
export const KIBANA_OBJECT_IDS = {
    nginxDataView: "elk-logs-nginx",
    djangoDataView: "elk-logs-django",
    parseFailureDataView: "elk-logs-parse-failures",
    allLogsDataView: "elk-logs-all",
    liveLogsSearch: "elk-live-logs",
    dashboard: "elk-web-traffic",
} as const;

/** A reference from one saved object to another. */
export interface SavedObjectReference {
    readonly id: string;
    readonly type: string;
    readonly name: string;
}

/** A saved object as Kibana's export writes it (one NDJSON line). */
export interface SavedObject {
    readonly id: string;
    readonly type: string;
    readonly attributes: Readonly<Record<string, unknown>>;
    readonly references: readonly SavedObjectReference[];
    readonly coreMigrationVersion?: string;
    readonly typeMigrationVersion?: string;
    readonly managed?: boolean;
}

function isRecord(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

function asSavedObject(value: unknown, where: string): SavedObject {
    if (!isRecord(value)) throw new Error(`${where}: not a JSON object`);
    const { id, type, attributes, references } = value;
    if (typeof id !== "string" || id === "") throw new Error(`${where}: missing "id"`);
    if (typeof type !== "string" || type === "") throw new Error(`${where}: missing "type"`);
    if (!isRecord(attributes)) throw new Error(`${where}: "attributes" is not an object`);
    if (!Array.isArray(references)) throw new Error(`${where}: "references" is not an array`);
    references.forEach((r: unknown, i) => {
        if (!isRecord(r) || typeof r.id !== "string" || typeof r.type !== "string" || typeof r.name !== "string") {
            throw new Error(`${where}: reference ${i} needs string id, type and name`);
        }
    });
    return value as unknown as SavedObject;
}

/** Parses NDJSON text into saved objects; `file` names the source in errors. Blank lines are skipped. */
export function parseNdjson(text: string, file: string): SavedObject[] {
    const objects: SavedObject[] = [];
    text.split("\n").forEach((line, i) => {
        if (line.trim() === "") return;
        let value: unknown;
        try {
            value = JSON.parse(line) as unknown;
        } catch (err) {
            throw new Error(`${file}:${i + 1}: not JSON (${(err as Error).message})`);
        }
        objects.push(asSavedObject(value, `${file}:${i + 1}`));
    });
    return objects;
}

/** Every object of every `*.ndjson` file in `dir`, files in name order. Throws on a duplicate type and id. */
export function loadSavedObjects(dir: string = DEFAULT_KIBANA_OBJECTS_DIR): SavedObject[] {
    const files = fs
        .readdirSync(dir)
        .filter((n) => n.endsWith(".ndjson"))
        .sort();
    const objects = files.flatMap((f) => parseNdjson(fs.readFileSync(path.join(dir, f), "utf8"), f));
    const seen = new Set<string>();
    for (const o of objects) {
        const key = `${o.type}:${o.id}`;
        if (seen.has(key)) throw new Error(`saved object ${key} is defined twice in ${dir}`);
        seen.add(key);
    }
    return objects;
}

/** A deep copy of `value` with the environment placeholder replaced in every string. */
function fillEnvironment<T>(value: T, environment: string): T {
    const walk = (v: unknown): unknown => {
        if (typeof v === "string") return v.replaceAll(ENVIRONMENT_PLACEHOLDER, environment);
        if (Array.isArray(v)) return v.map(walk);
        if (isRecord(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
        return v;
    };
    return walk(value) as T;
}

/** Id of the data view of one source. */
export function sourceDataViewId(source: Pick<LogSource, "dataset">): string {
    return `elk-logs-${source.dataset}`;
}

/** A data view over exactly one source's data stream, so each service can be explored on its own. */
export function sourceDataView(source: Pick<LogSource, "name" | "kind" | "dataset">, environment: string): SavedObject {
    return {
        id: sourceDataViewId(source),
        type: "index-pattern",
        coreMigrationVersion: "8.8.0",
        typeMigrationVersion: "8.0.0",
        managed: false,
        references: [],
        attributes: {
            title: `logs-${source.dataset}-${environment}`,
            name: `${source.kind} ${source.name} (${environment})`,
            timeFieldName: "@timestamp",
            // The data view exists before the first event does (the stream is created on first write).
            allowNoIndex: true,
            fieldAttrs: "{}",
            fieldFormatMap: "{}",
            runtimeFieldMap: "{}",
            sourceFilters: "[]",
        },
    };
}

/** Input of {@link stackSavedObjects}. */
export interface StackObjectsInput {
    readonly environment: string;
    readonly sources: readonly Pick<LogSource, "name" | "kind" | "dataset">[];
    /** Folder of the NDJSON files; the repository's `kibana/` by default. */
    readonly dir?: string;
}

/**
 * The objects of one stack: the files' objects with the environment filled in, then one data view per source.
 * Data views per kind (`logs-nginx.*-<env>`) cover every source of that kind, so the dashboard needs no
 * change when a source is added; the per-source ones are for looking at one service alone.
 */
export function stackSavedObjects(input: StackObjectsInput): SavedObject[] {
    if (!/^[a-z0-9_]{1,64}$/.test(input.environment)) {
        // The rule of config.ts: a data stream namespace, and it lands unquoted in data view titles.
        throw new Error(`environment '${input.environment}' cannot be a data stream namespace`);
    }
    const files = loadSavedObjects(input.dir).map((o) => fillEnvironment(o, input.environment));
    return [...files, ...input.sources.map((s) => sourceDataView(s, input.environment))];
}

/** Saved objects as the NDJSON Kibana's import API takes. */
export function toNdjson(objects: readonly SavedObject[]): string {
    return `${objects.map((o) => JSON.stringify(o)).join("\n")}\n`;
}

/** Where the provisioning step's files go inside its container. */
export const KIBANA_SETUP_DIR = "/opt/elk-kibana-setup";
/** The NDJSON file the script uploads; Kibana's import insists on the `.ndjson` extension. */
export const KIBANA_OBJECTS_FILE = `${KIBANA_SETUP_DIR}/objects.ndjson`;

/** Environment variables the provisioning script reads; none holds a secret (see shell/kibana-setup.sh). */
export const KIBANA_SETUP_ENV = {
    kibanaUrl: "ELK_KIBANA_URL",
    ca: "ELK_CA",
    plan: "ELK_PLAN",
    attempts: "ELK_WAIT_ATTEMPTS",
    interval: "ELK_WAIT_INTERVAL_SECONDS",
} as const;

/** One Kibana API call of the provisioning step. */
export interface KibanaRequest {
    readonly description: string;
    readonly method: "POST" | "PUT";
    /** Path and query, starting with `/`. */
    readonly path: string;
    /** A JSON body, or a file uploaded as multipart form field `file`. */
    readonly body: { readonly json: unknown } | { readonly file: string };
    readonly okStatus: readonly number[];
    /**
     * Text the response must contain. Kibana's import answers 200 even when objects fail, with
     * `"success":false` and the errors: the status alone would call a failed import a success.
     */
    readonly responseMustContain?: string;
}

/**
 * The requests that provision Kibana: import every object (overwriting ours, creating them the first time) and
 * make the all-logs data view the default, so Discover opens on the stack's logs. Both are upserts.
 */
export function kibanaProvisioningPlan(objectsFile: string = KIBANA_OBJECTS_FILE): KibanaRequest[] {
    return [
        {
            description: "import data views, the live log search and the web traffic dashboard",
            method: "POST",
            path: "/api/saved_objects/_import?overwrite=true",
            body: { file: objectsFile },
            okStatus: [200],
            responseMustContain: '"success":true',
        },
        {
            description: `make ${KIBANA_OBJECT_IDS.allLogsDataView} the default data view`,
            method: "POST",
            path: "/api/data_views/default",
            body: { json: { data_view_id: KIBANA_OBJECT_IDS.allLogsDataView, force: true } },
            okStatus: [200],
        },
    ];
}

/**
 * The plan file and JSON bodies shell/kibana-setup.sh runs: it waits for Kibana, then sends each request with
 * curl, verifying Kibana's certificate against the stack's CA (never `-k`), with the password only in an
 * Authorization header file (never on a command line or in a curl config line), `kbn-xsrf` on every request, and
 * stops at any unexpected answer with the response printed.
 */
export function kibanaProvisioningPlanFiles(plan: readonly KibanaRequest[]): PlanFiles {
    const bodies: Record<string, string> = {};
    const lines = plan.map((r, i) => {
        let kind: string;
        let payload: string;
        if ("file" in r.body) {
            kind = "file";
            payload = r.body.file;
        } else {
            kind = "json";
            payload = `body-${i + 1}.json`;
            bodies[payload] = JSON.stringify(r.body.json);
        }
        return planLine([r.method, r.path, kind, payload, r.okStatus.join(" "), r.responseMustContain ?? "", r.description]);
    });
    return { plan: `${lines.join("\n")}\n`, bodies };
}

/** Input of {@link kibanaProvisioningSpec}. */
export interface KibanaProvisioningInput {
    /** Instance name of the step (container or Job name). */
    readonly name: string;
    /** Elastic release: the step runs in the Elasticsearch image, which has bash and curl. */
    readonly version: string;
    /** Kibana's URL inside the stack; its host must be a name in Kibana's certificate. */
    readonly kibanaUrl: string;
    /** The stack CA's certificate (PEM): the step verifies Kibana against it. */
    readonly caCertPem: pulumi.Input<string>;
    /** Password of `elastic` (secret): the import needs a user that may write every saved-object type. */
    readonly elasticPassword: pulumi.Input<string>;
    /** Data stream namespace the stack's events are stored under (the data views and dashboards read it). */
    readonly environment: string;
    /** The log sources the data views and dashboards are made for. */
    readonly sources: StackObjectsInput["sources"];
    /** Folder of the saved object files; this repository's `kibana/` by default. */
    readonly objectsDir?: string;
}

/**
 * The provisioning step as a job, to run after Kibana is healthy. It uses the Elasticsearch image, as the
 * bootstrap does, because that image is already on the host and is known to have bash and curl. The NDJSON
 * is a file of the job, so a change to the objects or the sources changes the job and it runs again.
 */
export function kibanaProvisioningSpec(input: KibanaProvisioningInput): JobSpec {
    const objects = stackSavedObjects({ environment: input.environment, sources: input.sources, dir: input.objectsDir });
    const e = KIBANA_SETUP_ENV;
    return curlScriptJob({
        name: input.name,
        description: "import of Kibana data views and dashboards",
        role: "kibana-setup",
        version: input.version,
        dir: KIBANA_SETUP_DIR,
        script: "kibana-setup.sh",
        plan: kibanaProvisioningPlanFiles(kibanaProvisioningPlan()),
        caCertPem: input.caCertPem,
        env: { [e.kibanaUrl]: input.kibanaUrl },
        secrets: { [BOOTSTRAP_SECRETS.elasticPassword]: { description: "password of the elastic superuser", value: input.elasticPassword } },
        files: [publicFile(KIBANA_OBJECTS_FILE, toNdjson(objects))],
    });
}
