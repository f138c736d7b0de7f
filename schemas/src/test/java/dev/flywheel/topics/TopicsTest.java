package dev.flywheel.topics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flywheel.events.DriftAlert;
import dev.flywheel.events.DriftReport;
import dev.flywheel.events.FeatureVector;
import dev.flywheel.events.Label;
import dev.flywheel.events.ModelEvent;
import dev.flywheel.events.ModelPromoted;
import dev.flywheel.events.ModelRegistryState;
import dev.flywheel.events.Prediction;
import dev.flywheel.events.RegistryCommand;
import dev.flywheel.events.TrainingRequested;
import dev.flywheel.events.TrainingRun;
import dev.flywheel.topics.FakeAvroSerdeFactory.FakeSerde;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TopicsTest {

  private final Topics plain = Topics.builder(new FakeAvroSerdeFactory()).build();
  private final Topics acme = Topics.builder(new FakeAvroSerdeFactory()).prefix("acme").build();

  /** Every fixed topic's accessor with the name and value class DESIGN.md gives it. */
  private static Map<String, Function<Topics, Topic<String, ?>>> eventTopics() {
    Map<String, Function<Topics, Topic<String, ?>>> topics = new LinkedHashMap<>();
    topics.put("flywheel.labels", Topics::labels);
    topics.put("flywheel.features", Topics::features);
    topics.put("flywheel.training.requests", Topics::trainingRequests);
    topics.put("flywheel.training.runs", Topics::trainingRuns);
    topics.put("flywheel.registry.commands", Topics::registryCommands);
    topics.put("flywheel.registry.state", Topics::registryState);
    topics.put("flywheel.model.events", Topics::modelEvents);
    topics.put("flywheel.model.promoted", Topics::modelPromoted);
    topics.put("flywheel.predictions", Topics::predictions);
    topics.put("flywheel.drift.reports", Topics::driftReports);
    topics.put("flywheel.drift.alerts", Topics::driftAlerts);
    return topics;
  }

  @Test
  void shouldNameEveryTopicAsDesignedWhenNoPrefixIsSet() {
    // Given a catalogue without prefix
    // When every fixed topic is listed
    List<String> names = plain.all().stream().map(Topic::name).toList();

    // Then the names are DESIGN.md's, plus the CDC offsets topic
    assertThat(plain.prefix()).isEmpty();
    assertThat(names).containsExactly(
        "flywheel.labels",
        "flywheel.features",
        "flywheel.training.requests",
        "flywheel.training.runs",
        "flywheel.registry.commands",
        "flywheel.registry.state",
        "flywheel.model.events",
        "flywheel.model.promoted",
        "flywheel.predictions",
        "flywheel.drift.reports",
        "flywheel.drift.alerts",
        "flywheel.ingest.cdc.offsets");
    eventTopics().forEach((name, topic) -> assertThat(topic.apply(plain).name()).isEqualTo(name));
  }

  @Test
  void shouldPrefixEveryTopicNameWithTheTenantAndADot() {
    // Given a catalogue with prefix "acme"
    // Then every fixed topic and every data topic is the plain name after "acme."
    for (int i = 0; i < plain.all().size(); i++) {
      assertThat(acme.all().get(i).name()).isEqualTo("acme." + plain.all().get(i).name());
    }
    assertThat(acme.predictions().name()).isEqualTo("acme.flywheel.predictions");
    assertThat(acme.data("transactions").name()).isEqualTo("acme.flywheel.data.transactions");
    assertThat(acme.prefix()).isEqualTo("acme");
  }

  @Test
  void shouldNameDataTopicsAfterTheirSource() {
    // When the data topic of a source is asked for
    Topic<String, GenericRecord> data = plain.data("card-tx");

    // Then it is flywheel.data.<source>, string keys, generic Avro values
    assertThat(data.name()).isEqualTo("flywheel.data.card-tx");
    assertThat(data.keySerde()).isInstanceOf(Serdes.StringSerde.class);
    assertThat(data.valueSerde()).isEqualTo(new FakeSerde<>(GenericRecord.class, false));
  }

  @Test
  void shouldNameADeadLetterTopicAfterTheFullTopicName() {
    // When the dead-letter topics of a prefixed topic, a data topic and a raw name are asked for
    Topic<byte[], byte[]> features = acme.dlq(acme.features());
    Topic<byte[], byte[]> data = plain.dlq(plain.data("transactions"));
    Topic<byte[], byte[]> raw = acme.dlq("acme.flywheel.features");

    // Then each is <name>.dlq, never prefixed twice, with byte-array serdes
    assertThat(features.name()).isEqualTo("acme.flywheel.features.dlq");
    assertThat(data.name()).isEqualTo("flywheel.data.transactions.dlq");
    assertThat(raw.name()).isEqualTo(features.name());
    assertThat(features.keySerde()).isInstanceOf(Serdes.ByteArraySerde.class);
    assertThat(features.valueSerde()).isInstanceOf(Serdes.ByteArraySerde.class);
    assertThat(Topics.isDlq(features.name())).isTrue();
    assertThat(Topics.isDlq(acme.features().name())).isFalse();
  }

  @Test
  void shouldRefuseTheDeadLetterTopicOfADeadLetterTopic() {
    // Given a dead-letter topic
    Topic<byte[], byte[]> dlq = plain.dlq(plain.predictions());

    // When its own dead-letter topic is asked for
    // Then it is refused, naming the topic
    assertThatThrownBy(() -> plain.dlq(dlq)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'flywheel.predictions.dlq' is already a dead-letter topic");
  }

  @Test
  void shouldUseStringKeysAndTheEventClassAsValueOfEveryEventTopic() {
    // Given the value class each event topic must carry
    Map<Function<Topics, Topic<String, ?>>, Class<?>> expected = new LinkedHashMap<>();
    expected.put(Topics::labels, Label.class);
    expected.put(Topics::features, FeatureVector.class);
    expected.put(Topics::trainingRequests, TrainingRequested.class);
    expected.put(Topics::trainingRuns, TrainingRun.class);
    expected.put(Topics::registryCommands, RegistryCommand.class);
    expected.put(Topics::registryState, ModelRegistryState.class);
    expected.put(Topics::modelEvents, ModelEvent.class);
    expected.put(Topics::modelPromoted, ModelPromoted.class);
    expected.put(Topics::predictions, Prediction.class);
    expected.put(Topics::driftReports, DriftReport.class);
    expected.put(Topics::driftAlerts, DriftAlert.class);

    // Then each topic's value serde was made for that class, as a value serde, and keys are strings
    expected.forEach((accessor, type) -> {
      Topic<String, ?> topic = accessor.apply(plain);
      assertThat(topic.valueSerde()).as(topic.name()).isEqualTo(new FakeSerde<>(type, false));
      assertThat(topic.keySerde()).as(topic.name()).isInstanceOf(Serdes.StringSerde.class);
    });
    assertThat(expected).hasSize(eventTopics().size());
  }

  @Test
  void shouldKeepTheAuditLogPromotionsRunsCommandsAndAlertsForever() {
    // Then the history topics have infinite retention and delete cleanup
    for (Topic<?, ?> topic : List.of(plain.modelEvents(), plain.modelPromoted(),
        plain.trainingRuns(), plain.registryCommands(), plain.driftAlerts())) {
      assertThat(topic.configs()).as(topic.name())
          .containsEntry("retention.ms", "-1")
          .containsEntry("cleanup.policy", "delete");
    }
  }

  @Test
  void shouldCompactTheRegistryStateAndTheCdcOffsetsOnly() {
    // When the compacted topics are listed
    List<String> compacted = plain.all().stream().filter(Topic::compacted).map(Topic::name).toList();

    // Then they are the keyed state topics, without a retention limit
    assertThat(compacted).containsExactly("flywheel.registry.state", "flywheel.ingest.cdc.offsets");
    assertThat(plain.registryState().configs()).containsExactly(Map.entry("cleanup.policy", "compact"));
  }

  @Test
  void shouldGiveEveryDeleteTopicAnExplicitRetention() {
    // Then every topic that is not compacted states both its cleanup policy and its retention
    List<Topic<?, ?>> deleting = new java.util.ArrayList<>(plain.all());
    deleting.add(plain.data("transactions"));
    deleting.add(plain.dlq(plain.features()));
    deleting.removeIf(Topic::compacted);
    for (Topic<?, ?> topic : deleting) {
      assertThat(topic.configs()).as(topic.name())
          .containsEntry("cleanup.policy", "delete")
          .containsKey("retention.ms");
    }
    assertThat(plain.data("transactions").configs())
        .containsEntry("retention.ms", Long.toString(Duration.ofDays(7).toMillis()));
    assertThat(plain.predictions().configs())
        .containsEntry("retention.ms", Long.toString(Duration.ofDays(30).toMillis()));
    assertThat(plain.dlq(plain.features()).configs())
        .containsEntry("retention.ms", Long.toString(Duration.ofDays(30).toMillis()));
  }

  @Test
  void shouldKeepFeaturesAndLabelsForTheTrainingDataRetention() {
    // Given the default catalogue and one keeping training data for 90 days
    Topics ninety = Topics.builder(new FakeAvroSerdeFactory())
        .trainingDataRetention(Duration.ofDays(90)).build();

    // Then features and labels follow the setting, 365 days by default
    String year = Long.toString(Duration.ofDays(365).toMillis());
    String days90 = Long.toString(Duration.ofDays(90).toMillis());
    assertThat(plain.features().configs()).containsEntry("retention.ms", year);
    assertThat(plain.labels().configs()).containsEntry("retention.ms", year);
    assertThat(ninety.features().configs()).containsEntry("retention.ms", days90);
    assertThat(ninety.labels().configs()).containsEntry("retention.ms", days90);
    assertThat(ninety.trainingDataRetention()).isEqualTo(Duration.ofDays(90));
  }

  @Test
  void shouldApplyTheConfiguredPartitionsAndReplicationFactorToEveryTopic() {
    // Given a catalogue with 12 partitions and replication factor 3
    Topics big = Topics.builder(new FakeAvroSerdeFactory()).partitions(12)
        .replicationFactor((short) 3).build();

    // Then every topic, data and dead-letter topics included, has them
    List<Topic<?, ?>> every = new java.util.ArrayList<>(big.all());
    every.add(big.data("transactions"));
    every.add(big.dlq(big.predictions()));
    assertThat(every).allSatisfy(topic -> {
      assertThat(topic.partitions()).as(topic.name()).isEqualTo(12);
      assertThat(topic.replicationFactor()).as(topic.name()).isEqualTo((short) 3);
    });
    assertThat(plain.all()).allSatisfy(topic -> {
      assertThat(topic.partitions()).isEqualTo(Topics.DEFAULT_PARTITIONS);
      assertThat(topic.replicationFactor()).isEqualTo(Topics.DEFAULT_REPLICATION_FACTOR);
    });
  }

  @Test
  void shouldAskTheSerdeFactoryForValueSerdesOnly() {
    // Then no serde of the catalogue was made as a key serde
    assertThat(plain.all()).map(Topic::valueSerde)
        .filteredOn(FakeSerde.class::isInstance)
        .hasSize(eventTopics().size())
        .allSatisfy(serde -> assertThat(((FakeSerde<?>) serde).isKey()).isFalse());
  }

  @ParameterizedTest
  @ValueSource(strings = {".acme", "acme.", "ac me", "acme/prod", "äcme"})
  void shouldRefuseAPrefixKafkaCannotNameTopicsWith(String prefix) {
    // When a prefix with an illegal character or an edge dot is given
    // Then the builder refuses it, naming the prefix
    assertThatThrownBy(() -> Topics.builder(new FakeAvroSerdeFactory()).prefix(prefix))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'" + prefix + "'");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "card tx", "card/tx", ".tx", "tx.", "tx.dlq"})
  void shouldRefuseASourceNameThatMakesNoGoodTopicName(String source) {
    // When a data topic is asked for with a bad source name
    // Then it is refused with a message
    assertThatThrownBy(() -> plain.data(source)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("source");
  }

  @Test
  void shouldRefuseASourceNameThatMakesATooLongTopicName() {
    // Given a source name that makes a 250-character topic name
    String source = "s".repeat(250 - "flywheel.data.".length());

    // When its data topic is asked for
    // Then it is refused, stating Kafka's limit
    assertThatThrownBy(() -> plain.data(source)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at most 249");
    assertThat(plain.data(source.substring(1)).name()).hasSize(249);
  }

  @Test
  void shouldRefuseSettingsBelowOne() {
    Topics.Builder builder = Topics.builder(new FakeAvroSerdeFactory());

    assertThatThrownBy(() -> builder.partitions(0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("partitions");
    assertThatThrownBy(() -> builder.replicationFactor((short) 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("replication factor");
    assertThatThrownBy(() -> builder.trainingDataRetention(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("retention");
    assertThatThrownBy(() -> Topics.builder(null)).isInstanceOf(NullPointerException.class);
  }
}
