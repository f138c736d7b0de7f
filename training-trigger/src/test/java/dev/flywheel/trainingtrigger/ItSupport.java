package dev.flywheel.trainingtrigger;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.CommittedValues;
import dev.flywheel.events.FeatureVector;
import dev.flywheel.events.Label;
import dev.flywheel.events.TrainingRequested;
import dev.flywheel.events.TrainingRun;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.TopicBootstrap;
import dev.flywheel.topics.Topics;
import dev.flywheel.trainingtrigger.coordination.JsonSerde;
import dev.flywheel.trainingtrigger.coordination.ModelState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Producing test data to, and reading everything back from, the shared broker; and the
 * flywheel.yaml of the service under test.
 */
final class ItSupport {

  private ItSupport() {}

  /**
   * The {@code trainingTrigger:} section of a test's flywheel.yaml: state, artifacts and work
   * under {@code dir}, a tick of 1 s.
   */
  static String serviceSection(Path dir, String applicationId) {
    return """
        trainingTrigger:
          applicationId: %s
          stateDir: %s
          artifactDir: %s
          workDir: %s
          tick: PT1S
        """.formatted(applicationId, dir.resolve("state"), dir.resolve("artifacts"),
        dir.resolve("work"));
  }

  /**
   * Writes {@code dir/flywheel.yaml}: one model of card_activity trained by {@code python3
   * <script>} with {@code env}, its {@code triggers} line (may be empty), and the service section.
   */
  static Path commandModelConfig(Path dir, String model, String triggers, Path script,
      Map<String, String> env, String applicationId) throws IOException {
    String envLine = env.entrySet().stream().map(e -> e.getKey() + ": " + e.getValue())
        .collect(Collectors.joining(", ", "{", "}"));
    Path yaml = dir.resolve("flywheel.yaml");
    Files.writeString(yaml, """
        models:
          - name: %s
            featureGroup: card_activity
            target: is_fraud
            %s
            training:
              executor:
                kind: command
                command: [python3, %s]
                env: %s
        """.formatted(model, triggers, script, envLine) + serviceSection(dir, applicationId));
    return yaml;
  }

  static void createTopics(Devstack devstack, Topics topics) {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", devstack.bootstrapServers()))) {
      new TopicBootstrap(admin).ensure(List.of(topics.labels(), topics.features(),
          topics.trainingRequests(), topics.trainingRuns(), topics.driftAlerts()));
    }
  }

  static void produce(Devstack devstack, Topics topics, SyntheticData data) {
    Map<String, Object> p = producerConfig(devstack);
    produceLabels(devstack, topics, data.labels);
    Topic<String, FeatureVector> features = topics.features();
    try (KafkaProducer<String, FeatureVector> producer = new KafkaProducer<>(p,
        features.keySerde().serializer(), features.valueSerde().serializer())) {
      data.vectors.forEach(v -> producer.send(new ProducerRecord<>(features.name(),
          v.getEntityId(), v)));
    }
  }

  /** Labels keyed by their event id, as the labels topic holds them. */
  static void produceLabels(Devstack devstack, Topics topics, List<Label> labels) {
    Map<String, Object> p = producerConfig(devstack);
    Topic<String, Label> topic = topics.labels();
    try (KafkaProducer<String, Label> producer = new KafkaProducer<>(p,
        topic.keySerde().serializer(), topic.valueSerde().serializer())) {
      labels.forEach(l -> producer.send(new ProducerRecord<>(topic.name(), l.getEventId(), l)));
    }
  }

  /**
   * An idempotent producer that keeps one request in flight: a first batch refused on a partition
   * just created is retried before any later one is written (KAFKA-15591).
   */
  private static Map<String, Object> producerConfig(Devstack devstack) {
    return Map.of("bootstrap.servers", devstack.bootstrapServers(), "acks", "all",
        "linger.ms", 5, "max.in.flight.requests.per.connection", 1);
  }

  static <V> void send(Devstack devstack, Topic<String, V> topic, String key, V value) {
    try (KafkaProducer<String, V> producer = new KafkaProducer<>(Map.of("bootstrap.servers",
        devstack.bootstrapServers(), "acks", "all"), topic.keySerde().serializer(),
        topic.valueSerde().serializer())) {
      producer.send(new ProducerRecord<>(topic.name(), key, value));
    }
  }

  /** Every committed record of a topic, from the beginning to its current end. */
  static <V> List<ConsumerRecord<String, V>> readAll(Devstack devstack, String topic,
      Deserializer<V> values) {
    return CommittedValues.records(devstack.bootstrapServers(), topic, new StringDeserializer(),
        values);
  }

  static List<TrainingRequested> requests(Devstack devstack, Topics topics) {
    Topic<String, TrainingRequested> t = topics.trainingRequests();
    return readAll(devstack, t.name(), t.valueSerde().deserializer()).stream()
        .map(ConsumerRecord::value).toList();
  }

  /**
   * The coordinator's committed state of a model: the latest value for it on the model-state
   * store's changelog, or null if there is none.
   */
  static ModelState modelState(Devstack devstack, String applicationId, String model) {
    String changelog = applicationId + "-" + TrainingTriggerTopology.MODEL_STATE_STORE
        + "-changelog";
    return readAll(devstack, changelog, JsonSerde.of(ModelState.class).deserializer()).stream()
        .filter(r -> model.equals(r.key())).reduce((a, b) -> b).map(ConsumerRecord::value)
        .orElse(null);
  }

  static List<TrainingRun> runs(Devstack devstack, Topics topics) {
    Topic<String, TrainingRun> t = topics.trainingRuns();
    return readAll(devstack, t.name(), t.valueSerde().deserializer()).stream()
        .map(ConsumerRecord::value).toList();
  }
}
