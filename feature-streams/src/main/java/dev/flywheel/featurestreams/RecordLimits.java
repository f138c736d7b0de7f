package dev.flywheel.featurestreams;

import dev.flywheel.streams.StreamsProps;
import java.util.Map;

/**
 * The largest record feature-streams may write to a topic it writes per event (the feature log,
 * a group's state changelog, a group's repartition topic): the producer's {@code
 * max.request.size}, and, when the service read it at start, the topic's own {@code
 * max.message.bytes}, whichever is smaller. The producer refuses a record over the first, the
 * broker one over the second; either failure aborts the transaction and fails the stream thread on
 * the same record after every restart, so the processors check each record against this limit
 * first and handle an event that would not fit as oversized (see the README, "Cost and state").
 *
 * <p>The service passes each topic's limit to the processors in the Kafka Streams properties,
 * under {@link #MAX_MESSAGE_BYTES_PREFIX} followed by the topic's name; a processor reads it from
 * {@code context.appConfigs()} at init. Without it (a topology run with other properties) the
 * producer's {@code max.request.size} alone bounds the records, as it does for a topic that
 * accepts at least as much.
 *
 * <p>The processors measure a record uncompressed, with a margin for the batch's and the record's
 * headers ({@code RecordSize.maxValueBytes}). The broker checks a batch after compression; a
 * record that is alone in its batch and fits this limit uncompressed also fits it compressed
 * (Kafka's codecs store data they cannot shrink as it is, with a few bytes of framing per block,
 * within that margin), and a batch of several records the broker refuses is split by the producer
 * and sent again. So the check is conservative: a record it lets through is never refused for its
 * size, and one it refuses might, compressed, have fitted.
 */
final class RecordLimits {

  /**
   * Prefix of the Kafka Streams properties holding the {@code max.message.bytes} of a topic
   * feature-streams writes per event, as read at start: the prefix, then the topic's name.
   */
  static final String MAX_MESSAGE_BYTES_PREFIX = "flywheel.features.max.message.bytes.";

  private RecordLimits() {}

  /** The property under which the limit of {@code topic} is passed. */
  static String property(String topic) {
    return MAX_MESSAGE_BYTES_PREFIX + topic;
  }

  /**
   * The most a record of {@code topic} may take, batch overhead included: the smaller of the
   * producer's {@code max.request.size} and the topic's {@code max.message.bytes} in {@code
   * appConfigs}, if given.
   */
  static int maxRecordBytes(Map<String, Object> appConfigs, String topic) {
    int maxRequestSize = StreamsProps.maxRequestSize(appConfigs);
    Integer topicLimit = topicLimit(appConfigs, topic);
    return topicLimit == null ? maxRequestSize : Math.min(maxRequestSize, topicLimit);
  }

  /**
   * What sets {@link #maxRecordBytes} for {@code topic}, for messages a user can act on: {@code
   * the producer's max.request.size} or {@code max.message.bytes <n> of topic '<topic>'}.
   */
  static String describe(Map<String, Object> appConfigs, String topic) {
    Integer topicLimit = topicLimit(appConfigs, topic);
    if (topicLimit != null && topicLimit < StreamsProps.maxRequestSize(appConfigs)) {
      return "max.message.bytes " + topicLimit + " of topic '" + topic + "'";
    }
    return "the producer's max.request.size";
  }

  private static Integer topicLimit(Map<String, Object> appConfigs, String topic) {
    Object value = appConfigs.get(property(topic));
    return value == null ? null : Integer.valueOf(value.toString().trim());
  }
}
