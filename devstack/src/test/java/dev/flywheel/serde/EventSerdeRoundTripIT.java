package dev.flywheel.serde;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
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
import dev.flywheel.events.Transaction;
import dev.flywheel.registry.RegisteredSchema;
import dev.flywheel.registry.SchemaRegistryClient;
import dev.flywheel.topics.Topics;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every top-level event of {@code dev.flywheel.events}, fully populated, through the real broker
 * and the embedded registry with {@link SpecificAvroSerde} and a REST registry client.
 */
@WithDevstack
class EventSerdeRoundTripIT {

  private static Devstack devstack;
  private static Topics topics;

  @BeforeAll
  static void createTopics(Devstack stack, UniqueNames names) {
    devstack = stack;
    topics = KafkaIO.bootstrap(stack, names.prefix());
  }

  static Stream<Arguments> events() {
    return Stream.of(
        event(FeatureVector.class, t -> t.features().name()),
        event(Label.class, t -> t.labels().name()),
        event(TrainingRequested.class, t -> t.trainingRequests().name()),
        event(TrainingRun.class, t -> t.trainingRuns().name()),
        event(RegistryCommand.class, t -> t.registryCommands().name()),
        event(ModelEvent.class, t -> t.modelEvents().name()),
        event(ModelPromoted.class, t -> t.modelPromoted().name()),
        event(Prediction.class, t -> t.predictions().name()),
        event(DriftReport.class, t -> t.driftReports().name()),
        event(DriftAlert.class, t -> t.driftAlerts().name()),
        event(Transaction.class, t -> t.data("transactions").name()),
        event(ModelRegistryState.class, t -> t.registryState().name()));
  }

  /** One sample per branch of the class's multi-record union (the commands), else one sample. */
  private static Arguments event(Class<? extends SpecificRecord> type,
      Function<Topics, String> topic) {
    int variants = Math.max(1, FullyPopulated.commandBranches(type).size());
    List<SpecificRecord> samples = IntStream.range(0, variants)
        .mapToObj(i -> (SpecificRecord) FullyPopulated.of(type, i)).toList();
    return Arguments.of(type.getSimpleName(), type, topic, samples);
  }

  @Test
  void shouldBuildOneSampleOfEveryCommandVariant() {
    // Given the command union of RegistryCommand
    int branches = FullyPopulated.commandBranches(RegistryCommand.class).size();

    // When a sample is built for each branch
    List<Object> commandTypes = IntStream.range(0, branches)
        .mapToObj(i -> (Object) FullyPopulated.of(RegistryCommand.class, i).getCommand().getClass())
        .toList();

    // Then every variant (RegisterVersion, SetAlias, ..., ReportServingFailure) is covered once
    assertThat(branches).isGreaterThanOrEqualTo(11);
    assertThat(commandTypes).doesNotHaveDuplicates().hasSize(branches);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("events")
  <T extends SpecificRecord> void shouldSampleEveryFieldWithAValue(String name, Class<T> type,
      Function<Topics, String> topicOf, List<T> samples) {
    // Given the samples of an event class
    // When every field is walked, nested records, arrays and maps included
    List<String> nullFields = new ArrayList<>();
    samples.forEach(sample -> collectNulls(sample, name, nullFields));

    // Then none is null, so the round trip covers every optional branch
    assertThat(nullFields).isEmpty();
  }

  private static void collectNulls(Object value, String path, List<String> nulls) {
    if (value == null) {
      nulls.add(path);
    } else if (value instanceof SpecificRecord record) {
      record.getSchema().getFields().forEach(
          f -> collectNulls(record.get(f.pos()), path + "." + f.name(), nulls));
    } else if (value instanceof List<?> list) {
      list.forEach(element -> collectNulls(element, path + "[]", nulls));
    } else if (value instanceof Map<?, ?> map) {
      map.forEach((k, v) -> collectNulls(v, path + "{" + k + "}", nulls));
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("events")
  <T extends SpecificRecord> void shouldReadBackEveryEventWrittenToItsCatalogueTopic(String name,
      Class<T> type, Function<Topics, String> topicOf, List<T> samples) {
    // Given fully populated events and the event's catalogue topic
    String topic = topicOf.apply(topics);
    SpecificAvroSerde<T> producerSerde = new SpecificAvroSerde<>(KafkaIO.freshClient(devstack), type);

    // When they are produced through the broker with auto-registration and consumed back by a
    // consumer with its own deserializer and registry client
    KafkaIO.produce(devstack, topic, producerSerde.serializer(), samples);
    SpecificAvroSerde<T> consumerSerde = new SpecificAvroSerde<>(KafkaIO.freshClient(devstack), type);
    List<T> read = KafkaIO.consume(devstack, topic, consumerSerde.deserializer(), samples.size())
        .stream().map(ConsumerRecord::value).toList();

    // Then each event reads back equal to what was written, in order
    assertThat(read).containsExactlyElementsOf(samples);
    assertThat(read).allSatisfy(event -> assertThat(event).isExactlyInstanceOf(type));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("events")
  <T extends SpecificRecord> void shouldRegisterTheClassSchemaUnderTheTopicValueSubject(
      String name, Class<T> type, Function<Topics, String> topicOf, List<T> samples) {
    // Given an event serialized for its catalogue topic with auto-registration
    String topic = topicOf.apply(topics);
    String subject = topic + "-value";
    SpecificAvroSerde<T> serde = new SpecificAvroSerde<>(KafkaIO.freshClient(devstack), type);
    byte[] payload = serde.serializer().serialize(topic, samples.get(0));

    // When the registry is asked for the subject, by a client that did not register it
    SchemaRegistryClient reader = KafkaIO.freshClient(devstack);
    RegisteredSchema latest = reader.getLatest(subject);

    // Then the subject holds exactly the class's schema, as version 1, under the id in the payload
    assertThat(reader.listSubjects()).contains(subject);
    assertThat(latest.schema()).isEqualTo(SpecificData.getForClass(type).getSchema(type));
    assertThat(latest.version()).isEqualTo(1);
    assertThat(ByteBuffer.wrap(payload, 1, 4).getInt()).isEqualTo(latest.id());
  }
}
