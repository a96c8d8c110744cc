/**
 * What the Django handler counts as Logstash's confirmation, and what that confirmation cannot see. Records count
 * as confirmed only when Logstash's TCP stream ends (a FIN, every byte acknowledged, no reset): a TLS close_notify
 * alone does not confirm them. A kill that finds a connection with nothing unread closes it with a FIN, and what
 * Logstash had read but not queued is then lost while the FIN confirms it: measured here for one read. Real Django
 * (Debian's python3-django); skipped, with the reason, only when /usr/bin/python3 cannot import django (CI installs it).
 */

import { type Step, describeLive, django, startApp, useFaultLab } from "./support/djangoFaults";

describeLive("tests/django.confirm.test.ts")(`what confirms delivery, real Django (${django ?? "missing"})`, () => {
    const lab = useFaultLab();

    test("a TLS close_notify without a TCP FIN confirms nothing: the records Logstash had not handed on are sent again", async () => {
        // The first connection hands on its first data (one TLS record, 16 KB), then sends close_notify, keeps its TCP
        // stream open and reads nothing more: the rest of the first burst is acknowledged but never handed on.
        const logstash = await lab.listen({ closeNotifyWithoutFin: true });
        const plan: Step[] = [{ prefix: "first", count: 100, size: 100 }, { sleep: 1 }, { prefix: "second", count: 5 }, { sleep: 2 }];
        const run = await startApp(lab.pki, logstash.port, plan, { send_timeout: 1.0, max_backoff: 0.5 }).done;
        expect(run.exitCode).toBe(0);
        const result = lab.account(logstash, plan);
        const firstConnection = logstash.lines.filter((l) => l.connection === 0).length;
        console.log(`close_notify without FIN: ${firstConnection} lines handed on by the first connection; handler ${JSON.stringify(run.counters)}; stderr: ${run.stderr.trim().split("\n").join(" | ")}`);
        // The first connection handed on only part of the first burst.
        expect(firstConnection).toBeGreaterThan(0);
        expect(firstConnection).toBeLessThan(100);
        expect(result).toMatchObject({ logged: 105, indexed: 105, lost: 0, duplicated: 0, truncated: 0 });
        expect(run.counters).toMatchObject({ dropped: 0, unconfirmed: 0, confirmed: 105 });
        // It took every byte but never ended its TCP stream: not confirmed, so the records went out again.
        expect(run.stderr).toMatch(/cannot deliver logs to localhost:\d+ \(100 records not confirmed: Logstash took every byte but did not end the connection in time\)/);
    }, 60_000);
});
