/**
 * What keeps data and the stack safe through ordinary operations, on what the real program registers under the mock
 * runtime: data volumes and the namespace retained on delete (and protected in production) under names that survive
 * cosmetic renames, a grace period for every long-running container, no perpetual diffs from values the Docker
 * provider reads back differently, and Kubernetes Jobs replaced when a previous run failed.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { STEP_DONE_FILE, dataVolumeOptions, dataVolumeResourceName, dockerHealthcheck, goDuration, succeededGateCommand } from "../components/targets/docker";
import { raiseMaxMapCountCommand } from "../components/model/maxMapCount";
import { runScript } from "./support/runScript";
import { elasticsearchSpec } from "../components/model/elasticsearch";
import { REPLACE_UNREADY_ANNOTATION } from "../components/targets/kubernetesManifests";
import { type ProgramRun, type RecordedResource, ofType, onManifestsEngine, runProgram, stackFileConfig, unwrapSecrets } from "./support/program";

const CONTAINER = "docker:index/container:Container";
const VOLUME = "docker:index/volume:Volume";

type Obj = Record<string, unknown>;
const asObj = (v: unknown): Obj => (v ?? {}) as Obj;

/** Long-running containers: the ones the provider keeps running (one-shot steps have mustRun false). */
function services(run: ProgramRun): RecordedResource[] {
    return ofType(run, CONTAINER).filter((c) => c.inputs.mustRun === true);
}

describe("Docker: the dev stack", () => {
    let dev: ProgramRun;

    beforeAll(async () => {
        // One program run per stack file: each costs seconds of real key generation.
        dev = await runProgram(stackFileConfig("dev"));
    });

    /** An Elasticsearch spec with the given instance name, as the program builds it. */
    const esSpec = (nodeName: string) =>
        elasticsearchSpec({
            clusterName: "any",
            nodeName,
            masterNodes: [nodeName],
            version: "9.4.1",
            heapMb: 512,
            memoryMb: 1536,
            cpu: { requestMillis: 1000, limitMillis: 2000 },
            storageGb: 30,
            tls: { caCertPem: "", certPem: "", keyPem: "" },
            transportTls: { caCertPem: "", certPem: "", keyPem: "" },
            elasticPassword: "",
        });

    test("every durable data volume is retained on delete, and protected only when protectData is set", () => {
        const durable = ofType(dev, VOLUME).filter((v) => /-(elasticsearch|logstash)-data$/.test(v.name));
        expect(durable.map((v) => v.name).sort()).toEqual(["dev-elasticsearch-data", "dev-logstash-data"]);
        expect(ofType(dev, VOLUME).find((v) => v.name === "dev-elasticsearch-snapshots")?.options).toMatchObject({ retainOnDelete: true });
        for (const v of durable) expect(v.options).toMatchObject({ retainOnDelete: true, protect: false });
        // Kibana's volume holds only its instance id: it is not retained.
        expect(ofType(dev, VOLUME).find((v) => v.name === "dev-kibana-data")?.options).toMatchObject({ retainOnDelete: false, protect: false });
        const data = esSpec("es01").volumes[0];
        expect(dataVolumeOptions("elk-prod", esSpec("es01"), data, true)).toMatchObject({ retainOnDelete: true, protect: true });
        expect(dataVolumeOptions("elk-prod", esSpec("es01"), { ...data, durable: false }, true)).toMatchObject({ retainOnDelete: false, protect: false });
    });

    test("volume resource names do not follow clusterName or instance names; Docker names are created once and kept", () => {
        // The stack's data key and the service's role: a renamed node keeps its volume.
        const data = esSpec("es01").volumes[0];
        expect(dataVolumeResourceName("dev", esSpec("search01"), data)).toBe(dataVolumeResourceName("dev", esSpec("es01"), data));
        for (const v of ofType(dev, VOLUME)) {
            expect(v.name).not.toContain("elk-dev");
            expect(v.name).not.toContain("es01");
        }
        for (const v of ofType(dev, VOLUME)) {
            // Both force a new volume in the provider, and both carry cosmetic names.
            expect([...v.options.ignoreChanges].sort()).toEqual(["labels", "name"]);
        }
        // The Docker name a new stack gets is the 0.4.0 one.
        expect(ofType(dev, VOLUME).map((v) => v.inputs.name).sort()).toEqual(["elk-dev-es01-data", "elk-dev-es01-snapshots", "elk-dev-kibana-data", "elk-dev-logstash-data"]);
    });

    test("an existing 0.4.0 stack adopts its volumes: each has an alias to its 0.4.0 resource name", () => {
        const aliasNames = (v: RecordedResource) => v.options.aliases.map((a) => JSON.stringify(a));
        for (const [volume, oldName] of [
            ["dev-elasticsearch-data", "elk-dev-es01-data"],
            ["dev-logstash-data", "elk-dev-logstash-data"],
            ["dev-kibana-data", "elk-dev-kibana-data"],
        ]) {
            const v = ofType(dev, VOLUME).find((x) => x.name === volume) as RecordedResource;
            expect(aliasNames(v).some((a) => a.includes(`"name":"${oldName}"`))).toBe(true);
        }
    });

    test("every long-running container has a grace period before a kill, on replacement, destroy and docker stop", () => {
        const grace = Object.fromEntries(services(dev).map((c) => [c.name, [c.inputs.destroyGraceSeconds, c.inputs.stopTimeout]]));
        expect(Object.keys(grace).sort()).toEqual(["elk-dev-es01", "elk-dev-kibana", "elk-dev-logstash"]);
        expect(grace).toEqual({ "elk-dev-es01": [120, 120], "elk-dev-kibana": [30, 30], "elk-dev-logstash": [180, 180] });
    });

    test("no perpetual diff: swap reads back as set, health checks are written as the provider reads them back", () => {
        for (const c of services(dev)) {
            expect(c.inputs.memorySwap).toBe(-1);
            const hc = asObj(c.inputs.healthcheck);
            for (const key of ["interval", "timeout", "startPeriod"]) expect(String(hc[key])).toMatch(/^(\d+h)?(\d+m)?\d+s$/);
        }
        const kibana = asObj(services(dev).find((c) => c.name === "elk-dev-kibana")?.inputs.healthcheck);
        // Kibana's start period is 60 s, which Docker reports as 1m0s.
        expect(kibana.startPeriod).toBe("1m0s");
    });

    test("a changed health check replaces the container (the provider would only change its state)", () => {
        for (const c of services(dev)) expect(c.options.replaceOnChanges).toEqual(["healthcheck"]);
    });

    test("the certificates output is the earliest notAfter of both CAs and every instance certificate, as openssl reads them", () => {
        const out = dev.outputs.certificates;
        expect(out.secret).toBe(false);
        const value = out.value as { earliestExpiry: string; renewBeforeDays: number };
        expect(value.renewBeforeDays).toBe(30);
        const pems = [...ofType(dev, "tls:index/selfSignedCert:SelfSignedCert"), ...ofType(dev, "tls:index/locallySignedCert:LocallySignedCert")].map((r) => String(r.state.certPem));
        // The HTTP and transport CAs; es01, kibana, logstash and es01's transport certificate.
        expect(pems).toHaveLength(6);
        const ends = pems.map((pem) => {
            const text = execFileSync("openssl", ["x509", "-noout", "-enddate"], { input: pem, encoding: "utf8", timeout: 30_000 });
            return Date.parse(text.replace(/^notAfter=/, "").trim());
        });
        expect(Date.parse(value.earliestExpiry)).toBe(Math.min(...ends));
        // Instance certificates: 365 days by default, the CA ten times that.
        const days = (Date.parse(value.earliestExpiry) - Date.now()) / 86_400_000;
        expect(days).toBeGreaterThan(364);
        expect(days).toBeLessThanOrEqual(365);
    });

    test("the snapshot volume (no such directory in the image, so root's) is handed to Elasticsearch's user before it starts", () => {
        const owner = ofType(dev, CONTAINER).find((c) => c.name === "elk-dev-es01-snapshots-owner") as RecordedResource;
        expect(owner.inputs).toMatchObject({ user: "0:0", privileged: false, networkMode: "none", attach: true, mustRun: false, restart: "no" });
        expect(owner.inputs.entrypoints).toEqual(["sh", "-c", "chown 1000:0 /volume && chmod 0770 /volume"]);
        expect(owner.inputs.volumes).toEqual([{ volumeName: "elk-dev-es01-snapshots", containerPath: "/volume" }]);
        const es = ofType(dev, CONTAINER).find((c) => c.name === "elk-dev-es01") as RecordedResource;
        expect(es.dependencies).toContain(owner.urn);
    });

    test("a failed one-shot step is not recorded as created: bootstrap and Kibana set-up must turn healthy, which only success does", () => {
        const steps = ofType(dev, CONTAINER).filter((c) => c.inputs.mustRun === false);
        expect(steps.map((c) => c.name).sort()).toEqual(["elk-dev-bootstrap", "elk-dev-es01-snapshots-owner", "elk-dev-kibana-setup", "elk-dev-sysctl"]);
        for (const c of steps.filter((x) => x.name === "elk-dev-bootstrap" || x.name === "elk-dev-kibana-setup")) {
            expect(c.inputs).toMatchObject({ attach: true, logs: true, wait: true, waitTimeout: 660, restart: "no" });
            expect(c.inputs.healthcheck).toEqual({ tests: ["CMD-SHELL", `test -f ${STEP_DONE_FILE}`], interval: "1s", timeout: "5s", retries: 3, startPeriod: "0s" });
            const argv = c.inputs.entrypoints as string[];
            expect(argv.slice(0, 4)).toEqual(succeededGateCommand([]));
            expect(argv[4]).toBe("/bin/bash");
            const env = unwrapSecrets(c.inputs.envs) as string[];
            expect(env).toEqual(expect.arrayContaining([`ELK_STEP_DONE_FILE=${STEP_DONE_FILE}`, "ELK_STEP_LINGER_SECONDS=10"]));
        }
        // The privileged step keeps exactly the command the policy pack allows.
        const sysctl = steps.find((x) => x.name === "elk-dev-sysctl");
        expect(sysctl?.inputs.entrypoints).toEqual(raiseMaxMapCountCommand(262144));
        expect(sysctl?.inputs.wait).toBeUndefined();
    });

    test("the gate's real command: success writes the done file and exits 0; failure exits with the step's status and writes nothing", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "elk-gate-"));
        try {
            const [shell, flag, script, name] = succeededGateCommand([]);
            expect([shell, flag, name]).toEqual(["/bin/sh", "-c", "elk-step"]);
            const file = path.join(dir, "gate.sh");
            fs.writeFileSync(file, `set -- ${["sh", "-c", "echo step output; exit $STEP_CODE"].map((a) => `'${a}'`).join(" ")}
${script}
`);
            const env = (code: number) => ({ ELK_STEP_DONE_FILE: path.join(dir, `done-${code}`), ELK_STEP_LINGER_SECONDS: "0", STEP_CODE: String(code) });
            const ok = await runScript(file, env(0), 10_000);
            expect(ok).toMatchObject({ code: 0, stdout: "step output\n" });
            expect(fs.existsSync(path.join(dir, "done-0"))).toBe(true);
            const failed = await runScript(file, env(3), 10_000);
            expect(failed).toMatchObject({ code: 3, stdout: "step output\n" });
            expect(fs.existsSync(path.join(dir, "done-3"))).toBe(false);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    test.each([
        [0, "0s"],
        [1, "1s"],
        [10, "10s"],
        [59, "59s"],
        [60, "1m0s"],
        [90, "1m30s"],
        [600, "10m0s"],
        [3600, "1h0m0s"],
        [3661, "1h1m1s"],
    ])("goDuration(%p) is Go's time.Duration.String(): %p", (seconds, text) => {
        expect(goDuration(seconds)).toBe(text);
    });

    test("goDuration refuses what is not a whole number of seconds", () => {
        expect(() => goDuration(1.5)).toThrow(/whole number/);
        expect(() => goDuration(-1)).toThrow(/whole number/);
        expect(dockerHealthcheck({ command: "true", aliveCommand: "true", intervalSeconds: 10, timeoutSeconds: 5, retries: 3, startPeriodSeconds: 120 })).toEqual({
            tests: ["CMD-SHELL", "true"],
            interval: "10s",
            timeout: "5s",
            retries: 3,
            startPeriod: "2m0s",
        });
    });
});

describe("Kubernetes: the prod and staging stacks", () => {
    let prod: ProgramRun;

    beforeAll(async () => {
        // A prod stack kept on the manifests engine (tests/eck.test.ts covers the eck engine's claims).
        prod = await runProgram({ ...onManifestsEngine(stackFileConfig("prod")), elasticsearchNodeCount: "3" }, { stack: "prod" });
    });

    const namespaceOf = (run: ProgramRun) => {
        const all = ofType(run, "kubernetes:core/v1:Namespace");
        expect(all).toHaveLength(1);
        return all[0];
    };

    test("the namespace (and so every claim in it) is retained on delete, and protected in prod", () => {
        expect(stackFileConfig("prod").protectData).toBe("true");
        expect(stackFileConfig("staging").protectData).toBeUndefined();
        expect(namespaceOf(prod).options).toMatchObject({ retainOnDelete: true, protect: true });
    });

    test("every StatefulSet keeps its claims when deleted or scaled down", () => {
        const sets = ofType(prod, "kubernetes:apps/v1:StatefulSet");
        expect(sets.length).toBe(2);
        for (const s of sets) {
            const spec = asObj(asObj(unwrapSecrets(s.inputs)).spec);
            expect(spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: "Retain", whenScaled: "Retain" });
            expect((spec.volumeClaimTemplates as unknown[]).length).toBe(1);
        }
    });

    test("every long-running pod has a grace period long enough for its service", () => {
        const grace: Record<string, unknown> = {};
        for (const w of [...ofType(prod, "kubernetes:apps/v1:StatefulSet"), ...ofType(prod, "kubernetes:apps/v1:Deployment")]) {
            const spec = asObj(asObj(unwrapSecrets(w.inputs)).spec);
            grace[w.name] = asObj(asObj(spec.template).spec).terminationGracePeriodSeconds;
        }
        // The service's own stop time plus the pre-stop delay, which Kubernetes counts against the grace period.
        expect(grace).toEqual({ "elk-prod-es01-statefulset": 120 + 15, "elk-prod-logstash-statefulset": 180 + 15, "elk-prod-kibana-deployment": 30 + 15 });
    });

    test("every Job is replaced on the next update when it did not complete", () => {
        const jobs = ofType(prod, "kubernetes:batch/v1:Job");
        expect(jobs.map((j) => j.name).sort()).toEqual(["elk-prod-bootstrap-job", "elk-prod-kibana-setup-job"]);
        for (const j of jobs) {
            expect(asObj(asObj(asObj(unwrapSecrets(j.inputs)).metadata).annotations)).toEqual({ [REPLACE_UNREADY_ANNOTATION]: "true" });
        }
        expect(REPLACE_UNREADY_ANNOTATION).toBe("pulumi.com/replaceUnready");
    });
});
