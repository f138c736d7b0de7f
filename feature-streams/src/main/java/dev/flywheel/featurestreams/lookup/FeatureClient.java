package dev.flywheel.featurestreams.lookup;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.LockSupport;

/**
 * A Java client for the online feature lookup of any Flywheel instance that serves it.
 *
 * <pre>{@code
 * FeatureClient features = FeatureClient.builder()
 *     .url("http://127.0.0.1:8080")
 *     .retryUnavailableFor(Duration.ofSeconds(10))   // ride out a rebalance
 *     .build();
 * FeatureValues card = features.get("card_activity", "card-7");
 * List<FeatureValues> cards = features.batch("card_activity", List.of("card-7", "card-8"));
 * }</pre>
 *
 * <p>Thread-safe; one client can serve a whole application.
 */
public final class FeatureClient {

  private final String url;
  private final HttpClient http;
  private final Duration timeout;
  private final Duration retryUnavailableFor;

  private FeatureClient(Builder b) {
    this.url = b.url.endsWith("/") ? b.url.substring(0, b.url.length() - 1) : b.url;
    this.timeout = b.timeout;
    this.retryUnavailableFor = b.retryUnavailableFor;
    this.http = b.httpClient != null ? b.httpClient : HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1).connectTimeout(b.timeout).build();
  }

  /** A builder; the url is required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The features of {@code entity}: the latest values when the group's store holds it, the
   * group's defaults with {@link FeatureValues#found()} false when it does not.
   *
   * @throws UnknownGroupException when no such group is declared (naming the known groups)
   * @throws LookupUnavailableException when the instances were rebalancing for longer than
   *     {@link Builder#retryUnavailableFor}
   * @throws FeatureLookupException when the server cannot be reached or answers an error
   */
  public FeatureValues get(String group, String entity) {
    Objects.requireNonNull(group, "group");
    Objects.requireNonNull(entity, "entity");
    HttpRequest request = HttpRequest.newBuilder(URI.create(url + "/features/"
            + FeatureLookupHttpApi.encode(group) + "/" + FeatureLookupHttpApi.encode(entity)))
        .timeout(timeout).GET().build();
    return FeatureValuesJson.read(call(request, group));
  }

  /**
   * The features of each entity, in the order asked (at most {@link FeatureLookupHttpApi#MAX_BATCH}
   * per call).
   *
   * @throws UnknownGroupException when no such group is declared
   * @throws LookupUnavailableException when the instances were rebalancing for longer than
   *     {@link Builder#retryUnavailableFor}
   * @throws FeatureLookupException when the server cannot be reached or answers an error
   */
  public List<FeatureValues> batch(String group, List<String> entities) {
    Objects.requireNonNull(group, "group");
    List<String> ids = List.copyOf(entities);
    byte[] body;
    try {
      body = FeatureValuesJson.MAPPER.writeValueAsBytes(FeatureValuesJson.batchRequest(ids));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write a batch request", e);
    }
    HttpRequest request = HttpRequest.newBuilder(URI.create(url + "/features/"
            + FeatureLookupHttpApi.encode(group) + "/batch"))
        .timeout(timeout).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
    List<FeatureValues> results = FeatureValuesJson.readBatch(call(request, group));
    if (results.size() != ids.size()) {
      throw new FeatureLookupException("the server answered " + results.size() + " results for "
          + ids.size() + " entities");
    }
    return new ArrayList<>(results);
  }

  private JsonNode call(HttpRequest request, String group) {
    long deadline = System.nanoTime() + retryUnavailableFor.toNanos();
    while (true) {
      HttpResponse<byte[]> response;
      try {
        response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
      } catch (IOException e) {
        throw new FeatureLookupException("the feature lookup at " + url + " could not be reached: "
            + e, e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new FeatureLookupException("interrupted while asking " + url, e);
      }
      JsonNode body = parse(response);
      int status = response.statusCode();
      if (status == 200) {
        return body;
      }
      String message = body != null && body.path("error").isTextual()
          ? body.get("error").asText() : "HTTP " + status;
      if (status == 404 && body != null && body.path("knownGroups").isArray()) {
        List<String> known = new ArrayList<>();
        body.get("knownGroups").forEach(n -> known.add(n.asText()));
        throw new UnknownGroupException(group, known);
      }
      if (status == 503) {
        Duration wait = retryAfter(response);
        long now = System.nanoTime();
        if (now + wait.toNanos() > deadline) {
          throw new LookupUnavailableException(message, wait);
        }
        LockSupport.parkNanos(wait.toNanos());
        if (Thread.currentThread().isInterrupted()) {
          throw new LookupUnavailableException(message, wait);
        }
        continue;
      }
      throw new FeatureLookupException("the feature lookup at " + url + " answered " + status
          + ": " + message);
    }
  }

  private static JsonNode parse(HttpResponse<byte[]> response) {
    try {
      return FeatureValuesJson.MAPPER.readTree(response.body());
    } catch (IOException e) {
      if (response.statusCode() == 200) {
        throw new FeatureLookupException("the feature lookup answered 200 with a body that is not"
            + " JSON: " + e.getMessage(), e);
      }
      return null;
    }
  }

  private static Duration retryAfter(HttpResponse<?> response) {
    String header = response.headers().firstValue("Retry-After").orElse(null);
    if (header != null) {
      try {
        return Duration.ofSeconds(Math.max(0, Long.parseLong(header.trim())));
      } catch (NumberFormatException e) {
        // an HTTP date: fall back to the default
      }
    }
    return LookupUnavailableException.DEFAULT_RETRY_AFTER;
  }

  /** Builds a {@link FeatureClient}. */
  public static final class Builder {
    private String url;
    private Duration timeout = Duration.ofSeconds(5);
    private Duration retryUnavailableFor = Duration.ZERO;
    private HttpClient httpClient;

    private Builder() {}

    /** The base URL of any instance serving the lookup, e.g. {@code http://127.0.0.1:8080}. */
    public Builder url(String url) {
      this.url = Objects.requireNonNull(url, "url");
      return this;
    }

    /** How long one request may take; default 5 s. */
    public Builder timeout(Duration timeout) {
      this.timeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /**
     * How long to keep retrying a 503 (rebalancing, restoring), waiting the {@code Retry-After}
     * the server names between attempts; default zero: a 503 throws at once.
     */
    public Builder retryUnavailableFor(Duration retryUnavailableFor) {
      this.retryUnavailableFor = Objects.requireNonNull(retryUnavailableFor,
          "retryUnavailableFor");
      return this;
    }

    /** The HTTP client to use; default an HTTP/1.1 client of its own. */
    public Builder httpClient(HttpClient httpClient) {
      this.httpClient = Objects.requireNonNull(httpClient, "httpClient");
      return this;
    }

    /**
     * @throws NullPointerException when the url is missing
     * @throws IllegalArgumentException when the url is not an http(s) URL
     */
    public FeatureClient build() {
      Objects.requireNonNull(url, "url (e.g. http://127.0.0.1:8080)");
      URI uri;
      try {
        uri = URI.create(url);
      } catch (IllegalArgumentException e) {
        uri = URI.create("invalid:x");
      }
      if (uri.getScheme() == null || !(uri.getScheme().equals("http")
          || uri.getScheme().equals("https")) || uri.getHost() == null) {
        throw new IllegalArgumentException("url must be http://host:port or https://host:port,"
            + " got '" + url + "'");
      }
      return new FeatureClient(this);
    }
  }
}
