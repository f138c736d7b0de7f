package dev.flywheel.serde;

import dev.flywheel.registry.SchemaRegistryClient;
import dev.flywheel.registry.SchemaRegistryClientConfig;
import dev.flywheel.registry.SchemaRegistryException;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Deserializes the Confluent wire format (magic byte {@code 0x00}, big-endian int32 schema id,
 * Avro binary), as written by Confluent's {@code KafkaAvroSerializer} or {@link AvroSerializer}.
 *
 * <p><b>Reader schema.</b> The writer schema is fetched by id (once; the client caches it) and
 * resolved against a reader schema with Avro's schema resolution, so evolved writers are read
 * correctly: fields the reader lacks are skipped, fields the writer lacks get the reader's
 * defaults.
 *
 * <ul>
 *   <li>specific, for a given generated class: the class's schema is the reader;
 *   <li>specific ({@value AvroSerdeConfig#SPECIFIC_AVRO_READER}) without a class: the generated
 *       class named by the writer schema's full name, with its schema as reader; a top-level
 *       union, array or map is read with the writer schema as reader (as Confluent does), its
 *       records as their generated classes where the classpath has them;
 *   <li>generic: the configured reader schema ({@value AvroSerdeConfig#READER_SCHEMA}) or else the
 *       writer schema, giving {@link org.apache.avro.generic.GenericRecord}s. Logical types come
 *       as their underlying Avro values ({@code ByteBuffer}, {@code Long}, …) unless {@value
 *       AvroSerdeConfig#USE_LOGICAL_TYPE_CONVERTERS} is true, which gives {@code BigDecimal},
 *       {@code Instant}, {@code UUID}, {@code LocalDate} and the like, as Confluent's does.
 * </ul>
 *
 * Primitive writer schemas give Java values ({@code String}, {@code Integer}, …, {@code byte[]}),
 * as Confluent's deserializer does. One {@link DatumReader} is cached per writer id (the reader
 * schema is fixed per deserializer, so that is per (writer id, reader schema)), the last one used is
 * checked first, and the binary decoder is reused per thread.
 *
 * <p><b>Bad payloads.</b> {@code null} gives {@code null}. A payload shorter than the 5-byte header,
 * with another magic byte, with a schema id the registry does not know, or whose body does not
 * decode exactly with the writer schema (truncated, garbage, trailing bytes) raises {@link
 * SerializationException} naming the topic and the problem. When the writer schema cannot be
 * fetched for a reason that is not the record's (the registry does not answer, refuses the
 * credentials or denies access, or the URL does not lead to a registry) the exception's cause is
 * a {@link SchemaRegistryException} for which {@link SchemaRegistryException#isRetriableCause} is
 * true, and the message says what to fix: the payload may well be fine, and readers retry it
 * rather than dead-letter it. Only a schema id the registry says it does not know (error code
 * {@value SchemaRegistryException#SCHEMA_NOT_FOUND}) is reported as an unknown schema id.
 *
 * <p>Thread-safe once configured.
 *
 * @param <T> the type of data deserialized
 */
public final class AvroDeserializer<T> implements Deserializer<T> {

  private static final ThreadLocal<DecoderSlot> DECODERS = ThreadLocal.withInitial(DecoderSlot::new);

  private SchemaRegistryClient client;
  private boolean ownsClient;
  private boolean isKey;
  private final Class<?> specificType;
  private final Schema fixedReaderSchema;
  private boolean specific;
  private boolean logicalTypes;
  private Schema readerSchema;
  private final Map<Integer, Reader> readers = new ConcurrentHashMap<>();
  private volatile Reader last;

  /** For Kafka: {@link #configure} must follow, with {@value AvroSerdeConfig#SCHEMA_REGISTRY_URL}. */
  public AvroDeserializer() {
    this.specificType = null;
    this.fixedReaderSchema = null;
  }

  /**
   * A value deserializer using {@code client}, generic unless {@link #configure} sets {@value
   * AvroSerdeConfig#SPECIFIC_AVRO_READER}.
   */
  public AvroDeserializer(SchemaRegistryClient client) {
    this(client, null, null);
  }

  /**
   * A deserializer using {@code client}, configured with {@code config}.
   *
   * @throws org.apache.kafka.common.config.ConfigException when a value is invalid
   */
  public AvroDeserializer(SchemaRegistryClient client, Map<String, ?> config, boolean isKey) {
    this(client, null, null);
    configure(config, isKey);
  }

  /**
   * A value deserializer returning the generated class {@code specificType}, read with that class's
   * schema as reader whatever the writer's version.
   *
   * @throws IllegalArgumentException when {@code specificType} is not a generated record class
   */
  public AvroDeserializer(SchemaRegistryClient client, Class<T> specificType) {
    this(client, Objects.requireNonNull(specificType, "specificType"), null);
  }

  /**
   * A generic value deserializer reading every record with {@code readerSchema}.
   *
   * @param readerSchema the reader schema; null reads with each record's writer schema
   */
  public AvroDeserializer(SchemaRegistryClient client, Schema readerSchema) {
    this(client, null, readerSchema);
  }

  private AvroDeserializer(SchemaRegistryClient client, Class<?> specificType, Schema readerSchema) {
    this.client = Objects.requireNonNull(client, "client");
    if (specificType != null && !SpecificRecord.class.isAssignableFrom(specificType)) {
      throw new IllegalArgumentException(specificType.getName() + " is not a generated Avro "
          + "record class (SpecificRecord)");
    }
    this.specificType = specificType;
    this.fixedReaderSchema = readerSchema;
    this.specific = specificType != null;
    this.readerSchema = specificType != null ? specificSchema(specificType) : readerSchema;
  }

  /**
   * Applies {@link AvroSerdeConfig} settings ({@value AvroSerdeConfig#SPECIFIC_AVRO_READER},
   * {@value AvroSerdeConfig#READER_SCHEMA}); builds the registry client from the same map when
   * none was given to the constructor. A class or reader schema given to the constructor wins.
   *
   * @throws org.apache.kafka.common.config.ConfigException when a value is invalid, or the
   *     registry URL is missing and no client was given
   */
  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {
    AvroSerdeConfig parsed = AvroSerdeConfig.of(configs);
    if (client == null || ownsClient) {
      client = SchemaRegistryClient.fromConfig(configs);
      ownsClient = true;
    }
    this.isKey = isKey;
    this.logicalTypes = parsed.useLogicalTypeConverters();
    if (specificType == null) {
      this.specific = parsed.specificAvroReader();
      this.readerSchema = specific ? null
          : fixedReaderSchema != null ? fixedReaderSchema : parsed.readerSchema().orElse(null);
    }
    readers.clear();
    last = null;
  }

  /** The registry client; null until configured. */
  public SchemaRegistryClient client() {
    return client;
  }

  @Override
  public T deserialize(String topic, byte[] data) {
    return data == null ? null : read(topic, data, 0, data.length);
  }

  /** Headers are not read: the schema id travels in the payload. */
  @Override
  public T deserialize(String topic, Headers headers, byte[] data) {
    return data == null ? null : read(topic, data, 0, data.length);
  }

  /** Reads straight from the buffer's backing array when it has one; the buffer is not modified. */
  @Override
  public T deserialize(String topic, Headers headers, ByteBuffer data) {
    if (data == null) {
      return null;
    }
    if (data.hasArray()) {
      return read(topic, data.array(), data.arrayOffset() + data.position(), data.remaining());
    }
    byte[] copy = new byte[data.remaining()];
    data.duplicate().get(copy);
    return read(topic, copy, 0, copy.length);
  }

  @SuppressWarnings("unchecked")
  private T read(String topic, byte[] buf, int offset, int length) {
    if (length < WireEncoder.HEADER_SIZE) {
      throw bad(topic, "the payload is " + length + " byte" + (length == 1 ? "" : "s")
          + ", shorter than the 5-byte header of the Confluent wire format (magic byte 0x00 and "
          + "a 4-byte schema id)", null);
    }
    byte magic = buf[offset];
    if (magic != WireEncoder.MAGIC_BYTE) {
      throw bad(topic, String.format("unknown magic byte 0x%02x (expected 0x00); the payload is "
          + "not in the Confluent wire format%s", magic & 0xff, hint(magic)), null);
    }
    int id = ((buf[offset + 1] & 0xff) << 24) | ((buf[offset + 2] & 0xff) << 16)
        | ((buf[offset + 3] & 0xff) << 8) | (buf[offset + 4] & 0xff);
    Reader reader = last;
    if (reader == null || reader.id != id) {
      reader = reader(topic, id);
    }
    DecoderSlot slot = DECODERS.get();
    BinaryDecoder reused = slot.inUse ? null : slot.decoder;
    BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(buf, offset + WireEncoder.HEADER_SIZE,
        length - WireEncoder.HEADER_SIZE, reused);
    boolean owned = !slot.inUse;
    if (owned) {
      slot.decoder = decoder;
      slot.inUse = true;
    }
    try {
      Object value = reader.reader.read(null, decoder);
      if (!decoder.isEnd()) {
        throw bad(topic, "the Avro body has bytes left after the datum written with schema id "
            + id + " (" + reader.writerName + "); the payload is corrupt or was not written with "
            + "this schema", null);
      }
      return (T) reader.finish(value);
    } catch (EOFException e) {
      throw bad(topic, "the Avro body is truncated: it ends before the datum written with schema "
          + "id " + id + " (" + reader.writerName + ") is complete (" + (length - 5)
          + " body bytes)", e);
    } catch (IOException | RuntimeException e) {
      if (e instanceof SerializationException s) {
        throw s;
      }
      throw bad(topic, "the Avro body cannot be decoded with writer schema id " + id + " ("
          + reader.writerName + ")" + reader.resolutionNote() + ": " + e, e);
    } finally {
      if (owned) {
        slot.inUse = false;
      }
    }
  }

  private Reader reader(String topic, int id) {
    Reader reader = readers.get(id);
    if (reader == null) {
      reader = newReader(topic, id);
      readers.put(id, reader);
    }
    last = reader;
    return reader;
  }

  private Reader newReader(String topic, int id) {
    if (client == null) {
      throw new IllegalStateException("AvroDeserializer is not configured: call configure() or "
          + "construct it with a SchemaRegistryClient");
    }
    Schema writer;
    try {
      writer = client.getSchemaById(id);
    } catch (SchemaRegistryException e) {
      throw bad(topic, fetchFailure(id, e), e);
    }
    Schema reader;
    GenericData model;
    if (Primitives.isPrimitive(writer) && specificType == null) {
      reader = writer;
      model = genericModel();
    } else if (specificType != null) {
      reader = readerSchema;
      model = SpecificData.getForClass(specificType);
    } else if (specific && isContainer(writer)) {
      // as Confluent's deserializer: a top-level union, array or map is read with the writer
      // schema, its records as their generated classes where there are some
      reader = writer;
      model = logicalTypes ? AvroModels.SPECIFIC_WITH_CONVERSIONS
          : SpecificData.getForSchema(writer);
    } else if (specific) {
      Class<?> type = SpecificData.get().getClass(writer);
      if (type == null || !(writer.getType() == Schema.Type.RECORD
          || writer.getType() == Schema.Type.ENUM || writer.getType() == Schema.Type.FIXED)) {
        throw bad(topic, AvroSerdeConfig.SPECIFIC_AVRO_READER + " is true but no generated class "
            + "for writer schema id " + id + " (" + writer.getFullName() + ") is on the classpath", null);
      }
      SpecificData specificModel = SpecificData.getForClass(type);
      model = specificModel;
      reader = specificModel.getSchema(type);
    } else {
      reader = readerSchema != null ? readerSchema : writer;
      model = genericModel();
    }
    if (reader != writer && reader.equals(writer)) {
      writer = reader; // same schema: skip resolution work, as a plain Avro reader would
    }
    return new Reader(id, writer, reader, model);
  }

  /** Why writer schema {@code id} could not be fetched, and what to fix. */
  private static String fetchFailure(int id, SchemaRegistryException e) {
    if (e.errorCode() == SchemaRegistryException.SCHEMA_NOT_FOUND) {
      return "unknown schema id " + id + ": the schema registry has no schema with this id (was "
          + "the record written against another registry?)";
    }
    String notTheRecord = "; the record was not read and is probably fine: " + e.getMessage();
    switch (e.httpStatus()) {
      case 401:
        return "the schema registry refused the credentials (HTTP 401) when asked for writer "
            + "schema id " + id + ": fix " + SchemaRegistryClientConfig.BASIC_AUTH_USER_INFO
            + ", " + SchemaRegistryClientConfig.BEARER_AUTH_TOKEN + " or the user info of "
            + SchemaRegistryClientConfig.URL + " (expired token, rotated password?)" + notTheRecord;
      case 403:
        return "the schema registry denied access (HTTP 403) to writer schema id " + id
            + ": grant these credentials read access to the schema's subject (registry ACLs or "
            + "role bindings), or configure credentials that have it" + notTheRecord;
      case 407:
        return "a proxy between this client and the schema registry asks for credentials (HTTP "
            + "407) when asked for writer schema id " + id + ": configure the proxy's "
            + "credentials, or reach the registry without it" + notTheRecord;
      default:
        break;
    }
    if (e.isSetupProblem()) {
      return "writer schema id " + id + " cannot be fetched: " + SchemaRegistryClientConfig.URL
          + " does not lead to a schema registry (HTTP " + e.httpStatus() + " without the "
          + "registry's answer); fix the URL (host, port, base path) or the proxy in front of the "
          + "registry" + notTheRecord;
    }
    if (e.isRetriable()) {
      return "cannot fetch writer schema id " + id + " because the schema registry does not "
          + "answer" + notTheRecord;
    }
    return "cannot fetch writer schema id " + id + " from the schema registry: " + e.getMessage();
  }

  private static String hint(byte magic) {
    switch (magic) {
      case '{', '[', '"':
        return " (it starts like JSON: was it written by a JSON serializer?)";
      case 'O':
        return " (it starts like an Avro container file 'Obj')";
      default:
        return "";
    }
  }

  private SerializationException bad(String topic, String problem, Throwable cause) {
    return new SerializationException("cannot deserialize " + (isKey ? "key" : "value")
        + " of topic '" + topic + "': " + problem, cause);
  }

  @Override
  public void close() {
    readers.clear();
    last = null;
  }

  /** Generic data, with Avro's logical-type conversions when so configured. */
  private GenericData genericModel() {
    return logicalTypes ? AvroModels.GENERIC_WITH_CONVERSIONS : GenericData.get();
  }

  private static boolean isContainer(Schema schema) {
    return schema.getType() == Schema.Type.UNION || schema.getType() == Schema.Type.ARRAY
        || schema.getType() == Schema.Type.MAP;
  }

  private static Schema specificSchema(Class<?> type) {
    return SpecificData.getForClass(type).getSchema(type);
  }

  /** The per-thread reusable decoder; a nested use on the same thread gets a fresh one. */
  private static final class DecoderSlot {
    BinaryDecoder decoder;
    boolean inUse;
  }

  /** The cached reader of one writer schema id. */
  private static final class Reader {
    final int id;
    final String writerName;
    final DatumReader<Object> reader;
    final Schema writer;
    final Schema readerSchema;
    final Schema.Type type;

    Reader(int id, Schema writer, Schema reader, GenericData model) {
      this.id = id;
      this.writer = writer;
      this.readerSchema = reader;
      this.writerName = writer.getFullName();
      this.type = reader.getType();
      this.reader = model instanceof SpecificData specific
          ? new SpecificDatumReader<>(writer, reader, specific)
          : new GenericDatumReader<>(writer, reader, model);
    }

    /** Primitive results as Confluent's deserializer returns them. */
    Object finish(Object value) {
      if (type == Schema.Type.STRING && value instanceof CharSequence && !(value instanceof String)) {
        return value.toString();
      }
      if (type == Schema.Type.BYTES && value instanceof ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes);
        return bytes;
      }
      return value;
    }

    /** Why the reader schema cannot read this writer, when that is the cause; else empty. */
    String resolutionNote() {
      if (writer == readerSchema) {
        return "";
      }
      SchemaCompatibility.SchemaPairCompatibility pair =
          SchemaCompatibility.checkReaderWriterCompatibility(readerSchema, writer);
      if (pair.getType() == SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
        return " read as " + readerSchema.getFullName();
      }
      return "; the reader schema " + readerSchema.getFullName() + " cannot read it: "
          + pair.getResult().getIncompatibilities().stream()
              .map(i -> i.getType() + " at '" + i.getLocation() + "': " + i.getMessage())
              .collect(Collectors.joining("; "));
    }
  }
}
