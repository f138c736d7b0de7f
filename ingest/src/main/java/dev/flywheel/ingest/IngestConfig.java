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
import dev.flywheel.events.Label;
import dev.flywheel.ingest.cdc.CdcIngest;
import dev.flywheel.ingest.cdc.CdcTable;
import dev.flywheel.ingest.cdc.DeleteMode;
import dev.flywheel.ingest.source.InvalidSourceException;
import dev.flywheel.ingest.source.SourceDefinition;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;

/**
 * The ingest parts of {@code flywheel.yaml}: the declared sources, the HTTP settings and change
 * data capture from PostgreSQL, and the label target of each declared model. Other top-level
 * sections of the file belong to other services and are ignored here.
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
 *   producers: 8                     # transactional producers: batches written at once
 *   transactionalIdPrefix: ingest-a  # default flywheel-ingest-<host>; unique per instance
 * cdc:                               # optional: capture PostgreSQL tables (see {@link Cdc})
 *   host: 127.0.0.1
 *   port: 5432
 *   database: shop
 *   user: flywheel
 *   password: secret                 # or the environment variable FLYWHEEL_CDC_PASSWORD
 *   tables:
 *     - table: public.orders
 *       source: orders
 * models:                            # read for their label targets only (see {@link Model})
 *   - name: fraud-detector
 *     target: is_fraud               # POST /labels accepts targets the models learn
 *   - name: churn
 *     featureGroup: card_activity    # trained by Flywheel without a target: learns 'label'
 *   - name: vendor-model             # no target, feature group or training: target unknown,
 *     policy: {...}                  #   so POST /labels accepts every target
 * }</pre>
 *
 * @param sources the declared sources; never null, may be empty
 * @param ingest the HTTP settings; never null
 * @param cdc change data capture settings; null when the file has no {@code cdc} section
 * @param models the declared models, as far as ingest reads them (their label targets); never
 *     null, empty when the file has no {@code models} section
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record IngestConfig(List<SourceConfig> sources, Http ingest, Cdc cdc, List<Model> models) {

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
      .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

  /** Defaults filled in, lists copied. */
  @JsonCreator
  public IngestConfig(@JsonProperty("sources") List<SourceConfig> sources,
      @JsonProperty("ingest") Http ingest, @JsonProperty("cdc") Cdc cdc,
      @JsonProperty("models") List<Model> models) {
    this.sources = sources == null ? List.of() : List.copyOf(sources);
    this.ingest = ingest == null ? Http.defaults() : ingest;
    this.cdc = cdc;
    this.models = models == null ? List.of() : List.copyOf(models);
  }

  /** Sources, HTTP settings and change data capture, without models. */
  public IngestConfig(List<SourceConfig> sources, Http ingest, Cdc cdc) {
    this(sources, ingest, cdc, null);
  }

  /** Sources and HTTP settings, without change data capture. */
  public IngestConfig(List<SourceConfig> sources, Http ingest) {
    this(sources, ingest, null);
  }

  /**
   * The label targets the declared models learn, sorted: what {@code POST /labels} accepts as a
   * label's {@code target}. Empty, and then every target is accepted, when no model is declared
   * or when any declared model's target is unknown (see {@link #modelsOfUnknownTarget()}).
   */
  public SortedSet<String> labelTargets() {
    if (!modelsOfUnknownTarget().isEmpty()) {
      return Collections.emptySortedSet();
    }
    SortedSet<String> targets = new TreeSet<>();
    models.forEach(m -> m.labelTarget().ifPresent(targets::add));
    return Collections.unmodifiableSortedSet(targets);
  }

  /**
   * The names of the declared models whose label target ingest cannot know, in declaration
   * order: those declared with neither {@code target:} nor {@code training:} (e.g. trained and
   * registered outside Flywheel; drift detection matches their labels by the target their
   * registered version's signature names). When there is one, every label target is accepted.
   */
  public List<String> modelsOfUnknownTarget() {
    return models.stream().filter(m -> m.labelTarget().isEmpty()).map(Model::name).toList();
  }

  /** The change data capture settings, when the file has a {@code cdc} section. */
  public Optional<Cdc> cdcConfig() {
    return Optional.ofNullable(cdc);
  }

  /** The same settings with other HTTP settings (e.g. a port from the environment). */
  public IngestConfig withIngest(Http ingest) {
    return new IngestConfig(sources, ingest, cdc, models);
  }

  /**
   * A model of the {@code models} section, as far as ingest needs it: its name and the label
   * target it learns, when the entry says. The section belongs to the registry and
   * training-trigger, which check its other keys; here they are ignored.
   *
   * @param name the model name
   * @param target the {@code Label.target} it learns: the {@code target:} given, else the {@code
   *     Label} schema's default ({@code label}) when the entry declares {@code featureGroup:} or
   *     {@code training:} (training-trigger trains it, on that target); null when it declares
   *     none of them, as a model trained outside Flywheel learns whatever target its registered
   *     signature names
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Model(String name, String target) {

    /** The target of a model that does not name one: the default of {@code Label.target}. */
    public static final String DEFAULT_TARGET =
        String.valueOf(Label.getClassSchema().getField("target").defaultVal());

    /**
     * Reads an entry. The target is taken as written, as training-trigger takes it (its {@code
     * ModelSpec}): not trimmed, and only a missing one defaults.
     */
    @JsonCreator
    public static Model of(@JsonProperty("name") String name,
        @JsonProperty("target") String target,
        @JsonProperty("featureGroup") String featureGroup,
        @JsonProperty("training") JsonNode training) {
      // training-trigger trains every entry with a feature group, on the default target unless
      // one is given; an entry with neither is not trained by Flywheel
      boolean trainedHere = featureGroup != null || training != null;
      return new Model(name, target != null ? target : trainedHere ? DEFAULT_TARGET : null);
    }

    /** The label target it learns; empty when the entry does not say (see {@link #target}). */
    public Optional<String> labelTarget() {
      return Optional.ofNullable(target);
    }
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
   * @param producers how many transactional producers write batches, so how many batches are
   *     written at the same time (each batch is one transaction)
   * @param transactionalIdPrefix the prefix of the producers' {@code transactional.id}s ({@code
   *     <prefix>-0}, {@code <prefix>-1}, …); null for the default, {@code
   *     flywheel-ingest-<host name>} (plus the topic prefix). Two ingest instances must not share
   *     it, or they fence each other's producers
   */
  public record Http(int port, long maxBodyBytes, String sourcesToken, String labelsToken,
      int producers, String transactionalIdPrefix) {

    /** Port ingest listens on unless configured. */
    public static final int DEFAULT_PORT = 8080;

    /** Largest request body unless configured: 10 MiB. */
    public static final long DEFAULT_MAX_BODY_BYTES = 10L * 1024 * 1024;

    /** Transactional producers unless configured. */
    public static final int DEFAULT_PRODUCERS = 8;

    /** @throws IllegalArgumentException when the port or the limit is out of range */
    @JsonCreator
    public Http(@JsonProperty("port") Integer port,
        @JsonProperty("maxBodyBytes") Long maxBodyBytes,
        @JsonProperty("sourcesToken") String sourcesToken,
        @JsonProperty("labelsToken") String labelsToken,
        @JsonProperty("producers") Integer producers,
        @JsonProperty("transactionalIdPrefix") String transactionalIdPrefix) {
      this(port == null ? DEFAULT_PORT : port,
          maxBodyBytes == null ? DEFAULT_MAX_BODY_BYTES : maxBodyBytes, sourcesToken, labelsToken,
          producers == null ? DEFAULT_PRODUCERS : producers, transactionalIdPrefix);
    }

    /** Port, body limit and tokens, with the default producers. */
    public Http(int port, long maxBodyBytes, String sourcesToken, String labelsToken) {
      this(port, maxBodyBytes, sourcesToken, labelsToken, DEFAULT_PRODUCERS, null);
    }

    /** Port and body limit, with {@code POST /sources} and {@code POST /labels} open. */
    public Http(int port, long maxBodyBytes) {
      this(port, maxBodyBytes, null, null);
    }

    /** @throws IllegalArgumentException when the port, the limit or the producers are out of range */
    public Http {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("ingest.port must be 0..65535, got " + port);
      }
      if (maxBodyBytes < 1 || maxBodyBytes > Integer.MAX_VALUE) {
        throw new IllegalArgumentException(
            "ingest.maxBodyBytes must be 1.." + Integer.MAX_VALUE + ", got " + maxBodyBytes);
      }
      if (producers < 1 || producers > 256) {
        throw new IllegalArgumentException("ingest.producers must be 1..256, got " + producers);
      }
      sourcesToken = sourcesToken == null || sourcesToken.isBlank() ? null : sourcesToken;
      labelsToken = labelsToken == null || labelsToken.isBlank() ? null : labelsToken;
      transactionalIdPrefix = transactionalIdPrefix == null || transactionalIdPrefix.isBlank()
          ? null : transactionalIdPrefix.trim();
    }

    /** The same settings on another port. */
    public Http withPort(int port) {
      return new Http(port, maxBodyBytes, sourcesToken, labelsToken, producers,
          transactionalIdPrefix);
    }

    /** Never shows the tokens. */
    @Override
    public String toString() {
      return "Http[port=" + port + ", maxBodyBytes=" + maxBodyBytes
          + (sourcesToken == null ? "" : ", sourcesToken=***")
          + (labelsToken == null ? "" : ", labelsToken=***") + ", producers=" + producers
          + (transactionalIdPrefix == null ? "" : ", transactionalIdPrefix="
              + transactionalIdPrefix) + "]";
    }

    /** Port 8080, 10 MiB bodies. */
    public static Http defaults() {
      return new Http(DEFAULT_PORT, DEFAULT_MAX_BODY_BYTES);
    }
  }

  /**
   * The {@code cdc} section: capture PostgreSQL tables into sources with Debezium (see {@link
   * CdcIngest}). Unknown keys are refused.
   *
   * <pre>{@code
   * cdc:
   *   host: 127.0.0.1                  # default 127.0.0.1
   *   port: 5432                       # default 5432
   *   database: shop                   # required
   *   user: flywheel                   # required; allowed to replicate
   *   password: secret                 # FLYWHEEL_CDC_PASSWORD in the environment wins over this
   *   name: flywheel-cdc               # keys the offsets; default flywheel-cdc
   *   slot: flywheel_cdc               # replication slot; default flywheel_cdc
   *   publication: flywheel_cdc        # default flywheel_cdc
   *   deleteMode: tombstone            # or delete-event; default tombstone
   *   snapshotMode: initial            # Debezium's snapshot.mode; default initial
   *   tables:                          # required, at least one: table -> source
   *     - table: public.orders
   *       source: orders
   *   debezium:                        # optional: any Debezium engine or connector property
   *     heartbeat.interval.ms: 10000
   * }</pre>
   *
   * @param host the PostgreSQL host
   * @param port the PostgreSQL port
   * @param database the database holding the tables
   * @param user a user allowed to replicate
   * @param password the password from the YAML; null when it comes from the environment. Never
   *     printed: {@link #toString()} hides it
   * @param name the engine name, which keys Debezium's offsets
   * @param slot the logical replication slot
   * @param publication the publication
   * @param deleteMode what a deleted row becomes
   * @param snapshotMode Debezium's {@code snapshot.mode}
   * @param tables the captured tables and their sources, at least one
   * @param debezium further Debezium properties, passed through as they are
   */
  public record Cdc(String host, int port, String database, String user, String password,
      String name, String slot, String publication, DeleteMode deleteMode, String snapshotMode,
      List<Table> tables, Map<String, String> debezium) {

    /** The environment variable that holds the database password; it wins over the YAML. */
    public static final String PASSWORD_ENV = "FLYWHEEL_CDC_PASSWORD";

    /** The PostgreSQL host unless configured. */
    public static final String DEFAULT_HOST = "127.0.0.1";

    /** The PostgreSQL port unless configured. */
    public static final int DEFAULT_PORT = 5432;

    /**
     * Reads the section, filling in the defaults.
     *
     * @throws IllegalArgumentException saying which setting to fix
     */
    @JsonCreator
    public static Cdc of(@JsonProperty("host") String host,
        @JsonProperty("port") Integer port,
        @JsonProperty("database") String database,
        @JsonProperty("user") String user,
        @JsonProperty("password") String password,
        @JsonProperty("name") String name,
        @JsonProperty("slot") String slot,
        @JsonProperty("publication") String publication,
        @JsonProperty("deleteMode") String deleteMode,
        @JsonProperty("snapshotMode") String snapshotMode,
        @JsonProperty("tables") List<Table> tables,
        @JsonProperty("debezium") Map<String, String> debezium) {
      return new Cdc(host == null ? DEFAULT_HOST : host, port == null ? DEFAULT_PORT : port,
          database, user, password, name == null ? CdcIngest.DEFAULT_NAME : name,
          slot == null ? CdcIngest.DEFAULT_SLOT : slot,
          publication == null ? CdcIngest.DEFAULT_PUBLICATION : publication,
          deleteMode(deleteMode), snapshotMode == null ? "initial" : snapshotMode,
          tables == null ? List.of() : tables, debezium == null ? Map.of() : debezium);
    }

    /** @throws IllegalArgumentException saying which setting to fix */
    public Cdc {
      require(host, "host");
      require(database, "database");
      require(user, "user");
      require(name, "name");
      require(slot, "slot");
      require(publication, "publication");
      require(snapshotMode, "snapshotMode");
      Objects.requireNonNull(deleteMode, "deleteMode");
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("cdc.port must be 1..65535, got " + port);
      }
      if (tables == null || tables.isEmpty()) {
        throw new IllegalArgumentException("cdc.tables is empty: list the tables to capture,"
            + " each as '- table: public.orders' with 'source: orders'");
      }
      tables = List.copyOf(tables);
      List<String> seen = new ArrayList<>();
      for (Table table : tables) {
        String qualified = table.cdcTable().qualifiedName();
        if (seen.contains(qualified)) {
          throw new IllegalArgumentException("cdc.tables lists table " + qualified + " twice");
        }
        seen.add(qualified);
      }
      debezium = Map.copyOf(new LinkedHashMap<>(debezium));
      password = password == null || password.isEmpty() ? null : password;
    }

    /**
     * The database password: {@value #PASSWORD_ENV} from {@code environment} when set, else the
     * YAML's {@code password}.
     *
     * @throws IllegalArgumentException when neither gives one
     */
    public String password(Map<String, String> environment) {
      String fromEnv = environment.get(PASSWORD_ENV);
      if (fromEnv != null && !fromEnv.isEmpty()) {
        return fromEnv;
      }
      if (password == null) {
        throw new IllegalArgumentException("cdc: no database password for user '" + user
            + "'; set the environment variable " + PASSWORD_ENV + " (or cdc.password)");
      }
      return password;
    }

    /** Never shows the password. */
    @Override
    public String toString() {
      return "Cdc[host=" + host + ", port=" + port + ", database=" + database + ", user=" + user
          + (password == null ? "" : ", password=***") + ", name=" + name + ", slot=" + slot
          + ", publication=" + publication + ", deleteMode=" + deleteMode + ", snapshotMode="
          + snapshotMode + ", tables=" + tables + ", debezium=" + debezium.keySet() + "]";
    }

    private static DeleteMode deleteMode(String value) {
      if (value == null) {
        return DeleteMode.TOMBSTONE;
      }
      return switch (value.trim().toLowerCase(Locale.ROOT).replace('_', '-')) {
        case "tombstone" -> DeleteMode.TOMBSTONE;
        case "delete-event" -> DeleteMode.DELETE_EVENT;
        default -> throw new IllegalArgumentException("cdc.deleteMode '" + value
            + "' is not one of: tombstone, delete-event");
      };
    }

    private static void require(String value, String setting) {
      if (value == null || value.isBlank()) {
        throw new IllegalArgumentException("cdc." + setting + " is missing");
      }
    }
  }

  /**
   * One captured table and the source its changes feed.
   *
   * @param table {@code schema.table}, or {@code table} in {@code public}
   * @param source the source name; changes go to {@code flywheel.data.<source>}
   */
  public record Table(String table, String source) {

    /** @throws IllegalArgumentException when the table or source is missing or not plain */
    @JsonCreator
    public Table(@JsonProperty("table") String table, @JsonProperty("source") String source) {
      if (table == null || table.isBlank()) {
        throw new IllegalArgumentException("a cdc.tables entry has no 'table'");
      }
      if (source == null || source.isBlank()) {
        throw new IllegalArgumentException("cdc.tables entry '" + table + "' has no 'source'");
      }
      this.table = table.trim();
      this.source = source.trim();
      cdcTable();
    }

    /** As {@link CdcIngest} takes it. */
    public CdcTable cdcTable() {
      return CdcTable.of(table, source);
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
      return config == null ? new IngestConfig(null, null, null, null) : config;
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
