/**
 * Who Logstash writes to Elasticsearch as. Its own module, without Pulumi, because the restore command reads it too:
 * it withholds this role's right to create data streams while it restores them (components/operations/snapshotOps.ts).
 */

/** The user Logstash writes with. */
export const LOGSTASH_WRITER_USER = "logstash_writer";
/** The role of that user. */
export const LOGSTASH_WRITER_ROLE = "elk_logstash_writer";
