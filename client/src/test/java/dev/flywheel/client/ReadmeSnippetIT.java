package dev.flywheel.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.TopicBootstrap;
import dev.flywheel.topics.Topics;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.avro.Schema;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;

/**
 * Runs the snippet of client/README.md on the embedded broker and registry, and checks the README
 * shows it as compiled here; fails when the two drift apart.
 */
@WithDevstack
class ReadmeSnippetIT {

  private static final Path THIS_FILE =
      Path.of("src", "test", "java", "dev", "flywheel", "client", "ReadmeSnippetIT.java");

  /** The source the README's reader has: the fraud example's, as flywheel up registers it. */
  private static final Path TX_SCHEMA = Path.of("..", "examples", "fraud", "transaction.avsc");

  @Test
  void shouldRunTheReadmeSnippet(Devstack devstack, UniqueNames names) throws Exception {
    // Given the platform's topics and a transactions source, as flywheel up makes them
    AvroSerdes serdes = AvroSerdes.fromConfig(
        Map.of("schema.registry.url", devstack.schemaRegistryUrl()));
    Topics topics = Topics.builder(serdes).prefix(names.prefix()).build();
    List<Topic<?, ?>> all = new ArrayList<>(topics.all());
    all.add(topics.data("transactions"));
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", devstack.bootstrapServers()))) {
      new TopicBootstrap(admin).ensure(all);
    }
    Schema transaction = new Schema.Parser().parse(Files.readString(TX_SCHEMA));
    transaction.addProp("flywheel.source.key", "card_id");
    transaction.addProp("flywheel.source.time", "event_time");
    serdes.client().register(topics.data("transactions").name() + "-value", transaction);
    String bootstrap = devstack.bootstrapServers();
    String registryUrl = devstack.schemaRegistryUrl();
    String prefix = names.prefix();
    List<Double> scores = new java.util.concurrent.CopyOnWriteArrayList<>();
    PrintStream original = System.out;
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
    try {
      // tag::client[]
      try (FlywheelClient flywheel = FlywheelClient.builder()
          .bootstrapServers(bootstrap)        // 127.0.0.1:9092 with flywheel up
          .schemaRegistryUrl(registryUrl)     // http://127.0.0.1:8081 with flywheel up
          .topicPrefix(prefix)                // "" unless the platform runs with a prefix
          .build()) {
        flywheel.onPromoted((promoted, at) -> System.out.println(promoted.getModel() + " v"
            + promoted.getVersion() + " is now " + promoted.getAlias()));
        flywheel.onDriftAlert((alert, at) -> System.out.println("drift on " + alert.getModel()));
        flywheel.onPrediction((prediction, at) -> scores.add(prediction.getScore()));

        EventPosition sent = flywheel.source("transactions").sendJson("""
            {"event_id": "tx-1", "card_id": "card-7", "merchant": "m-42", "category": "grocery",
             "amount": 42.0, "currency": "EUR", "country": "DE", "channel": "POS",
             "event_time": "2026-11-23T10:00:00Z"}""").get();
        System.out.println("tx-1 is at " + sent.topic() + "-" + sent.partition() + "@"
            + sent.offset());
        flywheel.labels().send("tx-1", "is_fraud", 1.0, "chargebacks").get();
      }
      // end::client[]
    } finally {
      System.setOut(original);
    }

    // Then the transaction was written, and the README shows the snippet as compiled here
    assertThat(printed.toString(StandardCharsets.UTF_8))
        .containsPattern("tx-1 is at " + prefix + "\\.flywheel\\.data\\.transactions-\\d@0");
    List<String> source = Files.readAllLines(THIS_FILE, StandardCharsets.UTF_8);
    int start = indexOf(source, "// tag::client[]") + 1;
    int end = indexOf(source, "// end::client[]");
    String indent = " ".repeat(6);
    String compiled = source.subList(start, end).stream()
        .map(line -> line.startsWith(indent) ? line.substring(indent.length()) : line)
        .collect(Collectors.joining("\n"));
    assertThat(Files.readString(Path.of("README.md"), StandardCharsets.UTF_8))
        .contains(compiled);
  }

  private static int indexOf(List<String> lines, String marker) {
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).trim().equals(marker)) {
        return i;
      }
    }
    throw new IllegalStateException(marker + " not found in " + THIS_FILE);
  }
}
