/**
 * The offline parts of `npm run e2e`: the accounting of ids, duplicates and latencies, the contracts, the report
 * and its exit status, the flags and the stack config they produce, and the sequence of Automation API calls
 * against a recording double, on success and on every kind of failure.
 */
import { EXIT, PrerequisiteError } from "../scripts/automation/local";
import { type EmittedEvent, type FoundDoc, account, djangoMessage, eventPath, isRunId, parseEventId } from "../scripts/e2e/accounting";
import { DEFAULT_CHANGE, E2E_DEFAULTS, type E2eConfig, UsageError, e2eBaseConfig, e2eStackConfigs, e2eStackName, parseE2eArgs, parseThreshold, toConfigJson } from "../scripts/e2e/args";
import { type Collector, type E2eDeps, type E2eRun, type RunningLoad, StackFailure, abortableSleep, runE2e } from "../scripts/e2e/orchestrate";
import { breaches, exitCodeOf, formatReport } from "../scripts/e2e/report";
import { IDENTITY_DECRYPTER, parseStackFile, readProjectFile, readStackFile } from "../scripts/cliConfig";
import { type KubectlRunner, controllerPods, e2eSyslogHost, reloadNginx, removeDockerVolumes, restartProgress, waitRestarted, workloadStates } from "../scripts/e2e/targets";
import { STACK_LABEL } from "../components/targets";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { UpOptions } from "@pulumi/pulumi/automation";
import { PassphraseError, passphraseDecrypter, stackFileDecrypter } from "../scripts/automation/passphrase";
import { type FailingOp, recordingWorkspace } from "./support/automationDouble";
import { runProgram } from "./support/program";

const RUN = "e2e0123456789";
const SOURCES = [
    { name: "web", kind: "nginx" as const },
    { name: "app", kind: "django" as const },
];

describe("event ids", () => {
    test("nginx URIs and Django messages carry the same parseable id; other runs' ids are ignored", () => {
        expect(isRunId(RUN)).toBe(true);
        expect(isRunId("e2e0123")).toBe(false);
        expect(parseEventId(RUN, `GET ${eventPath(RUN, "web", 41)} HTTP/1.1`)).toEqual({ source: "web", seq: 41 });
        expect(parseEventId(RUN, djangoMessage(RUN, "billing-api", 7))).toEqual({ source: "billing-api", seq: 7 });
        expect(parseEventId(RUN, djangoMessage("e2eaaaaaaaaaa", "app", 7))).toBeUndefined();
        expect(parseEventId(RUN, "no id here")).toBeUndefined();
    });
});

describe("accounting", () => {
    const emitted: EmittedEvent[] = [
        ...Array.from({ length: 10 }, (_, i) => ({ source: "web", seq: i, emittedAt: 1000 + i * 10 })),
        ...Array.from({ length: 10 }, (_, i) => ({ source: "app", seq: i, emittedAt: 2000 + i * 10 })),
    ];

    test("counts sent, indexed, lost (with a sample), duplicates and strays per source", () => {
        const found: FoundDoc[] = [
            // web: 0..7 found, 8 and 9 lost; 3 stored twice; 99 never sent.
            ...[0, 1, 2, 3, 4, 5, 6, 7].map((seq) => ({ source: "web", seq, firstSeenAt: 1000 + seq * 10 + 500 })),
            { source: "web", seq: 3, firstSeenAt: 9999 },
            { source: "web", seq: 99, firstSeenAt: 3000 },
            // app: all ten, seq 5 three times.
            ...Array.from({ length: 10 }, (_, seq) => ({ source: "app", seq, firstSeenAt: 2000 + seq * 10 + 100 * (seq + 1) })),
            { source: "app", seq: 5 },
            { source: "app", seq: 5 },
        ];
        const [web, app] = account(SOURCES, emitted, found);
        expect(web).toMatchObject({ source: "web", kind: "nginx", sent: 10, indexed: 8, lost: 2, duplicated: 1, unexpected: 1, lostSample: [8, 9] });
        // Every found web event took 500 ms; the duplicate's later sighting does not count.
        expect(web.latencyMs).toEqual({ p50: 500, p95: 500, max: 500, samples: 8 });
        expect(app).toMatchObject({ sent: 10, indexed: 10, lost: 0, duplicated: 2, unexpected: 0, lostSample: [] });
        // Latencies 100, 200, ... 1000: nearest rank p50 = 500, p95 = 1000.
        expect(app.latencyMs).toEqual({ p50: 500, p95: 1000, max: 1000, samples: 10 });
    });

    test("an event emitted twice under one id is sent once; nothing found means everything lost and no latency", () => {
        const [web, app] = account(SOURCES, [...emitted, { source: "web", seq: 0, emittedAt: 5 }], []);
        expect(web).toMatchObject({ sent: 10, indexed: 0, lost: 10, duplicated: 0 });
        expect(web.latencyMs).toBeUndefined();
        expect(app.lostSample).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    });

    test("a source whose name prefixes another's keeps its own events", () => {
        const sources = [
            { name: "app", kind: "django" as const },
            { name: "app-2", kind: "django" as const },
        ];
        const out = account(sources, [{ source: "app", seq: 1, emittedAt: 0 }, { source: "app-2", seq: 1, emittedAt: 0 }], [{ source: "app-2", seq: 1, firstSeenAt: 10 }]);
        expect(out.map((a) => [a.source, a.sent, a.indexed, a.lost])).toEqual([
            ["app", 1, 0, 1],
            ["app-2", 1, 1, 0],
        ]);
    });
});

describe("contracts, report and exit status", () => {
    const base = { latencyMs: { p50: 800, p95: 1900, max: 4000, samples: 10 }, lostSample: [] as number[], unexpected: 0 };
    const django = { ...base, source: "app", kind: "django" as const, sent: 1000, indexed: 1000, lost: 0, duplicated: 0 };
    const nginx = { ...base, source: "web", kind: "nginx" as const, sent: 1000, indexed: 900, lost: 100, duplicated: 0 };

    test("Django breaks its contract with one loss or one duplicate; nginx only above the threshold", () => {
        expect(breaches([django, nginx], { nginxLossThreshold: 0.1 })).toEqual([]);
        expect(breaches([nginx], { nginxLossThreshold: 0.0999 })).toEqual(["nginx:web: 100 of 1000 events lost (10.00%), above the threshold 9.99%"]);
        expect(breaches([{ ...django, lost: 1, indexed: 999, lostSample: [17] }], { nginxLossThreshold: 1 })).toEqual([
            "django:app: 1 of 1000 events lost (0.10%); a Django source promises none (first lost: 17)",
        ]);
        expect(breaches([{ ...django, duplicated: 2 }], { nginxLossThreshold: 1 })).toEqual(["django:app: 2 duplicate documents; a Django source promises each event once"]);
        // nginx duplicates are reported in the table but are not part of its contract.
        expect(breaches([{ ...nginx, duplicated: 5 }], { nginxLossThreshold: 0.5 })).toEqual([]);
        expect(breaches([{ ...nginx, sent: 0, indexed: 0, lost: 0 }], { nginxLossThreshold: 1 })).toEqual([
            "nginx:web: no event was sent, so nothing was measured (is the load generator reaching it?)",
        ]);
    });

    test("exit status: stack failure before broken contracts before a failed clean-up", () => {
        expect(exitCodeOf({ breaches: [], cleanupOk: true })).toBe(EXIT.ok);
        expect(exitCodeOf({ breaches: ["x"], cleanupOk: true })).toBe(EXIT.failed);
        expect(exitCodeOf({ breaches: [], cleanupOk: false })).toBe(EXIT.stack);
        expect(exitCodeOf({ error: "up failed", breaches: ["x"], cleanupOk: false })).toBe(EXIT.stack);
        expect(exitCodeOf({ error: "no docker", breaches: [], cleanupOk: true }, EXIT.prerequisite)).toBe(EXIT.prerequisite);
        expect(new Set(Object.values(EXIT)).size).toBe(Object.keys(EXIT).length);
    });

    test("the printed report has a row per source with its counts and latencies, and the verdict", () => {
        const lines = formatReport({
            run: RUN, target: "docker", stack: "e2e-0123456789", startedAt: "", finishedAt: "", ratePerSource: 200, change: DEFAULT_CHANGE,
            contract: { nginxLossThreshold: 0.05 }, phases: [{ phase: "up", ms: 61_234, ok: true }, { phase: "change", ms: 80_000, ok: false }],
            sources: [nginx], breaches: ["nginx:web: lost"], notes: ["django:app: handler dropped 0"], cleanup: "destroyed", cleanupOk: true, ok: false, exitCode: 1,
        });
        expect(lines[0]).toBe("e2e run e2e0123456789 on docker (stack e2e-0123456789), 200 events/s per source, change: elasticsearchHeapMb=576, logstashHeapMb=576");
        expect(lines[1]).toBe("phases: up 61.2 s, change 80.0 s (failed)");
        const row = lines.find((l) => l.startsWith("nginx:web"))?.split(/\s+/);
        expect(row).toEqual(["nginx:web", "1000", "900", "100", "0", "0", "800", "ms", "1900", "ms", "4000", "ms"]);
        expect(lines).toContain("BROKEN: nginx:web: lost");
        expect(lines).toContain("note: django:app: handler dropped 0");
        expect(lines[lines.length - 1]).toBe("e2e: FAILED (exit 1)");
    });
});

describe("flags", () => {
    test("defaults, and every flag read", () => {
        expect(parseE2eArgs(["--target", "docker"])).toEqual({ target: "docker", ...E2E_DEFAULTS, change: DEFAULT_CHANGE, keep: false });
        expect(
            parseE2eArgs(["--target=kubernetes", "--rate", "50", "--change", "elasticVersion=9.4.0", "--change", "elk-stack:logstashHeapMb=600", "--keep", "--nginx-loss-threshold", "5%", "--report", "out.json", "--load-before", "5", "--load-after", "6", "--drain-timeout", "7"]),
        ).toEqual({
            target: "kubernetes", ratePerSource: 50, change: { elasticVersion: "9.4.0", logstashHeapMb: "600" }, keep: true, nginxLossThreshold: 0.05,
            reportFile: "out.json", loadBeforeSeconds: 5, loadAfterSeconds: 6, drainTimeoutSeconds: 7,
        });
        expect(parseThreshold("0.125")).toBe(0.125);
    });

    test.each([
        [[], "--target must be docker or kubernetes, got nothing"],
        [["--target", "podman"], "--target must be docker or kubernetes, got 'podman'"],
        [["--target", "docker", "--rate", "0"], "--rate must be a whole number from 1 to 5000, got '0'"],
        [["--target", "docker", "--rate", "2.5"], "--rate must be a whole number from 1 to 5000, got '2.5'"],
        [["--target", "docker", "--change", "heap"], "--change takes key=value (e.g. --change elasticsearchHeapMb=640), got 'heap'"],
        [["--target", "docker", "--change", "heapMb=1"], "--change heapMb: no such config key (see components/model/configSchema.ts)"],
        [["--target", "docker", "--change", "elasticPassword=x"], "--change elasticPassword: the e2e run sets this key itself and a change may not touch it"],
        [["--target", "docker", "--change", "target=kubernetes"], "--change target: the e2e run sets this key itself and a change may not touch it"],
        [["--target", "docker", "--nginx-loss-threshold", "120%"], "--nginx-loss-threshold must be a fraction from 0 to 1 (0.05) or a percentage (5%), got '120%'"],
    ])("%j is refused: %s", (argv, message) => {
        expect(() => parseE2eArgs(argv)).toThrow(new UsageError(message));
    });

    test("unknown flags and positional arguments are refused as usage errors", () => {
        expect(() => parseE2eArgs(["--target", "docker", "--fast"])).toThrow(UsageError);
        expect(() => parseE2eArgs(["docker"])).toThrow(UsageError);
    });
});

describe("the run's stack config", () => {
    const root = path.join(__dirname, "..");
    const project = readProjectFile(root);
    const devFile = readStackFile(root, "dev", project.name);
    const dev = e2eBaseConfig(devFile, IDENTITY_DECRYPTER);
    const text = (c: E2eConfig, key: string) => c[`elk-stack:${key}`]?.value;

    test("is the dev stack file's config with a cluster name of the run's own, and the change on top", () => {
        const { before, after, settings } = e2eStackConfigs(project, dev, { target: "docker", change: DEFAULT_CHANGE }, RUN);
        expect(before).toEqual({
            ...dev,
            "elk-stack:target": { value: "docker", secret: false, object: false },
            "elk-stack:clusterName": { value: "e2e-0123456789", secret: false, object: false },
        });
        expect(after).toEqual({ ...before, "elk-stack:elasticsearchHeapMb": { value: "576", secret: false, object: false }, "elk-stack:logstashHeapMb": { value: "576", secret: false, object: false } });
        // Every Docker name derives from the cluster name: the run's containers, network and volumes are new ones.
        expect(settings.clusterName).toBe("e2e-0123456789");
        expect((JSON.parse(toConfigJson(after)) as Record<string, unknown>)["elk-stack:elasticsearchHeapMb"]).toEqual({ value: "576", secret: false });
    });

    test("two runs never share a cluster name", () => {
        const a = e2eStackConfigs(project, dev, { target: "docker", change: DEFAULT_CHANGE }, "e2e0000000001").settings.clusterName;
        const b = e2eStackConfigs(project, dev, { target: "docker", change: DEFAULT_CHANGE }, "e2e0000000002").settings.clusterName;
        expect(a).not.toBe(b);
    });

    test("on Kubernetes the stack gets a namespace of its own, named after the stack", () => {
        const { before } = e2eStackConfigs(project, dev, { target: "kubernetes", change: DEFAULT_CHANGE }, RUN);
        expect(e2eStackName(RUN)).toBe("e2e-0123456789");
        expect(text(before, "target")).toBe("kubernetes");
        expect(text(before, "kubernetesNamespace")).toBe("e2e-0123456789");
    });

    test("a secret of the stack file stays a secret, and a list stays a list, in what the run sets", () => {
        const file = parseStackFile("config:\n  elk-stack:elasticPassword:\n    secure: v1:abc\n  elk-stack:extraCertificateNames: [apm]\n", "elk-stack");
        const base = e2eBaseConfig(file, (ciphertext) => (ciphertext === "v1:abc" ? "a-password-of-24-chars!!" : "?"));
        expect(base).toEqual({
            "elk-stack:elasticPassword": { value: "a-password-of-24-chars!!", secret: true, object: false },
            "elk-stack:extraCertificateNames": { value: '["apm"]', secret: false, object: true },
        });
        const { before } = e2eStackConfigs(project, base, { target: "docker", change: DEFAULT_CHANGE }, RUN);
        const json = JSON.parse(toConfigJson(before)) as Record<string, unknown>;
        expect(json["elk-stack:elasticPassword"]).toEqual({ value: "a-password-of-24-chars!!", secret: true });
        expect(json["elk-stack:extraCertificateNames"]).toEqual({ value: '["apm"]', secret: false, objectValue: ["apm"] });
    });

    test("a change the CLI or the program would refuse fails before anything is created, naming the key", () => {
        expect(() => e2eStackConfigs(project, dev, { target: "docker", change: { elasticsearchHeapMb: "1500" } }, RUN)).toThrow(/after the change is invalid: Invalid stack config 'elk-stack:elasticsearchHeapMb'/);
        expect(() => e2eStackConfigs(project, dev, { target: "docker", change: { elasticVersion: "7.17.0" } }, RUN)).toThrow(UsageError);
        expect(() => e2eStackConfigs(project, dev, { target: "docker", change: { kibanaPort: "56o1" } }, RUN)).toThrow(
            "the e2e stack's config after the change is invalid: Stack 'e2e-0123456789' with configuration key 'kibanaPort' must be of type 'integer'",
        );
    });

    test("a change to what the stack already has changes nothing, also when it is a default the CLI writes in", () => {
        expect(() => e2eStackConfigs(project, dev, { target: "docker", change: { elasticsearchHeapMb: text(dev, "elasticsearchHeapMb") ?? "512" } }, RUN)).toThrow(/changes nothing/);
        // Pulumi.dev.yaml does not set elasticsearchNodeCount; the CLI writes its default, 1, in.
        expect(text(dev, "elasticsearchNodeCount")).toBeUndefined();
        expect(() => e2eStackConfigs(project, dev, { target: "docker", change: { elasticsearchNodeCount: "1" } }, RUN)).toThrow(/--change elasticsearchNodeCount=1 changes nothing/);
    });
});

describe("a secret of Pulumi.dev.yaml, read with the dev stack's passphrase", () => {
    // pulumi/pulumi v3.248.0 pkg/secrets/passphrase/manager_test.go: the salt of the passphrase "password". Its last
    // part is "pulumi" encrypted under that passphrase by the CLI's own code, so it also serves as a secure value.
    const SALT = "v1:fozI5u6B030=:v1:F+6ZduKKd8G0/V7L:PGMFeIzwobWRKmEAzUdaQHqC5mMRIQ==";
    const VALUE = "v1:F+6ZduKKd8G0/V7L:PGMFeIzwobWRKmEAzUdaQHqC5mMRIQ==";
    const file = (salt?: string, provider?: string) =>
        parseStackFile(`${salt ? `encryptionsalt: ${salt}\n` : ""}${provider ? `secretsprovider: ${provider}\n` : ""}config:\n  elk-stack:elasticPassword:\n    secure: ${VALUE}\n`, "elk-stack");
    const noLocal = path.join(__dirname, "no-such-passphrase-file");

    test("the CLI's key derivation and cipher: the right passphrase opens the salt and the value, another is refused", () => {
        expect(passphraseDecrypter(SALT, "password")(VALUE)).toBe("pulumi");
        expect(() => passphraseDecrypter(SALT, "password123")).toThrow(new PassphraseError("incorrect passphrase"));
    });

    test("the run's stack gets the plaintext as a secret; the passphrase comes from the variables the CLI reads", () => {
        const decrypt = stackFileDecrypter(file(SALT), "Pulumi.dev.yaml", { PULUMI_CONFIG_PASSPHRASE: "password" }, noLocal);
        expect(e2eBaseConfig(file(SALT), decrypt)).toEqual({ "elk-stack:elasticPassword": { value: "pulumi", secret: true, object: false } });
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "elk-pass-"));
        try {
            fs.writeFileSync(path.join(dir, "p"), "  password\n");
            expect(stackFileDecrypter(file(SALT), "Pulumi.dev.yaml", { PULUMI_CONFIG_PASSPHRASE_FILE: path.join(dir, "p") }, noLocal)(VALUE, "k")).toBe("pulumi");
            // npm run up's passphrase file, when the environment names none.
            expect(stackFileDecrypter(file(SALT), "Pulumi.dev.yaml", {}, path.join(dir, "p"))(VALUE, "k")).toBe("pulumi");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    test.each([
        [file(SALT), { PULUMI_CONFIG_PASSPHRASE: "wrong" }, /^the passphrase from PULUMI_CONFIG_PASSPHRASE does not open Pulumi\.dev\.yaml's secrets \(incorrect passphrase\)/],
        [file(SALT), {}, /^Pulumi\.dev\.yaml holds elk-stack:elasticPassword encrypted, and there is no passphrase to read it: set PULUMI_CONFIG_PASSPHRASE/],
        [file(), { PULUMI_CONFIG_PASSPHRASE: "password" }, /^Pulumi\.dev\.yaml holds elk-stack:elasticPassword encrypted, but no encryptionsalt to read it with/],
        [file(undefined, "awskms://alias/x"), {}, /^Pulumi\.dev\.yaml holds elk-stack:elasticPassword encrypted by the secrets provider awskms:\/\/alias\/x/],
    ])("a secret that cannot be read stops the run before anything is created, saying why (%#)", (stackFile, env, expected) => {
        const decrypt = stackFileDecrypter(stackFile, "Pulumi.dev.yaml", env, noLocal);
        expect(() => e2eBaseConfig(stackFile, decrypt)).toThrow(expected);
    });
});

describe("what the run does to Docker", () => {
    test("after the change each e2e nginx is reloaded, to look Logstash's address up again", async () => {
        const commands: string[] = [];
        const note = await reloadNginx({ nginxContainers: ["elk-e2e-nginx-web-e2e1"] }, (args) => {
            commands.push(args.join(" "));
            return "";
        });
        expect(commands).toEqual(["exec elk-e2e-nginx-web-e2e1 nginx -s reload"]);
        expect(note).toBe("reloaded elk-e2e-nginx-web-e2e1 after the change, so that nginx looked up Logstash's address again");
        expect(await reloadNginx({ nginxContainers: [] }, () => "")).toBeUndefined();
    });

    test("after the destroy the run's data volumes, which the stack retains, are removed: by the stack's label", async () => {
        const commands: string[] = [];
        const docker = (args: readonly string[]) => {
            commands.push(args.join(" "));
            return args[0] === "volume" && args[1] === "ls" ? "e2e-0123456789-es01-data\ne2e-0123456789-logstash-queue\n" : "";
        };
        expect(await removeDockerVolumes("e2e-0123456789", docker)).toBe("removed its data volumes e2e-0123456789-es01-data, e2e-0123456789-logstash-queue");
        expect(commands).toEqual([`volume ls --quiet --filter label=${STACK_LABEL}=e2e-0123456789`, "volume rm e2e-0123456789-es01-data e2e-0123456789-logstash-queue"]);
        expect(await removeDockerVolumes("e2e-0123456789", () => "")).toBe("no data volumes were left");
    });

});

/** A world of doubles: every step records itself into `calls`. */
function world(opts: { fail?: FailingOp[]; verifyProblems?: string[]; found?: FoundDoc[]; healthy?: boolean; restarted?: boolean; connectError?: Error; interruptAtSleep?: boolean; upOptions?: (UpOptions | undefined)[] } = {}) {
    const calls: string[] = [];
    const progress: string[] = [];
    const upSignals: (AbortSignal | undefined)[] = [];
    const interrupt = new AbortController();
    let clock = 0;
    const workspace = recordingWorkspace({ calls, upSignals, upOptions: opts.upOptions, fail: opts.fail, outputs: { elasticsearchUrl: { value: "https://localhost:9200", secret: false } }, progressText: "Updating (e2e):\n" });
    const emitted: EmittedEvent[] = [
        { source: "web", seq: 0, emittedAt: 0 },
        { source: "app", seq: 0, emittedAt: 0 },
    ];
    let loadStops = 0;
    const deps: E2eDeps<{ url: string }> = {
        workspace,
        signal: interrupt.signal,
        connect: (outputs) => {
            calls.push(`connect ${String(outputs.elasticsearchUrl?.value)}`);
            return opts.connectError ? Promise.reject(opts.connectError) : Promise.resolve({ url: String(outputs.elasticsearchUrl?.value) });
        },
        disconnect: () => {
            calls.push("disconnect");
            return Promise.resolve();
        },
        verify: () => {
            calls.push("verify");
            return Promise.resolve(opts.verifyProblems ?? []);
        },
        sources: () => SOURCES,
        startLoad: (_a, run, rate) => {
            calls.push(`startLoad ${run} ${rate}/s`);
            const load: RunningLoad = {
                emitted: () => emitted,
                stop: () => {
                    calls.push(`stopLoad${++loadStops > 1 ? " again" : ""}`);
                    return Promise.resolve({ emitted, notes: ["app: handler dropped 0"] });
                },
            };
            return Promise.resolve(load);
        },
        startCollector: (_a, run, pending) => {
            calls.push(`startCollector ${run} (${pending().length} emitted so far)`);
            const c: Collector = {
                finish: (e, timeoutMs) => {
                    calls.push(`finish ${e.length} events within ${timeoutMs} ms`);
                    return Promise.resolve(opts.found ?? emitted.map((x) => ({ ...x, firstSeenAt: 1500 })));
                },
                close: () => {
                    calls.push("closeCollector");
                    return Promise.resolve();
                },
            };
            return Promise.resolve(c);
        },
        refreshSenders: () => {
            calls.push("refreshSenders");
            return Promise.resolve("reloaded the e2e nginx");
        },
        removeData: () => {
            calls.push("removeData");
            return Promise.resolve("removed its data volumes v1, v2");
        },
        beforeChange: () => {
            calls.push("beforeChange");
            return Promise.resolve(["pod-0"]);
        },
        waitRestarted: (_a, before) => {
            calls.push(`waitRestarted ${JSON.stringify(before)}`);
            return opts.restarted === false ? Promise.reject(new Error("the change had not restarted any pod 1800 s after its update: waiting for the restart to begin")) : Promise.resolve();
        },
        waitHealthy: () => {
            calls.push("waitHealthy");
            return opts.healthy === false ? Promise.reject(new Error("Elasticsearch not green/yellow after 300 s")) : Promise.resolve();
        },
        sleep: (ms) => {
            calls.push(`sleep ${ms}`);
            // Ctrl-C while the load runs: the real sleep is abortableSleep, which rejects at once.
            if (opts.interruptAtSleep) interrupt.abort();
            clock += ms;
            return abortableSleep(0, interrupt.signal);
        },
        now: () => clock,
        progress: (t) => progress.push(t),
        log: () => undefined,
    };
    return { calls, progress, deps, workspace, upSignals, interrupt };
}

const plain = (value: string) => ({ value, secret: false, object: false });
const DEV: E2eConfig = {
    "elk-stack:target": plain("docker"),
    "elk-stack:clusterName": plain("e2e-0123456789"),
    "elk-stack:elasticsearchHeapMb": plain("512"),
    "elk-stack:logstashHeapMb": plain("512"),
    "elk-stack:elasticPassword": { value: "a-password-of-24-chars!!", secret: true, object: false },
};
const RUN_OPTIONS: E2eRun = {
    ...parseE2eArgs(["--target", "docker", "--load-before", "30", "--load-after", "20", "--drain-timeout", "90"]),
    run: RUN,
    stack: "e2e-0123456789",
    config: { before: DEV, after: { ...DEV, "elk-stack:elasticsearchHeapMb": plain("576"), "elk-stack:logstashHeapMb": plain("576") } },
    destroyHint: "PULUMI_BACKEND_URL=file:///tmp/x pulumi destroy --stack e2e-0123456789 --remove",
    policyPack: path.join(__dirname, "..", "policy"),
};

describe("abortableSleep", () => {
    test("waits, or ends at once with 'interrupted' when aborted before or during the wait", async () => {
        const started = Date.now();
        await abortableSleep(50);
        expect(Date.now() - started).toBeGreaterThanOrEqual(45);
        const aborted = new AbortController();
        aborted.abort();
        await expect(abortableSleep(10_000, aborted.signal)).rejects.toThrow(new StackFailure("interrupted"));
        const later = new AbortController();
        const waiting = abortableSleep(10_000, later.signal);
        setTimeout(() => later.abort(), 20);
        const t0 = Date.now();
        await expect(waiting).rejects.toThrow("interrupted");
        expect(Date.now() - t0).toBeLessThan(2000);
    });
});

describe("the sequence of Automation API calls", () => {
    test("up, verify, load, change under load, drain, destroy and remove: in that order, each once", async () => {
        const upOptions: (UpOptions | undefined)[] = [];
        const { calls, progress, deps, workspace } = world({ upOptions });
        const report = await runE2e(RUN_OPTIONS, deps);
        expect(calls).toEqual([
            "createOrSelectStack e2e-0123456789",
            "setAllConfigJson e2e-0123456789 elk-stack:clusterName=e2e-0123456789,elk-stack:elasticPassword=[secret],elk-stack:elasticsearchHeapMb=512,elk-stack:logstashHeapMb=512,elk-stack:target=docker",
            "up e2e-0123456789",
            "connect https://localhost:9200",
            "verify",
            "startCollector e2e0123456789 (0 emitted so far)",
            "startLoad e2e0123456789 200/s",
            "sleep 30000",
            "beforeChange",
            "setAllConfigJson e2e-0123456789 elk-stack:clusterName=e2e-0123456789,elk-stack:elasticPassword=[secret],elk-stack:elasticsearchHeapMb=576,elk-stack:logstashHeapMb=576,elk-stack:target=docker",
            "up e2e-0123456789",
            // The pods that ran before the change, handed to the wait for its restart, before any health check.
            'waitRestarted ["pod-0"]',
            "refreshSenders",
            "waitHealthy",
            "sleep 20000",
            "stopLoad",
            "finish 2 events within 90000 ms",
            "closeCollector",
            "disconnect",
            "destroy e2e-0123456789",
            "removeStack e2e-0123456789",
            "removeData",
        ]);
        // The stack's password reached the run's stack as a secret, never as text.
        expect(workspace.stacks.get("e2e-0123456789")?.config.get("elk-stack:elasticPassword")).toEqual({ value: "a-password-of-24-chars!!", secret: true, object: false });
        // Both updates apply the policy pack, as the deploy workflow's do.
        expect(upOptions.map((o) => o?.policyPacks)).toEqual([[RUN_OPTIONS.policyPack], [RUN_OPTIONS.policyPack]]);
        // Pulumi's progress of both ups and the destroy reaches the caller.
        expect(progress).toEqual(["Updating (e2e):\n", "Updating (e2e):\n", "Updating (e2e):\n"]);
        expect(report).toMatchObject({
            ok: true,
            exitCode: EXIT.ok,
            cleanupOk: true,
            breaches: [],
            notes: ["reloaded the e2e nginx", "app: handler dropped 0"],
            cleanup: "destroyed and removed stack e2e-0123456789; removed its data volumes v1, v2",
        });
        expect(report.phases.map((p) => [p.phase, p.ms, p.ok])).toEqual([
            ["up", 0, true],
            ["verify", 0, true],
            ["load", 30000, true],
            ["change", 20000, true],
            ["drain", 0, true],
            ["destroy", 0, true],
        ]);
        expect(report.sources.map((s) => [s.source, s.sent, s.indexed, s.latencyMs?.p50])).toEqual([
            ["web", 1, 1, 1500],
            ["app", 1, 1, 1500],
        ]);
    });

    test("--keep leaves the stack: no destroy, no remove, and the report says how to remove it", async () => {
        const { calls, deps } = world();
        const report = await runE2e({ ...RUN_OPTIONS, keep: true }, deps);
        expect(calls).not.toContain("destroy e2e-0123456789");
        expect(calls).not.toContain("removeData");
        expect(calls.filter((c) => c.startsWith("removeStack"))).toEqual([]);
        expect(calls[calls.length - 1]).toBe("disconnect");
        expect(report.cleanup).toBe(`kept: stack e2e-0123456789 is still running (--keep); remove it with: ${RUN_OPTIONS.destroyHint}`);
        expect(report.exitCode).toBe(EXIT.ok);
    });

    test("the first up fails: nothing is measured, and the half-made stack is still destroyed and removed", async () => {
        const { calls, deps } = world({ fail: ["up"] });
        const report = await runE2e(RUN_OPTIONS, deps);
        expect(calls).toEqual([
            "createOrSelectStack e2e-0123456789",
            expect.stringMatching(/^setAllConfigJson /),
            "up e2e-0123456789",
            "destroy e2e-0123456789",
            "removeStack e2e-0123456789",
            "removeData",
        ]);
        expect(report).toMatchObject({ ok: false, exitCode: EXIT.stack, error: "pulumi up failed with exit status 255: error: up #1 failed: Docker container es01 unhealthy", sources: [], breaches: [] });
        expect(report.phases.map((p) => [p.phase, p.ok])).toEqual([
            ["up", false],
            ["destroy", true],
        ]);
    });

    test("the change fails under load: the load and collector stop, then the stack is destroyed", async () => {
        const { calls, deps } = world({ fail: ["up#2"] });
        const report = await runE2e(RUN_OPTIONS, deps);
        expect(calls.slice(calls.indexOf("sleep 30000"))).toEqual([
            "sleep 30000",
            "beforeChange",
            expect.stringMatching(/^setAllConfigJson .*elasticsearchHeapMb=576/),
            "up e2e-0123456789",
            "stopLoad",
            "closeCollector",
            "disconnect",
            "destroy e2e-0123456789",
            "removeStack e2e-0123456789",
            "removeData",
        ]);
        expect(report.exitCode).toBe(EXIT.stack);
        expect(report.error).toBe("pulumi up failed with exit status 255: error: up #2 failed: Docker container es01 unhealthy");
    });

    test("verify finds problems: no load starts, and the stack is destroyed", async () => {
        const { calls, deps } = world({ verifyProblems: ["missing index template elk-logs-nginx.web-e2e"] });
        const report = await runE2e(RUN_OPTIONS, deps);
        expect(calls.filter((c) => c.startsWith("startLoad"))).toEqual([]);
        expect(calls.slice(-4)).toEqual(["disconnect", "destroy e2e-0123456789", "removeStack e2e-0123456789", "removeData"]);
        expect(report.error).toBe("verify found 1 problem(s): missing index template elk-logs-nginx.web-e2e");
        expect(report.exitCode).toBe(EXIT.stack);
    });

    test("the stack never gets healthy after the change: reported as a stack failure, cleaned up", async () => {
        const { calls, deps } = world({ healthy: false });
        const report = await runE2e(RUN_OPTIONS, deps);
        expect(calls).toContain("stopLoad");
        expect(calls.slice(-3)).toEqual(["destroy e2e-0123456789", "removeStack e2e-0123456789", "removeData"]);
        expect(report.error).toBe("Elasticsearch not green/yellow after 300 s");
    });

    test("a missing prerequisite found while connecting (kubectl) keeps its own exit status", async () => {
        const { calls, deps } = world({ connectError: new PrerequisiteError("kubectl is not installed") });
        const report = await runE2e(RUN_OPTIONS, deps);
        expect(report.exitCode).toBe(EXIT.prerequisite);
        expect(calls.slice(-3)).toEqual(["destroy e2e-0123456789", "removeStack e2e-0123456789", "removeData"]);
    });

    test("stack creation itself fails: nothing to destroy, and it says so", async () => {
        const { calls, deps } = world({ fail: ["createOrSelectStack"] });
        const report = await runE2e(RUN_OPTIONS, deps);
        expect(calls).toEqual(["createOrSelectStack e2e-0123456789"]);
        expect(report.cleanup).toBe("nothing to destroy: the stack was never created");
        expect(report.exitCode).toBe(EXIT.stack);
    });

    test("a failed destroy is a failure even when every contract held, and names the way out", async () => {
        const { calls, deps } = world({ fail: ["destroy"] });
        const report = await runE2e(RUN_OPTIONS, deps);
        expect(calls).not.toContain("removeData");
        expect(report.breaches).toEqual([]);
        expect(report.cleanupOk).toBe(false);
        expect(report.exitCode).toBe(EXIT.stack);
        expect(report.cleanup).toBe(`FAILED to destroy stack e2e-0123456789 or remove its data (pulumi destroy failed with exit status 255: error: destroy failed); resources may be left: ${RUN_OPTIONS.destroyHint}`);
        // The data stays when the stack could not be destroyed: its containers may still use it.
        expect(report.phases.map((p) => [p.phase, p.ok])).toContainEqual(["destroy", false]);
    });

    test("Ctrl-C under load: the load stops, nothing more is started, the stack is destroyed; ups were abortable", async () => {
        const { calls, deps, upSignals, interrupt } = world({ interruptAtSleep: true });
        const report = await runE2e(RUN_OPTIONS, deps);
        expect(calls.slice(calls.indexOf("sleep 30000"))).toEqual(["sleep 30000", "stopLoad", "closeCollector", "disconnect", "destroy e2e-0123456789", "removeStack e2e-0123456789", "removeData"]);
        expect(report).toMatchObject({ error: "interrupted", exitCode: EXIT.stack, cleanup: "destroyed and removed stack e2e-0123456789; removed its data volumes v1, v2" });
        expect(upSignals).toEqual([interrupt.signal]);
    });

    test("the change restarts nothing in time: a stack failure, no health check on the old pods, cleaned up", async () => {
        const { calls, deps } = world({ restarted: false });
        const report = await runE2e(RUN_OPTIONS, deps);
        expect(calls).not.toContain("waitHealthy");
        expect(calls.slice(-3)).toEqual(["destroy e2e-0123456789", "removeStack e2e-0123456789", "removeData"]);
        expect(report).toMatchObject({ exitCode: EXIT.stack, error: "the change had not restarted any pod 1800 s after its update: waiting for the restart to begin" });
    });

    test("lost Django events break the contract: exit 1, the stack still destroyed", async () => {
        const { calls, deps } = world({ found: [{ source: "web", seq: 0, firstSeenAt: 10 }] });
        const report = await runE2e(RUN_OPTIONS, deps);
        expect(report.breaches).toEqual(["django:app: 1 of 1 events lost (100.00%); a Django source promises none (first lost: 0)"]);
        expect(report.exitCode).toBe(EXIT.failed);
        expect(calls.slice(-3)).toEqual(["destroy e2e-0123456789", "removeStack e2e-0123456789", "removeData"]);
    });
});

describe("on Kubernetes: where nginx sends syslog, and the wait for the change's restart", () => {
    const root = path.join(__dirname, "..");
    const project = readProjectFile(root);
    const dev = e2eBaseConfig(readStackFile(root, "dev", project.name), IDENTITY_DECRYPTER);
    const kube = (engine: string) => e2eStackConfigs(project, { ...dev, "elk-stack:kubernetesEngine": { value: engine, secret: false, object: false } }, { target: "kubernetes", change: DEFAULT_CHANGE }, RUN);
    /** The run's config as the texts a stack file holds, for the program harness. */
    const texts = (c: E2eConfig) => Object.fromEntries(Object.entries(c).map(([k, v]) => [k, v.value]));

    test("nginx sends to the Logstash Service the engine makes: the host of the stack's own logstashEndpoints output", async () => {
        // Before: logstash.<ns>.svc on both engines, a Service that does not exist on eck.
        expect(e2eSyslogHost(kube("eck").settings)).toBe("logstash-ls-listeners.e2e-0123456789.svc");
        expect(e2eSyslogHost(kube("manifests").settings)).toBe("logstash.e2e-0123456789.svc");
        const run = await runProgram(texts(kube("eck").before), { stack: "e2e-0123456789" });
        const endpoints = run.outputs.logstashEndpoints.value as { nginxSyslog: string };
        expect(endpoints.nginxSyslog.split(":")[0]).toBe(e2eSyslogHost(kube("eck").settings));
    });

    /** A pod of a StatefulSet (or, with `rs`, a Deployment's ReplicaSet). */
    const pod = (name: string, uid: string, ready = true, rs = false) => ({
        metadata: { name, uid, ownerReferences: [{ kind: rs ? "ReplicaSet" : "StatefulSet", controller: true }] },
        status: { conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
    });
    const sts = (name: string, o: { generation: number; observed: number; updated: number; ready: number; replicas?: number }) => ({
        kind: "StatefulSet",
        metadata: { name, generation: o.generation },
        spec: { replicas: o.replicas ?? 1 },
        status: { observedGeneration: o.observed, updatedReplicas: o.updated, readyReplicas: o.ready },
    });
    const nginx = { metadata: { name: "e2e-nginx-web", uid: "n" }, status: { conditions: [{ type: "Ready", status: "True" }] } };

    test("right after the update the old pods still run, green: not begun; one replaced: begun; all rolled out and ready: done", () => {
        const before = controllerPods({ items: [pod("elk-es-default-0", "a"), pod("logstash-ls-0", "b"), nginx] });
        // The bare nginx pod is not the stack's workload.
        expect(before.map((p) => p.name)).toEqual(["elk-es-default-0", "logstash-ls-0"]);
        const rolled = workloadStates({ items: [sts("elk-es-default", { generation: 2, observed: 2, updated: 1, ready: 1 }), sts("logstash-ls", { generation: 2, observed: 2, updated: 1, ready: 1 })] });
        // Nothing happened yet: the same pods, and workloads that look rolled out (their old generation).
        expect(restartProgress(before, before, workloadStates({ items: [sts("elk-es-default", { generation: 1, observed: 1, updated: 1, ready: 1 })] }))).toEqual({
            began: false,
            done: false,
            waiting: "the restart to begin (every pod that ran before the change still runs: elk-es-default-0, logstash-ls-0)",
        });
        const midway = restartProgress(before, controllerPods({ items: [pod("elk-es-default-0", "c", false), pod("logstash-ls-0", "b")] }), workloadStates({ items: [sts("elk-es-default", { generation: 2, observed: 2, updated: 1, ready: 0 }), sts("logstash-ls", { generation: 2, observed: 1, updated: 0, ready: 1 })] }));
        expect(midway).toEqual({ began: true, done: false, waiting: "StatefulSet elk-es-default: 0 of 1 updated pods ready; StatefulSet logstash-ls: its controller to see the change; pods not ready: elk-es-default-0" });
        expect(restartProgress(before, controllerPods({ items: [pod("elk-es-default-0", "c"), pod("logstash-ls-0", "d")] }), rolled)).toEqual({ began: true, done: true, waiting: "" });
        // A Deployment counts available replicas.
        expect(workloadStates({ items: [{ kind: "Deployment", metadata: { name: "kb", generation: 3 }, spec: { replicas: 1 }, status: { observedGeneration: 3, updatedReplicas: 1, availableReplicas: 0 } }] })[0]).toEqual({ kind: "Deployment", name: "kb", rolledOut: false, waiting: "0 of 1 updated pods ready" });
    });

    test("waitRestarted polls kubectl until the restart has begun and ended, and gives up naming what it waits for", async () => {
        const before = [{ name: "elk-es-default-0", uid: "a", ready: true }];
        // The cluster over time: unchanged twice, then the pod replaced but not ready, then done.
        const timeline = [
            { pods: [pod("elk-es-default-0", "a")], sts: [sts("elk-es-default", { generation: 1, observed: 1, updated: 1, ready: 1 })] },
            { pods: [pod("elk-es-default-0", "a")], sts: [sts("elk-es-default", { generation: 2, observed: 2, updated: 0, ready: 1 })] },
            { pods: [pod("elk-es-default-0", "b", false)], sts: [sts("elk-es-default", { generation: 2, observed: 2, updated: 1, ready: 0 })] },
            { pods: [pod("elk-es-default-0", "b")], sts: [sts("elk-es-default", { generation: 2, observed: 2, updated: 1, ready: 1 })] },
        ];
        let step = 0;
        const asked: string[] = [];
        const kubectl: KubectlRunner = (args) => {
            asked.push(args.join(" "));
            const t = timeline[Math.min(step, timeline.length - 1)];
            return JSON.stringify({ items: args.includes("pods") ? t.pods : t.sts });
        };
        let clock = 0;
        const lines: string[] = [];
        const sleep = (ms: number) => {
            step++;
            clock += ms;
            return Promise.resolve();
        };
        await waitRestarted({ kubectl, namespace: "ns", before, timeoutMs: 60_000, pollMs: 1000, log: (l) => lines.push(l), sleep, now: () => clock });
        expect(step).toBe(3);
        expect(asked.slice(0, 2)).toEqual(["-n ns get pods -o json", "-n ns get statefulsets,deployments -o json"]);
        expect(lines).toEqual([
            "waiting for the restart to begin (every pod that ran before the change still runs: elk-es-default-0)",
            "the restart has begun: a pod that ran before the change is gone",
            "waiting for StatefulSet elk-es-default: 0 of 1 updated pods ready; pods not ready: elk-es-default-0",
        ]);

        step = 0;
        clock = 0;
        const never: KubectlRunner = (args) => JSON.stringify({ items: args.includes("pods") ? [pod("elk-es-default-0", "a")] : [] });
        await expect(waitRestarted({ kubectl: never, namespace: "ns", before, timeoutMs: 10_000, pollMs: 1000, log: () => undefined, sleep, now: () => clock })).rejects.toThrow(
            "the change had not restarted any pod 10 s after its update: waiting for the restart to begin (every pod that ran before the change still runs: elk-es-default-0)",
        );
    });
});
