import type * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config";
import type { Platform } from "../spec";
import { stackIngressRules } from "../traffic";
import { DockerPlatform } from "./docker";
import { KubernetesPlatform } from "./kubernetes";

export { DockerPlatform, type DockerPlatformArgs, STACK_LABEL } from "./docker";
export { KubernetesPlatform, type KubernetesPlatformArgs, type KubernetesIngress } from "./kubernetes";

/** The platform a stack's `target` names, set up from the stack's settings. */
export function platformFor(name: string, settings: StackConfig, opts?: pulumi.ComponentResourceOptions): Platform {
    switch (settings.target) {
        case "docker":
            return new DockerPlatform(
                `${name}-docker`,
                // Data volumes are keyed by the Pulumi stack, which a rename of the cluster or an instance leaves alone.
                {
                    namePrefix: settings.clusterName,
                    bindAddress: settings.bindAddress,
                    bindAddresses: {
                        [settings.names.elasticsearch]: settings.bindAddresses.elasticsearch,
                        [settings.names.kibana]: settings.bindAddresses.kibana,
                        [settings.names.logstash]: settings.bindAddresses.logstash,
                    },
                    dataKey: settings.stack,
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
                    stackName: settings.clusterName,
                    kubeconfig: k.kubeconfig,
                    context: k.context,
                    renderDir: k.renderDir,
                    storageClass: k.storageClass,
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
