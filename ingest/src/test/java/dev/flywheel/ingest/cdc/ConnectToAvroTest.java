package dev.flywheel.ingest.cdc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.util.List;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.connect.data.Date;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Timestamp;
import org.junit.jupiter.api.Test;

class ConnectToAvroTest {

  private static final org.apache.kafka.connect.data.Schema ROW = SchemaBuilder.struct()
      .field("id", org.apache.kafka.connect.data.Schema.INT64_SCHEMA)
      .field("qty", org.apache.kafka.connect.data.Schema.INT16_SCHEMA)
      .field("note", org.apache.kafka.connect.data.Schema.OPTIONAL_STRING_SCHEMA)
      .field("price", Decimal.builder(2).parameter("connect.decimal.precision", "10").build())
      .field("placed_at", Timestamp.builder().optional().build())
      .field("placed_on", Date.SCHEMA)
      .field("created", SchemaBuilder.string().name("io.debezium.time.ZonedTimestamp").build())
      .build();

  @Test
  void shouldMapColumnTypesToAvroWithNullableUnionsAndLogicalTypes() {
    Schema schema = ConnectToAvro.rowSchema(ROW, "dev.flywheel.cdc.orders", false, List.of("id"));

    assertThat(schema.getField("id").schema().getType()).isEqualTo(Schema.Type.LONG);
    assertThat(schema.getField("qty").schema().getType()).isEqualTo(Schema.Type.INT);
    Schema note = schema.getField("note").schema();
    assertThat(note.getTypes()).extracting(Schema::getType)
        .containsExactly(Schema.Type.NULL, Schema.Type.STRING);
    assertThat(schema.getField("note").hasDefaultValue()).isTrue();
    assertThat(schema.getField("note").defaultVal())
        .isEqualTo(org.apache.avro.JsonProperties.NULL_VALUE);
    assertThat(schema.getField("price").schema().getLogicalType())
        .isEqualTo(LogicalTypes.decimal(10, 2));
    assertThat(schema.getField("placed_at").schema().getTypes().get(1).getLogicalType())
        .isEqualTo(LogicalTypes.timestampMillis());
    assertThat(schema.getField("placed_on").schema().getLogicalType())
        .isEqualTo(LogicalTypes.date());
    assertThat(schema.getField("created").schema().getLogicalType())
        .isEqualTo(LogicalTypes.timestampMillis());
    assertThat(schema.getField(ConnectToAvro.COMMIT_TIME).schema().getLogicalType())
        .isEqualTo(LogicalTypes.timestampMillis());
  }

  @Test
  void shouldMakeEveryNonKeyColumnNullableForDeleteEvents() {
    Schema schema = ConnectToAvro.rowSchema(ROW, "dev.flywheel.cdc.orders", true, List.of("id"));

    assertThat(schema.getField("id").schema().getType()).isEqualTo(Schema.Type.LONG);
    assertThat(schema.getField("qty").schema().getType()).isEqualTo(Schema.Type.UNION);
  }

  @Test
  void shouldConvertValuesToTheirAvroRepresentation() {
    Schema schema = ConnectToAvro.rowSchema(ROW, "dev.flywheel.cdc.orders", false, List.of("id"));
    Struct row = new Struct(ROW)
        .put("id", 7L)
        .put("qty", (short) 3)
        .put("price", new BigDecimal("12.50"))
        .put("placed_at", new java.util.Date(1_767_323_045_678L))
        .put("placed_on", new java.util.Date(86_400_000L * 20_455))
        .put("created", "2026-01-02T03:04:05.678+01:00");

    GenericRecord record = ConnectToAvro.row(schema, row, "c", 42L, 1_000L);

    assertThat(record.get("id")).isEqualTo(7L);
    assertThat(record.get("qty")).isEqualTo(3);
    assertThat(record.get("note")).isNull();
    assertThat(new BigDecimal(new java.math.BigInteger(((ByteBuffer) record.get("price")).array()),
        2)).isEqualByComparingTo("12.50");
    assertThat(record.get("placed_at")).isEqualTo(1_767_323_045_678L);
    assertThat(record.get("placed_on")).isEqualTo(20_455);
    assertThat(record.get("created")).isEqualTo(1_767_319_445_678L);
    assertThat(record.get(ConnectToAvro.OP)).isEqualTo("c");
    assertThat(record.get(ConnectToAvro.LSN)).isEqualTo(42L);
    assertThat(record.get(ConnectToAvro.COMMIT_TIME)).isEqualTo(1_000L);
    assertThat(org.apache.avro.generic.GenericData.get().validate(schema, record)).isTrue();
  }

  @Test
  void shouldRefuseAColumnNamedLikeTheChangeMetadata() {
    org.apache.kafka.connect.data.Schema clash = SchemaBuilder.struct()
        .field(ConnectToAvro.OP, org.apache.kafka.connect.data.Schema.STRING_SCHEMA).build();

    assertThatThrownBy(() -> ConnectToAvro.rowSchema(clash, "dev.flywheel.cdc.x", false,
        List.of())).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("column 'cdc_op'").hasMessageContaining("rename it");
  }

  @Test
  void shouldRefuseDebeziumsPlaceholderForAnUnchangedToastColumn() {
    // Given an update whose unchanged TOAST column PostgreSQL did not send (REPLICA IDENTITY
    // DEFAULT), which Debezium fills with its placeholder
    Schema schema = ConnectToAvro.rowSchema(ROW, "dev.flywheel.cdc.orders", false, List.of("id"));
    Struct row = new Struct(ROW)
        .put("id", 7L)
        .put("qty", (short) 3)
        .put("note", "__debezium_unavailable_value")
        .put("price", new BigDecimal("12.50"))
        .put("placed_on", new java.util.Date(0))
        .put("created", "2026-01-02T03:04:05.678+01:00");

    // When it is converted
    // Then it is refused, naming the column and what to change
    assertThatThrownBy(() -> ConnectToAvro.row(schema, row, "u", 42L, 1_000L))
        .isInstanceOf(ConnectToAvro.UnavailableValueException.class)
        .hasMessageContaining("column 'note'")
        .hasMessageContaining("REPLICA IDENTITY FULL");
  }

  @Test
  void shouldRefuseDebeziumsPlaceholderForAnUnchangedByteaColumn() {
    org.apache.kafka.connect.data.Schema withBytes = SchemaBuilder.struct()
        .field("id", org.apache.kafka.connect.data.Schema.INT64_SCHEMA)
        .field("doc", org.apache.kafka.connect.data.Schema.OPTIONAL_BYTES_SCHEMA)
        .build();
    Schema schema = ConnectToAvro.rowSchema(withBytes, "dev.flywheel.cdc.docs", false,
        List.of("id"));
    Struct row = new Struct(withBytes).put("id", 1L)
        .put("doc", "__debezium_unavailable_value"
            .getBytes(java.nio.charset.StandardCharsets.UTF_8));

    assertThatThrownBy(() -> ConnectToAvro.row(schema, row, "u", 42L, 1_000L))
        .isInstanceOf(ConnectToAvro.UnavailableValueException.class)
        .hasMessageContaining("column 'doc'");
  }
}
