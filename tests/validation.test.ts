/**
 * One set of rules for a stack's settings: each rule fails from the stack config (a ConfigError naming the key) and
 * from code (a ResourceError from the ElkStack constructor naming the argument), with the same problem and fix.
 * The constructors run under this file's own mocks; runProgram (which sets its own) is for naming.test.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import { type StackConfig, parseStackConfig } from "../components/model/config";
import { ConfigError } from "../components/model/configError";
import { ElkStack, type ElkStackArgs, checkedPassword } from "../components/resources/elkStack";
import { DockerPlatform } from "../components/targets";
import { type LogSource, parseLogSources } from "../components/model/sources";

// Each constructor that succeeds registers a whole stack, and the SDK formats a stack trace for every promise it
// makes (runtime/debuggable.js `debuggablePromise`), each frame through jest's source maps. Ten frames instead of
// jest's 100 took the file, run alone, from 8.7 to 9.6 s of CPU to 7.2 to 7.7 s; a failure keeps its code frame.
Error.stackTraceLimit = 10;

void pulumi.runtime.setMocks(
    { newResource: (args) => ({ id: `${args.name}-id`, state: args.inputs as Record<string, unknown> }), call: (args) => args.inputs as Record<string, unknown> },
    "elk-stack",
    "dev",
    true,
);

const parse = (config: Record<string, string>, stack = "dev"): StackConfig => parseStackConfig({ project: "elk-stack", stack, get: (k) => config[k] });
const docker = parse({});
const kube = parse({ target: "kubernetes" });

/** What the constructor threw, or undefined. */
function constructing(settings: StackConfig, more: Partial<ElkStackArgs> = {}, name = "logs"): unknown {
    try {
        new ElkStack(name, { settings, ...more });
        return undefined;
    } catch (e) {
        return e;
    }
}

/** A rule, broken from config (`config`) and from code (`code`, on top of the defaults of the config's target). */
interface Rule {
    readonly title: string;
    readonly config: Record<string, string>;
    readonly key: string;
    readonly code: (base: StackConfig) => StackConfig;
    /** More constructor arguments of the code path (a password). */
    readonly more?: Partial<ElkStackArgs>;
    readonly argument: string;
    readonly message: RegExp;
}

const same = (b: StackConfig): StackConfig => b;
/** A Django source as a library caller might build it by hand. */
const django = (name: string, port: number): LogSource => ({ name, kind: "django", port, protocol: "tcp", dataset: `django.${name}`, dataStream: `logs-django.${name}-\${ELK_ENVIRONMENT}` });

const RULES: Rule[] = [
    { title: "bindAddress that is not an address", config: { bindAddress: "abc" }, key: "bindAddress", code: (b) => ({ ...b, bindAddress: "abc" }), argument: "settings.bindAddress", message: /'abc' is not an IP address/ },
    { title: "bindAddress with an octet above 255", config: { bindAddress: "999.1.1.1" }, key: "bindAddress", code: (b) => ({ ...b, bindAddress: "999.1.1.1" }), argument: "settings.bindAddress", message: /'999\.1\.1\.1' is not an IP address/ },
    { title: "logstashPublicHost '::'", config: { logstashPublicHost: "::" }, key: "logstashPublicHost", code: (b) => ({ ...b, logstashPublicHost: "::" }), argument: "settings.logstashPublicHost", message: /unspecified address.*Fix: set the address or name applications dial/ },
    { title: "logstashPublicHost '0.0.0.0'", config: { logstashPublicHost: "0.0.0.0" }, key: "logstashPublicHost", code: (b) => ({ ...b, logstashPublicHost: "0.0.0.0" }), argument: "settings.logstashPublicHost", message: /unspecified address/ },
    { title: "logstashPublicHost '::1' with IPv4 ports", config: { logstashPublicHost: "::1" }, key: "logstashPublicHost", code: (b) => ({ ...b, logstashPublicHost: "0:0:0:0:0:0:0:1" }), argument: "settings.logstashPublicHost", message: /IPv6 loopback.*Fix: set 127\.0\.0\.1 \(or localhost\), or bind the ports to ::1/ },
    { title: "'localhost' as an instance name", config: { elasticsearchName: "localhost" }, key: "elasticsearchName", code: (b) => ({ ...b, names: { ...b.names, elasticsearch: "localhost" } }), argument: "settings.names.elasticsearch", message: /'localhost' cannot name an instance/ },
    { title: "'localhost' as an extra certificate name", config: { extraCertificateNames: '["apm","localhost"]' }, key: "extraCertificateNames[1]", code: (b) => ({ ...b, names: { ...b.names, extra: ["apm", "localhost"] } }), argument: "settings.names.extra[1]", message: /'localhost' cannot name an instance/ },
    {
        title: "a StatefulSet name too long for its pods' revision label",
        config: { target: "kubernetes", elasticsearchName: `es${"x".repeat(51)}` },
        key: "elasticsearchName",
        code: (b) => ({ ...b, target: "kubernetes", names: { ...b.names, elasticsearch: `es${"x".repeat(51)}` } }),
        argument: "settings.names.elasticsearch",
        message: /53 characters: its StatefulSet's pods get the label controller-revision-hash.*at most 52/,
    },
    {
        title: "a Kibana name too long for its headless Service",
        config: { target: "kubernetes", kibanaName: `k${"x".repeat(54)}` },
        key: "kibanaName",
        code: (b) => ({ ...b, target: "kubernetes", names: { ...b.names, kibana: `k${"x".repeat(54)}` } }),
        argument: "settings.names.kibana",
        message: /headless Service name 'kx+-headless' is longer than a DNS label's 63 characters.*at most 54/,
    },
    {
        title: "an ECK resource name the operator's webhook refuses",
        config: { target: "kubernetes", clusterName: `c${"x".repeat(36)}` },
        key: "clusterName",
        code: (b) => ({ ...b, target: "kubernetes", clusterName: `c${"x".repeat(36)}` }),
        argument: "settings.clusterName",
        message: /the elasticsearch resource's name 'cx+' has 37 characters; the operator refuses more than 36.*at most 36/,
    },
    {
        title: "the default namespace",
        config: { target: "kubernetes", kubernetesNamespace: "default" },
        key: "kubernetesNamespace",
        code: (b) => ({ ...b, target: "kubernetes", kubernetes: { ...b.kubernetes, namespace: "default" } }),
        argument: "settings.kubernetes.namespace",
        message: /'default' belongs to the cluster.*set (elk-stack:createNamespace|settings\.kubernetes\.createNamespace) to false/,
    },
    {
        title: "a kube-* namespace",
        config: { target: "kubernetes", kubernetesNamespace: "kube-system" },
        key: "kubernetesNamespace",
        code: (b) => ({ ...b, target: "kubernetes", kubernetes: { ...b.kubernetes, namespace: "kube-system" } }),
        argument: "settings.kubernetes.namespace",
        message: /'kube-system' belongs to the cluster/,
    },
    { title: "a storage class with a line break", config: { storageClass: "fast\nssd" }, key: "storageClass", code: (b) => ({ ...b, kubernetes: { ...b.kubernetes, storageClass: "fast\nssd" } }), argument: "settings.kubernetes.storageClass", message: /"fast\\nssd" is not the name of a StorageClass/ },
    {
        title: "a storage class that is no DNS-1123 subdomain",
        config: { target: "kubernetes", storageClass: "Fast_SSD" },
        key: "storageClass",
        code: (b) => ({ ...b, target: "kubernetes", kubernetes: { ...b.kubernetes, storageClass: "Fast_SSD" } }),
        argument: "settings.kubernetes.storageClass",
        message: /'Fast_SSD' is not the name of a StorageClass: Kubernetes refuses it.*Fix: use the class's name as `kubectl get storageclass` shows it/,
    },
    {
        title: "a snapshot storage class that is no DNS-1123 subdomain",
        config: { target: "kubernetes", snapshotStorageClass: "nfs share" },
        key: "snapshotStorageClass",
        code: (b) => ({ ...b, target: "kubernetes", snapshots: { ...b.snapshots, storageClass: "nfs share" } }),
        argument: "settings.snapshots.storageClass",
        message: /'nfs share' is not the name of a StorageClass/,
    },
    {
        title: "an ingress class that is no DNS-1123 subdomain",
        config: { target: "kubernetes", kibanaIngressHost: "kibana.example.com", ingressClassName: "NGINX" },
        key: "ingressClassName",
        code: (b) => ({ ...b, target: "kubernetes", kubernetes: { ...b.kubernetes, kibanaIngress: { host: "kibana.example.com", className: "NGINX" } } }),
        argument: "settings.kubernetes.kibanaIngress.className",
        message: /'NGINX' is not the name of a IngressClass.*kubectl get ingressclass/,
    },
    {
        title: "an Ingress host with a label longer than 63",
        config: { target: "kubernetes", kibanaIngressHost: `${"k".repeat(64)}.example.com` },
        key: "kibanaIngressHost",
        code: (b) => ({ ...b, target: "kubernetes", kubernetes: { ...b.kubernetes, kibanaIngress: { host: `${"k".repeat(64)}.example.com` } } }),
        argument: "settings.kubernetes.kibanaIngress.host",
        message: /is not a DNS name: its label 'k+' has 64 characters/,
    },
    { title: "elasticVersion with a leading zero", config: { elasticVersion: "09.4.1" }, key: "elasticVersion", code: (b) => ({ ...b, elasticVersion: "09.4.1" }), argument: "settings.elasticVersion", message: /'09\.4\.1' has a leading zero: Elastic tags its images 9\.4\.1.*Fix: write it without leading zeros: 9\.4\.1/ },
    { title: "elasticVersion 9.04.1", config: { elasticVersion: "9.04.1" }, key: "elasticVersion", code: (b) => ({ ...b, elasticVersion: "9.04.1" }), argument: "settings.elasticVersion", message: /has a leading zero.*Fix: write it without leading zeros: 9\.4\.1/ },
    ...["999.999.999.999", "1.2.3", "10.0.0.256", "logs.example.123"].map(
        (host): Rule => ({
            title: `logstashPublicHost '${host}'`,
            config: { logstashPublicHost: host },
            key: "logstashPublicHost",
            code: (b) => ({ ...b, logstashPublicHost: host }),
            argument: "settings.logstashPublicHost",
            message: /is not an IP address .*last label cannot be all digits.*Fix: set the name or address applications dial/,
        }),
    ),
    { title: "bindAddress '::'", config: { bindAddress: "::" }, key: "bindAddress", code: (b) => ({ ...b, bindAddress: "::" }), argument: "settings.bindAddress", message: /'::' is the IPv6 unspecified address: the stack's URLs .* https:\/\/\[::\]:<port>.*no certificate names.*Fix: use 0\.0\.0\.0/ },
    {
        title: "kibanaBindAddress '0:0:0:0:0:0:0:0'",
        config: { kibanaBindAddress: "0:0:0:0:0:0:0:0" },
        key: "kibanaBindAddress",
        code: (b) => ({ ...b, bindAddresses: { ...b.bindAddresses, kibana: "0:0:0:0:0:0:0:0" } }),
        argument: "settings.bindAddresses.kibana",
        message: /IPv6 unspecified address/,
    },
    { title: "a bind address with an IPv6 zone", config: { logstashBindAddress: "fe80::1%eth0" }, key: "logstashBindAddress", code: (b) => ({ ...b, bindAddresses: { ...b.bindAddresses, logstash: "fe80::1%eth0" } }), argument: "settings.bindAddresses.logstash", message: /has an IPv6 zone/ },
    ...["1234567890123456789", '{"password":"abcdefghijkl"}', "[1,2,3,4,5,6,7,8,9,10]", '"quoted-password-1"', " padded-password-1", "padded-password-1 ", "-12345678901234.5e3"].map(
        (pw): Rule => ({
            title: `kibanaSystemPassword ${JSON.stringify(pw)}`,
            config: { kibanaSystemPassword: pw },
            key: "kibanaSystemPassword",
            code: same,
            more: { passwords: { kibanaSystem: pw } },
            argument: "passwords.kibanaSystem",
            message: /kibana-keystore (trims|stores a value that parses as JSON).*Fix: choose a password without spaces at either end that is not a JSON value/,
        }),
    ),
    {
        title: "a Django source on nginx's port",
        config: { logSources: '["nginx:web","django:shop:5140"]' },
        key: "logSources",
        code: (b) => ({ ...b, logSources: [b.logSources[0], django("shop", 5140)] }),
        argument: "settings.logSources",
        message: /entry 2 .* takes port 5140, which is the nginx syslog port/,
    },
    {
        title: "two sources of one name",
        config: { logSources: '["django:shop","django:shop"]' },
        key: "logSources",
        code: (b) => ({ ...b, logSources: [django("shop", 5141), django("shop", 5142)] }),
        argument: "settings.logSources",
        message: /entries 1 and 2 are both named 'shop'/,
    },
    {
        title: "a source name that is no DNS label",
        config: { logSources: '["django:Shop"]' },
        key: "logSources",
        code: (b) => ({ ...b, logSources: [django("Shop", 5141)] }),
        argument: "settings.logSources",
        message: /has name 'Shop', which is not a DNS label/,
    },
    { title: "no source at all", config: { logSources: "[]" }, key: "logSources", code: (b) => ({ ...b, logSources: [] }), argument: "settings.logSources", message: /must be a non-empty list of sources/ },
    {
        title: "duplicate zones",
        config: { target: "kubernetes", elasticsearchZones: '["eu-1a","eu-1b","eu-1a"]' },
        key: "elasticsearchZones[2]",
        code: (b) => ({ ...b, target: "kubernetes", kubernetes: { ...b.kubernetes, eck: { ...b.kubernetes.eck, zones: ["eu-1a", "eu-1b", "eu-1a"] } } }),
        argument: "settings.kubernetes.eck.zones[2]",
        message: /zone 'eu-1a' is listed twice \(entries 0 and 2\); ECK's zoneAwareness\.zones is a set.*Fix: list each zone once/,
    },
    {
        title: "a zone that is no label value",
        config: { target: "kubernetes", elasticsearchZones: '["eu 1"]' },
        key: "elasticsearchZones[0]",
        code: (b) => ({ ...b, target: "kubernetes", kubernetes: { ...b.kubernetes, eck: { ...b.kubernetes.eck, zones: ["eu 1"] } } }),
        argument: "settings.kubernetes.eck.zones[0]",
        message: /'eu 1' is not a label value/,
    },
    {
        title: "Kibana's TCP port on 0.0.0.0 over Elasticsearch's on 127.0.0.1",
        config: { kibanaBindAddress: "0.0.0.0", kibanaPort: "9200" },
        key: "kibanaPort",
        code: (b) => ({ ...b, bindAddresses: { ...b.bindAddresses, kibana: "0.0.0.0" }, ports: { ...b.ports, kibana: 9200 } }),
        argument: "settings.ports.kibana",
        message: /port 9200 is already taken by .*(elasticsearchPort|ports\.elasticsearch), both TCP on 127\.0\.0\.1 and 0\.0\.0\.0/,
    },
    { title: "a malformed cluster name", config: { clusterName: "Bad Name!" }, key: "clusterName", code: (b) => ({ ...b, clusterName: "Bad Name!" }), argument: "settings.clusterName", message: /'Bad Name!' is malformed/ },
    { title: "a renewal window longer than the validity", config: { certValidityDays: "30", certRenewBeforeDays: "40" }, key: "certRenewBeforeDays", code: (b) => ({ ...b, certValidityDays: 30, certRenewBeforeDays: 40 }), argument: "settings.certRenewBeforeDays", message: /40 days is not shorter than .*certValidityDays.*Fix: renew some days before/ },
    { title: "a port out of range", config: { kibanaPort: "70000" }, key: "kibanaPort", code: (b) => ({ ...b, ports: { ...b.ports, kibana: 70000 } }), argument: "settings.ports.kibana", message: /70000 is out of range.*from 1 to 65535/ },
    { title: "a heap that is not a whole number", config: { kibanaHeapMb: "512.5" }, key: "kibanaHeapMb", code: (b) => ({ ...b, kibana: { ...b.kibana, heapMb: 512.5 } }), argument: "settings.kibana.heapMb", message: /not a whole number/ },
    { title: "two Elasticsearch nodes", config: { target: "kubernetes", elasticsearchNodeCount: "2" }, key: "elasticsearchNodeCount", code: (b) => ({ ...b, target: "kubernetes", elasticsearch: { ...b.elasticsearch, replicas: 2 } }), argument: "settings.elasticsearch.replicas", message: /cannot elect a master/ },
];

describe.each(RULES)("$title", (rule) => {
    test("fails from config with a ConfigError naming the key and the fix", () => {
        let error: unknown;
        try {
            parse(rule.config);
        } catch (e) {
            error = e;
        }
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as Error).message).toContain(`Invalid stack config 'elk-stack:${rule.key}': `);
        expect((error as Error).message).toMatch(rule.message);
        expect((error as Error).message).toContain(". Fix: ");
    });

    test("fails from code with a ResourceError naming the argument and the fix", () => {
        const base = rule.config.target === "kubernetes" ? kube : docker;
        const error = constructing(rule.code(base), rule.more);
        expect(pulumi.ResourceError.isInstance(error)).toBe(true);
        expect((error as Error).message).toContain(`ElkStack 'logs': invalid argument '${rule.argument}': `);
        expect((error as Error).message).toMatch(rule.message);
        expect((error as Error).message).toContain(". Fix: ");
    });
});

describe("values each rule still accepts", () => {
    test.each<Record<string, string>>([
        { bindAddress: "0.0.0.0" },
        { bindAddress: "::1", logstashPublicHost: "::1" },
        { logstashPublicHost: "127.0.0.1" },
        { logstashPublicHost: "logs.example.com" },
        { logstashPublicHost: "1.2.3.4" },
        { logstashPublicHost: "logs-1.example.com" },
        { logstashPublicHost: "3com.example" },
        { elasticVersion: "9.0.0" },
        { elasticVersion: "9.10.0" },
        { elasticVersion: "8.19.0" },
        // Kibana's HTTPS is TCP, nginx's syslog UDP: one number, two sockets.
        { kibanaPort: "5140" },
        { nginxSyslogPort: "5601" },
        // One port on two addresses: two sockets.
        { kibanaBindAddress: "127.0.0.2", kibanaPort: "9200" },
        { logstashBindAddress: "192.0.2.10", logSources: '["nginx:web","django:app:5601"]' },
        { target: "kubernetes", storageClass: "fast-ssd.example.com", snapshotStorageClass: "nfs", kibanaIngressHost: "kibana.example.com", ingressClassName: "nginx" },
        { target: "kubernetes", elasticsearchZones: '["eu-1a","eu-1b","eu-1c"]' },
        { kibanaSystemPassword: "null-is-a-prefix-1" },
        { kibanaSystemPassword: "1234567890123456x" },
        { kibanaSystemPassword: "pass word with inner spaces" },
        { target: "kubernetes", kubernetesEngine: "manifests", elasticsearchName: `es${"x".repeat(50)}`, kibanaName: `k${"x".repeat(53)}` },
        // ECK's webhook takes resource names of up to 36 characters (the default engine).
        { target: "kubernetes", clusterName: `c${"x".repeat(35)}`, kibanaName: `k${"x".repeat(35)}`, logstashName: `l${"x".repeat(35)}` },
        { target: "kubernetes", kubernetesNamespace: "default", createNamespace: "false" },
        { target: "kubernetes", kubernetesNamespace: "kube-logging", createNamespace: "false" },
    ])("%j", (config) => {
        expect(() => parse(config)).not.toThrow();
    });

    test("from code too: Kibana on 5140/tcp beside nginx's 5140/udp, and sources built by parseLogSources or by hand", () => {
        expect(constructing({ ...docker, ports: { ...docker.ports, kibana: 5140 } })).toBeUndefined();
        expect(constructing({ ...docker, logSources: parseLogSources(["nginx:web", { kind: "django", name: "shop", port: 5150 }]) })).toBeUndefined();
        expect(constructing({ ...docker, logSources: [django("shop", 5141)] })).toBeUndefined();
    });

    test.each<[string, Partial<LogSource>, RegExp]>([
        ["a Django source over UDP", { protocol: "udp" }, /entry 1 \(django:shop\) has protocol "udp" where its kind and name give "tcp"/],
        ["a Django source without a port", { port: undefined }, /entry 1 \(django:shop\) has port undefined where its kind and name give 5141/],
        ["a dataset of another source", { dataset: "django.other" }, /has dataset "django.other" where its kind and name give "django.shop"/],
        ["an unknown kind", { kind: "apache" as LogSource["kind"] }, /has unknown kind 'apache'/],
    ])("from code, %s is refused with the argument and the fix, not a stack trace later", (_what, change, message) => {
        const error = constructing({ ...docker, logSources: [{ ...django("shop", 5141), ...change }] });
        expect(pulumi.ResourceError.isInstance(error)).toBe(true);
        expect((error as Error).message).toMatch(/^ElkStack 'logs': invalid argument 'settings\.logSources': /);
        expect((error as Error).message).toMatch(message);
        expect((error as Error).message).toContain(". Fix: ");
    });

    test("the name prefix counts towards the Kubernetes name length", () => {
        const settings = { ...kube, names: { ...kube.names, elasticsearch: `es${"x".repeat(40)}` } };
        expect(constructing(settings, { namePrefix: "team-logs-prod" })).toEqual(
            expect.objectContaining({ message: expect.stringMatching(/invalid argument 'settings\.names\.elasticsearch': the Kubernetes name 'team-logs-prod-esx+' has 57 characters/) as unknown }),
        );
    });
});

describe("arguments only code has", () => {
    test("a namePrefix that is not a DNS label", () => {
        expect((constructing(docker, { namePrefix: "Team Logs" }) as Error).message).toMatch(/invalid argument 'namePrefix': 'Team Logs' is not a DNS label. Fix: use 2-63 lowercase/);
    });

    test.each(["::", "0::0", "fe80::1%eth0", "localhost"])("a DockerPlatform built by hand with bind address %j", (address) => {
        let error: unknown;
        try {
            new DockerPlatform(`p-${address.length}`, { namePrefix: "hand", bindAddress: "127.0.0.1", bindAddresses: { kibana: address } });
        } catch (e) {
            error = e;
        }
        expect(pulumi.ResourceError.isInstance(error)).toBe(true);
        expect((error as Error).message).toMatch(new RegExp(`^DockerPlatform 'p-\\d+': bind address '${address.replace(/[.%]/g, "\\$&")}' is .*Fix: use 127\\.0\\.0\\.1, ::1, 0\\.0\\.0\\.0`));
    });

    test("a component name that makes a Kubernetes Job name longer than 63", () => {
        expect((constructing(kube, {}, "x".repeat(38)) as Error).message).toMatch(/invalid argument 'name': .* Job's name 64 characters long.*at most 37 characters/);
        expect(constructing(kube, {}, "x".repeat(37))).toBeUndefined();
    });

    test.each([
        ["LF", "abcdefghijklmnop\nq"],
        ["CR", "abcdefghijklmnop\rq"],
        ["NUL", "abcdefghijklmnop\0q"],
    ])("a password given as a string with %s", (_what, value) => {
        const error = constructing(docker, { passwords: { kibanaSystem: value } });
        expect(pulumi.ResourceError.isInstance(error)).toBe(true);
        expect((error as Error).message).toMatch(/invalid argument 'passwords\.kibanaSystem': the password has control or non-ASCII characters \(CR, LF or NUL: it is written into scripts and keystores\)\. Fix: use printable ASCII/);
    });

    test("a password given as an Output is checked when its value is known", async () => {
        const reported = await new Promise<string>((resolve) => {
            void checkedPassword("passwords.elastic", pulumi.secret("abcdefghijklmnop\r\nq"), (argument, problem, fix) => {
                resolve(`${argument}: ${problem}. Fix: ${fix}`);
                // The constructor's reporter throws a ResourceError here; this one only records what it was given.
                return undefined as never;
            });
        });
        expect(reported).toBe("passwords.elastic: the password has control or non-ASCII characters (CR, LF or NUL: it is written into scripts and keystores). Fix: use printable ASCII characters only");
        const good = await new Promise<unknown>((resolve) => {
            pulumi.output(checkedPassword("passwords.elastic", pulumi.output("abcdefghijklmnopq"), () => resolve("reported") as never)).apply(resolve);
        });
        expect(good).toBe("abcdefghijklmnopq");
    });
});

describe("from config, CR, LF and NUL in a password", () => {
    test.each(["\r", "\n", "\0"])("%j", (c) => {
        expect(() => parse({ elasticPassword: `abcdefghijklmnop${c}` })).toThrow(/'elk-stack:elasticPassword': the password has control or non-ASCII characters \(CR, LF or NUL: it is written into scripts and keystores\)/);
    });
});
