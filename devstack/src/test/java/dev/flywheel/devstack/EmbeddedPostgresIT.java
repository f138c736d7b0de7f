package dev.flywheel.devstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedPostgresIT {

  private static EmbeddedPostgres shared;

  @TempDir Path dataDir;

  @BeforeAll
  static void startShared() {
    shared = EmbeddedPostgres.builder().database("flywheel_it").build().start();
  }

  @AfterAll
  static void stopShared() {
    shared.close();
  }

  @Test
  void shouldRunWithLogicalWalLevel() throws SQLException {
    // Given a running server
    // When its WAL settings are read
    try (Connection connection = shared.dataSource().getConnection()) {
      // Then WAL is logical and there is room for Debezium's senders and slots
      assertThat(show(connection, "wal_level")).isEqualTo("logical");
      assertThat(Integer.parseInt(show(connection, "max_wal_senders"))).isGreaterThanOrEqualTo(4);
      assertThat(Integer.parseInt(show(connection, "max_replication_slots")))
          .isGreaterThanOrEqualTo(4);
    }
  }

  @Test
  void shouldCreateLogicalReplicationSlotWithPgoutputAndDecodeChanges() throws SQLException {
    // Given a table published for logical replication and a pgoutput slot
    try (Connection connection = shared.dataSource().getConnection();
        Statement sql = connection.createStatement()) {
      sql.execute("CREATE TABLE accounts (id int PRIMARY KEY, owner text)");
      sql.execute("CREATE PUBLICATION accounts_pub FOR TABLE accounts");
      try (ResultSet slot = sql.executeQuery(
          "SELECT slot_name FROM pg_create_logical_replication_slot('it_slot', 'pgoutput')")) {
        assertThat(slot.next()).isTrue();
        assertThat(slot.getString(1)).isEqualTo("it_slot");
      }

      // When a row is inserted
      sql.execute("INSERT INTO accounts VALUES (1, 'ada')");

      // Then the slot is a logical pgoutput slot and its stream holds the change
      try (ResultSet row = sql.executeQuery("SELECT slot_type, plugin FROM pg_replication_slots"
          + " WHERE slot_name = 'it_slot'")) {
        assertThat(row.next()).isTrue();
        assertThat(row.getString("slot_type")).isEqualTo("logical");
        assertThat(row.getString("plugin")).isEqualTo("pgoutput");
      }
      // (decoding stops at the flushed WAL, and commits are flushed asynchronously)
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        // BEGIN, RELATION, INSERT, COMMIT
        assertThat(query(connection, "SELECT count(*) FROM"
            + " pg_logical_slot_peek_binary_changes('it_slot', NULL, NULL,"
            + " 'proto_version', '1', 'publication_names', 'accounts_pub')"))
            .containsExactly("4");
      });
      sql.execute("SELECT pg_drop_replication_slot('it_slot')");
    }
  }

  @Test
  void shouldAcceptTheAdvertisedCredentialsOverTheJdbcUrl() throws SQLException {
    // Given the connection details a client such as Debezium is given
    Properties credentials = new Properties();
    credentials.setProperty("user", shared.user());
    credentials.setProperty("password", shared.password());

    // When it connects with them
    try (Connection connection = DriverManager.getConnection(shared.jdbcUrl(), credentials)) {
      // Then it is in the requested database as the superuser
      assertThat(query(connection, "SELECT current_database()")).containsExactly("flywheel_it");
      assertThat(query(connection, "SELECT current_user")).containsExactly("postgres");
    }
    assertThat(shared.jdbcUrl())
        .isEqualTo("jdbc:postgresql://" + shared.host() + ":" + shared.port() + "/flywheel_it");
  }

  @Test
  void shouldKeepDataWhenRestartedOnTheSameDataDirectory() throws SQLException {
    // Given a server on a kept data directory holding a row
    try (EmbeddedPostgres postgres = EmbeddedPostgres.builder().dataDir(dataDir).build()) {
      postgres.start();
      int port = postgres.port();
      try (Connection connection = postgres.dataSource().getConnection();
          Statement sql = connection.createStatement()) {
        sql.execute("CREATE TABLE kept (v text)");
        sql.execute("INSERT INTO kept VALUES ('still here')");
      }

      // When it stops and starts again
      postgres.stop();
      assertThat(postgres.isRunning()).isFalse();
      postgres.start();

      // Then the row is still there, on the same port
      assertThat(postgres.port()).isEqualTo(port);
      try (Connection connection = postgres.dataSource().getConnection()) {
        assertThat(query(connection, "SELECT v FROM kept")).containsExactly("still here");
      }
    }
    assertThat(dataDir.resolve("PG_VERSION")).exists();
  }

  @Test
  void shouldDeleteItsTemporaryDataDirectoryOnCloseAndIgnoreASecondClose() {
    // Given a server on a temporary data directory
    EmbeddedPostgres postgres = EmbeddedPostgres.builder().build().start();
    Path temporary = postgres.dataDir();
    assertThat(temporary.resolve("PG_VERSION")).exists();

    // When it is closed twice
    postgres.close();
    postgres.close();

    // Then it is stopped, its directory is gone and it cannot be restarted
    assertThat(postgres.isRunning()).isFalse();
    assertThat(temporary).doesNotExist();
    assertThatThrownBy(postgres::start).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
  }

  @Test
  void shouldRefuseADatabaseNameThatNeedsQuoting() {
    assertThatThrownBy(() -> EmbeddedPostgres.builder().database("drop; table"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("drop; table");
  }

  private static String show(Connection connection, String setting) throws SQLException {
    return query(connection, "SHOW " + setting).get(0);
  }

  private static List<String> query(Connection connection, String sql) throws SQLException {
    List<String> values = new ArrayList<>();
    try (Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery(sql)) {
      while (rows.next()) {
        values.add(rows.getString(1));
      }
    }
    return values;
  }
}
