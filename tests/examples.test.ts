/**
 * The library as a consumer sees it. The example program (examples/consumer) type-checks and runs under the mock
 * runtime against the sources; `npm pack` ships compiled JavaScript, declarations and the data folders the
 * components read, and nothing else; and the example type-checks and runs again against the packed tarball.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import ts from "typescript";
import type * as pulumiType from "@pulumi/pulumi";
import { unwrapSecrets } from "./support/program";
import { realTlsState } from "./support/realTls";

const ROOT = path.join(__dirname, "..");
const EXAMPLE = path.join(ROOT, "examples", "consumer");
const TSC = require.resolve("typescript/bin/tsc");

type Obj = Record<string, unknown>;

/** Runs a command; throws with its output when it fails. */
function run(cmd: string, args: string[], cwd: string): string {
    const r = spawnSync(cmd, args, { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, env: { ...process.env, npm_config_update_notifier: "false" } });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
}

/** What the example registered and exported. */
interface ExampleRun {
    readonly resources: readonly { readonly type: string; readonly name: string }[];
    readonly outputs: Readonly<Record<string, { readonly value: unknown; readonly secret: boolean }>>;
}

/**
 * Evaluates examples/consumer/index.ts under the mock runtime, with `elk-stack` resolved by `loadLibrary` (the
 * sources, or the packed package). The example is type-checked by tsc on its own; here it is transpiled and given a
 * `require` that knows its only two imports, so the same file runs against either library.
 */
async function runExample(loadLibrary: () => Promise<unknown>): Promise<ExampleRun> {
    const source = fs.readFileSync(path.join(EXAMPLE, "index.ts"), "utf8");
    const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText;
    const resources: { type: string; name: string }[] = [];
    const outputs: Record<string, { value: unknown; secret: boolean }> = {};
    await jest.isolateModulesAsync(async () => {
        const pulumi: typeof pulumiType = await import("@pulumi/pulumi");
        await pulumi.runtime.setMocks(
            {
                newResource: (args) => {
                    resources.push({ type: args.type, name: args.name });
                    const inputs = unwrapSecrets(args.inputs) as Obj;
                    // Real keys and certificates (the components read them); a password of the asked length.
                    const tls = realTlsState(args.type, inputs);
                    const password = args.type === "random:index/randomPassword:RandomPassword" ? { result: "p".repeat(Number(inputs.length)) } : {};
                    return { id: `${args.name}-id`, state: tls ?? { ...inputs, ...password } };
                },
                call: (args) => args.inputs as Obj,
            },
            "elk-consumer",
            "dev",
            false,
        );
        const modules: Record<string, unknown> = { "@pulumi/pulumi": pulumi, "elk-stack": await loadLibrary() };
        const requireImport = (id: string): unknown => {
            if (!(id in modules)) throw new Error(`the example imports ${id}, which a consumer of elk-stack would not have`);
            return modules[id];
        };
        const module = { exports: {} as Record<string, unknown> };
        // eslint-disable-next-line @typescript-eslint/no-implied-eval -- runs the transpiled example, type-checked by tsc above
        const evaluate = new Function("require", "module", "exports", js) as (req: typeof requireImport, mod: typeof module, exp: Obj) => void;
        evaluate(requireImport, module, module.exports);
        for (const [name, value] of Object.entries(module.exports)) {
            if (!pulumi.Output.isInstance(value)) continue;
            const v = await new Promise<unknown>((resolve) => value.apply((x) => resolve(x)));
            outputs[name] = { value: v, secret: await pulumi.isSecret(value) };
        }
        await pulumi.runtime.disconnect();
    });
    return { resources, outputs };
}

/** What the example must have done, whichever library it ran against. */
function expectTheStack(r: ExampleRun): void {
    const names = (type: string) => r.resources.filter((x) => x.type === type).map((x) => x.name);
    expect(names("elk:index:ElkStack")).toEqual(["logs"]);
    // The app's own CA, and the logging stack's two: HTTP and Elasticsearch transport.
    expect(names("elk:index:CertificateAuthority").sort()).toEqual(["app-ca", "logs-ca", "logs-transport-ca"]);
    expect(names("docker:index/container:Container").length).toBeGreaterThanOrEqual(4);
    expect(r.outputs.kibanaUrl).toEqual({ value: "https://localhost:5601", secret: false });
    expect(String(r.outputs.appCaCertificate.value)).toContain("BEGIN CERTIFICATE");
    expect(r.outputs.appCaCertificate.value).not.toEqual(r.outputs.logsCaCertificate.value);
    expect(r.outputs.elasticPassword.secret).toBe(true);
}

describe("the example consumer against the sources", () => {
    test("type-checks, with elk-stack mapped to components/", () => {
        run(process.execPath, [TSC, "-p", path.join(EXAMPLE, "tsconfig.json"), "--noEmit"], ROOT);
    }, 180_000);

    test("runs under the mock runtime and registers the logging stack and its own CA", async () => {
        expectTheStack(await runExample(() => import("../components")));
    }, 180_000);
});

/** The library fields package.json must declare for `npm pack` to ship the compiled library. */
interface PackageJson {
    readonly main?: string;
    readonly types?: string;
    readonly exports?: Readonly<Record<string, unknown>>;
    readonly files?: readonly string[];
    readonly scripts?: Readonly<Record<string, string>>;
}

/** Folders next to components/ that a component reads at run time: `path.resolve(__dirname, "..", "<dir>")`. */
function runtimeDataDirs(): string[] {
    const dirs = new Set<string>();
    const walk = (dir: string): void => {
        for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
            const p = path.join(dir, e.name);
            if (e.isDirectory()) walk(p);
            else if (e.name.endsWith(".ts")) for (const m of fs.readFileSync(p, "utf8").matchAll(/path\.resolve\(__dirname,\s*"\.\.",\s*"([^"]+)"\)/g)) dirs.add(m[1]);
        }
    };
    walk(path.join(ROOT, "components"));
    return [...dirs].sort();
}

describe("the npm package", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as PackageJson;
    let work: string;
    let copy: string;

    beforeAll(() => {
        // Pack a copy: prepack builds dist/, which must not appear in the working tree of whoever runs the tests.
        work = fs.mkdtempSync(path.join(os.tmpdir(), "elk-pack-"));
        copy = path.join(work, "repo");
        const skip = new Set(["node_modules", ".git", "dist", "bin", "out", "coverage", "render"]);
        fs.cpSync(ROOT, copy, { recursive: true, filter: (src) => !skip.has(path.relative(ROOT, src).split(path.sep)[0]) });
        fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(copy, "node_modules"), "dir");
    });
    afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

    test("package.json declares the compiled library: main, types, exports, files and a prepack build", () => {
        expect(pkg.main).toBe("dist/index.js");
        expect(pkg.types).toBe("dist/index.d.ts");
        expect(pkg.exports?.["."]).toEqual({ types: "./dist/index.d.ts", default: "./dist/index.js" });
        expect(pkg.files).toEqual(expect.arrayContaining(["dist", ...runtimeDataDirs()]));
        expect(pkg.scripts?.prepack).toBe("npm run build:lib");
        expect(pkg.scripts?.["build:lib"]).toBe("tsc -p tsconfig.build.json");
    });

    test("npm pack ships compiled JavaScript, declarations and the data folders, and nothing that does not belong", () => {
        const [report] = JSON.parse(run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts=false"], copy)) as { files: { path: string }[] }[];
        const files = report.files.map((f) => f.path).sort();
        const sources = fs.readdirSync(path.join(ROOT, "components"), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"));
        for (const src of sources) {
            const base = `dist/${src.replace(/\\/g, "/").replace(/\.ts$/, "")}`;
            expect(files).toEqual(expect.arrayContaining([`${base}.js`, `${base}.d.ts`]));
        }
        for (const dir of runtimeDataDirs()) expect(files.some((f) => f.startsWith(`${dir}/`))).toBe(true);
        const misplaced = files.filter(
            (f) =>
                /^(tests|scripts|policy|examples|node_modules|\.github|\.ci|components)\//.test(f) ||
                (f.endsWith(".ts") && !f.endsWith(".d.ts")) ||
                /^Pulumi(\..+)?\.yaml$/.test(f) ||
                /^tsconfig.*\.json$/.test(f),
        );
        expect(misplaced).toEqual([]);
        expect(files).toContain("package.json");
        expect(files).toContain("README.md");
    }, 180_000);

    test("the packed tarball type-checks the example without any mapping, and runs it", async () => {
        const [report] = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", work], copy)) as { filename: string }[];
        // A consumer project: the tarball unpacked as node_modules/elk-stack, every other dependency from this repository.
        const consumer = path.join(work, "consumer");
        const modules = path.join(consumer, "node_modules");
        fs.mkdirSync(path.join(modules, "elk-stack"), { recursive: true });
        run("tar", ["xzf", path.join(work, report.filename), "-C", path.join(modules, "elk-stack"), "--strip-components=1"], work);
        for (const entry of fs.readdirSync(path.join(ROOT, "node_modules"))) {
            if (entry !== "elk-stack" && !entry.startsWith(".")) fs.symlinkSync(path.join(ROOT, "node_modules", entry), path.join(modules, entry), "dir");
        }
        fs.copyFileSync(path.join(EXAMPLE, "index.ts"), path.join(consumer, "index.ts"));
        const tsconfig = JSON.parse(fs.readFileSync(path.join(EXAMPLE, "tsconfig.json"), "utf8")) as { compilerOptions: Obj };
        delete tsconfig.compilerOptions.paths;
        fs.writeFileSync(path.join(consumer, "tsconfig.json"), JSON.stringify(tsconfig));
        run(process.execPath, [TSC, "-p", path.join(consumer, "tsconfig.json"), "--noEmit"], consumer);
        // node16 resolution reads package.json "exports" (the default "node" resolution reads "types"): both must work.
        run(process.execPath, [TSC, "-p", path.join(consumer, "tsconfig.json"), "--noEmit", "--module", "node16", "--moduleResolution", "node16"], consumer);

        const entry = require.resolve("elk-stack", { paths: [consumer] });
        expect(path.relative(consumer, entry)).toBe(path.join("node_modules", "elk-stack", "dist", "index.js"));
        expectTheStack(await runExample(async () => (await import(entry)) as unknown));
    }, 300_000);
});
