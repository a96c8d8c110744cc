/**
 * nsyslog-parser, a third-party syslog parser (RFC 3164, RFC 5424 with structured data), typed for the tests.
 * It judges our Django handler's output independently of our own grok patterns.
 */

/** The fields of nsyslog-parser's result that the tests read. */
export interface SyslogEntry {
    readonly type: "RFC5424" | "BSD" | "CEF" | "LEEF" | "UNKNOWN";
    readonly version?: number;
    readonly prival: number;
    readonly ts?: Date;
    readonly host?: string;
    readonly appName?: string;
    readonly pid?: string;
    readonly messageid?: string;
    readonly structuredData?: Record<string, string>[];
    readonly message: string;
}

// The package ships no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const nsyslogParser = require("nsyslog-parser") as (line: string, options?: Record<string, boolean>) => SyslogEntry;

/** Parses one syslog line (no CEF/LEEF detection, no key=value guessing in the message). */
export function parseSyslogLine(line: string): SyslogEntry {
    return nsyslogParser(line, { cef: false, leef: false, fields: false });
}
