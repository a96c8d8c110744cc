/**
 * The bootstrap plan: the Elasticsearch requests that set up users, roles, templates and policies once the cluster is
 * up, and the files and job spec of the step that sends them (shell/bootstrap.sh).
 */
import * as pulumi from "@pulumi/pulumi";
import { ES_RUN_AS } from "./elasticsearch";
import { type SecretValue, scriptFiles, secretFiles } from "./shellScripts";
import { type FileSpec, type JobSpec, publicFile } from "./spec";
import { BOOTSTRAP_SECRETS, type BodyValue, type BootstrapRequest, type SecretName, type SecretRef } from "./requests";

export { BOOTSTRAP_SECRETS, type BodyValue, type BootstrapRequest, type SecretName, type SecretRef } from "./requests";

/** Where the bootstrap's files go inside its container. */
export const BOOTSTRAP_DIR = "/opt/elk-bootstrap";
/**
 * Where a one-shot step's secret files go: /tmp, where the step's user may remove a file it owns (the directory is
 * sticky and world-writable), so the script deletes each secret once read and the kept, exited container holds none.
 */
export const STEP_SECRET_DIR = "/tmp";

/** Environment variables the bootstrap script reads; none holds a secret (see shell/bootstrap.sh). */
export const BOOTSTRAP_ENV = {
    esUrl: "ELK_ES_URL",
    ca: "ELK_CA",
    plan: "ELK_PLAN",
    attempts: "ELK_WAIT_ATTEMPTS",
    interval: "ELK_WAIT_INTERVAL_SECONDS",
    deadline: "ELK_DEADLINE_SECONDS",
    backoffMax: "ELK_BACKOFF_MAX_SECONDS",
} as const;

/** Upper bound of a {@link curlScriptJob} step, seconds. */
export const STEP_TIMEOUT_SECONDS = 600;

/**
 * Seconds the bootstrap may spend retrying before it gives up on its own, inside the step's limit: it then fails
 * with its own message rather than being killed.
 */
export const BOOTSTRAP_DEADLINE_SECONDS = STEP_TIMEOUT_SECONDS - 60;

/** Inputs of {@link bootstrapPlan}. */
export interface BootstrapPlanInput {
    /** Name of the Logstash writer user. */
    readonly logstashUser: string;
    /** Name of the Logstash writer role. */
    readonly logstashRole: string;
    /** Index patterns Logstash may write to, and nothing else. */
    readonly logstashIndexPatterns: readonly string[];
    /**
     * Whether to set the password of the built-in `kibana_system` user (true when unset). False where that user does
     * not exist: ECK turns the reserved realm off (`xpack.security.authc.reserved_realm.enabled: false`,
     * cloud-on-k8s pkg/controller/elasticsearch/settings/merged_config.go), and Elasticsearch then answers the request
     * with 400 "user must exist in order to change password".
     */
    readonly setKibanaSystemPassword?: boolean;
}

/** The role Logstash writes with: append documents to its own data streams, nothing more. */
export function logstashWriterRole(indexPatterns: readonly string[]): { [key: string]: BodyValue } {
    return {
        // `monitor` lets the output read the cluster version and license at start-up; no write on cluster state.
        cluster: ["monitor"],
        indices: [
            {
                names: [...indexPatterns],
                // create_doc: append only (no update, no delete); auto_configure: create the data stream and
                // pick up new fields from the matching index template on first write.
                privileges: ["create_doc", "auto_configure"],
            },
        ],
        metadata: { managed_by: "elk-stack" },
    };
}

/**
 * Every request the bootstrap makes, in order. Pure: tests check it request by request, and the script runs
 * exactly this list. Each request creates or overwrites, so running it on every `pulumi up` is safe.
 */
export function bootstrapPlan(input: BootstrapPlanInput): BootstrapRequest[] {
    return [
        {
            description: "wait until the cluster is at least yellow",
            method: "GET",
            path: "/_cluster/health?wait_for_status=yellow&timeout=60s",
            okStatus: [200],
            // 408: still not yellow when the 60 s wait ran out; 503: no master elected yet. Both happen on a slow start.
            retryStatus: [408, 503],
        },
        ...(input.setKibanaSystemPassword === false
            ? []
            : [
                  {
                      description: "set the password of the built-in kibana_system user",
                      method: "POST" as const,
                      path: "/_security/user/kibana_system/_password",
                      body: { password: { fromSecret: BOOTSTRAP_SECRETS.kibanaSystemPassword } },
                      okStatus: [200],
                  },
              ]),
        {
            description: `create or update role ${input.logstashRole}`,
            method: "PUT",
            path: `/_security/role/${encodeURIComponent(input.logstashRole)}`,
            body: logstashWriterRole(input.logstashIndexPatterns),
            okStatus: [200],
        },
        {
            description: `create or update user ${input.logstashUser}`,
            method: "PUT",
            path: `/_security/user/${encodeURIComponent(input.logstashUser)}`,
            body: {
                password: { fromSecret: BOOTSTRAP_SECRETS.logstashWriterPassword },
                roles: [input.logstashRole],
                full_name: "Logstash writer (elk-stack)",
                metadata: { managed_by: "elk-stack" },
            },
            okStatus: [200],
        },
    ];
}

function isSecretRef(v: BodyValue): v is SecretRef {
    return typeof v === "object" && v !== null && !Array.isArray(v) && typeof (v as SecretRef).fromSecret === "string" && Object.keys(v).length === 1;
}

/** Placeholder that stands for a secret in a rendered body; the script swaps it for the JSON-escaped value. */
export function secretPlaceholder(name: SecretName): string {
    return `@@${name}@@`;
}

/**
 * Serialises a body to JSON with secret references left as bare placeholders. Any other text holding `@@` is refused:
 * the script would take it for a placeholder (and a plain string that is exactly a placeholder would become one).
 */
export function bodyTemplate(body: BodyValue): string {
    const plain = (text: string): string => {
        if (text.includes("@@")) throw new Error(`a request body holds ${JSON.stringify(text)}: '@@' marks a secret's placeholder there`);
        return text;
    };
    const walk = (v: BodyValue): unknown => {
        if (isSecretRef(v)) return secretPlaceholder(v.fromSecret);
        if (Array.isArray(v)) return v.map((x: BodyValue) => walk(x));
        if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [plain(k), walk(x)]));
        return typeof v === "string" ? plain(v) : v;
    };
    // JSON.stringify quotes the placeholder; drop those quotes so the script inserts a complete JSON string.
    return JSON.stringify(walk(body)).replace(/"(@@[a-z_]+@@)"/g, "$1");
}

/** A plan as the scripts read it: tab-separated lines, and the request bodies as files beside it. */
export interface PlanFiles {
    /** The plan file's text. */
    readonly plan: string;
    /** Body files by name (relative to the plan's folder). */
    readonly bodies: Readonly<Record<string, string>>;
}

/**
 * One line of a plan: fields joined by tabs, `-` for an empty one. A field cannot hold a tab or a line break (it
 * would split the line), so such a field is an error here rather than a different request in the script.
 */
export function planLine(fields: readonly string[]): string {
    for (const f of fields) {
        if (/[\t\r\n\0]/.test(f)) throw new Error(`plan field ${JSON.stringify(f)} holds a tab, line break or NUL`);
    }
    return fields.map((f) => (f === "" ? "-" : f)).join("\t");
}

/** The plan file and body files shell/bootstrap.sh runs: exactly `plan`, in order. */
export function bootstrapPlanFiles(plan: readonly BootstrapRequest[]): PlanFiles {
    const bodies: Record<string, string> = {};
    const lines = plan.map((r, i) => {
        let bodyFile = "";
        if (r.body !== undefined) {
            bodyFile = `body-${i + 1}.json`;
            bodies[bodyFile] = bodyTemplate(r.body);
        }
        return planLine([r.method, r.path, r.okStatus.join(" "), (r.retryStatus ?? []).join(" "), bodyFile, r.description]);
    });
    return { plan: `${lines.join("\n")}\n`, bodies };
}

/** Inputs of {@link curlScriptJob}. */
export interface CurlScriptJobInput {
    readonly name: string;
    readonly description: string;
    readonly role: JobSpec["role"];
    /** Elastic release of the image the script runs in. */
    readonly version: string;
    /** Folder of the step's files inside its container. */
    readonly dir: string;
    readonly script: "bootstrap.sh" | "kibana-setup.sh";
    readonly plan: PlanFiles;
    readonly caCertPem: pulumi.Input<string>;
    /** Plain environment; never a secret. */
    readonly env: Readonly<Record<string, string>>;
    /** Secrets the script reads from files, by name. */
    readonly secrets: Readonly<Record<string, SecretValue>>;
    /** More files beside the script, in `dir`. */
    readonly files?: readonly FileSpec[];
}

/** Environment variables every {@link curlScriptJob} script reads: its CA file and its plan. */
export const CURL_STEP_ENV = { ca: "ELK_CA", plan: "ELK_PLAN" } as const;

/**
 * A step that runs one of the stack's bash + curl scripts (shell/) in the Elasticsearch image (it has both, and is
 * already on the host) as the image's user, with the stack's CA, the plan and the secret files beside it. The
 * bootstrap and the Kibana set-up are such steps.
 */
export function curlScriptJob(input: CurlScriptJobInput): JobSpec {
    const secrets = secretFiles(STEP_SECRET_DIR, input.secrets);
    return {
        kind: "job",
        name: input.name,
        description: input.description,
        role: input.role,
        image: `docker.elastic.co/elasticsearch/elasticsearch:${input.version}`,
        entrypoint: ["/bin/bash", `${input.dir}/${input.script}`],
        env: { ...input.env, ...secrets.env, [CURL_STEP_ENV.ca]: `${input.dir}/ca.crt`, [CURL_STEP_ENV.plan]: `${input.dir}/plan.tsv` },
        files: [
            ...scriptFiles(input.dir, input.script),
            publicFile(`${input.dir}/plan.tsv`, input.plan.plan),
            ...Object.entries(input.plan.bodies).map(([name, content]) => publicFile(`${input.dir}/${name}`, content)),
            ...(input.files ?? []),
            publicFile(`${input.dir}/ca.crt`, input.caCertPem),
            ...secrets.files,
        ],
        runAs: ES_RUN_AS,
        privileged: false,
        timeoutSeconds: STEP_TIMEOUT_SECONDS,
        memoryMb: 128,
    };
}
