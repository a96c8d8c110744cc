/**
 * Stages one of the stack's curl steps (shell/bootstrap.sh, shell/kibana-setup.sh) in a local folder as its
 * container would hold it: the real script and the library it sources, the plan and the body files, and the
 * secret files, so tests run exactly what the container runs.
 */
import * as fs from "fs";
import * as path from "path";
import { BOOTSTRAP_ENV, BOOTSTRAP_SECRETS, type PlanFiles } from "../../components/model/bootstrap";
import { SECRETS_LIBRARY, SECRET_FILES_ENV, secretFilePath, shellScript } from "../../components/model/shellScripts";

/** Writes the script, its library, the plan and the bodies into `dir`; returns the script's path and its ELK_PLAN. */
export function stageCurlStep(dir: string, script: "bootstrap.sh" | "kibana-setup.sh", plan: PlanFiles): { scriptPath: string; planPath: string } {
    fs.mkdirSync(dir, { recursive: true });
    const scriptPath = path.join(dir, script);
    fs.writeFileSync(scriptPath, shellScript(script), { mode: 0o755 });
    fs.writeFileSync(path.join(dir, SECRETS_LIBRARY), shellScript(SECRETS_LIBRARY));
    const planPath = path.join(dir, "plan.tsv");
    fs.writeFileSync(planPath, plan.plan);
    for (const [name, content] of Object.entries(plan.bodies)) fs.writeFileSync(path.join(dir, name), content);
    return { scriptPath, planPath };
}

let counter = 0;

/**
 * Writes each secret as the container gets it (a 0600 file elk-secret.NAME) into a new folder under `dir`, and
 * returns the environment that names them. A value of `undefined` leaves that file out (its name stays listed).
 */
export function writeSecretFiles(dir: string, secrets: Readonly<Record<string, string | undefined>>): { env: Record<string, string>; secretDir: string } {
    counter += 1;
    const secretDir = path.join(dir, `secrets-${process.pid}-${counter}`);
    fs.mkdirSync(secretDir, { mode: 0o700 });
    for (const [name, value] of Object.entries(secrets)) {
        if (value !== undefined) fs.writeFileSync(secretFilePath(secretDir, name), value, { mode: 0o600 });
    }
    return { env: { [SECRET_FILES_ENV.names]: Object.keys(secrets).join(" "), [SECRET_FILES_ENV.dir]: secretDir }, secretDir };
}

/** Stages the bootstrap for `plan` in `dir` and returns a function giving the environment of one run (fresh secret files). */
export function stageBootstrap(
    dir: string,
    plan: PlanFiles,
    target: { readonly url: string; readonly ca: string },
    passwords: { readonly elastic: string; readonly kibanaSystem: string; readonly logstash: string },
): { scriptPath: string; env: () => Record<string, string> } {
    const { scriptPath, planPath } = stageCurlStep(dir, "bootstrap.sh", plan);
    const env = () => ({
        ...writeSecretFiles(dir, {
            [BOOTSTRAP_SECRETS.elasticPassword]: passwords.elastic,
            [BOOTSTRAP_SECRETS.kibanaSystemPassword]: passwords.kibanaSystem,
            [BOOTSTRAP_SECRETS.logstashWriterPassword]: passwords.logstash,
        }).env,
        [BOOTSTRAP_ENV.esUrl]: target.url,
        [BOOTSTRAP_ENV.ca]: target.ca,
        [BOOTSTRAP_ENV.plan]: planPath,
        [BOOTSTRAP_ENV.attempts]: "2",
        [BOOTSTRAP_ENV.interval]: "1",
    });
    return { scriptPath, env };
}
