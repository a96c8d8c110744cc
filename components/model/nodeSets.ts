/**
 * Elasticsearch node sets of the `eck` Kubernetes engine: groups of nodes that share roles, size and storage.
 * Pure: parsed and checked from stack config here, turned into ECK's `spec.nodeSets` in targets/eckResources.ts.
 */
import { ConfigError } from "./configError";

/**
 * Node roles a node set may list (Elasticsearch's `node.roles`). Leaving `roles` out gives a node every role, which is
 * what the single default set does.
 */
export const NODE_ROLES = [
    "master",
    "voting_only",
    "data",
    "data_content",
    "data_hot",
    "data_warm",
    "data_cold",
    "data_frozen",
    "ingest",
    "ml",
    "remote_cluster_client",
    "transform",
] as const;
/** One Elasticsearch node role. */
export type NodeRole = (typeof NODE_ROLES)[number];

/** Longest node set name ECK accepts: `+kubebuilder:validation:MaxLength=23` on NodeSet.Name (pkg/apis/elasticsearch/v1/elasticsearch_types.go). */
export const MAX_NODE_SET_NAME = 23;
/** Name of the node set the stack makes when the config lists none. */
export const DEFAULT_NODE_SET = "default";

/** One group of identical Elasticsearch nodes. */
export interface NodeSetConfig {
    /** Part of the StatefulSet and pod names ECK makes (`<cluster>-es-<name>-<n>`). */
    readonly name: string;
    readonly count: number;
    /** `node.roles`; undefined for every role. */
    readonly roles?: readonly NodeRole[];
    readonly storageGb: number;
    readonly heapMb: number;
    readonly memoryMb: number;
    readonly cpu: { readonly requestMillis: number; readonly limitMillis: number };
}

/** Sizes a node set takes when it names none: the stack's elasticsearch* keys. */
export type NodeSetDefaults = Omit<NodeSetConfig, "name" | "count" | "roles">;

const KEYS = ["name", "count", "roles", "storageGb", "heapMb", "memoryMb", "cpuMillis", "cpuLimitMillis"];
const EXAMPLE = `[{"name":"masters","count":3,"roles":["master"],"storageGb":10},{"name":"hot","count":3,"roles":["data_hot","data_content","ingest"]}]`;

/** True when nodes of the set are master-eligible. */
export function isMasterEligible(set: Pick<NodeSetConfig, "roles">): boolean {
    return set.roles === undefined || set.roles.includes("master");
}

/** True when nodes of the set can hold the content tier (system indices, and every index that is not a data stream). */
export function holdsContent(set: Pick<NodeSetConfig, "roles">): boolean {
    return set.roles === undefined || set.roles.includes("data") || set.roles.includes("data_content");
}

/**
 * Parses `elasticsearchNodeSets` (JSON text from the CLI). Undefined or empty: one set named
 * {@link DEFAULT_NODE_SET} of `defaultCount` nodes with every role. Throws {@link ConfigError} naming `key`.
 */
export function parseNodeSets(raw: string | undefined, defaultCount: number, defaults: NodeSetDefaults, key: string): NodeSetConfig[] {
    const fail = (problem: string, fix: string): never => {
        throw new ConfigError(key, problem, fix);
    };
    if (raw === undefined || raw.trim() === "") return [{ name: DEFAULT_NODE_SET, count: defaultCount, ...defaults }];
    let value: unknown;
    try {
        value = JSON.parse(raw);
    } catch {
        return fail(`'${raw}' is not a JSON array`, `set a JSON array of node sets, e.g. ${EXAMPLE}`);
    }
    if (!Array.isArray(value)) return fail("is not a list", `set a JSON array of node sets, e.g. ${EXAMPLE}`);
    if (value.length === 0) return [{ name: DEFAULT_NODE_SET, count: defaultCount, ...defaults }];
    const seen = new Set<string>();
    const sets = value.map((item: unknown, i: number): NodeSetConfig => {
        const where = `node set ${i + 1}`;
        if (typeof item !== "object" || item === null || Array.isArray(item)) return fail(`${where} is not an object`, `write each as {"name":"hot","count":3}`);
        const o = item as Record<string, unknown>;
        const unknown = Object.keys(o).find((k) => !KEYS.includes(k));
        if (unknown) return fail(`${where} has an unknown field '${unknown}'`, `use only ${KEYS.join(", ")}`);
        const name = o.name;
        if (typeof name !== "string" || !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(name) || name.length > MAX_NODE_SET_NAME) {
            return fail(`${where} has no valid name (${JSON.stringify(name)})`, `use 1-${MAX_NODE_SET_NAME} lowercase letters, digits and '-' (ECK's limit)`);
        }
        if (seen.has(name)) fail(`node set name '${name}' is used twice`, "give every node set its own name");
        seen.add(name);
        const int = (field: string, min: number, max: number, fallback?: number): number => {
            const v = o[field] ?? fallback;
            if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
                return fail(`${where} (${name}): ${field} ${JSON.stringify(v)} is not a whole number from ${min} to ${max}`, `set ${field} to a whole number from ${min} to ${max}`);
            }
            return v;
        };
        let roles: NodeRole[] | undefined;
        if (o.roles !== undefined) {
            if (!Array.isArray(o.roles) || !o.roles.every((r): r is string => typeof r === "string")) return fail(`${where} (${name}): roles is not a list of strings`, `e.g. "roles":["master"]`);
            const bad = o.roles.find((r) => !(NODE_ROLES as readonly string[]).includes(r));
            if (bad !== undefined) return fail(`${where} (${name}): unknown role '${bad}'`, `use roles from ${NODE_ROLES.join(", ")}`);
            roles = [...new Set(o.roles as NodeRole[])];
        }
        const heapMb = int("heapMb", 128, 31 * 1024, defaults.heapMb);
        const memoryMb = int("memoryMb", 256, 262144, defaults.memoryMb);
        if (heapMb * 2 > memoryMb) {
            fail(`${where} (${name}): heap ${heapMb} MiB is more than half of its ${memoryMb} MiB memory; Elasticsearch's direct memory and file cache need the other half`, `lower heapMb to ${Math.floor(memoryMb / 2)} or raise memoryMb to ${heapMb * 2}`);
        }
        const cpu = { requestMillis: int("cpuMillis", 10, 256000, defaults.cpu.requestMillis), limitMillis: int("cpuLimitMillis", 10, 256000, defaults.cpu.limitMillis) };
        if (cpu.limitMillis < cpu.requestMillis) fail(`${where} (${name}): cpuLimitMillis ${cpu.limitMillis} is below cpuMillis ${cpu.requestMillis}`, `raise cpuLimitMillis to at least ${cpu.requestMillis}`);
        return { name, count: int("count", 0, 99), roles, storageGb: int("storageGb", 1, 65536, defaults.storageGb), heapMb, memoryMb, cpu };
    });
    const masters = sets.filter(isMasterEligible).reduce((n, s) => n + s.count, 0);
    if (masters === 0) fail("no node set has master-eligible nodes", `give one set the role master (or no roles), e.g. ${EXAMPLE}`);
    if (masters === 2) fail("2 master-eligible nodes cannot elect a master when one is lost", "run 1, or 3 and more, master-eligible nodes");
    if (!sets.some((s) => holdsContent(s) && s.count > 0)) {
        fail("no node set holds the content tier, where system indices live", "give a data set the role data_content (or data, or no roles)");
    }
    return sets;
}

/** Every node of the sets. */
export function totalNodes(sets: readonly NodeSetConfig[]): number {
    return sets.reduce((n, s) => n + s.count, 0);
}

/** Nodes that hold the content tier, which decides how many replicas an index can have (see indexing.ts). */
export function contentNodes(sets: readonly NodeSetConfig[]): number {
    return sets.filter(holdsContent).reduce((n, s) => n + s.count, 0);
}

/**
 * Nodes that decide the replicas of the stack's index templates: on the eck engine those of the content tier,
 * elsewhere every node (all of them hold data).
 */
export function indexingNodeCount(s: { readonly target: string; readonly elasticsearch: { readonly replicas: number }; readonly kubernetes: { readonly engine: string; readonly eck: { readonly nodeSets: readonly NodeSetConfig[] } } }): number {
    return s.target === "kubernetes" && s.kubernetes.engine === "eck" ? contentNodes(s.kubernetes.eck.nodeSets) : s.elasticsearch.replicas;
}
