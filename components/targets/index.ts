/** The targets behind the `Platform` interface, and `platformFor`, which picks and configures one from the settings. */
import type * as pulumi from "@pulumi/pulumi";
import { DEFAULT_CLUSTER_ID, type StackConfig } from "../model/config";
import { childName } from "../model/naming";
import type { Platform } from "../model/spec";
import { stackIngressRules } from "../model/traffic";
import { DockerPlatform } from "./docker";
import { EckPlatform } from "./eck";
import { type EckNaming, eckResourceNames, eckServiceName } from "../model/eckNaming";
import { type DataHomeGuard, KubernetesPlatform } from "./kubernetes";
import { objectName } from "./kubernetesManifests";

export { DockerPlatform, type DockerPlatformArgs, STACK_LABEL } from "./docker";
export { EckPlatform, type EckPlatformArgs } from "./eck";
export { KubernetesPlatform, type KubernetesPlatformArgs, type KubernetesIngress, type DataHome, type DataHomeGuard, type DataHomeKeys, dataHomeRefusal } from "./kubernetes";
export type { EckNaming } from "../model/eckNaming";

/** What the names of a stack on the eck engine come from (components/model/eckNaming.ts). */
export function eckNamingOf(settings: StackConfig, namePrefix?: string): EckNaming {
    return { clusterName: settings.clusterName, instances: settings.names, prefix: namePrefix };
}

/**
 * The Kubernetes Service clients dial for `instance` (a port-forward's target, the host applications in the cluster
 * send logs to): the operator's on the eck engine, `<namePrefix>-<instance>` on manifests. The platforms name their
 * Services with the same functions (EckPlatform.internalHost, KubernetesPlatform.internalHost).
 */
export function kubernetesServiceName(settings: StackConfig, instance: string, namePrefix?: string): string {
    if (settings.kubernetes.engine !== "eck") return objectName({ namespace: settings.kubernetes.namespace, stack: namePrefix ?? settings.clusterName, prefix: namePrefix }, instance);
    return eckServiceName(eckNamingOf(settings, namePrefix), instance);
}

/** The in-cluster host name of `instance`'s Service: `<service>.<namespace>.svc`, as the platforms' `internalHost`. */
export function kubernetesServiceHost(settings: StackConfig, instance: string, namePrefix?: string): string {
    return `${kubernetesServiceName(settings, instance, namePrefix)}.${settings.kubernetes.namespace}.svc`;
}

/**
 * The record that refuses a move of a Kubernetes stack's data (see `dataHomeRefusal`): where the data is now, the
 * config keys that move it, and the claims holding it. Parented to the owning stack and named after it, so that it
 * keeps its URN whatever the engine.
 */
function dataHome(name: string, settings: StackConfig, namePrefix: string | undefined, parent: pulumi.Resource | undefined): DataHomeGuard {
    const k = settings.kubernetes;
    const fq = (key: string) => `${settings.project}:${key}`;
    const eck = k.engine === "eck";
    const elasticsearch = eck
        ? eckResourceNames(eckNamingOf(settings, namePrefix)).elasticsearch
        : objectName({ namespace: k.namespace, stack: namePrefix ?? settings.clusterName, prefix: namePrefix }, settings.names.elasticsearch);
    const prefixed = namePrefix !== undefined ? " (with the stack's namePrefix)" : "";
    return {
        parent,
        recordName: childName(name, "cluster-identity"),
        current: { engine: k.engine, namespace: k.namespace, elasticsearch, cluster: k.clusterId ?? DEFAULT_CLUSTER_ID },
        keys: {
            engine: fq("kubernetesEngine"),
            namespace: fq("kubernetesNamespace"),
            elasticsearch: `${fq(eck ? "clusterName" : "elasticsearchName")}${prefixed}`,
            cluster: fq("kubernetesClusterId"),
        },
    };
}

/** How a stack names what it creates (see components/model/naming.ts). */
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
                        // Custom resources are named after the cluster and the instances, and ECK derives every
                        // object's name from theirs: the prefix keeps two stacks in one namespace apart.
                        objectPrefix: naming.namePrefix,
                        resourcePrefix: name,
                        instances: settings.names,
                        version: settings.elasticVersion,
                        eck: k.eck,
                        kubeconfig: k.kubeconfig,
                        context: k.context,
                        clusterIdentifier: k.clusterId ?? DEFAULT_CLUSTER_ID,
                        dataHome: dataHome(name, settings, naming.namePrefix, opts?.parent),
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
                    clusterIdentifier: k.clusterId ?? DEFAULT_CLUSTER_ID,
                    dataHome: dataHome(name, settings, naming.namePrefix, opts?.parent),
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
