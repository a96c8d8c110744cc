import type * as pulumi from "@pulumi/pulumi";
import { ConfigError, type StackConfig } from "../config";
import type { Platform } from "../spec";
import { DockerPlatform } from "./docker";

export { DockerPlatform, type DockerPlatformArgs, STACK_LABEL } from "./docker";

/** The platform a stack's `target` names. */
export function platformFor(name: string, settings: StackConfig, opts?: pulumi.ComponentResourceOptions): Platform {
    switch (settings.target) {
        case "docker":
            return new DockerPlatform(`${name}-docker`, { namePrefix: settings.clusterName, bindAddress: settings.bindAddress }, opts);
        case "kubernetes":
            throw new ConfigError(`${settings.project}:target`, "the kubernetes target is not available in this release", "use 'docker' for now");
    }
}
