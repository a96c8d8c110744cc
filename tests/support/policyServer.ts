/**
 * Runs the policy pack in policy/ the way the Pulumi CLI does, without the CLI: `@pulumi/pulumi/cmd/run-policy-pack`
 * (resolved from the pack's directory, as the CLI's analyzer shim resolves it) loads policy/index.ts with ts-node,
 * the pack prints the port of its gRPC analyzer server, and resources are sent to it as `Analyze` requests, the
 * call the engine makes for every resource during `pulumi preview` and `pulumi up`.
 */
import { type ChildProcess, spawn } from "child_process";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import { AnalyzeRequest, AnalyzerResourceOptions } from "@pulumi/pulumi/proto/analyzer_pb";
import { withDeadline } from "./deadline";

/** The directory of the policy pack. */
export const POLICY_PACK_DIR = path.join(__dirname, "..", "..", "policy");

/** One violation the pack reported. */
export interface PolicyDiagnostic {
    readonly policy: string;
    readonly message: string;
    /** 0 advisory, 1 mandatory (the proto's EnforcementLevel). */
    readonly enforcementLevel: number;
}

/** What to send: a resource's type, name and inputs in Pulumi's wire format (secrets as envelopes). */
export interface AnalyzedResource {
    readonly type: string;
    readonly name: string;
    readonly inputs: Record<string, unknown>;
}

/** A running policy pack. */
export interface RunningPolicyPack {
    analyze(resource: AnalyzedResource): Promise<PolicyDiagnostic[]>;
    /** Ends the pack's process and waits (bounded) until it has. */
    close(): Promise<void>;
}

/** Starts policy/ as the CLI would and connects to it; throws with its output when it does not come up in time. */
export async function startPolicyPack(timeoutMs = 90_000): Promise<RunningPolicyPack> {
    const runner = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [POLICY_PACK_DIR] });
    // The first argument is the engine address; the pack's analyzer server is what the engine talks to, not back.
    const child: ChildProcess = spawn(process.execPath, [runner, "127.0.0.1:0", "."], { cwd: POLICY_PACK_DIR, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => {
            child.kill();
            reject(new Error(`policy pack did not start in ${timeoutMs} ms:\n${stdout}\n${stderr}`));
        }, timeoutMs);
        child.stdout?.on("data", (d: Buffer) => {
            stdout += d.toString();
            const m = /^(\d+)\s*$/m.exec(stdout);
            if (m) {
                clearTimeout(timer);
                resolve(Number(m[1]));
            }
        });
        child.on("exit", (code) => {
            clearTimeout(timer);
            reject(new Error(`policy pack exited with ${code}:\n${stdout}\n${stderr}`));
        });
    });
    const client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    return {
        analyze: (r) =>
            withDeadline(new Promise<PolicyDiagnostic[]>((resolve, reject) => {
                const req = new AnalyzeRequest();
                req.setType(r.type);
                req.setName(r.name);
                req.setUrn(`urn:pulumi:test::elk-stack::${r.type}::${r.name}`);
                // A JSON round trip drops undefined values, which a protobuf Struct cannot hold (nor can the engine send).
                req.setProperties(Struct.fromJavaScript(JSON.parse(JSON.stringify(r.inputs)) as Parameters<typeof Struct.fromJavaScript>[0]));
                req.setOptions(new AnalyzerResourceOptions());
                client.analyze(req, (err, res) => {
                    if (err) return reject(err);
                    resolve(
                        res.getDiagnosticsList().map((d) => ({
                            policy: d.getPolicyname(),
                            // The SDK sends "<policy description>\n<message>"; the CLI prints the two apart.
                            message: d.getMessage().startsWith(`${d.getDescription()}\n`) ? d.getMessage().slice(d.getDescription().length + 1) : d.getMessage(),
                            enforcementLevel: d.getEnforcementlevel(),
                        })),
                    );
                });
            }), 60_000, `the policy pack's verdict on ${r.type} ${r.name}`),
        close: async () => {
            client.close();
            // Ended before the file is: a child still running would keep the jest worker alive after its last file.
            if (child.exitCode !== null || child.signalCode !== null) return;
            const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
            child.kill();
            try {
                await withDeadline(exited, 5_000, "the policy pack to end after SIGTERM");
            } catch {
                child.kill("SIGKILL");
                await withDeadline(exited, 5_000, "the policy pack to end after SIGKILL");
            }
        },
    };
}
