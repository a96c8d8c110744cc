/**
 * What the stacks of one program claim on each Docker engine: container, network and volume names, and host ports.
 * Docker keeps names unique per engine but not the way a program needs: it refuses a second container of one name
 * only at `pulumi up`, after the volumes, and creates a volume whose name exists without complaint, handing over the
 * first owner's data (moby/moby volume/service/store.go, `create`: an existing volume of the name and driver is
 * returned as it is). Pulumi sees none of it, since the names are inputs, not URNs. So each stack registers what it
 * will create here, before creating it, and the second stack to claim a name or a host port stops the program at
 * preview with both stacks' names and the fix.
 *
 * Two programs against one engine are out of reach: each has its own registry. See docs/docker.md.
 */
import * as net from "net";
import type * as pulumi from "@pulumi/pulumi";
import { addressesOverlap } from "../model/validation";

/** A physical name on a Docker engine. */
export interface NameClaim {
    readonly kind: "container" | "network" | "volume";
    readonly name: string;
    /** What it is, for messages ("Elasticsearch's data"). */
    readonly what?: string;
}

/** A host port a container publishes. */
export interface PortClaim {
    readonly protocol: "tcp" | "udp";
    readonly address: string;
    readonly port: number;
    /** The container that publishes it. */
    readonly container: string;
}

/** Who claims: the owning stack (its Pulumi name) and its name prefix. */
export interface Claimant {
    readonly stack: string;
    readonly namePrefix: string;
}

interface Held<T> {
    readonly claim: T;
    readonly by: Claimant;
}

/** The claims on one engine. */
class EngineClaims {
    readonly names = new Map<string, Held<NameClaim>>();
    readonly ports: Held<PortClaim>[] = [];
}

const explicitEngines = new WeakMap<pulumi.ProviderResource, EngineClaims>();
const defaultEngine = new EngineClaims();

/** The claims on the engine `provider` talks to; the default provider's when undefined. */
function engineOf(provider: pulumi.ProviderResource | undefined): EngineClaims {
    if (provider === undefined) return defaultEngine;
    let claims = explicitEngines.get(provider);
    if (!claims) {
        claims = new EngineClaims();
        explicitEngines.set(provider, claims);
    }
    return claims;
}

const engineWords = (provider: pulumi.ProviderResource | undefined) => (provider === undefined ? "the default Docker provider's engine" : "one Docker provider's engine");

/**
 * Claims `claim` on `provider`'s engine for `by`; returns the problem when another stack holds it. A stack may claim
 * a name again (a program that builds one stack twice registers its URNs twice, which the engine refuses anyway).
 */
export function claimName(provider: pulumi.ProviderResource | undefined, by: Claimant, claim: NameClaim): string | undefined {
    const engine = engineOf(provider);
    const key = `${claim.kind}/${claim.name}`;
    const held = engine.names.get(key);
    if (held && held.by.stack !== by.stack) {
        const what = claim.what ? ` (${claim.what})` : "";
        const consequence =
            claim.kind === "volume"
                ? "Docker hands an existing volume to whoever creates it again, so the second stack would use the first one's data"
                : claim.kind === "network"
                  ? "Docker refuses a second network of that name at `pulumi up` (the Engine API always checks since v1.44)"
                  : "Docker refuses a second container of that name at `pulumi up`, after the volumes are shared";
        // Everything else the first stack named with the same prefix, which the second would meet too.
        const shared = [...engine.names.values()].filter((h) => h.by.stack === held.by.stack && h.claim.kind === "volume").map((h) => `${h.claim.name}${h.claim.what ? ` (${h.claim.what})` : ""}`);
        const alsoShared = held.by.namePrefix === by.namePrefix && shared.length > 0 && claim.kind !== "volume" ? `; with the same name prefix they would also share the volumes ${shared.join(", ")}` : "";
        return (
            `Docker ${claim.kind} '${claim.name}'${what} is claimed by two stacks on ${engineWords(provider)}: '${held.by.stack}' and '${by.stack}', both with name prefix '${by.namePrefix}'. ` +
            `${consequence}${alsoShared}. Fix: give each stack its own namePrefix (new ElkStack("${by.stack}", { ..., namePrefix: "${by.stack}" })) and its own host ports, or put it on another Docker engine`
        );
    }
    if (!held) engine.names.set(key, { claim, by });
    return undefined;
}

/** Claims a host port on `provider`'s engine for `by`; returns the problem when another stack publishes it too. */
export function claimPort(provider: pulumi.ProviderResource | undefined, by: Claimant, claim: PortClaim): string | undefined {
    const engine = engineOf(provider);
    const held = engine.ports.find((h) => h.by.stack !== by.stack && h.claim.port === claim.port && h.claim.protocol === claim.protocol && addressesOverlap(h.claim.address, claim.address));
    if (held) {
        const at = (c: PortClaim) => (net.isIPv6(c.address) ? `[${c.address}]:${c.port}` : `${c.address}:${c.port}`);
        return (
            `host port ${claim.protocol.toUpperCase()} ${at(claim)} is published by two stacks on ${engineWords(provider)}: '${held.by.stack}' (container ${held.claim.container}, ${at(held.claim)}) and '${by.stack}' (container ${claim.container}); ` +
            `the second container would not start. Fix: give stack '${by.stack}' its own host ports (elasticsearchPort, kibanaPort, nginxSyslogPort and Django source ports; settings.ports in code) or another bind address`
        );
    }
    engine.ports.push({ claim, by });
    return undefined;
}
