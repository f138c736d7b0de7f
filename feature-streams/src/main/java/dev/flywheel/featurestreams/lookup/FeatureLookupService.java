package dev.flywheel.featurestreams.lookup;

import io.javalin.Javalin;
import io.javalin.config.RoutesConfig;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.state.HostInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The online feature lookup: {@code GET /features/{group}/{entity}} and {@code POST
 * /features/{group}/batch}, answered from this instance's online stores or routed to the instance
 * that owns the key (see {@link FeatureLookupHttpApi}).
 *
 * <p>Mount the routes on the shared HTTP server with {@link #routes(RoutesConfig)}; the server's
 * address must be this instance's {@code application.server}, so that the other instances can
 * forward to it. Or give a {@link Builder#port(int)} and {@link #start()} serves them on a server
 * of its own.
 *
 * <pre>{@code
 * FeatureLookupService lookup = FeatureLookupService.builder()
 *     .streams(featureStreams::streams)            // the KafkaStreams holding the online stores
 *     .applicationServer("10.0.0.7:8080")          // the same value as application.server
 *     .groups(groups)                              // LookupGroup per feature group
 *     .build();
 * Javalin.create(c -> lookup.routes(c.routes)).start(8080);
 * }</pre>
 *
 * <p>{@link #close()} stops the own server, if any, and is idempotent; the Kafka Streams instance
 * belongs to its caller.
 */
public final class FeatureLookupService implements AutoCloseable {

  /** How long a lookup forwarded to the owning instance may take before the answer is 503. */
  public static final Duration DEFAULT_FORWARD_TIMEOUT = Duration.ofSeconds(2);

  private static final Logger log = LoggerFactory.getLogger(FeatureLookupService.class);

  private final FeatureLookup lookup;
  private final FeatureLookupHttpApi api;
  private final Integer port;
  private final String bindHost;
  private Javalin server;
  private boolean started;
  private boolean closed;

  private FeatureLookupService(Builder b) {
    this.lookup = new FeatureLookup(b.streams, b.applicationServer, b.groups, b.retryAfter);
    HttpClient http = b.httpClient != null ? b.httpClient : HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(b.forwardTimeout)
        .build();
    this.api = new FeatureLookupHttpApi(lookup, http, b.forwardTimeout);
    this.port = b.port;
    this.bindHost = b.bindHost;
  }

  /** A builder; streams, applicationServer and at least one group are required. */
  public static Builder builder() {
    return new Builder();
  }

  /** Adds the lookup routes to a Javalin configuration, e.g. the shared server's. */
  public void routes(RoutesConfig routes) {
    api.routes(routes);
  }

  /** The lookup without HTTP: local reads and owner metadata. */
  public FeatureLookup lookup() {
    return lookup;
  }

  /**
   * Serves the routes on a server of its own when a port was given; otherwise only checks that
   * it was not closed (the routes are then served by whoever mounted them).
   *
   * @throws IllegalStateException when started twice, after close, or the port is taken
   */
  public synchronized FeatureLookupService start() {
    if (started || closed) {
      throw new IllegalStateException("the feature lookup service can start once");
    }
    started = true;
    if (port != null) {
      Javalin app = Javalin.create(c -> {
        c.jetty.host = bindHost;
        c.jetty.port = port;
        c.startup.showJavalinBanner = false;
        c.startup.showOldJavalinVersionWarning = false;
        api.routes(c.routes);
      });
      app.start();
      server = app;
      log.info("feature lookup listening on http://{}:{} for groups {}", bindHost, app.port(),
          lookup.groupNames());
    }
    return this;
  }

  /** The port of the own server. @throws IllegalStateException when there is none */
  public synchronized int port() {
    if (server == null) {
      throw new IllegalStateException("the feature lookup has no server of its own; it was"
          + " built without port(..) or has not started");
    }
    return server.port();
  }

  /** Stops the own server, if any. Idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (server != null) {
      try {
        server.stop();
      } catch (RuntimeException e) {
        log.warn("the feature lookup HTTP server did not stop cleanly", e);
      }
    }
  }

  /** Builds a {@link FeatureLookupService}. */
  public static final class Builder {
    private Supplier<KafkaStreams> streams;
    private HostInfo applicationServer;
    private final List<LookupGroup> groups = new ArrayList<>();
    private Duration forwardTimeout = DEFAULT_FORWARD_TIMEOUT;
    private Duration retryAfter = LookupUnavailableException.DEFAULT_RETRY_AFTER;
    private HttpClient httpClient;
    private Integer port;
    private String bindHost = "0.0.0.0";

    private Builder() {}

    /** The Kafka Streams instance that holds the online stores; required. */
    public Builder streams(KafkaStreams streams) {
      Objects.requireNonNull(streams, "streams");
      this.streams = () -> streams;
      return this;
    }

    /**
     * Where to find the Kafka Streams instance once it exists (it may supply null before; lookups
     * then answer 503); required unless {@link #streams(KafkaStreams)} is given.
     */
    public Builder streams(Supplier<KafkaStreams> streams) {
      this.streams = Objects.requireNonNull(streams, "streams");
      return this;
    }

    /**
     * This instance's address as the other instances reach its lookup routes: the value of the
     * Kafka Streams {@code application.server} property; required.
     */
    public Builder applicationServer(HostInfo applicationServer) {
      this.applicationServer = Objects.requireNonNull(applicationServer, "applicationServer");
      return this;
    }

    /**
     * {@code host:port}, as in {@code application.server}; required.
     *
     * @throws IllegalArgumentException when it is not {@code host:port}
     */
    public Builder applicationServer(String hostAndPort) {
      return applicationServer(HostInfo.buildFromEndpoint(hostAndPort));
    }

    /** Adds a feature group that can be looked up; at least one is required. */
    public Builder group(LookupGroup group) {
      groups.add(Objects.requireNonNull(group, "group"));
      return this;
    }

    /** Adds feature groups that can be looked up. */
    public Builder groups(Collection<LookupGroup> groups) {
      groups.forEach(this::group);
      return this;
    }

    /** How long a forwarded lookup may take; default 2 s. */
    public Builder forwardTimeout(Duration forwardTimeout) {
      this.forwardTimeout = Objects.requireNonNull(forwardTimeout, "forwardTimeout");
      return this;
    }

    /** The {@code Retry-After} of a 503; default 1 s (HTTP rounds up to whole seconds). */
    public Builder retryAfter(Duration retryAfter) {
      this.retryAfter = Objects.requireNonNull(retryAfter, "retryAfter");
      return this;
    }

    /** The client that forwards to other instances; default an HTTP/1.1 client. */
    public Builder httpClient(HttpClient httpClient) {
      this.httpClient = Objects.requireNonNull(httpClient, "httpClient");
      return this;
    }

    /**
     * Serve the routes on a server of its own on this port (0 picks a free one) when {@link
     * #start()} is called; default none (the routes are mounted on a shared server).
     */
    public Builder port(int port) {
      if (port < 0 || port > 65_535) {
        throw new IllegalArgumentException("port must be 0..65535, got " + port);
      }
      this.port = port;
      return this;
    }

    /** The interface the own server listens on; default all ({@code 0.0.0.0}). */
    public Builder bindHost(String bindHost) {
      this.bindHost = Objects.requireNonNull(bindHost, "bindHost");
      return this;
    }

    /**
     * @throws NullPointerException when streams or applicationServer is missing
     * @throws IllegalArgumentException when no group is given or a name is declared twice
     */
    public FeatureLookupService build() {
      Objects.requireNonNull(streams, "streams (the KafkaStreams instance holding the stores)");
      Objects.requireNonNull(applicationServer,
          "applicationServer (host:port of this instance, as in application.server)");
      if (groups.isEmpty()) {
        throw new IllegalArgumentException("give at least one feature group to look up");
      }
      return new FeatureLookupService(this);
    }
  }
}
