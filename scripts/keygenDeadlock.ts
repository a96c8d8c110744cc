/**
 * `npm run test:keygen-deadlock`: the cause of the suite's hang (issue 21), alone. Node.js 20 (seen on 20.20.2)
 * deadlocks when a garbage collection destroys a key generation job while the key it made is being exported as
 * JWK: the job's destructor (`node::crypto::KeyGenJob<...>::~KeyGenJob`, run by the collector from inside
 * `KeyObjectHandle::ExportJWK`) locks the key's mutex, which the export already holds, so the main thread waits on
 * itself for ever and no timer, jest's timeouts included, can fire. tests/support/realTls.ts did exactly this for
 * every key (`generateKeyPairSync`, then `export({ format: "jwk" })` for the OpenSSH form).
 *
 * The script runs that loop in a child node (small young generation, so collections are frequent) and watches it:
 * a child that prints nothing for `--quiet-seconds` while its main thread waits on a futex is deadlocked. With
 * `--from pem` the same keys are read back from PEM first (as realTls.ts now does): no job, no deadlock.
 *
 *   npm run test:keygen-deadlock -- [--from generate|pem] [--keys 20000] [--quiet-seconds 20]
 *
 * Exits 1 when the child deadlocked, 0 when it made every key.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import { parseArgs } from "util";

const LOOP = `
const crypto = require("crypto");
const [from, count] = [process.argv[1], Number(process.argv[2])];
const pems = from === "pem" ? Array.from({ length: 16 }, () => crypto.generateKeyPairSync("rsa", { modulusLength: 512 }).privateKey.export({ type: "pkcs8", format: "pem" })) : [];
for (let i = 1; i <= count; i++) {
    const key = from === "pem" ? crypto.createPrivateKey(pems[i % pems.length]) : crypto.generateKeyPairSync("rsa", { modulusLength: 512 }).privateKey;
    key.export({ format: "jwk" });
    if (i % 250 === 0) console.log(i);
}
`;

/** The system call the process's main thread is in (202 is futex on x86-64), or "" when unreadable. */
function syscallOf(pid: number): string {
    try {
        return fs.readFileSync(`/proc/${pid}/syscall`, "utf8").split(" ")[0];
    } catch {
        return "";
    }
}

function main(): Promise<number> {
    const { values } = parseArgs({ options: { from: { type: "string", default: "generate" }, keys: { type: "string", default: "20000" }, "quiet-seconds": { type: "string", default: "20" } } });
    const from = values.from === "pem" ? "pem" : "generate";
    const keys = Number(values.keys);
    const quietMs = Number(values["quiet-seconds"]) * 1000;
    console.log(`node ${process.version}: ${keys} RSA keys ${from === "pem" ? "read from PEM" : "from generateKeyPairSync"}, each exported as JWK, with frequent garbage collections`);
    const child = spawn(process.execPath, ["--max-semi-space-size=1", "-e", LOOP, from, String(keys)], { stdio: ["ignore", "pipe", "inherit"] });
    let made = 0;
    let lastProgress = Date.now();
    child.stdout.setEncoding("utf8").on("data", (text: string) => {
        made = Number(text.trim().split("\n").pop());
        lastProgress = Date.now();
    });
    return new Promise((resolve) => {
        let deadlocked = false;
        const watch = setInterval(() => {
            if (Date.now() - lastProgress < quietMs) return;
            const call = syscallOf(child.pid as number);
            deadlocked = true;
            console.log(`DEADLOCKED after about ${made} keys: no progress for ${quietMs / 1000} s, main thread in system call ${call || "?"} (202 is futex)`);
            child.kill("SIGKILL");
        }, 1000);
        child.on("close", (code) => {
            clearInterval(watch);
            if (!deadlocked) console.log(code === 0 ? `no deadlock: all ${keys} keys made and exported` : `the child failed (${code})`);
            resolve(deadlocked || code !== 0 ? 1 : 0);
        });
    });
}

void main().then((code) => process.exit(code));
