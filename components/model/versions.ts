/** Elastic releases: the default the stack pins, the oldest it supports, and how two releases compare. */

/**
 * An exact release as Elastic tags its images (docker.elastic.co/elasticsearch/elasticsearch:9.4.1): three numbers
 * without leading zeros. `09.4.1` is no tag there, and Docker would fail to pull it at `pulumi up`.
 */
export const VERSION = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

/** Default Elastic release: the current 9.x line. 8.19+ keeps working (see {@link MIN_SUPPORTED_8X}). */
export const DEFAULT_ELASTIC_VERSION = "9.4.1";
/**
 * Oldest 8.x release: the last 8.x minor, the one from which every 9.x release upgrades directly. Elastic's upgrade
 * guide ("Prepare to upgrade") has a cluster reach 9.0 from 8.18 and 9.1 and later (the default is 9.4.1) from 8.19
 * only, and ECK 3.5.0's webhook refuses an upgrade to 9.x from below 8.18.0 (cloud-on-k8s
 * pkg/controller/elasticsearch/version/supported_versions.go, modelled in tests/support/eck/changes.ts). It has the
 * settings we rely on (standardised `ssl_*` plugin options, `api.http.*`).
 */
export const MIN_SUPPORTED_8X = "8.19.0";
/** Parses "X.Y.Z" into numbers, or undefined. */
export function parseVersion(v: string): [number, number, number] | undefined {
    const m = VERSION.exec(v);
    return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** Negative when a < b, 0 when equal, positive when a > b. */
export function compareVersions(a: string, b: string): number {
    const pa = parseVersion(a);
    const pb = parseVersion(b);
    if (!pa || !pb) throw new Error(`not a version: ${pa ? b : a}`);
    for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
    return 0;
}
