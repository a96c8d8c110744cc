/**
 * Part of `npm run benchmark`: what the nginx pipeline's grok costs per line on Oniguruma (the engine family of
 * Logstash's Joni), for the captured nginx corpus and for pathological lines: a 10 KB URI, hundreds of quotes,
 * long error lines, and datagrams nobody's nginx would send but anyone can (the UDP port takes any sender).
 *
 * Each line goes through what nginx/10-parse.conf runs: the syslog header grok, then the access or error grok
 * on the payload (whichever its tag picks; lines the header rejects stop there). A line's cost is the median of
 * many runs, so one garbage collection does not make a line look slow; p50, p99 and max are over lines.
 *
 * The budget is 1 ms per line for every line nginx can send: error lines are cut at 2 KB (NGX_MAX_ERROR_STR in
 * src/core/ngx_log.h), access lines are bounded by the request line and headers (8 KB each with nginx's default
 * large_client_header_buffers), so 32 KB covers them. A line over budget is printed and the process exits
 * non-zero. Datagrams up to 64 KB (the udp input's buffer_size) come only from other senders; they are reported
 * beside the cost of handing the same string to Oniguruma at all (a one-character anchored regex), which alone
 * grows with the length.
 */
import * as os from "os";
import { type LogSource, logstashPipelines, nginxErrorTag, parseLogSources } from "../components/model/sources";
import { readNginxCorpus, loadBytes } from "../tests/support/corpora";
import { Grok, RubyRegex, loadOniguruma, readPatternFiles } from "../tests/support/grok";

/** Most a line may cost, in milliseconds. */
export const GROK_BUDGET_MS = 1;

interface Line {
    readonly group: "corpus" | "pathological" | "oversized";
    readonly what: string;
    readonly text: string;
}

/** Lines built from the corpus's own lines, so only the pathological part differs from what nginx sends. */
function pathologicalLines(access: string, error: string, source: LogSource): Line[] {
    const tag = nginxErrorTag(source);
    const ownError = error.replace(" nginx_error: ", ` ${tag}: `);
    const uri = `/${"a/".repeat(5000)}x?${"k=v&".repeat(10)}`;
    const quotes = "\\x22".repeat(400);
    const lines: [string, string][] = [
        ["access, 10 KB URI", access.replace('"/ok?case=ok"', `"${uri}"`)],
        ["access, 10 KB URI, broken at the end (no match)", `${access.replace('"/ok?case=ok"', `"${uri}"`)} "`],
        ["access, 400 escaped quotes in the user agent", access.replace('"elk-test/1.0"', `"${quotes}"`)],
        ["access, 300 bare quotes in the user agent (no match)", access.replace('"elk-test/1.0"', `"${'"'.repeat(300)}"`)],
        ["access, 300 quoted empty fields (no match)", access.replace('"elk-test/1.0"', '"" '.repeat(300).trim())],
        ["error, 2 KB message (nginx's limit)", ownError.replace(/\*5 connect\(\) failed/, `*5 ${"connect() failed ".repeat(120)}`)],
        ["error, 2 KB request line", ownError.replace("GET /upstream/api?", `GET /${"b".repeat(2000)}?`)],
        ["error, 100 fake ', client: ' parts", ownError.replace("connect() failed", `${", client: 1.2.3.4, server: x".repeat(100)} connect() failed`)],
        ["error, 200 fake ', request: \"' parts (no context after)", `${ownError.split(", client:")[0]}${', request: "GET / HTTP/1.1'.repeat(200)}`],
        ["error, 300 quotes in the host", ownError.replace(/host: "[^"]*"/, `host: "${'"'.repeat(300)}"`)],
        ["access, 8 KB URI, user agent and referrer each (~25 KB)", access.replace('"-" "elk-test', `"${"r".repeat(8000)}" "elk-test`).replace('"/ok?case=ok"', `"/${"u".repeat(8000)}"`).replace('"elk-test/1.0"', `"${"A".repeat(8000)}"`)],
    ];
    const oversized: [string, string][] = [
        ["header only, 64 KB of 'a' (no match)", `<190>Nov 23 10:06:03 vm nginx_access ${"a".repeat(65_000)}`],
        ["64 KB of quotes after the access tag (no match)", `<190>Nov 23 10:06:03 vm nginx_access: ${'"'.repeat(65_000)}`],
        ["64 KB of ', client: ' after an error tag", `<187>Nov 23 10:06:03 vm ${tag}: 2026/11/23 10:06:03 [error] 1#1: ${", client: 1.2.3.4".repeat(3800)}`],
        ["64 KB access line (64 KB URI)", access.replace('"/ok?case=ok"', `"/${"u".repeat(64_500)}"`)],
    ];
    return [
        ...lines.map(([what, text]): Line => ({ group: "pathological", what, text })),
        ...oversized.map(([what, text]): Line => ({ group: "oversized", what, text })),
    ];
}

export function percentile(sorted: readonly number[], p: number): number {
    return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Times the nginx groks on the corpus and the pathological lines; prints the figures; returns the lines over budget. */
export async function grokBenchmark(runs = 100): Promise<Line[]> {
    await loadOniguruma();
    const sources = parseLogSources(["nginx:web"]);
    const { files } = logstashPipelines(sources);
    const patterns = readPatternFiles(files.filter((f) => f.path.startsWith("patterns/")).map((f) => ({ name: f.path, content: f.content })));
    const header = new Grok("%{NGINX_SYSLOG}", patterns);
    const access = new Grok("%{NGINX_ACCESS}", patterns);
    const error = new Grok("%{NGINX_ERROR}", patterns);
    const parse = (text: string): boolean => {
        const h = header.match(text);
        if (!h) return false;
        const fields = new Map(h);
        const payload = String(fields.get("[@metadata][elk][payload]") ?? "");
        const appname = String(fields.get("[log][syslog][appname]"));
        if (appname === "nginx_access") return access.match(payload) !== undefined;
        if (appname.startsWith("nginx_error")) return error.match(payload) !== undefined;
        return false;
    };

    const corpus = readNginxCorpus();
    const texts = corpus.datagrams.map((d) => loadBytes(d).toString("latin1"));
    const corpusLines: Line[] = texts.map((text, i) => ({ group: "corpus", what: `datagram ${i + 1}`, text }));
    const okAccess = texts.find((t) => t.includes(" nginx_access: ") && t.includes("case=ok")) as string;
    const upstreamError = texts.find((t) => t.includes(" nginx_error: ") && t.includes("case=upstream")) as string;
    const lines = [...corpusLines, ...pathologicalLines(okAccess, upstreamError, sources[0])];

    // What any regex costs on the same string here: the string crosses into Oniguruma's WebAssembly memory.
    const floor = new RubyRegex("\\Ax");
    // Rounds over all lines, so a burst of load from other processes spreads over every line instead of one.
    for (const line of lines) for (let i = 0; i < 5; i++) parse(line.text); // warm-up
    const samples = lines.map(() => ({ parse: [] as number[], floor: [] as number[], matched: false }));
    const time = (f: () => unknown): number => {
        const t0 = process.hrtime.bigint();
        f();
        return Number(process.hrtime.bigint() - t0) / 1e6;
    };
    for (let round = 0; round < runs; round++) {
        lines.forEach((line, i) => {
            samples[i].parse.push(time(() => (samples[i].matched = parse(line.text))));
            samples[i].floor.push(time(() => floor.exec(line.text)));
        });
    }
    const costs = lines.map((line, i) => {
        const xs = [...samples[i].parse].sort((a, b) => a - b);
        const fl = [...samples[i].floor].sort((a, b) => a - b);
        return { line, ms: percentile(xs, 50), fastest: xs[0], matched: samples[i].matched, floorMs: percentile(fl, 50) };
    });

    const us = (x: number) => (x * 1000).toFixed(1).padStart(9);
    console.log(`\nnginx grok cost per line on Oniguruma (header + access/error grok; a line's cost is the median of ${runs} runs; budget ${GROK_BUDGET_MS} ms up to 32 KB; load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores)`);
    console.log("group          lines    p50 µs    p99 µs    max µs");
    for (const group of ["corpus", "pathological", "oversized"] as const) {
        const ms = costs.filter((c) => c.line.group === group).map((c) => c.ms).sort((a, b) => a - b);
        console.log(`${group.padEnd(14)} ${String(ms.length).padStart(5)} ${us(percentile(ms, 50))} ${us(percentile(ms, 99))} ${us(ms[ms.length - 1])}`);
    }
    console.log("line by line: bytes, matched, median µs, fastest run µs, median µs of a one-character regex on the same string");
    for (const c of costs.filter((x) => x.line.group !== "corpus")) {
        console.log(`  ${`${c.line.group}: ${c.line.what}`.padEnd(72)} ${String(c.line.text.length).padStart(6)} ${String(c.matched).padEnd(5)} ${us(c.ms)} ${us(c.fastest)} ${us(c.floorMs)}`);
    }
    const over = costs.filter((c) => c.line.group !== "oversized" && c.ms > GROK_BUDGET_MS).map((c) => c.line);
    for (const line of over) console.log(`OVER BUDGET: ${line.group} ${line.what}`);
    return over;
}

if (require.main === module) {
    grokBenchmark().then(
        (over) => {
            if (over.length > 0) process.exitCode = 1;
        },
        (e: unknown) => {
            console.error(e);
            process.exit(1);
        },
    );
}
