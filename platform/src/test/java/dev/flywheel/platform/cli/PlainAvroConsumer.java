package dev.flywheel.platform.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * What any application can write to read Flywheel's events: a plain {@link KafkaConsumer} and
 * Confluent wire-format decoding by hand — magic byte 0, a 4-byte big-endian schema id, the schema
 * fetched from the registry's REST API ({@code GET /schemas/ids/{id}}) with {@code java.net.http}
 * (Jackson reads the answer),
 * Avro binary decoded with {@link GenericDatumReader}. It uses no Flywheel class at all: only
 * kafka-clients, Avro, Jackson and the JDK.
 */
final class PlainAvroConsumer implements AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final KafkaConsumer<String, byte[]> consumer;
  private final String registryUrl;
  private final HttpClient http = HttpClient.newHttpClient();
  private final Map<Integer, Schema> schemas = new HashMap<>();

  PlainAvroConsumer(String bootstrapServers, String registryUrl, String groupId, String topic) {
    this.registryUrl = registryUrl;
    Map<String, Object> props = new HashMap<>();
    props.put("bootstrap.servers", bootstrapServers);
    props.put("group.id", groupId);
    props.put("auto.offset.reset", "earliest");
    props.put("isolation.level", "read_committed");
    this.consumer = new KafkaConsumer<>(props, new StringDeserializer(),
        new ByteArrayDeserializer());
    consumer.subscribe(List.of(topic));
  }

  /** The records of one poll, decoded. */
  List<GenericRecord> poll(Duration timeout) {
    List<GenericRecord> records = new ArrayList<>();
    for (ConsumerRecord<String, byte[]> record : consumer.poll(timeout)) {
      if (record.value() != null) {
        records.add(decode(record.value()));
      }
    }
    return records;
  }

  GenericRecord decode(byte[] bytes) {
    ByteBuffer buffer = ByteBuffer.wrap(bytes);
    byte magic = buffer.get();
    if (magic != 0) {
      throw new IllegalArgumentException("not the Confluent wire format: magic byte " + magic);
    }
    int schemaId = buffer.getInt();
    Schema schema = schemas.computeIfAbsent(schemaId, this::fetchSchema);
    try {
      return new GenericDatumReader<GenericRecord>(schema).read(null,
          DecoderFactory.get().binaryDecoder(bytes, 5, bytes.length - 5, null));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private Schema fetchSchema(int id) {
    try {
      HttpResponse<String> response = http.send(HttpRequest.newBuilder(
              URI.create(registryUrl + "/schemas/ids/" + id)).GET().build(),
          HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new IllegalStateException("registry answered " + response.statusCode() + ": "
            + response.body());
      }
      // {"schema": "<the schema's JSON, as a string>"}
      return new Schema.Parser().parse(JSON.readTree(response.body()).get("schema").asText());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    consumer.close();
  }
}
