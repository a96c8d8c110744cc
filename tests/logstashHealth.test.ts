/**
 * The Logstash health check, run for real with sh and curl against a local HTTP server on 127.0.0.1 that
 * answers like Logstash's `_health_report`: ready only when every pipeline is RUNNING, whatever the overall colour.
 */
import { execFile } from "child_process";
import * as http from "http";
import type { AddressInfo } from "net";
import { logstashHealthCheck } from "../components/model/logstash";

/** A health report in the shape Logstash returns: overall status, and a pipeline indicator per pipeline. */
function report(overall: string, pipelines: Record<string, string>): string {
    const indicators = Object.fromEntries(
        Object.entries(pipelines).map(([id, state]) => [id, { status: overall, symptom: "…", details: { status: { state } } }]),
    );
    return JSON.stringify({ status: overall, indicators: { pipelines: { status: overall, indicators } } }, null, 2);
}

function run(command: string): Promise<number> {
    return new Promise((resolve) => {
        execFile("sh", ["-c", command], { timeout: 15_000 }, (err) => resolve(err ? (typeof err.code === "number" ? err.code : 1) : 0));
    });
}

describe("Logstash health check", () => {
    let server: http.Server;
    let port: number;
    let body = "";

    beforeAll(async () => {
        server = http.createServer((req, res) => {
            if (req.url === "/_health_report") {
                res.writeHead(200, { "content-type": "application/json" });
                res.end(body);
            } else {
                res.writeHead(200).end("{}");
            }
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        port = (server.address() as AddressInfo).port;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    const cases: [string, string, number][] = [
        ["both pipelines running, green", report("green", { nginx: "RUNNING", django: "RUNNING" }), 0],
        // Workers busy for five minutes (Elasticsearch away, the queue filling): red, yet the inputs must keep listening.
        ["both running, red from worker utilisation", report("red", { nginx: "RUNNING", django: "RUNNING" }), 0],
        ["one pipeline still loading", report("yellow", { nginx: "RUNNING", django: "LOADING" }), 1],
        ["one pipeline terminated", report("red", { nginx: "TERMINATED", django: "RUNNING" }), 1],
        ["only one of two pipelines reported", report("green", { nginx: "RUNNING" }), 1],
        ["not JSON at all", "starting", 1],
    ];
    test.each(cases)("%s", async (_name, answer, expected) => {
        body = answer;
        const exit = await run(logstashHealthCheck(2, port).command);
        expect(exit === 0 ? 0 : 1).toBe(expected);
    });

    test("nothing listening: unhealthy and not alive", async () => {
        const closed = http.createServer();
        await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
        const freePort = (closed.address() as AddressInfo).port;
        await new Promise<void>((resolve) => closed.close(() => resolve()));
        const check = logstashHealthCheck(2, freePort);
        expect(await run(check.command)).not.toBe(0);
        // Logstash keeps its liveness probe (only Elasticsearch drops it).
        expect(check.aliveCommand).toEqual(expect.any(String));
        expect(await run(check.aliveCommand as string)).not.toBe(0);
        expect(await run(logstashHealthCheck(2, port).aliveCommand as string)).toBe(0);
    });
});
