/**
 * The Django logging module is a real Python file (wiring/django_logging.py): Python's own tools check it, as
 * kept in the repository and as rendered with awkward values, with the interpreter app teams run (Debian's
 * /usr/bin/python3) and Debian's pyflakes3. CI installs both (ELK_REQUIRE_LIVE_TOOLS=1: missing is a failure).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DJANGO_MODULE_PATH, djangoLoggingModule } from "../components/model/wiring";

const tool = (file: string) => (fs.existsSync(file) ? file : undefined);
const python = tool("/usr/bin/python3");
const pyflakes = tool("/usr/bin/pyflakes3");
if (process.env.ELK_REQUIRE_LIVE_TOOLS === "1" && (!python || !pyflakes)) throw new Error("ELK_REQUIRE_LIVE_TOOLS=1 but /usr/bin/python3 or /usr/bin/pyflakes3 is missing");
if (!python || !pyflakes) console.warn("SKIPPED tests/djangoModule.test.ts: needs /usr/bin/python3 and pyflakes3 (apt-get install pyflakes3)");
const testTools = python && pyflakes ? test : test.skip;

describe("wiring/django_logging.py", () => {
    let dir: string;
    beforeAll(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "elk-pymodule-"));
        fs.copyFileSync(DJANGO_MODULE_PATH, path.join(dir, "as_kept.py"));
        fs.writeFileSync(
            path.join(dir, "as_rendered.py"),
            djangoLoggingModule({ host: "logstash.example", port: 6123, serviceName: "billing-api", caPath: "/etc/app's \"ca\" \\ dir/ca.crt\u2028" }),
        );
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    testTools("byte-compiles, as kept and as rendered", () => {
        execFileSync(python as string, ["-m", "py_compile", "as_kept.py", "as_rendered.py"], { cwd: dir, timeout: 20_000, stdio: ["ignore", "pipe", "pipe"] });
        expect(fs.readdirSync(path.join(dir, "__pycache__")).length).toBe(2);
    });

    testTools("has no pyflakes3 finding, as kept and as rendered", () => {
        // pyflakes exits non-zero and prints the findings when there are any; none expected.
        const out = execFileSync(pyflakes as string, ["as_kept.py", "as_rendered.py"], { cwd: dir, timeout: 20_000, encoding: "utf8" });
        expect(out).toBe("");
    });

    testTools("parses with the Python 3.8 grammar docs/app-teams.md promises", () => {
        const out = execFileSync(python as string, ["-c", "import ast, sys\nast.parse(open(sys.argv[1], encoding='utf-8').read(), feature_version=(3, 8))\nprint('ok')", "as_kept.py"], {
            cwd: dir,
            encoding: "utf8",
            timeout: 20_000,
        });
        expect(out.trim()).toBe("ok");
    });

    testTools("renders the values exactly, whatever characters they hold", () => {
        const out = execFileSync(python as string, ["-c", "import json, as_rendered as m\nprint(json.dumps(m.RENDERED))"], {
            cwd: dir,
            env: { PATH: process.env.PATH ?? "", PYTHONPATH: dir },
            encoding: "utf8",
            timeout: 20_000,
        });
        expect(JSON.parse(out)).toEqual({ host: "logstash.example", port: 6123, ca_file: "/etc/app's \"ca\" \\ dir/ca.crt\u2028", service: "billing-api" });
    });
});
