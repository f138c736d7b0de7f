package dev.flywheel.registryprojector.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flywheel.events.Actor;
import dev.flywheel.events.ActorKind;
import dev.flywheel.events.RegistryCommand;
import dev.flywheel.registryprojector.RegistryJson;
import dev.flywheel.topics.Topic;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
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
class RegistryClient {

  private final ConnectionOptions options;
  private final String url;
  private final HttpClient http = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(5)).build();

  /**
   * @throws CliException (exit 2) when {@code --url} is not an http or https address, saying what
   *     to write
   */
  RegistryClient(ConnectionOptions options) {
    this.options = options;
    this.url = checkedUrl(options.url);
  }

  /** {@code url} without trailing slashes, when it is {@code http(s)://host[:port][/path]}. */
  static String checkedUrl(String url) {
    String trimmed = url == null ? "" : url.trim().replaceAll("/+$", "");
    URI uri = null;
    try {
      uri = new URI(trimmed);
    } catch (URISyntaxException e) {
      // reported below
    }
    boolean http = uri != null && uri.getScheme() != null
        && (uri.getScheme().equalsIgnoreCase("http") || uri.getScheme().equalsIgnoreCase("https"));
    if (!http || uri.getHost() == null) {
      String example = trimmed.contains("://") || trimmed.isEmpty() ? "http://127.0.0.1:8080"
          : "http://" + trimmed;
      throw new CliException(2, "--url must be the registry's HTTP address, http://host:port or"
          + " https://host:port, got '" + url + "'; write e.g. --url " + example);
    }
    return trimmed;
  }

  /** A throwable's message, or its class when it has none, with its root cause's. */
  static String describe(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String text = e.getMessage() != null ? e.getMessage() : e.getClass().getName();
    if (root != e) {
      String cause = root.getMessage() != null
          ? root.getClass().getSimpleName() + ": " + root.getMessage()
          : root.getClass().getName();
      if (!text.contains(cause)) {
        text += " (" + cause + ")";
      }
    }
    return text;
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
    StringBuilder uri = new StringBuilder(url).append(path);
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
      throw new CliException(1, "cannot reach the registry at " + url + ": " + describe(e)
          + "; is it running, and is --url its address?");
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

  /**
   * Checks that the registry answers at {@code --url} ({@code GET /models}: 200, or 503 while it
   * restores), so that a command is sent only when its decision can be learnt.
   *
   * @throws CliException (exit 1) when nothing answers, or something that is not the registry
   */
  void checkAnswers() {
    Answer a = get("/models", Map.of(), "application/json");
    if (a.status() != 200 && a.status() != 503) {
      throw new CliException(1, "no registry answers at " + url + " (GET /models answered "
          + a.status() + ": " + a.error() + "); is --url the registry's address?");
    }
  }

  /**
   * Sends a command to the command topic and returns its id.
   */
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
          + options.cluster.bootstrapServers() + ": " + describe(e) + " (--bootstrap-servers,"
          + " --schema-registry-url)");
    }
  }

  /**
   * Waits for the registry's decision on {@code commandId} (and its follow-ups) in the model's
   * history, asking again after an error until {@code timeout}; empty array when the registry
   * answered but decided nothing in time.
   *
   * @throws CliException with the last error when the registry could not be asked at the end
   */
  JsonNode awaitDecision(String model, String commandId, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      String error = null;
      try {
        Answer a = get("/models/" + encode(model) + "/history", Map.of("commandId", commandId),
            "application/json");
        if (a.status() == 200) {
          JsonNode events = a.json();
          if (!events.isEmpty()) {
            return events;
          }
        } else {
          error = "GET /models/" + model + "/history answered " + a.status() + ": " + a.error();
        }
      } catch (CliException e) {
        if (e.exitCode == 130) {
          throw e;
        }
        error = e.getMessage();
      }
      if (System.nanoTime() > deadline) {
        if (error != null) {
          throw new CliException(1, error);
        }
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
