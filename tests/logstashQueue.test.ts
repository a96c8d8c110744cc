/**
 * The durability of Logstash's persistent queue, as a stack config key: `logstashQueueCheckpointWrites` becomes
 * `queue.checkpoint.writes` on every pipeline in pipelines.yml (logstash-core reads it per pipeline:
 * lib/logstash/settings.rb, PIPELINE_SETTINGS_WHITE_LIST). Logstash's default is 1024 (lib/logstash/environment.rb):
 * up to that many accepted events are not yet fsynced when the host crashes (docs/app-teams.md, the delivery contract).
 */
import YAML from "yaml";
import { ConfigError, parseStackConfig } from "../components/model/config";
import { DEFAULT_QUEUE_CHECKPOINT_WRITES, pipelinesYml } from "../components/model/logstash";
import { logstashPipelines, parseLogSources } from "../components/model/sources";

const parse = (values: Record<string, string>) => parseStackConfig({ project: "elk-stack", stack: "dev", get: (k) => values[k] });
const entries = (checkpointWrites?: number) =>
    YAML.parse(pipelinesYml(logstashPipelines(parseLogSources(["nginx:web", "django:shop"])).pipelines, checkpointWrites)) as Record<string, unknown>[];

describe("logstashQueueCheckpointWrites", () => {
    test("defaults to Logstash's own 1024, on every pipeline", () => {
        expect(DEFAULT_QUEUE_CHECKPOINT_WRITES).toBe(1024);
        expect(parse({}).logstashQueueCheckpointWrites).toBe(1024);
        expect(entries().map((e) => [e["pipeline.id"], e["queue.type"], e["queue.checkpoint.writes"]])).toEqual([
            ["nginx", "persisted", 1024],
            ["django", "persisted", 1024],
            ["dead_letter", "persisted", 1024],
        ]);
    });

    test("1 (an fsync per event) reaches every pipeline", () => {
        expect(parse({ logstashQueueCheckpointWrites: "1" }).logstashQueueCheckpointWrites).toBe(1);
        expect(entries(1).map((e) => e["queue.checkpoint.writes"])).toEqual([1, 1, 1]);
    });

    test("a negative count is refused at preview, naming the key and the range", () => {
        expect(() => parse({ logstashQueueCheckpointWrites: "-1" })).toThrow(ConfigError);
        expect(() => parse({ logstashQueueCheckpointWrites: "-1" })).toThrow(/elk-stack:logstashQueueCheckpointWrites.*from 0 to 1048576/);
    });
});
