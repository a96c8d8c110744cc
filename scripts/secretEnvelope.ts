/**
 * Pulumi's wire format for a secret value, as the mock runtime hands resource inputs to its mocks:
 * `{[SECRET_SIG_KEY]: SECRET_SIG, value}`. Shared by `render` and the tests, which both read mock inputs.
 */

/** The marker key Pulumi puts on a serialized secret value. */
export const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
/** The marker's value. */
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** True when `v` is a serialized secret. */
export function isSecretValue(v: unknown): v is { value: unknown } {
    return typeof v === "object" && v !== null && (v as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG;
}

/** Removes secret wrappers, recursively. */
export function unwrapSecrets(v: unknown): unknown {
    if (isSecretValue(v)) return unwrapSecrets(v.value);
    if (Array.isArray(v)) return v.map(unwrapSecrets);
    if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrapSecrets(x)]));
    return v;
}
