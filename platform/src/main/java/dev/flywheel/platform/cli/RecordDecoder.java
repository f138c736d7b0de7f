package dev.flywheel.platform.cli;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flywheel.registry.SchemaRegistryClient;
import dev.flywheel.registry.SchemaRegistryException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;

/**
 * Turns any record's key or value bytes into JSON: Confluent-framed Avro (magic byte 0, 4-byte
 * schema id, Avro binary) is decoded with the writer schema fetched from the registry by id, so
 * no generated classes are needed; UTF-8 text stays text (a key as is, a value as {@code
 * value_text}); anything else is shown as base64 with a note saying why it was not decoded.
 * Never throws on bad bytes.
 */
final class RecordDecoder {

  static final ObjectMapper JSON = JsonMapper.builder()
      .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final byte MAGIC = 0;
  private static final int HEADER = 5;

  private final SchemaRegistryClient registry;
  /** How long a schema id the registry did not answer for is not asked for again. */
  static final java.time.Duration RETRY_UNANSWERED = java.time.Duration.ofSeconds(30);

  private final Map<Integer, GenericDatumReader<Object>> readers = new HashMap<>();
  /**
   * Schema ids the registry could not give, with when: a refusal (an unknown id) for the decoder's
   * life, no answer for {@link #RETRY_UNANSWERED}, so that a registry that is down costs one wait
   * per id, not one per record, and one that comes back is asked again.
   */
  private final Map<Integer, Failure> failed = new HashMap<>();

  private record Failure(SchemaRegistryException error, long atNanos) {}

  RecordDecoder(SchemaRegistryClient registry) {
    this.registry = registry;
  }

  /**
   * Adds {@code <field>} (and {@code <field>_schema_id}, or {@code <field>_base64} and {@code
   * <field>_note}) to {@code out} for {@code bytes}; a null {@code bytes} gives JSON null. Bytes
   * that are not Avro but UTF-8 text are {@code <field>} itself when {@code textAllowed}, else
   * {@code <field>_text} (with a null {@code <field>} and a {@code <field>_note}), so a dead
   * letter's JSON is readable; only binary is base64.
   */
  void put(ObjectNode out, String field, byte[] bytes, boolean textAllowed) {
    if (bytes == null) {
      out.putNull(field);
      return;
    }
    if (bytes.length >= HEADER && bytes[0] == MAGIC) {
      int id = ByteBuffer.wrap(bytes, 1, 4).getInt();
      String problem;
      try {
        Object datum = decode(id, bytes);
        out.set(field, toJson(datum));
        out.put(field + "_schema_id", id);
        return;
      } catch (SchemaRegistryException e) {
        problem = "schema id " + id + " could not be fetched from the registry: "
            + e.getMessage();
      } catch (IOException | RuntimeException e) {
        problem = "framed as Avro with schema id " + id + " but does not decode with it: " + e;
      }
      if (!textAllowed) {
        out.putNull(field);
        out.put(field + "_base64", Base64.getEncoder().encodeToString(bytes));
        out.put(field + "_note", problem);
        return;
      }
    }
    String text = utf8(bytes);
    if (text != null && textAllowed) {
      out.put(field, text);
      return;
    }
    out.putNull(field);
    if (text != null) {
      out.put(field + "_text", text);
      out.put(field + "_note", "not Confluent-framed Avro but UTF-8 text, shown as "
          + field + "_text");
      return;
    }
    out.put(field + "_base64", Base64.getEncoder().encodeToString(bytes));
    out.put(field + "_note", bytes.length < HEADER
        ? "not Confluent-framed Avro: " + bytes.length + " bytes, shorter than the 5-byte header"
        : "not Confluent-framed Avro: magic byte is " + bytes[0] + ", not 0");
  }

  /** Decodes framed Avro with its writer schema. */
  Object decode(int id, byte[] bytes) throws IOException {
    GenericDatumReader<Object> reader = readers.get(id);
    if (reader == null) {
      Failure failure = failed.get(id);
      if (failure != null && (!failure.error().isRetriable()
          || System.nanoTime() - failure.atNanos() < RETRY_UNANSWERED.toNanos())) {
        throw failure.error();
      }
      Schema schema;
      try {
        schema = registry.getSchemaById(id);
      } catch (SchemaRegistryException e) {
        failed.put(id, new Failure(e, System.nanoTime()));
        throw e;
      }
      failed.remove(id);
      reader = new GenericDatumReader<>(schema);
      readers.put(id, reader);
    }
    BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(bytes, HEADER,
        bytes.length - HEADER, null);
    Object datum = reader.read(null, decoder);
    if (!decoder.isEnd()) {
      throw new IOException((bytes.length - HEADER) + " bytes of body, but the datum ended"
          + " before the last");
    }
    return datum;
  }

  /** Avro generic data as JSON (the form of {@link GenericData#toString(Object)}). */
  static JsonNode toJson(Object datum) {
    if (datum == null) {
      return NODES.nullNode();
    }
    if (datum instanceof CharSequence s) {
      return NODES.textNode(s.toString());
    }
    String text = GenericData.get().toString(datum);
    try {
      return JSON.readTree(text);
    } catch (IOException e) {
      return NODES.textNode(text);
    }
  }

  private static String utf8(byte[] bytes) {
    try {
      String s = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes)).toString();
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        if (Character.isISOControl(c) && c != '\n' && c != '\r' && c != '\t') {
          return null;
        }
      }
      return s;
    } catch (CharacterCodingException e) {
      return null;
    }
  }
}
