/**
 * Refreshes the corpora in tests/fixtures/corpora from real programs: nginx (with the generated wiring files) and
 * Django under /usr/bin/python3 (with the generated logging module). The pipeline tests read these files, so
 * they run where nginx or Django are missing; the live tests capture afresh on every run.
 *
 *   npx ts-node --swc scripts/captureCorpora.ts
 */
import * as fs from "fs";
import * as os from "os";
import { nginxErrorTag, parseLogSources } from "../components/model/sources";
import { DJANGO_FIXTURE, type DjangoCorpus, FIXTURE_DIR, NGINX_FIXTURE, type NginxCorpus, storeBytes } from "../tests/support/corpora";
import { DJANGO_RECORDS, captureDjango, systemDjangoVersion } from "../tests/support/djangoScenario";
import { findNginx, runNginxScenario } from "../tests/support/nginxScenario";
import { ipv6LoopbackAvailable } from "../tests/support/syslogCapture";

async function main(): Promise<void> {
    fs.mkdirSync(FIXTURE_DIR, { recursive: true });
    const [nginxSource, djangoSource] = parseLogSources(["nginx:web", "django:shop"]);

    const nginx = findNginx();
    if (!nginx) throw new Error("nginx is not installed (apt-get install nginx)");
    const capturedAt = new Date().toISOString();
    const run = await runNginxScenario(nginx, [nginxSource], { ipv6: await ipv6LoopbackAvailable() });
    if (run.configTest.status !== 0) throw new Error(`nginx -t failed:\n${run.configTest.output}`);
    const nginxCorpus: NginxCorpus = {
        capturedWith: run.version,
        capturedAt,
        hostname: os.hostname(),
        sourceName: nginxSource.name,
        errorTag: nginxErrorTag(nginxSource),
        requests: run.requests,
        datagrams: run.datagrams.map((d) => storeBytes(d.data, d.peer)),
    };
    fs.writeFileSync(NGINX_FIXTURE, `${JSON.stringify(nginxCorpus, null, 2)}\n`);
    console.log(`${NGINX_FIXTURE}: ${nginxCorpus.datagrams.length} datagrams from ${run.version}`);

    const django = systemDjangoVersion();
    if (!django) throw new Error("/usr/bin/python3 cannot import django (apt-get install python3-django)");
    const djangoAt = new Date().toISOString();
    const capture = await captureDjango({ serviceName: djangoSource.name, records: DJANGO_RECORDS, env: { ELK_LOG_LEVEL: "DEBUG" } });
    if (capture.run.exitCode !== 0) throw new Error(`the Django app failed:\n${capture.run.stderr}`);
    const djangoCorpus: DjangoCorpus = {
        capturedWith: django,
        capturedAt: djangoAt,
        hostname: os.hostname(),
        serviceName: djangoSource.name,
        records: DJANGO_RECORDS,
        stream: storeBytes(capture.stream, capture.peer),
    };
    fs.writeFileSync(DJANGO_FIXTURE, `${JSON.stringify(djangoCorpus, null, 2)}\n`);
    console.log(`${DJANGO_FIXTURE}: ${capture.stream.length} bytes from ${django}`);
}

main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
});
