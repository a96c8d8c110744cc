/**
 * Stack config as the Pulumi CLI resolves it (scripts/cliConfig.ts): the CLI's own cases (pulumi/pulumi v3.248.0
 * sdk/go/common/workspace/project_test.go, test names in the comments) with its messages; how each kind of value
 * reaches the program; every shipped stack file and every example resolved through it, and prod previewed with what
 * the CLI would hand the program; Pulumi.yaml's defaults and the program's, key by key.
 */
import * as fs from "fs";
import * as path from "path";
import { CONFIG_SCHEMA, ConfigError, type ConfigKey, type ConfigKeySchema, parseStackConfig } from "../components/model/config";
import * as os from "os";
import {
    type CliConfigMap,
    IDENTITY_DECRYPTER,
    parseProjectFile,
    parseStackFile,
    placeholderDecrypter,
    projectValues,
    readProjectFile,
    readStackFile,
    resolveStackConfig,
    stackConfigFromTexts,
    stackSettings,
} from "../scripts/cliConfig";
import { declaredReason } from "../scripts/projectFile";
import { ofType, runProgram, stackFileConfig, unwrapSecrets } from "./support/program";

const ROOT = path.join(__dirname, "..");

/** Resolves `stackYaml` for stack "dev" of the project in `projectYaml`, decrypting `secure: X` to X. */
function resolveText(projectYaml: string, stackYaml: string): Record<string, string> {
    const project = parseProjectFile(projectYaml);
    return resolveStackConfig(project, "dev", parseStackFile(stackYaml, project.name).config, IDENTITY_DECRYPTER).values;
}

function message(fn: () => unknown): string {
    try {
        fn();
    } catch (err) {
        return (err as Error).message;
    }
    throw new Error("did not throw");
}

describe("the CLI's resolution, case by case (pulumi/pulumi project_test.go)", () => {
    test("TestStackConfigIsInheritedFromProjectConfig: the stack's value wins, the project's defaults fill in as text", () => {
        const v = resolveText("name: test\nruntime: dotnet\nconfig:\n  instanceSize: t3.micro\n  instanceCount: 20\n  protect: true", "config:\n  test:instanceSize: t4.large");
        expect(v).toEqual({ "test:instanceSize": "t4.large", "test:instanceCount": "20", "test:protect": "true" });
    });

    test("TestNamespacedConfigValuesAreInheritedCorrectly: other namespaces get their values, a list as JSON", () => {
        const v = resolveText('name: test\nruntime: dotnet\nconfig:\n  aws:region: us-west-1\n  pulumi:disable-default-providers: ["*"]\n  instanceSize: t3.micro', "config:\n  test:instanceSize: t4.large");
        expect(v).toEqual({ "aws:region": "us-west-1", "pulumi:disable-default-providers": '["*"]', "test:instanceSize": "t4.large" });
    });

    test("TestLoadingStackConfigWithoutNamespacingTheProject and TestUntypedProjectConfigValuesAreNotValidated", () => {
        expect(resolveText("name: test\nruntime: dotnet\nconfig:\n  aws:region: us-west-1\n  instanceSize: t3.micro", "config:\n  instanceSize: t4.large")["test:instanceSize"]).toBe("t4.large");
        const v = resolveText("name: test\nruntime: dotnet\nconfig:\n  instanceSize: t3.micro\n  aws:region: us-west-1", "config:\n  instanceSize: 9999\n  aws:region: 42");
        expect(v).toEqual({ "aws:region": "42", "test:instanceSize": "9999" });
    });

    test("TestUntypedProjectConfigValuesWithOnlyDefaultOrOnlyValue, ...DoNeedProjectDeclaration, ...ObjectValuesPassedDownToStack", () => {
        expect(resolveText("name: test\nruntime: dotnet\nconfig:\n  instanceSize:\n    default: t3.micro\n  region:\n    value: us-west-1", "config:\n  aws:answer: 42")).toEqual({
            "aws:answer": "42",
            "test:instanceSize": "t3.micro",
            "test:region": "us-west-1",
        });
        expect(resolveText("name: test\nruntime: dotnet\nconfig:\n  createVpc: true", "config:\n  instanceSize: 42")).toEqual({ "test:createVpc": "true", "test:instanceSize": "42" });
        const objects = resolveText("name: test\nruntime: dotnet\nconfig:\n  instanceSize:\n    value:\n      hello: world\n  aws:config:\n    value:\n      region: us-west-1", "config:\n  aws:whatever: 42");
        expect(objects).toEqual({ "aws:config": '{"region":"us-west-1"}', "aws:whatever": "42", "test:instanceSize": '{"hello":"world"}' });
    });

    test.each([
        ["name: test\nruntime: dotnet\nconfig:\n  aws:region:\n    type: string\n    value:\n      region: us-west-1", "Configuration key 'aws:region' is not namespaced by the project and should not define a type"],
        ["name: test\nruntime: dotnet\nconfig:\n  instanceSize:\n    type: string\n    default: t3.micro\n    value: t4.large", "project config 'instanceSize' cannot have both a 'default' and 'value' attribute"],
        ["name: test\nruntime: dotnet\nconfig:\n  instanceSize:\n    type: array\n    default: [t3.micro, t4.large]", "The configuration key 'instanceSize' declares an array but does not specify the underlying type via the 'items' attribute"],
        [
            "name: test\nruntime: dotnet\nconfig:\n  aws:region:\n    default: us-west-1",
            "Configuration key 'aws:region' is not namespaced by the project and should not define a default value. Did you mean to use the 'value' attribute instead of 'default'?",
        ],
        // TestProjectValidationFailsForIncorrectDefaultValueType
        ["name: test\nconfig:\n  instanceSize:\n    type: integer\n    default: hello", "The default value specified for configuration key 'instanceSize' is not of the expected type 'integer'"],
        ["name: test\nconfig:\n  values:\n    type: array\n    items:\n      type: array\n      items:\n        type: string\n    default: [hello]", "The default value specified for configuration key 'values' is not of the expected type 'array<array<string>>'"],
        ["name: test\nconfig:\n  size:\n    type: integer\n    defualt: 3", "project config 'size' has the unknown attribute 'defualt'"],
        ["runtime: nodejs", "project is missing a 'name' attribute"],
    ])("Pulumi.yaml refused: %s", (projectYaml, expected) => {
        expect(message(() => parseProjectFile(projectYaml))).toContain(expected);
    });

    test("TestStackConfigErrorsWhenStackValueIsNotCorrectlyTyped, TestStackConfigIntegerTypeIsCorrectlyValidated", () => {
        const arrays = "name: test\nruntime: dotnet\nconfig:\n  values:\n    type: array\n    items:\n      type: string\n    default: [value]";
        expect(message(() => resolveText(arrays, "config:\n  test:values: someValue\n"))).toBe("Stack 'dev' with configuration key 'values' must be of type 'array<string>'");
        // A list is an object value: it passes; the same list quoted is a string, and refused.
        expect(resolveText(arrays, "config:\n  test:values: [a, b]\n")["test:values"]).toBe('["a","b"]');
        expect(message(() => resolveText(arrays, "config:\n  test:values: '[\"a\"]'\n"))).toBe("Stack 'dev' with configuration key 'values' must be of type 'array<string>'");
        const integer = "name: test\nruntime: dotnet\nconfig:\n  importantNumber:\n    type: integer\n";
        expect(resolveText(integer, "config:\n  test:importantNumber: 20\n")["test:importantNumber"]).toBe("20");
        // strconv.Atoi: text of digits passes, with or without quotes; anything else is refused.
        expect(resolveText(integer, "config:\n  test:importantNumber: '020'\n")["test:importantNumber"]).toBe("020");
        for (const bad of ["hello", "'2.5'", "' 20'", "'1e3'"]) {
            expect(message(() => resolveText(integer, `config:\n  test:importantNumber: ${bad}\n`))).toBe("Stack 'dev' with configuration key 'importantNumber' must be of type 'integer'");
        }
        const object = "name: test\nconfig:\n  tags:\n    type: object\n    default: {team: logs}\n";
        expect(resolveText(object, "")["test:tags"]).toBe('{"team":"logs"}');
        expect(message(() => resolveText(object, "config:\n  tags: logs\n"))).toBe("Stack 'dev' with configuration key 'tags' must be of type 'object'");
        const boolean = "name: test\nconfig:\n  flag:\n    type: boolean\n    default: true\n";
        expect(resolveText(boolean, "config:\n  flag: False\n")["test:flag"]).toBe("false");
        expect(message(() => resolveText(boolean, "config:\n  flag: 'False'\n"))).toBe("Stack 'dev' with configuration key 'flag' must be of type 'boolean'");
    });

    test("TestStackConfigErrorsWhenMissingStackValueForConfigTypeWithNoDefault: one error names every missing key", () => {
        expect(message(() => resolveText("name: test\nruntime: dotnet\nconfig:\n  values:\n    type: array\n    items:\n      type: string", ""))).toBe("Stack 'dev' is missing configuration value 'values'");
        expect(message(() => resolveText("name: test\nconfig:\n  another:\n    type: string\n  values:\n    type: array\n    items:\n      type: string", ""))).toBe(
            "Stack 'dev' is missing configuration values 'another' and 'values'",
        );
        expect(message(() => resolveText("name: test\nconfig:\n  world:\n    type: string\n  hello:\n    type: integer\n  values:\n    type: array\n    items:\n      type: string", ""))).toBe(
            "Stack 'dev' is missing configuration values 'hello', 'values' and 'world'",
        );
    });

    test("TestStackConfigSecretIsCorrectlyValidated: a key declared secret must be encrypted; decrypted, it is checked and marked", () => {
        const secret = "name: test\nruntime: dotnet\nconfig:\n  importantNumber:\n    type: integer\n    secret: true\n";
        const project = parseProjectFile(secret);
        const r = resolveStackConfig(project, "dev", parseStackFile("config:\n  test:importantNumber:\n    secure: '20'\n", "test").config, IDENTITY_DECRYPTER);
        expect(r).toEqual({ values: { "test:importantNumber": "20" }, secretKeys: ["test:importantNumber"] });
        expect(message(() => resolveText(secret, "config:\n  test:importantNumber: 20\n"))).toBe("Stack 'dev' with configuration key 'importantNumber' must be encrypted as it's secret");
        expect(message(() => resolveStackConfig(project, "dev", parseStackFile("config:\n  test:importantNumber:\n    secure: 'x'\n", "test").config, IDENTITY_DECRYPTER))).toBe(
            "Stack 'dev' with configuration key 'importantNumber' must be of type 'integer'",
        );
    });
});

describe("checks without a secrets manager (npm run up's check, npm run render): secure values are not decrypted", () => {
    const PLACEHOLDER = "<secret from the stack config>";
    let dir: string;
    beforeAll(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "elk-cli-config-"));
        fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
    const settingsOf = (stackYaml: string) => {
        fs.writeFileSync(path.join(dir, "Pulumi.t.yaml"), stackYaml);
        const unread: string[] = [];
        return { settings: stackSettings(dir, "t", PLACEHOLDER, (k) => unread.push(k)), unread };
    };

    test("a secure integer, boolean and list entry are accepted, as pulumi up accepts them (it checks the plaintext), and read as not set", () => {
        const { settings, unread } = settingsOf(
            "config:\n  elk-stack:elasticsearchPort:\n    secure: v1:cG9ydA==\n  elk-stack:protectData:\n    secure: v1:dHJ1ZQ==\n  elk-stack:extraCertificateNames:\n    - apm\n    - secure: v1:bmFtZQ==\n",
        );
        expect([...unread].sort()).toEqual(["elasticsearchPort", "extraCertificateNames", "protectData"]);
        expect(settings.ports.elasticsearch).toBe(9200);
        expect(settings.protectData).toBe(false);
        expect(settings.names.extra).toEqual([]);
        // A key the schema keeps secret is read as the placeholder, set and secret, as before.
        expect(settingsOf("config:\n  elk-stack:elasticPassword:\n    secure: v1:cHc=\n").settings.passwordsSet).toEqual(["elasticPassword"]);
    });

    test("what no plaintext could make right is still refused: a whole secure value where a list is declared", () => {
        expect(message(() => settingsOf("config:\n  elk-stack:extraCertificateNames:\n    secure: v1:bGlzdA==\n"))).toBe("Stack 't' with configuration key 'extraCertificateNames' must be of type 'array<string>'");
        // The CLI reads such a value as text, never as a list (config.go validateStackConfigValue: only an object value is parsed).
        const project = readProjectFile(ROOT);
        expect(message(() => resolveStackConfig(project, "dev", parseStackFile("config:\n  extraCertificateNames:\n    secure: '[\"apm\"]'\n", project.name).config, IDENTITY_DECRYPTER))).toBe(
            "Stack 'dev' with configuration key 'extraCertificateNames' must be of type 'array<string>'",
        );
    });

    test("with the plaintext known, the declared type is checked on it, as the CLI does", () => {
        const project = readProjectFile(ROOT);
        const port = (text: string) => parseStackFile(`config:\n  elasticsearchPort:\n    secure: '${text}'\n  protectData:\n    secure: 'true'\n`, project.name).config;
        expect(resolveStackConfig(project, "dev", port("9201"), IDENTITY_DECRYPTER).values["elk-stack:elasticsearchPort"]).toBe("9201");
        expect(message(() => resolveStackConfig(project, "dev", port("x"), IDENTITY_DECRYPTER))).toBe("Stack 'dev' with configuration key 'elasticsearchPort' must be of type 'integer'");
        // A placeholder stands for any plaintext: not refused, and handed on as the placeholder.
        expect(resolveStackConfig(project, "dev", port("x"), placeholderDecrypter(PLACEHOLDER)).values["elk-stack:elasticsearchPort"]).toBe(PLACEHOLDER);
    });
});

describe("how a stack file's values reach the program", () => {
    const project = "name: test\n";

    test("numbers and booleans as their text, lists and maps as Go's JSON (keys sorted, <>& escaped), nothing as null", () => {
        const v = resolveText(project, "config:\n  a: 30\n  b: 1.0\n  c: 2.50\n  d: TRUE\n  e: '0123'\n  f: {z: 1, a: '<&>'}\n  g:\n  h: 0x1F\n  i: 1e3\n  j: [1, true, x]\n  k: |\n    two\n    lines\n");
        expect(v).toEqual({
            "test:a": "30",
            "test:b": "1",
            "test:c": "2.5",
            "test:d": "true",
            "test:e": "0123",
            "test:f": '{"a":"\\u003c\\u0026\\u003e","z":1}',
            "test:g": "null",
            "test:h": "31",
            "test:i": "1000",
            "test:j": '[1,true,"x"]',
            "test:k": "two\nlines\n",
        });
    });

    test("a secure value reaches the program decrypted and listed as secret, in a list too; bare and namespaced keys are one", () => {
        const p = parseProjectFile(project);
        const r = resolveStackConfig(p, "dev", parseStackFile("config:\n  pw:\n    secure: c1\n  test:list: [a, {secure: c2}]\n  aws:region: eu\n", "test").config, (c) => `plain-${c}`);
        expect(r).toEqual({ values: { "aws:region": "eu", "test:list": '["a","plain-c2"]', "test:pw": "plain-c1" }, secretKeys: ["test:list", "test:pw"] });
        expect(message(() => resolveStackConfig(p, "dev", parseStackFile("config:\n  pw:\n    secure: c1\n", "test").config))).toMatch(/holds a secret value for 'test:pw', and no decrypter/);
    });

    test.each([
        ["a: 010", /yaml\.v3\) reads as the integer 8 and YAML 1\.2 as 10: quote it/],
        ["a: 1_000", /reads as the integer 1000 and YAML 1\.2 as "1_000"/],
        ["a: 0b101", /reads as the integer 5/],
        ["a: -0x1F", /reads as the integer -31/],
        ["a: 1152921504606846976", /cannot hold exactly/],
        ["a: -0.0", /cannot hold exactly/],
        ["a: .inf", /Go's JSON encoder refuses infinity and NaN/],
        ["a: !!str 5", /explicit tag/],
        ["a: &x {b: 1}\nc:\n  <<: *x", /merge key/],
        ["a: 1\ntest:a: 2", /sets test:a twice, as 'a' and as 'test:a'/],
        ["a:b:c: 1", /could not parse a:b:c as a configuration key/],
    ])("refused where the CLI's reading is not this one's, or depends on map order: %s", (config, expected) => {
        const text = `config:\n${config
            .split("\n")
            .map((l) => `  ${l}`)
            .join("\n")}\n`;
        expect(message(() => resolveText(project, text))).toMatch(expected);
    });

    test("a test's map is a stack file holding those texts: a declared array's JSON is a list, anything else a string", () => {
        const p = readProjectFile(ROOT);
        const map: CliConfigMap = stackConfigFromTexts(p, { extraCertificateNames: '[ "apm" ]', logSources: '["nginx:web"]', elasticPassword: "p".repeat(20) }, ["elasticPassword"]);
        expect(Object.fromEntries(map)).toEqual({
            "elk-stack:extraCertificateNames": { text: '["apm"]', secure: false, object: true },
            "elk-stack:logSources": { text: '["nginx:web"]', secure: false, object: false },
            "elk-stack:elasticPassword": { text: "p".repeat(20), secure: true, object: false },
        });
        expect(message(() => resolveStackConfig(p, "dev", stackConfigFromTexts(p, { extraCertificateNames: "apm" }), IDENTITY_DECRYPTER))).toBe(
            "Stack 'dev' with configuration key 'extraCertificateNames' must be of type 'array<string>'",
        );
        expect(message(() => resolveStackConfig(p, "dev", stackConfigFromTexts(p, { kibanaPort: "5601.5" }), IDENTITY_DECRYPTER))).toBe("Stack 'dev' with configuration key 'kibanaPort' must be of type 'integer'");
    });
});

describe("Pulumi.yaml and the program: one source of defaults", () => {
    const project = readProjectFile(ROOT);
    const resolveEmpty = () => resolveStackConfig(project, "dev", new Map(), IDENTITY_DECRYPTER);
    const schema = Object.entries(CONFIG_SCHEMA) as [ConfigKey, ConfigKeySchema][];

    test("declares exactly the keys with a default, and no key without one (the CLI would require it)", () => {
        expect([...project.config.keys()].sort()).toEqual(schema.filter(([, s]) => declaredReason(s) === undefined).map(([k]) => k).sort());
        for (const [key, declaration] of project.config) {
            expect({ key, hasDefault: declaration.default !== undefined, secret: declaration.secret ?? false }).toEqual({ key, hasDefault: true, secret: false });
        }
    });

    test.each(schema.filter(([, s]) => s.default !== undefined))("%s: the text the CLI writes in is the program's default, and reads back to it", (key, s) => {
        const expected = typeof s.default === "string" ? s.default : JSON.stringify(s.default);
        const declared = project.config.has(key);
        expect(resolveEmpty().values[`elk-stack:${key}`]).toBe(declared ? expected : undefined);
        const dflt = parseStackConfig({ project: "elk-stack", stack: "dev", get: () => undefined });
        expect(parseStackConfig({ project: "elk-stack", stack: "dev", get: (k) => (k === key ? expected : undefined) })).toEqual(dflt);
    });

    test("with every default written in by the CLI, the program lands where it lands with none", () => {
        const values = projectValues(project, resolveEmpty());
        expect(parseStackConfig({ project: "elk-stack", stack: "dev", get: (k) => values[k] })).toEqual(parseStackConfig({ project: "elk-stack", stack: "dev", get: () => undefined }));
    });
});

describe("every shipped stack file, as the CLI hands it to the program", () => {
    const project = readProjectFile(ROOT);
    const stacks = fs
        .readdirSync(ROOT)
        .map((f) => /^Pulumi\.([^.]+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined && !s.startsWith("e2e-"));

    test("there are the dev, staging and prod stack files", () => {
        expect(stacks.sort()).toEqual(["dev", "prod", "staging"]);
    });

    test.each(stacks)("%s: resolves with Pulumi.yaml's defaults written in, and the program's parser takes it", (stack) => {
        const resolved = resolveStackConfig(project, stack, readStackFile(ROOT, stack, project.name).config);
        // The CLI writes elasticsearchNodeCount's default into every stack that does not set it, prod's too.
        expect(resolved.values["elk-stack:elasticsearchNodeCount"]).toMatch(/^\d+$/);
        const values = projectValues(project, resolved);
        expect(() => parseStackConfig({ project: "elk-stack", stack, get: (k) => values[k], isSecret: () => false })).not.toThrow();
    });

    test("prod previews and updates: the real program, under the mock runtime, with prod's config as the CLI hands it over", async () => {
        const prodFile = stackFileConfig("prod");
        expect(prodFile.elasticsearchNodeCount).toBeUndefined();
        // `pulumi preview --stack prod`: the cluster's spec waits on the certificates, so it is unknown here.
        const preview = await runProgram(prodFile, { stack: "prod", preview: true });
        expect(ofType(preview, "kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch").map((r) => r.name)).toEqual(["elk-prod-es01-elasticsearch"]);
        // `pulumi up --stack prod`: the node sets of the stack file, and no count of its own.
        const up = await runProgram(prodFile, { stack: "prod" });
        const [cluster] = ofType(up, "kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch");
        const nodeSets = (unwrapSecrets(cluster.inputs.spec) as { nodeSets: { name: string; count: number }[] }).nodeSets;
        expect(nodeSets.map((s) => [s.name, s.count])).toEqual([
            ["masters", 3],
            ["hot", 3],
        ]);
    }, 300_000);
});

describe("the examples, as the CLI resolves them", () => {
    const examples = fs.readdirSync(path.join(ROOT, "examples")).filter((d) => fs.existsSync(path.join(ROOT, "examples", d, "Pulumi.yaml")));

    test("there are the consumer, python and yaml examples, each with no stack file of its own", () => {
        expect(examples.sort()).toEqual(["consumer", "python", "yaml"]);
        for (const e of examples) expect(fs.readdirSync(path.join(ROOT, "examples", e)).filter((f) => /^Pulumi\..+\.yaml$/.test(f))).toEqual([]);
    });

    test.each(examples)("%s: its Pulumi.yaml is one the CLI loads; a new stack resolves once it sets what the project requires", (example) => {
        const project = readProjectFile(path.join(ROOT, "examples", example));
        const required = [...project.config].filter(([, d]) => d.default === undefined && d.value === undefined).map(([k]) => k);
        if (required.length === 0) {
            expect(resolveStackConfig(project, "dev", new Map()).secretKeys).toEqual([]);
            return;
        }
        // The YAML example passes its elasticPassword on to the component: the CLI refuses a stack without it, or with it in plain text.
        expect(example).toBe("yaml");
        expect(required).toEqual(["elasticPassword"]);
        expect(message(() => resolveStackConfig(project, "dev", new Map()))).toBe("Stack 'dev' is missing configuration value 'elasticPassword'");
        expect(message(() => resolveStackConfig(project, "dev", stackConfigFromTexts(project, { elasticPassword: "p".repeat(24) }), IDENTITY_DECRYPTER))).toBe(
            "Stack 'dev' with configuration key 'elasticPassword' must be encrypted as it's secret",
        );
        expect(resolveStackConfig(project, "dev", stackConfigFromTexts(project, { elasticPassword: "p".repeat(24) }, ["elasticPassword"]), IDENTITY_DECRYPTER)).toEqual({
            values: { "elk-yaml-consumer:elasticPassword": "p".repeat(24) },
            secretKeys: ["elk-yaml-consumer:elasticPassword"],
        });
    });
});

describe("secret keys in plain text", () => {
    test("the program refuses a password the stack holds in plain text, and takes it encrypted", async () => {
        const password = "correct-horse-battery-staple";
        await expect(runProgram({ elasticPassword: password })).rejects.toThrow(
            "Invalid stack config 'elk-stack:elasticPassword': is in plain text in the stack's config, and it is a secret. Fix: set it encrypted: 'pulumi config set --secret elasticPassword ...' (it is then stored encrypted in Pulumi.dev.yaml)",
        );
        const run = await runProgram({ elasticPassword: password }, { secretKeys: ["elasticPassword"] });
        expect(run.outputs.elasticPassword).toEqual({ value: password, secret: true });
    }, 300_000);

    test("the parser refuses the same wherever it is told which keys are secret", () => {
        const get = (k: string) => (k === "snapshotS3AccessKey" ? "AKIA0000" : undefined);
        expect(() => parseStackConfig({ project: "elk-stack", stack: "dev", get, isSecret: () => false })).toThrow(ConfigError);
        expect(() => parseStackConfig({ project: "elk-stack", stack: "dev", get })).toThrow(/is set, but the snapshot repository is a shared file system/);
    });
});
