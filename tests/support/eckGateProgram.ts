/**
 * Builds the eck platform with eckOperator present under Pulumi's mock runtime, against a cluster whose CRDs are as
 * the scenario says, and exits the way a Pulumi program does on a failed read or check: on the first unhandled
 * rejection, printing its message (status 3); status 0 when the operator gate opens. Run by tests/eck.test.ts in a
 * child process, because a failed gate leaves rejections that only the end of a program settles.
 *
 * Usage: ts-node eckGateProgram.ts ok|old|missing
 */
import * as pulumi from "@pulumi/pulumi";
import { EckPlatform } from "../../components/targets/eck";
import { ECK_KINDS } from "../../components/targets/eckResources";

const scenario = process.argv[2];
process.on("unhandledRejection", (e) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(3);
});

function crd(id: string): Record<string, unknown> {
    const kind = Object.values(ECK_KINDS).find((k) => k.crd === id);
    if (!kind) throw new Error(`unexpected read of ${id}`);
    if (scenario === "missing" && kind.kind === "Elasticsearch") throw new Error(`resource '${id}' does not exist`);
    const [group, version] = kind.apiVersion.split("/");
    const served = scenario === "old" && kind.kind === "Logstash" ? "v1beta1" : version;
    return { metadata: { name: id }, spec: { group, versions: [{ name: served, served: true, storage: true }] } };
}

async function main(): Promise<void> {
    await pulumi.runtime.setMocks(
        {
            newResource: (args) => (args.id ? { id: args.id, state: crd(args.id) } : { id: `${args.name}-id`, state: args.inputs as Record<string, unknown> }),
            call: (args) => args.inputs as Record<string, unknown>,
        },
        "elk-stack",
        "eckgate",
        true,
    );
    const platform = new EckPlatform("t", {
        namespace: "elk",
        stackName: "elk",
        instances: { elasticsearch: "es01", kibana: "kibana", logstash: "logstash" },
        version: "9.4.1",
        eck: { operator: "present", operatorNamespace: "elastic-system", nodeSets: [], zones: [] },
        privilegedHostSteps: true,
    });
    platform.operatorReady.apply((versions) => {
        console.log(`ready: ${versions.join(" ")}`);
        process.exit(0);
    });
}

void main();
