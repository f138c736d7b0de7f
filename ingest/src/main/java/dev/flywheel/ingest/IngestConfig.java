package dev.flywheel.ingest;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.flywheel.ingest.source.InvalidSourceException;
import dev.flywheel.ingest.source.SourceDefinition;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;

/**
 * The {@code ingest} part of {@code flywheel.yaml}: the declared sources and the HTTP settings.
 * Other top-level sections of the file belong to other services and are ignored here.
 *
 * <pre>{@code
 * sources:
 *   - name: card-tx
 *     schema: schemas/tx.avsc        # a path (relative to the YAML file) or inline Avro JSON
 *     key: card_id
 *     time: event_time
 *     token: s3cret                  # optional bearer token for POST /ingest/card-tx
 * ingest:
 *   port: 8080                       # default 8080; 0 picks a free port
 *   maxBodyBytes: 10485760           # default 10 MiB
 *   sourcesToken: adm1n              # optional bearer token for POST /sources
 *   labelsToken: l4bels              # optional bearer token for POST /labels
 * }</pre>
 *
 * @param sources the declared sources; never null, may be empty
 * @param ingest the HTTP settings; never null
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record IngestConfig(List<SourceConfig> sources, Http ingest) {

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
      .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

  /** Defaults filled in, lists copied. */
  @JsonCreator
  public IngestConfig(@JsonProperty("sources") List<SourceConfig> sources,
      @JsonProperty("ingest") Http ingest) {
    this.sources = sources == null ? List.of() : List.copyOf(sources);
    this.ingest = ingest == null ? Http.defaults() : ingest;
  }

  /**
   * One declared source as written in YAML. Unknown keys are refused (a misspelt {@code tiem} must
   * not be ignored silently).
   *
   * @param name the source name
   * @param schema a path to an {@code .avsc} file, or the schema itself (JSON text or YAML
   *     mapping)
   * @param key the key field
   * @param time the event-time field
   * @param token the bearer token HTTP callers must send; null for none
   */
  public record SourceConfig(String name, JsonNode schema, String key, String time, String token) {

    /**
     * The {@link SourceDefinition} this entry declares, reading a schema path relative to
     * {@code baseDir}.
     *
     * @throws InvalidSourceException when the schema cannot be read or parsed, or the key or time
     *     field does not fit it
     */
    public SourceDefinition toDefinition(Path baseDir) {
      return SourceDefinition.builder(name).schema(parseSchema(baseDir)).keyField(key)
          .timeField(time).bearerToken(token).build();
    }

    private Schema parseSchema(Path baseDir) {
      if (schema == null || schema.isNull()) {
        throw new InvalidSourceException(name, List.of("the schema is missing; give a path to an"
            + " .avsc file or the schema itself"));
      }
      String text;
      String where;
      if (schema.isObject()) {
        text = schema.toString();
        where = "the inline schema";
      } else if (schema.isTextual() && schema.asText().trim().startsWith("{")) {
        text = schema.asText();
        where = "the inline schema";
      } else if (schema.isTextual()) {
        Path file = baseDir.resolve(schema.asText().trim());
        where = "schema file " + file;
        try {
          text = Files.readString(file);
        } catch (NoSuchFileException e) {
          throw new InvalidSourceException(name, List.of(where + " does not exist"));
        } catch (IOException e) {
          throw new InvalidSourceException(name, List.of("cannot read " + where + ": " + e));
        }
      } else {
        throw new InvalidSourceException(name, List.of("schema must be a path or an Avro schema,"
            + " got " + schema.getNodeType().toString().toLowerCase()));
      }
      try {
        return new Schema.Parser().parse(text);
      } catch (SchemaParseException e) {
        throw new InvalidSourceException(name, List.of(where + " is not a valid Avro schema: "
            + e.getMessage()));
      }
    }
  }

  /**
   * HTTP settings of the ingest service.
   *
   * @param port the port to listen on; 0 picks a free one
   * @param maxBodyBytes the largest request body accepted; larger ones get 413
   * @param sourcesToken the bearer token {@code POST /sources} requires; null for none
   * @param labelsToken the bearer token {@code POST /labels} requires; null for none
   */
  public record Http(int port, long maxBodyBytes, String sourcesToken, String labelsToken) {

    /** Port ingest listens on unless configured. */
    public static final int DEFAULT_PORT = 8080;

    /** Largest request body unless configured: 10 MiB. */
    public static final long DEFAULT_MAX_BODY_BYTES = 10L * 1024 * 1024;

    /** @throws IllegalArgumentException when the port or the limit is out of range */
    @JsonCreator
    public Http(@JsonProperty("port") Integer port,
        @JsonProperty("maxBodyBytes") Long maxBodyBytes,
        @JsonProperty("sourcesToken") String sourcesToken,
        @JsonProperty("labelsToken") String labelsToken) {
      this(port == null ? DEFAULT_PORT : port,
          maxBodyBytes == null ? DEFAULT_MAX_BODY_BYTES : maxBodyBytes, sourcesToken, labelsToken);
    }

    /** Port and body limit, with {@code POST /sources} and {@code POST /labels} open. */
    public Http(int port, long maxBodyBytes) {
      this(port, maxBodyBytes, null, null);
    }

    /** @throws IllegalArgumentException when the port or the limit is out of range */
    public Http {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("ingest.port must be 0..65535, got " + port);
      }
      if (maxBodyBytes < 1 || maxBodyBytes > Integer.MAX_VALUE) {
        throw new IllegalArgumentException(
            "ingest.maxBodyBytes must be 1.." + Integer.MAX_VALUE + ", got " + maxBodyBytes);
      }
      sourcesToken = sourcesToken == null || sourcesToken.isBlank() ? null : sourcesToken;
      labelsToken = labelsToken == null || labelsToken.isBlank() ? null : labelsToken;
    }

    /** Never shows the tokens. */
    @Override
    public String toString() {
      return "Http[port=" + port + ", maxBodyBytes=" + maxBodyBytes
          + (sourcesToken == null ? "" : ", sourcesToken=***")
          + (labelsToken == null ? "" : ", labelsToken=***") + "]";
    }

    /** Port 8080, 10 MiB bodies. */
    public static Http defaults() {
      return new Http(DEFAULT_PORT, DEFAULT_MAX_BODY_BYTES);
    }
  }

  /**
   * Reads the ingest settings of a {@code flywheel.yaml}.
   *
   * @throws IllegalArgumentException naming the file, line and problem when it cannot be read
   */
  public static IngestConfig load(Path file) {
    Objects.requireNonNull(file, "file");
    try {
      return parse(Files.readString(file));
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Parses the ingest settings from YAML text.
   *
   * @throws IllegalArgumentException naming the line and problem when the YAML does not fit
   */
  public static IngestConfig parse(String yaml) {
    try {
      IngestConfig config = YAML.readValue(yaml, IngestConfig.class);
      return config == null ? new IngestConfig(null, null) : config;
    } catch (UnrecognizedPropertyException e) {
      throw new IllegalArgumentException("unknown setting '" + e.getPropertyName() + "' ("
          + path(e) + "); known: " + e.getKnownPropertyIds(), e);
    } catch (MismatchedInputException e) {
      throw new IllegalArgumentException("invalid value of " + path(e) + ": "
          + e.getOriginalMessage(), e);
    } catch (IOException e) {
      Throwable cause = e.getCause() instanceof IllegalArgumentException iae ? iae : e;
      throw new IllegalArgumentException("invalid flywheel.yaml: " + cause.getMessage(), e);
    }
  }

  private static String path(MismatchedInputException e) {
    StringBuilder out = new StringBuilder();
    for (JsonMappingException.Reference ref : e.getPath()) {
      if (ref.getFieldName() != null) {
        out.append(out.isEmpty() ? "" : ".").append(ref.getFieldName());
      } else if (ref.getIndex() >= 0) {
        out.append('[').append(ref.getIndex()).append(']');
      }
    }
    return out.toString();
  }

  /**
   * Every declared source as a {@link SourceDefinition}, schema paths resolved against
   * {@code baseDir} (the folder of the YAML file).
   *
   * @throws InvalidSourceException for the first source that does not fit, with all its problems
   * @throws IllegalArgumentException when two sources have the same name
   */
  public List<SourceDefinition> sourceDefinitions(Path baseDir) {
    List<SourceDefinition> out = new ArrayList<>();
    for (SourceConfig source : sources) {
      SourceDefinition def = source.toDefinition(baseDir);
      if (out.stream().anyMatch(d -> d.name().equals(def.name()))) {
        throw new IllegalArgumentException("source '" + def.name() + "' is declared twice");
      }
      out.add(def);
    }
    return out;
  }
}
