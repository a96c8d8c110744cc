/**
 * Index templates and the lifecycle policy of the stack's log data streams, as bootstrap requests. Pure: no
 * Pulumi, no I/O. The bootstrap runs {@link indexingRequests} on every `pulumi up`; every request is a PUT
 * (create or overwrite), so a second run sends the same bodies and changes nothing, and a config change
 * (retention, sources) is applied by the next run.
 *
 * Layout, per environment `<env>`:
 * - ILM policy `elk-logs-<env>`: hot with rollover, delete after the configured retention.
 * - component template `elk-logs-<env>@settings`: points the backing indices at that policy.
 * - component templates `elk-logs-<kind>@mappings` (nginx, django, and the union for parse failures): the
 *   fields the pipelines in `pipelines/` produce, with their ECS types ({@link FIELD_MAPPINGS}).
 * - index template `elk-logs-<dataset>-<env>` per data stream `logs-<dataset>-<env>`: every source's dataset,
 *   the shared `nginx` stream (error lines when several nginx sources exist) and `elk.parse_failure`.
 *
 * Each index template is composed of Elastic's built-ins `logs@mappings` (data_stream.* as constant_keyword,
 * @timestamp), `logs@settings` and `ecs@mappings` (dynamic ECS types for any field we do not list), then ours,
 * then the optional `logs@custom` and `logs-<dataset>@custom` that operators may create: later templates win,
 * so ours override the built-ins (the lifecycle policy above all) and an operator's @custom overrides ours.
 */
import type { BodyValue, BootstrapRequest } from "./requests";
import { type LogSource, type LogSourceKind, PARSE_FAILURE_DATASET } from "./sources";

/**
 * Priority of our index templates. Elastic's built-in `logs` template (`logs-*-*`) has 100 and Fleet's
 * integration templates 200; ours must beat the first, and 250 keeps us clear of an integration someone
 * installs for a dataset of the same name. Templates with overlapping patterns and equal priority are refused,
 * which is why the number is not 100 + 1.
 */
export const INDEX_TEMPLATE_PRIORITY = 250;

/** Built-in component templates every index template is composed of (present since 8.13, so in every supported release). */
export const BUILTIN_COMPONENT_TEMPLATES: readonly string[] = ["logs@mappings", "logs@settings", "ecs@mappings"];

/** Dataset of nginx error lines when there are several nginx sources (see `pipelineSources` in sources.ts). */
export const SHARED_NGINX_DATASET = "nginx";

/** Longest retention accepted: ten years. Anything longer is almost certainly a unit mistake. */
export const MAX_RETENTION_DAYS = 3650;

/** An Elasticsearch field mapping as we use them (no nested properties: those are built from dotted names). */
export interface FieldMapping {
    readonly type: "keyword" | "match_only_text" | "long" | "float" | "ip" | "date" | "constant_keyword" | "flattened";
    readonly ignore_above?: number;
    readonly index?: boolean;
    readonly doc_values?: boolean;
    /** Multi-fields, e.g. a text variant of a keyword. */
    readonly fields?: Readonly<Record<string, { readonly type: "match_only_text" }>>;
}

/** Mappings keyed by dotted field name. */
export type FieldMap = Readonly<Record<string, FieldMapping>>;

const keyword: FieldMapping = { type: "keyword", ignore_above: 1024 };
const long: FieldMapping = { type: "long" };
const withText: FieldMapping = { type: "keyword", ignore_above: 1024, fields: { text: { type: "match_only_text" } } };

/**
 * Fields that `logs@mappings` maps and we rely on (the dashboard's time field, the data stream fields). Listed
 * so the saved-objects cross-check can accept them; we do not map them ourselves, so as not to contradict it.
 */
export const BUILTIN_FIELDS: FieldMap = {
    "@timestamp": { type: "date" },
    "data_stream.type": { type: "constant_keyword" },
    "data_stream.dataset": { type: "constant_keyword" },
    "data_stream.namespace": { type: "constant_keyword" },
};

/** Fields every pipeline writes: the syslog header, routing (90-route.conf) and the source map (50-sources.conf). */
const COMMON_FIELDS: FieldMap = {
    message: { type: "match_only_text" },
    // The whole line as received: kept for reprocessing, never searched or aggregated (ECS does the same).
    "event.original": { type: "keyword", index: false, doc_values: false },
    // The sender's id (Django) and the document id Logstash writes with: a copy sent again is refused by it.
    "event.id": keyword,
    "event.dataset": keyword,
    "event.module": keyword,
    "event.kind": keyword,
    "event.ingested": { type: "date" },
    tags: keyword,
    "service.name": keyword,
    "host.hostname": keyword,
    "host.ip": { type: "ip" },
    "log.level": keyword,
    "log.syslog.priority": long,
    "log.syslog.appname": keyword,
    "log.syslog.facility.code": long,
    "log.syslog.facility.name": keyword,
    "log.syslog.severity.code": long,
    "log.syslog.severity.name": keyword,
};

/** Fields of nginx access and error lines (pipelines/patterns/nginx, pipelines/nginx/10-parse.conf). */
const NGINX_FIELDS: FieldMap = {
    "source.ip": { type: "ip" },
    "source.address": keyword,
    "user.name": keyword,
    "http.request.method": keyword,
    "http.request.bytes": long,
    "http.request.referrer": keyword,
    "http.request.id": keyword,
    "http.response.status_code": long,
    "http.response.body.bytes": long,
    "http.version": keyword,
    // keyword rather than ECS's wildcard: the dashboard aggregates on them (top paths) and keyword is cheaper.
    "url.original": withText,
    "url.path": keyword,
    "url.query": keyword,
    "url.domain": keyword,
    "url.scheme": keyword,
    "user_agent.original": withText,
    "user_agent.name": keyword,
    "user_agent.version": keyword,
    "user_agent.device.name": keyword,
    "user_agent.os.name": keyword,
    "user_agent.os.version": keyword,
    "user_agent.os.full": keyword,
    "process.pid": long,
    "process.thread.id": long,
    // $request_time, seconds with millisecond resolution: the only per-request duration that is always numeric.
    "nginx.access.request_time": { type: "float" },
    "nginx.access.protocol": keyword,
    // $upstream_* hold one value per upstream tried ("10.0.0.1:80, 10.0.0.2:80"), so they stay strings.
    "nginx.upstream.address": keyword,
    "nginx.upstream.status": keyword,
    "nginx.upstream.response_time": keyword,
    "nginx.upstream.url": keyword,
    "nginx.error.server_name": keyword,
    "nginx.error.connection_id": long,
};

/** Fields of Django's RFC 5424 lines (pipelines/patterns/django, pipelines/django/10-parse.conf). */
const DJANGO_FIELDS: FieldMap = {
    // Captured as text by grok (no :int), and "1" is the only version there is.
    "log.syslog.version": keyword,
    "log.syslog.procid": keyword,
    "log.syslog.msgid": keyword,
    // Other senders' structured data, kept whole under .raw; ECS maps *structured_data as flattened.
    "log.syslog.structured_data": { type: "flattened" },
    // Records the app's handler had to drop before this one (queue full): the loss panel sums it.
    "elk.dropped": long,
    "log.logger": keyword,
    "log.origin.file.name": keyword,
    "log.origin.file.line": long,
    "log.origin.function": keyword,
    "process.thread.name": keyword,
};

/** Fields of events the dead_letter pipeline writes again after Elasticsearch refused them. */
const DEAD_LETTER_FIELDS: FieldMap = {
    "error.message": { type: "match_only_text" },
    "error.type": keyword,
    "elk.dead_letter.dataset": keyword,
};

/** Which field sets a mapping component holds: one per source kind, and the union for parse failures. */
export type MappingSet = LogSourceKind | "parse_failure";

/**
 * The fields each data stream gets, keyed by dotted name: common fields plus the kind's own. Parse failures
 * get every field, because a line can fail half-way and keep what its header parser already extracted.
 */
export const FIELD_MAPPINGS: Readonly<Record<MappingSet, FieldMap>> = {
    nginx: { ...COMMON_FIELDS, ...NGINX_FIELDS },
    django: { ...COMMON_FIELDS, ...DJANGO_FIELDS },
    parse_failure: { ...COMMON_FIELDS, ...NGINX_FIELDS, ...DJANGO_FIELDS, ...DEAD_LETTER_FIELDS },
};

/** Input of {@link indexingRequests}; `sources` is structurally a subset of {@link LogSource}. */
export interface IndexingInput {
    /** Data stream namespace of the stack (`logs-<dataset>-<environment>`). */
    readonly environment: string;
    /** Days a backing index is kept after it rolled over. */
    readonly retentionDays: number;
    readonly sources: readonly Pick<LogSource, "name" | "kind" | "dataset">[];
    /** Elasticsearch nodes: decides how many replicas a backing index asks for. */
    readonly nodeCount: number;
}

/** One data stream the stack writes, and the field set its template maps. */
export interface DataStreamTemplate {
    /** Index template name. */
    readonly name: string;
    readonly dataset: string;
    /** The data stream (the template's only index pattern). */
    readonly dataStream: string;
    readonly mappings: MappingSet;
}

/**
 * Replica settings that fit the cluster: one node can never place a replica, so a fixed replica keeps every
 * backing index (and the cluster) yellow; `auto_expand_replicas: 0-1` asks for one only where a second node is
 * there to hold it. Several nodes get one replica, fixed.
 */
export function replicaSettings(nodeCount: number): { [key: string]: BodyValue } {
    if (!Number.isInteger(nodeCount) || nodeCount < 1) throw new Error(`node count must be a positive whole number, got ${nodeCount}`);
    return nodeCount === 1 ? { "index.auto_expand_replicas": "0-1" } : { "index.number_of_replicas": 1 };
}

/** Name of the ILM policy of an environment. */
export function lifecyclePolicyName(environment: string): string {
    return `elk-logs-${environment}`;
}

/** Name of the settings component template of an environment. */
export function settingsComponentName(environment: string): string {
    return `elk-logs-${environment}@settings`;
}

/** Name of the mappings component template of a field set (environment-independent: fields do not vary). */
export function mappingsComponentName(set: MappingSet): string {
    return `elk-logs-${set.replace("_", "-")}@mappings`;
}

function checkRetention(days: number): void {
    if (!Number.isInteger(days) || days < 1 || days > MAX_RETENTION_DAYS) {
        throw new Error(`retention must be a whole number of days from 1 to ${MAX_RETENTION_DAYS}, got ${days}`);
    }
}

/**
 * The ILM policy body: roll over at 50 GB per primary shard (Elastic's recommended shard size) or after a
 * day, whichever comes first, and delete an index `retentionDays` after it rolled over. A day's rollover keeps
 * deletion granular: data lives between `retentionDays` and `retentionDays + 1` days.
 */
export function lifecyclePolicy(retentionDays: number): { [key: string]: BodyValue } {
    checkRetention(retentionDays);
    return {
        policy: {
            _meta: { managed_by: "elk-stack", retention_days: retentionDays },
            phases: {
                hot: {
                    min_age: "0ms",
                    actions: { rollover: { max_primary_shard_size: "50gb", max_age: "1d" } },
                },
                delete: {
                    min_age: `${retentionDays}d`,
                    actions: { delete: {} },
                },
            },
        },
    };
}

/** Nested `properties` from dotted names ("http.response.status_code" → http → response → status_code). */
export function nestedProperties(fields: FieldMap): { [key: string]: BodyValue } {
    const root: { [key: string]: BodyValue } = {};
    for (const name of Object.keys(fields).sort()) {
        const parts = name.split(".");
        let level = root;
        for (const part of parts.slice(0, -1)) {
            const existing = level[part] as { [key: string]: BodyValue } | undefined;
            const node = existing ?? { properties: {} };
            level[part] = node;
            level = node.properties as { [key: string]: BodyValue };
        }
        level[parts[parts.length - 1]] = { ...fields[name] };
    }
    return root;
}

/** The data streams of the configured sources, plus the shared nginx stream and the parse-failure stream. */
export function dataStreamTemplates(input: Pick<IndexingInput, "environment" | "sources">): DataStreamTemplate[] {
    const byDataset = new Map<string, MappingSet>();
    for (const s of input.sources) byDataset.set(s.dataset, s.kind);
    if (input.sources.some((s) => s.kind === "nginx")) byDataset.set(SHARED_NGINX_DATASET, "nginx");
    byDataset.set(PARSE_FAILURE_DATASET, "parse_failure");
    return [...byDataset.entries()].map(([dataset, mappings]) => ({
        name: `elk-logs-${dataset}-${input.environment}`,
        dataset,
        dataStream: `logs-${dataset}-${input.environment}`,
        mappings,
    }));
}

/** Body of an index template for one data stream. */
export function indexTemplate(stream: DataStreamTemplate, environment: string): { [key: string]: BodyValue } {
    const custom = ["logs@custom", `logs-${stream.dataset}@custom`];
    return {
        // The exact stream: a data view or a new source never picks up a template meant for another.
        index_patterns: [stream.dataStream],
        data_stream: {},
        priority: INDEX_TEMPLATE_PRIORITY,
        composed_of: [...BUILTIN_COMPONENT_TEMPLATES, mappingsComponentName(stream.mappings), settingsComponentName(environment), ...custom],
        // Only the operator's optional @custom templates may be absent; a missing built-in or ours is an error.
        ignore_missing_component_templates: custom,
        _meta: { managed_by: "elk-stack", dataset: stream.dataset },
    };
}

/**
 * Every request that installs the policy and the templates, in dependency order (a template may only name
 * component templates that exist; a settings component may name a policy only once it exists). Each is a PUT
 * answered 200 whether it creates or overwrites, so the second run is identical to the first.
 */
export function indexingRequests(input: IndexingInput): BootstrapRequest[] {
    const policy = lifecyclePolicyName(input.environment);
    const streams = dataStreamTemplates(input);
    const sets = [...new Set(streams.map((s) => s.mappings))];
    return [
        {
            description: `create or update lifecycle policy ${policy} (delete after ${input.retentionDays} days)`,
            method: "PUT",
            path: `/_ilm/policy/${encodeURIComponent(policy)}`,
            body: lifecyclePolicy(input.retentionDays),
            okStatus: [200],
        },
        {
            description: `create or update component template ${settingsComponentName(input.environment)}`,
            method: "PUT",
            path: `/_component_template/${encodeURIComponent(settingsComponentName(input.environment))}`,
            body: { template: { settings: { "index.lifecycle.name": policy, ...replicaSettings(input.nodeCount) } }, _meta: { managed_by: "elk-stack" } },
            okStatus: [200],
        },
        ...sets.map(
            (set): BootstrapRequest => ({
                description: `create or update component template ${mappingsComponentName(set)}`,
                method: "PUT",
                path: `/_component_template/${encodeURIComponent(mappingsComponentName(set))}`,
                body: { template: { mappings: { properties: nestedProperties(FIELD_MAPPINGS[set]) } }, _meta: { managed_by: "elk-stack" } },
                okStatus: [200],
            }),
        ),
        ...streams.map(
            (stream): BootstrapRequest => ({
                description: `create or update index template ${stream.name} for ${stream.dataStream}`,
                method: "PUT",
                path: `/_index_template/${encodeURIComponent(stream.name)}`,
                body: indexTemplate(stream, input.environment),
                okStatus: [200],
            }),
        ),
    ];
}
