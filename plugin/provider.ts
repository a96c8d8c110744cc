/**
 * The component provider of the plugin: the Pulumi SDK's ComponentProvider, which infers the package schema from the
 * TypeScript of ./elkStack.ts (@pulumi/pulumi provider/experimental/analyzer.ts) and constructs the component, with
 * the schema completed where TypeScript says less than the stack config does. The analyzer maps every `number` to
 * `number` and marks nothing secret (its PropertyDefinition has no secret field), so the inferred schema would give
 * Python and Go floats for ports and sizes and would let a password travel unmarked. CONFIG_SCHEMA knows better:
 * integer keys become `integer`, passwords (arguments and the elasticPassword output) `secret`, and each argument's
 * description is the config key's, with its default.
 */
import * as fs from "fs";
import * as path from "path";
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental";
import { ElkStack } from "./elkStack";
import { CONFIG_SCHEMA, type ConfigKeySchema } from "../components/model/config";
import { DEFAULT_LOG_SOURCES } from "../components/model/sources";

/** The plugin's package name: resource types are `elk:index:<Component>`, as the library's own type tokens are. */
export const PACKAGE_NAME = "elk";
/** The resource type of the component. */
export const ELK_STACK_TYPE = `${PACKAGE_NAME}:index:ElkStack`;
/** Outputs that carry secrets. */
export const SECRET_OUTPUTS: readonly string[] = ["elasticPassword"];

/** A property of a package schema, as far as this provider reads and writes it. */
export interface SchemaProperty {
    type?: string;
    $ref?: string;
    items?: SchemaProperty;
    additionalProperties?: SchemaProperty;
    description?: string;
    secret?: boolean;
    plain?: boolean;
}

/** The parts of a package schema this provider reads and writes. */
export interface PackageSchema {
    name: string;
    version: string;
    resources: Record<string, { inputProperties: Record<string, SchemaProperty>; properties: Record<string, SchemaProperty>; requiredInputs?: string[]; required?: string[] }>;
    types: Record<string, { properties?: Record<string, SchemaProperty>; required?: string[] }>;
}

/** The description of a config key as an argument: the key's own, and its default when it has one. */
function describe(schema: ConfigKeySchema): string {
    const d = schema.default;
    const shown = d === undefined ? undefined : Array.isArray(d) ? (d.length === 0 ? undefined : JSON.stringify(d)) : String(d);
    return shown === undefined ? schema.description : `${schema.description} Default: ${shown}.`;
}

/**
 * Descriptions of the arguments whose form differs from the config key's: the config reads log sources as strings or
 * objects, the plugin as objects only (a list of strings and objects is a union no schema type expresses).
 */
const OWN_DESCRIPTIONS: Readonly<Record<string, string>> = {
    logSources:
        "Services that send logs, each an object {kind, name, port, errorLevel}: kinds nginx and django; nginx sources share UDP port 5140, each django source gets a TCP+TLS port of its own from 5141; errorLevel is the lowest error_log level an nginx source sends (default warn). " +
        `Default: ${DEFAULT_LOG_SOURCES.map((s) => s.split(":")).map(([kind, name]) => `the ${kind} source ${name}`).join(" and ")}.`,
};

/** Completes the inferred schema: integer types, secret flags and descriptions from CONFIG_SCHEMA. Pure. */
export function completeSchema(inferred: PackageSchema): PackageSchema {
    const schema = JSON.parse(JSON.stringify(inferred)) as PackageSchema;
    const resource = schema.resources[ELK_STACK_TYPE];
    if (!resource) throw new Error(`the inferred schema has no ${ELK_STACK_TYPE}`);
    for (const [key, declared] of Object.entries(CONFIG_SCHEMA) as [string, ConfigKeySchema][]) {
        const input = resource.inputProperties[key];
        // A config key the plugin does not offer as an argument is a bug: the test of the schema names it.
        if (!input) throw new Error(`ElkStack has no argument for the stack config key ${key}`);
        if (declared.type === "integer") input.type = "integer";
        if (declared.secret) input.secret = true;
        input.description = OWN_DESCRIPTIONS[key] ?? describe(declared);
    }
    for (const key of SECRET_OUTPUTS) resource.properties[key].secret = true;
    const port = schema.types[`${PACKAGE_NAME}:index:LogSource`]?.properties?.port;
    if (port) port.type = "integer";
    return schema;
}

/** The component provider of the plugin, for the ElkStack component of ./elkStack.ts. */
export class ElkProvider extends ComponentProvider {
    /** @param dirname the plugin's folder: its package.json and tsconfig.json are what the schema is inferred from. */
    constructor(dirname: string) {
        // One version for the npm package and the plugin: the repository's, which a release tag names.
        const version = (JSON.parse(fs.readFileSync(path.join(dirname, "..", "package.json"), "utf8")) as { version: string }).version;
        super({ components: [ElkStack], dirname, name: PACKAGE_NAME, version });
    }

    override async getSchema(): Promise<string> {
        return JSON.stringify(completeSchema(JSON.parse(await super.getSchema()) as PackageSchema));
    }
}
