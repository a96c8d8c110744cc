import type * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config";
import type { Platform } from "../spec";
import { stackIngressRules } from "../traffic";
import { DockerPlatform } from "./docker";
import { KubernetesPlatform } from "./kubernetes";

export { DockerPlatform, type DockerPlatformArgs, STACK_LABEL } from "./docker";
export { KubernetesPlatform, type KubernetesPlatformArgs, type KubernetesIngress } from "./kubernetes";

/** How a stack names what it creates (see components/naming.ts). */
export interface PlatformNaming {
    /**
     * Prefix of physical names: Docker container, network and volume names (`clusterName` when unset, as in
     * 0.4.0) and Kubernetes object names (none when unset: objects are named after their instances, as in 0.4.0).
     */
    readonly namePrefix?: string;
    /** Pulumi identity of the Docker data volumes; the stack's name when unset. */
    readonly dataKey?: string;
}

/**
 * The platform a stack's `target` names, set up from the stack's settings. `name` is the owning stack's name: it
 * prefixes the Pulumi names of everything the platform creates.
 */
export function platformFor(name: string, settings: StackConfig, opts?: pulumi.ComponentResourceOptions, naming: PlatformNaming = {}): Platform {
    switch (settings.target) {
        case "docker":
            return new DockerPlatform(
                `${name}-docker`,
                {
                    namePrefix: naming.namePrefix ?? settings.clusterName,
                    resourcePrefix: name,
                    bindAddress: settings.bindAddress,
                    // Data volumes keep their Pulumi identity when the cluster or an instance is renamed. 0.4.0 keyed
                    // them by the Pulumi stack's name, which two stacks in one program share.
                    dataKey: naming.dataKey ?? name,
                    formerDataKey: settings.stack,
                    protectData: settings.protectData,
                },
                opts,
            );
        case "kubernetes": {
            const k = settings.kubernetes;
            return new KubernetesPlatform(
                `${name}-kubernetes`,
                {
                    namespace: k.namespace,
                    createNamespace: k.createNamespace,
                    // The label selecting the stack's pods: two stacks in one namespace need different ones.
                    stackName: naming.namePrefix ?? settings.clusterName,
                    resourcePrefix: name,
                    objectPrefix: naming.namePrefix,
                    kubeconfig: k.kubeconfig,
                    context: k.context,
                    renderDir: k.renderDir,
                    storageClass: k.storageClass,
                    storageKeys: {
                        [settings.names.elasticsearch]: { size: `${settings.project}:elasticsearchStorageGb`, storageClass: `${settings.project}:storageClass` },
                        [settings.names.logstash]: { size: `${settings.project}:logstashStorageGb`, storageClass: `${settings.project}:storageClass` },
                    },
                    serviceTypes: { [settings.names.kibana]: k.kibanaServiceType, [settings.names.logstash]: k.logstashServiceType },
                    ingresses: k.kibanaIngress ? [{ service: settings.names.kibana, host: k.kibanaIngress.host, className: k.kibanaIngress.className, portName: "https" }] : [],
                    antiAffinity: k.antiAffinity,
                    privilegedHostSteps: settings.setMaxMapCount,
                    protectData: settings.protectData,
                    ingressRules: stackIngressRules(settings),
                },
                opts,
            );
        }
    }
}
