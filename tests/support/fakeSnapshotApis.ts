/**
 * Elasticsearch's snapshot repository and lifecycle policy APIs for the fake Elasticsearch (an `override`, so each
 * request has passed the fake's checks against the 9.4 specification first), with their real semantics, paths under
 * elastic/elasticsearch:
 * - PUT of a repository upserts it, or fails 500 repository_exception when the repository cannot be made
 *   (server/src/main/java/org/elasticsearch/repositories/RepositoriesService.java); what each test differs in is which
 *   repositories Elasticsearch accepts: `refuse` says why it would not create one;
 * - PUT of a policy upserts it and needs its repository: 400 "no such repository [x]"
 *   (x-pack/plugin/slm/src/main/java/org/elasticsearch/xpack/slm/SnapshotLifecycleService.java validateRepositoryExists);
 * - DELETE of a missing policy is 404 "snapshot lifecycle policy not found: x"
 *   (x-pack/plugin/slm/src/main/java/org/elasticsearch/xpack/slm/action/TransportDeleteSnapshotLifecycleAction.java).
 */
import type { ForcedResponse, RecordedRequest } from "./fakeElasticsearch";

/** The APIs' state as a test reads it, and the override that serves them. */
export interface SnapshotApis {
    readonly override: (r: RecordedRequest) => ForcedResponse | undefined;
    /** Repository name -> the body it was last stored with. */
    readonly repositories: Map<string, string>;
    /** Policy name -> the body it was last stored with. */
    readonly policies: Map<string, string>;
    /** Paths of the repositories and policies created (not updated), in order. */
    readonly created: string[];
    /** Forgets every repository and policy. */
    reset(): void;
}

export function fakeSnapshotApis(refuse: (name: string, body: { type?: string; settings?: Record<string, unknown> }) => string | undefined): SnapshotApis {
    const repositories = new Map<string, string>();
    const policies = new Map<string, string>();
    const created: string[] = [];
    const override = (r: RecordedRequest): ForcedResponse | undefined => {
        const repo = /^\/_snapshot\/([^/?]+)$/.exec(r.path);
        if (repo && r.method === "PUT") {
            const reason = refuse(repo[1], r.body as { type?: string; settings?: Record<string, unknown> });
            if (reason !== undefined) return { status: 500, body: { error: { type: "repository_exception", reason }, status: 500 } };
            if (!repositories.has(repo[1])) created.push(r.path);
            repositories.set(repo[1], r.rawBody);
            return { status: 200, body: { acknowledged: true } };
        }
        const policy = /^\/_slm\/policy\/([^/?]+)$/.exec(r.path);
        if (policy && r.method === "PUT") {
            const body = r.body as { repository?: string };
            if (!repositories.has(body.repository ?? "")) {
                return { status: 400, body: { error: { type: "illegal_argument_exception", reason: `no such repository [${body.repository}]` }, status: 400 } };
            }
            if (!policies.has(policy[1])) created.push(r.path);
            policies.set(policy[1], r.rawBody);
            return { status: 200, body: { acknowledged: true } };
        }
        if (policy && r.method === "DELETE") {
            if (!policies.delete(policy[1])) {
                return { status: 404, body: { error: { type: "resource_not_found_exception", reason: `snapshot lifecycle policy not found: ${policy[1]}` }, status: 404 } };
            }
            return { status: 200, body: { acknowledged: true } };
        }
        return undefined;
    };
    const reset = () => {
        repositories.clear();
        policies.clear();
        created.length = 0;
    };
    return { override, repositories, policies, created, reset };
}
