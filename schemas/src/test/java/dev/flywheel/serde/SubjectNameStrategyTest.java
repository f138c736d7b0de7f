package dev.flywheel.serde;

import static dev.flywheel.serde.TestSchemas.USER_V1;
import static dev.flywheel.serde.TestSchemas.userV1;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flywheel.registry.InMemorySchemaRegistryClient;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class SubjectNameStrategyTest {

  @Test
  void shouldNameSubjectsAfterTheTopicByDefault() {
    // Given the default strategy, When keys and values are named, Then <topic>-key / <topic>-value
    TopicNameStrategy strategy = new TopicNameStrategy();
    assertThat(strategy.subjectName("flywheel.features", true, USER_V1))
        .isEqualTo("flywheel.features-key");
    assertThat(strategy.subjectName("flywheel.features", false, USER_V1))
        .isEqualTo("flywheel.features-value");
  }

  @Test
  void shouldNameSubjectsAfterTheRecordWithRecordNameStrategy() {
    // Given RecordNameStrategy, When a record is named, Then the subject is its full name
    assertThat(new RecordNameStrategy().subjectName("any", false, USER_V1))
        .isEqualTo("dev.flywheel.test.User");
  }

  @Test
  void shouldNameSubjectsAfterTopicAndRecordWithTopicRecordNameStrategy() {
    // Given TopicRecordNameStrategy, When a record is named, Then <topic>-<full name>
    assertThat(new TopicRecordNameStrategy().subjectName("flywheel.features", true, USER_V1))
        .isEqualTo("flywheel.features-dev.flywheel.test.User");
  }

  @Test
  void shouldRefuseRecordNamesForPrimitiveSchemas() {
    // Given RecordNameStrategy, When a primitive schema is named, Then the error says why
    assertThatThrownBy(() -> new RecordNameStrategy().subjectName("t", true,
        Schema.create(Schema.Type.STRING)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("RecordNameStrategy needs a named schema")
        .hasMessageContaining("string");
  }

  @Test
  void shouldAcceptConfluentStrategyClassNamesAsAliases() {
    // Given a value serializer configured with Confluent's class name of RecordNameStrategy
    InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    AvroSerializer<GenericRecord> serializer = new AvroSerializer<>(registry, Map.of(
        AvroSerdeConfig.VALUE_SUBJECT_NAME_STRATEGY,
        "io.confluent.kafka.serializers.subject.RecordNameStrategy"), false);

    // When a record is serialized, Then its schema is registered under the record name
    serializer.serialize("users", userV1("u", 1));
    assertThat(registry.listSubjects()).containsExactly("dev.flywheel.test.User");
  }

  @Test
  void shouldAcceptStrategyClassesAndInstancesAndOwnClassNames() {
    // Given configs naming a strategy by our class name, by Class and by instance
    AvroSerdeConfig byName = AvroSerdeConfig.of(Map.of(AvroSerdeConfig.KEY_SUBJECT_NAME_STRATEGY,
        TopicRecordNameStrategy.class.getName()));
    AvroSerdeConfig byClass = AvroSerdeConfig.of(Map.of(AvroSerdeConfig.KEY_SUBJECT_NAME_STRATEGY,
        RecordNameStrategy.class));
    SubjectNameStrategy custom = (topic, isKey, schema) -> "custom-" + topic;
    AvroSerdeConfig byInstance = AvroSerdeConfig.of(Map.of(
        AvroSerdeConfig.KEY_SUBJECT_NAME_STRATEGY, custom));

    // When the key strategies are read, Then each is the one named; values keep the default
    assertThat(byName.subjectNameStrategy(true)).isInstanceOf(TopicRecordNameStrategy.class);
    assertThat(byName.subjectNameStrategy(false)).isInstanceOf(TopicNameStrategy.class);
    assertThat(byClass.subjectNameStrategy(true)).isInstanceOf(RecordNameStrategy.class);
    assertThat(byInstance.subjectNameStrategy(true).subjectName("t", true, USER_V1))
        .isEqualTo("custom-t");
  }

  @Test
  void shouldRefuseUnknownStrategies() {
    // Given unknown or wrong strategy names, When the config is read, Then ConfigException names it
    assertThatThrownBy(() -> AvroSerdeConfig.of(Map.of(AvroSerdeConfig.VALUE_SUBJECT_NAME_STRATEGY,
        "io.confluent.kafka.serializers.subject.NoSuchStrategy")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("NoSuchStrategy");
    assertThatThrownBy(() -> AvroSerdeConfig.of(Map.of(AvroSerdeConfig.VALUE_SUBJECT_NAME_STRATEGY,
        "java.lang.String")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("not a dev.flywheel.serde.SubjectNameStrategy");
    assertThatThrownBy(() -> AvroSerdeConfig.of(Map.of(AvroSerdeConfig.VALUE_SUBJECT_NAME_STRATEGY,
        "com.example.Missing")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("class not found");
  }

  @Test
  void shouldReportAStrategyThatCannotNameTheDatumsSchema() {
    // Given a key serializer with RecordNameStrategy
    AvroSerializer<Object> serializer = new AvroSerializer<>(new InMemorySchemaRegistryClient(),
        Map.of(AvroSerdeConfig.KEY_SUBJECT_NAME_STRATEGY, RecordNameStrategy.class.getName()), true);

    // When a string key is serialized, Then the error names the topic and the strategy
    assertThatThrownBy(() -> serializer.serialize("users", "card-1"))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("cannot serialize key of topic 'users': RecordNameStrategy needs a "
            + "named schema");
  }
}
