package dev.flywheel.servingsink.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URLEncoder;
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
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.io.SocketConfig;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.util.Timeout;

/**
 * {@link OnlineFeatures} over feature-streams' lookup API: {@code GET /features/{group}/{entity}}
 * for one entity, {@code POST /features/{group}/batch} with {@code {"entities": [...]}} for
 * several. Answers are {@code {"found": .., "eventId": .., "asOfMillis": .., "features": {..},
 * "categoricalFeatures": {..}}}; a 404 means the group is unknown. No answer, 408, 429 and 5xx
 * (503 while rebalancing or restoring) are {@link FeaturesUnavailableException}: asking again
 * may succeed. Any other answer (e.g. 400, 401, 422, a redirect, a 200 that is not a JSON
 * object) is {@link LookupRejectedException}: asking again will not change it.
 *
 * <p>Requests run on the calling thread over a pool of keep-alive HTTP/1.1 connections (Apache
 * HttpClient's classic, blocking client, Nagle off): a {@code /predict} request thread writes the
 * lookup and reads its answer itself, with no hand-off to a selector or executor thread, so the
 * lookup costs one local round trip. The pool holds up to {@value #MAX_CONNECTIONS} connections;
 * callers beyond that wait for one, up to the timeout.
 */
public final class HttpOnlineFeatures implements OnlineFeatures, AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();
  /** An entity id no store holds: its answer lists the group's features with defaults. */
  static final String PROBE_ENTITY = "__flywheel_serving_probe__";

  /** Connections kept to the lookup server: one per concurrent {@code /predict} request. */
  static final int MAX_CONNECTIONS = 256;

  private final String url;
  private final CloseableHttpClient http;

  /**
   * @param url base URL of feature-streams' HTTP API, e.g. {@code http://127.0.0.1:8080}
   * @param timeout per request
   */
  public HttpOnlineFeatures(String url, Duration timeout) {
    Objects.requireNonNull(url, "url");
    this.url = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    Objects.requireNonNull(timeout, "timeout");
    Timeout t = Timeout.of(timeout);
    PoolingHttpClientConnectionManager connections = PoolingHttpClientConnectionManagerBuilder
        .create()
        .setMaxConnTotal(MAX_CONNECTIONS)
        .setMaxConnPerRoute(MAX_CONNECTIONS)
        .setDefaultSocketConfig(SocketConfig.custom().setTcpNoDelay(true).setSoTimeout(t).build())
        .setDefaultConnectionConfig(ConnectionConfig.custom().setConnectTimeout(t)
            .setSocketTimeout(t).build())
        .build();
    this.http = HttpClients.custom()
        .setConnectionManager(connections)
        .setDefaultRequestConfig(RequestConfig.custom().setConnectionRequestTimeout(t)
            .setResponseTimeout(t).build())
        .disableAutomaticRetries()
        .disableCookieManagement()
        .disableRedirectHandling()
        .build();
  }

  /** Closes the pooled connections. */
  @Override
  public void close() {
    http.close(CloseMode.GRACEFUL);
  }

  @Override
  public List<Row> fetch(String group, List<String> entities) {
    if (entities.size() == 1) {
      JsonNode body = call(new HttpGet(url + "/features/" + encode(group) + "/"
          + encode(entities.get(0))), group);
      return List.of(row(entities.get(0), body));
    }
    ObjectNode request = JSON.createObjectNode();
    entities.forEach(request.putArray("entities")::add);
    HttpPost post = new HttpPost(url + "/features/" + encode(group) + "/batch");
    try {
      post.setEntity(new ByteArrayEntity(JSON.writeValueAsBytes(request),
          ContentType.APPLICATION_JSON));
    } catch (IOException e) {
      throw new IllegalStateException("cannot write a batch request", e);
    }
    JsonNode body = call(post, group);
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

  private JsonNode call(HttpUriRequestBase request, String group) {
    Answer answer;
    try {
      answer = http.execute(request, response -> new Answer(response.getCode(),
          response.getEntity() == null ? new byte[0] : EntityUtils.toByteArray(response.getEntity())));
    } catch (IOException e) {
      throw new FeaturesUnavailableException("the feature lookup at " + url
          + " cannot be reached: " + e, e);
    }
    JsonNode body;
    try {
      body = answer.body().length == 0 ? null : JSON.readTree(answer.body());
    } catch (IOException e) {
      body = null;
    }
    if (answer.status() == 200 && body != null && body.isObject()) {
      return body;
    }
    String message = body != null && body.path("error").isTextual() ? body.get("error").asText()
        : "HTTP " + answer.status();
    if (answer.status() == 404) {
      throw new UnknownGroupException("the feature store has no group '" + group + "': "
          + message);
    }
    if (unavailable(answer.status())) {
      throw new FeaturesUnavailableException("the feature lookup at " + url + " answered "
          + answer.status() + ": " + message, null);
    }
    throw new LookupRejectedException("the feature lookup at " + url + " answered "
        + answer.status() + (answer.status() == 200 ? " without a JSON object" : ": " + message)
        + " to " + request.getMethod() + " " + request.getRequestUri() + "; check that"
        + " servingSink.featureLookupUrl is feature-streams' HTTP API and that this serving"
        + " version speaks its lookup API");
  }

  /** Whether an answer with this status may differ if asked again. */
  private static boolean unavailable(int status) {
    return status == 408 || status == 429 || status >= 500;
  }

  private record Answer(int status, byte[] body) {}

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
