/**
 * Reads secrets of a stack file that Pulumi's passphrase secrets manager encrypted, so that `npm run e2e` can carry a
 * secret of `Pulumi.dev.yaml` into its own stack as a secret (it sets the plaintext with `--secret`, and the run's
 * stack encrypts it under its own passphrase). Read side only; nothing here encrypts.
 *
 * The format, as pulumi/pulumi v3.248.0 writes it:
 *  - pkg/secrets/passphrase/manager.go: the stack file's `encryptionsalt` is `v1:<base64 salt>:<the text "pulumi"
 *    encrypted>`; a passphrase that does not decrypt that text to "pulumi" is incorrect (`symmetricCrypterFromPhraseAndState`).
 *    The passphrase is `PULUMI_CONFIG_PASSPHRASE` when that variable is set at all (even empty), else the content of
 *    the file `PULUMI_CONFIG_PASSPHRASE_FILE` names, trimmed of white space (`readPassphrase`).
 *  - sdk/go/common/resource/config/crypt.go: the key is PBKDF2-SHA256 of the passphrase and the salt, 1,000,000
 *    iterations, 32 bytes (`NewSymmetricCrypterFromPassphrase`); a value is `v1:<base64 nonce>:<base64 AES-256-GCM
 *    ciphertext with its 16-byte tag>` with a 12-byte nonce (`DecryptValue`).
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

/** A secret that cannot be read: no passphrase, an incorrect one, or another secrets provider. */
export class PassphraseError extends Error {}

const ITERATIONS = 1_000_000;
const KEY_BYTES = 32;

function decryptWithKey(key: Buffer, value: string): string {
    const parts = value.split(":");
    if (parts.length !== 3) throw new PassphraseError("bad value");
    if (parts[0] !== "v1") throw new PassphraseError("unknown value version");
    const nonce = Buffer.from(parts[1], "base64");
    const sealed = Buffer.from(parts[2], "base64");
    if (nonce.length !== 12) throw new PassphraseError("bad value: nonce size is incorrect");
    if (sealed.length < 16) throw new PassphraseError("bad value: too short");
    const decipher = crypto.createDecipheriv("aes-256-gcm", key, nonce);
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    try {
        return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]).toString("utf8");
    } catch {
        throw new PassphraseError("message authentication failed");
    }
}

/**
 * A decrypter for the values of a stack file whose `encryptionsalt` is `salt`, or a {@link PassphraseError}
 * "incorrect passphrase" when `passphrase` is not the one the salt was made with.
 */
export function passphraseDecrypter(salt: string, passphrase: string): (ciphertext: string) => string {
    const m = /^v1:([^:]*):(.*)$/.exec(salt);
    if (!m) throw new PassphraseError(salt.startsWith("v1:") ? "malformed state value" : "unknown state version");
    const key = crypto.pbkdf2Sync(Buffer.from(passphrase, "utf8"), Buffer.from(m[1], "base64"), ITERATIONS, KEY_BYTES, "sha256");
    let check: string;
    try {
        check = decryptWithKey(key, m[2]);
    } catch {
        check = "";
    }
    if (check !== "pulumi") throw new PassphraseError("incorrect passphrase");
    return (ciphertext) => decryptWithKey(key, ciphertext);
}

/** Where a passphrase came from, for messages. */
export interface FoundPassphrase {
    readonly passphrase: string;
    readonly source: string;
}

/**
 * The passphrase the Pulumi CLI would use in this environment (`readPassphrase`), else the one `npm run up`
 * generated into `localFile`; undefined when there is none.
 */
export function findPassphrase(env: NodeJS.ProcessEnv, localFile: string): FoundPassphrase | undefined {
    if (env.PULUMI_CONFIG_PASSPHRASE !== undefined) return { passphrase: env.PULUMI_CONFIG_PASSPHRASE, source: "PULUMI_CONFIG_PASSPHRASE" };
    const file = env.PULUMI_CONFIG_PASSPHRASE_FILE;
    if (file !== undefined && file !== "") {
        const abs = path.resolve(file);
        try {
            return { passphrase: fs.readFileSync(abs, "utf8").trim(), source: `PULUMI_CONFIG_PASSPHRASE_FILE (${abs})` };
        } catch (err) {
            throw new PassphraseError(`unable to read PULUMI_CONFIG_PASSPHRASE_FILE ${abs}: ${(err as Error).message}`);
        }
    }
    if (fs.existsSync(localFile)) return { passphrase: fs.readFileSync(localFile, "utf8").trim(), source: `${localFile} (npm run up's)` };
    return undefined;
}

/** What a stack file says about how its secrets are encrypted. */
export interface StackSecrets {
    readonly encryptionSalt?: string;
    readonly secretsProvider?: string;
}

/**
 * A decrypter for the secure values of the stack file `file`, made on first use: the passphrase comes from
 * {@link findPassphrase}. Each problem is a {@link PassphraseError} that says what is missing and what to do.
 */
export function stackFileDecrypter(stack: StackSecrets, file: string, env: NodeJS.ProcessEnv, localPassphraseFile: string): (ciphertext: string, key: string) => string {
    let decrypt: ((ciphertext: string) => string) | undefined;
    return (ciphertext, key) => {
        if (decrypt === undefined) {
            const remove = `or take the secret out of ${path.basename(file)} for the run (a password it leaves out is generated)`;
            if (stack.secretsProvider !== undefined) {
                throw new PassphraseError(`${file} holds ${key} encrypted by the secrets provider ${stack.secretsProvider}, and only passphrase-encrypted secrets can be carried into another stack here: ${remove}`);
            }
            if (stack.encryptionSalt === undefined) {
                throw new PassphraseError(`${file} holds ${key} encrypted, but no encryptionsalt to read it with (it was encrypted for another copy of the file): set it again with 'pulumi config set --secret', ${remove}`);
            }
            const found = findPassphrase(env, localPassphraseFile);
            if (found === undefined) {
                throw new PassphraseError(`${file} holds ${key} encrypted, and there is no passphrase to read it: set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE to the dev stack's passphrase, ${remove}`);
            }
            try {
                decrypt = passphraseDecrypter(stack.encryptionSalt, found.passphrase);
            } catch (err) {
                throw new PassphraseError(`the passphrase from ${found.source} does not open ${file}'s secrets (${(err as Error).message}): give the dev stack's passphrase in PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE, ${remove}`);
            }
        }
        try {
            return decrypt(ciphertext);
        } catch (err) {
            throw new PassphraseError(`${file}: the secret ${key} cannot be decrypted (${(err as Error).message})`);
        }
    };
}
