package dev.flywheel.trainingtrigger.executor;

import dev.flywheel.events.TrainingRun;
import dev.flywheel.registry.InMemorySchemaRegistryClient;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.Topics;
import dev.flywheel.trainingtrigger.artifact.LocalArtifactStore;
import dev.flywheel.trainingtrigger.config.ExecutorSpec;
import dev.flywheel.trainingtrigger.config.ModelSpec;
import dev.flywheel.trainingtrigger.config.TrainingTriggerConfig;
import dev.flywheel.trainingtrigger.dataset.DatasetBuilder;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.producer.Producer;

/**
 * Starts a {@link RunWorker} as the worker's tests need it: state, artifacts and work files under
 * {@code dir}, one attempt at a time, and a dataset builder pointed at no broker (an attempt that
 * builds a dataset must find it prepared in the artifact store).
 */
final class TestWorkers {

  private TestWorkers() {}

  static RunWorker start(Path dir, List<ModelSpec> models,
      Supplier<Consumer<String, byte[]>> consumers, Producer<String, TrainingRun> producer,
      Topic<String, TrainingRun> runs, Map<ExecutorSpec.Kind, TrainingExecutor> executors) {
    TrainingTriggerConfig config = TrainingTriggerConfig.of(models).withService(
        new TrainingTriggerConfig.Service("worker-test", dir.resolve("state"),
            dir.resolve("artifacts"), dir.resolve("work"), 1, Duration.ofSeconds(5)));
    LocalArtifactStore store = new LocalArtifactStore(dir.resolve("artifacts"));
    DatasetBuilder datasets = DatasetBuilder.builder()
        .kafka(Map.of("bootstrap.servers", "127.0.0.1:1"))
        .topics(Topics.builder(new AvroSerdes(new InMemorySchemaRegistryClient(), Map.of()))
            .build())
        .store(store).build();
    return new RunWorker(config, consumers, producer, runs, executors, datasets, store,
        Clock.systemUTC()).start();
  }
}
