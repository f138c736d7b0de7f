package dev.flywheel.platform.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code flywheel status}: asks the running platform's {@code GET /health} and prints each
 * service's state, with its problem when it is down.
 *
 * <p>Exit status: 0 when every service is up; {@value #EXIT_UNHEALTHY} when any is not; {@value
 * #EXIT_UNREACHABLE} when no runtime answers (the message says to start {@code flywheel up}).
 */
@Command(name = "status", mixinStandardHelpOptions = true,
    description = "Show the health of each service of the running platform (flywheel up).")
public final class StatusCommand implements Callable<Integer> {

  /** Exit status when a service is unhealthy. */
  public static final int EXIT_UNHEALTHY = 3;

  /** Exit status when no runtime answers at the URL. */
  public static final int EXIT_UNREACHABLE = 2;

  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  @Spec private CommandSpec spec;

  @Option(names = "--url", paramLabel = "<url>",
      description = "The platform's HTTP address (default: ${DEFAULT-VALUE}).")
  private String url = "http://127.0.0.1:8080";

  /** Used by picocli. */
  public StatusCommand() {}

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    String base = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    HttpResponse<String> response;
    try {
      HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT)
          .version(HttpClient.Version.HTTP_1_1).build();
      response = http.send(HttpRequest.newBuilder(URI.create(base + "/health")).timeout(TIMEOUT)
          .GET().build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException | IllegalArgumentException e) {
      err.println("flywheel status: no Flywheel runtime answers at " + base + " (" + e + ");"
          + " start it with flywheel up, or pass --url with the address it listens on");
      return EXIT_UNREACHABLE;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return EXIT_UNREACHABLE;
    }
    JsonNode health;
    try {
      health = RecordDecoder.JSON.readTree(response.body());
    } catch (IOException e) {
      health = null;
    }
    if (health == null || !health.path("services").isObject()) {
      err.println("flywheel status: " + base + "/health answered " + response.statusCode()
          + " without a Flywheel health report; is --url the address of flywheel up?");
      return EXIT_UNREACHABLE;
    }
    String status = health.path("status").asText("UNKNOWN");
    out.println("flywheel at " + base + ": " + status);
    int width = 7;
    for (Iterator<String> it = health.get("services").fieldNames(); it.hasNext(); ) {
      width = Math.max(width, it.next().length());
    }
    boolean up = "UP".equals(status) && response.statusCode() == 200;
    for (Iterator<Map.Entry<String, JsonNode>> it = health.get("services").fields();
        it.hasNext(); ) {
      Map.Entry<String, JsonNode> service = it.next();
      String state = service.getValue().path("status").asText("UNKNOWN");
      up &= "UP".equals(state);
      String problem = service.getValue().path("problem").asText("");
      out.printf("  %-" + width + "s  %s%s%n", service.getKey(), state,
          problem.isEmpty() ? "" : "  " + problem);
    }
    out.flush();
    return up ? 0 : EXIT_UNHEALTHY;
  }
}
