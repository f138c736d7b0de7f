package dev.flywheel.registryprojector;

import dev.flywheel.events.ModelEvent;
import dev.flywheel.events.ModelPromoted;
import dev.flywheel.events.ModelRegistryState;
import dev.flywheel.events.RegistryCommand;
import dev.flywheel.events.TrainingRun;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.streams.StreamsProps;
import dev.flywheel.topics.Topics;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.errors.LogAndFailExceptionHandler;
import org.apache.kafka.streams.errors.LogAndFailProcessingExceptionHandler;
import org.apache.kafka.streams.state.KeyValueStore;

/** The production topology in a {@link TopologyTestDriver}, with typed topics. */
final class RegistryDriver implements AutoCloseable {

  final AvroSerdes serdes;
  final Topics topics;
  final TopologyTestDriver driver;
  final TestInputTopic<String, RegistryCommand> commands;
  final TestInputTopic<String, TrainingRun> runs;
  final TestOutputTopic<String, ModelEvent> events;
  final TestOutputTopic<String, ModelPromoted> promoted;
  final TestOutputTopic<String, ModelRegistryState> states;
  final List<ModelEvent> allEvents = new java.util.ArrayList<>();

  RegistryDriver(RegistryConfig config, Path stateDir) {
    this(config, stateDir, Map.of());
  }

  /** The driver with these Kafka properties too (a smaller {@code max.request.size}, say). */
  RegistryDriver(RegistryConfig config, Path stateDir, Map<String, Object> kafka) {
    serdes = AvroSerdes.fromConfig(Map.of("schema.registry.url", "mock://" + UUID.randomUUID()));
    topics = Topics.builder(serdes).build();
    Properties props = StreamsProps.builder(config.applicationId())
        .bootstrapServers("unused:9092")
        .stateDir(stateDir)
        // No broker under the test driver: a bad record fails the test instead of going to a DLQ.
        .overrides(Map.of(
            StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG,
            LogAndFailProcessingExceptionHandler.class,
            StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
            LogAndFailExceptionHandler.class))
        .overrides(kafka)
        .build();
    driver = new TopologyTestDriver(RegistryTopology.build(config, topics, serdes), props);
    commands = driver.createInputTopic(topics.registryCommands().name(),
        topics.registryCommands().keySerde().serializer(),
        topics.registryCommands().valueSerde().serializer());
    runs = driver.createInputTopic(topics.trainingRuns().name(),
        topics.trainingRuns().keySerde().serializer(),
        topics.trainingRuns().valueSerde().serializer());
    events = driver.createOutputTopic(topics.modelEvents().name(),
        topics.modelEvents().keySerde().deserializer(),
        topics.modelEvents().valueSerde().deserializer());
    promoted = driver.createOutputTopic(topics.modelPromoted().name(),
        topics.modelPromoted().keySerde().deserializer(),
        topics.modelPromoted().valueSerde().deserializer());
    states = driver.createOutputTopic(topics.registryState().name(),
        topics.registryState().keySerde().deserializer(),
        topics.registryState().valueSerde().deserializer());
  }

  /** Sends a command at {@code time}, keyed by its model, and returns the events it caused. */
  List<ModelEvent> send(RegistryCommand command, Instant time) {
    commands.pipeInput(command.getModel(), command, time);
    List<ModelEvent> out = events.readValuesToList();
    allEvents.addAll(out);
    return out;
  }

  /** Sends a command at {@link Fixtures#T0}. */
  List<ModelEvent> send(RegistryCommand command) {
    return send(command, Fixtures.T0);
  }

  /** The single event a command caused. */
  ModelEvent decide(RegistryCommand command) {
    List<ModelEvent> out = send(command);
    if (out.size() != 1) {
      throw new AssertionError("expected one event, got " + out);
    }
    return out.get(0);
  }

  ModelRegistryState state(String model) {
    KeyValueStore<String, ModelRegistryState> store =
        driver.getKeyValueStore(RegistryTopology.STATE_STORE);
    return store.get(model);
  }

  @Override
  public void close() {
    driver.close();
  }
}
