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
                    bindAddresses: {
                        [settings.names.elasticsearch]: settings.bindAddresses.elasticsearch,
                        [settings.names.kibana]: settings.bindAddresses.kibana,
                        [settings.names.logstash]: settings.bindAddresses.logstash,
                    },
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
            if (k.engine === "eck") {
                return new EckPlatform(
                    `${name}-eck`,
                    {
                        namespace: k.namespace,
                        createNamespace: k.createNamespace,
                        stackName: settings.clusterName,
                        // Custom resources are named after the cluster and the instances (ECK derives every object's
                        // name from them): two stacks on this engine in one namespace need their own names.
                        resourcePrefix: name,
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
