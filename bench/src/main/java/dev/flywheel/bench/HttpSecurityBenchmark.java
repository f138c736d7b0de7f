package dev.flywheel.bench;

import dev.flywheel.platform.runtime.HttpSecurity;
import io.javalin.Javalin;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the bearer-token check of mutating routes costs: {@link HttpSecurity#decide} alone (a
 * token with the route's role, an unknown token, a read) with three configured tokens, and a
 * POST to a route that does nothing on a Javalin server with and without the check, over
 * loopback HTTP/1.1 with one client.
 *
 * <pre>
 * java -jar bench/target/benchmarks.jar HttpSecurityBenchmark
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 2, jvmArgsAppend = {"-Xms512m", "-Xmx512m"})
public class HttpSecurityBenchmark {

  private static final String PIPELINE = "pipeline-0123456789abcdef0123456789abcdef";
  private static final String YAML = """
      security:
        tokens:
          - {name: operator, env: T_ADMIN, roles: [admin]}
          - {name: pipeline, env: T_PIPELINE, roles: [ingest, labels]}
          - {name: scheduler, env: T_TRAIN, roles: [train]}
      """;

  private HttpSecurity security;
  private Javalin open;
  private Javalin secured;
  private HttpClient client;
  private HttpRequest openPost;
  private HttpRequest securedPost;

  @Setup
  public void setUp() {
    security = HttpSecurity.parse(YAML, Map.of(
        "T_ADMIN", "operator-0123456789abcdef0123456789abcdef",
        "T_PIPELINE", PIPELINE,
        "T_TRAIN", "scheduler-0123456789abcdef0123456789abcdef"), Path.of("."));
    open = server(HttpSecurity.disabled());
    secured = server(security);
    client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    openPost = post(open.port());
    securedPost = post(secured.port());
  }

  @TearDown
  public void tearDown() {
    open.stop();
    secured.stop();
  }

  @Benchmark
  public HttpSecurity.Decision decideTokenWithRole() {
    return security.decide("POST", "/ingest/transactions", "Bearer " + PIPELINE);
  }

  @Benchmark
  public HttpSecurity.Decision decideUnknownToken() {
    return security.decide("POST", "/ingest/transactions",
        "Bearer unknown-0123456789abcdef0123456789abcdef");
  }

  @Benchmark
  public HttpSecurity.Decision decideRead() {
    return security.decide("GET", "/models/fraud-detector", null);
  }

  @Benchmark
  public int postWithoutSecurity() throws Exception {
    return client.send(openPost, HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  @Benchmark
  public int postWithSecurity() throws Exception {
    return client.send(securedPost, HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  private static Javalin server(HttpSecurity security) {
    return Javalin.create(c -> {
      c.jetty.host = "127.0.0.1";
      c.jetty.port = 0;
      c.startup.showJavalinBanner = false;
      c.startup.showOldJavalinVersionWarning = false;
      security.install(c.routes);
      c.routes.post("/ingest/{source}", ctx -> ctx.status(202));
    }).start();
  }

  private static HttpRequest post(int port) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/ingest/transactions"))
        .header("Authorization", "Bearer " + PIPELINE)
        .POST(HttpRequest.BodyPublishers.ofString("{}")).build();
  }
}
