/**
 * What ECK does to Elasticsearch's settings and users, as data and small functions: the settings it writes into every
 * node's elasticsearch.yml, those its validating webhook flags, the realms it turns on and off, and the users that
 * exist because of it. Every fact is read from github.com/elastic/cloud-on-k8s at tag {@link ECK_TAG} (the file is named
 * beside it), or from the Elasticsearch or Kibana source named. When the pinned operator changes
 * (ECK_OPERATOR_VERSION in components/targets/eckResources.ts), a test fails until these facts are read again from the
 * new tag.
 */

/** The cloud-on-k8s tag every fact here was read from. */
export const ECK_TAG = "v3.5.0";

type Settings = Record<string, unknown>;

/**
 * A node's settings with nested maps flattened to dotted keys, as Elasticsearch and ECK's canonical config treat them
 * (`{xpack: {security: {enabled: true}}}` is `xpack.security.enabled: true`). Lists stay values.
 */
export function flattenSettings(settings: Settings, prefix = "", out: Settings = {}): Settings {
    for (const [k, v] of Object.entries(settings)) {
        const key = prefix ? `${prefix}.${k}` : k;
        if (typeof v === "object" && v !== null && !Array.isArray(v)) flattenSettings(v as Settings, key, out);
        else out[key] = v;
    }
    return out;
}

/**
 * The security settings ECK writes into every node's elasticsearch.yml (pkg/controller/elasticsearch/settings/
 * merged_config.go, xpackConfig): security on, the reserved realm off, the file realm `file1` and the native realm
 * `native1` first in the chain. Names, addresses, discovery and TLS paths are written too (baseConfig); they decide
 * nothing the model checks.
 */
export const ECK_SECURITY_SETTINGS: Readonly<Settings> = {
    "xpack.security.enabled": "true",
    "xpack.security.authc.reserved_realm.enabled": "false",
    "xpack.security.authc.realms.file.file1.order": -100,
    "xpack.security.authc.realms.native.native1.order": -99,
};

/**
 * Settings ECK manages and a node set's `config` must not set (pkg/apis/elasticsearch/v1/fields.go,
 * UnsupportedSettings). Its webhook admits them with a warning only (pkg/controller/elasticsearch/validation/
 * warnings.go, settingsWarningsAndErrors), and the user's value then wins the merge (NewMergedESConfig merges the
 * user config last): a stack that sets one runs on an unsupported configuration, so the model treats each as refused.
 */
export const ECK_UNSUPPORTED_SETTINGS: readonly string[] = [
    "cluster.name",
    "discovery.seed_hosts",
    "discovery.seed_providers",
    "cluster.initial_master_nodes",
    "network.host",
    "network.publish_host",
    "node.name",
    "path.data",
    "path.logs",
    "xpack.security.authc.reserved_realm.enabled",
    "xpack.security.enabled",
    "xpack.security.http.ssl.certificate",
    "xpack.security.http.ssl.enabled",
    "xpack.security.http.ssl.key",
    "xpack.security.transport.ssl.enabled",
    "xpack.security.transport.ssl.verification_mode",
];

/** The keys of a node set's `config` that ECK's webhook flags as unsupported (warnings.go validateSettings). */
export function unsupportedSettings(config: Settings): string[] {
    const flat = flattenSettings(config);
    return ECK_UNSUPPORTED_SETTINGS.filter((k) => k in flat);
}

const isMap = (v: unknown): v is Settings => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * `settings` as ucfg reads them (with ECK's `Options`, below): every key a path split at `.`, so a key written
 * dotted or nested is the same path. A path set twice is refused ("duplicate key", merge.go normalizeSetField) or
 * merged depending on which of the two ucfg meets first, which Go's map order leaves open: here it is always an
 * error. A null beside a value is dropped. Keys ucfg reads otherwise (a bracketed key under EscapePath, a numeric
 * segment as a list index: path.go parsePath, parseField) are errors too, not guesses.
 */
function nested(settings: Settings): Settings {
    const out: Settings = {};
    const leaves = (node: Settings, prefix: string[]): [string[], unknown][] =>
        Object.entries(node).flatMap(([key, v]) => {
            const where = [...prefix, key].join(".");
            if (/^\[.*\]$/.test(key) || key.split(".").some((part) => /^[+-]?\d/.test(part))) throw new Error(`settings key ${where}: unmodelled (an escaped path or a list index)`);
            const path = [...prefix, ...key.split(".")];
            return isMap(v) && Object.keys(v).length > 0 ? leaves(v, path) : [[path, v] as [string[], unknown]];
        });
    for (const [path, value] of leaves(settings, [])) {
        let node = out;
        for (const [i, part] of path.slice(0, -1).entries()) {
            if (node[part] === undefined || node[part] === null) node[part] = {};
            if (!isMap(node[part])) throw new Error(`settings key ${path.join(".")}: ${path.slice(0, i + 1).join(".")} is set twice`);
            node = node[part];
        }
        const last = path[path.length - 1];
        const old = node[last];
        if (old === undefined || old === null) node[last] = value;
        else if (value === null || (isMap(old) && isMap(value) && Object.keys(value).length === 0)) continue;
        else throw new Error(`settings key ${path.join(".")}: ${path.join(".")} is set twice`);
    }
    return out;
}

/**
 * ucfg's merge of one value over another (merge.go mergeValues with AppendValues): a map over a map merges key by
 * key; a list over a list appends (mergeConfigAppendArr); a null over a map or list leaves it (an empty config
 * merged in), over anything else replaces it; anything else replaces what was there. A map over a list or a list
 * over a map (one config then holds both) is unmodelled.
 */
function mergeValue(old: unknown, value: unknown, at: string): unknown {
    if (old === undefined) return value;
    if (value === null) return isMap(old) || Array.isArray(old) ? old : old === null ? {} : null;
    if (isMap(value)) {
        if (isMap(old)) return mergeTrees(old, value, `${at}.`);
        if (Array.isArray(old)) throw new Error(`settings key ${at}: a map over a list is unmodelled`);
        return value;
    }
    if (Array.isArray(value)) {
        if (Array.isArray(old)) return [...(old as unknown[]), ...(value as unknown[])];
        if (isMap(old)) throw new Error(`settings key ${at}: a list over a map is unmodelled`);
        return value;
    }
    return value;
}

function mergeTrees(old: Settings, over: Settings, at: string): Settings {
    const out: Settings = { ...old };
    for (const [k, v] of Object.entries(over)) out[k] = mergeValue(out[k], v, `${at}${k}`);
    return out;
}

/**
 * Settings layers merged as ECK merges them, each over the ones before, flattened to dotted keys: ECK's
 * CanonicalConfig is a go-ucfg config (v0.9.1 in cloud-on-k8s go.mod) with the options `PathSep(".")`,
 * `AppendValues` and `EscapePath()` (pkg/controller/common/settings/canonical_config.go `Options`), and `MergeWith`
 * merges each config with them. So a key written dotted or nested is one path, maps merge key by key, and a list
 * over a list is appended to it ({@link mergeValue}), as canonical_config_test.go's "merge arrays" case shows.
 */
export function mergeSettings(...layers: Settings[]): Settings {
    let merged: Settings = {};
    for (const layer of layers) merged = mergeTrees(merged, nested(layer), "");
    return flattenSettings(merged);
}

/**
 * The settings a node runs with: ECK's, then the node set's `config` merged over them (merged_config.go
 * NewMergedESConfig: `config.MergeWith(..., xpackConfig, userCfg, ...)`, the user's last), as ucfg merges
 * ({@link mergeSettings}: the user's scalars win, its lists are appended to ECK's).
 */
export function effectiveSettings(config: Settings): Settings {
    return mergeSettings(ECK_SECURITY_SETTINGS, config);
}

const truthy = (v: unknown) => v === true || v === "true";

/**
 * The built-in users of Elasticsearch's reserved realm (x-pack ClientReservedRealm.RESERVED_USERNAMES, from
 * UsernamesField). They exist only while `xpack.security.authc.reserved_realm.enabled` is true; with it false
 * `ClientReservedRealm.isReserved` answers false for each, so the name is an ordinary, absent native user.
 */
export const RESERVED_USERS: readonly string[] = ["elastic", "kibana", "kibana_system", "logstash_system", "beats_system", "apm_system", "remote_monitoring_user"];

/** Where a user lives. */
export type Realm = "reserved" | "file" | "native";

/**
 * The users ECK writes into the file realm of every node (pkg/controller/elasticsearch/user/predefined.go):
 * `elastic` (superuser, password in `<es>-es-elastic-user`, unless `spec.auth.disableElasticUser`) and the
 * operator's internal users (reconcileInternalUsers).
 */
export function operatorFileRealmUsers(esSpec: { auth?: { disableElasticUser?: boolean } }): string[] {
    const internal = ["elastic-internal", "elastic-internal-pre-stop", "elastic-internal-probe", "elastic-internal-monitoring", "elastic-internal-diagnostics"];
    return esSpec.auth?.disableElasticUser === true ? internal : ["elastic", ...internal];
}

/**
 * The users that can authenticate on a node before anything else runs, by realm: the reserved users when the
 * effective settings leave the reserved realm on, and the file realm users ECK writes.
 */
export function usersAtStart(esSpec: { auth?: { disableElasticUser?: boolean } }, config: Settings): Map<string, Realm> {
    const users = new Map<string, Realm>();
    for (const u of operatorFileRealmUsers(esSpec)) users.set(u, "file");
    if (truthy(effectiveSettings(config)["xpack.security.authc.reserved_realm.enabled"])) {
        // The file realm comes first in the chain (order -100), but the reserved realm answers for its names.
        for (const u of RESERVED_USERS) users.set(u, "reserved");
    }
    return users;
}

/** One user API request, as the bootstrap's plan lists it. */
export interface UserRequest {
    readonly method: string;
    readonly path: string;
}

/** What Elasticsearch answers a user API request with, and why. */
export interface UserRequestOutcome {
    readonly request: UserRequest;
    readonly status: number;
    readonly reason: string;
}

/**
 * Replays the user requests of a plan in order against the users that exist (updated as requests create users), as
 * Elasticsearch answers them, and gives the users that exist afterwards; other requests pass through unanswered. From x-pack's security plugin:
 * - `POST|PUT /_security/user/<u>/_password` (TransportChangePasswordAction, NativeUsersStore.changePassword): a
 *   reserved user while the reserved realm is on, else a native user; anything else is 400 "user must exist in
 *   order to change password" (a file realm user too).
 * - `PUT|POST /_security/user/<u>` (TransportPutUserAction.validateRequest): 400 "user is reserved" for a reserved
 *   name while the realm is on, else it creates or updates a native user.
 * - `DELETE /_security/user/<u>`: 404 unless a native user.
 * - `PUT|POST /_security/user/<u>/_enable|_disable`: a reserved or native user, else 404.
 */
export function replayUserRequests(users: ReadonlyMap<string, Realm>, requests: readonly UserRequest[]): { outcomes: UserRequestOutcome[]; users: Map<string, Realm> } {
    const current = new Map(users);
    const out: UserRequestOutcome[] = [];
    for (const request of requests) {
        const m = /^\/_security\/user\/([^/?]+)(?:\/(_password|_enable|_disable))?(?:\?.*)?$/.exec(request.path);
        if (!m) continue;
        const name = decodeURIComponent(m[1]);
        const action = m[2];
        const realm = current.get(name);
        const answer = (status: number, reason: string) => out.push({ request, status, reason });
        if (action === "_password") {
            if (realm === "reserved" || realm === "native") answer(200, `password of ${realm} user ${name} set`);
            else answer(400, `user must exist in order to change password (${name} is ${realm === "file" ? "a file realm user" : "no reserved or native user"})`);
        } else if (action === "_enable" || action === "_disable") {
            if (realm === "reserved" || realm === "native") answer(200, `${name} ${action.slice(1)}d`);
            else answer(404, `no reserved or native user ${name}`);
        } else if (request.method === "DELETE") {
            if (realm === "native") {
                current.delete(name);
                answer(200, `native user ${name} deleted`);
            } else answer(404, `no native user ${name}`);
        } else if (request.method === "PUT" || request.method === "POST") {
            if (realm === "reserved") answer(400, `user [${name}] is reserved and only the password can be changed`);
            else {
                current.set(name, "native");
                answer(200, `native user ${name} created or updated`);
            }
        } else answer(200, `${request.method} of user ${name} reads`);
    }
    return { outcomes: out, users: current };
}

/**
 * The service account the operator issues a token for when a Kibana resource has `spec.elasticsearchRef`
 * (pkg/apis/kibana/v1/kibana_types.go: KibanaServiceAccount, from KibanaServiceAccountMinVersion 7.17.0; the token
 * goes into `<kibana>-kibana-user` and Kibana's config as `elasticsearch.serviceAccountToken`, pkg/controller/kibana/
 * config_settings.go). Below 7.17 the association creates a file realm user with the `kibana_system` role instead
 * (pkg/controller/association/controller/kibana_es.go).
 */
export const KIBANA_SERVICE_ACCOUNT = { name: "elastic/kibana", minVersion: [7, 17, 0] as const };

/**
 * The Elasticsearch settings ECK writes into kibana.yml for an `elasticsearchRef` (config_settings.go
 * NewConfigSettings and elasticsearchTLSSettings): the association's URL, its CA (only when the HTTP certificate
 * Secret of Elasticsearch carries a `ca.crt`: association/ca.go CACertProvided) and the token. The user's `config`
 * is merged over them ({@link mergeSettings}: its lists are appended to these, so its `elasticsearch.hosts` adds
 * to the association's). Kibana refuses a config with both `elasticsearch.username` and
 * `elasticsearch.serviceAccountToken` ("serviceAccountToken cannot be specified when "username" is also set",
 * elastic/kibana src/core/packages/elasticsearch/server-internal/src/elasticsearch_config.ts).
 */
export function kibanaAssociationSettings(input: { esName: string; namespace: string; caProvided: boolean }): Settings {
    return {
        "elasticsearch.hosts": [`https://${input.esName}-es-http.${input.namespace}.svc:9200`],
        "elasticsearch.ssl.verificationMode": "certificate",
        ...(input.caProvided ? { "elasticsearch.ssl.certificateAuthorities": "/usr/share/kibana/config/elasticsearch-certs/ca.crt" } : {}),
        "elasticsearch.serviceAccountToken": "<issued by the operator>",
    };
}

/** Why Kibana would refuse or fail with this effective configuration; none when it starts. */
export function kibanaCredentialProblems(effective: Settings): string[] {
    const problems: string[] = [];
    const token = effective["elasticsearch.serviceAccountToken"] !== undefined;
    const username = effective["elasticsearch.username"];
    if (token && username !== undefined) problems.push('serviceAccountToken cannot be specified when "username" is also set');
    if (username === "elastic") problems.push('value of "elastic" is forbidden');
    if (!token && username === undefined) problems.push("no credentials for Elasticsearch");
    return problems;
}
