package dev.flywheel.ingest.source;

import dev.flywheel.events.Label;

/**
 * Labels as ingest sees them: a {@link SourceDefinition} over the {@link Label} schema, keyed by
 * {@code event_id} and stamped with {@code event_time}, written to {@code flywheel.labels} (not to
 * a {@code flywheel.data.<source>} topic). HTTP ({@code POST /labels}) and the file producer
 * convert and validate labels with it exactly as they do a source's records.
 */
public final class LabelSource {

  /** The key field: the id of the labelled event. */
  public static final String KEY_FIELD = "event_id";

  /** The event-time field: when the outcome became known. */
  public static final String TIME_FIELD = "event_time";

  /** The {@code target} field: which outcome the label is of, and so which models learn it. */
  public static final String TARGET_FIELD = "target";

  /** The {@code source} field of the {@link Label} schema, filled in when a label does not say. */
  public static final String SOURCE_FIELD = "source";

  /** The name labels go by in summaries, metrics and logs. */
  public static final String NAME = "labels";

  /** The definition; its schema is {@link Label#getClassSchema()}. */
  public static final SourceDefinition DEFINITION = SourceDefinition.builder(NAME)
      .schema(Label.getClassSchema()).keyField(KEY_FIELD).timeField(TIME_FIELD).build();

  private LabelSource() {}
}
