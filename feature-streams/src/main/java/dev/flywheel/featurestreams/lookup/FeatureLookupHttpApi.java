package dev.flywheel.featurestreams.lookup;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flywheel.featurestreams.lookup.FeatureLookup.Owner;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.apache.kafka.streams.state.HostInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP routes of the online lookup. Only routing and JSON; {@link FeatureLookup} reads the
 * stores.
 *
 * <ul>
 *   <li>{@code GET /features/{group}/{entity}}: 200 with one answer (see {@link
 *       FeatureValuesJson}); an entity the store does not hold is answered with the group's
 *       defaults and {@code "found": false}.
 *   <li>{@code POST /features/{group}/batch} with {@code {"entities": ["a", "b"]}}: 200 with
 *       {@code {"group": .., "results": [..]}}, one answer per entity in request order.
 * </ul>
 *
 * <p>An entity another instance owns is asked of that instance (its {@code application.server})
 * over HTTP, with the header {@value #FORWARDED_BY}; a batch is split by owner and the parts are
 * asked in parallel. A forwarded request is never forwarded again: if the receiver does not own
 * the entity either, the instances disagree during a rebalance and the answer is 503.
 *
 * <p>Errors are JSON {@code {"error": ...}}: 404 unknown group (with {@code knownGroups}), 400 a
 * malformed batch, 503 with {@code Retry-After} (seconds) while rebalancing, restoring, or when
 * the owner does not answer — never an answer from an instance that does not own the key.
 */
public final class FeatureLookupHttpApi {

  /** Path of a single lookup. */
  public static final String GET_PATH = "/features/{group}/{entity}";

  /** Path of a batch lookup. */
  public static final String BATCH_PATH = "/features/{group}/batch";

  /** Header marking a request one instance forwarded to another; its value names the sender. */
  public static final String FORWARDED_BY = "X-Flywheel-Forwarded-By";

  /** The most entities one batch may ask for. */
  public static final int MAX_BATCH = 1_000;

  private static final Logger log = LoggerFactory.getLogger(FeatureLookupHttpApi.class);
  private static final String JSON_TYPE = "application/json";

  private final FeatureLookup lookup;
  private final HttpClient http;
  private final Duration forwardTimeout;
  private final String selfName;

  /**
   * @param lookup the local stores and the routing metadata
   * @param http the client that forwards to other instances
   * @param forwardTimeout how long a forwarded request may take before the answer is 503
   */
  public FeatureLookupHttpApi(FeatureLookup lookup, HttpClient http, Duration forwardTimeout) {
    this.lookup = Objects.requireNonNull(lookup, "lookup");
    this.http = Objects.requireNonNull(http, "http");
    this.forwardTimeout = Objects.requireNonNull(forwardTimeout, "forwardTimeout");
    this.selfName = FeatureLookup.describe(lookup.self());
  }

  /** Adds the lookup routes to a Javalin configuration (the service's own or a shared one). */
  public void routes(RoutesConfig routes) {
    routes.post(BATCH_PATH, this::batch);
    routes.get(GET_PATH, this::get);
  }

  // ------------------------------------------------------------- GET /features/{group}/{entity}

  private void get(Context ctx) {
    String groupName = ctx.pathParam("group");
    String entity = ctx.pathParam("entity");
    try {
      LookupGroup group = lookup.group(groupName);
      Owner owner = lookup.owner(group, entity);
      if (owner.local()) {
        send(ctx, 200, FeatureValuesJson.write(lookup.local(group, entity, owner.partition())));
        return;
      }
      refuseSecondHop(ctx, owner);
      HttpResponse<byte[]> answer = join(http.sendAsync(HttpRequest.newBuilder(
              uri(owner.host(), "/features/" + encode(groupName) + "/" + encode(entity)))
          .timeout(forwardTimeout).header(FORWARDED_BY, selfName).GET().build(),
          HttpResponse.BodyHandlers.ofByteArray()), owner.host());
      relay(ctx, answer);
    } catch (RuntimeException e) {
      fail(ctx, e);
    }
  }

  // ------------------------------------------------------------- POST /features/{group}/batch

  private void batch(Context ctx) {
    String groupName = ctx.pathParam("group");
    try {
      LookupGroup group = lookup.group(groupName);
      List<String> entities = parseBatch(ctx.bodyAsBytes());
      if (entities == null) {
        error(ctx, 400, "the body must be a JSON object {\"entities\": [\"id\", ...]} with"
            + " string ids");
        return;
      }
      if (entities.size() > MAX_BATCH) {
        error(ctx, 400, "a batch may ask for at most " + MAX_BATCH + " entities, this one asks"
            + " for " + entities.size() + "; split it into several requests");
        return;
      }
      FeatureValues[] results = new FeatureValues[entities.size()];
      Map<HostInfo, List<Integer>> remote = new LinkedHashMap<>();
      for (int i = 0; i < entities.size(); i++) {
        Owner owner = lookup.owner(group, entities.get(i));
        if (owner.local()) {
          results[i] = lookup.local(group, entities.get(i), owner.partition());
        } else {
          refuseSecondHop(ctx, owner);
          remote.computeIfAbsent(owner.host(), h -> new ArrayList<>()).add(i);
        }
      }
      Map<HostInfo, CompletableFuture<HttpResponse<byte[]>>> asked = new LinkedHashMap<>();
      for (Map.Entry<HostInfo, List<Integer>> part : remote.entrySet()) {
        List<String> ids = new ArrayList<>(part.getValue().size());
        part.getValue().forEach(i -> ids.add(entities.get(i)));
        asked.put(part.getKey(), http.sendAsync(HttpRequest.newBuilder(
                uri(part.getKey(), "/features/" + encode(groupName) + "/batch"))
            .timeout(forwardTimeout).header(FORWARDED_BY, selfName)
            .header("Content-Type", JSON_TYPE)
            .POST(HttpRequest.BodyPublishers.ofByteArray(
                bytes(FeatureValuesJson.batchRequest(ids)))).build(),
            HttpResponse.BodyHandlers.ofByteArray()));
      }
      for (Map.Entry<HostInfo, CompletableFuture<HttpResponse<byte[]>>> part : asked.entrySet()) {
        HttpResponse<byte[]> answer = join(part.getValue(), part.getKey());
        if (answer.statusCode() != 200) {
          relay(ctx, answer);
          return;
        }
        List<FeatureValues> theirs = FeatureValuesJson.readBatch(
            FeatureValuesJson.MAPPER.readTree(answer.body()));
        List<Integer> slots = remote.get(part.getKey());
        if (theirs.size() != slots.size()) {
          throw new FeatureLookupException(FeatureLookup.describe(part.getKey()) + " answered "
              + theirs.size() + " results for " + slots.size() + " entities");
        }
        for (int j = 0; j < slots.size(); j++) {
          results[slots.get(j)] = theirs.get(j);
        }
      }
      send(ctx, 200, FeatureValuesJson.writeBatch(group.name(), Arrays.asList(results)));
    } catch (IOException e) {
      fail(ctx, new LookupUnavailableException("an owning instance sent an unreadable answer: "
          + e.getMessage(), LookupUnavailableException.DEFAULT_RETRY_AFTER, e));
    } catch (RuntimeException e) {
      fail(ctx, e);
    }
  }

  /** The ids of a batch body, or null when the body is not {@code {"entities": [strings]}}. */
  static List<String> parseBatch(byte[] body) {
    JsonNode node;
    try {
      node = FeatureValuesJson.MAPPER.readTree(body);
    } catch (IOException e) {
      return null;
    }
    JsonNode array = node == null ? null : node.get("entities");
    if (array == null || !array.isArray()) {
      return null;
    }
    List<String> ids = new ArrayList<>(array.size());
    for (JsonNode id : array) {
      if (!id.isTextual()) {
        return null;
      }
      ids.add(id.asText());
    }
    return ids;
  }

  // ------------------------------------------------------------------------------- helpers

  private void refuseSecondHop(Context ctx, Owner owner) {
    String from = ctx.header(FORWARDED_BY);
    if (from != null) {
      throw new LookupUnavailableException(from + " sent a lookup to " + selfName + ", but "
          + FeatureLookup.describe(owner.host()) + " owns partition " + owner.partition()
          + ": the instances disagree while they rebalance",
          LookupUnavailableException.DEFAULT_RETRY_AFTER);
    }
  }

  private static HttpResponse<byte[]> join(CompletableFuture<HttpResponse<byte[]>> answer,
      HostInfo owner) {
    try {
      return answer.join();
    } catch (CompletionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      String why = cause instanceof HttpTimeoutException ? "did not answer in time"
          : "could not be reached (" + cause + ")";
      throw new LookupUnavailableException("the owning instance " + FeatureLookup.describe(owner)
          + " " + why + "; it may be stopping, and its partitions will move to another instance",
          LookupUnavailableException.DEFAULT_RETRY_AFTER, cause);
    }
  }

  private static void relay(Context ctx, HttpResponse<byte[]> answer) {
    answer.headers().firstValue("Retry-After").ifPresent(v -> ctx.header("Retry-After", v));
    ctx.status(answer.statusCode()).contentType(answer.headers().firstValue("Content-Type")
        .orElse(JSON_TYPE));
    write(ctx, answer.body());
  }

  private void fail(Context ctx, RuntimeException e) {
    if (e instanceof UnknownGroupException unknown) {
      ObjectNode body = FeatureValuesJson.MAPPER.createObjectNode();
      body.put("error", unknown.getMessage());
      ArrayNode known = body.putArray("knownGroups");
      unknown.knownGroups().forEach(known::add);
      send(ctx, 404, body);
    } else if (e instanceof HttpResponseException refused && refused.getStatus() == 413) {
      // Javalin refuses a body over the server's maxRequestSize with 413
      error(ctx, 413, "the body" + (ctx.contentLength() < 0 ? ""
          : " (" + ctx.contentLength() + " bytes)") + " is larger than this server accepts ("
          + refused.getMessage() + "): ask for fewer entities per request");
    } else if (e instanceof HttpResponseException refused) {
      error(ctx, refused.getStatus(), refused.getMessage());
    } else if (e instanceof LookupUnavailableException unavailable) {
      log.debug("{} {}: 503 {}", ctx.method(), ctx.path(), unavailable.getMessage());
      long seconds = Math.max(1, (unavailable.retryAfter().toMillis() + 999) / 1000);
      ctx.header("Retry-After", Long.toString(seconds));
      error(ctx, 503, unavailable.getMessage());
    } else {
      log.error("{} {} failed", ctx.method(), ctx.path(), e);
      error(ctx, 500, "internal error: " + e.getClass().getSimpleName() + ": " + e.getMessage());
    }
  }

  private static URI uri(HostInfo host, String path) {
    return URI.create("http://" + host.host() + ":" + host.port() + path);
  }

  /** A path segment, percent-encoded. */
  static String encode(String segment) {
    return URLEncoder.encode(segment, UTF_8).replace("+", "%20");
  }

  private static void error(Context ctx, int status, String message) {
    ObjectNode body = FeatureValuesJson.MAPPER.createObjectNode();
    body.put("error", message);
    send(ctx, status, body);
  }

  private static void send(Context ctx, int status, JsonNode body) {
    ctx.status(status).contentType(JSON_TYPE);
    write(ctx, bytes(body));
  }

  /**
   * Writes an answer straight to the response stream ({@code result(bytes)} would copy it through
   * a fresh buffer the size of Jetty's output buffer, 32 KiB, on every request: most of what a
   * lookup allocated, and so of its garbage-collection pauses). Compression still applies.
   */
  static void write(Context ctx, byte[] body) {
    try {
      ctx.outputStream().write(body);
    } catch (IOException e) {
      throw new UncheckedIOException("writing the answer failed: " + e.getMessage(), e);
    }
  }

  private static byte[] bytes(JsonNode node) {
    try {
      return FeatureValuesJson.MAPPER.writeValueAsBytes(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write a JSON answer", e);
    }
  }
}
