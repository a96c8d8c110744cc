/**
 * The Kubernetes Pod Security Standards, `baseline` and `restricted`, as the Pod Security admission controller checks
 * a pod at the `latest` version: one function per check of k8s.io/pod-security-admission's policy package (tag
 * v0.36.2, Kubernetes 1.36), named after its file (policy/check_*.go), with the same fields, containers (init,
 * regular and ephemeral: policy/visitor.go) and allowed values. The admission controller refuses a pod when any check
 * of the namespace's enforced level or below fails; `privileged` checks nothing. Pods that opt into user namespaces
 * (`hostUsers: false`) get no relaxation here (the 1.35 checks relax runAsNonRoot, runAsUser and procMount for
 * them): stricter than the controller, never kinder.
 */
import type { Container, PodSpec, SecurityContext } from "./eck/pods";

/** A Pod Security Standards level (the `pod-security.kubernetes.io/enforce` label's values). */
export type PodSecurityLevel = "privileged" | "baseline" | "restricted";

/** One failed check. */
export interface PodSecurityViolation {
    /** The check's ID in the policy package (`allowPrivilegeEscalation`, `capabilities_restricted`, ...). */
    readonly check: string;
    readonly level: Exclude<PodSecurityLevel, "privileged">;
    /** Which containers or fields, as the controller words it. */
    readonly detail: string;
}

/** The pod as the checks read it. */
export interface CheckedPod {
    readonly metadata?: { annotations?: Record<string, string>; labels?: Record<string, string> };
    readonly spec: PodSpec;
}

/** visitor.go visitContainers: init containers, containers, ephemeral containers. */
function containersOf(spec: PodSpec): Container[] {
    return [...(spec.initContainers ?? []), ...spec.containers, ...(spec.ephemeralContainers ?? [])];
}
const sc = (c: Container): SecurityContext => c.securityContext ?? {};
const windows = (spec: PodSpec) => spec.os?.name === "windows";
const names = (cs: Container[]) => cs.map((c) => `"${c.name}"`).join(", ");

type Check = { id: string; level: "baseline" | "restricted"; run: (pod: CheckedPod) => string | undefined };

const BASELINE_CAPABILITIES = new Set(["AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"]);
// check_sysctls.go, sysctlsAllowedV1Dot32.
const SAFE_SYSCTLS = new Set([
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
]);
// check_seLinuxOptions.go, selinuxAllowedTypes1_31.
const SELINUX_TYPES = new Set(["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"]);
// check_restrictedVolumes.go: the volume sources restricted allows.
const RESTRICTED_VOLUME_SOURCES = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image", "persistentVolumeClaim", "projected", "secret"];
const validSeccomp = (t: string | undefined) => t === "RuntimeDefault" || t === "Localhost";

const CHECKS: Check[] = [
    // check_windowsHostProcess.go
    {
        id: "windowsHostProcess",
        level: "baseline",
        run: ({ spec }) => {
            const bad = containersOf(spec).filter((c) => sc(c).windowsOptions?.hostProcess === true);
            return bad.length > 0 || spec.securityContext?.windowsOptions?.hostProcess === true ? `hostProcess=true: ${names(bad) || "pod"}` : undefined;
        },
    },
    // check_hostNamespaces.go
    {
        id: "hostNamespaces",
        level: "baseline",
        run: ({ spec }) => {
            const set = [spec.hostNetwork && "hostNetwork=true", spec.hostPID && "hostPID=true", spec.hostIPC && "hostIPC=true"].filter(Boolean);
            return set.length > 0 ? set.join(", ") : undefined;
        },
    },
    // check_privileged.go
    {
        id: "privileged",
        level: "baseline",
        run: ({ spec }) => {
            const bad = containersOf(spec).filter((c) => sc(c).privileged === true);
            return bad.length > 0 ? `containers ${names(bad)} must not set securityContext.privileged=true` : undefined;
        },
    },
    // check_capabilities_baseline.go (replaced by capabilities_restricted at restricted)
    {
        id: "capabilities_baseline",
        level: "baseline",
        run: ({ spec }) => {
            const bad = containersOf(spec).filter((c) => (sc(c).capabilities?.add ?? []).some((x) => !BASELINE_CAPABILITIES.has(x)));
            return bad.length > 0 ? `containers ${names(bad)} add non-default capabilities` : undefined;
        },
    },
    // check_hostPathVolumes.go (replaced by restrictedVolumes at restricted)
    {
        id: "hostPathVolumes",
        level: "baseline",
        run: ({ spec }) => {
            const bad = (spec.volumes ?? []).filter((v) => v.hostPath !== undefined);
            return bad.length > 0 ? `hostPath volumes ${bad.map((v) => v.name).join(", ")}` : undefined;
        },
    },
    // check_hostPorts.go
    {
        id: "hostPorts",
        level: "baseline",
        run: ({ spec }) => {
            const bad = containersOf(spec).filter((c) => (c.ports ?? []).some((p) => (p.hostPort ?? 0) !== 0));
            return bad.length > 0 ? `containers ${names(bad)} use hostPorts` : undefined;
        },
    },
    // check_appArmorProfile.go
    {
        id: "appArmorProfile",
        level: "baseline",
        run: ({ metadata, spec }) => {
            const ok = (t: string | undefined) => t === undefined || t === "RuntimeDefault" || t === "Localhost";
            const bad = containersOf(spec).filter((c) => !ok(sc(c).appArmorProfile?.type));
            const annotations = Object.entries(metadata?.annotations ?? {}).filter(
                ([k, v]) => k.startsWith("container.apparmor.security.beta.kubernetes.io/") && !(v === "" || v === "runtime/default" || v.startsWith("localhost/")),
            );
            return bad.length > 0 || !ok(spec.securityContext?.appArmorProfile?.type) || annotations.length > 0 ? "forbidden AppArmor profile" : undefined;
        },
    },
    // check_seLinuxOptions.go
    {
        id: "seLinuxOptions",
        level: "baseline",
        run: ({ spec }) => {
            const ok = (o: SecurityContext["seLinuxOptions"]) => o === undefined || (SELINUX_TYPES.has(o.type ?? "") && !o.user && !o.role);
            const bad = containersOf(spec).filter((c) => !ok(sc(c).seLinuxOptions));
            return bad.length > 0 || !ok(spec.securityContext?.seLinuxOptions) ? "forbidden securityContext.seLinuxOptions" : undefined;
        },
    },
    // check_procMount_baseline.go (and check_procMount_restricted.go: the same rule)
    {
        id: "procMount",
        level: "baseline",
        run: ({ spec }) => {
            const bad = containersOf(spec).filter((c) => sc(c).procMount !== undefined && sc(c).procMount !== "Default");
            return bad.length > 0 ? `containers ${names(bad)} must not set securityContext.procMount` : undefined;
        },
    },
    // check_seccompProfile_baseline.go (replaced by seccompProfile_restricted at restricted)
    {
        id: "seccompProfile_baseline",
        level: "baseline",
        run: ({ spec }) => {
            const bad = containersOf(spec).filter((c) => sc(c).seccompProfile?.type === "Unconfined");
            return bad.length > 0 || spec.securityContext?.seccompProfile?.type === "Unconfined" ? "seccompProfile type Unconfined" : undefined;
        },
    },
    // check_sysctls.go
    {
        id: "sysctls",
        level: "baseline",
        run: ({ spec }) => {
            const bad = (spec.securityContext?.sysctls ?? []).filter((s) => !SAFE_SYSCTLS.has(s.name));
            return bad.length > 0 ? `forbidden sysctls ${bad.map((s) => s.name).join(", ")}` : undefined;
        },
    },
    // check_hostProbesAndhostLifecycle.go
    {
        id: "hostProbesAndHostLifecycle",
        level: "baseline",
        run: ({ spec }) => {
            const hostOf = (h: Record<string, unknown> | undefined) => {
                const get = (k: string) => ((h?.[k] as { host?: string } | undefined)?.host ?? "") !== "";
                return get("httpGet") || get("tcpSocket");
            };
            const bad = containersOf(spec).filter((c) => [c.livenessProbe, c.readinessProbe, c.startupProbe, c.lifecycle?.postStart, c.lifecycle?.preStop].some(hostOf));
            return bad.length > 0 ? `containers ${names(bad)} use probe or lifecycle hosts` : undefined;
        },
    },
    // check_restrictedVolumes.go
    {
        id: "restrictedVolumes",
        level: "restricted",
        run: ({ spec }) => {
            const bad = (spec.volumes ?? []).filter((v) => !RESTRICTED_VOLUME_SOURCES.some((s) => v[s] !== undefined));
            return bad.length > 0 ? `volumes ${bad.map((v) => `"${v.name}"`).join(", ")} use restricted volume types` : undefined;
        },
    },
    // check_allowPrivilegeEscalation.go
    {
        id: "allowPrivilegeEscalation",
        level: "restricted",
        run: ({ spec }) => {
            if (windows(spec)) return undefined;
            const bad = containersOf(spec).filter((c) => sc(c).allowPrivilegeEscalation !== false);
            return bad.length > 0 ? `containers ${names(bad)} must set securityContext.allowPrivilegeEscalation=false` : undefined;
        },
    },
    // check_runAsNonRoot.go
    {
        id: "runAsNonRoot",
        level: "restricted",
        run: ({ spec }) => {
            const pod = spec.securityContext?.runAsNonRoot;
            const explicit = containersOf(spec).filter((c) => sc(c).runAsNonRoot === false);
            if (pod === false || explicit.length > 0) return `${pod === false ? "pod " : ""}${names(explicit)} must not set securityContext.runAsNonRoot=false`;
            const implicit = containersOf(spec).filter((c) => sc(c).runAsNonRoot === undefined && pod !== true);
            return implicit.length > 0 ? `pod or containers ${names(implicit)} must set securityContext.runAsNonRoot=true` : undefined;
        },
    },
    // check_runAsUser.go
    {
        id: "runAsUser",
        level: "restricted",
        run: ({ spec }) => {
            const bad = containersOf(spec).filter((c) => sc(c).runAsUser === 0);
            return bad.length > 0 || spec.securityContext?.runAsUser === 0 ? `${names(bad) || "pod"} must not set runAsUser=0` : undefined;
        },
    },
    // check_seccompProfile_restricted.go
    {
        id: "seccompProfile_restricted",
        level: "restricted",
        run: ({ spec }) => {
            if (windows(spec)) return undefined;
            const podType = spec.securityContext?.seccompProfile?.type;
            const podSet = podType !== undefined && validSeccomp(podType);
            const explicit = containersOf(spec).filter((c) => sc(c).seccompProfile !== undefined && !validSeccomp(sc(c).seccompProfile?.type));
            if ((podType !== undefined && !podSet) || explicit.length > 0) return "seccompProfile must be RuntimeDefault or Localhost";
            const implicit = containersOf(spec).filter((c) => sc(c).seccompProfile === undefined && !podSet);
            return implicit.length > 0 ? `pod or containers ${names(implicit)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"` : undefined;
        },
    },
    // check_capabilities_restricted.go
    {
        id: "capabilities_restricted",
        level: "restricted",
        run: ({ spec }) => {
            if (windows(spec)) return undefined;
            const missingDrop = containersOf(spec).filter((c) => !(sc(c).capabilities?.drop ?? []).includes("ALL"));
            const adding = containersOf(spec).filter((c) => (sc(c).capabilities?.add ?? []).some((x) => x !== "NET_BIND_SERVICE"));
            const parts = [
                missingDrop.length > 0 ? `containers ${names(missingDrop)} must set securityContext.capabilities.drop=["ALL"]` : "",
                adding.length > 0 ? `containers ${names(adding)} must not add capabilities other than NET_BIND_SERVICE` : "",
            ].filter((p) => p !== "");
            return parts.length > 0 ? parts.join("; ") : undefined;
        },
    },
];

/** Checks a restricted check replaces (its OverrideCheckIDs): at restricted only the stricter one runs. */
const OVERRIDDEN_AT_RESTRICTED = new Set(["capabilities_baseline", "hostPathVolumes", "seccompProfile_baseline"]);

/** Every check of `level` (and the levels below it) the pod fails; none means the admission controller admits it. */
export function podSecurityViolations(pod: CheckedPod, level: PodSecurityLevel): PodSecurityViolation[] {
    if (level === "privileged") return [];
    const checks = CHECKS.filter((c) => c.level === "baseline" || level === "restricted").filter((c) => !(level === "restricted" && OVERRIDDEN_AT_RESTRICTED.has(c.id)));
    return checks.flatMap((c) => {
        const detail = c.run(pod);
        return detail === undefined ? [] : [{ check: c.id, level: c.level, detail }];
    });
}
