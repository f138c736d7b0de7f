package dev.flywheel.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import javax.net.ssl.SSLContext;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;

/**
 * A {@link SchemaRegistryClient} over HTTP, speaking the Confluent Schema Registry REST API with
 * {@link HttpClient} (HTTP/1.1) and Jackson.
 *
 * <p><b>Requests.</b> Every request carries {@code Content-Type} and {@code Accept} with the
 * registry media type {@value #MEDIA_TYPE} and {@code Confluent-Accept-Unknown-Properties: true},
 * plus the credentials: HTTP basic ({@link Builder#basicAuth}, or the {@code user:password} of a
 * base URL such as {@code http://user:pass@host:8081}) or a bearer token ({@link
 * Builder#bearerToken}). TLS uses the JVM's default {@link SSLContext}, which honours the standard
 * JSSE system properties ({@code javax.net.ssl.trustStore}, …), unless {@link Builder#sslContext}
 * gives one.
 *
 * <p><b>Failures.</b> Transient failures (no answer, HTTP 408, HTTP 429, HTTP 5xx other than
 * 501/505, which includes the registry's 50001–50004) are retried up to {@link
 * Builder#maxRetries} times with exponential backoff and jitter (each wait drawn from [d/2, d]
 * where d doubles from {@link Builder#initialBackoff} up to {@link Builder#maxBackoff}; a {@code
 * Retry-After} header lengthens the wait, within the same cap). With several base URLs each retry
 * goes to the next URL, and the client waits only after every URL of a round has failed. Other
 * 4xx answers are never retried. Failures raise {@link SchemaRegistryException} with the HTTP
 * status, {@code error_code} and message; a non-JSON error body becomes {@code error_code}
 * {@value SchemaRegistryException#UNPARSEABLE_ERROR_RESPONSE}, as in Confluent's client.
 *
 * <p><b>References.</b> A schema's references are fetched as Confluent's client fetches them:
 * each reference name once, with {@code GET /subjects/{s}/versions/{v}?deleted=true}, so a
 * schema that references a soft-deleted version still reads.
 *
 * <p><b>Caches.</b> What the registry never changes is cached, so the serde's hot path never
 * reaches HTTP:
 *
 * <ul>
 *   <li>id → schema: ids are immutable; bounded by the number of distinct schema ids this client
 *       is asked about.
 *   <li>(subject, schema text) → id, from {@link #register} and {@link #lookup};
 *   <li>(subject, schema text) → version, from {@link #lookup}. Both bounded to {@link
 *       Builder#maxSchemasPerSubject} entries per subject (least recently used evicted), and
 *       dropped for a subject when this client deletes a version or the subject.
 * </ul>
 *
 * <p>{@link #getLatest}, {@link #getBySubjectAndVersion}, compatibility, config and listings always
 * ask the registry (their schemas are taken from the id cache when known, which avoids parsing).
 * Thread-safe.
 */
public final class RestSchemaRegistryClient implements SchemaRegistryClient {

  /** The registry media type, sent as {@code Content-Type} and first in {@code Accept}. */
  public static final String MEDIA_TYPE = "application/vnd.schemaregistry.v1+json";

  static final String ACCEPT = MEDIA_TYPE
      + ", application/vnd.schemaregistry+json; qs=0.9, application/json; qs=0.5";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_REFERENCE_DEPTH = 32;
  private static final int MAX_BODY_IN_MESSAGE = 200;

  private final List<BaseUrl> baseUrls;
  private final Map<String, String> headers;
  private final HttpClient http;
  private final Duration requestTimeout;
  private final int maxRetries;
  /** Set once the registry answered that it has no {@code POST /compatibility/.../versions}. */
  private volatile boolean noAllVersionsCheck;
  private final long initialBackoffMs;
  private final long maxBackoffMs;
  private final int maxSchemasPerSubject;
  private volatile int preferred;

  private final Map<Integer, Schema> schemasById = new ConcurrentHashMap<>();
  private final Map<String, Map<String, Integer>> idsBySubject = new ConcurrentHashMap<>();
  private final Map<String, Map<String, Integer>> versionsBySubject = new ConcurrentHashMap<>();

  /** A base URL without user info, and the {@code Authorization} value to send to it, if any. */
  private record BaseUrl(String url, String authorization) {}

  private RestSchemaRegistryClient(Builder b) {
    String explicitAuth = null;
    if (b.basicUser != null) {
      explicitAuth = basic(b.basicUser, b.basicPassword);
    } else if (b.bearerToken != null) {
      explicitAuth = "Bearer " + b.bearerToken;
    }
    List<BaseUrl> urls = new ArrayList<>();
    for (String raw : b.urls) {
      urls.add(parseBaseUrl(raw, explicitAuth, b.useUrlCredentials));
    }
    this.baseUrls = List.copyOf(urls);
    this.headers = Map.copyOf(b.headers);
    HttpClient.Builder http = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .followRedirects(HttpClient.Redirect.NEVER)
        .connectTimeout(b.connectTimeout);
    if (b.sslContext != null) {
      http.sslContext(b.sslContext);
    }
    this.http = http.build();
    this.requestTimeout = b.requestTimeout;
    this.maxRetries = b.maxRetries;
    this.initialBackoffMs = b.initialBackoff.toMillis();
    this.maxBackoffMs = b.maxBackoff.toMillis();
    this.maxSchemasPerSubject = b.maxSchemasPerSubject;
  }

  /** A builder; {@link Builder#url} is required. */
  public static Builder builder() {
    return new Builder();
  }

  /** The base URLs, without credentials, in failover order. */
  public List<String> baseUrls() {
    return baseUrls.stream().map(BaseUrl::url).toList();
  }

  @Override
  public int register(String subject, Schema schema, boolean normalize) {
    Objects.requireNonNull(subject, "subject");
    String text = schema.toString();
    Integer cached = subjectCache(idsBySubject, subject).get(text);
    if (cached != null) {
      return cached;
    }
    ObjectNode body = JSON.createObjectNode().put("schema", text);
    JsonNode answer = send("POST", "/subjects/" + encode(subject) + "/versions"
        + (normalize ? "?normalize=true" : ""), body);
    int id = requiredInt(answer, "id", "POST /subjects/" + subject + "/versions");
    subjectCache(idsBySubject, subject).put(text, id);
    schemasById.putIfAbsent(id, schema);
    return id;
  }

  @Override
  public Schema getSchemaById(int id) {
    Schema cached = schemasById.get(id);
    if (cached != null) {
      return cached;
    }
    JsonNode answer = send("GET", "/schemas/ids/" + id, null);
    Schema schema = parseSchema(answer, "schema id " + id);
    Schema raced = schemasById.putIfAbsent(id, schema);
    return raced != null ? raced : schema;
  }

  @Override
  public RegisteredSchema getBySubjectAndVersion(String subject, int version) {
    Objects.requireNonNull(subject, "subject");
    return registered(send("GET", "/subjects/" + encode(subject) + "/versions/" + version, null),
        subject + " version " + version);
  }

  @Override
  public RegisteredSchema getLatest(String subject) {
    Objects.requireNonNull(subject, "subject");
    return registered(send("GET", "/subjects/" + encode(subject) + "/versions/latest", null),
        subject + " version latest");
  }

  @Override
  public RegisteredSchema lookup(String subject, Schema schema, boolean normalize) {
    Objects.requireNonNull(subject, "subject");
    String text = schema.toString();
    Integer id = subjectCache(idsBySubject, subject).get(text);
    Integer version = subjectCache(versionsBySubject, subject).get(text);
    if (id != null && version != null) {
      return new RegisteredSchema(subject, version, id, schemasById.getOrDefault(id, schema));
    }
    ObjectNode body = JSON.createObjectNode().put("schema", text);
    JsonNode answer = send("POST", "/subjects/" + encode(subject)
        + (normalize ? "?normalize=true" : ""), body);
    String what = "POST /subjects/" + subject;
    RegisteredSchema found = new RegisteredSchema(subject, requiredInt(answer, "version", what),
        requiredInt(answer, "id", what), schema);
    subjectCache(idsBySubject, subject).put(text, found.id());
    subjectCache(versionsBySubject, subject).put(text, found.version());
    Schema known = schemasById.putIfAbsent(found.id(), schema);
    return known == null ? found
        : new RegisteredSchema(subject, found.version(), found.id(), known);
  }

  @Override
  public CompatibilityResult testCompatibility(String subject, Schema schema) {
    Objects.requireNonNull(subject, "subject");
    ObjectNode body = JSON.createObjectNode().put("schema", schema.toString());
    String path = "/compatibility/subjects/" + encode(subject) + "/versions";
    JsonNode answer;
    try {
      if (!noAllVersionsCheck) {
        try {
          // the check registration makes: against every version under a *_TRANSITIVE level
          answer = send("POST", path + "?verbose=true", body);
        } catch (SchemaRegistryException e) {
          if (e.httpStatus() != 404 && e.httpStatus() != 405 || isNotFound(e)) {
            throw e;
          }
          // a registry without that route: the latest version alone, the best it can tell
          // (under a *_TRANSITIVE level it may pass a schema registration then refuses)
          noAllVersionsCheck = true;
          answer = send("POST", path + "/latest?verbose=true", body);
        }
      } else {
        answer = send("POST", path + "/latest?verbose=true", body);
      }
    } catch (SchemaRegistryException e) {
      if (isNotFound(e)) {
        // Older registries answer 404 for a subject with no versions: nothing to be incompatible with.
        return new CompatibilityResult(true, List.of());
      }
      throw e;
    }
    JsonNode compatible = answer.get("is_compatible");
    if (compatible == null || !compatible.isBoolean()) {
      throw malformed("POST /compatibility/subjects/" + subject, "no boolean 'is_compatible'");
    }
    List<String> messages = new ArrayList<>();
    answer.path("messages").forEach(m -> messages.add(m.isTextual() ? m.asText() : m.toString()));
    return new CompatibilityResult(compatible.asBoolean(), messages);
  }

  private static boolean isNotFound(SchemaRegistryException e) {
    return e.errorCode() == SchemaRegistryException.SUBJECT_NOT_FOUND
        || e.errorCode() == SchemaRegistryException.VERSION_NOT_FOUND;
  }

  @Override
  public CompatibilityLevel getCompatibility(String subject) {
    String path = subject == null ? "/config" : "/config/" + encode(subject) + "?defaultToGlobal=true";
    return level(send("GET", path, null), "GET " + path);
  }

  @Override
  public CompatibilityLevel setCompatibility(String subject, CompatibilityLevel level) {
    Objects.requireNonNull(level, "level");
    String path = subject == null ? "/config" : "/config/" + encode(subject);
    ObjectNode body = JSON.createObjectNode().put("compatibility", level.name());
    JsonNode answer = send("PUT", path, body);
    return answer.has("compatibility") || answer.has("compatibilityLevel")
        ? level(answer, "PUT " + path) : level;
  }

  @Override
  public CompatibilityLevel deleteSubjectConfig(String subject) {
    Objects.requireNonNull(subject, "subject");
    String path = "/config/" + encode(subject);
    return level(send("DELETE", path, null), "DELETE " + path);
  }

  @Override
  public List<String> listSubjects() {
    JsonNode answer = send("GET", "/subjects", null);
    List<String> out = new ArrayList<>();
    requireArray(answer, "GET /subjects").forEach(n -> out.add(n.asText()));
    return out;
  }

  @Override
  public List<Integer> listVersions(String subject) {
    Objects.requireNonNull(subject, "subject");
    return ints(send("GET", "/subjects/" + encode(subject) + "/versions", null),
        "GET /subjects/" + subject + "/versions");
  }

  @Override
  public List<Integer> deleteSubject(String subject, boolean permanent) {
    Objects.requireNonNull(subject, "subject");
    forget(subject);
    List<Integer> deleted = ints(send("DELETE", "/subjects/" + encode(subject)
        + (permanent ? "?permanent=true" : ""), null), "DELETE /subjects/" + subject);
    forget(subject);
    return deleted;
  }

  @Override
  public int deleteVersion(String subject, int version, boolean permanent) {
    Objects.requireNonNull(subject, "subject");
    forget(subject);
    JsonNode answer = send("DELETE", "/subjects/" + encode(subject) + "/versions/" + version
        + (permanent ? "?permanent=true" : ""), null);
    forget(subject);
    if (!answer.canConvertToInt()) {
      throw malformed("DELETE /subjects/" + subject + "/versions/" + version, "not a version number");
    }
    return answer.asInt();
  }

  @Override
  public String toString() {
    return "RestSchemaRegistryClient" + baseUrls();
  }

  // ---------------------------------------------------------------- HTTP

  /** Sends a request with retries and failover; returns the parsed 2xx body (null node if empty). */
  private JsonNode send(String method, String pathAndQuery, JsonNode body) {
    byte[] payload;
    try {
      payload = body == null ? null : JSON.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot encode request body", e);
    }
    int n = baseUrls.size();
    int start = preferred;
    int waits = 0;
    for (int attempt = 0; ; attempt++) {
      int index = (start + attempt) % n;
      BaseUrl base = baseUrls.get(index);
      String where = method + " " + base.url() + pathAndQuery;
      long retryAfterMs = 0;
      SchemaRegistryException failure;
      try {
        HttpResponse<byte[]> response = http.send(request(base, method, pathAndQuery, payload),
            HttpResponse.BodyHandlers.ofByteArray());
        int status = response.statusCode();
        if (status >= 200 && status < 300) {
          preferred = index;
          return parseBody(response.body(), where, status);
        }
        failure = errorFrom(where, status, response.body());
        if (!failure.isRetriable()) {
          throw failure;
        }
        retryAfterMs = retryAfterMs(response);
      } catch (IOException e) {
        failure = new SchemaRegistryException("schema registry " + where + " failed: no answer ("
            + e + ")", SchemaRegistryException.NO_RESPONSE, SchemaRegistryException.NO_RESPONSE,
            null, e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new SchemaRegistryException("schema registry " + where + " interrupted",
            SchemaRegistryException.NO_RESPONSE, SchemaRegistryException.NO_RESPONSE, null, e);
      }
      if (attempt >= maxRetries) {
        throw failure;
      }
      if ((attempt + 1) % n == 0) {
        sleep(backoffMs(waits++, retryAfterMs), failure);
      }
    }
  }

  private HttpRequest request(BaseUrl base, String method, String pathAndQuery, byte[] payload) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base.url() + pathAndQuery))
        .timeout(requestTimeout)
        .header("Content-Type", MEDIA_TYPE)
        .header("Accept", ACCEPT)
        .header("Confluent-Accept-Unknown-Properties", "true")
        .method(method, payload == null
            ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(payload));
    if (base.authorization() != null) {
      request.header("Authorization", base.authorization());
    }
    headers.forEach(request::header);
    return request.build();
  }

  long backoffMs(int waits, long retryAfterMs) {
    long ceiling = initialBackoffMs << Math.min(waits, 30);
    if (ceiling <= 0 || ceiling > maxBackoffMs) {
      ceiling = maxBackoffMs;
    }
    long jittered = ceiling / 2 + ThreadLocalRandom.current().nextLong(ceiling / 2 + 1);
    return Math.min(Math.max(jittered, retryAfterMs), maxBackoffMs);
  }

  private static void sleep(long ms, SchemaRegistryException failure) {
    if (ms <= 0) {
      return;
    }
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      failure.addSuppressed(e);
      throw failure;
    }
  }

  private static long retryAfterMs(HttpResponse<?> response) {
    return response.headers().firstValue("Retry-After").map(v -> {
      try {
        return Math.max(0, Long.parseLong(v.trim())) * 1000;
      } catch (NumberFormatException e) {
        return 0L; // an HTTP date: fall back to our own backoff
      }
    }).orElse(0L);
  }

  private static JsonNode parseBody(byte[] body, String where, int status) {
    if (body == null || body.length == 0) {
      return JSON.nullNode();
    }
    try {
      return JSON.readTree(body);
    } catch (IOException e) {
      throw new SchemaRegistryException("schema registry " + where + " answered HTTP " + status
          + " with a body that is not JSON: " + snippet(body), status,
          SchemaRegistryException.UNPARSEABLE_ERROR_RESPONSE, null, e);
    }
  }

  private static SchemaRegistryException errorFrom(String where, int status, byte[] body) {
    JsonNode error = null;
    try {
      error = body == null || body.length == 0 ? null : JSON.readTree(body);
    } catch (IOException e) {
      // not JSON: reported below
    }
    if (error != null && error.isObject() && error.path("error_code").canConvertToInt()) {
      int code = error.get("error_code").asInt();
      String message = error.path("message").asText(null);
      return new SchemaRegistryException("schema registry " + where + " failed: HTTP " + status
          + ", error_code " + code + ": " + message, status, code, message, null);
    }
    String text = body == null || body.length == 0 ? "(empty body)" : snippet(body);
    return new SchemaRegistryException("schema registry " + where + " failed: HTTP " + status
        + " with a body that is not a registry error document (is the URL a schema registry?): "
        + text, status, SchemaRegistryException.UNPARSEABLE_ERROR_RESPONSE, text, null);
  }

  private static String snippet(byte[] body) {
    String text = new String(body, StandardCharsets.UTF_8).strip();
    return text.length() <= MAX_BODY_IN_MESSAGE ? text : text.substring(0, MAX_BODY_IN_MESSAGE) + "…";
  }

  // ---------------------------------------------------------------- answers

  private RegisteredSchema registered(JsonNode answer, String what) {
    int id = requiredInt(answer, "id", what);
    int version = requiredInt(answer, "version", what);
    String subject = answer.path("subject").asText(null);
    if (subject == null) {
      throw malformed(what, "no 'subject'");
    }
    Schema schema = schemasById.get(id);
    if (schema == null) {
      schema = parseSchema(answer, what);
      Schema raced = schemasById.putIfAbsent(id, schema);
      schema = raced != null ? raced : schema;
    }
    return new RegisteredSchema(subject, version, id, schema);
  }

  /** Parses the {@code schema} of an answer, first parsing the schemas it references. */
  private Schema parseSchema(JsonNode answer, String what) {
    Schema.Parser parser = new Schema.Parser();
    parseReferences(parser, answer.path("references"), new HashSet<>(), 0, what);
    return parseInto(parser, answer, what);
  }

  private void parseReferences(Schema.Parser parser, JsonNode references, Set<String> seen,
      int depth, String what) {
    if (!references.isArray() || references.isEmpty()) {
      return;
    }
    if (depth > MAX_REFERENCE_DEPTH) {
      throw malformed(what, "schema references nest deeper than " + MAX_REFERENCE_DEPTH);
    }
    for (JsonNode ref : references) {
      String subject = ref.path("subject").asText(null);
      JsonNode version = ref.path("version");
      if (subject == null || !version.canConvertToInt()) {
        throw malformed(what, "a schema reference without subject and version: " + ref);
      }
      // as Confluent's client: each name once, and a soft-deleted version still resolves
      String name = ref.path("name").asText(subject + "\u0000" + version.asInt());
      if (seen.add(name)) {
        String refWhat = "reference " + subject + " version " + version.asInt() + " of " + what;
        JsonNode referenced = send("GET", "/subjects/" + encode(subject) + "/versions/"
            + version.asInt() + "?deleted=true", null);
        parseReferences(parser, referenced.path("references"), seen, depth + 1, refWhat);
        parseInto(parser, referenced, refWhat);
      }
    }
  }

  private static Schema parseInto(Schema.Parser parser, JsonNode answer, String what) {
    String type = answer.path("schemaType").asText("AVRO");
    if (!"AVRO".equalsIgnoreCase(type)) {
      throw new SchemaRegistryException("schema registry: " + what + " is a " + type
          + " schema; this client reads Avro only", 200, SchemaRegistryException.INVALID_SCHEMA,
          null, null);
    }
    JsonNode text = answer.get("schema");
    if (text == null || !text.isTextual()) {
      throw malformed(what, "no 'schema' text");
    }
    try {
      return parser.parse(text.asText());
    } catch (SchemaParseException | IllegalArgumentException e) {
      throw new SchemaRegistryException("schema registry: " + what + " is not a valid Avro schema: "
          + e.getMessage(), 200, SchemaRegistryException.INVALID_SCHEMA, null, e);
    }
  }

  private static CompatibilityLevel level(JsonNode answer, String what) {
    JsonNode level = answer.has("compatibilityLevel") ? answer.get("compatibilityLevel")
        : answer.get("compatibility");
    if (level == null || !level.isTextual()) {
      throw malformed(what, "no 'compatibilityLevel'");
    }
    try {
      return CompatibilityLevel.parse(level.asText());
    } catch (IllegalArgumentException e) {
      throw malformed(what, e.getMessage());
    }
  }

  private static JsonNode requireArray(JsonNode answer, String what) {
    if (!answer.isArray()) {
      throw malformed(what, "not a JSON array");
    }
    return answer;
  }

  private static List<Integer> ints(JsonNode answer, String what) {
    List<Integer> out = new ArrayList<>();
    for (JsonNode n : requireArray(answer, what)) {
      if (!n.canConvertToInt()) {
        throw malformed(what, "not an array of version numbers");
      }
      out.add(n.asInt());
    }
    return out;
  }

  private static int requiredInt(JsonNode answer, String field, String what) {
    JsonNode value = answer.get(field);
    if (value == null || !value.canConvertToInt()) {
      throw malformed(what, "no integer '" + field + "'");
    }
    return value.asInt();
  }

  private static SchemaRegistryException malformed(String what, String problem) {
    return new SchemaRegistryException("schema registry answered " + what
        + " with an unexpected document: " + problem, 200,
        SchemaRegistryException.UNPARSEABLE_ERROR_RESPONSE, null, null);
  }

  // ---------------------------------------------------------------- caches and helpers

  private Map<String, Integer> subjectCache(Map<String, Map<String, Integer>> caches, String subject) {
    return caches.computeIfAbsent(subject, s -> lru(maxSchemasPerSubject));
  }

  private void forget(String subject) {
    idsBySubject.remove(subject);
    versionsBySubject.remove(subject);
  }

  private static <V> Map<String, V> lru(int max) {
    return Collections.synchronizedMap(new LinkedHashMap<String, V>(16, 0.75f, true) {
      private static final long serialVersionUID = 1L;

      @Override
      protected boolean removeEldestEntry(Map.Entry<String, V> eldest) {
        return size() > max;
      }
    });
  }

  static String encode(String pathSegment) {
    return URLEncoder.encode(pathSegment, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static String basic(String user, String password) {
    String pair = user + ":" + (password == null ? "" : password);
    return "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8));
  }

  private static BaseUrl parseBaseUrl(String raw, String explicitAuth, boolean useUrlCredentials) {
    URI uri;
    try {
      uri = new URI(raw.trim());
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("invalid schema registry URL '" + redact(raw) + "': "
          + e.getMessage(), e);
    }
    String scheme = uri.getScheme();
    if (scheme == null || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))
        || uri.getHost() == null) {
      throw new IllegalArgumentException("invalid schema registry URL '" + redact(raw)
          + "': expected http://host:port or https://host:port" + (raw.contains("@")
              ? " (in credentials, percent-encode '/', '@', ':' and '%' as %2F, %40, %3A, %25)"
              : ""));
    }
    String path = uri.getRawPath() == null ? "" : uri.getRawPath();
    while (path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    String url = scheme.toLowerCase(Locale.ROOT) + "://" + (uri.getHost().contains(":") && !uri.getHost()
        .startsWith("[") ? "[" + uri.getHost() + "]" : uri.getHost())
        + (uri.getPort() >= 0 ? ":" + uri.getPort() : "") + path;
    String auth = explicitAuth;
    String userInfo = uri.getRawUserInfo();
    if (auth == null && useUrlCredentials && userInfo != null && !userInfo.isEmpty()) {
      int colon = userInfo.indexOf(':');
      String user = percentDecode(colon < 0 ? userInfo : userInfo.substring(0, colon));
      String password = colon < 0 ? "" : percentDecode(userInfo.substring(colon + 1));
      auth = basic(user, password);
    }
    return new BaseUrl(url, auth);
  }

  /**
   * Decodes the {@code %XX} escapes of a URL's user info. Unlike form decoding, a {@code +} stays
   * a {@code +} (API keys and secrets contain them).
   */
  static String percentDecode(String userInfoPart) {
    return URLDecoder.decode(userInfoPart.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  /**
   * The URL with any user info replaced, for messages: everything between {@code //} and the first
   * {@code @}, so that a secret holding an unencoded {@code /} is hidden too.
   */
  static String redact(String raw) {
    return raw == null ? null : raw.replaceAll("//[^@]*@", "//***@");
  }

  /**
   * Builds a {@link RestSchemaRegistryClient}. Only {@link #url} is required; {@link #build()}
   * throws {@link IllegalStateException} without one, or with both basic and bearer credentials.
   */
  public static final class Builder {

    private final List<String> urls = new ArrayList<>();
    private final Map<String, String> headers = new LinkedHashMap<>();
    private String basicUser;
    private String basicPassword;
    private String bearerToken;
    private boolean useUrlCredentials = true;
    private SSLContext sslContext;
    private Duration connectTimeout = Duration.ofSeconds(10);
    private Duration requestTimeout = Duration.ofSeconds(30);
    private int maxRetries = 3;
    private Duration initialBackoff = Duration.ofMillis(200);
    private Duration maxBackoff = Duration.ofSeconds(10);
    private int maxSchemasPerSubject = 1000;

    private Builder() {}

    /**
     * Adds base URLs ({@code http(s)://[user:password@]host:port[/path]}), tried in order for
     * failover. A value may hold several URLs separated by commas. User info in a URL becomes HTTP
     * basic credentials for that URL unless explicit credentials are given.
     *
     * @throws IllegalArgumentException when a URL is malformed (the message hides user info)
     */
    public Builder url(String... urls) {
      for (String value : urls) {
        for (String url : value.split(",")) {
          if (!url.isBlank()) {
            parseBaseUrl(url, null, false);
            this.urls.add(url.trim());
          }
        }
      }
      return this;
    }

    /** Adds base URLs; as {@link #url(String...)}. */
    public Builder urls(List<String> urls) {
      return url(urls.toArray(String[]::new));
    }

    /** HTTP basic credentials for every request; {@code password} may be empty, not null. */
    public Builder basicAuth(String user, String password) {
      this.basicUser = Objects.requireNonNull(user, "user");
      this.basicPassword = Objects.requireNonNull(password, "password");
      return this;
    }

    /** A bearer token sent as {@code Authorization: Bearer <token>} on every request. */
    public Builder bearerToken(String token) {
      this.bearerToken = Objects.requireNonNull(token, "token");
      return this;
    }

    /** Whether user info in a URL is used as basic credentials (default true). */
    public Builder useUrlCredentials(boolean use) {
      this.useUrlCredentials = use;
      return this;
    }

    /** An extra header sent on every request (e.g. {@code target-sr-cluster}). */
    public Builder header(String name, String value) {
      headers.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
      return this;
    }

    /** The TLS context; default: the JVM default, configured by the {@code javax.net.ssl.*} properties. */
    public Builder sslContext(SSLContext sslContext) {
      this.sslContext = Objects.requireNonNull(sslContext, "sslContext");
      return this;
    }

    /** Time to establish a connection (default 10 s). */
    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = positive(timeout, "connectTimeout");
      return this;
    }

    /** Time to wait for an answer to one request attempt (default 30 s). */
    public Builder requestTimeout(Duration timeout) {
      this.requestTimeout = positive(timeout, "requestTimeout");
      return this;
    }

    /** Retries after the first attempt for transient failures (default 3; 0 disables). */
    public Builder maxRetries(int maxRetries) {
      if (maxRetries < 0) {
        throw new IllegalArgumentException("maxRetries must be 0 or more, not " + maxRetries);
      }
      this.maxRetries = maxRetries;
      return this;
    }

    /** The first backoff wait (default 200 ms); it doubles per retry, with jitter. */
    public Builder initialBackoff(Duration backoff) {
      this.initialBackoff = Objects.requireNonNull(backoff, "initialBackoff");
      if (backoff.isNegative()) {
        throw new IllegalArgumentException("initialBackoff must not be negative");
      }
      return this;
    }

    /** The longest backoff wait (default 10 s). */
    public Builder maxBackoff(Duration backoff) {
      this.maxBackoff = Objects.requireNonNull(backoff, "maxBackoff");
      if (backoff.isNegative()) {
        throw new IllegalArgumentException("maxBackoff must not be negative");
      }
      return this;
    }

    /** Entries per subject in the schema → id and schema → version caches (default 1000). */
    public Builder maxSchemasPerSubject(int max) {
      if (max < 1) {
        throw new IllegalArgumentException("maxSchemasPerSubject must be 1 or more, not " + max);
      }
      this.maxSchemasPerSubject = max;
      return this;
    }

    /**
     * The client.
     *
     * @throws IllegalStateException when no URL was given, or both basic and bearer credentials
     */
    public RestSchemaRegistryClient build() {
      if (urls.isEmpty()) {
        throw new IllegalStateException("a schema registry URL is required: call url(...)");
      }
      if (basicUser != null && bearerToken != null) {
        throw new IllegalStateException("give basic credentials or a bearer token, not both");
      }
      return new RestSchemaRegistryClient(this);
    }

    private static Duration positive(Duration d, String name) {
      Objects.requireNonNull(d, name);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + " must be positive, not " + d);
      }
      return d;
    }
  }
}
