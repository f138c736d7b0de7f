package dev.flywheel.platform;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.ingest.source.SourceCatalog;
import dev.flywheel.registry.SchemaRegistryClient;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

@WithDevstack
class SourcesCommandIT {

  private static final String V1 = """
      {"type": "record", "name": "CardTx", "namespace": "cli", "fields": [
        {"name": "card_id", "type": "string"},
        {"name": "event_time", "type": {"type": "long", "logicalType": "timestamp-millis"}}]}""";

  @TempDir Path dir;

  private Devstack devstack;
  private UniqueNames names;
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @BeforeEach
  void setUp(Devstack devstack, UniqueNames names) {
    this.devstack = devstack;
    this.names = names;
  }

  private int sourcesAdd(String schema, String key) throws Exception {
    Path file = Files.writeString(dir.resolve("tx-" + System.nanoTime() + ".avsc"), schema);
    return new CommandLine(new FlywheelCli())
        .setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
        .execute("sources", "add", "card-tx", "--schema", file.toString(), "--key", key,
            "--time", "event_time", "--bootstrap-servers", devstack.bootstrapServers(),
            "--schema-registry-url", devstack.schemaRegistryUrl(), "--prefix", names.prefix());
  }

  private String subject() {
    return names.prefix() + ".flywheel.data.card-tx-value";
  }

  @Test
  void shouldRegisterTheSchemaAndCreateTheTopic() throws Exception {
    int exit = sourcesAdd(V1, "card_id");

    assertThat(exit).isZero();
    assertThat(out.toString()).contains(subject() + " version 1")
        .contains(names.prefix() + ".flywheel.data.card-tx created");
    SchemaRegistryClient registry = SchemaRegistryClient.builder()
        .url(devstack.schemaRegistryUrl()).build();
    assertThat(registry.getLatest(subject()).schema().getProp(SourceCatalog.KEY_PROPERTY))
        .isEqualTo("card_id");
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", devstack.bootstrapServers()))) {
      assertThat(admin.listTopics().names().get()).contains(
          names.prefix() + ".flywheel.data.card-tx", names.prefix() + ".flywheel.data.card-tx.dlq");
    }
  }

  @Test
  void shouldRefuseAnIncompatibleChangeNamingTheField() throws Exception {
    assertThat(sourcesAdd(V1, "card_id")).isZero();
    String v2 = V1.replace("{\"name\": \"card_id\", \"type\": \"string\"},",
        "{\"name\": \"card_id\", \"type\": \"string\"}, {\"name\": \"country\", \"type\": \"string\"},");

    int exit = sourcesAdd(v2, "card_id");

    assertThat(exit).isEqualTo(SourcesCommand.EXIT_INCOMPATIBLE);
    assertThat(err.toString()).contains("field(s) country broke compatibility");
    SchemaRegistryClient registry = SchemaRegistryClient.builder()
        .url(devstack.schemaRegistryUrl()).build();
    assertThat(registry.listVersions(subject())).hasSize(1);
  }

  @Test
  void shouldRefuseAKeyFieldTheSchemaDoesNotHave() throws Exception {
    int exit = sourcesAdd(V1, "card");

    assertThat(exit).isEqualTo(SourcesCommand.EXIT_INVALID);
    assertThat(err.toString()).contains("key field 'card' is not a field of schema cli.CardTx");
  }

  @Test
  void shouldRefuseADefaultItsFieldsTypeCannotHoldAsAnInvalidSchema() throws Exception {
    // Given a schema whose int field has a string default
    String badDefault = V1.replace("{\"name\": \"card_id\", \"type\": \"string\"},",
        "{\"name\": \"card_id\", \"type\": \"string\"},"
            + " {\"name\": \"count\", \"type\": \"int\", \"default\": \"x\"},");

    // When it is added
    int exit = sourcesAdd(badDefault, "card_id");

    // Then the command exits with EXIT_INVALID saying the schema is invalid, without a stack trace
    assertThat(exit).isEqualTo(SourcesCommand.EXIT_INVALID);
    assertThat(err.toString()).contains("is not a valid Avro schema").contains("count")
        .doesNotContain("\tat ");
  }
}
