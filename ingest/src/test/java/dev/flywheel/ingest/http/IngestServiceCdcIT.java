package dev.flywheel.ingest.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.EmbeddedPostgres;
import dev.flywheel.devstack.junit.CommittedValues;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.ingest.IngestConfig;
import dev.flywheel.ingest.metrics.IngestMetrics;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The ingest service with a {@code cdc:} section, against the embedded PostgreSQL. */
@WithDevstack
class IngestServiceCdcIT {

  private static final Duration AT_MOST = Duration.ofSeconds(90);
  private static final ObjectMapper JSON = new ObjectMapper();

  private Devstack devstack;
  private EmbeddedPostgres postgres;
  private UniqueNames names;
  private Topics topics;
  private AvroSerdes serdes;
  private String slot;
  private IngestService ingest;
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

  @BeforeEach
  void setUp(Devstack devstack, EmbeddedPostgres postgres, UniqueNames names) {
    this.devstack = devstack;
    this.postgres = postgres;
    this.names = names;
    serdes = AvroSerdes.fromConfig(Map.of("schema.registry.url", devstack.schemaRegistryUrl()));
    topics = Topics.builder(serdes).prefix(names.prefix()).build();
    slot = "svc_" + names.prefix().split("-")[0].toLowerCase();
  }

  @AfterEach
  void tearDown() throws SQLException {
    if (ingest != null) {
      ingest.close();
    }
    sql("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
        + " WHERE slot_name = '" + slot + "'");
  }

  @Test
  void shouldCaptureTheTablesOfTheCdcSectionAndReportThemInHealth() throws Exception {
    // Given two tables and a flywheel.yaml whose cdc section maps them to sources, with the
    // password only in the environment
    String accounts = slot + "_accounts";
    String payments = slot + "_payments";
    sql("CREATE TABLE " + accounts + " (id int PRIMARY KEY, owner text NOT NULL)");
    sql("CREATE TABLE " + payments + " (id int PRIMARY KEY, amount int NOT NULL)");
    IngestConfig config = IngestConfig.parse("""
        ingest:
          port: 0
        cdc:
          host: %s
          port: %d
          database: %s
          user: %s
          name: %s
          slot: %s
          publication: %s
          tables:
            - table: public.%s
              source: accounts
            - table: %s
              source: payments
        """.formatted(postgres.host(), postgres.port(), postgres.database(), postgres.user(),
        names.prefix(), slot, slot, accounts, payments));

    // When the service starts and rows are written
    ingest = IngestService.builder()
        .config(config)
        .configDir(Path.of("."))
        .kafka(Map.of("bootstrap.servers", devstack.bootstrapServers()))
        .serdes(serdes)
        .topics(topics)
        .host("127.0.0.1")
        .environment(Map.of(IngestConfig.Cdc.PASSWORD_ENV, postgres.password()))
        .meterRegistry(meters)
        .build()
        .start();
    awaitStreaming();
    sql("INSERT INTO " + accounts + " VALUES (1, 'ada'), (2, 'bob')");
    sql("INSERT INTO " + payments + " VALUES (7, 250)");

    // Then the rows arrive on their sources' topics
    assertThat(awaitRecords(topics.data("accounts"), 2)).extracting(
        r -> r.key() + ":" + r.value().get("owner")).containsExactlyInAnyOrder("1:ada", "2:bob");
    assertThat(awaitRecords(topics.data("payments"), 1)).extracting(ConsumerRecord::key)
        .containsExactly("7");

    // and health is UP with both tables capturing
    JsonNode health = health(200);
    assertThat(health.get("status").asText()).isEqualTo("UP");
    assertThat(health.at("/cdc/running").asBoolean()).isTrue();
    assertThat(health.at("/cdc/tables")).extracting(t -> t.get("table").asText() + "="
        + t.get("status").asText()).containsExactlyInAnyOrder(
            "public." + accounts + "=CAPTURING", "public." + payments + "=CAPTURING");

    // and the meters count the rows and show both tables capturing, with a lag
    await().atMost(AT_MOST).untilAsserted(() -> assertThat(meters.get(IngestMetrics.ACCEPTED)
        .tags("source", "accounts", "path", "cdc").counter().count()).isEqualTo(2));
    assertThat(meters.get(IngestMetrics.CDC_CAPTURING).tags("table", "public." + accounts)
        .gauge().value()).isEqualTo(1);
    assertThat(meters.get(IngestMetrics.CDC_LAG).tags("table", "public." + payments)
        .gauge().value()).isGreaterThanOrEqualTo(0);

    // When one table gains a required column, which the registry rejects
    sql("ALTER TABLE " + accounts + " ADD COLUMN tier int NOT NULL DEFAULT 0");
    sql("INSERT INTO " + accounts + " VALUES (3, 'cy', 1)");

    // Then health says so, naming the table and the reason, while the service stays up
    await().atMost(AT_MOST).untilAsserted(() -> {
      JsonNode degraded = health(200);
      assertThat(degraded.get("status").asText()).isEqualTo("DEGRADED");
      assertThat(degraded.get("reason").asText()).contains("public." + accounts)
          .contains("tier");
      assertThat(degraded.at("/cdc/tables")).filteredOn(
              t -> t.get("source").asText().equals("accounts"))
          .singleElement()
          .satisfies(t -> {
            assertThat(t.get("status").asText()).isEqualTo("STOPPED");
            assertThat(t.get("reason").asText()).contains("schema registry rejects");
          });
    });
    assertThat(ingest.health().cdcTables()).filteredOn(s -> s.table().source().equals("payments"))
        .singleElement().satisfies(s -> assertThat(s.capturing()).isTrue());

    // and the stopped table's gauge reads 0, its rejected change counted and dead-lettered (the
    // table stops before its change is written to the dead-letter topic)
    await().atMost(AT_MOST).untilAsserted(() -> {
      assertThat(meters.get(IngestMetrics.CDC_CAPTURING).tags("table", "public." + accounts)
          .gauge().value()).isZero();
      assertThat(meters.get(IngestMetrics.CDC_CAPTURING).tags("table", "public." + payments)
          .gauge().value()).isEqualTo(1);
      assertThat(meters.get(IngestMetrics.DLQ_WRITES).tags("source", "accounts", "path", "cdc")
          .counter().count()).isGreaterThanOrEqualTo(1);
    });
  }

  private JsonNode health(int expectedStatus) throws Exception {
    HttpResponse<String> response = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create(ingest.url() + "/health")).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(expectedStatus);
    return JSON.readTree(response.body());
  }

  private void awaitStreaming() {
    await().atMost(AT_MOST).until(() -> {
      try (Connection connection = postgres.dataSource().getConnection();
          PreparedStatement query = connection.prepareStatement(
              "SELECT active FROM pg_replication_slots WHERE slot_name = ?")) {
        query.setString(1, slot);
        try (ResultSet rows = query.executeQuery()) {
          return rows.next() && rows.getBoolean(1);
        }
      }
    });
  }

  private void sql(String statement) throws SQLException {
    try (Connection connection = postgres.dataSource().getConnection();
        Statement sql = connection.createStatement()) {
      sql.execute(statement);
    }
  }

  private List<ConsumerRecord<String, GenericRecord>> awaitRecords(
      Topic<String, GenericRecord> topic, int count) {
    return await().atMost(AT_MOST).until(
        () -> CommittedValues.records(devstack.bootstrapServers(), topic),
        records -> records.size() >= count);
  }
}
