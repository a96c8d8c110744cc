/**
 * The component plugin (plugin/), offline: the package schema the SDK's ComponentProvider infers from plugin/*.ts
 * and the plugin completes (every argument and output, their types, plain and secret flags); the component built
 * through the provider's construct under the mock runtime, with the arguments of the YAML example, secrets kept
 * secret; arguments refused with their name; the plugin started the way the Node.js language host starts it, serving
 * that schema over gRPC; and the Python and YAML examples checked against the schema.
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import YAML from "yaml";
import type * as pulumiType from "@pulumi/pulumi";
import { CONFIG_SCHEMA, OBJECT_STORE_CREDENTIAL_KEYS, PASSWORD_KEYS } from "../components/model/config";
import { ArgumentError, convertArgs } from "../plugin/args";
import { IDENTITY_DECRYPTER, readProjectFile, resolveStackConfig, stackConfigFromTexts } from "../scripts/cliConfig";
import { ELK_STACK_TYPE, type PackageSchema, type SchemaProperty } from "../plugin/provider";
import { withDeadline } from "./support/deadline";
import { unwrapSecrets } from "./support/program";
import { realTlsState } from "./support/realTls";

const ROOT = path.join(__dirname, "..");
const PLUGIN = path.join(ROOT, "plugin");
const YAML_EXAMPLE = path.join(ROOT, "examples", "yaml", "Pulumi.yaml");
const PYTHON_EXAMPLE = path.join(ROOT, "examples", "python", "__main__.py");
const ROOT_VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string }).version;

/** The outputs of the component: those the library's ElkStack registers. */
const OUTPUTS = ["caCertPem", "certificateExpiry", "elasticPassword", "elasticsearchUrl", "kibanaUrl", "logstashEndpoints", "snapshots", "wiring"];
const ref = (type: string) => ({ $ref: `#/types/elk:index:${type}` });

type Obj = Record<string, unknown>;

/** The properties of the YAML example's `logs` resource, and its outputs. */
const yamlExample = YAML.parse(fs.readFileSync(YAML_EXAMPLE, "utf8")) as {
    plugins: { providers: { name: string; path: string }[] };
    resources: Record<string, { type: string; properties: Obj }>;
    outputs: Record<string, string>;
};

interface Recorded {
    /** The schema the plugin serves. */
    schema: PackageSchema;
    /** The schema the SDK's analyzer infers, before the plugin completes it. */
    inferred: PackageSchema;
    resources: { type: string; name: string; parent: string }[];
    urn: string;
    state: Record<string, { value: unknown; secret: boolean }>;
    refused: { resourceError: boolean; hideStack: boolean; message: string };
}
let recorded: Recorded;

beforeAll(async () => {
    await jest.isolateModulesAsync(async () => {
        const pulumi: typeof pulumiType = await import("@pulumi/pulumi");
        const { ComponentProvider } = await import("@pulumi/pulumi/provider/experimental");
        const { ElkProvider } = await import("../plugin/provider");
        const provider = new ElkProvider(PLUGIN);
        const schema = JSON.parse(await provider.getSchema()) as PackageSchema;
        const inferred = JSON.parse(await ComponentProvider.prototype.getSchema.call(provider)) as PackageSchema;

        const resources: Recorded["resources"] = [];
        // Registrations in order, per type and name: the component and its child share both.
        const parents = new Map<string, string[]>();
        await pulumi.runtime.setMocks(
            {
                newResource: async (args) => {
                    resources.push({ type: args.type, name: args.name, parent: parents.get(`${args.type}::${args.name}`)?.shift() ?? "?" });
                    const inputs = unwrapSecrets(args.inputs) as Obj;
                    const password = args.type === "random:index/randomPassword:RandomPassword" ? { result: "g".repeat(Number(inputs.length)) } : {};
                    return { id: `${args.name}-id`, state: (await realTlsState(args.type, inputs)) ?? { ...inputs, ...password } };
                },
                call: (args) => args.inputs as Obj,
            },
            "elk-consumer",
            "dev",
            false,
        );
        const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: { getType(): string; getName(): string; getParent(): string }, cb: unknown): void };
        const register = monitor.registerResource.bind(monitor);
        monitor.registerResource = (req, cb) => {
            const key = `${req.getType()}::${req.getName()}`;
            parents.set(key, [...(parents.get(key) ?? []), req.getParent()]);
            register(req, cb);
        };

        // The engine hands construct the arguments as the program gave them; a secret arrives as a secret output.
        // `${elasticPassword}` is the YAML program's config, as the CLI resolves it for a stack that set it encrypted.
        const project = readProjectFile(path.dirname(YAML_EXAMPLE));
        const config = resolveStackConfig(project, "dev", stackConfigFromTexts(project, { elasticPassword: "p".repeat(24) }, ["elasticPassword"]), IDENTITY_DECRYPTER);
        const key = `${project.name}:elasticPassword`;
        expect(yamlExample.resources.logs.properties.elasticPassword).toBe("${elasticPassword}");
        const elasticPassword = config.secretKeys.includes(key) ? pulumi.secret(config.values[key]) : config.values[key];
        const args: Obj = { ...yamlExample.resources.logs.properties, elasticPassword };
        const result = await provider.construct("logs", ELK_STACK_TYPE, args, {});
        const state: Recorded["state"] = {};
        for (const [key, value] of Object.entries(result.state)) {
            const out = value as pulumiType.Output<unknown>;
            state[key] = { value: await new Promise<unknown>((resolve) => out.apply((x) => resolve(x))), secret: await pulumi.isSecret(out) };
        }
        const urn = await new Promise<string>((resolve) => pulumi.output(result.urn).apply((u) => resolve(u)));
        const refused = await provider.construct("bad", ELK_STACK_TYPE, { clusterName: "Bad Name!" }, {}).then(
            () => ({ resourceError: false, hideStack: false, message: "accepted" }),
            (e: Error) => ({ resourceError: pulumi.ResourceError.isInstance(e), hideStack: (e as pulumiType.ResourceError).hideStack === true, message: e.message }),
        );
        await pulumi.runtime.disconnect();
        recorded = { schema, inferred, resources, urn, state, refused };
    });
}, 180_000);

describe("the schema the plugin serves", () => {
    const component = () => recorded.schema.resources[ELK_STACK_TYPE];

    test("is package elk, at the repository's version, with the one component ElkStack", () => {
        expect(recorded.schema.name).toBe("elk");
        expect(recorded.schema.version).toBe(ROOT_VERSION);
        expect(Object.keys(recorded.schema.resources)).toEqual([ELK_STACK_TYPE]);
        expect(component()).toMatchObject({ isComponent: true, requiredInputs: [] });
    });

    test("has an argument for every stack config key, typed as the key, plain but the secrets", () => {
        const inputs = component().inputProperties;
        expect(Object.keys(inputs).sort()).toEqual(Object.keys(CONFIG_SCHEMA).sort());
        const secrets = new Set<string>([...PASSWORD_KEYS, ...Object.values(OBJECT_STORE_CREDENTIAL_KEYS).flat()]);
        for (const [key, declared] of Object.entries(CONFIG_SCHEMA)) {
            const { description, ...shape } = inputs[key];
            const type: SchemaProperty =
                key === "logSources"
                    ? { type: "array", items: { ...ref("LogSource"), plain: true } }
                    : key === "elasticsearchNodeSets"
                      ? { type: "array", items: { ...ref("NodeSet"), plain: true } }
                      : declared.type === "array"
                        ? { type: "array", items: { type: "string", plain: true } }
                        : { type: declared.type };
            // Passwords and the object store's credentials are inputs (they may be outputs of other resources) and
            // secret; the rest decide which resources exist, so they are plain values.
            const flags = secrets.has(key) ? { secret: true } : { plain: true };
            expect({ key, ...shape }).toEqual({ key, ...type, ...flags, optional: true });
            const documented = key === "logSources" ? "Services that send logs, each an object {kind, name, port, errorLevel}" : declared.description;
            expect({ key, description }).toEqual({ key, description: expect.stringContaining(documented) as unknown });
        }
    });

    test("describes a log source as an object with a kind, a name, an integer port and an error level", () => {
        expect(recorded.schema.types["elk:index:LogSource"]).toMatchObject({
            properties: {
                kind: { type: "string", plain: true },
                name: { type: "string", plain: true },
                port: { type: "integer", plain: true, optional: true },
                errorLevel: { type: "string", plain: true, optional: true },
            },
            required: ["kind", "name"],
        });
    });

    test("has the outputs of the library's ElkStack, with elasticPassword the only secret", () => {
        const outputs = component().properties;
        expect(Object.keys(outputs).sort()).toEqual(OUTPUTS);
        const shapes = Object.fromEntries(Object.entries(outputs).map(([k, { description, ...shape }]) => [k, { ...shape, documented: (description ?? "").length > 0 }]));
        expect(shapes).toEqual({
            elasticsearchUrl: { type: "string", documented: true },
            kibanaUrl: { type: "string", documented: true },
            caCertPem: { type: "string", documented: true },
            elasticPassword: { type: "string", secret: true, documented: true },
            logstashEndpoints: { ...ref("LogstashEndpoints"), documented: true },
            wiring: { type: "object", additionalProperties: { type: "string" }, documented: true },
            snapshots: { ...ref("SnapshotInfo"), documented: true },
            certificateExpiry: { ...ref("CertificateExpiry"), documented: true },
        });
        expect(recorded.schema.types["elk:index:LogstashEndpoints"].properties).toMatchObject({
            nginxSyslog: { type: "string" },
            django: { type: "object", additionalProperties: { type: "string" } },
        });
        expect(recorded.schema.types["elk:index:CertificateExpiry"].required).toEqual(["renewBeforeDays"]);
        expect(recorded.schema.types["elk:index:SnapshotInfo"].required).toEqual(["retentionDays", "schedule"]);
    });

    test("completes what the SDK's analyzer infers: without the plugin's completion, ports are floats and nothing is secret", () => {
        const inferred = recorded.inferred.resources[ELK_STACK_TYPE];
        expect(inferred.inputProperties.elasticsearchPort.type).toBe("number");
        expect(JSON.stringify(recorded.inferred)).not.toContain('"secret"');
        // Everything else is the analyzer's own inference, untouched.
        expect(Object.keys(inferred.inputProperties).sort()).toEqual(Object.keys(component().inputProperties).sort());
        expect(Object.keys(recorded.inferred.types).sort()).toEqual(Object.keys(recorded.schema.types).sort());
    });
});

describe("the component, built through the provider's construct with the YAML example's arguments", () => {
    test("builds the library's ElkStack as its child, on Docker", () => {
        // The component (no parent: construct was given none) and the library's ElkStack of the same name, its child.
        const stacks = recorded.resources.filter((r) => r.type === "elk:index:ElkStack" && r.name === "logs");
        expect(stacks.map((r) => r.parent)).toEqual(["", recorded.urn]);
        expect(recorded.urn).toBe("urn:pulumi:dev::elk-consumer::elk:index:ElkStack::logs");
        expect(recorded.resources.filter((r) => r.type === "docker:index/container:Container").length).toBeGreaterThanOrEqual(4);
    });

    test("returns every output of the schema, the arguments applied, and the password still secret", () => {
        expect(Object.keys(recorded.state).sort()).toEqual(OUTPUTS);
        expect(recorded.state.kibanaUrl).toEqual({ value: "https://localhost:5601", secret: false });
        expect(recorded.state.elasticPassword).toEqual({ value: "p".repeat(24), secret: true });
        expect(String(recorded.state.caCertPem.value)).toContain("BEGIN CERTIFICATE");
        const endpoints = recorded.state.logstashEndpoints.value as { nginxSyslog: string; django: Record<string, string> };
        expect(Object.keys(endpoints.django)).toEqual(["api"]);
        expect(endpoints.django.api).toMatch(/:5141$/);
        expect((recorded.state.snapshots.value as { retentionDays: number }).retentionDays).toBe(30);
        expect(Object.keys(recorded.state.wiring.value as Obj).length).toBeGreaterThan(0);
    });

    test("refuses a bad argument with a ResourceError that names it, without a stack trace", () => {
        expect(recorded.refused).toEqual({
            resourceError: true,
            hideStack: true,
            message: expect.stringMatching(/^ElkStack bad: argument 'clusterName': 'Bad Name!' is malformed\. Fix: /) as unknown,
        });
    });
});

describe("the arguments", () => {
    const context = { project: "elk-consumer", stack: "dev" };
    const refusal = (args: Obj): string => {
        try {
            convertArgs(args, context);
        } catch (e) {
            if (e instanceof ArgumentError) return `${e.argument}: ${e.message}`;
            throw e;
        }
        return "accepted";
    };

    test("are the stack config keys: same defaults, same values, lists and numbers as the config would hold them", () => {
        const { settings, passwords } = convertArgs({}, context);
        expect(settings).toMatchObject({ target: "docker", clusterName: "elk", environment: "dev", ports: { elasticsearch: 9200 } });
        expect(passwords).toEqual({});
        const given = convertArgs(
            { target: "kubernetes", elasticsearchNodeCount: 3, setMaxMapCount: false, extraCertificateNames: ["apm"], logSources: [{ kind: "django", name: "api", port: 6001 }] },
            context,
        ).settings;
        expect(given).toMatchObject({ target: "kubernetes", setMaxMapCount: false, names: { extra: ["apm"] }, elasticsearch: { replicas: 3 } });
        expect(given.logSources.map((s) => [s.kind, s.name, s.port])).toEqual([["django", "api", 6001]]);
    });

    test("refuse each problem the stack config refuses, naming the argument", () => {
        expect(refusal({ target: "nomad" })).toBe("target: argument 'target': unknown target 'nomad'. Fix: set 'docker' or 'kubernetes'");
        expect(refusal({ elasticsearchPort: 9200.5 })).toMatch(/^elasticsearchPort: argument 'elasticsearchPort': '9200\.5' is not a whole number/);
        expect(refusal({ logSources: [{ kind: "syslog", name: "x" }] })).toMatch(/^logSources: /);
        expect(refusal({ extraCertificateNames: ["Bad_Name"] })).toMatch(/^extraCertificateNames\[0\]: /);
        expect(refusal({ elasticPassword: "short" })).toMatch(/^elasticPassword: argument 'elasticPassword': the password is too short/);
    });

    test("refuse an argument the component does not have, and an output where a plain value decides what exists", async () => {
        expect(refusal({ clustername: "x" })).toMatch(/^clustername: argument 'clustername': is not an argument of ElkStack/);
        await jest.isolateModulesAsync(async () => {
            const pulumi: typeof pulumiType = await import("@pulumi/pulumi");
            const { convertArgs: convert } = await import("../plugin/args");
            expect(() => convert({ target: pulumi.output("docker") }, context)).toThrow("argument 'target': is an output of another resource, but it decides which resources exist");
        });
    });

    test("keep a password given as a secret output a secret, unread", async () => {
        await jest.isolateModulesAsync(async () => {
            const pulumi: typeof pulumiType = await import("@pulumi/pulumi");
            const { convertArgs: convert } = await import("../plugin/args");
            const { passwords } = convert({ kibanaSystemPassword: pulumi.secret("k".repeat(20)) }, context);
            expect(Object.keys(passwords)).toEqual(["kibanaSystem"]);
            expect(await pulumi.isSecret(pulumi.output(passwords.kibanaSystem))).toBe(true);
        });
    });
});

describe("the plugin as the Pulumi CLI runs it", () => {
    test("PulumiPlugin.yaml names the Node.js runtime with TypeScript, and package.json's main is the entry point", () => {
        expect(YAML.parse(fs.readFileSync(path.join(PLUGIN, "PulumiPlugin.yaml"), "utf8"))).toEqual({ runtime: { name: "nodejs", options: { typescript: true } } });
        const pkg = JSON.parse(fs.readFileSync(path.join(PLUGIN, "package.json"), "utf8")) as { name: string; main: string };
        expect(pkg).toMatchObject({ name: "elk", main: "index.ts" });
        // The language host installs a plugin's dependencies at the npm workspace root that holds it.
        expect((JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { workspaces?: string[] }).workspaces).toEqual(["plugin"]);
    });

    test("starts with @pulumi/pulumi/cmd/run-plugin from another folder, prints its port and serves the schema", async () => {
        // What pulumi-language-nodejs's RunPlugin runs: node <run-plugin> <plugin folder>, in the program's folder.
        const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "elk-plugin-"));
        const child = spawn(process.execPath, [require.resolve("@pulumi/pulumi/cmd/run-plugin", { paths: [PLUGIN] }), PLUGIN], { cwd, stdio: ["ignore", "pipe", "pipe"] });
        let stderr = "";
        child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
        try {
            const port = await new Promise<number>((resolve, reject) => {
                const timer = setTimeout(() => reject(new Error(`no port within 150 s; stderr:\n${stderr}`)), 150_000);
                let out = "";
                child.stdout.setEncoding("utf8").on("data", (d: string) => {
                    out += d;
                    const m = /^(\d+)\n/.exec(out);
                    if (m) {
                        clearTimeout(timer);
                        resolve(Number(m[1]));
                    }
                });
                child.on("exit", (code) => reject(new Error(`the plugin exited (${code}) before printing a port; stderr:\n${stderr}`)));
            });
            const grpc = await import("@grpc/grpc-js");
            const { ResourceProviderClient } = (await import("@pulumi/pulumi/proto/provider_grpc_pb")) as typeof import("@pulumi/pulumi/proto/provider_grpc_pb");
            const { GetSchemaRequest } = (await import("@pulumi/pulumi/proto/provider_pb")) as typeof import("@pulumi/pulumi/proto/provider_pb");
            const client = new ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
            const served = await new Promise<string>((resolve, reject) =>
                client.getSchema(new GetSchemaRequest(), new grpc.Metadata(), { deadline: Date.now() + 60_000 }, (err, res) => (err ? reject(err) : resolve(res.getSchema()))),
            );
            client.close();
            expect(JSON.parse(served)).toEqual(recorded.schema);
        } finally {
            // Reaped here, not after the file: the host's CPU time then counts in this file's figure (test:times). A
            // host that never started ('error', no 'exit') has nothing to reap.
            const ended = child.exitCode !== null || child.signalCode !== null || child.pid === undefined;
            const exited = ended ? Promise.resolve() : new Promise<void>((resolve) => child.once("exit", () => resolve()).once("error", () => resolve()));
            child.kill("SIGKILL");
            try {
                await withDeadline(exited, 10_000, "the killed plugin host to exit");
            } finally {
                fs.rmSync(cwd, { recursive: true, force: true });
            }
        }
    }, 240_000);
});

describe("the examples in other languages", () => {
    /** Checks a value against a schema property: its type, and for objects the names of their properties. */
    const problems = (where: string, value: unknown, prop: SchemaProperty): string[] => {
        if (prop.$ref) {
            const type = recorded.schema.types[prop.$ref.replace("#/types/", "")];
            if (typeof value !== "object" || value === null) return [`${where}: not an object`];
            return Object.entries(value).flatMap(([k, v]) => (type.properties?.[k] ? problems(`${where}.${k}`, v, type.properties[k]) : [`${where}.${k}: no such property`]));
        }
        if (typeof value === "string" && /^\$\{[\w.]+\}$/.test(value)) return [];
        switch (prop.type) {
            case "array":
                return Array.isArray(value) ? value.flatMap((v, i) => problems(`${where}[${i}]`, v, prop.items ?? {})) : [`${where}: not a list`];
            case "integer":
                return Number.isInteger(value) ? [] : [`${where}: not an integer`];
            default:
                return typeof value === prop.type ? [] : [`${where}: not a ${prop.type}`];
        }
    };

    test("the YAML program uses the plugin in this repository, and only arguments and outputs the schema has", () => {
        const [provider, ...more] = yamlExample.plugins.providers;
        expect(more).toEqual([]);
        expect(provider.name).toBe("elk");
        expect(path.resolve(path.dirname(YAML_EXAMPLE), provider.path)).toBe(PLUGIN);
        const { type, properties } = yamlExample.resources.logs;
        expect(type).toBe(ELK_STACK_TYPE);
        const component = recorded.schema.resources[ELK_STACK_TYPE];
        expect(Object.entries(properties).flatMap(([k, v]) => (component.inputProperties[k] ? problems(k, v, component.inputProperties[k]) : [`${k}: no such argument`]))).toEqual([]);
        const used = Object.values(yamlExample.outputs).map((o) => /^\$\{logs\.(\w+)\}$/.exec(o)?.[1]);
        expect(used.length).toBeGreaterThan(0);
        for (const o of used) expect(Object.keys(component.properties)).toContain(o);
    });

    const python = fs.existsSync("/usr/bin/python3") && fs.existsSync("/usr/bin/pyflakes3");
    if (process.env.ELK_REQUIRE_LIVE_TOOLS === "1" && !python) throw new Error("ELK_REQUIRE_LIVE_TOOLS=1 but /usr/bin/python3 or /usr/bin/pyflakes3 is missing");
    if (!python) console.warn("SKIPPED the Python example's checks: needs /usr/bin/python3 and pyflakes3 (apt-get install pyflakes3)");

    (python ? test : test.skip)("the Python program compiles, pyflakes finds nothing, and it names only arguments and outputs the schema has", () => {
        const flakes = spawnSync("/usr/bin/pyflakes3", [PYTHON_EXAMPLE], { encoding: "utf8", timeout: 60_000 });
        expect({ status: flakes.status, out: `${flakes.stdout}${flakes.stderr}` }).toEqual({ status: 0, out: "" });
        // Python's own parser lists the keyword arguments of the SDK's constructors and the attributes read off `logs`.
        const script = [
            "import ast, json, sys",
            "tree = ast.parse(open(sys.argv[1]).read())",
            "calls = {}",
            "reads = set()",
            "for n in ast.walk(tree):",
            "    if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name) and n.func.value.id == 'elk':",
            "        calls.setdefault(n.func.attr, set()).update(k.arg for k in n.keywords)",
            "    if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == 'logs':",
            "        reads.add(n.attr)",
            "print(json.dumps({'calls': {k: sorted(v) for k, v in calls.items()}, 'reads': sorted(reads)}))",
        ].join("\n");
        const parsed = spawnSync("/usr/bin/python3", ["-c", script, PYTHON_EXAMPLE], { encoding: "utf8", timeout: 60_000 });
        expect(parsed.status).toBe(0);
        const { calls, reads } = JSON.parse(parsed.stdout) as { calls: Record<string, string[]>; reads: string[] };
        // The SDK generator names Python arguments and attributes in snake_case, and input types <Type>Args.
        const camel = (s: string) => s.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
        const component = recorded.schema.resources[ELK_STACK_TYPE];
        expect(Object.keys(calls).sort()).toEqual(["ElkStack", "LogSourceArgs"]);
        for (const k of calls.ElkStack) expect(Object.keys(component.inputProperties)).toContain(camel(k));
        for (const k of calls.LogSourceArgs) expect(Object.keys(recorded.schema.types["elk:index:LogSource"].properties ?? {})).toContain(camel(k));
        expect(reads.length).toBeGreaterThan(0);
        for (const k of reads) expect(Object.keys(component.properties)).toContain(camel(k));
    });
});
