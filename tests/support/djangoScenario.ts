/**
 * Runs a real Django (Debian's python3-django, imported by /usr/bin/python3) whose settings import the generated
 * `LOGGING`, logs records of every level through it, and captures what reaches "Logstash": a TLS server on
 * 127.0.0.1 with a certificate for `localhost` from a throw-away CA made with the openssl CLI.
 */
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DJANGO_ENV, djangoLoggingModule } from "../../components/model/wiring";
import { startTlsCapture, waitFor } from "./syslogCapture";

/** The Python that has Django (Debian installs it for the system interpreter, not for pyenv's). */
export const SYSTEM_PYTHON = "/usr/bin/python3";

/** One record the test app logs. */
export interface DjangoRecord {
    readonly logger: string;
    readonly level: "DEBUG" | "INFO" | "WARNING" | "ERROR" | "CRITICAL";
    readonly message: string;
    /** Log with `logger.exception` while handling `ValueError(exception)`: the traceback joins the message. */
    readonly exception?: string;
}

/** Every level, non-ASCII text, '#' before digits, line breaks, a traceback and SD characters that need escaping. */
export const DJANGO_RECORDS: readonly DjangoRecord[] = [
    { logger: "shop.cache", level: "DEBUG", message: "cache miss for key=42" },
    { logger: "shop.orders", level: "INFO", message: "Bestellung #123 angelegt – Grüße aus Köln 🎉" },
    { logger: "shop.inventory", level: "WARNING", message: "stock low: 3 left of «Süßes»" },
    { logger: "shop.payments", level: "ERROR", message: "payment declined; the text #012 here is literal, not a newline" },
    { logger: "django.db.backends", level: "CRITICAL", message: "database unreachable: 接続できません" },
    { logger: "shop.report", level: "INFO", message: "line one\nline two\n\ttabbed line three" },
    { logger: 'shop.odd"name]\\x', level: "WARNING", message: "a logger name with a quote, a bracket and a backslash" },
    { logger: "django.request", level: "ERROR", message: "Internal Server Error: /checkout/ — ½ price", exception: "ungültiger Betrag: “12,5”" },
];

/** Python levels to RFC 5424 severities, as the handler maps them. */
export const SEVERITY_OF: Readonly<Record<DjangoRecord["level"], number>> = { DEBUG: 7, INFO: 6, WARNING: 4, ERROR: 3, CRITICAL: 2 };

/** The Django version /usr/bin/python3 imports, or undefined when there is none. */
export function systemDjangoVersion(): string | undefined {
    if (!fs.existsSync(SYSTEM_PYTHON)) return undefined;
    try {
        return execFileSync(SYSTEM_PYTHON, ["-c", "import django, sys; print('Django %s, Python %s' % (django.get_version(), sys.version.split()[0]))"], {
            encoding: "utf8",
            timeout: 20_000,
            stdio: ["ignore", "pipe", "ignore"],
        }).trim();
    } catch {
        return undefined;
    }
}

/** PEM files of a throw-away CA and a server certificate for `names` (DNS) and 127.0.0.1, in `dir`. */
export interface TestPki {
    readonly caCertPath: string;
    readonly caCert: string;
    readonly serverKey: string;
    readonly serverCert: string;
}

/** Makes a CA and a server certificate signed by it with the openssl CLI (EC P-256, one day). */
export function makeTestPki(dir: string, names: readonly string[], label = "elk-test"): TestPki {
    const run = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"], timeout: 30_000 });
    run(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key"]);
    run(["req", "-x509", "-new", "-key", "ca.key", "-subj", `/CN=${label} CA`, "-days", "1", "-out", "ca.crt", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
    run(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "server.key"]);
    run(["req", "-new", "-key", "server.key", "-subj", `/CN=${names[0]}`, "-out", "server.csr"]);
    const san = [...names.map((n) => `DNS:${n}`), "IP:127.0.0.1"].join(",");
    fs.writeFileSync(path.join(dir, "server.ext"), `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
    run(["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "1", "-extfile", "server.ext", "-out", "server.crt"]);
    const read = (f: string) => fs.readFileSync(path.join(dir, f), "utf8");
    return { caCertPath: path.join(dir, "ca.crt"), caCert: read("ca.crt"), serverKey: read("server.key"), serverCert: read("server.crt") };
}

const SETTINGS = `SECRET_KEY = "elk-stack test only"
INSTALLED_APPS = []
USE_TZ = True
from django_logging import LOGGING  # noqa: E402,F401  the module under test
`;

const EMIT = `import json, logging, sys
import django

django.setup()
for record in json.load(open(sys.argv[1], encoding="utf-8")):
    logger = logging.getLogger(record["logger"])
    if record.get("exception"):
        try:
            raise ValueError(record["exception"])
        except ValueError:
            logger.exception(record["message"])
    else:
        logger.log(getattr(logging, record["level"]), record["message"])
print("logged %d records" % len(json.load(open(sys.argv[1], encoding="utf-8"))))
`;

/** How the app process ended. */
export interface DjangoRun {
    readonly exitCode: number | null;
    readonly stdout: string;
    readonly stderr: string;
    readonly elapsedMs: number;
}

/**
 * Writes the generated module (for `serviceName`, pointing at `host:port` with `caPath`), a settings module that
 * imports its LOGGING, and a script that runs `django.setup()` and logs `records`; runs it with /usr/bin/python3
 * (killed after `timeoutMs`). Environment overrides go to the app, e.g. ELK_LOG_LEVEL.
 */
export async function runDjangoApp(opts: {
    serviceName: string;
    host: string;
    port: number;
    caPath: string;
    records: readonly DjangoRecord[];
    env?: Record<string, string>;
    timeoutMs?: number;
}): Promise<DjangoRun> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "elk-django-"));
    try {
        fs.writeFileSync(path.join(dir, "django_logging.py"), djangoLoggingModule({ host: opts.host, port: opts.port, serviceName: opts.serviceName, caPath: opts.caPath }));
        fs.writeFileSync(path.join(dir, "elk_test_settings.py"), SETTINGS);
        fs.writeFileSync(path.join(dir, "emit.py"), EMIT);
        fs.writeFileSync(path.join(dir, "records.json"), JSON.stringify(opts.records));
        // Only what the app needs: no ELK_* from the developer's shell leaks into the test.
        const env: Record<string, string> = {
            PATH: process.env.PATH ?? "/usr/bin:/bin",
            PYTHONPATH: dir,
            PYTHONIOENCODING: "utf-8",
            DJANGO_SETTINGS_MODULE: "elk_test_settings",
            ...opts.env,
        };
        for (const name of Object.values(DJANGO_ENV)) if (!(name in (opts.env ?? {}))) delete env[name];
        const started = Date.now();
        return await new Promise<DjangoRun>((resolve) => {
            const child = spawn(SYSTEM_PYTHON, ["emit.py", "records.json"], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
            child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
            const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
            child.once("close", (exitCode) => {
                clearTimeout(timer);
                resolve({ exitCode, stdout, stderr, elapsedMs: Date.now() - started });
            });
        });
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** What reached the TLS listener while the app ran. */
export interface DjangoCapture {
    readonly run: DjangoRun;
    readonly stream: Buffer;
    readonly peer: string;
    readonly connections: number;
    readonly handshakeErrors: readonly string[];
}

/**
 * Starts a TLS listener for `localhost` (certificate from a fresh CA), runs the app against it with the CA the
 * app should trust (`trustCaPath`, the listener's own CA by default) and returns the bytes received.
 */
export async function captureDjango(opts: {
    serviceName: string;
    records: readonly DjangoRecord[];
    env?: Record<string, string>;
    /** Use another CA for the app, to prove it refuses a certificate it cannot verify. */
    foreignCa?: boolean;
    timeoutMs?: number;
}): Promise<DjangoCapture> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "elk-pki-"));
    try {
        const pki = makeTestPki(dir, ["localhost"]);
        let caPath = pki.caCertPath;
        if (opts.foreignCa) {
            const other = path.join(dir, "other");
            fs.mkdirSync(other);
            caPath = makeTestPki(other, ["localhost"], "foreign").caCertPath;
        }
        const server = await startTlsCapture({ key: pki.serverKey, cert: pki.serverCert });
        try {
            const run = await runDjangoApp({ serviceName: opts.serviceName, host: "localhost", port: server.port, caPath, records: opts.records, env: opts.env, timeoutMs: opts.timeoutMs });
            // The app flushed before exiting; give the last bytes a moment to be read on our side.
            await waitFor(() => server.connections.every((c) => c.ended), 2000, "the app's connection to close").catch(() => undefined);
            return {
                run,
                stream: server.bytes(),
                peer: server.connections[0]?.peer ?? "",
                connections: server.connections.length,
                handshakeErrors: [...server.handshakeErrors],
            };
        } finally {
            await server.close();
        }
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
