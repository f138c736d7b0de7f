package dev.flywheel.devstack.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Raw HTTP calls to a registry, with {@link HttpClient} only, so that tests check the wire API as
 * any Confluent-compatible client sees it.
 */
final class RegistryHttp {

  static final String V1_JSON = "application/vnd.schemaregistry.v1+json";
  static final ObjectMapper JSON = new ObjectMapper();

  private final String baseUrl;
  private final HttpClient client = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(5)).build();

  RegistryHttp(String baseUrl) {
    this.baseUrl = baseUrl;
  }

  /**
   * A response: status, content type and body, with the body as JSON when asked. The body is the
   * bytes received read as UTF-8, the encoding of JSON, whatever charset the response declares:
   * text that was not sent in UTF-8 does not come out as it was registered.
   */
  record Response(int status, String contentType, String body) {
    JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        throw new UncheckedIOException("not JSON: " + body, e);
      }
    }

    int errorCode() {
      return json().path("error_code").asInt();
    }

    int id() {
      return json().path("id").asInt();
    }
  }

  Response get(String path) {
    return send(HttpRequest.newBuilder(uri(path)).GET());
  }

  Response delete(String path) {
    return send(HttpRequest.newBuilder(uri(path)).DELETE());
  }

  Response post(String path, String body) {
    return post(path, body, V1_JSON);
  }

  /** A POST with the given content type, or none when {@code contentType} is null. */
  Response post(String path, String body, String contentType) {
    HttpRequest.Builder request = HttpRequest.newBuilder(uri(path))
        .POST(BodyPublishers.ofString(body));
    if (contentType != null) {
      request.header("Content-Type", contentType);
    }
    return send(request);
  }

  Response put(String path, String body) {
    return send(HttpRequest.newBuilder(uri(path)).header("Content-Type", V1_JSON)
        .PUT(BodyPublishers.ofString(body)));
  }

  /** Registers an Avro schema and returns the response. */
  Response register(String subject, String schema) {
    return post("/subjects/" + subject + "/versions", schemaBody(schema));
  }

  /** Registers an Avro schema that must be accepted, and returns its id. */
  int registerOk(String subject, String schema) {
    Response response = register(subject, schema);
    if (response.status() != 200) {
      throw new AssertionError("registration refused: " + response);
    }
    return response.id();
  }

  /** Sets a compatibility level, globally when {@code subject} is null. */
  Response setLevel(String subject, String level) {
    ObjectNode body = JSON.createObjectNode().put("compatibility", level);
    return put(subject == null ? "/config" : "/config/" + subject, body.toString());
  }

  /** {@code {"schema": "<schema text>"}}. */
  static String schemaBody(String schema) {
    return JSON.createObjectNode().put("schema", schema).toString();
  }

  private URI uri(String path) {
    return URI.create(baseUrl + path);
  }

  private Response send(HttpRequest.Builder request) {
    try {
      HttpResponse<byte[]> response = client.send(request.timeout(Duration.ofSeconds(30)).build(),
          BodyHandlers.ofByteArray());
      return new Response(response.statusCode(),
          response.headers().firstValue("Content-Type").orElse(null),
          new String(response.body(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
