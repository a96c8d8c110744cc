/**
 * Docker containers as hardened as the Kubernetes pods: every capability dropped but what a container needs,
 * no-new-privileges, rotated logs; and a bind address per service, so Logstash can take logs from the LAN while
 * Elasticsearch and Kibana stay on loopback. 0.4.0 set none of these (all default capabilities, unbounded logs, one
 * address for every published port): each test here failed on it.
 */
import { parseStackConfig } from "../components/model/config";
import { DOCKER_DEFAULT_CAPABILITIES, LOG_ROTATION, containerHardening } from "../components/targets/docker";
import { type ProgramRun, type RecordedResource, ofType, runProgram, stackFileConfig, unwrapSecrets } from "./support/program";

const CONTAINER = "docker:index/container:Container";

function named(run: ProgramRun, suffix: string): RecordedResource {
    const found = ofType(run, CONTAINER).filter((c) => c.name.endsWith(`-${suffix}`));
    if (found.length !== 1) throw new Error(`expected one container *-${suffix}, got ${found.map((c) => c.name).join(", ")}`);
    return found[0];
}

describe("Docker hardening of the dev stack", () => {
    let run: ProgramRun;

    beforeAll(async () => {
        run = await runProgram(stackFileConfig("dev"));
    }, 120_000);

    test("the Elastic containers and steps drop every capability and add none", () => {
        for (const name of ["es01", "kibana", "logstash", "bootstrap", "kibana-setup"]) {
            const c = named(run, name);
            expect({ name, capabilities: unwrapSecrets(c.inputs.capabilities) }).toEqual({ name, capabilities: { drops: ["ALL"] } });
        }
    });

    test("the root helper that hands a volume to the service's user keeps CHOWN and FOWNER only, without adding any", () => {
        const owner = named(run, "es01-snapshots-owner");
        const caps = unwrapSecrets(owner.inputs.capabilities) as { drops: string[]; adds?: string[] };
        expect(caps.adds).toBeUndefined();
        const kept = DOCKER_DEFAULT_CAPABILITIES.filter((c) => !caps.drops.includes(c));
        expect(kept).toEqual(["CHOWN", "FOWNER"]);
        expect(caps.drops).toHaveLength(DOCKER_DEFAULT_CAPABILITIES.length - 2);
        expect(owner.inputs.user).toBe("0:0");
        expect(owner.inputs.privileged).toBe(false);
    });

    test("every container runs with no-new-privileges and rotated json-file logs", () => {
        const all = ofType(run, CONTAINER);
        expect(all.length).toBe(7);
        for (const c of all) {
            expect({ name: c.name, securityOpts: c.inputs.securityOpts }).toEqual({ name: c.name, securityOpts: ["no-new-privileges:true"] });
            expect({ name: c.name, driver: c.inputs.logDriver, opts: c.inputs.logOpts }).toEqual({ name: c.name, driver: "json-file", opts: { "max-size": "10m", "max-file": "3" } });
        }
    });

    test("every secret file is readable by its container's process whether or not the provider applies the upload's owner and group, and by no other user", () => {
        /**
         * Linux's check for a process without CAP_DAC_OVERRIDE (every container here drops it): the owner's bits when
         * the uid is the file's, else the group's when the file's group is one of the process's, else the others'
         * (fs/namei.c, acl_permission_check).
         */
        const canRead = (p: { uid: number; gids: number[] }, f: { uid: number; gid: number; mode: number }): boolean => {
            const bits = p.uid === f.uid ? f.mode >> 6 : p.gids.includes(f.gid) ? f.mode >> 3 : f.mode;
            return (bits & 4) !== 0;
        };
        const checked: string[] = [];
        for (const c of ofType(run, CONTAINER).filter((x) => x.inputs.privileged !== true)) {
            const [uid, gid] = String(c.inputs.user).split(":").map(Number);
            const process = { uid, gids: [gid, ...((c.inputs.groupAdds as string[] | undefined) ?? []).map(Number)] };
            const uploads = (unwrapSecrets(c.inputs.uploads) ?? []) as { file: string; permissions: string; owner: string; group: string }[];
            for (const u of uploads.filter((x) => /\/elk-secret\.|\.key$/.test(x.file))) {
                const mode = parseInt(u.permissions, 8);
                // As asked, and as the provider leaves it when it ignores owner and group: the tar header's 0:0.
                for (const [fileUid, fileGid] of [[Number(u.owner), Number(u.group)], [0, 0]]) {
                    expect({ container: c.name, file: u.file, fileUid, fileGid, readable: canRead(process, { uid: fileUid, gid: fileGid, mode }) }).toEqual({ container: c.name, file: u.file, fileUid, fileGid, readable: true });
                }
                expect({ file: u.file, others: mode & 0o007 }).toEqual({ file: u.file, others: 0 });
                checked.push(`${c.name.replace(/^elk-dev-/, "")}:${u.file.slice(u.file.lastIndexOf("/") + 1)}`);
            }
        }
        // Keys and passwords of every service and step that reads any.
        expect(checked).toEqual(expect.arrayContaining(["es01:es01.key", "es01:elk-secret.bootstrap.password", "kibana:elk-secret.elasticsearch.password", "logstash:elk-secret.ELK_LOGSTASH_PASSWORD", "logstash:logstash.pkcs8.key", "bootstrap:elk-secret.elastic"]));
        expect(named(run, "logstash").inputs).toMatchObject({ user: "1000:1000", groupAdds: ["0"] });
        expect(named(run, "es01").inputs).toMatchObject({ user: "1000:0" });
        expect(named(run, "es01").inputs.groupAdds).toBeUndefined();
    });

    test("the privileged sysctl step gets no capability lists (privileged overrides them) but the rest of the hardening", () => {
        const sysctl = named(run, "sysctl");
        expect(sysctl.inputs.privileged).toBe(true);
        expect(sysctl.inputs.capabilities).toBeUndefined();
        expect(containerHardening("privileged")).toEqual({ securityOpts: ["no-new-privileges:true"], logDriver: LOG_ROTATION.driver, logOpts: { "max-size": "10m", "max-file": "3" } });
    });
});

describe("a bind address per service", () => {
    const source = (values: Record<string, string>) => ({ project: "elk-stack", stack: "dev", get: (k: string) => values[k] });

    test("each service's address defaults to bindAddress", () => {
        const c = parseStackConfig(source({ bindAddress: "10.1.2.3" }));
        expect(c.bindAddresses).toEqual({ elasticsearch: "10.1.2.3", kibana: "10.1.2.3", logstash: "10.1.2.3" });
        expect(parseStackConfig(source({})).bindAddresses).toEqual({ elasticsearch: "127.0.0.1", kibana: "127.0.0.1", logstash: "127.0.0.1" });
    });

    test.each(["elasticsearchBindAddress", "kibanaBindAddress", "logstashBindAddress"])("%s must be an IP address, named in the error", (key) => {
        expect(() => parseStackConfig(source({ [key]: "my-laptop" }))).toThrow(new RegExp(`elk-stack:${key}.*not an IP address`));
    });

    test("Logstash on the LAN, Elasticsearch and Kibana on loopback: each published port binds its own address", async () => {
        const run = await runProgram({ ...stackFileConfig("dev"), logstashBindAddress: "0.0.0.0" });
        const ports = (suffix: string) => ((named(run, suffix).inputs.ports as { ip: string; external: number }[] | undefined) ?? []).map((p) => `${p.ip}:${p.external}`);
        expect(ports("es01")).toEqual(["127.0.0.1:9200"]);
        expect(ports("kibana")).toEqual(["127.0.0.1:5601"]);
        expect(ports("logstash").sort()).toEqual(["0.0.0.0:5140", "0.0.0.0:5141"]);
        expect(run.outputs.elasticsearchUrl.value).toBe("https://localhost:9200");
    }, 120_000);
});
