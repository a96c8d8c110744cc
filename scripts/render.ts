/**
 * `npm run render -- --stack dev --out DIR`: writes every file the stack would deploy, offline, for review in
 * pull requests (like `helm template`). It evaluates the real ElkStack component under Pulumi's mock runtime,
 * so what it writes is what `pulumi up` would upload; secrets and keys come out as placeholders.
 */
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import * as pulumi from "@pulumi/pulumi";
import YAML from "yaml";
import { ConfigError, type StackConfig } from "../components/model/config";
import { ElkStack } from "../components/resources/elkStack";
import type { HostStep, JobSpec, PlacedJob, PlacedService, PlacementOptions, Platform, PortSpec, ServiceSpec } from "../components/model/spec";
import { platformFor } from "../components/targets";
import { ECK_KINDS } from "../components/targets/eckResources";
import { CliConfigError, stackSettings } from "./cliConfig";
import { unwrapSecrets } from "./secretEnvelope";

/** What a secret config value becomes: long enough to pass validation, impossible to mistake for a password. */
const SECRET_CONFIG_PLACEHOLDER = "<secret from the stack config>";
const GENERATED_SECRET_PLACEHOLDER = "<secret generated at deploy time>";

/** A platform that records each spec and hands it on, so render sees exactly what the components asked for. */
class RecordingPlatform implements Platform {
    readonly specs: (ServiceSpec | JobSpec)[] = [];
    constructor(private readonly inner: Platform) {}
    get kind() {
        return this.inner.kind;
    }
    get publishesOnHost() {
        return this.inner.publishesOnHost;
    }
    get kibanaAuth() {
        return this.inner.kibanaAuth;
    }
    internalHost(instance: string) {
        return this.inner.internalHost(instance);
    }
    extraDnsNames(instance: string, replicas: number) {
        return this.inner.extraDnsNames(instance, replicas);
    }
    memberNames(instance: string, replicas: number) {
        return this.inner.memberNames(instance, replicas);
    }
    discoveryHost(instance: string) {
        return this.inner.discoveryHost(instance);
    }
    endpoint(instance: string, port: PortSpec) {
        return this.inner.endpoint(instance, port);
    }
    hostStep(spec: JobSpec, opts: PlacementOptions): HostStep {
        this.specs.push(spec);
        return this.inner.hostStep(spec, opts);
    }
    runService(spec: ServiceSpec, opts: PlacementOptions): PlacedService {
        this.specs.push(spec);
        return this.inner.runService(spec, opts);
    }
    runJob(spec: JobSpec, opts: PlacementOptions): PlacedJob {
        this.specs.push(spec);
        return this.inner.runJob(spec, opts);
    }
}

function str(v: unknown): string {
    return typeof v === "string" ? v : "";
}

/** A Kubernetes object the program registered, as the provider would apply it. */
interface Manifest {
    readonly resourceName: string;
    readonly body: Record<string, unknown>;
}


/** A manifest fit to show: every value of a Secret becomes a placeholder. */
function reviewable(body: Record<string, unknown>): Record<string, unknown> {
    if (body.kind !== "Secret") return body;
    const hide = (data: unknown) =>
        Object.fromEntries(Object.keys((data ?? {})).map((k) => [k, `<secret: ${k} is set at deploy time and never rendered>`]));
    return { ...body, ...(body.stringData ? { stringData: hide(body.stringData) } : {}), ...(body.data ? { data: hide(body.data) } : {}) };
}

/** Mock provider answers: secrets and keys become placeholders; certificates say what they will contain. */
function renderMocks(manifests: Manifest[]): pulumi.runtime.Mocks {
    return {
        newResource: (args) => {
            const inputs = args.inputs as Record<string, unknown>;
            let state: Record<string, unknown> = { ...inputs };
            if (args.id !== undefined && args.id !== "") {
                // A read of a live object (the eck engine's CRD check with eckOperator present): render reads no
                // cluster, and shows the resources as a cluster with the pinned operator would receive them.
                return { id: args.id, state: servedCrd(args.id) ?? state };
            }
            if (args.type.startsWith("kubernetes:")) {
                // Pulumi names objects that have no name: the resource name and a suffix chosen at deploy time.
                const body = unwrapSecrets(inputs) as Record<string, unknown>;
                const metadata = (body.metadata ?? {}) as Record<string, unknown>;
                const named = { ...body, metadata: { ...metadata, name: metadata.name ?? `${args.name}-xxxxxxxx` } };
                state = { ...inputs, metadata: named.metadata };
                manifests.push({ resourceName: args.name, body: named });
            }
            switch (args.type) {
                case "random:index/randomPassword:RandomPassword":
                    state.result = GENERATED_SECRET_PLACEHOLDER;
                    break;
                case "tls:index/privateKey:PrivateKey":
                    state.privateKeyPem = state.privateKeyPemPkcs8 = "<private key generated at deploy time>";
                    break;
                case "tls:index/certRequest:CertRequest": {
                    const subject = (inputs.subject ?? {}) as Record<string, unknown>;
                    const sans = [...((inputs.dnsNames as string[] | undefined) ?? []).map((d) => `DNS:${d}`), ...((inputs.ipAddresses as string[] | undefined) ?? []).map((i) => `IP:${i}`)];
                    state.certRequestPem = `CN=${str(subject.commonName)}; SAN ${sans.join(", ")}`;
                    break;
                }
                case "tls:index/locallySignedCert:LocallySignedCert":
                    state.certPem = `# Certificate issued by the stack CA at deploy time: ${str(inputs.certRequestPem)}; uses ${((inputs.allowedUses as string[] | undefined) ?? []).join(", ")}; valid ${String(inputs.validityPeriodHours)} h, renewed ${String(inputs.earlyRenewalHours)} h before expiry\n`;
                    break;
                case "tls:index/selfSignedCert:SelfSignedCert":
                    state.certPem = `# CA certificate generated at deploy time (CN=${str((inputs.subject as Record<string, unknown> | undefined)?.commonName)}); get it with 'pulumi stack output caCertificate'\n`;
                    break;
                case "docker:index/remoteImage:RemoteImage":
                    state.imageId = `<image ${str(inputs.name)}>`;
                    break;
            }
            return { id: `${args.name}-id`, state };
        },
        call: (args) => args.inputs as Record<string, unknown>,
    };
}

/** A CRD of the pinned ECK operator, serving the API version the stack's resources use. */
function servedCrd(name: string): Record<string, unknown> | undefined {
    const kind = Object.values(ECK_KINDS).find((k) => k.crd === name);
    if (!kind) return undefined;
    const [group, version] = kind.apiVersion.split("/");
    return { metadata: { name }, spec: { group, versions: [{ name: version, served: true, storage: true }] } };
}

function resolve<T>(value: pulumi.Input<T>): Promise<T> {
    return new Promise((res) => pulumi.output(value).apply((v) => res(v as T)));
}

/** Maps container paths to paths under the service's folder by dropping the files' common directory. */
function relativePaths(files: readonly string[]): string[] {
    const dirs = files.map((f) => f.split("/").slice(0, -1));
    let common = dirs[0] ?? [];
    for (const d of dirs) {
        let i = 0;
        while (i < common.length && common[i] === d[i]) i++;
        common = common.slice(0, i);
    }
    return files.map((f) => f.split("/").slice(common.length).join("/"));
}

/** The host address a service's published ports bind to (Docker). */
function boundTo(settings: StackConfig, spec: ServiceSpec): string {
    const byRole: Partial<Record<ServiceSpec["role"], string>> = settings.bindAddresses;
    return byRole[spec.role] ?? settings.bindAddress;
}

/** A readable description of one container. */
function describe(spec: ServiceSpec | JobSpec, settings: StackConfig): Record<string, unknown> {
    const d: Record<string, unknown> = {
        name: spec.name,
        what: spec.description,
        image: spec.image,
        ...(spec.entrypoint ? { entrypoint: [...spec.entrypoint] } : {}),
        privileged: spec.privileged,
        user: `${spec.runAs.uid}:${spec.runAs.gid}`,
        env: { ...spec.env },
        files: spec.files.map((f) => `${f.path} (${f.mode}${f.secret ? ", secret" : ""})`),
    };
    if (spec.kind === "service") {
        if (settings.target === "docker") {
            d.ports = spec.ports.map((p) => `${p.containerPort}/${p.protocol}${p.hostPort !== undefined ? ` published on ${boundTo(settings, spec)}:${p.hostPort}` : " (stack network only)"}`);
            d.volumes = spec.volumes.map((v) => `${settings.clusterName}-${spec.name}-${v.name} -> ${v.mountPath}`);
        } else {
            d.replicas = spec.replicas;
            d.ports = spec.ports.map((p) => `${p.containerPort}/${p.protocol} (Service ${spec.name}.${settings.kubernetes.namespace}.svc)`);
            d.volumes = spec.volumes.map((v) =>
                v.shared ? `one ReadWriteMany claim of ${v.sizeGb} GiB shared by every pod -> ${v.mountPath}` : v.durable ? `claim of ${v.sizeGb} GiB per pod -> ${v.mountPath}` : `emptyDir -> ${v.mountPath}`,
            );
            d.cpuMillis = { request: spec.cpu.requestMillis, limit: spec.cpu.limitMillis };
        }
        d.memoryLimitMb = spec.memoryMb;
        d.healthCheck = {
            command: spec.healthCheck.command,
            every: `${spec.healthCheck.intervalSeconds}s`,
            timeout: `${spec.healthCheck.timeoutSeconds}s`,
            retries: spec.healthCheck.retries,
            startPeriod: `${spec.healthCheck.startPeriodSeconds}s`,
        };
    } else {
        d.runs = "once, to completion";
        d.memoryLimitMb = spec.memoryMb;
    }
    return d;
}

/**
 * How render writes YAML: as YAML 1.1 would read it back too. A YAML 1.2 writer leaves `1000:0` (a `user`) bare,
 * which YAML 1.1 readers (PyYAML, go-yaml v2 behind kubectl's sigs.k8s.io/yaml) take for the base-60 number 60000,
 * and `on`, `yes` or `no` for booleans; quoting every such string keeps it a string for both.
 */
const YAML_OUT = { lineWidth: 0, version: "1.1" } as const;

/** Renders a stack to a map of relative path -> content. */
export async function renderStack(settings: StackConfig): Promise<Map<string, string>> {
    const manifests: Manifest[] = [];
    await pulumi.runtime.setMocks(renderMocks(manifests), settings.project, settings.stack, false);
    const platform = new RecordingPlatform(platformFor(settings.clusterName, settings));
    const stack = new ElkStack(settings.clusterName, { settings, platform });
    const wiring = await resolve(stack.wiring);
    await pulumi.runtime.disconnect();

    const files = new Map<string, string>();
    const descriptions: Record<string, unknown>[] = [];
    for (const spec of platform.specs) {
        descriptions.push(describe(spec, settings));
        // Folders follow the files a reviewer reads: a secret file outside their common folder (a step's password
        // in /tmp) goes to secrets/, as a placeholder like every secret.
        const shown = spec.files.filter((f) => !f.secret);
        const rel = relativePaths(shown.map((f) => f.path));
        const common = shown.length > 0 ? shown[0].path.slice(0, shown[0].path.length - rel[0].length) : "/";
        for (const f of spec.files) {
            const where = f.path.startsWith(common) ? f.path.slice(common.length) : `secrets/${path.basename(f.path)}`;
            const content = f.secret ? `<secret: ${path.basename(f.path)} is generated at deploy time and never rendered>\n` : await resolve(f.content);
            files.set(`${spec.role}/${where}`, content);
        }
    }
    // What app teams add to their nginx and Django configuration, with this stack's Logstash address: the stack's
    // `wiring` output as it is (nginx-log-formats.conf, nginx-<source>.conf per nginx source, the Django modules).
    for (const [name, content] of Object.entries(wiring)) files.set(`wiring/${name}`, content);
    if (manifests.length > 0) {
        const docs: string[] = [];
        for (const [i, m] of manifests.entries()) {
            const text = YAML.stringify(reviewable(m.body), YAML_OUT);
            // A Helm release (the ECK operator) has no kind of its own.
            files.set(`kubernetes/${String(i + 1).padStart(2, "0")}-${(typeof m.body.kind === "string" ? m.body.kind : "helmrelease").toLowerCase()}-${m.resourceName}.yaml`, text);
            docs.push(text);
        }
        files.set("kubernetes/all.yaml", `# Every object of stack '${settings.stack}', in the order Pulumi creates them.\n${docs.join("---\n")}`);
    }
    files.set(
        "containers.yaml",
        `# Every container of stack '${settings.stack}' (target ${settings.target}), in start order.\n${YAML.stringify(descriptions, YAML_OUT)}`,
    );
    return files;
}

async function main(): Promise<void> {
    const { values } = parseArgs({ options: { stack: { type: "string", default: "dev" }, out: { type: "string", default: "render" } } });
    const root = path.resolve(__dirname, "..");
    const stack = values.stack ?? "dev";
    const settings = stackSettings(root, stack, SECRET_CONFIG_PLACEHOLDER, (key) =>
        console.error(`render: ${key} is encrypted in Pulumi.${stack}.yaml, and render decrypts nothing: rendered as if it were not set (its default)`),
    );
    const files = await renderStack(settings);
    const out = path.resolve(values.out ?? "render");
    for (const [rel, content] of files) {
        const target = path.join(out, rel);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, content);
    }
    console.log(`rendered ${files.size} files for stack '${stack}' into ${out}`);
}

if (require.main === module) {
    main().catch((e: unknown) => {
        console.error(e instanceof ConfigError || e instanceof CliConfigError ? e.message : e);
        process.exit(1);
    });
}
