package dev.flywheel.streams;

import dev.flywheel.topics.DeadLetterHeaders;
import dev.flywheel.topics.ProducerSettings;
import dev.flywheel.topics.RecordSize;
import dev.flywheel.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;

/**
 * Writes records a Kafka Streams processor cannot take to {@code <source topic>.dlq}, keeping the
 * original key and value bytes and headers and saying in {@link DeadLetterHeaders} what was wrong
 * and where the record came from. A dead letter too large for the producer's {@code
 * max.request.size} is cut to fit ({@link DeadLetterHeaders#fit}): its value, then its key, and
 * when even an empty key and value leave no room, the original headers, largest first.
 *
 * <p>Dead letters are written by an idempotent {@code acks=all} producer outside the processor's
 * transaction and acknowledged before the processor moves on, so none is lost; a crash between
 * the dead letter and the next commit may write it twice (at least once). One producer per
 * cluster is shared by every handler in the JVM and created on the first dead letter only.
 *
 * <p>A dead-letter topic that does not exist yet is created (the broker's default partitions, the
 * processor's {@code replication.factor} as {@link StreamsProps} sets it from Flywheel's {@code
 * kafka.replicationFactor}, else the broker's default) before the first dead letter is sent to
 * it. The platform creates the dead-letter topics of its own topics up front; this covers the
 * rest, above all the internal repartition topics of a processor ({@code <application
 * id>-<name>-repartition.dlq}), whose records can fail in the processors downstream of the
 * repartition too.
 */
final class DeadLetters {

  private static final Map<Map<String, Object>, Producer<byte[], byte[]>> PRODUCERS =
      new ConcurrentHashMap<>();

  /** Dead-letter topics known to exist, by cluster. */
  private static final Map<Map<String, Object>, Set<String>> EXISTING = new ConcurrentHashMap<>();

  private static final long SEND_TIMEOUT_MS = 30_000;

  private final Map<String, Object> producerConfig;
  private final String processor;
  /** The producer's {@code max.request.size}: a larger dead letter has its value cut to fit. */
  private final int maxRequestSize;
  /** Replication of the dead-letter topics created here; empty for the broker's default. */
  private final Optional<Short> replicationFactor;

  private DeadLetters(Map<String, Object> producerConfig, String processor,
      Optional<Short> replicationFactor) {
    this.producerConfig = producerConfig;
    this.processor = processor;
    this.maxRequestSize = RecordSize.maxRequestSize(producerConfig);
    this.replicationFactor = replicationFactor;
  }

  /** Reads the cluster and security settings from a processor's streams properties. */
  static DeadLetters from(Map<String, ?> streamsConfigs) {
    Map<String, Object> producer = new HashMap<>();
    for (Map.Entry<String, ?> e : streamsConfigs.entrySet()) {
      String key = e.getKey();
      if (key.startsWith(StreamsConfig.PRODUCER_PREFIX)) {
        continue;
      }
      if (ProducerConfig.configNames().contains(key) && !key.equals(ProducerConfig.CLIENT_ID_CONFIG)
          && !key.startsWith("transaction") && !key.endsWith(".serializer")
          && !key.equals(ProducerConfig.INTERCEPTOR_CLASSES_CONFIG)) {
        producer.put(key, e.getValue());
      }
    }
    producer = ProducerSettings.delivery(producer);
    producer.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    producer.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
        ByteArraySerializer.class.getName());
    Object app = streamsConfigs.get(StreamsConfig.APPLICATION_ID_CONFIG);
    return new DeadLetters(Map.copyOf(producer), app == null ? "kafka-streams" : app.toString(),
        replicationFactor(streamsConfigs.get(StreamsConfig.REPLICATION_FACTOR_CONFIG)));
  }

  /** The processor's {@code replication.factor}; empty when unset or -1 (the broker's default). */
  private static Optional<Short> replicationFactor(Object value) {
    if (value == null) {
      return Optional.empty();
    }
    short factor = Short.parseShort(value.toString().trim());
    return factor > 0 ? Optional.of(factor) : Optional.empty();
  }

  /**
   * How a missing dead-letter topic is created: the broker's default partitions, the processor's
   * replication factor.
   */
  NewTopic newTopic(String dlq) {
    return new NewTopic(dlq, Optional.empty(), replicationFactor);
  }

  /**
   * Writes one dead letter and waits for the broker to acknowledge it.
   *
   * @throws IllegalStateException when the dead letter cannot be written; the processor then
   *     fails rather than lose the record
   */
  void send(String topic, int partition, long offset, long timestamp, byte[] key, byte[] value,
      Headers original, Exception error) {
    Objects.requireNonNull(topic, "topic");
    String dlq = Topics.isDlq(topic) ? topic : topic + Topics.DLQ_SUFFIX;
    Headers headers = new RecordHeaders();
    if (original != null) {
      original.forEach(headers::add);
    }
    put(headers, DeadLetterHeaders.ERROR, describe(error));
    put(headers, DeadLetterHeaders.ERROR_CLASS, error.getClass().getName());
    put(headers, DeadLetterHeaders.PROCESSOR, processor);
    put(headers, DeadLetterHeaders.TOPIC, topic);
    put(headers, DeadLetterHeaders.PARTITION, Integer.toString(partition));
    put(headers, DeadLetterHeaders.OFFSET, Long.toString(offset));
    put(headers, DeadLetterHeaders.ORIGIN, DeadLetterHeaders.origin(topic, partition, offset));
    put(headers, DeadLetterHeaders.TIMESTAMP, Long.toString(timestamp));
    put(headers, DeadLetterHeaders.FAILED_AT, Long.toString(System.currentTimeMillis()));
    DeadLetterHeaders.Fitted fitted = DeadLetterHeaders.fit(key, value, headers, maxRequestSize);
    ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(dlq, null,
        timestamp < 0 ? null : timestamp, fitted.key(), fitted.value(), headers);
    try {
      ensureExists(dlq);
      producer().send(record).get(SEND_TIMEOUT_MS, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while writing a dead letter to " + dlq, e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("cannot write a dead letter to " + dlq + " for "
          + DeadLetterHeaders.origin(topic, partition, offset) + ": " + e, e);
    }
  }

  /** Creates {@code dlq} unless this JVM already knows it exists on the cluster. */
  private void ensureExists(String dlq)
      throws InterruptedException, ExecutionException, TimeoutException {
    Set<String> known = EXISTING.computeIfAbsent(producerConfig, c -> ConcurrentHashMap.newKeySet());
    if (known.contains(dlq)) {
      return;
    }
    Map<String, Object> adminConfig = new HashMap<>();
    producerConfig.forEach((k, v) -> {
      if (AdminClientConfig.configNames().contains(k)) {
        adminConfig.put(k, v);
      }
    });
    adminConfig.put(AdminClientConfig.CLIENT_ID_CONFIG, processor + "-dlq-admin");
    try (Admin admin = Admin.create(adminConfig)) {
      if (!admin.listTopics().names().get(SEND_TIMEOUT_MS, TimeUnit.MILLISECONDS).contains(dlq)) {
        try {
          admin.createTopics(List.of(newTopic(dlq)))
              .all().get(SEND_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw e;
          }
        }
      }
    }
    known.add(dlq);
  }

  private Producer<byte[], byte[]> producer() {
    return PRODUCERS.computeIfAbsent(producerConfig, c -> {
      Map<String, Object> withId = new HashMap<>(c);
      withId.put(ProducerConfig.CLIENT_ID_CONFIG, processor + "-dlq");
      return new KafkaProducer<>(withId);
    });
  }

  static String describe(Throwable error) {
    StringBuilder text = new StringBuilder();
    for (Throwable t = error; t != null && text.length() < 2000; t = t.getCause()) {
      if (!text.isEmpty()) {
        text.append(": ");
      }
      text.append(t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage());
      if (t.getCause() == t) {
        break;
      }
    }
    return text.toString();
  }

  private static void put(Headers headers, String name, String value) {
    headers.remove(name);
    headers.add(name, value.getBytes(StandardCharsets.UTF_8));
  }
}
