/**
 * A configuration error: names the key and says how to fix it. It extends Error rather than pulumi.RunError so
 * this module stays free of the Pulumi SDK (the `render` command and tests load it alone); the program wraps it.
 */
export class ConfigError extends Error {
    constructor(
        readonly key: string,
        readonly problem: string,
        readonly fix: string,
    ) {
        super(`Invalid stack config '${key}': ${problem}. Fix: ${fix}`);
        this.name = "ConfigError";
    }
}
