package dev.flywheel.platform.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import dev.flywheel.registry.SchemaRegistryClient;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link RecordDecoder}: a schema id the registry could not give is not asked for per record. */
class RecordDecoderTest {

  private HttpServer registry;

  @AfterEach
  void stop() {
    if (registry != null) {
      registry.stop(0);
    }
  }

  @Test
  void shouldAskTheRegistryOnceForASchemaIdItDoesNotKnow() throws Exception {
    // Given a registry that does not know schema id 987654, counting how often it is asked
    AtomicInteger asked = new AtomicInteger();
    registry = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    registry.createContext("/schemas/ids/987654", exchange -> {
      asked.incrementAndGet();
      byte[] body = "{\"error_code\":40403,\"message\":\"Schema 987654 not found\"}"
          .getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("Content-Type", "application/json");
      exchange.sendResponseHeaders(404, body.length);
      try (OutputStream o = exchange.getResponseBody()) {
        o.write(body);
      }
    });
    registry.start();
    RecordDecoder decoder = new RecordDecoder(SchemaRegistryClient.builder()
        .url("http://127.0.0.1:" + registry.getAddress().getPort()).build());
    byte[] framed = ByteBuffer.allocate(7).put((byte) 0).putInt(987_654).put((byte) 2)
        .put((byte) 4).array();

    // When three records framed with that id are decoded
    ObjectNode[] lines = new ObjectNode[3];
    for (int i = 0; i < lines.length; i++) {
      lines[i] = RecordDecoder.JSON.createObjectNode();
      decoder.put(lines[i], "value", framed, false);
    }

    // Then each says why it is not decoded, and the registry was asked once
    for (ObjectNode line : lines) {
      assertThat(line.get("value_note").asText())
          .startsWith("schema id 987654 could not be fetched from the registry");
    }
    assertThat(asked).hasValue(1);
  }
}
