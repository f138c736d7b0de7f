package dev.flywheel.devstack.registry;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code _schemas} topic as the registry's log: created if missing (one partition, compacted,
 * replication factor 1), read from the beginning to its end at start, and written synchronously by
 * an idempotent producer with {@code acks=all}.
 */
final class KafkaSchemaLog implements SchemaStore.Log, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(KafkaSchemaLog.class);
  private static final String MAYBE_WRITTEN = "; the change may or may not have been written;"
      + " retry";

  private final String bootstrapServers;
  private final String topic;
  private final Duration timeout;
  private Producer<byte[], byte[]> producer;

  KafkaSchemaLog(String bootstrapServers, String topic, Duration timeout) {
    this.bootstrapServers = bootstrapServers;
    this.topic = topic;
    this.timeout = timeout;
  }

  /**
   * Creates the topic when it is missing and checks it has one partition: the registry's order of
   * writes is the order of the records, which only a single partition keeps.
   */
  void ensureTopic() {
    try (Admin admin = Admin.create(Map.of(
        AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
        AdminClientConfig.CLIENT_ID_CONFIG, "flywheel-schema-registry-admin",
        AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis()))) {
      if (!admin.listTopics().names().get(timeout.toMillis(), TimeUnit.MILLISECONDS)
          .contains(topic)) {
        NewTopic newTopic = new NewTopic(topic, 1, (short) 1)
            .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT));
        try {
          admin.createTopics(Set.of(newTopic)).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
          log.info("created the schema topic '{}' (1 partition, compacted)", topic);
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw e;
          }
        }
      }
      TopicDescription description = describe(admin);
      if (description.partitions().size() != 1) {
        throw new IllegalStateException("the schema topic '" + topic + "' has "
            + description.partitions().size() + " partitions; it must have exactly 1 so that"
            + " records keep the order they were written in");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while preparing the schema topic", e);
    } catch (ExecutionException | TimeoutException e) {
      Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
      throw new IllegalStateException("cannot prepare the schema topic '" + topic + "' on "
          + bootstrapServers + ": " + cause, cause);
    }
  }

  /** Describes the topic, waiting while a topic just created is not yet known to the broker. */
  private TopicDescription describe(Admin admin) throws InterruptedException, ExecutionException,
      TimeoutException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      try {
        return admin.describeTopics(Set.of(topic)).allTopicNames()
            .get(timeout.toMillis(), TimeUnit.MILLISECONDS).get(topic);
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof UnknownTopicOrPartitionException)
            || System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(50); // the broker's metadata catches up with the controller's within ms
      }
    }
  }

  /**
   * Hands every record from the beginning of the topic to its end offset, as found when called,
   * to {@code sink}, in order. A record that cannot be decoded is logged and skipped.
   *
   * @return the number of records read
   */
  long replay(Consumer<StoreRecord> sink) {
    TopicPartition partition = new TopicPartition(topic, 0);
    long deadline = System.nanoTime() + timeout.toNanos();
    long count = 0;
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
        ConsumerConfig.CLIENT_ID_CONFIG, "flywheel-schema-registry-reader",
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class,
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class))) {
      consumer.assign(List.of(partition));
      consumer.seekToBeginning(List.of(partition));
      long end = consumer.endOffsets(List.of(partition), timeout).get(partition);
      while (consumer.position(partition, timeout) < end) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("reading the schema topic '" + topic + "' took more than "
              + timeout.toSeconds() + " s; stopped at offset " + consumer.position(partition)
              + " of " + end);
        }
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          count++;
          StoreRecord decoded;
          try {
            decoded = StoreRecordCodec.decode(record.key(), record.value());
          } catch (RuntimeException e) {
            log.warn("skipping record at offset {} of '{}': {}", record.offset(), topic,
                e.getMessage());
            continue;
          }
          if (decoded != null) {
            sink.accept(decoded);
          }
        }
      }
    }
    return count;
  }

  /** Opens the producer; call once before {@link #append}. */
  void openWriter() {
    openWriter(new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
        ProducerConfig.CLIENT_ID_CONFIG, "flywheel-schema-registry-writer",
        ProducerConfig.ACKS_CONFIG, "all",
        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
        ProducerConfig.LINGER_MS_CONFIG, 0,
        ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) timeout.toMillis(),
        ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) timeout.toMillis(),
        ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.min(timeout.toMillis(), 10_000),
        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class)));
  }

  /** Writes with {@code producer} from now on; tests give a {@code MockProducer} here. */
  void openWriter(Producer<byte[], byte[]> producer) {
    this.producer = producer;
  }

  /**
   * {@inheritDoc}
   *
   * <p>A timeout (50002) or an interruption (50001) leaves the outcome unknown: the broker may have
   * written the record although no acknowledgement came back, so the message says so.
   */
  @Override
  public void append(StoreRecord record) {
    ProducerRecord<byte[], byte[]> producerRecord = new ProducerRecord<>(topic, 0,
        StoreRecordCodec.key(record), StoreRecordCodec.value(record));
    Duration wait = timeout.plusSeconds(1);
    try {
      producer.send(producerRecord).get(wait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw RegistryException.storeError("Interrupted while writing to the schema topic '" + topic
          + "'" + MAYBE_WRITTEN, e);
    } catch (TimeoutException e) {
      throw RegistryException.storeTimeout("Write to the schema topic '" + topic + "' timed out"
          + " after " + wait.toSeconds() + " s" + MAYBE_WRITTEN, e);
    } catch (ExecutionException | RuntimeException e) {
      Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
      if (cause instanceof org.apache.kafka.common.errors.TimeoutException) {
        throw RegistryException.storeTimeout("Write to the schema topic '" + topic
            + "' timed out (" + cause.getMessage() + ")" + MAYBE_WRITTEN, cause);
      }
      throw RegistryException.storeError("Error while writing to the schema topic '" + topic
          + "': " + cause, cause);
    }
  }

  @Override
  public void close() {
    if (producer != null) {
      producer.close(Duration.ofSeconds(5));
      producer = null;
    }
  }
}
