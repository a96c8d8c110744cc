/**
 * The public API is locked by api/elk-stack.api.md, API Extractor's report of every export of the package root.
 * The declarations `npm pack` builds and ships (tests/support/packedLibrary.ts: packed once in the run, for
 * examples.test.ts too) are reported again: the result must be the committed report, so a change to the public API
 * fails here until `npm run api:report` rewrites the report and the change is reviewed.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Extractor, ExtractorConfig, ExtractorLogLevel, type ExtractorMessage } from "@microsoft/api-extractor";
import { packedLibrary } from "./support/packedLibrary";

const ROOT = path.join(__dirname, "..");
const CONFIG = path.join(ROOT, "api-extractor.json");
const REPORT = path.join(ROOT, "api", "elk-stack.api.md");

let work: string;
beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "elk-api-"));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

test("the committed API report is the report of the sources' public API", async () => {
    // The package's declarations, as prepack (`npm run build:lib`) wrote them to dist/ and npm packed them.
    const { packedFrom, files } = await packedLibrary();
    expect(files).toContain("dist/index.d.ts");
    const dts = path.join(packedFrom, "dist");

    // The check itself runs against a copy of the report with one export taken out: API Extractor must call that
    // a changed API (so the comparison is not vacuous), and the report it writes must be the committed one.
    const committed = fs.readFileSync(REPORT, "utf8");
    const tampered = committed.replace(/^export function parseStackConfig\(.*\n/m, "");
    expect(tampered).not.toBe(committed);
    const reportFolder = path.join(work, "report");
    const tempFolder = path.join(work, "temp");
    fs.mkdirSync(reportFolder);
    fs.writeFileSync(path.join(reportFolder, "elk-stack.api.md"), tampered);

    const configObject = ExtractorConfig.loadFile(CONFIG);
    const prepared = ExtractorConfig.prepare({
        configObject: {
            ...configObject,
            mainEntryPointFilePath: path.join(dts, "index.d.ts"),
            apiReport: { enabled: true, reportFileName: "elk-stack", reportFolder, reportTempFolder: tempFolder },
        },
        configObjectFullPath: CONFIG,
        packageJsonFullPath: path.join(ROOT, "package.json"),
    });
    const messages: string[] = [];
    const result = Extractor.invoke(prepared, {
        localBuild: false,
        messageCallback: (m: ExtractorMessage) => {
            if (m.logLevel === ExtractorLogLevel.Error || m.logLevel === ExtractorLogLevel.Warning) messages.push(`${m.logLevel}: ${m.text}`);
            m.handled = true;
        },
    });
    expect(result.apiReportChanged).toBe(true);
    const generated = fs.readFileSync(path.join(tempFolder, "elk-stack.api.md"), "utf8");
    // On failure: the public API changed. Review the change, raise the version accordingly, run `npm run api:report`.
    expect(generated).toBe(committed);
    // A public signature that names a type the root does not export is written into the report, not logged: TypeDoc
    // (`npm run docs:api`) then fails on it.
    expect(generated.match(/\(ae-forgotten-export\).*/g) ?? []).toEqual([]);
    // The only complaint is the tampered report; nothing else (an unexported type in a public signature, say).
    expect(messages).toEqual([expect.stringMatching(/^warning: You have changed the API signature for this project/)]);
}, 180_000);
