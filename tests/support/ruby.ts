/**
 * The parts of the Logstash stand-in (logstash.ts) that need real Ruby: the codecs' charset conversion when the
 * bytes are not valid UTF-8, and `ruby` filters. Both run in Debian's `ruby` (MRI), started only when needed:
 * valid UTF-8 and ISO-8859-1 are converted here in TypeScript with the same result, and a `ruby` filter costs one
 * Ruby process per batch of events, not per event.
 *
 * Logstash runs JRuby with UTF-8 as the default external encoding; Ruby is started with `-E UTF-8` so that
 * `String#inspect` keeps printable non-ASCII characters as they are, as it does there.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";

/** A value of an event's fields, as logstash.ts holds them (JSON-shaped). */
type Json = string | number | boolean | Json[] | { [key: string]: Json };

let rubyPath: string | undefined;

/** The Ruby binary; throws with the fix when there is none (CI installs Debian's `ruby`, see .ci/run). */
export function findRuby(): string {
    if (rubyPath) return rubyPath;
    for (const candidate of ["/usr/bin/ruby", "/usr/local/bin/ruby"]) {
        if (fs.existsSync(candidate)) return (rubyPath = candidate);
    }
    throw new Error("the Logstash stand-in needs Ruby to run ruby filters and charset conversion of bytes that are not UTF-8: apt-get install ruby");
}

/** Runs a Ruby script on `input`; its stderr (the filter's log lines) is kept out of the test output unless Ruby fails. */
function ruby(script: string, input: Buffer): Buffer {
    return execFileSync(findRuby(), ["-E", "UTF-8:UTF-8", "-e", script], {
        input,
        stdio: ["pipe", "pipe", "pipe"],
        timeout: 30_000,
        maxBuffer: 256 * 1024 * 1024,
        env: { PATH: process.env.PATH ?? "", LANG: "C.UTF-8" },
    });
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * `LogStash::Util::Charset#convert` (logstash-core/lib/logstash/util/charset.rb): bytes in another charset are
 * transcoded to UTF-8 (only ISO-8859-1 is emulated: each byte is the character of the same number); bytes declared
 * UTF-8 are kept when valid, and otherwise replaced by `data.inspect[1..-2]`, which escapes invalid bytes as
 * `\xNN` and also every `"`, `\` and control character of the line.
 */
export function charsetConvert(data: Buffer, charset: string): string {
    if (charset === "ISO-8859-1") return data.toString("latin1");
    if (charset !== "UTF-8") throw new Error(`charset ${charset} is not emulated`);
    try {
        return UTF8.decode(data);
    } catch {
        return ruby('STDOUT.binmode.write(STDIN.binmode.read.force_encoding("UTF-8").inspect[1..-2])', data).toString("utf8");
    }
}

/**
 * Defines the filter's code as logstash-filter-ruby does (a method taking `event`, so `return` and `next` work as
 * there) and runs it on each event with an `event` that has Logstash's get/set/remove/include?/tag/to_hash over
 * `[a][b]` field references. An exception tags the event with `tag_on_exception` and leaves it as the code left it.
 */
const FILTER_SHIM = String.raw`
require "json"
class ShimEvent
  def initialize(data)
    @data = data
  end
  def to_hash
    @data
  end
  def path(ref)
    ref.start_with?("[") ? ref.scan(/\[([^\]]+)\]/).flatten : [ref]
  end
  def get(ref)
    path(ref).reduce(@data) { |node, key| node.is_a?(Hash) ? node[key] : nil }
  end
  def set(ref, value)
    keys = path(ref)
    node = keys[0..-2].reduce(@data) { |n, key| n[key] = {} unless n[key].is_a?(Hash); n[key] }
    node[keys[-1]] = value
  end
  def remove(ref)
    keys = path(ref)
    parent = keys.length == 1 ? @data : get("[" + keys[0..-2].join("][") + "]")
    parent.delete(keys[-1]) if parent.is_a?(Hash)
  end
  def include?(ref)
    !get(ref).nil?
  end
  def tag(name)
    tags = (@data["tags"] ||= [])
    tags << name unless tags.include?(name)
  end
end
input = JSON.parse(STDIN.binmode.read.force_encoding("UTF-8"))
eval("define_singleton_method :filter_method do |event, &new_event_block|\n #{input["code"]} \nend", binding, "(ruby filter code)")
out = input["events"].map do |data|
  event = ShimEvent.new(data)
  begin
    filter_method(event)
    { "data" => event.to_hash, "ok" => true }
  rescue Exception => e
    STDERR.puts("ruby filter exception: #{e.class}: #{e.message}")
    event.tag(input["tag_on_exception"])
    { "data" => event.to_hash, "ok" => false }
  end
end
STDOUT.binmode.write(JSON.generate(out))
`;

/** Runs a `ruby` filter's code over a batch of events in one Ruby process; returns each event's fields afterwards and whether the code raised. */
export function runRubyFilter<T extends { [key: string]: Json }>(code: string, events: readonly T[], tagOnException: string): { data: T; ok: boolean }[] {
    if (events.length === 0) return [];
    const out = ruby(FILTER_SHIM, Buffer.from(JSON.stringify({ code, events, tag_on_exception: tagOnException }), "utf8"));
    const results = JSON.parse(out.toString("utf8")) as { data: T; ok: boolean }[];
    if (results.length !== events.length) throw new Error(`ruby filter returned ${results.length} events for ${events.length}`);
    return results;
}
