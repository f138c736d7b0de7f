package dev.flywheel.devstack.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flywheel.devstack.registry.SchemaStore.Compatibility;
import dev.flywheel.devstack.registry.SchemaStore.Deleted;
import dev.flywheel.devstack.registry.SchemaStore.Version;
import dev.flywheel.registry.CompatibilityLevel;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Confluent Schema Registry REST API over a {@link SchemaStore}: routes, request parsing and
 * response shapes, as Confluent's clients, kafkajs and Kafka UI expect them.
 *
 * <p>Responses are {@code application/vnd.schemaregistry.v1+json}, written in UTF-8 and said to be
 * ({@code ; charset=utf-8}), so that docs, defaults and names outside ASCII come back as they were
 * registered whatever the client assumes. Request bodies are read as JSON whatever their declared
 * content type. AVRO is the only schema type: a version never carries {@code schemaType}, and
 * {@code references}, always empty, are left out. There is one context, the default one.
 */
final class RegistryApi {

  static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
  /** What responses declare: the registry's media type, in UTF-8. */
  static final String RESPONSE_CONTENT_TYPE = CONTENT_TYPE + "; charset=utf-8";

  private static final Logger log = LoggerFactory.getLogger(RegistryApi.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String AVRO = "AVRO";
  private static final String READWRITE = "READWRITE";
  /** Confluent's name of the default context, the only one here. */
  private static final String DEFAULT_CONTEXT = ".";

  private final SchemaStore store;

  RegistryApi(SchemaStore store) {
    this.store = store;
  }

  void routes(RoutesConfig routes) {
    routes.get("/", ctx -> json(ctx, 200, JSON.createObjectNode()));
    routes.get("/contexts", ctx -> json(ctx, 200, List.of(DEFAULT_CONTEXT)));

    routes.get("/subjects", this::listSubjects);
    routes.get("/subjects/{subject}/versions", this::listVersions);
    routes.post("/subjects/{subject}/versions", this::register);
    routes.get("/subjects/{subject}/versions/{version}", this::getVersion);
    routes.get("/subjects/{subject}/versions/{version}/schema", this::getVersionSchema);
    routes.get("/subjects/{subject}/versions/{version}/referencedby", this::referencedBy);
    routes.delete("/subjects/{subject}/versions/{version}", this::deleteVersion);
    routes.post("/subjects/{subject}", this::lookup);
    routes.delete("/subjects/{subject}", this::deleteSubject);

    routes.get("/schemas", this::listSchemas);
    routes.get("/schemas/types", ctx -> json(ctx, 200, List.of(AVRO)));
    routes.get("/schemas/ids/{id}", this::schemaById);
    routes.get("/schemas/ids/{id}/schema", this::rawSchemaById);
    routes.get("/schemas/ids/{id}/subjects", this::subjectsById);
    routes.get("/schemas/ids/{id}/versions", this::versionsById);

    routes.post("/compatibility/subjects/{subject}/versions/{version}", this::testCompatibility);
    routes.post("/compatibility/subjects/{subject}/versions", this::testCompatibilityAll);

    routes.get("/config", ctx -> json(ctx, 200, level(store.globalLevel())));
    routes.put("/config", ctx -> updateLevel(ctx, null));
    routes.delete("/config", ctx -> json(ctx, 200, level(store.deleteLevel(null))));
    routes.get("/config/{subject}", this::getSubjectLevel);
    routes.put("/config/{subject}", ctx -> updateLevel(ctx, ctx.pathParam("subject")));
    routes.delete("/config/{subject}",
        ctx -> json(ctx, 200, level(store.deleteLevel(ctx.pathParam("subject")))));

    routes.get("/mode", ctx -> json(ctx, 200, mode()));
    routes.get("/mode/{subject}", ctx -> json(ctx, 200, mode()));
    routes.put("/mode", this::updateMode);
    routes.put("/mode/{subject}", this::updateMode);

    routes.exception(RegistryException.class, (e, ctx) -> error(ctx, e.httpStatus(),
        e.errorCode(), e.getMessage()));
    routes.exception(HttpResponseException.class, (e, ctx) -> error(ctx, e.getStatus(),
        e.getStatus(), "HTTP " + e.getStatus() + " " + e.getMessage()));
    routes.exception(Exception.class, (e, ctx) -> {
      log.warn("{} {} failed", ctx.method(), ctx.path(), e);
      error(ctx, 500, 500, "Internal error: " + e);
    });
  }

  // ---------------------------------------------------------------- subjects and versions

  private void listSubjects(Context ctx) {
    String prefix = ctx.queryParam("subjectPrefix");
    List<String> subjects = store.subjects(deletedFilter(ctx)).stream()
        .filter(s -> prefix == null || s.startsWith(prefix))
        .toList();
    json(ctx, 200, subjects);
  }

  private void listVersions(Context ctx) {
    json(ctx, 200, store.versions(ctx.pathParam("subject"), deletedFilter(ctx)));
  }

  private void getVersion(Context ctx) {
    int version = versionParam(ctx);
    json(ctx, 200, versionBody(store.version(ctx.pathParam("subject"), version,
        flag(ctx, "deleted"))));
  }

  private void getVersionSchema(Context ctx) {
    int version = versionParam(ctx);
    raw(ctx, store.version(ctx.pathParam("subject"), version, flag(ctx, "deleted")).schema());
  }

  private void referencedBy(Context ctx) {
    int version = versionParam(ctx);
    store.version(ctx.pathParam("subject"), version, flag(ctx, "deleted"));
    json(ctx, 200, List.of());
  }

  private void register(Context ctx) {
    String subject = ctx.pathParam("subject");
    String schema = schemaField(body(ctx));
    int id = store.register(subject, schema, flag(ctx, "normalize"));
    ObjectNode response = JSON.createObjectNode();
    response.put("id", id);
    json(ctx, 200, response);
  }

  private void lookup(Context ctx) {
    String schema = schemaField(body(ctx));
    json(ctx, 200, versionBody(store.lookup(ctx.pathParam("subject"), schema,
        flag(ctx, "deleted"), flag(ctx, "normalize"))));
  }

  private void deleteSubject(Context ctx) {
    json(ctx, 200, store.deleteSubject(ctx.pathParam("subject"), flag(ctx, "permanent")));
  }

  private void deleteVersion(Context ctx) {
    int version = versionParam(ctx);
    json(ctx, 200, store.deleteVersion(ctx.pathParam("subject"), version,
        flag(ctx, "permanent")));
  }

  // ---------------------------------------------------------------- schemas by id

  /**
   * {@code /schemas}: the versions of the subjects starting with {@code subjectPrefix}, as
   * Confluent's {@code getSchemas}, with its {@code deleted}, {@code latestOnly}, {@code offset}
   * and {@code limit} (ignored when not positive).
   */
  private void listSchemas(Context ctx) {
    String prefix = ctx.queryParam("subjectPrefix");
    List<Version> versions = store.versionsWithPrefix(prefix == null || prefix.isEmpty() ? null
        : prefix, flag(ctx, "deleted"), flag(ctx, "latestOnly"));
    int offset = Math.max(0, intParam(ctx, "offset", 0));
    int limit = intParam(ctx, "limit", -1);
    ArrayNode response = JSON.createArrayNode();
    versions.stream()
        .skip(offset)
        .limit(limit > 0 ? limit : Long.MAX_VALUE)
        .forEach(version -> response.add(versionBody(version)));
    json(ctx, 200, response);
  }

  private void schemaById(Context ctx) {
    int id = idParam(ctx);
    ObjectNode response = JSON.createObjectNode();
    response.put("schema", store.schemaText(id));
    if (flag(ctx, "fetchMaxId")) {
      response.put("maxId", store.maxId());
    }
    json(ctx, 200, response);
  }

  private void rawSchemaById(Context ctx) {
    raw(ctx, store.schemaText(idParam(ctx)));
  }

  /** {@code /schemas/ids/{id}/subjects}: the subjects holding the id, once each. */
  private void subjectsById(Context ctx) {
    Set<String> subjects = new LinkedHashSet<>();
    store.versionsOf(idParam(ctx), flag(ctx, "deleted"))
        .forEach(version -> subjects.add(version.subject()));
    json(ctx, 200, subjects);
  }

  private void versionsById(Context ctx) {
    ArrayNode response = JSON.createArrayNode();
    for (Version version : store.versionsOf(idParam(ctx), flag(ctx, "deleted"))) {
      ObjectNode item = response.addObject();
      item.put("subject", version.subject());
      item.put("version", version.version());
    }
    json(ctx, 200, response);
  }

  // ---------------------------------------------------------------- compatibility

  /** {@code /compatibility/subjects/{s}/versions/{v}}: against that one version, or the latest. */
  private void testCompatibility(Context ctx) {
    int version = versionParam(ctx);
    String schema = schemaField(body(ctx));
    compatibilityResponse(ctx, store.testCompatibility(ctx.pathParam("subject"), version, schema));
  }

  /** {@code /compatibility/subjects/{s}/versions}: against what a registration is checked with. */
  private void testCompatibilityAll(Context ctx) {
    String schema = schemaField(body(ctx));
    compatibilityResponse(ctx, store.testCompatibilityWithAll(ctx.pathParam("subject"), schema));
  }

  private void compatibilityResponse(Context ctx, Compatibility result) {
    ObjectNode response = JSON.createObjectNode();
    response.put("is_compatible", result.compatible());
    if (flag(ctx, "verbose")) {
      ArrayNode messages = response.putArray("messages");
      result.messages().forEach(messages::add);
    }
    json(ctx, 200, response);
  }

  // ---------------------------------------------------------------- config and mode

  private void getSubjectLevel(Context ctx) {
    String subject = ctx.pathParam("subject");
    CompatibilityLevel level = store.subjectLevel(subject)
        .orElseGet(() -> {
          if (flag(ctx, "defaultToGlobal")) {
            return store.globalLevel();
          }
          throw RegistryException.subjectConfigNotFound(subject);
        });
    json(ctx, 200, level(level));
  }

  private void updateLevel(Context ctx, String subject) {
    JsonNode body = body(ctx);
    JsonNode requested = body.has("compatibility") ? body.get("compatibility")
        : body.get("compatibilityLevel");
    if (requested == null || !requested.isTextual()) {
      throw RegistryException.invalidCompatibilityLevel(requested == null ? null
          : requested.toString());
    }
    CompatibilityLevel level;
    try {
      level = CompatibilityLevel.parse(requested.asText());
    } catch (IllegalArgumentException e) {
      throw RegistryException.invalidCompatibilityLevel(requested.asText());
    }
    store.setLevel(subject, level);
    ObjectNode response = JSON.createObjectNode();
    response.put("compatibility", level.name());
    json(ctx, 200, response);
  }

  private void updateMode(Context ctx) {
    JsonNode requested = body(ctx).get("mode");
    String mode = requested == null ? null : requested.asText();
    if (mode == null || !READWRITE.equals(mode.toUpperCase(Locale.ROOT))) {
      throw RegistryException.invalidMode(mode);
    }
    json(ctx, 200, mode());
  }

  private static ObjectNode mode() {
    ObjectNode response = JSON.createObjectNode();
    response.put("mode", READWRITE);
    return response;
  }

  private static ObjectNode level(CompatibilityLevel level) {
    ObjectNode response = JSON.createObjectNode();
    response.put("compatibilityLevel", level.name());
    return response;
  }

  // ---------------------------------------------------------------- request and response helpers

  private static ObjectNode versionBody(Version version) {
    ObjectNode body = JSON.createObjectNode();
    body.put("subject", version.subject());
    body.put("version", version.version());
    body.put("id", version.id());
    body.put("schema", version.schema());
    return body;
  }

  /** The request body as a JSON object; an empty body is an empty object. */
  private static JsonNode body(Context ctx) {
    String text = ctx.body();
    if (text == null || text.isBlank()) {
      return JSON.createObjectNode();
    }
    try {
      JsonNode node = JSON.readTree(text);
      if (node == null || !node.isObject()) {
        throw new RegistryException(400, 400, "The request body must be a JSON object");
      }
      return node;
    } catch (JsonProcessingException e) {
      throw new RegistryException(400, 400, "Unparsable request body: " + e.getOriginalMessage());
    }
  }

  /**
   * The {@code schema} of a register, lookup or compatibility request.
   *
   * @throws RegistryException 42201 when the type is not AVRO, references are given or the schema
   *     is missing
   */
  private static String schemaField(JsonNode body) {
    JsonNode type = body.get("schemaType");
    if (type != null && !type.isNull() && !AVRO.equalsIgnoreCase(type.asText())) {
      throw RegistryException.invalidSchema("Invalid schema type " + type.asText()
          + ": the embedded registry supports only AVRO schemas");
    }
    JsonNode references = body.get("references");
    if (references != null && references.isArray() && !references.isEmpty()) {
      throw RegistryException.invalidSchema("Invalid schema: schema references are not supported"
          + " by the embedded registry; inline the referenced types");
    }
    JsonNode schema = body.get("schema");
    if (schema == null || schema.isNull()) {
      throw RegistryException.invalidSchema("Invalid schema: the request has no 'schema'");
    }
    // a schema is a JSON string holding the schema text; accept the schema inlined as JSON too
    return schema.isTextual() ? schema.asText() : schema.toString();
  }

  private static int versionParam(Context ctx) {
    String text = ctx.pathParam("version");
    if ("latest".equalsIgnoreCase(text)) {
      return SchemaStore.LATEST;
    }
    try {
      int version = Integer.parseInt(text);
      if (version == -1) {
        return SchemaStore.LATEST;
      }
      if (version < 1) {
        throw RegistryException.invalidVersion(text);
      }
      return version;
    } catch (NumberFormatException e) {
      throw RegistryException.invalidVersion(text);
    }
  }

  private static int idParam(Context ctx) {
    String text = ctx.pathParam("id");
    try {
      return Integer.parseInt(text);
    } catch (NumberFormatException e) {
      throw RegistryException.schemaNotFound("Schema " + text + " not found");
    }
  }

  private static boolean flag(Context ctx, String name) {
    return Boolean.parseBoolean(ctx.queryParam(name));
  }

  private static Deleted deletedFilter(Context ctx) {
    return Deleted.of(flag(ctx, "deleted"), flag(ctx, "deletedOnly"));
  }

  private static int intParam(Context ctx, String name, int absent) {
    String text = ctx.queryParam(name);
    if (text == null || text.isBlank()) {
      return absent;
    }
    try {
      return Integer.parseInt(text.strip());
    } catch (NumberFormatException e) {
      throw new RegistryException(400, 400, "Query parameter " + name + " is not an integer: "
          + text);
    }
  }

  /** Writes {@code body} as JSON in UTF-8, whatever charset the server would default to. */
  private static void json(Context ctx, int status, Object body) {
    byte[] bytes;
    try {
      bytes = JSON.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write a response", e);
    }
    ctx.status(status).contentType(RESPONSE_CONTENT_TYPE).result(bytes);
  }

  /** Writes a schema's text as the body, in UTF-8. */
  private static void raw(Context ctx, String schema) {
    ctx.status(200).contentType(RESPONSE_CONTENT_TYPE)
        .result(schema.getBytes(StandardCharsets.UTF_8));
  }

  private static void error(Context ctx, int status, int errorCode, String message) {
    ObjectNode body = JSON.createObjectNode();
    body.put("error_code", errorCode);
    body.put("message", message);
    json(ctx, status, body);
  }
}
