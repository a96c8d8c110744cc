/**
 * The library as a consumer sees it. The example program (examples/consumer) type-checks and runs under the mock
 * runtime against the sources; `npm pack` ships compiled JavaScript, declarations and the data folders the
 * components read, and nothing else; the example type-checks and runs again against the packed tarball; the packed
 * root loads no Elasticsearch client until `verify` runs; and the tarball installed from the registry into a scratch
 * program on another @pulumi/pulumi release leaves that program one copy of each Pulumi SDK.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import ts from "typescript";
import * as semver from "semver";
import type * as pulumiType from "@pulumi/pulumi";
import { runCommandOk } from "./support/command";
import { withIsolatedSdk } from "./support/isolatedSdk";
import { packedLibrary } from "./support/packedLibrary";
import { unwrapSecrets } from "./support/program";
import { realTlsState } from "./support/realTls";

const ROOT = path.join(__dirname, "..");
const EXAMPLE = path.join(ROOT, "examples", "consumer");
const TSC = require.resolve("typescript/bin/tsc");

type Obj = Record<string, unknown>;

/**
 * Runs a command (its process group killed after `timeoutMs`) without blocking the event loop; throws with its
 * output when it fails or times out.
 */
function run(cmd: string, args: string[], cwd: string, timeoutMs = 240_000): Promise<string> {
    return runCommandOk(cmd, args, { cwd, timeoutMs, env: { ...process.env, npm_config_update_notifier: "false" } });
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
    await withIsolatedSdk(async () => {
        const pulumi: typeof pulumiType = await import("@pulumi/pulumi");
        await pulumi.runtime.setMocks(
            {
                newResource: async (args) => {
                    resources.push({ type: args.type, name: args.name });
                    const inputs = unwrapSecrets(args.inputs) as Obj;
                    // Real keys and certificates (the components read them); a password of the asked length.
                    const tls = await realTlsState(args.type, inputs);
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
    test("type-checks, with elk-stack mapped to components/", async () => {
        await run(process.execPath, [TSC, "-p", path.join(EXAMPLE, "tsconfig.json"), "--noEmit"], ROOT);
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
    readonly private?: boolean;
    readonly dependencies?: Readonly<Record<string, string>>;
    readonly peerDependencies?: Readonly<Record<string, string>>;
    readonly devDependencies?: Readonly<Record<string, string>>;
}

/** The Pulumi SDKs a consumer brings: one copy each, shared by its program and this package. */
const PULUMI_SDKS = ["@pulumi/docker", "@pulumi/kubernetes", "@pulumi/pulumi", "@pulumi/random", "@pulumi/tls"];
/**
 * The @pulumi/pulumi release the scratch consumer pins: another release than the repository's, inside the peer range.
 * Pulumi ships every SDK release as a new minor version (3.248.0, 3.249.0, ...; no 3.248.x patches exist), so the
 * nearest other version is the next minor.
 */
const CONSUMER_PULUMI = "3.249.0";

/** Folders of the package root that a component reads at run time: `path.join(PACKAGE_ROOT, "<dir>", ...)` (components/model/packageRoot.ts). */
function runtimeDataDirs(): string[] {
    const dirs = new Set<string>();
    const walk = (dir: string): void => {
        for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
            const p = path.join(dir, e.name);
            if (e.isDirectory()) walk(p);
            else if (e.name.endsWith(".ts")) for (const m of fs.readFileSync(p, "utf8").matchAll(/path\.join\(PACKAGE_ROOT,\s*"([^"]+)"/g)) dirs.add(m[1]);
        }
    };
    walk(path.join(ROOT, "components"));
    return [...dirs].sort();
}

describe("the npm package", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as PackageJson;
    let work: string;
    let consumer: string | undefined;

    beforeAll(() => {
        work = fs.mkdtempSync(path.join(os.tmpdir(), "elk-pack-"));
    });
    afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

    /**
     * The tarball `npm pack` writes (prepack builds dist/ first), packed once in the run for the tests that need it
     * (tests/support/packedLibrary.ts), which also read the files npm reports it packed.
     */
    const packed = async (): Promise<string> => (await packedLibrary()).tarball;

    /** A consumer project: the tarball unpacked as node_modules/elk-stack, every other dependency from this repository. */
    const linkedConsumer = async (): Promise<string> => {
        if (consumer === undefined) {
            const dir = path.join(work, "consumer");
            const modules = path.join(dir, "node_modules");
            fs.mkdirSync(path.join(modules, "elk-stack"), { recursive: true });
            await run("tar", ["xzf", await packed(), "-C", path.join(modules, "elk-stack"), "--strip-components=1"], work);
            for (const entry of fs.readdirSync(path.join(ROOT, "node_modules"))) {
                if (entry !== "elk-stack" && !entry.startsWith(".")) fs.symlinkSync(path.join(ROOT, "node_modules", entry), path.join(modules, entry), "dir");
            }
            consumer = dir;
        }
        return consumer;
    };

    test("package.json declares the compiled library: main, types, exports, files and a prepack build", () => {
        expect(pkg.main).toBe("dist/index.js");
        expect(pkg.types).toBe("dist/index.d.ts");
        expect(pkg.exports?.["."]).toEqual({ types: "./dist/index.d.ts", default: "./dist/index.js" });
        expect(runtimeDataDirs()).toEqual(["kibana", "pipelines", "shell", "wiring"]);
        expect(pkg.files).toEqual(expect.arrayContaining(["dist", ...runtimeDataDirs()]));
        expect(pkg.scripts?.prepack).toBe("npm run build:lib");
        expect(pkg.scripts?.["build:lib"]).toBe("tsc -p tsconfig.build.json");
    });

    test("package.json makes an installable package: not private, the Pulumi SDKs as peers, each also a devDependency in its range", () => {
        expect(pkg.private).toBeUndefined();
        expect(Object.keys(pkg.peerDependencies ?? {}).sort()).toEqual(PULUMI_SDKS);
        for (const name of PULUMI_SDKS) {
            // A regular dependency would give a consumer on another SDK version a second copy of it.
            expect(pkg.dependencies?.[name]).toBeUndefined();
            const installed = (JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
            // The tests run against the installed copy, so the installed copy must be one the peer range accepts.
            expect(semver.satisfies(installed, pkg.peerDependencies?.[name] ?? "")).toBe(true);
            expect(pkg.devDependencies?.[name]).toBeDefined();
        }
    });

    test("npm pack ships compiled JavaScript, declarations and the data folders, and nothing that does not belong", async () => {
        const { files } = await packedLibrary();
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
        const consumer = await linkedConsumer();
        fs.copyFileSync(path.join(EXAMPLE, "index.ts"), path.join(consumer, "index.ts"));
        const tsconfig = JSON.parse(fs.readFileSync(path.join(EXAMPLE, "tsconfig.json"), "utf8")) as { compilerOptions: Obj };
        delete tsconfig.compilerOptions.paths;
        fs.writeFileSync(path.join(consumer, "tsconfig.json"), JSON.stringify(tsconfig));
        await run(process.execPath, [TSC, "-p", path.join(consumer, "tsconfig.json"), "--noEmit"], consumer);
        // node16 resolution reads package.json "exports" (the default "node" resolution reads "types"): both must work.
        await run(process.execPath, [TSC, "-p", path.join(consumer, "tsconfig.json"), "--noEmit", "--module", "node16", "--moduleResolution", "node16"], consumer);

        const entry = require.resolve("elk-stack", { paths: [consumer] });
        expect(path.relative(consumer, entry)).toBe(path.join("node_modules", "elk-stack", "dist", "index.js"));
        expectTheStack(await runExample(async () => (await import(entry)) as unknown));
    }, 300_000);

    test("importing the package root does not load the Elasticsearch client; verify loads it when it runs", async () => {
        // A fresh process: the root of the packed package, then one verify run against a closed loopback port.
        const script = `
            const elastic = () => Object.keys(require.cache).filter((f) => /[\\\\/]@elastic[\\\\/]/.test(f)).length;
            const lib = require("elk-stack");
            const atImport = elastic();
            lib.verify({
                esUrl: "https://127.0.0.1:1", ca: "", caSource: "test", user: "elastic", password: "x".repeat(16), environment: "dev",
                sources: [{ name: "web", kind: "nginx", dataset: "nginx.access", host: "127.0.0.1", port: 1 }],
                countPerSource: 1, timeoutMs: 2000, requestTimeoutMs: 2000,
            }).then((report) => console.log(JSON.stringify({ atImport, afterVerify: elastic(), ok: report.ok, problems: report.problems })));
        `;
        const out = JSON.parse(await run(process.execPath, ["-e", script], await linkedConsumer(), 60_000)) as { atImport: number; afterVerify: number; ok: boolean; problems: string[] };
        expect(out.atImport).toBe(0);
        expect(out.afterVerify).toBeGreaterThan(0);
        // The client's connection error is told apart by name (components/operations/esErrors.ts), with the client loaded late.
        expect(out.ok).toBe(false);
        expect(out.problems).toEqual([expect.stringMatching(/^cannot reach Elasticsearch at https:\/\/127\.0\.0\.1:1 /)]);
    }, 300_000);

    test(`installed from the registry next to @pulumi/pulumi ${CONSUMER_PULUMI}, the consumer has one copy of each Pulumi SDK`, async () => {
        const repoPulumi = (JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules", "@pulumi", "pulumi", "package.json"), "utf8")) as { version: string }).version;
        expect(CONSUMER_PULUMI).not.toBe(repoPulumi);
        expect(semver.satisfies(CONSUMER_PULUMI, pkg.peerDependencies?.["@pulumi/pulumi"] ?? "")).toBe(true);
        const dir = path.join(work, "registry-consumer");
        fs.mkdirSync(dir);
        fs.writeFileSync(
            path.join(dir, "package.json"),
            JSON.stringify({ name: "scratch-consumer", version: "0.0.0", private: true, dependencies: { "@pulumi/pulumi": CONSUMER_PULUMI, "elk-stack": `file:${await packed()}` } }),
        );
        // A real install from the registry (peers included, as npm 7 and later install them), bounded in time; no
        // install scripts: the Kubernetes SDK's would fetch a provider plugin, which this test does not need.
        await run("npm", ["install", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline"], dir, 240_000);

        // Every copy of each SDK on disk, wherever npm put it.
        const copies = (name: string): string[] => {
            const found: string[] = [];
            const walk = (modules: string): void => {
                if (!fs.existsSync(modules)) return;
                for (const entry of fs.readdirSync(modules)) {
                    const scoped = entry.startsWith("@") ? fs.readdirSync(path.join(modules, entry)).map((e) => `${entry}/${e}`) : [entry];
                    for (const pkgName of scoped) {
                        const at = path.join(modules, pkgName);
                        if (pkgName === name) found.push(at);
                        walk(path.join(at, "node_modules"));
                    }
                }
            };
            walk(path.join(dir, "node_modules"));
            return found;
        };
        for (const name of PULUMI_SDKS) expect(copies(name)).toEqual([path.join(dir, "node_modules", name)]);
        const version = (JSON.parse(fs.readFileSync(path.join(dir, "node_modules", "@pulumi", "pulumi", "package.json"), "utf8")) as { version: string }).version;
        expect(version).toBe(CONSUMER_PULUMI);

        // At run time too: the package and the program load the same @pulumi/pulumi.
        const script = `
            require("elk-stack");
            require("@pulumi/pulumi");
            const roots = new Set(Object.keys(require.cache).map((f) => f.match(/^(.*[\\\\/]node_modules[\\\\/]@pulumi[\\\\/]pulumi)[\\\\/]/)?.[1]).filter(Boolean));
            console.log(JSON.stringify([...roots]));
        `;
        expect(JSON.parse(await run(process.execPath, ["-e", script], dir, 60_000))).toEqual([path.join(dir, "node_modules", "@pulumi", "pulumi")]);
    }, 300_000);
});
