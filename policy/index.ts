/**
 * The elk-stack policy pack: `pulumi preview --policy-pack policy` (and `pulumi up --policy-pack policy`) runs it
 * against every resource the program registers. The policies live in policies.ts as pure functions.
 */
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./pack";

new PolicyPack("elk-stack", {
    description: "TLS on every hop, pinned images, only the sysctl step privileged, resource limits, no plain-text secrets, no workload in the default namespace.",
    enforcementLevel: "mandatory",
    policies,
});
