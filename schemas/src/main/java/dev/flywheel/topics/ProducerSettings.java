package dev.flywheel.topics;

import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * The delivery settings that Flywheel's producers of more than one record lay over their Kafka
 * properties (the Kafka Streams processors get the same from {@code StreamsProps}).
 *
 * <pre>{@code
 * Map<String, Object> props = ProducerSettings.delivery(kafka);
 * props.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 5);
 * }</pre>
 */
public final class ProducerSettings {

  private ProducerSettings() {}

  /**
   * A new map of {@code base} with:
   *
   * <ul>
   *   <li>{@code enable.idempotence=true} and {@code acks=all}, always: no retry writes a record
   *       twice and nothing acknowledged is lost, and a cluster-wide property cannot weaken that;
   *   <li>{@code max.in.flight.requests.per.connection=1} unless {@code base} sets it: a refused
   *       first batch (NOT_LEADER_OR_FOLLOWER from a partition the broker has not opened yet,
   *       KAFKA-15591; CONCURRENT_TRANSACTIONS under transactions) is retried before any later
   *       batch goes out. With several in flight a later batch is accepted first, and every retry
   *       of the first is then refused as out of order until the delivery timeout.
   * </ul>
   */
  public static Map<String, Object> delivery(Map<String, ?> base) {
    Map<String, Object> props = new HashMap<>(base);
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.putIfAbsent(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1);
    return props;
  }
}
