package dev.flywheel.platform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.platform.runtime.FlywheelRuntime;
import dev.flywheel.platform.runtime.HttpSecurity;
import dev.flywheel.platform.runtime.ServiceCatalog;
import dev.flywheel.platform.runtime.ServiceCatalogFixtures;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code flywheel up} with every service and a {@code security:} section: every mutating route
 * any service mounts on the shared server needs the role this test expects for it — a new route
 * fails here until its role is decided — and answers 401 without a token unless it is a query.
 */
@WithDevstack
class SecuredRoutesIT {

  /** Every mutating route of every service, and the role it needs. */
  private static final Map<String, String> EXPECTED_ROLES = Map.of(
      "POST /ingest/{source}", HttpSecurity.INGEST,
      "POST /labels", HttpSecurity.LABELS,
      "POST /sources", HttpSecurity.ADMIN,
      "POST /models/{model}/train", HttpSecurity.TRAIN,
      "POST /predict/{model}", HttpSecurity.PUBLIC,
      "POST /features/{group}/batch", HttpSecurity.PUBLIC);
  private static final Set<String> MUTATING = Set.of("POST", "PUT", "PATCH", "DELETE");
  private static final String TOKEN = "operator-0123456789abcdef0123456789";
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @TempDir Path workDir;

  @Test
  void shouldGuardEveryMutatingRouteOfEveryServiceWithItsRole(Devstack devstack,
      UniqueNames names) throws Exception {
    // Given every service configured, and one admin token from a file
    Files.writeString(workDir.resolve("operator.token"), TOKEN);
    String security = """
        security:
          tokens:
            - {name: operator, file: operator.token, roles: [admin]}
        """;
    Path yaml = workDir.resolve("flywheel.yaml");
    Files.writeString(yaml, UpAllServicesIT.everyService(devstack, names, workDir) + security);
    HttpSecurity configured = HttpSecurity.load(yaml, Map.of());
    UpCommand up = new UpCommand();
    new CommandLine(up).setOut(new PrintWriter(new StringWriter(), true))
        .parseArgs("-c", yaml.toString(), "--http-port", "0");

    // When 'flywheel up' runs them
    try (UpCommand.Running running = up.start()) {
      FlywheelRuntime runtime = running.runtime();
      String base = "http://127.0.0.1:" + runtime.httpPort();
      await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(250))
          .until(() -> send(base, "GET", "/health").statusCode() == 200);
      Map<String, String> mutating = new LinkedHashMap<>();
      for (String service : ServiceCatalog.START_ORDER) {
        for (String route : runtime.routes(service)) {
          if (MUTATING.contains(route.split(" ")[0])) {
            mutating.put(route, service);
          }
        }
      }

      // Then each mutating route has the expected role
      assertThat(mutating.keySet()).as("mutating routes; give a new one its role here")
          .containsExactlyInAnyOrderElementsOf(EXPECTED_ROLES.keySet());
      for (String route : mutating.keySet()) {
        String[] methodPath = route.split(" ", 2);
        String path = methodPath[1].replaceAll("\\{[^}]+}", "x");
        assertThat(configured.roleOf(methodPath[0], path)).as(route)
            .isEqualTo(EXPECTED_ROLES.get(route));
        // and without a token it is refused with 401, unless it is a query anyone may send
        int status = send(base, methodPath[0], path).statusCode();
        if (HttpSecurity.PUBLIC.equals(EXPECTED_ROLES.get(route))) {
          assertThat(status).as(route).isNotIn(401, 403);
        } else {
          assertThat(status).as(route).isEqualTo(401);
        }
      }
    }
  }

  private static HttpResponse<String> send(String base, String method, String path)
      throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(base + path))
        .header("Content-Type", "application/json")
        .method(method, method.equals("GET") ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString("{}"))
        .build(), HttpResponse.BodyHandlers.ofString());
  }
}
