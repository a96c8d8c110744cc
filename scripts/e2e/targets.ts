/**
 * How the e2e run reaches a running stack and places its nginx, per target.
 *
 * Docker: Elasticsearch and the Django ports are published on this machine (the stack outputs say where). nginx
 * runs as a container on the stack's network (`<clusterName>-net`, see components/targets/docker.ts) and sends
 * syslog to Logstash by its instance name there; its HTTP port is published on 127.0.0.1.
 * Kubernetes: nothing is published, so `kubectl port-forward` carries Elasticsearch, each Django port and the
 * nginx pod's HTTP port to 127.0.0.1; a forward dies with its pod (the change restarts them), so each is started
 * again whenever it exits. nginx runs as a pod in the stack's namespace and sends syslog to the Logstash
 * Service over UDP inside the cluster, which port-forward could not carry: the Service the engine names
 * (`kubernetesServiceHost`, from the functions the platforms' `internalHost` name it with: eckServiceName on eck,
 * the operator's `<logstash>-ls-listeners`; objectName on manifests). After the change, the run waits for the restart to begin and every workload to roll
 * out ({@link restartProgress}) before it checks health: until then the old pods answer, green.
 */
import { type ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as path from "path";
import * as tls from "tls";
import type { OutputMap } from "@pulumi/pulumi/automation";
import type { StackConfig } from "../../components/model/config";
import { ES_HTTP_PORT } from "../../components/model/elasticsearch";
import { NGINX_SYSLOG_PORT, type LogSource } from "../../components/model/sources";
import { elasticsearchClient } from "../../components/operations/esClient";
import { STACK_LABEL, kubernetesServiceHost, kubernetesServiceName } from "../../components/targets";
import type { VerifyOptions } from "../../components/operations/verify";
import { nginxLogFormats, nginxSourceLogs } from "../../components/model/wiring";
import { type StackOutputs, resolveOptions } from "../verify";
import type { LoadSource } from "./accounting";
import { type DjangoTarget, e2eNginxConf } from "./load";

/** The nginx image of the e2e load: an exact version, like every image of the stack. */
export const E2E_NGINX_IMAGE = "nginx:1.27.5";
/** The port the e2e nginx listens on inside its container or pod. */
const NGINX_LISTEN_PORT = 8080;

/** How this machine reaches the running stack. */
export interface StackAccess {
    readonly verifyOptions: VerifyOptions;
    readonly django: readonly DjangoTarget[];
    /** nginx sources and the URL of the e2e nginx sending as each. */
    readonly nginx: readonly { readonly source: LogSource; readonly baseUrl: string }[];
    readonly sources: readonly LoadSource[];
    /** Scratch folder of the run (CA file, nginx config, the Python module). */
    readonly workDir: string;
    /** Docker: the e2e nginx containers on the stack's network (reloaded after the change). */
    readonly nginxContainers: readonly string[];
    /** Undoes what connect did, in reverse order. */
    readonly closers: (() => Promise<void>)[];
}

/** Plain values of the stack outputs. */
export function outputValues(outputs: OutputMap): StackOutputs {
    return Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.value as unknown]));
}

function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const port = (server.address() as net.AddressInfo).port;
            server.close(() => resolve(port));
        });
    });
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port; rejects after `timeoutMs`. */
export function waitForTcp(port: number, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    return new Promise((resolve, reject) => {
        const attempt = () => {
            const s = net.connect({ host: "127.0.0.1", port });
            s.once("connect", () => {
                s.destroy();
                resolve();
            });
            s.once("error", () => {
                s.destroy();
                if (Date.now() > deadline) reject(new Error(`${what} did not accept connections on 127.0.0.1:${port} within ${Math.round(timeoutMs / 1000)} s`));
                else setTimeout(attempt, 250);
            });
        };
        attempt();
    });
}

/**
 * Resolves once `baseUrl` answers an HTTP request (any status). A published Docker port accepts TCP connections
 * before the container listens (Docker's proxy), so only an HTTP answer says nginx is up.
 */
export function waitForHttp(baseUrl: string, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    return new Promise((resolve, reject) => {
        const attempt = () => {
            const req = http.get(`${baseUrl}/`, { timeout: 2000 }, (res) => {
                res.resume();
                resolve();
            });
            req.on("timeout", () => req.destroy(new Error("timed out")));
            req.on("error", () => {
                if (Date.now() > deadline) reject(new Error(`${what} did not answer HTTP at ${baseUrl} within ${Math.round(timeoutMs / 1000)} s`));
                else setTimeout(attempt, 250);
            });
        };
        attempt();
    });
}

function runChecked(command: string, args: readonly string[], input?: string, timeoutMs = 120_000): string {
    const r = spawnSync(command, [...args], { encoding: "utf8", input, timeout: timeoutMs, stdio: ["pipe", "pipe", "pipe"] });
    if (r.error) throw new Error(`${command} ${args.join(" ")}: ${r.error.message}`);
    if (r.status !== 0) throw new Error(`${command} ${args.join(" ")} exited with ${String(r.status)}: ${r.stderr.trim().split("\n").slice(-3).join(" | ")}`);
    return r.stdout;
}

/** A `kubectl port-forward` that is started again whenever it exits, until stopped. */
export function supervisedPortForward(namespace: string, target: string, localPort: number, remotePort: number, log: (line: string) => void): () => Promise<void> {
    let child: ChildProcess | undefined;
    let stopped = false;
    let restarts = 0;
    const start = () => {
        child = spawn("kubectl", ["-n", namespace, "port-forward", "--address", "127.0.0.1", target, `${localPort}:${remotePort}`], { stdio: "ignore" });
        child.once("exit", () => {
            if (stopped) return;
            restarts++;
            if (restarts === 1 || restarts % 10 === 0) log(`port-forward to ${target} ended (${restarts} so far); starting it again`);
            setTimeout(() => {
                if (!stopped) start();
            }, 1000);
        });
    };
    start();
    return () =>
        new Promise<void>((resolve) => {
            stopped = true;
            const c = child;
            if (c === undefined || c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once("exit", () => resolve());
            c.kill("SIGTERM");
        });
}

function nginxSnippetFile(workDir: string, source: LogSource, logstashHost: string): string {
    const dir = path.join(workDir, `nginx-${source.name}`);
    fs.mkdirSync(dir, { recursive: true });
    // One source per nginx: its log format and its logs may both go in http { } (the single-source layout).
    fs.writeFileSync(path.join(dir, `elk-${source.name}.conf`), `${nginxLogFormats([source])}\n${nginxSourceLogs({ host: logstashHost, port: NGINX_SYSLOG_PORT }, source)}`);
    fs.writeFileSync(path.join(dir, "nginx.conf"), e2eNginxConf({ snippetPath: `/etc/nginx/elk-${source.name}.conf`, listen: String(NGINX_LISTEN_PORT) }));
    return dir;
}

/** The sources of the stack as the accounting names them. */
function loadSources(o: VerifyOptions): LoadSource[] {
    return o.sources.map((s) => ({ name: s.name, kind: s.kind }));
}

/** Docker: everything but nginx is published on this machine; nginx joins the stack's network. */
export async function connectDocker(outputs: OutputMap, settings: StackConfig, run: string, workDir: string): Promise<StackAccess> {
    const verifyOptions = resolveOptions(new Map(), () => outputValues(outputs), {});
    const caPath = path.join(workDir, "ca.crt");
    fs.writeFileSync(caPath, verifyOptions.ca);
    const closers: (() => Promise<void>)[] = [];
    const containers: string[] = [];
    const access: StackAccess = {
        verifyOptions,
        workDir,
        closers,
        nginxContainers: containers,
        sources: loadSources(verifyOptions),
        django: verifyOptions.sources.filter((s) => s.kind === "django").map((s) => ({ source: settings.logSources.find((l) => l.name === s.name) as LogSource, host: s.host, port: s.port, caPath })),
        nginx: [],
    };
    const nginx: { source: LogSource; baseUrl: string }[] = [];
    try {
        for (const source of settings.logSources.filter((s) => s.kind === "nginx")) {
            const name = `elk-e2e-nginx-${source.name}-${run}`;
            const dir = nginxSnippetFile(workDir, source, settings.names.logstash);
            const port = await freePort();
            // create + cp + start instead of a bind mount: works with a remote DOCKER_HOST too.
            runChecked("docker", ["create", "--name", name, "--network", `${settings.clusterName}-net`, "-p", `127.0.0.1:${port}:${NGINX_LISTEN_PORT}`, E2E_NGINX_IMAGE]);
            closers.push(() => Promise.resolve(void spawnSync("docker", ["rm", "-f", name], { stdio: "ignore", timeout: 60_000 })));
            containers.push(name);
            runChecked("docker", ["cp", path.join(dir, "nginx.conf"), `${name}:/etc/nginx/nginx.conf`]);
            runChecked("docker", ["cp", path.join(dir, `elk-${source.name}.conf`), `${name}:/etc/nginx/elk-${source.name}.conf`]);
            runChecked("docker", ["start", name]);
            await waitForHttp(`http://127.0.0.1:${port}`, 60_000, `nginx container ${name}`);
            nginx.push({ source, baseUrl: `http://127.0.0.1:${port}` });
        }
    } catch (err) {
        // A container left on the stack's network would keep the destroy from removing the network.
        await closeAccess(access);
        throw err;
    }
    return { ...access, nginx };
}

/**
 * The host the e2e nginx pod sends syslog to: Logstash's Service as the engine names it, in the stack's namespace
 * (the stack's own `logstashEndpoints` output names the same host).
 */
export function e2eSyslogHost(settings: StackConfig): string {
    return kubernetesServiceHost(settings, settings.names.logstash);
}

/** Kubernetes: port-forwards for Elasticsearch, the Django ports and an nginx pod in the stack's namespace. */
export async function connectKubernetes(outputs: OutputMap, settings: StackConfig, run: string, workDir: string, log: (line: string) => void): Promise<StackAccess> {
    const ns = settings.kubernetes.namespace;
    const closers: (() => Promise<void>)[] = [];
    try {
        const esPort = await freePort();
        closers.push(supervisedPortForward(ns, `svc/${kubernetesServiceName(settings, settings.names.elasticsearch)}`, esPort, ES_HTTP_PORT, log));
        const djangoFlags: string[] = [];
        for (const s of settings.logSources.filter((x) => x.kind === "django")) {
            const local = await freePort();
            closers.push(supervisedPortForward(ns, `svc/${kubernetesServiceName(settings, settings.names.logstash)}`, local, s.port, log));
            djangoFlags.push(`${s.name}=${local}`);
        }
        await waitForTcp(esPort, 60_000, "the Elasticsearch port-forward");
        // Only the Django sources can be checked through port-forwards: nginx's syslog is UDP.
        const flags = new Map<string, string[]>([
            ["es-url", [`https://localhost:${esPort}`]],
            ["logstash-host", ["localhost"]],
            ["sources", [settings.logSources.filter((s) => s.kind === "django").map((s) => `django:${s.name}:${s.port}`).join(",")]],
            ["django-port", djangoFlags],
        ]);
        const verifyOptions = resolveOptions(flags, () => outputValues(outputs), {});
        const caPath = path.join(workDir, "ca.crt");
        fs.writeFileSync(caPath, verifyOptions.ca);
        const nginx: { source: LogSource; baseUrl: string }[] = [];
        for (const source of settings.logSources.filter((s) => s.kind === "nginx")) {
            const name = `e2e-nginx-${source.name}`;
            const dir = nginxSnippetFile(workDir, source, e2eSyslogHost(settings));
            const manifest = {
                apiVersion: "v1",
                kind: "List",
                items: [
                    { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: ns }, data: { "nginx.conf": fs.readFileSync(path.join(dir, "nginx.conf"), "utf8"), [`elk-${source.name}.conf`]: fs.readFileSync(path.join(dir, `elk-${source.name}.conf`), "utf8") } },
                    {
                        apiVersion: "v1",
                        kind: "Pod",
                        metadata: { name, namespace: ns, labels: { "app.kubernetes.io/name": "e2e-nginx", "elk-e2e/run": run } },
                        spec: {
                            containers: [
                                {
                                    name: "nginx",
                                    image: E2E_NGINX_IMAGE,
                                    ports: [{ containerPort: NGINX_LISTEN_PORT }],
                                    resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "500m", memory: "128Mi" } },
                                    volumeMounts: [
                                        { name: "conf", mountPath: "/etc/nginx/nginx.conf", subPath: "nginx.conf" },
                                        { name: "conf", mountPath: `/etc/nginx/elk-${source.name}.conf`, subPath: `elk-${source.name}.conf` },
                                    ],
                                },
                            ],
                            volumes: [{ name: "conf", configMap: { name } }],
                        },
                    },
                ],
            };
            runChecked("kubectl", ["apply", "-f", "-"], JSON.stringify(manifest));
            closers.push(() => Promise.resolve(void spawnSync("kubectl", ["-n", ns, "delete", "pod,configmap", name, "--ignore-not-found", "--wait=false"], { stdio: "ignore", timeout: 60_000 })));
            runChecked("kubectl", ["-n", ns, "wait", "--for=condition=Ready", `pod/${name}`, "--timeout=180s"], undefined, 200_000);
            const local = await freePort();
            closers.push(supervisedPortForward(ns, `pod/${name}`, local, NGINX_LISTEN_PORT, log));
            await waitForHttp(`http://127.0.0.1:${local}`, 60_000, `the port-forward to pod ${name}`);
            nginx.push({ source, baseUrl: `http://127.0.0.1:${local}` });
        }
        return {
            verifyOptions,
            workDir,
            closers,
            // In the cluster nginx sends to the Logstash Service, whose address stays when its pods are replaced.
            nginxContainers: [],
            sources: [...loadSources(verifyOptions), ...nginx.map((n) => ({ name: n.source.name, kind: n.source.kind }))],
            django: verifyOptions.sources.map((s) => ({ source: settings.logSources.find((l) => l.name === s.name) as LogSource, host: s.host, port: s.port, caPath })),
            nginx,
        };
    } catch (err) {
        await closeAccess({ closers });
        throw err;
    }
}

/** Runs a command with a time limit; tests hand in one that records. */
export type Docker = (args: readonly string[]) => string;

/** Runs `docker` (two minutes at most), or throws with the command and the end of its stderr. */
export const docker: Docker = (args) => runChecked("docker", args);

/**
 * Reloads each e2e nginx so that it resolves Logstash's name again: nginx looks up a syslog server's name when it
 * reads its configuration and never again (nginx 1.27.5 src/core/ngx_syslog.c `ngx_syslog_parse_args`, which calls
 * `ngx_parse_url` and keeps `u.addrs[0]`; no `resolver` applies to syslog), and a replaced Logstash container may
 * have a new address on the network. `nginx -s reload` re-reads the configuration (a new name lookup) without
 * dropping requests.
 */
export function reloadNginx(access: Pick<StackAccess, "nginxContainers">, run: Docker = docker): Promise<string | undefined> {
    if (access.nginxContainers.length === 0) return Promise.resolve(undefined);
    for (const name of access.nginxContainers) run(["exec", name, "nginx", "-s", "reload"]);
    return Promise.resolve(`reloaded ${access.nginxContainers.join(", ")} after the change, so that nginx looked up Logstash's address again`);
}

/**
 * Removes the Docker volumes of the stack whose name prefix is `prefix` (each carries the label
 * {@link STACK_LABEL}=prefix, components/targets/docker.ts): data volumes are retained on delete, so after `destroy`
 * they are what is left of the cluster, and a run that met them would start on the last run's data and password.
 */
export function removeDockerVolumes(prefix: string, run: Docker = docker): Promise<string> {
    const volumes = run(["volume", "ls", "--quiet", "--filter", `label=${STACK_LABEL}=${prefix}`])
        .split("\n")
        .map((l) => l.trim())
        .filter(Boolean);
    if (volumes.length > 0) run(["volume", "rm", ...volumes]);
    return Promise.resolve(volumes.length === 0 ? "no data volumes were left" : `removed its data volumes ${volumes.join(", ")}`);
}

/** Runs the closers in reverse order; a failing one does not stop the others. */
export async function closeAccess(access: Pick<StackAccess, "closers">): Promise<void> {
    for (const close of [...access.closers].reverse()) {
        try {
            await close();
        } catch {
            // Best effort: the stack's destroy removes the namespace or network anyway.
        }
    }
}

function tlsReady(host: string, port: number, ca: string): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = tls.connect({ host, port, ca, servername: net.isIP(host) ? undefined : host, timeout: 5000 });
        const done = (ok: boolean) => {
            socket.destroy();
            resolve(ok);
        };
        socket.once("secureConnect", () => done(true));
        socket.once("error", () => done(false));
        socket.once("timeout", () => done(false));
    });
}

/**
 * Resolves when Elasticsearch's health is yellow or green and every Django port completes a verified TLS
 * handshake (Logstash is listening again); rejects after `timeoutMs` naming what is still down.
 */
export async function waitHealthy(access: StackAccess, timeoutMs: number, log: (line: string) => void): Promise<void> {
    const o = access.verifyOptions;
    const client = elasticsearchClient({ ...o, requestTimeoutMs: 10_000 });
    const deadline = Date.now() + timeoutMs;
    let waiting = "";
    try {
        for (;;) {
            let status = "unreachable";
            try {
                status = (await client.cluster.health({ timeout: "5s" })).status;
            } catch (err) {
                status = `unreachable (${err instanceof Error ? err.message : String(err)})`;
            }
            const logstashDown: string[] = [];
            for (const d of access.django) if (!(await tlsReady(d.host, d.port, o.ca))) logstashDown.push(`${d.source.name} at ${d.host}:${d.port}`);
            const now = status === "green" || status === "yellow" ? (logstashDown.length === 0 ? "" : `Logstash not listening for ${logstashDown.join(", ")}`) : `Elasticsearch ${status}`;
            if (now === "") return;
            if (now !== waiting) log(`waiting for the stack: ${now}`);
            waiting = now;
            if (Date.now() > deadline) throw new Error(`the stack was not healthy ${Math.round(timeoutMs / 1000)} s after the change: ${now}`);
            await new Promise((r) => setTimeout(r, 2000));
        }
    } finally {
        await client.close();
    }
}

/** A pod a controller runs (a StatefulSet's, or a Deployment's through its ReplicaSet), as the restart watch sees it. */
export interface PodRef {
    readonly name: string;
    readonly uid: string;
    readonly ready: boolean;
}

/** A StatefulSet or Deployment, and whether it has rolled out its latest spec. */
export interface WorkloadState {
    readonly kind: string;
    readonly name: string;
    readonly rolledOut: boolean;
    /** What it still waits for, when not rolled out. */
    readonly waiting: string;
}

type KubeObject = { metadata?: { name?: string; uid?: string; generation?: number; ownerReferences?: { kind?: string; controller?: boolean }[] }; spec?: { replicas?: number }; status?: Record<string, unknown> };

/** The controller-run pods of a `kubectl get pods -o json` list; bare pods (the e2e nginx) and Jobs' pods are left out. */
export function controllerPods(list: { items?: KubeObject[] }): PodRef[] {
    return (list.items ?? []).flatMap((p) => {
        const owner = (p.metadata?.ownerReferences ?? []).find((o) => o.controller);
        if (!owner || (owner.kind !== "StatefulSet" && owner.kind !== "ReplicaSet")) return [];
        const conditions = (p.status?.conditions ?? []) as { type?: string; status?: string }[];
        return [{ name: String(p.metadata?.name), uid: String(p.metadata?.uid), ready: conditions.some((c) => c.type === "Ready" && c.status === "True") }];
    });
}

/**
 * Whether each StatefulSet and Deployment of a `kubectl get statefulsets,deployments -o json` list has rolled out
 * its latest spec: the controller saw it (status.observedGeneration), and every replica runs it and is ready
 * (StatefulSet updatedReplicas and readyReplicas; Deployment updatedReplicas and availableReplicas). ECK's
 * StatefulSets use OnDelete, under which currentRevision does not move, so updatedReplicas is what counts.
 */
export function workloadStates(list: { items?: (KubeObject & { kind?: string })[] }): WorkloadState[] {
    return (list.items ?? []).map((w) => {
        const kind = String(w.kind);
        const name = String(w.metadata?.name);
        const st = w.status ?? {};
        const replicas = w.spec?.replicas ?? 1;
        const num = (k: string) => (typeof st[k] === "number" ? (st[k]) : 0);
        const seen = num("observedGeneration") >= (w.metadata?.generation ?? 0);
        const ready = kind === "Deployment" ? num("availableReplicas") : num("readyReplicas");
        const waiting = !seen ? "its controller to see the change" : num("updatedReplicas") < replicas ? `${num("updatedReplicas")} of ${replicas} pods updated` : ready < replicas ? `${ready} of ${replicas} updated pods ready` : "";
        return { kind, name, rolledOut: waiting === "", waiting };
    });
}

/**
 * How far the restart a change causes has got, from the pods that ran before it and what runs now: begun once a
 * pod that ran before is gone (replaced); done once it has begun, every workload has rolled out and every pod is
 * ready. A change whose `up` returns before the operator acts leaves everything as it was: not begun.
 */
export function restartProgress(before: readonly PodRef[], pods: readonly PodRef[], workloads: readonly WorkloadState[]): { began: boolean; done: boolean; waiting: string } {
    const now = new Set(pods.map((p) => p.uid));
    const replaced = before.filter((p) => !now.has(p.uid));
    const began = replaced.length > 0;
    const pending = workloads.filter((w) => !w.rolledOut).map((w) => `${w.kind} ${w.name}: ${w.waiting}`);
    const unready = pods.filter((p) => !p.ready).map((p) => p.name);
    if (!began) return { began, done: false, waiting: `the restart to begin (every pod that ran before the change still runs: ${before.map((p) => p.name).join(", ") || "none"})` };
    const waiting = [...pending, ...(unready.length > 0 ? [`pods not ready: ${unready.join(", ")}`] : [])].join("; ");
    return { began, done: waiting === "", waiting };
}

/** How the restart watch reads the cluster: `kubectl` with these arguments, returning its output. */
export type KubectlRunner = (args: readonly string[]) => string;

/** The controller-run pods of the namespace now. */
export function podsBefore(kubectl: KubectlRunner, namespace: string): PodRef[] {
    return controllerPods(JSON.parse(kubectl(["-n", namespace, "get", "pods", "-o", "json"])) as { items?: KubeObject[] });
}

/**
 * Waits until the restart the change causes has begun and ended ({@link restartProgress}), polling every
 * `pollMs`; throws after `timeoutMs` naming what it still waits for.
 */
export async function waitRestarted(o: {
    kubectl: KubectlRunner;
    namespace: string;
    before: readonly PodRef[];
    timeoutMs: number;
    pollMs?: number;
    log: (line: string) => void;
    sleep: (ms: number) => Promise<void>;
    now: () => number;
}): Promise<void> {
    const deadline = o.now() + o.timeoutMs;
    let said = "";
    let began = false;
    for (;;) {
        const pods = controllerPods(JSON.parse(o.kubectl(["-n", o.namespace, "get", "pods", "-o", "json"])) as { items?: KubeObject[] });
        const workloads = workloadStates(JSON.parse(o.kubectl(["-n", o.namespace, "get", "statefulsets,deployments", "-o", "json"])) as { items?: (KubeObject & { kind?: string })[] });
        const p = restartProgress(o.before, pods, workloads);
        if (p.began && !began) o.log("the restart has begun: a pod that ran before the change is gone");
        began = p.began;
        if (p.done) return;
        if (p.waiting !== said) o.log(`waiting for ${p.waiting}`);
        said = p.waiting;
        if (o.now() > deadline) throw new Error(`the change had not ${p.began ? "finished rolling out" : "restarted any pod"} ${Math.round(o.timeoutMs / 1000)} s after its update: waiting for ${p.waiting}`);
        await o.sleep(o.pollMs ?? 5000);
    }
}

/** `kubectl` with these arguments, bounded in time; its output, or an error naming the command. */
export function kubectl(args: readonly string[]): string {
    return runChecked("kubectl", args, undefined, 60_000);
}
