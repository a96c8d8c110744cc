/** Stack config: one set of defaults for the CLI and the mock runtime, and errors that name the key and the fix. */
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { CONFIG_SCHEMA, ConfigError, DEFAULT_ELASTIC_VERSION, type ConfigKey, type ConfigKeySchema, parseStackConfig } from "../components/model/config";
import { declaredReason, projectConfigBlock, projectFile } from "../scripts/projectFile";

const parse = (values: Partial<Record<ConfigKey, string>>, stack = "dev") =>
    parseStackConfig({ project: "elk-stack", stack, get: (k) => values[k] });

describe("Pulumi.yaml", () => {
    const file = fs.readFileSync(path.join(__dirname, "..", "Pulumi.yaml"), "utf8");
    const doc = YAML.parse(file) as { name: string; main: string; runtime: { name: string }; config: Record<string, Record<string, unknown>> };

    test("is what `npm run gen:pulumi-yaml` writes from components/model/configSchema.ts", () => {
        expect(file).toBe(projectFile());
    });

    test("declares every key with its type, description and the same default the program applies", () => {
        expect(doc.name).toBe("elk-stack");
        expect(doc.main).toBe("index.ts");
        expect(doc.runtime.name).toBe("nodejs");
        const declared = (Object.entries(CONFIG_SCHEMA) as [string, ConfigKeySchema][]).filter(([, schema]) => declaredReason(schema) === undefined).map(([k]) => k);
        expect(Object.keys(doc.config).sort()).toEqual(declared.sort());
        expect(doc.config).toEqual(projectConfigBlock());
        // The CLI would apply these defaults; the mock runtime applies none. Both must land on the same settings.
        const withCliDefaults: Partial<Record<ConfigKey, string>> = {};
        for (const [k, v] of Object.entries(doc.config)) {
            if (v.default !== undefined) withCliDefaults[k as ConfigKey] = typeof v.default === "string" ? v.default : JSON.stringify(v.default);
        }
        expect(parse(withCliDefaults)).toEqual(parse({}));
        for (const v of Object.values(doc.config)) {
            expect(typeof v.description).toBe("string");
            expect(["string", "integer", "boolean", "array"]).toContain(v.type);
        }
        // A declared key without a default is one the CLI requires; a declared secret with a default would be written
        // in plain text and then refused. So neither is declared (tests/cliConfig.test.ts resolves every stack).
        for (const v of Object.values(doc.config)) {
            expect(v.default).toBeDefined();
            expect(v.secret).toBeUndefined();
        }
        for (const k of ["elasticPassword", "kibanaSystemPassword", "logstashWriterPassword", "logstashPublicHost", "kibanaHeapMb"]) {
            expect(doc.config[k]).toBeUndefined();
            expect(file).toContain(` ${k} (`);
        }
    });
});

describe("docs/configuration.md", () => {
    test("has a row for every config key of the schema, one each, and none for a key that does not exist", () => {
        const page = fs.readFileSync(path.join(__dirname, "..", "docs", "configuration.md"), "utf8");
        // The keys' section only: the outputs' table below it has rows of the same shape.
        const doc = page.slice(page.indexOf("## Configuration"), page.indexOf("\n## ", page.indexOf("## Configuration") + 1));
        // A row's first cell names one key or several (`kibanaCpuMillis` / `kibanaCpuLimitMillis`).
        const rows = [...doc.matchAll(/^\| (`[^|]+) \|/gm)].flatMap((m) => [...m[1].matchAll(/`([A-Za-z0-9]+)`/g)].map((k) => k[1]));
        const keys = Object.keys(CONFIG_SCHEMA);
        expect(rows.filter((r) => !keys.includes(r))).toEqual([]);
        expect(keys.filter((k) => !rows.includes(k))).toEqual([]);
        expect(rows.filter((r, i) => rows.indexOf(r) !== i)).toEqual([]);
    });
});

describe("Pulumi.yaml and logSources", () => {
    test("leaves logSources undeclared, saying why, since the CLI could not type a list of strings and objects", () => {
        const file = fs.readFileSync(path.join(__dirname, "..", "Pulumi.yaml"), "utf8");
        const doc = YAML.parse(file) as { config: Record<string, unknown> };
        expect(doc.config.logSources).toBeUndefined();
        expect(file).toMatch(/^#\s+logSources: Services that send logs: .*\n#\s+Default \["nginx:web","django:app"\]\. Not declared: its entries are strings or objects/m);
        // Unset, the program applies the same default; set with objects, it reads them from the CLI's JSON text.
        expect(parse({}).logSources.map((s) => s.name)).toEqual(["web", "app"]);
        const objects = parse({ logSources: JSON.stringify([{ kind: "nginx", name: "web", errorLevel: "info" }, "django:app"]) }).logSources;
        expect(objects.map((s) => [s.name, s.errorLevel])).toEqual([["web", "info"], ["app", undefined]]);
        expect(() => parse({ logSources: JSON.stringify([{ kind: "nginx", name: "web", errorLevel: "loud" }]) })).toThrow(/'elk-stack:logSources'.*errorLevel "loud".*Fix: use one of nginx's levels/);
    });
});

describe("parseStackConfig", () => {
    test("defaults: docker, the pinned 9.x release, es01/kibana/logstash, loopback ports", () => {
        const c = parse({});
        expect(c.target).toBe("docker");
        expect(c.elasticVersion).toBe(DEFAULT_ELASTIC_VERSION);
        expect(DEFAULT_ELASTIC_VERSION).toMatch(/^9\.\d+\.\d+$/);
        expect(c.names).toEqual({ elasticsearch: "es01", kibana: "kibana", logstash: "logstash", extra: [] });
        expect(c.bindAddress).toBe("127.0.0.1");
        expect(c.ports).toEqual({ elasticsearch: 9200, kibana: 5601, nginxSyslog: 5140 });
        expect(c.environment).toBe("dev");
        expect(c.setMaxMapCount).toBe(true);
    });

    test("typed values are read from strings as the CLI passes them", () => {
        const c = parse({ elasticsearchHeapMb: "1024", elasticsearchMemoryMb: "4096", setMaxMapCount: "false", extraCertificateNames: '["apm","fleet"]' });
        expect(c.elasticsearch).toEqual({ heapMb: 1024, memoryMb: 4096, cpu: { requestMillis: 1000, limitMillis: 2000 }, replicas: 1, storageGb: 30 });
        expect(c.setMaxMapCount).toBe(false);
        expect(c.names.extra).toEqual(["apm", "fleet"]);
    });

    test("the environment comes from the stack name, made fit for a data stream namespace", () => {
        expect(parse({}, "Prod-EU").environment).toBe("prod_eu");
        expect(parse({ environment: "staging" }, "x").environment).toBe("staging");
    });

    const bad: [string, Partial<Record<ConfigKey, string>>, string, RegExp][] = [
        ["unknown target", { target: "swarm" }, "target", /set 'docker' or 'kubernetes'/],
        ["version not pinned", { elasticVersion: "9" }, "elasticVersion", /pin a full version/],
        ["version too old", { elasticVersion: "8.10.0" }, "elasticVersion", /8\.x from 8\.19\.0/],
        ["8.x below 8.18.0, which reaches no 9.x release", { elasticVersion: "8.17.9" }, "elasticVersion", /8\.17\.9 is not supported.*8\.x from 8\.19\.0/],
        ["8.18, which reaches 9.0 but not the 9.x releases after it", { elasticVersion: "8.18.8" }, "elasticVersion", /8\.18\.8 is not supported.*8\.x from 8\.19\.0/],
        ["version too new", { elasticVersion: "10.0.0" }, "elasticVersion", /use a 9\.x release/],
        ["heap larger than memory", { logstashHeapMb: "2048", logstashMemoryMb: "1024" }, "logstashHeapMb", /larger than the memory limit/],
        ["heap leaves no off-heap room", { kibanaHeapMb: "1000", kibanaMemoryMb: "1024" }, "kibanaHeapMb", /at most 75%/],
        ["Elasticsearch heap above half the memory", { elasticsearchHeapMb: "1025", elasticsearchMemoryMb: "2048" }, "elasticsearchHeapMb", /at most 50% of elasticsearchMemoryMb: lower it to 1024 or raise elasticsearchMemoryMb to 2050/],
        ["Elasticsearch heap at 75%, which other services may have", { elasticsearchHeapMb: "1536", elasticsearchMemoryMb: "2048" }, "elasticsearchHeapMb", /more than half of the 2048 MiB limit/],
        ["Elasticsearch heap above 31 GiB", { elasticsearchHeapMb: "32768", elasticsearchMemoryMb: "131072" }, "elasticsearchHeapMb", /compressed object pointers.*at most 31744/],
        ["port taken twice on one protocol", { kibanaPort: "9200" }, "kibanaPort", /already taken by elk-stack:elasticsearchPort, both TCP on 127\.0\.0\.1/],
        ["port out of range", { kibanaPort: "70000" }, "kibanaPort", /from 1 to 65535/],
        ["malformed instance name", { kibanaName: "Kibana!" }, "kibanaName", /DNS label/],
        ["duplicate instance name", { logstashName: "es01" }, "logstashName", /already used by elk-stack:elasticsearchName/],
        ["malformed extra name", { extraCertificateNames: '["ok","-bad"]' }, "extraCertificateNames[1]", /malformed/],
        ["extra names not a list", { extraCertificateNames: "apm" }, "extraCertificateNames", /not a list of strings/],
        ["password too short", { kibanaSystemPassword: "0123456789" }, "kibanaSystemPassword", /at least 16 characters/],
        ["password with control characters", { logstashWriterPassword: "abcdefghijklmnop\n" }, "logstashWriterPassword", /printable ASCII/],
        ["password with the placeholder marker", { elasticPassword: "abc@@defghijklmnop" }, "elasticPassword", /without '@@'/],
        ["boolean that is not", { setMaxMapCount: "yes" }, "setMaxMapCount", /set true or false/],
        ["renewal window longer than validity", { certValidityDays: "30", certRenewBeforeDays: "30" }, "certRenewBeforeDays", /renew some days before/],
        ["bad bind address", { bindAddress: "localhost" }, "bindAddress", /not an IP address/],
        ["bad environment", { environment: "my-env" }, "environment", /no '-'/],
        ["log sources not JSON", { logSources: "nginx:web" }, "logSources", /not a JSON array/],
        ["Django port taken by Kibana on Docker", { logSources: '["django:shop:5601"]' }, "logSources", /already taken by elk-stack:kibanaPort/],
        ["retention of zero days", { logRetentionDays: "0" }, "logRetentionDays", /out of range/],
        ["two Elasticsearch nodes", { target: "kubernetes", elasticsearchNodeCount: "2" }, "elasticsearchNodeCount", /use 1, or 3 and more/],
        ["a cluster on Docker", { elasticsearchNodeCount: "3" }, "elasticsearchNodeCount", /need target kubernetes/],
        ["an Ingress on Docker", { kibanaIngressHost: "kibana.example.com" }, "kibanaIngressHost", /needs target kubernetes/],
    ];
    test("elasticsearchNodeCount next to node sets: its default, which the CLI writes into every stack, is ignored; another count is refused", () => {
        const eck = { target: "kubernetes", elasticsearchNodeSets: '[{"name":"all","count":3}]' };
        for (const count of [undefined, "1", "01"]) expect(parse({ ...eck, elasticsearchNodeCount: count }).elasticsearch.replicas).toBe(3);
        expect(() => parse({ ...eck, elasticsearchNodeCount: "5" })).toThrow(
            "Invalid stack config 'elk-stack:elasticsearchNodeCount': it is 5 next to elk-stack:elasticsearchNodeSets, which counts the nodes itself. Fix: remove elasticsearchNodeCount (its default, 1, is ignored next to node sets) and give each node set its count",
        );
        // An empty list of node sets is the default too: the single set of elasticsearchNodeCount nodes.
        expect(parse({ target: "kubernetes", elasticsearchNodeSets: " [ ] ", elasticsearchNodeCount: "3" }).elasticsearch.replicas).toBe(3);
    });

    test("Elasticsearch heap: exactly half the memory and exactly 31 GiB are accepted", () => {
        expect(parse({ elasticsearchHeapMb: "1024", elasticsearchMemoryMb: "2048" }).elasticsearch.heapMb).toBe(1024);
        expect(parse({ elasticsearchHeapMb: "31744", elasticsearchMemoryMb: "65536" }).elasticsearch.heapMb).toBe(31744);
        // Kibana and Logstash keep the 75% rule: they have no file cache to leave room for.
        expect(parse({ logstashHeapMb: "768", logstashMemoryMb: "1024" }).logstash.heapMb).toBe(768);
    });

    test.each(bad)("%s: names the key and the fix", (_name, values, key, fix) => {
        let err: unknown;
        try {
            parse(values);
        } catch (e) {
            err = e;
        }
        expect(err).toBeInstanceOf(ConfigError);
        const ce = err as ConfigError;
        expect(ce.key).toBe(`elk-stack:${key}`);
        expect(ce.message).toMatch(/Fix: /);
        expect(ce.message).toMatch(fix);
    });
});
