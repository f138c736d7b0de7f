package dev.flywheel.registryprojector.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flywheel.events.Actor;
import dev.flywheel.events.ActorKind;
import dev.flywheel.events.RegistryCommand;
import dev.flywheel.registryprojector.RegistryJson;
import dev.flywheel.topics.Topic;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;

/** The CLI's way to the registry: queries over HTTP, commands to Kafka. */
final class RegistryClient {

  private final ConnectionOptions options;
  private final HttpClient http = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(5)).build();

  RegistryClient(ConnectionOptions options) {
    this.options = options;
  }

  /** An HTTP answer: status and JSON (or text) body. */
  record Answer(int status, String body) {
    JsonNode json() {
      try {
        return RegistryJson.MAPPER.readTree(body);
      } catch (IOException e) {
        throw new CliException(1, "the registry answered something that is not JSON: " + body);
      }
    }

    String error() {
      try {
        JsonNode n = RegistryJson.MAPPER.readTree(body);
        return n.has("error") ? n.get("error").asText() : body;
      } catch (IOException e) {
        return body;
      }
    }
  }

  /** GET {@code path} (query parameters with null values left out). */
  Answer get(String path, Map<String, String> query, String accept) {
    StringBuilder uri = new StringBuilder(options.url.replaceAll("/+$", "")).append(path);
    char sep = '?';
    for (Map.Entry<String, String> q : new java.util.TreeMap<>(query).entrySet()) {
      if (q.getValue() != null) {
        uri.append(sep).append(q.getKey()).append('=')
            .append(URLEncoder.encode(q.getValue(), StandardCharsets.UTF_8));
        sep = '&';
      }
    }
    HttpRequest request = HttpRequest.newBuilder(URI.create(uri.toString()))
        .timeout(Duration.ofSeconds(30)).header("Accept", accept).GET().build();
    try {
      HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
      return new Answer(r.statusCode(), r.body());
    } catch (IOException e) {
      throw new CliException(1, "cannot reach the registry at " + options.url + ": "
          + e.getMessage() + "; is it running? (--url)");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException(130, "interrupted");
    }
  }

  /** GET that must answer 200, as JSON. */
  JsonNode getJson(String path, Map<String, String> query) {
    Answer a = get(path, query, "application/json");
    if (a.status() != 200) {
      throw new CliException(a.status() == 404 ? 3 : 1, a.error());
    }
    return a.json();
  }

  /** Sends a command to the command topic and returns its id. */
  String send(String model, String actorName, List<String> roles, String reason, Object body) {
    String id = UUID.randomUUID().toString();
    RegistryCommand command = RegistryCommand.newBuilder().setEventId(id)
        .setEventTime(Instant.now()).setModel(model)
        .setActor(Actor.newBuilder().setName(actorName).setKind(ActorKind.HUMAN)
            .setRoles(roles).build())
        .setReason(reason).setCommand(body).build();
    Topic<String, RegistryCommand> topic = options.cluster.topics(options.cluster.serdes())
        .registryCommands();
    // the cluster's properties (security), then this one-record producer's own settings
    Map<String, Object> props = options.cluster.kafka();
    props.putAll(Map.of(
        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
        ProducerConfig.ACKS_CONFIG, "all",
        ProducerConfig.CLIENT_ID_CONFIG, "flywheel-models-cli",
        ProducerConfig.MAX_BLOCK_MS_CONFIG, 15_000,
        ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000,
        ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 15_000));
    try (KafkaProducer<String, RegistryCommand> producer = new KafkaProducer<>(props,
        topic.keySerde().serializer(), topic.valueSerde().serializer())) {
      producer.send(new ProducerRecord<>(topic.name(), model, command))
          .get(45, TimeUnit.SECONDS);
      return id;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException(130, "interrupted");
    } catch (Exception e) {
      throw new CliException(1, "cannot send the command to " + topic.name() + " on "
          + options.cluster.bootstrapServers() + ": " + e.getMessage() + " (--bootstrap-servers,"
          + " --schema-registry-url)");
    }
  }

  /**
   * Waits for the registry's decision on {@code commandId} (and its follow-ups) in the model's
   * history; empty array on timeout.
   */
  JsonNode awaitDecision(String model, String commandId, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Answer a = get("/models/" + encode(model) + "/history", Map.of("commandId", commandId),
          "application/json");
      if (a.status() == 200 && !a.json().isEmpty()) {
        return a.json();
      }
      if (System.nanoTime() > deadline) {
        return RegistryJson.MAPPER.createArrayNode();
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new CliException(130, "interrupted");
      }
    }
  }

  static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
