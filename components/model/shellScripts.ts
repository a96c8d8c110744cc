/** The shell scripts the containers run (shell/*.sh), the secret files they read, and the keystore start step. */
import * as fs from "fs";
import * as path from "path";
import type * as pulumi from "@pulumi/pulumi";
import { type FileSpec, publicFile, secretFile } from "./spec";
import { PACKAGE_ROOT } from "./packageRoot";

/** Where the stack's shell scripts live: real `.sh` files that shellcheck reads, shipped with the package. */
export const SHELL_DIR = path.join(PACKAGE_ROOT, "shell");

/** The shell scripts the containers run. */
export type ShellScriptName = "bootstrap.sh" | "kibana-setup.sh" | "keystore-start.sh" | "elk-common.sh";

/** The library every script sources from its own directory. */
export const SECRETS_LIBRARY: ShellScriptName = "elk-common.sh";

/** The text of one of the stack's shell scripts. */
export function shellScript(name: ShellScriptName): string {
    return fs.readFileSync(path.join(SHELL_DIR, name), "utf8");
}

/** A script and the library it sources, as files of a container's `dir`. */
export function scriptFiles(dir: string, name: ShellScriptName): FileSpec[] {
    return [publicFile(`${dir}/${name}`, shellScript(name), "0755"), publicFile(`${dir}/${SECRETS_LIBRARY}`, shellScript(SECRETS_LIBRARY))];
}

/** A secret a script reads from a file: its name (a keystore entry, or a body placeholder) and value. */
export interface SecretValue {
    /** Human-readable description, shown in place of the value by `render`. */
    readonly description: string;
    readonly value: pulumi.Input<string>;
}

/** Environment variables that tell a script which secret files to read and where; neither holds a secret. */
export const SECRET_FILES_ENV = { names: "ELK_CONFIDENTIAL", dir: "ELK_CONFIDENTIAL_DIR" } as const;

/** Path of the file that carries the secret `name` in `dir` (the scripts read `elk-secret.NAME`). */
export function secretFilePath(dir: string, name: string): string {
    if (!/^[A-Za-z0-9_.]+$/.test(name)) throw new Error(`secret name '${name}' must be letters, digits, '_' and '.'`);
    return `${dir}/elk-secret.${name}`;
}

/** The secret files (mode 0600, owned by the container's user on Docker) and the environment that names them. */
export function secretFiles(dir: string, secrets: Readonly<Record<string, SecretValue>>): { files: FileSpec[]; env: Record<string, string> } {
    const names = Object.keys(secrets);
    return {
        files: names.map((n) => secretFile(secretFilePath(dir, n), secrets[n].value)),
        env: { [SECRET_FILES_ENV.names]: names.join(" "), [SECRET_FILES_ENV.dir]: dir },
    };
}

/** The services whose image has a keystore that {@link keystoreStart} fills. */
export type KeystoreService = "elasticsearch" | "kibana" | "logstash";

/** Inputs of {@link keystoreStart}. */
export interface KeystoreStartInput {
    readonly service: KeystoreService;
    /** Folder of the start script and of the secret files inside the container. */
    readonly dir: string;
    /** Each keystore entry and its value. */
    readonly secrets: Readonly<Record<string, SecretValue>>;
    /** The image's own entrypoint and command, run once the keystore is filled. */
    readonly command: readonly string[];
    /** What the image runs its entrypoint under (its `tini`, which reaps children and forwards signals). */
    readonly init?: readonly string[];
}

/**
 * The entrypoint, environment and files that fill a service's keystore from secret files before the image's own
 * entrypoint starts it (shell/keystore-start.sh): the service then runs with no secret in its environment or
 * command line.
 */
export function keystoreStart(input: KeystoreStartInput): { entrypoint: string[]; env: Record<string, string>; files: FileSpec[] } {
    const secrets = secretFiles(input.dir, input.secrets);
    return {
        entrypoint: [...(input.init ?? []), "/bin/bash", `${input.dir}/keystore-start.sh`, input.service, ...input.command],
        env: secrets.env,
        files: [...scriptFiles(input.dir, "keystore-start.sh"), ...secrets.files],
    };
}
