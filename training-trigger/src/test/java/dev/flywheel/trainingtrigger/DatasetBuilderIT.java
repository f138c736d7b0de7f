package dev.flywheel.trainingtrigger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topics;
import dev.flywheel.trainingtrigger.artifact.LocalArtifactStore;
import dev.flywheel.trainingtrigger.config.ExecutorSpec;
import dev.flywheel.trainingtrigger.config.ModelSpec;
import dev.flywheel.trainingtrigger.config.TrainingSpec;
import dev.flywheel.trainingtrigger.dataset.DatasetBuilder;
import dev.flywheel.trainingtrigger.dataset.DatasetException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Building a dataset from the topics of the embedded broker. */
@WithDevstack
class DatasetBuilderIT {

  @TempDir Path dir;

  @Test
  void shouldFailTheBuildNotDropRecordsWhenTheSchemaRegistryDoesNotAnswer(Devstack devstack,
      UniqueNames names) throws Exception {
    // Given labels and feature vectors on the topics, written through the devstack's registry
    Topics topics = Topics.builder(AvroSerdes.fromConfig(
        Map.of("schema.registry.url", devstack.schemaRegistryUrl())))
        .prefix(names.prefix()).build();
    ItSupport.createTopics(devstack, topics);
    ItSupport.produce(devstack, topics, new SyntheticData(50, 3, true, 7));

    // And a builder whose registry does not answer, with no schema cached
    int port;
    try (ServerSocket free = new ServerSocket(0)) {
      port = free.getLocalPort();
    }
    Topics away = Topics.builder(AvroSerdes.fromConfig(Map.of(
        "schema.registry.url", "http://127.0.0.1:" + port)))
        .prefix(names.prefix()).build();
    DatasetBuilder builder = DatasetBuilder.builder()
        .kafka(Map.of("bootstrap.servers", devstack.bootstrapServers())).topics(away)
        .store(new LocalArtifactStore(dir.resolve("artifacts"))).build();

    // When it builds, Then it fails saying why, rather than building a dataset without them
    ModelSpec model = ModelSpec.of("fraud", SyntheticData.GROUP).withTarget(SyntheticData.TARGET);
    assertThatThrownBy(() -> builder.build(model, dir.resolve("work")))
        .isInstanceOf(DatasetException.class)
        .hasMessageContaining("while the schema registry does not answer")
        .hasMessageContaining("tried again");
    assertThat(dir.resolve("work").resolve("dataset.avro")).doesNotExist();
  }

  @Test
  void shouldFailTheBuildWhenTheBrokerDoesNotDeliverTheRecordsWithinTheModelsTimeout(
      Devstack devstack, UniqueNames names) throws Exception {
    // Given labels and feature vectors on the topics
    Topics topics = Topics.builder(AvroSerdes.fromConfig(
        Map.of("schema.registry.url", devstack.schemaRegistryUrl())))
        .prefix(names.prefix()).build();
    ItSupport.createTopics(devstack, topics);
    ItSupport.produce(devstack, topics, new SyntheticData(50, 3, true, 8));
    DatasetBuilder builder = DatasetBuilder.builder()
        .kafka(Map.of("bootstrap.servers", devstack.bootstrapServers())).topics(topics)
        .store(new LocalArtifactStore(dir.resolve("artifacts"))).build();

    // And a model whose timeout is over before the first record can be read (as when the broker
    // goes away after the end offsets were read)
    ExecutorSpec executor = new ExecutorSpec(ExecutorSpec.Kind.LOCAL, Duration.ofNanos(1), null,
        null, null, null, null, null, null, null, null, null);
    ModelSpec model = ModelSpec.of("fraud", SyntheticData.GROUP).withTarget(SyntheticData.TARGET)
        .withTraining(new TrainingSpec(null, null, TrainingSpec.DEFAULT_HOLDOUT_FRACTION,
            TrainingSpec.DEFAULT_DECISION_THRESHOLD, executor));

    // When it builds, Then it fails saying that the broker did not deliver the records in time,
    // rather than waiting for them for good
    assertThatThrownBy(() -> builder.build(model, dir.resolve("work")))
        .isInstanceOf(DatasetException.class)
        .hasMessageContaining("the broker did not deliver the records of "
            + topics.labels().name())
        .hasMessageContaining("within PT0.000000001S (the model's training.executor.timeout")
        .hasMessageContaining("tried again under the model's retry policy");
    assertThat(dir.resolve("work").resolve("dataset.avro")).doesNotExist();
  }
}
