package dev.flywheel.devstack;

import dev.flywheel.devstack.registry.EmbeddedSchemaRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Flywheel's embedded stack in one object: a KRaft {@link EmbeddedKafka} broker, the {@link
 * EmbeddedSchemaRegistry} persisting into it, and, when asked for, an {@link EmbeddedPostgres} with
 * logical WAL for change data capture. {@code flywheel up} and the tests' {@code @WithDevstack}
 * both run one.
 *
 * <pre>{@code
 * try (Devstack devstack = Devstack.builder().withPostgres(true).build()) {
 *   devstack.start();
 *   String bootstrap = devstack.bootstrapServers();   // 127.0.0.1:<port>
 *   String registry = devstack.schemaRegistryUrl();    // http://127.0.0.1:<port>
 *   String jdbc = devstack.postgres().orElseThrow().jdbcUrl();
 * }
 * }</pre>
 *
 * <p>Ports default to 0 (a free one each); {@code flywheel up} asks for the well-known 9092 and
 * 8081. Without a {@linkplain Builder#dataDir(Path) data directory} everything lives in temporary
 * folders deleted on {@link #close()}; with one, the broker keeps its log in {@code <dir>/kafka}
 * and PostgreSQL its cluster in {@code <dir>/postgres}, so a stack started again on the same folder
 * has the same topics, records, schema ids and tables.
 *
 * <p>Thread-safe. {@link #close()} stops the components in reverse order and is idempotent.
 */
public final class Devstack implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Devstack.class);

  private final int kafkaPort;
  private final int registryPort;
  private final int postgresPort;
  private final Path dataDir;
  private final boolean withPostgres;
  private EmbeddedKafka kafka;
  private EmbeddedSchemaRegistry registry;
  private EmbeddedPostgres postgres;
  private boolean started;
  private boolean closed;

  private Devstack(Builder builder) {
    this.kafkaPort = builder.kafkaPort;
    this.registryPort = builder.registryPort;
    this.postgresPort = builder.postgresPort;
    this.dataDir = builder.dataDir;
    this.withPostgres = builder.withPostgres;
  }

  /** A builder for a stack on free ports and temporary folders, without PostgreSQL. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Starts the broker, then the schema registry on it, then PostgreSQL if {@linkplain
   * Builder#withPostgres(boolean) asked for}, logging how long each took. If one fails, those
   * already running are stopped again before the exception is thrown. Starting a started stack
   * does nothing.
   *
   * @throws IllegalStateException when the stack was closed or a component cannot start (a port
   *     in use, a data directory another process holds), naming it
   */
  public synchronized Devstack start() {
    if (closed) {
      throw new IllegalStateException("this Devstack was closed; build a new one");
    }
    if (started) {
      return this;
    }
    long begin = System.nanoTime();
    try {
      EmbeddedKafka.Builder kafkaBuilder = EmbeddedKafka.builder().port(kafkaPort);
      if (dataDir != null) {
        kafkaBuilder.logDir(directory("kafka"));
      }
      kafka = kafkaBuilder.build();
      long kafkaMs = timeMs(kafka::start);

      registry = EmbeddedSchemaRegistry.builder()
          .bootstrapServers(kafka.bootstrapServers())
          .port(registryPort)
          .build();
      long registryMs = timeMs(registry::start);

      String postgresPart = "";
      if (withPostgres) {
        postgresPart = ", PostgreSQL " + timeMs(this::startPostgres) + " ms";
      }
      started = true;
      log.info("devstack up in {} ms (Kafka {} ms, schema registry {} ms{}): bootstrap servers {},"
              + " schema registry {}", (System.nanoTime() - begin) / 1_000_000, kafkaMs,
          registryMs, postgresPart, kafka.bootstrapServers(), registry.url());
      return this;
    } catch (RuntimeException e) {
      stopAll();
      throw e;
    }
  }

  /**
   * Starts PostgreSQL if it is not running yet, on the stack's {@link Builder#postgresPort(int)
   * port} and in {@code <dataDir>/postgres} when the stack has a data directory, and returns it.
   * Lets a stack built without PostgreSQL add it later, as {@code @WithDevstack} does for the
   * first test that asks for it; closed with the stack.
   *
   * @throws IllegalStateException when the stack is not started (or was closed), or PostgreSQL
   *     cannot start
   */
  public synchronized EmbeddedPostgres startPostgres() {
    if (closed || kafka == null) {
      throw new IllegalStateException("start the Devstack before PostgreSQL"
          + (closed ? " (this one was closed)" : ""));
    }
    if (postgres == null) {
      EmbeddedPostgres.Builder postgresBuilder = EmbeddedPostgres.builder().port(postgresPort);
      if (dataDir != null) {
        postgresBuilder.dataDir(directory("postgres"));
      }
      EmbeddedPostgres created = postgresBuilder.build();
      try {
        created.start();
      } catch (RuntimeException e) {
        created.close();
        throw e;
      }
      postgres = created;
    }
    return postgres;
  }

  /**
   * {@code host:port} of the broker, for {@code bootstrap.servers}.
   *
   * @throws IllegalStateException before {@link #start()}
   */
  public String bootstrapServers() {
    return kafka().bootstrapServers();
  }

  /**
   * The schema registry's base URL, {@code http://127.0.0.1:<port>}, for {@code
   * schema.registry.url}.
   *
   * @throws IllegalStateException before {@link #start()}
   */
  public String schemaRegistryUrl() {
    return registry().url();
  }

  /**
   * The broker.
   *
   * @throws IllegalStateException before {@link #start()}
   */
  public synchronized EmbeddedKafka kafka() {
    return requireStarted(kafka);
  }

  /**
   * The schema registry.
   *
   * @throws IllegalStateException before {@link #start()}
   */
  public synchronized EmbeddedSchemaRegistry registry() {
    return requireStarted(registry);
  }

  /** PostgreSQL when it was started (at {@link #start()} or by {@link #startPostgres()}). */
  public synchronized Optional<EmbeddedPostgres> postgres() {
    return Optional.ofNullable(postgres);
  }

  /** The folder kept across runs, or empty when everything is temporary. */
  public Optional<Path> dataDir() {
    return Optional.ofNullable(dataDir);
  }

  /** True between a successful {@link #start()} and {@link #close()}. */
  public synchronized boolean isRunning() {
    return started && !closed;
  }

  /**
   * Stops PostgreSQL, the schema registry and the broker, in that order, deleting their folders
   * when they were temporary. Idempotent; a component failing to stop is logged and the others
   * are still stopped.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    long begin = System.nanoTime();
    boolean wasStarted = started;
    stopAll();
    if (wasStarted) {
      log.info("devstack stopped in {} ms", (System.nanoTime() - begin) / 1_000_000);
    }
  }

  @Override
  public synchronized String toString() {
    return "Devstack{bootstrapServers=" + (kafka == null ? "-" : kafka.bootstrapServers())
        + ", schemaRegistry=" + (registry == null ? "-" : registry.url())
        + ", postgres=" + (postgres == null ? "-" : postgres.jdbcUrl())
        + ", dataDir=" + (dataDir == null ? "temporary" : dataDir) + "}";
  }

  private void stopAll() {
    started = false;
    closeQuietly(postgres, "PostgreSQL");
    postgres = null;
    closeQuietly(registry, "schema registry");
    registry = null;
    closeQuietly(kafka, "Kafka broker");
    kafka = null;
  }

  private static void closeQuietly(AutoCloseable component, String name) {
    if (component == null) {
      return;
    }
    try {
      component.close();
    } catch (Exception e) {
      log.warn("the embedded {} did not stop cleanly", name, e);
    }
  }

  private <T> T requireStarted(T component) {
    if (component == null || closed) {
      throw new IllegalStateException(closed ? "this Devstack was closed"
          : "the Devstack is not started; call start()");
    }
    return component;
  }

  private Path directory(String name) {
    Path dir = dataDir.resolve(name);
    try {
      return Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the devstack data directory " + dir, e);
    }
  }

  private static long timeMs(Runnable step) {
    long begin = System.nanoTime();
    step.run();
    return (System.nanoTime() - begin) / 1_000_000;
  }

  /** Configures a {@link Devstack}; every setting is optional. */
  public static final class Builder {
    private int kafkaPort;
    private int registryPort;
    private int postgresPort;
    private Path dataDir;
    private boolean withPostgres;

    private Builder() {}

    /** The broker's port; 0 (the default) picks a free one, {@code flywheel up} uses 9092. */
    public Builder kafkaPort(int kafkaPort) {
      this.kafkaPort = checkPort(kafkaPort, "kafkaPort");
      return this;
    }

    /**
     * The schema registry's HTTP port; 0 (the default) picks a free one, {@code flywheel up} uses
     * 8081.
     */
    public Builder registryPort(int registryPort) {
      this.registryPort = checkPort(registryPort, "registryPort");
      return this;
    }

    /** PostgreSQL's port, when it runs; 0 (the default) picks a free one. */
    public Builder postgresPort(int postgresPort) {
      this.postgresPort = checkPort(postgresPort, "postgresPort");
      return this;
    }

    /**
     * A folder to keep across runs, holding {@code kafka/} and {@code postgres/}; created if
     * missing. Without one (the default) every component uses a temporary folder deleted on
     * close.
     */
    public Builder dataDir(Path dataDir) {
      this.dataDir = Objects.requireNonNull(dataDir, "dataDir");
      return this;
    }

    /** Whether {@link Devstack#start()} also starts PostgreSQL; false by default. */
    public Builder withPostgres(boolean withPostgres) {
      this.withPostgres = withPostgres;
      return this;
    }

    /** Builds the stack; nothing runs until {@link Devstack#start()}. */
    public Devstack build() {
      return new Devstack(this);
    }

    private static int checkPort(int port, String name) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException(name + " must be 0..65535, was " + port);
      }
      return port;
    }
  }
}
