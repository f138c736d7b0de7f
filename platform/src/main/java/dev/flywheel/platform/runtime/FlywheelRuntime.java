package dev.flywheel.platform.runtime;

import dev.flywheel.topics.TopicBootstrap;
import dev.flywheel.topics.Topics;
import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import io.javalin.http.HttpStatus;
import io.javalin.router.Endpoint;
import io.javalin.router.ParsedEndpoint;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.kafka.clients.admin.Admin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs Flywheel's services in one JVM against one cluster: creates the catalogue's topics, starts
 * each service in order, and serves their HTTP APIs on one port together with {@code GET /health}
 * (every service's health; 503 when any is unhealthy) and {@code GET /metrics} (Prometheus text:
 * every service's meters plus the JVM's).
 *
 * <pre>{@code
 * try (FlywheelRuntime runtime = FlywheelRuntime.builder()
 *     .kafka(Map.of("bootstrap.servers", bootstrap))
 *     .topics(topics)
 *     .httpPort(8080)
 *     .service(meters -> new IngestPlatformService(...))
 *     .build()
 *     .start()) {
 *   ...
 * }
 * }</pre>
 */
public final class FlywheelRuntime implements AutoCloseable {

  /** Content type of {@code GET /metrics}. */
  private static final String REQUEST_STARTED = "flywheel.request.started";

  public static final String PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private static final Logger log = LoggerFactory.getLogger(FlywheelRuntime.class);

  private final Map<String, Object> kafka;
  private final Topics topics;
  private final String host;
  private final int httpPort;
  private final long maxRequestBytes;
  private final PrometheusMeterRegistry meters;
  private final List<Function<PrometheusMeterRegistry, PlatformService>> factories;
  private final HttpSecurity security;
  private final List<PlatformService> started = new ArrayList<>();
  private final Map<String, List<String>> routesByService = new LinkedHashMap<>();
  private Javalin http;
  private boolean closed;

  private FlywheelRuntime(Builder b) {
    this.kafka = Map.copyOf(b.kafka);
    this.topics = b.topics;
    this.host = b.host;
    this.httpPort = b.httpPort;
    this.maxRequestBytes = b.maxRequestBytes;
    this.factories = List.copyOf(b.factories);
    this.security = b.security;
    this.meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new ClassLoaderMetrics().bindTo(meters);
    new JvmMemoryMetrics().bindTo(meters);
    new JvmGcMetrics().bindTo(meters);
    new JvmThreadMetrics().bindTo(meters);
    new ProcessorMetrics().bindTo(meters);
    new UptimeMetrics().bindTo(meters);
  }

  /** Starts a runtime; {@link Builder#kafka} and {@link Builder#topics} are required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Creates missing topics, starts every service in order, then the HTTP server. If anything
   * fails, what was started is closed and the failure is thrown.
   */
  public synchronized FlywheelRuntime start() {
    if (http != null || closed) {
      throw new IllegalStateException("a runtime starts once");
    }
    try {
      try (Admin admin = Admin.create(kafka)) {
        TopicBootstrap.Result result = new TopicBootstrap(admin).ensure(topics.all());
        if (!result.consistent()) {
          log.warn("existing topics differ from the catalogue:\n{}", result.describe());
        }
      }
      for (Function<PrometheusMeterRegistry, PlatformService> factory : factories) {
        PlatformService service = factory.apply(meters);
        started.add(service);
        long begin = System.nanoTime();
        service.start();
        log.info("{} started in {} ms", service.name(), (System.nanoTime() - begin) / 1_000_000);
      }
      Javalin app = Javalin.create(c -> {
        c.jetty.host = host;
        c.jetty.port = httpPort;
        if (maxRequestBytes > 0) {
          c.http.maxRequestSize = maxRequestBytes;
        }
        c.startup.showJavalinBanner = false;
        c.startup.showOldJavalinVersionWarning = false;
        c.routes.before(ctx -> ctx.attribute(REQUEST_STARTED, System.nanoTime()));
        security.install(c.routes);
        c.routes.get("/health", ctx -> {
          Map<String, Object> report = health();
          ctx.status("UP".equals(report.get("status")) ? HttpStatus.OK
              : HttpStatus.SERVICE_UNAVAILABLE).json(report);
        });
        c.routes.get("/metrics", ctx -> ctx.contentType(PROMETHEUS_TYPE).result(meters.scrape()));
        c.routes.after(this::recordRequest);
        for (PlatformService service : started) {
          Set<String> before = routeNames(c);
          service.routes(c.routes);
          Set<String> added = routeNames(c);
          added.removeAll(before);
          routesByService.put(service.name(), List.copyOf(added));
        }
      });
      app.start();
      http = app;
      log.info("Flywheel HTTP on http://{}:{} ({})", host, app.port(), serviceNames());
      return this;
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /**
   * Times one request in {@code flywheel.http.requests}, tagged with the method, the route
   * template that matched ({@code /features/{group}/{entity}}, never the raw path, so entity ids
   * do not become tags; {@code unmatched} for a 404) and the status.
   */
  private void recordRequest(Context ctx) {
    Long began = ctx.attribute(REQUEST_STARTED);
    if (began == null) {
      return;
    }
    String route = "unmatched";
    try {
      Endpoint endpoint = ctx.endpoints().lastHttpEndpoint();
      if (endpoint != null) {
        route = endpoint.path;
      }
    } catch (RuntimeException noEndpoint) {
      // no endpoint matched: a 404, or a request the security check refused
    }
    Timer.builder("flywheel.http.requests")
        .description("HTTP requests of the shared server")
        .tags("method", ctx.method().name(), "route", route,
            "status", Integer.toString(ctx.statusCode()))
        .register(meters)
        .record(System.nanoTime() - began, TimeUnit.NANOSECONDS);
  }

  /**
   * {@code status} UP or DOWN, and each service's status with its problem when DOWN, followed by
   * its {@linkplain PlatformService#healthDetails() details} (which never change the status).
   */
  public synchronized Map<String, Object> health() {
    Map<String, Object> services = new LinkedHashMap<>();
    boolean up = true;
    for (PlatformService service : started) {
      Optional<String> problem;
      try {
        problem = service.healthProblem();
      } catch (RuntimeException e) {
        problem = Optional.of("health check failed: " + e);
      }
      up &= problem.isEmpty();
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("status", problem.isEmpty() ? "UP" : "DOWN");
      problem.ifPresent(p -> entry.put("problem", p));
      try {
        service.healthDetails().forEach(entry::putIfAbsent);
      } catch (RuntimeException e) {
        log.debug("{} could not give its health details", service.name(), e);
      }
      services.put(service.name(), entry);
    }
    Map<String, Object> report = new LinkedHashMap<>();
    report.put("status", up ? "UP" : "DOWN");
    report.put("services", services);
    return report;
  }

  /** The address the HTTP server binds to: {@code 127.0.0.1} this machine only, {@code 0.0.0.0}
   * every interface. */
  public String httpHost() {
    return host;
  }

  /**
   * How to print where a server on {@code host} and {@code port} answers: {@code
   * http://127.0.0.1:8080}, or {@code http://0.0.0.0:8080 (every interface)} for a wildcard
   * address.
   */
  public static String httpAddress(String host, int port) {
    boolean wildcard = host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]");
    String h = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    return "http://" + h + ":" + port + (wildcard ? " (every interface)" : "");
  }

  /** The port HTTP listens on. @throws IllegalStateException before start */
  public synchronized int httpPort() {
    if (http == null) {
      throw new IllegalStateException("the runtime has not started");
    }
    return http.port();
  }

  /** The meters every service records into, served at {@code /metrics}. */
  public PrometheusMeterRegistry meters() {
    return meters;
  }

  /**
   * The HTTP routes a service added to the shared server, as {@code METHOD /path}, in the order
   * added; empty for a service without routes or one that is not running here.
   */
  public synchronized List<String> routes(String serviceName) {
    return routesByService.getOrDefault(serviceName, List.of());
  }

  private static Set<String> routeNames(JavalinConfig c) {
    Set<String> names = new LinkedHashSet<>();
    for (ParsedEndpoint e : c.unsafe.internalRouter.allHttpHandlers()) {
      if (e.endpoint.method.isHttpMethod()) {
        names.add(e.endpoint.method.name() + " " + e.endpoint.path);
      }
    }
    return names;
  }

  /** The services started, in start order. */
  public synchronized List<PlatformService> services() {
    return List.copyOf(started);
  }

  private List<String> serviceNames() {
    return started.stream().map(PlatformService::name).toList();
  }

  /** Stops HTTP, then the services in reverse order. Idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (http != null) {
      try {
        http.stop();
      } catch (RuntimeException e) {
        log.warn("stopping HTTP failed", e);
      }
    }
    for (int i = started.size() - 1; i >= 0; i--) {
      PlatformService service = started.get(i);
      try {
        service.close();
      } catch (RuntimeException e) {
        log.warn("closing {} failed", service.name(), e);
      }
    }
    meters.close();
  }

  /** Builds a {@link FlywheelRuntime}. */
  public static final class Builder {
    private final Map<String, Object> kafka = new LinkedHashMap<>();
    private Topics topics;
    private String host = "0.0.0.0";
    private int httpPort = PlatformConfig.Http.DEFAULT_PORT;
    private long maxRequestBytes;
    private final List<Function<PrometheusMeterRegistry, PlatformService>> factories =
        new ArrayList<>();
    private HttpSecurity security = HttpSecurity.disabled();

    private Builder() {}

    /** Bearer-token checks of mutating requests; default {@link HttpSecurity#disabled()}. */
    public Builder security(HttpSecurity security) {
      this.security = Objects.requireNonNull(security, "security");
      return this;
    }

    /** Admin client properties of the cluster: bootstrap servers and security; required. */
    public Builder kafka(Map<String, ?> kafka) {
      this.kafka.putAll(Objects.requireNonNull(kafka, "kafka"));
      return this;
    }

    /** The topic catalogue; required. */
    public Builder topics(Topics topics) {
      this.topics = Objects.requireNonNull(topics, "topics");
      return this;
    }

    /**
     * The address HTTP binds to; default all interfaces ({@code 0.0.0.0}). {@code flywheel up}
     * passes {@code 127.0.0.1} unless {@code --http-host} says otherwise.
     */
    public Builder host(String host) {
      this.host = Objects.requireNonNull(host, "host");
      return this;
    }

    /** The HTTP port; 0 picks a free one; default 8080. */
    public Builder httpPort(int httpPort) {
      this.httpPort = httpPort;
      return this;
    }

    /** The largest request body HTTP accepts, in bytes; default Javalin's (1 MB). */
    public Builder maxRequestBytes(long maxRequestBytes) {
      if (maxRequestBytes < 1) {
        throw new IllegalArgumentException("maxRequestBytes must be >= 1, got "
            + maxRequestBytes);
      }
      this.maxRequestBytes = maxRequestBytes;
      return this;
    }

    /** A service, created at start with the runtime's meter registry; started in this order. */
    public Builder service(Function<PrometheusMeterRegistry, PlatformService> factory) {
      factories.add(Objects.requireNonNull(factory, "factory"));
      return this;
    }

    /** @throws IllegalStateException naming what is missing */
    public FlywheelRuntime build() {
      if (kafka.get("bootstrap.servers") == null) {
        throw new IllegalStateException("kafka bootstrap.servers is required");
      }
      if (topics == null) {
        throw new IllegalStateException("topics is required");
      }
      return new FlywheelRuntime(this);
    }
  }
}
