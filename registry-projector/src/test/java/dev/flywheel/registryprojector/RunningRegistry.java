package dev.flywheel.registryprojector;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topics;
import io.javalin.Javalin;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** A registry projector on the devstack with its query API on a free port, for ITs. */
record RunningRegistry(RegistryProjectorService service, Javalin http, Topics topics,
    String bootstrap) implements AutoCloseable {

  private static final HttpClient CLIENT = HttpClient.newHttpClient();

  /** Starts one, with these Kafka properties besides the bootstrap servers. */
  static RunningRegistry start(RegistryConfig config, AvroSerdes serdes, Topics topics,
      String bootstrap, Path stateDir, Map<String, Object> kafka) {
    Map<String, Object> props = new HashMap<>(kafka);
    props.put("bootstrap.servers", bootstrap);
    RegistryProjectorService s = RegistryProjectorService.builder().config(config)
        .kafka(props).serdes(serdes).topics(topics).stateDir(stateDir).build().start();
    Javalin h = Javalin.create(c -> {
      c.startup.showJavalinBanner = false;
      c.jetty.host = "127.0.0.1";
      c.jetty.port = 0;
      s.routes(c.routes);
    }).start();
    return new RunningRegistry(s, h, topics, bootstrap);
  }

  /**
   * Starts one on the devstack, on topics prefixed for the test and with an application id of
   * its own, configured by {@code registryYaml} (the lines under {@code registry:} besides it).
   */
  static RunningRegistry onDevstack(Devstack devstack, UniqueNames names, String registryYaml,
      Path stateDir, Map<String, Object> kafka) {
    AvroSerdes serdes = AvroSerdes.fromConfig(
        Map.of("schema.registry.url", devstack.schemaRegistryUrl()));
    Topics topics = Topics.builder(serdes).prefix(names.prefix()).build();
    RegistryConfig config = RegistryConfig.parse("registry:\n  applicationId: "
        + names.applicationId("registry") + "\n" + registryYaml.indent(2));
    return start(config, serdes, topics, devstack.bootstrapServers(), stateDir, kafka);
  }

  int port() {
    return http.port();
  }

  /** {@code GET path}: the status, a space, and the body. */
  String get(String path) throws IOException, InterruptedException {
    HttpResponse<String> r = CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
        + port() + path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    return r.statusCode() + " " + r.body();
  }

  @Override
  public void close() {
    http.stop();
    service.close();
  }
}
