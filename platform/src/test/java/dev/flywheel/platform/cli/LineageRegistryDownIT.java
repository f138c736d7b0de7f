package dev.flywheel.platform.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.platform.FlywheelCli;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.TopicBootstrap;
import dev.flywheel.topics.Topics;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code flywheel lineage} when the schema registry cannot give the predictions' schemas: a
 * registry that does not answer is reported as such, not as a missing prediction, and a schema id
 * it does not know is asked for once.
 */
@WithDevstack
class LineageRegistryDownIT {

  private Devstack devstack;
  private UniqueNames names;
  private Topics topics;

  @BeforeEach
  void setUp(Devstack devstack, UniqueNames names) throws Exception {
    this.devstack = devstack;
    this.names = names;
    topics = Topics.builder(AvroSerdes.fromConfig(Map.of("schema.registry.url",
        devstack.schemaRegistryUrl()))).prefix(names.prefix()).build();
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", devstack.bootstrapServers()))) {
      new TopicBootstrap(admin).ensure(List.of(topics.predictions()));
    }
  }

  @Test
  void shouldSayTheSchemaRegistryCannotBeReachedRatherThanThatNoPredictionHasTheId()
      throws Exception {
    // Given predictions on the log, and a schema registry address where nothing listens
    producePredictions(987_001, 2);
    int port;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = socket.getLocalPort();
    }

    // When lineage looks for an event with that registry
    Result result = lineage("tx-1", "http://127.0.0.1:" + port);

    // Then it fails saying the registry cannot be reached, not that there is no prediction
    assertThat(result.exit()).as(result.err()).isEqualTo(1);
    assertThat(result.err())
        .contains("cannot reach the schema registry at http://127.0.0.1:" + port)
        .doesNotContain("no prediction");
  }

  @Test
  void shouldAskTheRegistryOnceForASchemaIdItDoesNotKnow() throws Exception {
    // Given three records framed with a schema id the registry does not know
    producePredictions(987_002, 3);
    AtomicInteger asked = new AtomicInteger();
    HttpServer registry = HttpServer.create(
        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    registry.createContext("/schemas/ids/987002", exchange -> {
      asked.incrementAndGet();
      byte[] body = "{\"error_code\":40403,\"message\":\"Schema 987002 not found\"}"
          .getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("Content-Type", "application/json");
      exchange.sendResponseHeaders(404, body.length);
      try (OutputStream o = exchange.getResponseBody()) {
        o.write(body);
      }
    });
    registry.start();
    try {
      // When lineage looks for an event through them
      Result result = lineage("tx-1", "http://127.0.0.1:" + registry.getAddress().getPort());

      // Then none decodes, so there is no prediction, and the registry was asked once
      assertThat(result.exit()).as(result.err()).isEqualTo(LineageCommand.EXIT_NOT_FOUND);
      assertThat(asked).hasValue(1);
    } finally {
      registry.stop(0);
    }
  }

  private void producePredictions(int schemaId, int count) throws Exception {
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(
        Map.of("bootstrap.servers", devstack.bootstrapServers()), new ByteArraySerializer(),
        new ByteArraySerializer())) {
      for (int i = 0; i < count; i++) {
        byte[] framed = ByteBuffer.allocate(7).put((byte) 0).putInt(schemaId).put((byte) 2)
            .put((byte) 4).array();
        producer.send(new ProducerRecord<>(topics.predictions().name(),
            ("card-" + i).getBytes(StandardCharsets.UTF_8), framed)).get();
      }
    }
  }

  private Result lineage(String eventId, String registryUrl) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = new CommandLine(new FlywheelCli()).setOut(new PrintWriter(out, true))
        .setErr(new PrintWriter(err, true)).execute("lineage", eventId,
            "--bootstrap-servers", devstack.bootstrapServers(),
            "--schema-registry-url", registryUrl, "--prefix", names.prefix());
    return new Result(exit, out.toString(), err.toString());
  }

  private record Result(int exit, String out, String err) {}
}
