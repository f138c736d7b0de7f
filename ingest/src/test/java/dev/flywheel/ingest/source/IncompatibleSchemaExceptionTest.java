package dev.flywheel.ingest.source;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.registry.CompatibilityResult;
import dev.flywheel.registry.InMemorySchemaRegistryClient;
import java.util.List;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

class IncompatibleSchemaExceptionTest {

  private static final Schema V1 = new Schema.Parser().parse("""
      {"type": "record", "name": "Tx", "fields": [
        {"name": "card_id", "type": "string"},
        {"name": "amount", "type": "double"},
        {"name": "merchant", "type": {"type": "record", "name": "Merchant", "fields": [
          {"name": "name", "type": "string"}]}}]}""");

  private static List<String> fieldsBreaking(Schema candidate) {
    InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    registry.register("s-value", V1);
    CompatibilityResult result = registry.testCompatibility("s-value", candidate);
    assertThat(result.compatible()).isFalse();
    return IncompatibleSchemaException.fieldsOf(result.messages(), candidate, V1);
  }

  @Test
  void shouldNameANewFieldWithoutDefault() {
    Schema v2 = new Schema.Parser().parse("""
        {"type": "record", "name": "Tx", "fields": [
          {"name": "card_id", "type": "string"},
          {"name": "amount", "type": "double"},
          {"name": "merchant", "type": {"type": "record", "name": "Merchant", "fields": [
            {"name": "name", "type": "string"}]}},
          {"name": "country", "type": "string"}]}""");

    assertThat(fieldsBreaking(v2)).containsExactly("country");
  }

  @Test
  void shouldNameAFieldWhoseTypeChanged() {
    Schema v2 = new Schema.Parser().parse("""
        {"type": "record", "name": "Tx", "fields": [
          {"name": "card_id", "type": "string"},
          {"name": "amount", "type": "string"},
          {"name": "merchant", "type": {"type": "record", "name": "Merchant", "fields": [
            {"name": "name", "type": "string"}]}}]}""");

    assertThat(fieldsBreaking(v2)).containsExactly("amount");
  }

  @Test
  void shouldNameANestedField() {
    Schema v2 = new Schema.Parser().parse("""
        {"type": "record", "name": "Tx", "fields": [
          {"name": "card_id", "type": "string"},
          {"name": "amount", "type": "double"},
          {"name": "merchant", "type": {"type": "record", "name": "Merchant", "fields": [
            {"name": "name", "type": "int"}]}}]}""");

    assertThat(fieldsBreaking(v2)).containsExactly("merchant.name");
  }

  @Test
  void shouldReadConfluentStyleMessages() {
    List<String> messages = List.of("{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE',"
        + " description:'The field 'country' at path '/fields/1' in the new schema has no default"
        + " value and is missing in the old schema', additionalInfo:'country'}");
    Schema candidate = new Schema.Parser().parse("""
        {"type": "record", "name": "Tx", "fields": [
          {"name": "card_id", "type": "string"}, {"name": "country", "type": "string"}]}""");

    assertThat(IncompatibleSchemaException.fieldsOf(messages, candidate, V1))
        .containsExactly("country");
  }

  @Test
  void shouldSayWhichFieldsInItsMessage() {
    IncompatibleSchemaException e = new IncompatibleSchemaException("card-tx",
        "flywheel.data.card-tx-value", List.of("amount"), List.of("BACKWARD: TYPE_MISMATCH"));

    assertThat(e.getMessage()).isEqualTo("schema change of source 'card-tx' is incompatible with"
        + " flywheel.data.card-tx-value (field 'amount' broke compatibility): BACKWARD:"
        + " TYPE_MISMATCH");
  }
}
