/**
 * Events Elasticsearch refuses are not dropped: the source pipelines write them to their dead letter queue, and
 * the dead_letter pipeline (pipelines/dead_letter, generated input in components/model/sources.ts) writes them to the
 * parse-failure stream with the reason. Run through the real pipeline files with the Logstash stand-in.
 */
import { DEAD_LETTER_QUEUE_PATH, logstashPipelines, parseLogSources } from "../components/model/sources";
import { pipelinesYml } from "../components/model/logstash";
import YAML from "yaml";
import { TEST_ENV, loadPipeline, processArrivals } from "./support/corpora";
import { Pipeline } from "./support/logstash";

const SOURCES = parseLogSources(["nginx:web", "django:shop"]);

describe("dead letters", () => {
    test("each source pipeline keeps a dead letter queue; the pipeline reading them keeps none", () => {
        const entries = YAML.parse(pipelinesYml(logstashPipelines(SOURCES).pipelines)) as Record<string, unknown>[];
        expect(entries.map((e) => [e["pipeline.id"], e["dead_letter_queue.enable"]])).toEqual([
            ["nginx", true],
            ["django", true],
            ["dead_letter", false],
        ]);
    });

    test("a Django record refused with a mapping conflict reaches the parse-failure stream with its reason and its line", async () => {
        const django = await loadPipeline(SOURCES, "django");
        const line = `<14>1 2026-11-30T10:00:00.000Z app1 shop 42 shop.views [elk@32473 id="0123456789abcdef0123456789abcdef" level="INFO" logger="shop.views" file="views.py" line="7" function="index" thread="MainThread"] \uFEFForder placed#004\n`;
        const [refused] = processArrivals(django, [{ protocol: "tcp", port: SOURCES[1].port, data: Buffer.from(line), peer: "10.0.0.5" }]);
        expect(refused.deliveries[0]).toMatchObject({ dataStream: "logs-django.shop-test", documentId: "0123456789abcdef0123456789abcdef" });

        const { files, pipelines } = logstashPipelines(SOURCES);
        const def = pipelines.find((p) => p.id === "dead_letter");
        const deadLetters = await Pipeline.load(files, def?.pathConfig ?? "", TEST_ENV);
        const reason = 'Could not index event to Elasticsearch. status: 400, action: ["create", ...], response: {"create"=>{"status"=>400, "error"=>{"type"=>"document_parsing_exception", "reason"=>"failed to parse field [log.origin.file.line] of type [long]"}}}';
        const event = deadLetters.receiveDeadLetter({ event: refused.event, pipelineId: "django", pluginId: "to_elasticsearch_by_id", reason, queuePath: DEAD_LETTER_QUEUE_PATH });
        deadLetters.filter(event);
        const [delivery] = deadLetters.route(event);
        // Written once per id, so a dead letter read again after a restart is not stored twice.
        expect(delivery).toEqual({ outputId: "to_elasticsearch_by_id", dataStream: "logs-elk.parse_failure-test", action: "create", documentId: "0123456789abcdef0123456789abcdef" });
        expect(event.get("[error][message]")).toBe(reason);
        expect(event.get("[error][type]")).toBe("to_elasticsearch_by_id");
        expect(event.get("[elk][dead_letter][dataset]")).toBe("django.shop");
        expect(event.get("[event][original]")).toBe(line.slice(0, -1));
        expect(event.get("message")).toBe("order placed");
        expect(event.get("[service][name]")).toBe("shop");
        expect(event.tags).toEqual(expect.arrayContaining(["django", "_elk_dead_letter", "_elk_parse_failure"]));
        // The fields that could conflict again are gone; the line they came from is kept above.
        expect(event.get("log")).toBeUndefined();
        expect(event.get("process")).toBeUndefined();
    });

    test("an nginx line refused without an id is written with one Elasticsearch makes", async () => {
        const { files, pipelines } = logstashPipelines(SOURCES);
        const deadLetters = await Pipeline.load(files, pipelines.find((p) => p.id === "dead_letter")?.pathConfig ?? "", TEST_ENV);
        const nginx = await loadPipeline(SOURCES, "nginx");
        const [refused] = processArrivals(nginx, [{ protocol: "udp", port: 5140, data: Buffer.from("<190>Nov 30 10:00:00 web1 nginx_error: 2026/11/30 10:00:00 [error] 7#7: *1 boom, client: 10.0.0.1, server: _"), peer: "10.0.0.1" }]);
        const event = deadLetters.receiveDeadLetter({ event: refused.event, pipelineId: "nginx", pluginId: "to_elasticsearch", reason: "status: 400", queuePath: DEAD_LETTER_QUEUE_PATH });
        deadLetters.filter(event);
        expect(deadLetters.route(event)).toEqual([{ outputId: "to_elasticsearch", dataStream: "logs-elk.parse_failure-test", action: "create" }]);
        expect(() => deadLetters.receiveDeadLetter({ event: refused.event, pipelineId: "nginx", pluginId: "x", reason: "y", queuePath: "/elsewhere" })).toThrow(/reads \/usr\/share\/logstash\/data\/dead_letter_queue/);
    });
});
