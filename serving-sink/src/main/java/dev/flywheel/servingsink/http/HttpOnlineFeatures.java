package dev.flywheel.servingsink.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * {@link OnlineFeatures} over feature-streams' lookup API: {@code GET /features/{group}/{entity}}
 * for one entity, {@code POST /features/{group}/batch} with {@code {"entities": [...]}} for
 * several. Answers are {@code {"found": .., "eventId": .., "asOfMillis": .., "features": {..},
 * "categoricalFeatures": {..}}}; a 404 means the group is unknown; any other failure, a 503
 * included, is {@link FeaturesUnavailableException}.
 */
public final class HttpOnlineFeatures implements OnlineFeatures {

  private static final ObjectMapper JSON = new ObjectMapper();
  /** An entity id no store holds: its answer lists the group's features with defaults. */
  static final String PROBE_ENTITY = "__flywheel_serving_probe__";

  private final String url;
  private final Duration timeout;
  private final HttpClient http;

  /**
   * @param url base URL of feature-streams' HTTP API, e.g. {@code http://127.0.0.1:8080}
   * @param timeout per request
   */
  public HttpOnlineFeatures(String url, Duration timeout) {
    Objects.requireNonNull(url, "url");
    this.url = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    this.timeout = Objects.requireNonNull(timeout, "timeout");
    this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(timeout).build();
  }

  @Override
  public List<Row> fetch(String group, List<String> entities) {
    if (entities.size() == 1) {
      JsonNode body = call(HttpRequest.newBuilder(URI.create(url + "/features/" + encode(group)
          + "/" + encode(entities.get(0)))).timeout(timeout).GET().build(), group);
      return List.of(row(entities.get(0), body));
    }
    ObjectNode request = JSON.createObjectNode();
    entities.forEach(request.putArray("entities")::add);
    JsonNode body;
    try {
      body = call(HttpRequest.newBuilder(URI.create(url + "/features/" + encode(group) + "/batch"))
          .timeout(timeout).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(request))).build(),
          group);
    } catch (IOException e) {
      throw new IllegalStateException("cannot write a batch request", e);
    }
    JsonNode results = body.get("results");
    if (results == null || !results.isArray() || results.size() != entities.size()) {
      throw new FeaturesUnavailableException("the feature lookup at " + url + " answered a batch"
          + " of " + entities.size() + " with " + body, null);
    }
    List<Row> rows = new ArrayList<>(entities.size());
    for (int i = 0; i < entities.size(); i++) {
      rows.add(row(entities.get(i), results.get(i)));
    }
    return rows;
  }

  @Override
  public Optional<Set<String>> featureNames(String group) {
    try {
      Row probe = fetch(group, List.of(PROBE_ENTITY)).get(0);
      Set<String> names = new LinkedHashSet<>(probe.features().keySet());
      names.addAll(probe.categorical().keySet());
      return Optional.of(names);
    } catch (UnknownGroupException e) {
      return Optional.empty();
    }
  }

  private JsonNode call(HttpRequest request, String group) {
    HttpResponse<byte[]> response;
    try {
      response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      throw new FeaturesUnavailableException("the feature lookup at " + url
          + " cannot be reached: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new FeaturesUnavailableException("interrupted while asking " + url, e);
    }
    JsonNode body;
    try {
      body = JSON.readTree(response.body());
    } catch (IOException e) {
      body = null;
    }
    if (response.statusCode() == 200 && body != null && body.isObject()) {
      return body;
    }
    String message = body != null && body.path("error").isTextual() ? body.get("error").asText()
        : "HTTP " + response.statusCode();
    if (response.statusCode() == 404) {
      throw new UnknownGroupException("the feature store has no group '" + group + "': "
          + message);
    }
    throw new FeaturesUnavailableException("the feature lookup at " + url + " answered "
        + response.statusCode() + ": " + message, null);
  }

  private static Row row(String entity, JsonNode node) {
    Map<String, Double> features = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = node.path("features").fields();
        it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      features.put(e.getKey(), e.getValue().isNumber() ? e.getValue().doubleValue() : null);
    }
    Map<String, String> categorical = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = node.path("categoricalFeatures").fields();
        it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      categorical.put(e.getKey(), e.getValue().isTextual() ? e.getValue().asText() : null);
    }
    JsonNode asOf = node.get("asOfMillis");
    JsonNode eventId = node.get("eventId");
    return new Row(entity, node.path("found").asBoolean(false),
        eventId != null && eventId.isTextual() ? eventId.asText() : null,
        asOf != null && asOf.isNumber() ? asOf.longValue() : null, features, categorical);
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
