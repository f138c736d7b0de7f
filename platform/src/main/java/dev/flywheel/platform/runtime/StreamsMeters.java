package dev.flywheel.platform.runtime;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import org.apache.kafka.streams.KafkaStreams;

/**
 * Binds a service's Kafka Streams metrics (its stream threads, tasks, state stores and the
 * consumers and producers inside it) to the shared registry with Micrometer's own {@link
 * KafkaStreamsMetrics} binder, tagged {@code service=<name>}, so they appear on {@code /metrics}
 * as {@code kafka_stream_*}, {@code kafka_consumer_*} and {@code kafka_producer_*}.
 */
final class StreamsMeters {

  private StreamsMeters() {}

  /** Binds {@code streams}; close the result when the service stops. */
  static KafkaStreamsMetrics bind(MeterRegistry meters, KafkaStreams streams, String service) {
    KafkaStreamsMetrics binder = new KafkaStreamsMetrics(streams, Tags.of("service", service));
    binder.bindTo(meters);
    return binder;
  }
}
