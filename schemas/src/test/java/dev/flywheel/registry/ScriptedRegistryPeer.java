package dev.flywheel.registry;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import javax.net.ssl.SSLContext;

/**
 * A scripted HTTP peer standing in for a schema registry: records every request and answers from
 * a queue of scripted replies, then from a fallback.
 */
public final class ScriptedRegistryPeer implements AutoCloseable {

  /** One request as received. */
  public record Request(String method, String pathAndQuery, Map<String, List<String>> headers, String body) {
    /** The first value of a header, case-insensitive; null when absent. */
    public String header(String name) {
      for (Map.Entry<String, List<String>> e : headers.entrySet()) {
        if (e.getKey().equalsIgnoreCase(name) && !e.getValue().isEmpty()) {
          return e.getValue().get(0);
        }
      }
      return null;
    }
  }

  /** One scripted answer; {@code drop} closes the connection without answering. */
  public record Reply(int status, String body, Map<String, String> headers, boolean drop) {}

  public static Reply json(int status, String body) {
    return new Reply(status, body, Map.of("Content-Type", RestSchemaRegistryClient.MEDIA_TYPE), false);
  }

  public static Reply text(int status, String body) {
    return new Reply(status, body, Map.of("Content-Type", "text/html"), false);
  }

  public static Reply error(int status, int code, String message) {
    return json(status, "{\"error_code\":" + code + ",\"message\":\"" + message + "\"}");
  }

  public static Reply drop() {
    return new Reply(0, null, Map.of(), true);
  }

  private final HttpServer server;
  private final String scheme;
  private final List<Request> requests = new CopyOnWriteArrayList<>();
  private final ConcurrentLinkedDeque<Reply> script = new ConcurrentLinkedDeque<>();
  private volatile Function<Request, Reply> fallback =
      r -> error(500, 50001, "no scripted reply for " + r.method() + " " + r.pathAndQuery());

  private ScriptedRegistryPeer(HttpServer server, String scheme) {
    this.server = server;
    this.scheme = scheme;
    server.createContext("/", this::handle);
    server.start();
  }

  /** A plain-HTTP peer on a free loopback port. */
  public static ScriptedRegistryPeer start() throws IOException {
    return new ScriptedRegistryPeer(HttpServer.create(
        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0), "http");
  }

  /** An HTTPS peer on a free loopback port, presenting the certificate of {@code tls}. */
  public static ScriptedRegistryPeer startTls(SSLContext tls) throws IOException {
    HttpsServer server = HttpsServer.create(
        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setHttpsConfigurator(new HttpsConfigurator(tls));
    return new ScriptedRegistryPeer(server, "https");
  }

  /** Queues replies, answered in order. */
  public ScriptedRegistryPeer then(Reply... replies) {
    script.addAll(List.of(replies));
    return this;
  }

  /** Answers with {@code reply} once the queue is empty. */
  public ScriptedRegistryPeer otherwise(Function<Request, Reply> reply) {
    this.fallback = reply;
    return this;
  }

  public String url() {
    return scheme + "://127.0.0.1:" + server.getAddress().getPort();
  }

  public int port() {
    return server.getAddress().getPort();
  }

  public List<Request> requests() {
    return new ArrayList<>(requests);
  }

  public Request lastRequest() {
    return requests.get(requests.size() - 1);
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      String query = exchange.getRequestURI().getRawQuery();
      Request request = new Request(exchange.getRequestMethod(),
          exchange.getRequestURI().getRawPath() + (query == null ? "" : "?" + query),
          Map.copyOf(exchange.getRequestHeaders()), body);
      requests.add(request);
      Reply reply = script.poll();
      if (reply == null) {
        reply = fallback.apply(request);
      }
      if (reply.drop()) {
        return; // closing the exchange before any response closes the connection
      }
      reply.headers().forEach((k, v) -> exchange.getResponseHeaders().add(k, v));
      byte[] bytes = reply.body() == null ? new byte[0] : reply.body().getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(reply.status(), bytes.length == 0 ? -1 : bytes.length);
      if (bytes.length > 0) {
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(bytes);
        }
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
