/**
 * `npm run benchmark`: how long the program takes to evaluate and how much memory it needs, under Pulumi's mock
 * runtime, for the dev stack, for two dev-sized stacks in one program (the way another team's program holds several
 * `ElkStack`s, each with its own name, `namePrefix` and host ports) and for a large stack (5 Elasticsearch nodes on
 * Kubernetes, 20 Django sources).
 * This is the cost of every `pulumi preview` before any provider is called, which grows with the stack.
 *
 * Each run is a fresh child process (no warm caches shared between runs); the child reports the evaluation time
 * (from setting the mocks to the last resource registered), its peak resident memory and the resources it
 * registered. The parent prints the median and spread over the runs. Figures, not assertions: CI does not run it.
 * Then the nginx grok cost per line (scripts/grokBenchmark.ts); `--grok-only` runs just that.
 */
import { execFileSync } from "child_process";
import * as path from "path";
import { parseArgs } from "util";
import { IDENTITY_DECRYPTER, readProjectFile, resolveStackConfig, stackConfigFromTexts } from "./cliConfig";
import { grokBenchmark } from "./grokBenchmark";

/**
 * Stack config of each scenario, keys without the project prefix, as the CLI would pass them. With `stacks` the
 * child runs a program of that many `ElkStack`s from this config instead of index.ts (see {@link manyStacks}):
 * `dev-x1` and `dev-x2` take the same path, so their difference is the cost of the second stack alone.
 */
export const SCENARIOS: Record<string, { stack: string; config: Record<string, string>; stacks?: number }> = {
    dev: { stack: "dev", config: { target: "docker", clusterName: "elk-dev", elasticsearchHeapMb: "512", elasticsearchMemoryMb: "1536" } },
    "dev-x1": { stack: "dev", config: { target: "docker", clusterName: "elk-dev", elasticsearchHeapMb: "512", elasticsearchMemoryMb: "1536" }, stacks: 1 },
    "dev-x2": { stack: "dev", config: { target: "docker", clusterName: "elk-dev", elasticsearchHeapMb: "512", elasticsearchMemoryMb: "1536" }, stacks: 2 },
    large: {
        stack: "large",
        config: {
            target: "kubernetes",
            clusterName: "elk-large",
            elasticsearchNodeCount: "5",
            logstashReplicas: "3",
            logSources: JSON.stringify(["nginx:web", ...Array.from({ length: 20 }, (_, i) => `django:service-${String(i + 1).padStart(2, "0")}`)]),
        },
    },
};

/** What one child run measured. */
interface RunFigures {
    /** Loading the Pulumi SDK, the provider packages and the components (compiled by ts-node): the same for every stack. */
    readonly loadMs: number;
    /** Running the program until every resource is registered and every output resolved. */
    readonly evaluationMs: number;
    readonly peakRssMb: number;
    readonly resources: number;
    readonly customResources: number;
}

/**
 * A program of `count` stacks from one config, configured apart as "Several stacks in one program" in docs/api.md says:
 * stack i is named `<clusterName>-<i>`, has that as its `namePrefix` and host ports shifted by 10 * i.
 */
async function manyStacks(config: Record<string, string>, stack: string, count: number): Promise<Record<string, unknown>> {
    const { ElkStack, parseStackConfig } = await import("../components");
    const out: Record<string, unknown> = {};
    for (let i = 0; i < count; i++) {
        const shift = (port: number) => String(port + 10 * i);
        const own: Record<string, string> = {
            ...config,
            elasticsearchPort: shift(9200),
            kibanaPort: shift(5601),
            nginxSyslogPort: shift(5140),
            logSources: JSON.stringify(["nginx:web", `django:app:${shift(5141)}`]),
        };
        const settings = parseStackConfig({ project: "elk-stack", stack, get: (k) => own[k] });
        const name = `${settings.clusterName}-${i + 1}`;
        out[name] = new ElkStack(name, { settings, namePrefix: name }).elasticsearchUrl;
    }
    return out;
}

async function child(scenario: string): Promise<void> {
    const started = process.hrtime.bigint();
    const pulumi = await import("@pulumi/pulumi");
    await Promise.all([import("@pulumi/docker"), import("@pulumi/kubernetes"), import("@pulumi/tls"), import("@pulumi/random")]);
    // The components too: ts-node compiles them on first load, which is not the program's own cost.
    await import("../components");
    const loaded = process.hrtime.bigint();
    const { stack, config, stacks } = SCENARIOS[scenario];
    let resources = 0;
    let customResources = 0;
    await pulumi.runtime.setMocks(
        {
            newResource: (args) => {
                resources++;
                if (args.custom !== false) customResources++;
                const state: Record<string, unknown> = { ...(args.inputs as Record<string, unknown>) };
                // Only the outputs the program reads: certificates and keys are placeholders, not generated.
                if (args.type.startsWith("tls:")) Object.assign(state, { certPem: "cert", privateKeyPem: "key", privateKeyPemPkcs8: "key", publicKeyPem: "pub", certRequestPem: "csr" });
                if (args.type === "random:index/randomPassword:RandomPassword") state.result = "x".repeat(32);
                if (args.type === "docker:index/container:Container") Object.assign(state, { exitCode: 0, containerLogs: "" });
                return { id: `${args.name}-id`, state };
            },
            call: (args) => args.inputs as Record<string, unknown>,
        },
        "elk-stack",
        stack,
        true,
    );
    // Handed over as the CLI would: Pulumi.yaml's defaults written in, types checked (scripts/cliConfig.ts).
    const project = readProjectFile(path.resolve(__dirname, ".."));
    const resolved = resolveStackConfig(project, stack, stackConfigFromTexts(project, config), IDENTITY_DECRYPTER);
    pulumi.runtime.setAllConfig(resolved.values, [...resolved.secretKeys]);
    const program = stacks !== undefined ? await manyStacks(config, stack, stacks) : ((await import("../index")) as Record<string, unknown>);
    for (const value of Object.values(program)) {
        if (pulumi.Output.isInstance(value)) await new Promise((resolve) => value.apply(resolve));
    }
    await pulumi.runtime.disconnect();
    const figures: RunFigures = {
        loadMs: Number(loaded - started) / 1e6,
        evaluationMs: Number(process.hrtime.bigint() - loaded) / 1e6,
        peakRssMb: process.resourceUsage().maxRSS / 1024,
        resources,
        customResources,
    };
    process.stdout.write(`${JSON.stringify(figures)}\n`);
}

function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function main(): void {
    const { values } = parseArgs({ options: { runs: { type: "string", default: "7" }, child: { type: "string" }, scenario: { type: "string", multiple: true }, "grok-only": { type: "boolean" } } });
    // The nginx pipeline's grok cost per line (scripts/grokBenchmark.ts); a line over budget fails the run.
    const grok = () =>
        grokBenchmark().then(
            (over) => {
                if (over.length > 0) process.exitCode = 1;
            },
            (e: unknown) => {
                console.error(e);
                process.exitCode = 1;
            },
        );
    if (values["grok-only"]) {
        void grok();
        return;
    }
    if (values.child) {
        child(values.child).catch((e: unknown) => {
            console.error(e);
            process.exit(1);
        });
        return;
    }
    const runs = Number(values.runs);
    const scenarios = values.scenario ?? Object.keys(SCENARIOS);
    console.log(`elk-stack program evaluation under the mock runtime, ${runs} fresh processes per scenario (node ${process.version})`);
    console.log("scenario  resources (custom)  load ms                evaluation ms          peak RSS MiB   (median [min..max])");
    for (const scenario of scenarios) {
        const results: RunFigures[] = [];
        for (let i = 0; i < runs; i++) {
            // TypeScript's own transpiler, not SWC as the package scripts use: the load times in docs/testing.md were
            // measured with it, and a scenario's load time includes compiling the components.
            const out = execFileSync(process.execPath, ["-r", "ts-node/register/transpile-only", __filename, "--child", scenario], {
                cwd: path.resolve(__dirname, ".."),
                encoding: "utf8",
                timeout: 300_000,
            });
            results.push(JSON.parse(out.trim().split("\n").pop() ?? "{}") as RunFigures);
        }
        const fmt = (pick: (r: RunFigures) => number) => {
            const xs = results.map(pick);
            return `${median(xs).toFixed(0)} [${Math.min(...xs).toFixed(0)}..${Math.max(...xs).toFixed(0)}]`.padEnd(23);
        };
        const count = `${results[0].resources} (${results[0].customResources})`;
        console.log(`${scenario.padEnd(9)} ${count.padEnd(19)} ${fmt((r) => r.loadMs)}${fmt((r) => r.evaluationMs)}${fmt((r) => r.peakRssMb)}`);
    }
    void grok();
}

main();
