package dev.flywheel.devstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DevstackIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final String SCHEMA = "{\"type\":\"record\",\"name\":\"Ping\","
      + "\"namespace\":\"dev.flywheel.it\",\"fields\":[{\"name\":\"at\",\"type\":\"long\"}]}";

  @TempDir Path dataDir;

  @Test
  void shouldServeBrokerRegistryAndPostgresAndStopThemAllOnClose() throws Exception {
    // Given a stack with PostgreSQL on free ports
    Devstack devstack = Devstack.builder().withPostgres(true).build();

    // When it starts
    devstack.start();

    // Then the broker, the registry and PostgreSQL all answer
    EmbeddedPostgres postgres = devstack.postgres().orElseThrow();
    try (Admin admin = EmbeddedKafkaIT.admin(devstack.bootstrapServers())) {
      assertThat(admin.describeCluster().nodes().get()).hasSize(1);
    }
    assertThat(get(devstack.schemaRegistryUrl() + "/subjects").statusCode()).isEqualTo(200);
    assertThat(devstack.schemaRegistryUrl()).isEqualTo(devstack.registry().url());
    assertThat(devstack.bootstrapServers()).isEqualTo(devstack.kafka().bootstrapServers());
    try (Connection connection = postgres.dataSource().getConnection();
        Statement sql = connection.createStatement();
        ResultSet walLevel = sql.executeQuery("SHOW wal_level")) {
      assertThat(walLevel.next()).isTrue();
      assertThat(walLevel.getString(1)).isEqualTo("logical");
    }

    // And when it is closed, twice
    int registryPort = devstack.registry().port();
    EmbeddedKafka kafka = devstack.kafka();
    devstack.close();
    devstack.close();

    // Then nothing is left running and its temporary folders are gone
    assertThat(devstack.isRunning()).isFalse();
    assertThat(kafka.isRunning()).isFalse();
    assertThat(kafka.logDir()).doesNotExist();
    assertThat(postgres.isRunning()).isFalse();
    assertThat(postgres.dataDir()).doesNotExist();
    assertThat(portIsFree(registryPort)).isTrue();
    assertThatThrownBy(devstack::bootstrapServers).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
  }

  @Test
  void shouldKeepTopicsSchemasAndTablesWhenRestartedOnTheSameDataDirectory() throws Exception {
    // Given a stack on a kept data directory with a topic, a registered schema and a table
    int schemaId;
    try (Devstack first = Devstack.builder().dataDir(dataDir).withPostgres(true).build()) {
      first.start();
      EmbeddedKafkaIT.createTopic(first.bootstrapServers(), "kept-topic");
      schemaId = register(first.schemaRegistryUrl(), "kept-topic-value");
      try (Connection connection = first.postgres().orElseThrow().dataSource().getConnection();
          Statement sql = connection.createStatement()) {
        sql.execute("CREATE TABLE kept_table (id int)");
      }
    }

    // When a new stack starts on the same directory
    try (Devstack second = Devstack.builder().dataDir(dataDir).withPostgres(true).build()) {
      second.start();

      // Then the topic, the schema id and the table are still there, in the documented layout
      try (Admin admin = EmbeddedKafkaIT.admin(second.bootstrapServers())) {
        assertThat(admin.listTopics().names().get()).contains("kept-topic");
      }
      JsonNode latest = JSON.readTree(
          get(second.schemaRegistryUrl() + "/subjects/kept-topic-value/versions/latest").body());
      assertThat(latest.get("id").asInt()).isEqualTo(schemaId);
      try (Connection connection = second.postgres().orElseThrow().dataSource().getConnection();
          Statement sql = connection.createStatement();
          ResultSet tables = sql.executeQuery(
              "SELECT count(*) FROM pg_tables WHERE tablename = 'kept_table'")) {
        assertThat(tables.next()).isTrue();
        assertThat(tables.getInt(1)).isEqualTo(1);
      }
      assertThat(second.kafka().logDir()).isEqualTo(dataDir.resolve("kafka"));
      assertThat(second.postgres().orElseThrow().dataDir()).isEqualTo(dataDir.resolve("postgres"));
    }
    assertThat(dataDir.resolve("kafka").resolve("meta.properties")).exists();
    assertThat(dataDir.resolve("postgres").resolve("PG_VERSION")).exists();
  }

  @Test
  void shouldStartPostgresOnlyWhenAskedFor() {
    // Given a started stack built without PostgreSQL
    try (Devstack devstack = Devstack.builder().build().start()) {
      assertThat(devstack.postgres()).isEmpty();

      // When PostgreSQL is asked for twice
      EmbeddedPostgres postgres = devstack.startPostgres();
      EmbeddedPostgres again = devstack.startPostgres();

      // Then one server runs and the stack reports it
      assertThat(again).isSameAs(postgres);
      assertThat(postgres.isRunning()).isTrue();
      assertThat(devstack.postgres()).containsSame(postgres);
    }
  }

  @Test
  void shouldStopTheBrokerAgainWhenTheRegistryCannotStart() throws Exception {
    // Given the registry's port is taken by another process
    int kafkaPort = EmbeddedKafka.freePort();
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      Devstack devstack = Devstack.builder().kafkaPort(kafkaPort)
          .registryPort(taken.getLocalPort()).build();

      // When the stack starts
      // Then it fails, and the broker it had started is stopped again
      assertThatThrownBy(devstack::start).isInstanceOf(RuntimeException.class);
      assertThat(devstack.isRunning()).isFalse();
      assertThat(portIsFree(kafkaPort)).isTrue();
      devstack.close();
    }
  }

  @Test
  void shouldRefuseToHandOutComponentsBeforeStart() {
    Devstack devstack = Devstack.builder().build();

    assertThatThrownBy(devstack::bootstrapServers).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("start()");
    assertThatThrownBy(devstack::startPostgres).isInstanceOf(IllegalStateException.class);
    assertThat(devstack.postgres()).isEmpty();
    devstack.close();
  }

  private static int register(String registryUrl, String subject) throws Exception {
    String body = JSON.writeValueAsString(Map.of("schema", SCHEMA));
    HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(
            URI.create(registryUrl + "/subjects/" + subject + "/versions"))
        .header("Content-Type", "application/vnd.schemaregistry.v1+json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return JSON.readTree(response.body()).get("id").asInt();
  }

  private static HttpResponse<String> get(String url) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(url)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static boolean portIsFree(int port) {
    try (ServerSocket probe = new ServerSocket(port, 1, InetAddress.getByName("127.0.0.1"))) {
      return probe.getLocalPort() == port;
    } catch (IOException inUse) {
      return false;
    }
  }
}
