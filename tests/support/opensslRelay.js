// The openssl relay of the tests' real TLS mock (tests/support/opensslRelayClient.ts): it runs the openssl commands a
// jest worker sends it, so that the worker, hundreds of MB, is not forked for each one. One JSON request a line on
// stdin, { id, args, cwd, timeoutMs }; one JSON answer a line on stdout, { id, stdout, stderr, ok, killed, message },
// in the order the commands end (they run concurrently). It ends when its stdin ends: the client closes stdin when it
// has nothing pending, and the pipe closes when the worker dies, when whatever still runs is killed (the relay runs
// in a process group of its own, which a signal to the worker's group does not reach).
"use strict";
const { execFile } = require("child_process");
const readline = require("readline");

// openssl's output here is PEM and text dumps of a few kB. Generous all the same: past it execFile kills the command,
// which would read as a timeout.
const MAX_BUFFER = 64 * 2 ** 20;

function answer(reply) {
    process.stdout.write(JSON.stringify(reply) + "\n");
}

/** The request on `line`, or a string saying what is wrong with it. */
function parse(line) {
    let request;
    try {
        request = JSON.parse(line);
    } catch (error) {
        return { id: null, problem: `not JSON (${error.message})` };
    }
    const id = request !== null && typeof request === "object" && Number.isSafeInteger(request.id) ? request.id : null;
    if (id === null) return { id, problem: "no integer id" };
    const { args, cwd, timeoutMs } = request;
    if (!Array.isArray(args) || args.length === 0 || !args.every((a) => typeof a === "string")) return { id, problem: "args is not a list of strings" };
    if (typeof cwd !== "string") return { id, problem: "cwd is not a string" };
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) return { id, problem: "timeoutMs is not a positive number" };
    return { id, args, cwd, timeoutMs };
}

function run(line) {
    const request = parse(line);
    if (request.problem) {
        // Answered, so that the client fails the request (or, without an id, every request) at once, and on stderr
        // for whoever reads the test's output: a malformed line is a bug in the client.
        const message = `malformed request (${request.problem}): ${line.slice(0, 500)}`;
        process.stderr.write(`opensslRelay: ${message}\n`);
        answer({ id: request.id, stdout: "", stderr: "", ok: false, killed: false, message });
        return;
    }
    const { id, args, cwd, timeoutMs } = request;
    const options = { cwd, encoding: "utf8", timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: MAX_BUFFER };
    const child = execFile("openssl", args, options, (error, stdout, stderr) => {
        running.delete(child);
        answer({ id, stdout, stderr, ok: !error, killed: Boolean(error && error.killed), message: error ? error.message : "" });
    });
    running.add(child);
}

/** The commands that have not ended. */
const running = new Set();

readline
    .createInterface({ input: process.stdin })
    .on("line", run)
    .on("close", () => {
        // Nobody is left to ask for these answers.
        for (const child of running) child.kill("SIGKILL");
    });
// The worker is gone: no answer can reach it, so there is nothing left to do.
process.stdout.on("error", () => process.exit(1));
