package dev.flywheel.topics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.events.Prediction;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/** Keeps the catalogue snippet of schemas/README.md compiling. */
class ReadmeSnippetTest {

  private static final Path THIS_FILE =
      Path.of("src", "test", "java", "dev", "flywheel", "topics", "ReadmeSnippetTest.java");
  private static final Path README = Path.of("README.md");

  /** The README's snippet; compiled, never run (it needs a cluster). */
  @SuppressWarnings("unused")
  static void snippet(AvroSerdeFactory serdes, String bootstrap, Map<String, Object> producerConfig,
      Prediction prediction) {
    // tag::catalogue[]
    Topics topics = Topics.builder(serdes) // an AvroSerdeFactory, e.g. dev.flywheel.serde.AvroSerdes
        .prefix("acme")                     // acme.flywheel.predictions; omit for plain names
        .partitions(6)
        .replicationFactor((short) 3)
        .build();

    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      TopicBootstrap.Result result = new TopicBootstrap(admin).ensure(topics.all());
      System.out.println(result.describe());
    }

    Topic<String, Prediction> predictions = topics.predictions();
    try (KafkaProducer<String, Prediction> producer = new KafkaProducer<>(producerConfig,
        predictions.keySerde().serializer(), predictions.valueSerde().serializer())) {
      producer.send(new ProducerRecord<>(predictions.name(), prediction.getEntityId(), prediction));
    }
    // end::catalogue[]
  }

  @Test
  void shouldShowTheCompiledSnippetInTheReadme() throws IOException {
    // Given the snippet as compiled here, indentation removed
    List<String> source = Files.readAllLines(THIS_FILE, StandardCharsets.UTF_8);
    int start = indexOf(source, "// tag::catalogue[]") + 1;
    int end = indexOf(source, "// end::catalogue[]");
    String indent = " ".repeat(4);
    String compiled = source.subList(start, end).stream()
        .map(line -> line.startsWith(indent) ? line.substring(indent.length()) : line)
        .collect(Collectors.joining("\n"));

    // When the README is read
    String readme = Files.readString(README, StandardCharsets.UTF_8);

    // Then it shows exactly that code in a java block
    assertThat(compiled).contains("TopicBootstrap").contains("topics.predictions()");
    assertThat(readme).contains("```java\n" + compiled + "\n```");
  }

  private static int indexOf(List<String> lines, String marker) {
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).trim().equals(marker)) {
        return i;
      }
    }
    throw new AssertionError("marker " + marker + " not found in " + THIS_FILE);
  }
}
