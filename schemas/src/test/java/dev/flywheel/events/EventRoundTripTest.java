package dev.flywheel.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every event builds with the generated classes and survives Avro binary encoding unchanged. */
class EventRoundTripTest {

  static Stream<Named<SpecificRecord>> samples() {
    return SampleEvents.all().stream().map(r -> Named.of(label(r), r));
  }

  @ParameterizedTest
  @MethodSource("samples")
  void shouldRoundTripThroughAvroBinaryEncoding(SpecificRecord event) throws IOException {
    // Given a fully populated event
    // When it is written and read back with its own schema
    SpecificRecord copy = roundTrip(event, event.getSchema());

    // Then the copy equals the original, field by field
    assertThat(copy).isEqualTo(event);
    assertThat(copy).isNotSameAs(event);
  }

  @Test
  void shouldKeepAMissingFeatureDistinctFromZero() throws IOException {
    // Given a feature vector where one feature is undefined
    FeatureVector vector = SampleEvents.featureVector();
    assertThat(vector.getFeatures()).containsEntry("seconds_since_last_tx", null);

    // When it round-trips
    FeatureVector copy = roundTrip(vector, FeatureVector.SCHEMA$);

    // Then the feature is still present and still null
    assertThat(copy.getFeatures()).containsKey("seconds_since_last_tx");
    assertThat(copy.getFeatures().get("seconds_since_last_tx")).isNull();
    assertThat(copy.getFeatures().get("tx_count_10m")).isEqualTo(3.0);
  }

  @Test
  void shouldFillDocumentedDefaultsWhenOptionalFieldsAreNotSet() {
    // Given builders given only the required fields
    Label label = Label.newBuilder().setEventId("tx-1").setEventTime(SampleEvents.T0)
        .setValue(0.0).build();
    Prediction prediction = Prediction.newBuilder(SampleEvents.prediction()).clearAlias()
        .clearShadow().clearScoringMode().clearCategoricalFeatures().clearSource().build();

    // Then the defaults are the documented ones
    assertThat(label.getTarget()).isEqualTo("label");
    assertThat(label.getLabelledEventTime()).isNull();
    assertThat(prediction.getShadow()).isFalse();
    assertThat(prediction.getScoringMode()).isEqualTo(ScoringMode.STREAM);
    assertThat(prediction.getCategoricalFeatures()).isEmpty();
    assertThat(prediction.getAlias()).isNull();
  }

  @Test
  void shouldRefuseToBuildAnEventWithoutItsRequiredFields() {
    // Given a transaction builder without an amount
    Transaction.Builder builder = Transaction.newBuilder(SampleEvents.transaction()).clearCardId();

    // When it builds
    // Then it fails naming the missing field
    assertThatThrownBy(builder::build).isInstanceOf(AvroRuntimeException.class)
        .hasMessageContaining("card_id");
  }

  @Test
  void shouldReadAnEnumSymbolAddedLaterAsItsDefault() throws IOException {
    // Given a later Transaction schema whose Channel enum has a new symbol
    Schema later = new Schema.Parser().parse(Transaction.SCHEMA$.toString()
        .replace("\"MOBILE\",\"UNKNOWN\"", "\"MOBILE\",\"UNKNOWN\",\"CRYPTO\""));
    assertThat(later.getField("channel").schema().getEnumSymbols()).contains("CRYPTO");

    // And a transaction written with it in that symbol
    GenericRecord written = new GenericData.Record(later);
    Transaction sample = SampleEvents.transaction();
    for (Schema.Field field : later.getFields()) {
      written.put(field.name(), genericValue(sample, field));
    }
    written.put("channel", new GenericData.EnumSymbol(later.getField("channel").schema(), "CRYPTO"));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(bytes, null);
    new GenericDatumWriter<GenericRecord>(later).write(written, encoder);
    encoder.flush();

    // When today's reader reads it
    Transaction read = new SpecificDatumReader<Transaction>(later, Transaction.SCHEMA$)
        .read(null, DecoderFactory.get().binaryDecoder(bytes.toByteArray(), null));

    // Then the unknown symbol becomes the enum's default and the rest is intact
    assertThat(read.getChannel()).isEqualTo(Channel.UNKNOWN);
    assertThat(read.getAmount()).isEqualTo(sample.getAmount());
    assertThat(read.getEventTime()).isEqualTo(sample.getEventTime());
  }

  @Test
  void shouldReadEveryRegistryCommandBackAsItsOwnRecordType() throws IOException {
    // Given one command of every kind
    List<RegistryCommand> commands = new ArrayList<>(SampleEvents.otherCommands());
    commands.add(0, SampleEvents.registerCommand());

    // When each round-trips
    List<Class<?>> types = new ArrayList<>();
    for (RegistryCommand command : commands) {
      types.add(roundTrip(command, RegistryCommand.SCHEMA$).getCommand().getClass());
    }

    // Then each comes back as the record it was, in union order
    assertThat(types).containsExactly(RegisterVersion.class, SetAlias.class, RemoveAlias.class,
        ApproveVersion.class, RejectVersion.class, PromoteVersion.class, RollbackAlias.class,
        ArchiveVersion.class, UnarchiveVersion.class, SetTags.class, ReportServingFailure.class);
  }

  private static Object genericValue(Transaction sample, Schema.Field field) {
    Object value = sample.get(field.name());
    if (value instanceof java.time.Instant instant) {
      return instant.toEpochMilli();
    }
    if (value instanceof Enum<?> symbol) {
      return new GenericData.EnumSymbol(field.schema(), symbol.name());
    }
    return value;
  }

  private static <T extends SpecificRecord> T roundTrip(T record, Schema schema)
      throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(bytes, null);
    new SpecificDatumWriter<T>(schema).write(record, encoder);
    encoder.flush();
    return new SpecificDatumReader<T>(schema)
        .read(null, DecoderFactory.get().binaryDecoder(bytes.toByteArray(), null));
  }

  private static String label(SpecificRecord record) {
    String name = record.getSchema().getName();
    if (record instanceof RegistryCommand command) {
      return name + "(" + command.getCommand().getClass().getSimpleName() + ")";
    }
    return name;
  }
}
