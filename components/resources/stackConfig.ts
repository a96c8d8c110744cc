/**
 * Reads the stack's config through the Pulumi engine (secrets as secrets) into checked settings and passwords, and
 * turns a bad value into a preview failure that names the key and the fix.
 */
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, OBJECT_STORE_CREDENTIAL_KEYS, PASSWORD_KEYS, type PasswordKey, type StackConfig, parseStackConfig } from "../model/config";
import type { ElkStackPasswords } from "./elkStack";

/** Stack config read from the Pulumi engine: validated settings and the passwords the stack sets. */
export interface PulumiStackConfig {
    readonly settings: StackConfig;
    readonly passwords: ElkStackPasswords;
    /** The object store's credentials (secrets), in the order of its secure settings; empty without one. */
    readonly snapshotCredentials: pulumi.Output<string>[];
}

/**
 * Whether the engine handed the program this key's value as a secret. `isConfigSecret` is exported by the SDK's
 * runtime (node_modules/@pulumi/pulumi/runtime/config.js: it reads the secret keys the CLI passes, or those
 * `setAllConfig` set under the mocks) but left out of its typings; a test runs it under the mocks on every change.
 */
function isConfigSecret(fullKey: string): boolean {
    const fn = (pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean }).isConfigSecret;
    if (typeof fn !== "function") throw new Error("@pulumi/pulumi no longer exports runtime.isConfigSecret: the check that passwords are secrets needs another source");
    return fn(fullKey);
}

const PASSWORD_FIELD: Record<PasswordKey, keyof ElkStackPasswords> = {
    elasticPassword: "elastic",
    kibanaSystemPassword: "kibanaSystem",
    logstashWriterPassword: "logstashWriter",
};

/**
 * Reads this stack's config through the Pulumi runtime (CLI or mocks alike) and validates it. A bad value stops
 * the program at preview with a message naming the key and the fix (RunError: no stack trace, just the message).
 */
export function readStackConfig(): PulumiStackConfig {
    const project = pulumi.getProject();
    const stack = pulumi.getStack();
    const config = new pulumi.Config(project);
    try {
        // Validation needs the plain strings, passwords included; each password is wrapped in pulumi.secret
        // below before it goes anywhere, and parseStackConfig refuses one the stack holds in plain text.
        const settings = parseStackConfig({ project, stack, get: (key) => config.get(key), isSecret: (key) => isConfigSecret(`${project}:${key}`) });
        const passwords: ElkStackPasswords = {};
        for (const key of PASSWORD_KEYS) {
            const value = config.get(key);
            if (value === undefined || value === "") continue;
            passwords[PASSWORD_FIELD[key]] = pulumi.secret(value);
        }
        const store = settings.snapshots.objectStore;
        // parseStackConfig made sure that each of the store's keys is set.
        const snapshotCredentials = store ? OBJECT_STORE_CREDENTIAL_KEYS[store.type].map((key) => config.requireSecret(key)) : [];
        return { settings, passwords, snapshotCredentials };
    } catch (e) {
        if (e instanceof ConfigError) throw new pulumi.RunError(e.message);
        throw e;
    }
}
