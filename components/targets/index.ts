import type * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config";
import type { Platform } from "../spec";
import { stackIngressRules } from "../traffic";
import { DockerPlatform } from "./docker";
import { EckPlatform } from "./eck";
import { LOGSTASH_LISTENER_SERVICE, esHttpService, kibanaHttpService, logstashService } from "./eckResources";
import { KubernetesPlatform } from "./kubernetes";

export { DockerPlatform, type DockerPlatformArgs, STACK_LABEL } from "./docker";
export { EckPlatform, type EckPlatformArgs } from "./eck";
export { KubernetesPlatform, type KubernetesPlatformArgs, type KubernetesIngress } from "./kubernetes";

/** The Kubernetes Service clients dial for `instance` (a port-forward's target): the operator's on the eck engine. */
export function kubernetesServiceName(settings: StackConfig, instance: string): string {
    if (settings.kubernetes.engine !== "eck") return instance;
    if (instance === settings.names.elasticsearch) return esHttpService(settings.clusterName);
    if (instance === settings.names.kibana) return kibanaHttpService(settings.names.kibana);
    if (instance === settings.names.logstash) return logstashService(settings.names.logstash, LOGSTASH_LISTENER_SERVICE);
    return instance;
}

/** The platform a stack's `target` names, set up from the stack's settings. */
export function platformFor(name: string, settings: StackConfig, opts?: pulumi.ComponentResourceOptions): Platform {
    switch (settings.target) {
        case "docker":
            return new DockerPlatform(
                `${name}-docker`,
                // Data volumes are keyed by the Pulumi stack, which a rename of the cluster or an instance leaves alone.
                { namePrefix: settings.clusterName, bindAddress: settings.bindAddress, dataKey: settings.stack, protectData: settings.protectData },
                opts,
            );
        case "kubernetes": {
            const k = settings.kubernetes;
            if (k.engine === "eck") {
                return new EckPlatform(
                    `${name}-eck`,
                    {
                        namespace: k.namespace,
                        stackName: settings.clusterName,
                        instances: settings.names,
                        version: settings.elasticVersion,
                        eck: k.eck,
                        kubeconfig: k.kubeconfig,
                        context: k.context,
                        renderDir: k.renderDir,
                        storageClass: k.storageClass,
                        kibanaServiceType: k.kibanaServiceType,
                        logstashServiceType: k.logstashServiceType,
                        kibanaIngress: k.kibanaIngress,
                        antiAffinity: k.antiAffinity,
                        privilegedHostSteps: settings.setMaxMapCount,
                        protectData: settings.protectData,
                        ingressRules: stackIngressRules(settings),
                    },
                    opts,
                );
            }
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
