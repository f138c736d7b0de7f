package dev.flywheel.platform.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flywheel.registry.SchemaRegistryClient;
import dev.flywheel.topics.ClusterOptions;
import dev.flywheel.topics.DeadLetterHeaders;
import dev.flywheel.topics.ServiceEnvironment;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code flywheel watch <topic>}: prints a topic's committed records as JSON lines, one per record:
 * {@code topic}, {@code partition}, {@code offset}, {@code timestamp}, {@code key}, {@code value}
 * (Confluent-framed Avro decoded with its writer schema from the registry, by id; no generated
 * classes needed) and {@code value_schema_id}. A tombstone has {@code "value": null, "tombstone":
 * true}; a value that is not Avro is printed as {@code value_text} when it is UTF-8 text (as a
 * dead letter's JSON line is), else as {@code value_base64}, with a {@code value_note} saying
 * why. A record carrying dead-letter headers (on a {@code <topic>.dlq}) has them in {@code
 * dead_letter}, by their {@link DeadLetterHeaders} names: {@code {"flywheel.error": "...",
 * "flywheel.origin": "flywheel.data.tx/0/42", ...}}, only those it carries. Nothing a record holds
 * stops the command.
 *
 * <p>Exit status: 0 when done ({@code --max} reached, or the end reached with {@code
 * --no-follow}); {@value #EXIT_NO_TOPIC} when the topic does not exist; 1 when Kafka cannot be
 * reached or a schema registry setting is invalid.
 *
 * <p>The registry client takes the services' settings ({@link ServiceEnvironment#schemaRegistry()}:
 * {@code FLYWHEEL_SCHEMA_REGISTRY_<NAME>} variables and {@code
 * -Dflywheel.schema.registry.<property>}), on the URL of {@code --schema-registry-url}.
 */
@Command(name = "watch", mixinStandardHelpOptions = true,
    description = {"Print a topic's records as JSON lines, Avro decoded through the registry.",
        "Topic names may be short (predictions, model.promoted, transactions) or full."})
public final class WatchCommand implements Callable<Integer> {

  /** Exit status when the topic does not exist. */
  public static final int EXIT_NO_TOPIC = 2;

  private static final Duration POLL = Duration.ofMillis(200);

  @Spec private CommandSpec spec;
  @Mixin private ClusterOptions cluster;

  @Parameters(index = "0", paramLabel = "<topic>",
      description = "The topic: predictions, model.promoted, a source name, or a full name.")
  private String topic;

  @Option(names = "--from-beginning",
      description = "Start at the first record still on the topic (default: only new records).")
  private boolean fromBeginning;

  @Option(names = "--follow", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Keep waiting for new records (default); --no-follow stops at the end.")
  private boolean follow;

  @Option(names = "--key", paramLabel = "<key>", description = "Only records with this key.")
  private String key;

  @Option(names = "--max", paramLabel = "<n>", description = "Stop after printing n records.")
  private Long max;

  /** Used by picocli. */
  public WatchCommand() {}

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    String name;
    try (Admin admin = Admin.create(CommandClients.admin(cluster))) {
      Set<String> existing = admin.listTopics().names().get();
      name = TopicNames.resolve(topic, existing, cluster.topicNamePrefix());
    } catch (IllegalArgumentException e) {
      err.println("flywheel watch: " + e.getMessage());
      return EXIT_NO_TOPIC;
    } catch (Exception e) {
      err.println("flywheel watch: cannot list the topics on " + cluster.bootstrapServers() + ": "
          + e.getMessage() + "; is the platform running (flywheel up)?");
      return 1;
    }
    SchemaRegistryClient registry;
    try {
      // the services' registry settings (FLYWHEEL_SCHEMA_REGISTRY_<NAME>,
      // -Dflywheel.schema.registry.<property>), on the URL of the options
      Map<String, Object> registrySettings = cluster.schemaRegistry();
      registry = SchemaRegistryClient.fromConfig(registrySettings);
    } catch (ConfigException e) {
      err.println("flywheel watch: invalid schema registry settings: " + e.getMessage());
      return 1;
    }
    RecordDecoder decoder = new RecordDecoder(registry);
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(
        CommandClients.consumer(cluster), new ByteArrayDeserializer(),
        new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (PartitionInfo p : consumer.partitionsFor(name)) {
        partitions.add(new TopicPartition(name, p.partition()));
      }
      consumer.assign(partitions);
      if (fromBeginning) {
        consumer.seekToBeginning(partitions);
      } else {
        consumer.seekToEnd(partitions);
      }
      partitions.forEach(consumer::position);
      Map<TopicPartition, Long> ends = follow ? Map.of()
          : new HashMap<>(consumer.endOffsets(partitions));
      Thread main = Thread.currentThread();
      Thread hook = new Thread(consumer::wakeup, "flywheel-watch-stop");
      Runtime.getRuntime().addShutdownHook(hook);
      long printed = 0;
      try {
        while (max == null || printed < max) {
          if (!follow && reachedEnd(consumer, ends)) {
            break;
          }
          for (ConsumerRecord<byte[], byte[]> record : consumer.poll(POLL)) {
            if (key != null && (record.key() == null
                || !key.equals(new String(record.key(), StandardCharsets.UTF_8)))) {
              continue;
            }
            out.println(line(decoder, record));
            if (max != null && ++printed >= max) {
              break;
            }
          }
          out.flush(); // once per poll: lines show up as they arrive, without a flush per line
          if (main.isInterrupted()) {
            break;
          }
        }
      } catch (WakeupException e) {
        // Ctrl-C: stop quietly
      } finally {
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
          // shutting down already
        }
      }
      return 0;
    } catch (KafkaException e) {
      err.println("flywheel watch: reading " + name + " from " + cluster.bootstrapServers()
          + " failed: " + e.getMessage());
      return 1;
    }
  }

  private static boolean reachedEnd(KafkaConsumer<?, ?> consumer,
      Map<TopicPartition, Long> ends) {
    for (Map.Entry<TopicPartition, Long> e : ends.entrySet()) {
      if (consumer.position(e.getKey()) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  static String line(RecordDecoder decoder, ConsumerRecord<byte[], byte[]> record) {
    ObjectNode json = RecordDecoder.JSON.createObjectNode();
    json.put("topic", record.topic());
    json.put("partition", record.partition());
    json.put("offset", record.offset());
    json.put("timestamp", Instant.ofEpochMilli(record.timestamp()).toString());
    decoder.put(json, "key", record.key(), true);
    if (record.value() == null) {
      json.putNull("value");
      json.put("tombstone", true);
    } else {
      decoder.put(json, "value", record.value(), false);
    }
    ObjectNode deadLetter = null;
    for (String name : DeadLetterHeaders.ALL) {
      Header header = record.headers().lastHeader(name);
      if (header != null) {
        if (deadLetter == null) {
          deadLetter = json.putObject("dead_letter");
        }
        deadLetter.put(name, header.value() == null ? null
            : new String(header.value(), StandardCharsets.UTF_8));
      }
    }
    return json.toString();
  }
}
