import * as pulumi from "@pulumi/pulumi";
import { ES_RUN_AS } from "./elasticsearch";
import { type FileSpec, type JobSpec, type PlacedJob, type Platform, publicFile } from "./spec";

/** Where the bootstrap's files go inside its container. */
export const BOOTSTRAP_DIR = "/opt/elk-bootstrap";

/** Environment variables the bootstrap script reads. Secrets arrive only through these, never in the script. */
export const BOOTSTRAP_ENV = {
    esUrl: "ELK_ES_URL",
    ca: "ELK_CA",
    elasticPassword: "ELASTIC_PASSWORD",
    kibanaSystemPassword: "ELK_KIBANA_SYSTEM_PASSWORD",
    logstashWriterPassword: "ELK_LOGSTASH_PASSWORD",
    attempts: "ELK_WAIT_ATTEMPTS",
    interval: "ELK_WAIT_INTERVAL_SECONDS",
    deadline: "ELK_DEADLINE_SECONDS",
} as const;

/** Upper bound of a {@link curlScriptJob} step, seconds. */
export const STEP_TIMEOUT_SECONDS = 600;

/**
 * Seconds the bootstrap may spend retrying before it gives up on its own, inside the step's limit: it then fails
 * with its own message rather than being killed.
 */
export const BOOTSTRAP_DEADLINE_SECONDS = STEP_TIMEOUT_SECONDS - 60;

/** Name of an environment variable holding a secret that a request body needs. */
export type SecretEnvName = (typeof BOOTSTRAP_ENV)["kibanaSystemPassword" | "logstashWriterPassword"];

/** A value in a request body that the script fills in from the environment at run time. */
export interface SecretRef {
    readonly fromEnv: SecretEnvName;
}

/** A JSON body in which some strings are secrets taken from the environment. */
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

/** Inputs of {@link bootstrapPlan}. */
export interface BootstrapPlanInput {
    /** Name of the Logstash writer user. */
    readonly logstashUser: string;
    /** Name of the Logstash writer role. */
    readonly logstashRole: string;
    /** Index patterns Logstash may write to, and nothing else. */
    readonly logstashIndexPatterns: readonly string[];
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
        {
            description: "set the password of the built-in kibana_system user",
            method: "POST",
            path: "/_security/user/kibana_system/_password",
            body: { password: { fromEnv: BOOTSTRAP_ENV.kibanaSystemPassword } },
            okStatus: [200],
        },
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
                password: { fromEnv: BOOTSTRAP_ENV.logstashWriterPassword },
                roles: [input.logstashRole],
                full_name: "Logstash writer (elk-stack)",
                metadata: { managed_by: "elk-stack" },
            },
            okStatus: [200],
        },
    ];
}

function isSecretRef(v: BodyValue): v is SecretRef {
    return typeof v === "object" && v !== null && !Array.isArray(v) && typeof (v as SecretRef).fromEnv === "string" && Object.keys(v).length === 1;
}

/** Placeholder that stands for a secret in a rendered body; the script swaps it for the JSON-escaped value. */
export function secretPlaceholder(env: SecretEnvName): string {
    return `@@${env}@@`;
}

/** Serialises a body to JSON with secret references left as bare placeholders. */
export function bodyTemplate(body: BodyValue): string {
    const walk = (v: BodyValue): unknown => {
        if (isSecretRef(v)) return secretPlaceholder(v.fromEnv);
        if (Array.isArray(v)) return v.map((x: BodyValue) => walk(x));
        if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
        return v;
    };
    // JSON.stringify quotes the placeholder; drop those quotes so the script inserts a complete JSON string.
    return JSON.stringify(walk(body)).replace(/"(@@[A-Z_]+@@)"/g, "$1");
}

/** Quotes a string for bash as one word, whatever it holds. */
export function shellQuote(s: string): string {
    return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The bash script that runs the plan with curl (both are in the Elasticsearch image). It verifies
 * Elasticsearch's certificate against the stack's CA under the host name in the URL, never with `-k`.
 */
export function bootstrapScript(plan: readonly BootstrapRequest[]): string {
    const e = BOOTSTRAP_ENV;
    const secretNames = [e.kibanaSystemPassword, e.logstashWriterPassword];
    const steps = plan.map((r) =>
        [
            "run_step",
            shellQuote(r.description),
            r.method,
            shellQuote(r.path),
            shellQuote(r.body === undefined ? "" : bodyTemplate(r.body)),
            shellQuote(r.okStatus.join(" ")),
            shellQuote((r.retryStatus ?? []).join(" ")),
        ].join(" "),
    );
    return `#!/bin/bash
# Generated by elk-stack: sets up users and roles in Elasticsearch. Idempotent: every request creates or
# overwrites, so it runs again safely on any \`pulumi up\`. Secrets come from the environment only.
set -euo pipefail
# bash 5.2 would expand '&' in a pattern substitution's replacement; passwords may contain it.
shopt -u patsub_replacement 2>/dev/null || true

: "\${${e.esUrl}:?${e.esUrl} must be set}"
: "\${${e.ca}:?${e.ca} must be set}"
: "\${${e.elasticPassword}:?${e.elasticPassword} must be set}"
${secretNames.map((n) => `: "\${${n}:?${n} must be set}"`).join("\n")}
attempts="\${${e.attempts}:-60}"
interval="\${${e.interval}:-5}"
# Seconds since the start (bash's SECONDS) after which a "not yet" answer is a failure.
deadline="\${${e.deadline}:-${BOOTSTRAP_DEADLINE_SECONDS}}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
umask 077

# Escapes a value for a JSON string (and a curl config string: same rules for quote and backslash).
quote() {
  local s=$1
  s=\${s//\\\\/\\\\\\\\}
  s=\${s//\\"/\\\\\\"}
  printf '"%s"' "$s"
}

# The password goes to curl through a config file, not the command line, so no process listing shows it.
printf 'user = %s\\n' "$(quote "elastic:\${${e.elasticPassword}}")" > "$work/auth"

es() { # es METHOD PATH BODYFILE -> HTTP status on stdout (000 when no response), response in $work/response
  # --max-time outlasts the health request's own 60 s server-side wait.
  local args=(--silent --show-error --max-time 90 --cacert "\${${e.ca}}" --config "$work/auth"
    --request "$1" --output "$work/response" --write-out '%{http_code}')
  if [ -s "$3" ]; then args+=(--header 'Content-Type: application/json' --data-binary "@$3"); fi
  rm -f "$work/response"
  local code
  # curl writes 000 itself when it gets no response; never append a second status.
  code=$(curl "\${args[@]}" "\${${e.esUrl}}$2") || true
  echo "\${code:-000}"
}

: > "$work/empty"
for ((i = 1; ; i++)); do
  code=$(es GET / "$work/empty")
  case "$code" in
    200) break ;;
    401) echo "elk-bootstrap: Elasticsearch refused the elastic password (HTTP 401)" >&2; exit 1 ;;
  esac
  if [ "$i" -ge "$attempts" ]; then
    echo "elk-bootstrap: Elasticsearch at \${${e.esUrl}} not reachable after $attempts attempts (last HTTP $code)" >&2
    exit 1
  fi
  echo "elk-bootstrap: waiting for Elasticsearch (HTTP $code), attempt $i of $attempts"
  sleep "$interval"
done

run_step() { # run_step DESCRIPTION METHOD PATH BODY OK_CODES RETRY_CODES
  local body=$4
${secretNames.map((n) => `  body=\${body//${secretPlaceholder(n)}/"$(quote "\${${n}}")"}`).join("\n")}
  printf '%s' "$body" > "$work/body"
  local code again
  while :; do
    code=$(es "$2" "$3" "$work/body")
    for ok in $5; do
      if [ "$code" = "$ok" ]; then echo "elk-bootstrap: ok ($code): $1"; return 0; fi
    done
    again=no
    for r in $6; do if [ "$code" = "$r" ]; then again=yes; fi; done
    if [ "$again" = no ]; then break; fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "elk-bootstrap: still HTTP $code after $SECONDS s, past the deadline of $deadline s" >&2
      break
    fi
    echo "elk-bootstrap: not yet (HTTP $code): $1; again in $interval s"
    sleep "$interval"
  done
  echo "elk-bootstrap: FAILED ($code): $1: $2 $3" >&2
  # Only this step's response: a dropped connection leaves none.
  if [ -s "$work/response" ]; then cat "$work/response" >&2; echo >&2; fi
  exit 1
}

${steps.join("\n")}
echo "elk-bootstrap: done"
`;
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
    readonly scriptName: string;
    readonly script: string;
    readonly caCertPem: pulumi.Input<string>;
    /** Environment variable that receives the path of the CA file. */
    readonly caEnv: string;
    readonly env: Readonly<Record<string, string>>;
    readonly secretEnv: JobSpec["secretEnv"];
    /** More files beside the script, in `dir`. */
    readonly files?: readonly FileSpec[];
}

/**
 * A step that runs a generated bash + curl script in the Elasticsearch image (it has both, and is already on the
 * host) as the image's user, with the stack's CA beside it. The bootstrap and the Kibana set-up are such steps.
 */
export function curlScriptJob(input: CurlScriptJobInput): JobSpec {
    return {
        kind: "job",
        name: input.name,
        description: input.description,
        role: input.role,
        image: `docker.elastic.co/elasticsearch/elasticsearch:${input.version}`,
        entrypoint: ["/bin/bash", `${input.dir}/${input.scriptName}`],
        env: { ...input.env, [input.caEnv]: `${input.dir}/ca.crt` },
        secretEnv: input.secretEnv,
        files: [publicFile(`${input.dir}/${input.scriptName}`, input.script, "0755"), ...(input.files ?? []), publicFile(`${input.dir}/ca.crt`, input.caCertPem)],
        runAs: ES_RUN_AS,
        privileged: false,
        timeoutSeconds: STEP_TIMEOUT_SECONDS,
        memoryMb: 128,
    };
}

/** Arguments of {@link Bootstrap}. */
export interface BootstrapArgs {
    /** Where the step runs (Docker or Kubernetes). */
    platform: Platform;
    /** Elastic release; the script runs in the Elasticsearch image, which has bash and curl. */
    version: string;
    /** Instance name of the step. */
    name: string;
    /** Elasticsearch URL inside the stack. */
    elasticsearchUrl: string;
    /** The stack CA's certificate (PEM): the step verifies Elasticsearch against it. */
    caCertPem: pulumi.Input<string>;
    /** Password of the `elastic` superuser the step authenticates as (secret). */
    elasticPassword: pulumi.Input<string>;
    /** Password the step sets for the built-in `kibana_system` user (secret). */
    kibanaSystemPassword: pulumi.Input<string>;
    /** Password the step sets for Logstash's writer user (secret). */
    logstashWriterPassword: pulumi.Input<string>;
    /** Name of the least-privilege user Logstash writes as, created by the step. */
    logstashUser: string;
    /** Name of that user's role, created by the step. */
    logstashRole: string;
    /** Index patterns the role may create and write (the environment's log data streams). */
    logstashIndexPatterns: string[];
    /** More requests to run after users and roles (index templates, lifecycle policies). */
    extraRequests?: readonly BootstrapRequest[];
    /** Elasticsearch must be ready first. */
    elasticsearchReady: pulumi.Resource;
}

/**
 * Sets the kibana_system password and creates Logstash's least-privilege role and user, once Elasticsearch is
 * healthy. On Docker a one-shot container; on Kubernetes a Job. It runs again whenever what it sets changes.
 */
export class Bootstrap extends pulumi.ComponentResource {
    /** The finished step; Kibana and Logstash wait for it to have succeeded. */
    readonly step: PlacedJob;
    /** The requests it makes. */
    readonly plan: readonly BootstrapRequest[];

    constructor(name: string, args: BootstrapArgs, opts?: pulumi.ComponentResourceOptions) {
        super("elk:index:Bootstrap", name, {}, opts);
        this.plan = [
            ...bootstrapPlan({ logstashUser: args.logstashUser, logstashRole: args.logstashRole, logstashIndexPatterns: args.logstashIndexPatterns }),
            ...(args.extraRequests ?? []),
        ];
        const spec = curlScriptJob({
            name: args.name,
            description: "bootstrap of users, roles, lifecycle policy and index templates",
            role: "bootstrap",
            version: args.version,
            dir: BOOTSTRAP_DIR,
            scriptName: "bootstrap.sh",
            script: bootstrapScript(this.plan),
            caCertPem: args.caCertPem,
            caEnv: BOOTSTRAP_ENV.ca,
            env: { [BOOTSTRAP_ENV.esUrl]: args.elasticsearchUrl, [BOOTSTRAP_ENV.deadline]: String(BOOTSTRAP_DEADLINE_SECONDS) },
            secretEnv: {
                [BOOTSTRAP_ENV.elasticPassword]: { description: "password of the elastic superuser", value: args.elasticPassword },
                [BOOTSTRAP_ENV.kibanaSystemPassword]: { description: "password to set for kibana_system", value: args.kibanaSystemPassword },
                [BOOTSTRAP_ENV.logstashWriterPassword]: { description: `password to set for ${args.logstashUser}`, value: args.logstashWriterPassword },
            },
        });
        this.step = args.platform.runJob(spec, { parent: this, dependsOn: [args.elasticsearchReady] });
        this.registerOutputs({});
    }
}
