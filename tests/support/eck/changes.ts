/**
 * What ECK does when a field of one of our custom resources changes between two updates, as data and small
 * functions: which changes make a new resource (for Elasticsearch, a new, empty cluster), which its validating
 * webhook refuses, which roll the pods, which scale or grow claims in place. Every fact is read from
 * github.com/elastic/cloud-on-k8s at tag {@link ECK_TAG}, in the file named beside it; the identity rule from
 * pulumi-kubernetes and Kubernetes itself.
 *
 * The model is strict: a changed field it has no fact for is reported as `unmodelled`, so a test that feeds it such
 * a change fails instead of passing on a guess.
 */
import { isDeepStrictEqual } from "util";
import { type CustomResource, ECK_TAG } from "./naming";

export { ECK_TAG };

/** What the operator (or the API server, or the Kubernetes provider) does with one change. */
export type ChangeEffect =
    /** Another object: created anew, the old one deleted. For Elasticsearch, a new cluster that starts empty. */
    | { readonly effect: "new-resource"; readonly path: string; readonly why: string; readonly source: string }
    /** The validating webhook refuses the update (the provider previews server-side, so at `pulumi preview`). */
    | { readonly effect: "refused"; readonly path: string; readonly why: string; readonly source: string }
    /** Pods restarted one at a time (Elasticsearch: node set by node set, waiting for the cluster in between). */
    | { readonly effect: "rolls"; readonly path: string; readonly source: string }
    /** Pods added or removed, none restarted (Elasticsearch: data moved off before a node goes). */
    | { readonly effect: "scales"; readonly path: string; readonly source: string }
    /** Claims grown in place where the storage class allows expansion (refused by the webhook where it does not). */
    | { readonly effect: "expands"; readonly path: string; readonly source: string }
    /** A change this model has no fact for. */
    | { readonly effect: "unmodelled"; readonly path: string };

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const list = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);
const same = (a: unknown, b: unknown): boolean => isDeepStrictEqual(a ?? null, b ?? null);

/** major.minor.patch as numbers; undefined when not a version. */
function version(v: unknown): [number, number, number] | undefined {
    const m = /^(\d+)\.(\d+)\.(\d+)/.exec(String(v));
    return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}
function lower(a: [number, number, number], b: [number, number, number]): boolean {
    for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] < b[i];
    return false;
}

/** Bytes of a storage request ("30Gi", "500M"), for telling a larger claim from a smaller. */
export function storageBytes(q: unknown): number {
    const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/.exec(String(q));
    if (!m) throw new Error(`not a storage quantity: ${String(q)}`);
    const unit: Record<string, number> = { "": 1, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15 };
    return Number(m[1]) * unit[m[2] ?? ""];
}

/**
 * The identity of a resource: kind, namespace and name. Kubernetes cannot rename or move an object, so
 * pulumi-kubernetes replaces it on any of these (provider/pkg/provider/diff.go: metadata.name and metadata.namespace
 * force a replacement; another kind is another resource): the new object is created, the old one deleted.
 */
function identityChanges(before: CustomResource, after: CustomResource): ChangeEffect[] {
    const out: ChangeEffect[] = [];
    const what: Record<string, string> = {
        Elasticsearch:
            "a new Elasticsearch resource is a new cluster: the operator bootstraps it with no data (its claims are new: elasticsearch-data-<name>-es-<set>-<n>, pkg/controller/elasticsearch/volume/names.go), and deleting the old one leaves the old claims behind (volumeClaimDeletePolicy DeleteOnScaledownOnly, pkg/apis/elasticsearch/v1/elasticsearch_types.go)",
        Kibana: "a new Kibana Deployment; Kibana keeps nothing of its own (its saved objects are in Elasticsearch)",
        Logstash: "a new Logstash StatefulSet with new queue claims (logstash-data-<name>-ls-<n>); events queued in the old ones are not read again",
    };
    const why = what[after.kind] ?? "a new object";
    const source = "pulumi-kubernetes provider/pkg/provider/diff.go (forceNew on metadata.name, metadata.namespace)";
    if (before.kind !== after.kind) out.push({ effect: "new-resource", path: "kind", why, source });
    if (before.metadata.namespace !== after.metadata.namespace) out.push({ effect: "new-resource", path: "metadata.namespace", why, source });
    if (before.metadata.name !== after.metadata.name) out.push({ effect: "new-resource", path: "metadata.name", why, source });
    return out;
}

/**
 * The versions an Elasticsearch of each major may be updated from, by ECK's webhook (pkg/controller/elasticsearch/
 * version/supported_versions.go technicallySupportedVersions: "8.18.0 is the lowest version that offers a direct
 * upgrade path to 9.0", "7.17.0 ... to 8.0"; the minimums are `version.MinFor`, the lowest pre-release of that
 * version, which this model, reading releases only, takes as the release). Another major has none: "Unsupported version".
 */
const ES_UPGRADE_FROM: Readonly<Record<number, readonly [[number, number, number], [number, number, number]]>> = {
    7: [[7, 0, 0], [7, 99, 99]],
    8: [[7, 17, 0], [8, 99, 99]],
    9: [[8, 18, 0], [9, 99, 99]],
};

/**
 * `spec.version`: a lower version is refused (all three kinds' webhooks); so is an Elasticsearch version whose major
 * does not take upgrades from the current one (validations.go validUpgradePath, {@link ES_UPGRADE_FROM}): ECK compares
 * with `status.version`, the lowest version running, when the resource has one, else with the current spec's; the
 * resources here carry no status, so the spec's version stands for it. A higher version otherwise rolls every pod.
 * A version with a pre-release or build suffix is unmodelled.
 */
function versionChange(kind: string, before: unknown, after: unknown): ChangeEffect[] {
    if (same(before, after)) return [];
    const webhook: Record<string, string> = {
        Elasticsearch: "pkg/controller/elasticsearch/validation/validations.go noDowngrades",
        Kibana: "pkg/apis/kibana/v1/webhook.go checkNoDowngrade",
        Logstash: "pkg/controller/logstash/validation/validations.go checkNoDowngrade",
    };
    const exact = (v: unknown) => (/^\d+\.\d+\.\d+$/.test(String(v)) ? version(v) : undefined);
    const a = exact(before);
    const b = exact(after);
    if (!a || !b) return [{ effect: "unmodelled", path: "spec.version" }];
    const out: ChangeEffect[] = [];
    if (lower(b, a)) out.push({ effect: "refused", path: "spec.version", why: `a downgrade from ${String(before)} to ${String(after)}`, source: webhook[kind] });
    if (kind === "Elasticsearch") {
        const source = "pkg/controller/elasticsearch/validation/validations.go validUpgradePath, pkg/controller/elasticsearch/version/supported_versions.go";
        const range = ES_UPGRADE_FROM[b[0]];
        if (!range) out.push({ effect: "refused", path: "spec.version", why: `${String(after)} is no major ECK supports (Unsupported version)`, source });
        else if (lower(a, range[0]) || lower(range[1], a)) {
            const [min, max] = range.map((v) => v.join("."));
            out.push({ effect: "refused", path: "spec.version", why: `an upgrade from ${String(before)} to ${String(after)}, whose major takes upgrades from ${min} to ${max} only (Unsupported version upgrade path)`, source });
        }
    }
    if (out.length > 0) return out;
    return [{ effect: "rolls", path: "spec.version", source: kind === "Elasticsearch" ? "pkg/controller/elasticsearch/driver/stateful/upgrade.go" : `the ${kind} pod template's image changes` }];
}

/** A node set's claim templates: any change but a storage request is refused; larger requests expand, smaller are refused. */
function claimChanges(at: string, before: unknown, after: unknown): ChangeEffect[] {
    const withoutStorage = (claims: unknown) =>
        list(claims).map((c) => {
            const spec = obj(c.spec);
            const resources = obj(spec.resources);
            const requests = { ...obj(resources.requests) };
            delete requests.storage;
            return { ...c, spec: { ...spec, resources: { ...resources, requests } } };
        });
    const source = "pkg/controller/elasticsearch/validation/volume_validation.go validPVCModification, pkg/controller/common/volume/validations/validations.go";
    if (!same(withoutStorage(before), withoutStorage(after))) {
        return [{ effect: "refused", path: `${at}.volumeClaimTemplates`, why: "claim templates may change only in their storage request (PvcImmutableErrMsg)", source }];
    }
    const out: ChangeEffect[] = [];
    const beforeList = list(before);
    list(after).forEach((claim, i) => {
        const was = obj(obj(obj(beforeList[i]?.spec).resources).requests).storage;
        const now = obj(obj(obj(claim.spec).resources).requests).storage;
        if (same(was, now)) return;
        if (storageBytes(now) < storageBytes(was)) out.push({ effect: "refused", path: `${at}.volumeClaimTemplates[${i}]`, why: `a claim cannot shrink (${String(was)} to ${String(now)})`, source });
        else out.push({ effect: "expands", path: `${at}.volumeClaimTemplates[${i}]`, source: "pkg/controller/common/volume/pvc_expansion.go (refused by the webhook where the storage class does not allow expansion)" });
    });
    return out;
}

/** What ECK does with each change between `before` and `after` (the same kind of resource, as the stack registers them). */
export function changeEffects(before: CustomResource, after: CustomResource): ChangeEffect[] {
    const identity = identityChanges(before, after);
    // Another object: what changed in its spec does not matter.
    if (identity.length > 0) return identity;
    const out: ChangeEffect[] = [...versionChange(after.kind, before.spec.version, after.spec.version)];
    const keys = new Set([...Object.keys(before.spec), ...Object.keys(after.spec)]);
    keys.delete("version");
    if (after.kind === "Elasticsearch") {
        keys.delete("nodeSets");
        const was = new Map(list(before.spec.nodeSets).map((s) => [String(s.name), s]));
        for (const set of list(after.spec.nodeSets)) {
            const at = `spec.nodeSets[${String(set.name)}]`;
            const old = was.get(String(set.name));
            was.delete(String(set.name));
            if (!old) {
                out.push({ effect: "scales", path: at, source: "a new node set: a new StatefulSet, pkg/controller/elasticsearch/driver/stateful (nodes join, none restart)" });
                continue;
            }
            const setKeys = new Set([...Object.keys(old), ...Object.keys(set)]);
            for (const key of setKeys) {
                if (key === "name" || same(old[key], set[key])) continue;
                if (key === "count") out.push({ effect: "scales", path: `${at}.count`, source: "pkg/controller/elasticsearch/driver/stateful/downscale.go, upscale.go" });
                else if (key === "volumeClaimTemplates") out.push(...claimChanges(at, old[key], set[key]));
                // The node set's pod template and its config hash (nodespec/podspec.go) change: its pods roll.
                else if (key === "podTemplate" || key === "config" || key === "zoneAwareness") out.push({ effect: "rolls", path: `${at}.${key}`, source: "pkg/controller/elasticsearch/nodespec/podspec.go, driver/stateful/upgrade.go" });
                else out.push({ effect: "unmodelled", path: `${at}.${key}` });
            }
        }
        for (const name of was.keys()) {
            out.push({ effect: "scales", path: `spec.nodeSets[${name}]`, source: "a removed node set: its data migrates off, then its nodes go (driver/stateful/downscale.go, migration/migrate_data.go)" });
        }
    } else {
        for (const key of ["count"]) {
            keys.delete(key);
            if (!same(before.spec[key], after.spec[key])) out.push({ effect: "scales", path: `spec.${key}`, source: `the ${after.kind} ${after.kind === "Kibana" ? "Deployment's" : "StatefulSet's"} replicas` });
        }
        for (const key of ["podTemplate", "config", "pipelines"]) {
            keys.delete(key);
            if (!same(before.spec[key], after.spec[key])) out.push({ effect: "rolls", path: `spec.${key}`, source: `the ${after.kind} pod template or its config hash changes` });
        }
        if (after.kind === "Logstash" && !same(before.spec.volumeClaimTemplates, after.spec.volumeClaimTemplates)) {
            keys.delete("volumeClaimTemplates");
            out.push(...claimChanges("spec", before.spec.volumeClaimTemplates, after.spec.volumeClaimTemplates).map((c) => (c.effect === "refused" ? { ...c, source: "pkg/controller/logstash/validation/validations.go checkPVCchanges" } : c)));
        }
    }
    for (const key of keys) if (!same(before.spec[key], after.spec[key])) out.push({ effect: "unmodelled", path: `spec.${key}` });
    return out;
}

/** Whether the change leaves the data of `before` behind: a new Elasticsearch resource, a new cluster. */
export function makesNewCluster(before: CustomResource, after: CustomResource): boolean {
    return after.kind === "Elasticsearch" && changeEffects(before, after).some((c) => c.effect === "new-resource");
}
