/**
 * Change data capture: PostgreSQL tables into Flywheel source topics through Debezium's embedded
 * engine and its PostgreSQL connector ({@code pgoutput}).
 *
 * <h2>Why</h2>
 *
 * Many sources already live in PostgreSQL tables. {@link dev.flywheel.ingest.cdc.CdcIngest} turns
 * each row change into a source record without a second write path in the application.
 *
 * <h2>Run it</h2>
 *
 * <pre>{@code
 * try (CdcIngest cdc = CdcIngest.builder()
 *     .bootstrapServers(bootstrap)
 *     .topics(topics)                       // the catalogue: data, dead-letter and offsets topics
 *     .registry(registry)
 *     .database(host, 5432, "shop", user, password)
 *     .table("public.orders", "orders")     // table -> source
 *     .slotName("flywheel_cdc").publicationName("flywheel_cdc")
 *     .deleteMode(DeleteMode.TOMBSTONE)
 *     .build()
 *     .start()) {
 *   ...
 * }
 * }</pre>
 *
 * The database needs {@code wal_level=logical} and a user allowed to replicate; the connector
 * creates the slot and (for exactly the captured tables) the publication when missing.
 *
 * <h2>Topics it writes</h2>
 *
 * <ul>
 *   <li>{@code flywheel.data.<source>}: key = the row's primary key as a string (composite keys
 *       joined by {@code ':'}, with {@code \} and {@code :} in text values escaped as {@code \\}
 *       and {@code \:}; timestamps as ISO-8601 UTC with milliseconds, {@code bytea} as
 *       base64, numerics as plain numbers); value = the after-image as Avro, derived from the
 *       columns
 *       (nullable columns as {@code ["null", T]} with default null, timestamps as {@code
 *       timestamp-millis}, {@code numeric(p,s)} as {@code decimal}), plus {@code cdc_op} ({@code
 *       c}, {@code u}, {@code r}), {@code cdc_lsn} and {@code cdc_commit_time}; the record
 *       timestamp is the commit time. Headers: {@code flywheel.cdc.position}, {@code
 *       flywheel.lsn}, {@code flywheel.source}. A delete is a tombstone, or with {@link
 *       dev.flywheel.ingest.cdc.DeleteMode#DELETE_EVENT} a record with {@code cdc_op = d}. The
 *       schema is registered under {@code <topic>-value} when the registry finds it compatible.
 *   <li>{@code flywheel.data.<source>.dlq}: changes that could not be written, as Debezium's JSON
 *       change event, with the {@code DeadLetterHeaders} ({@code flywheel.origin = lsn:<lsn>}).
 *   <li>{@code flywheel.ingest.cdc.offsets}: Debezium's offsets (Kafka Connect's {@code
 *       KafkaOffsetBackingStore}), keyed by the engine's name. The PostgreSQL connector keeps no
 *       schema history: the row schema travels with every change.
 * </ul>
 *
 * <h2>Failure and restart</h2>
 *
 * <ul>
 *   <li>Records are produced idempotently with {@code acks=all}; a batch's events are marked
 *       processed only after Kafka acknowledged all its records, so committed offsets never run
 *       ahead of written data. A failed write (other than a change refused on its own, below)
 *       stops the engine without committing the batch.
 *   <li>On restart the engine resumes from its offsets: rows written while ingest was down
 *       arrive. Changes Debezium delivers again (after a crash, or from a slot behind the offsets)
 *       are skipped: each partition's last {@code flywheel.cdc.position} is read back at start and
 *       a streamed change at or before it is not written again. Snapshot reads are not
 *       deduplicated; an interrupted snapshot is taken again.
 *   <li>A column change whose schema the registry rejects (for example a new {@code NOT NULL}
 *       column under BACKWARD compatibility) stops that table's capture: the change and every
 *       later one of that table go to its dead-letter topic with the registry's reason, {@link
 *       dev.flywheel.ingest.cdc.CdcIngest#tableStatus()} reports it, and the other tables carry on.
 *       The offsets move past those changes, so restarting ingest after fixing the schema does not
 *       replay them, and nothing in Flywheel does: write those rows again in PostgreSQL (an
 *       {@code UPDATE} of each row captures it anew; the dead letters' keys name them).
 *   <li>A change that cannot be converted (a value outside its Avro type, or Debezium's
 *       placeholder for an unchanged TOAST column of a table without {@code REPLICA IDENTITY
 *       FULL}) goes to the dead-letter topic alone; capture continues.
 *   <li>A change Kafka refuses on its own (a row over the producer's {@code max.request.size} or
 *       the topic's {@code max.message.bytes}) goes to the dead-letter topic, its value truncated
 *       to fit, and capture continues; the batch's offsets are committed only once that dead
 *       letter is acknowledged.
 * </ul>
 */
package dev.flywheel.ingest.cdc;
