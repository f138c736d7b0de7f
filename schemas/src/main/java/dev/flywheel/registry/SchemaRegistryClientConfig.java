package dev.flywheel.registry;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.types.Password;

/**
 * The client property names, the same as Confluent's, so that existing serializer and consumer
 * configs carry over unchanged. Values may be strings or the matching Java types (numbers,
 * booleans, lists of URLs, Kafka {@link Password}s). Other keys are ignored, except the
 * Confluent keys Flywheel does not implement (below).
 *
 * <table>
 *   <caption>Keys</caption>
 *   <tr><th>key</th><th>meaning</th><th>default</th></tr>
 *   <tr><td>{@value #URL}</td><td>base URLs, comma-separated, tried in order; {@code mock://scope}
 *       gives the shared in-memory registry of that scope</td><td>required</td></tr>
 *   <tr><td>{@value #BASIC_AUTH_CREDENTIALS_SOURCE}</td><td>{@code URL} (user info of the URLs)
 *       or {@code USER_INFO} ({@value #BASIC_AUTH_USER_INFO})</td><td>{@code URL}</td></tr>
 *   <tr><td>{@value #BASIC_AUTH_USER_INFO} (also {@value #SR_BASIC_AUTH_USER_INFO})</td>
 *       <td>{@code user:password}</td><td></td></tr>
 *   <tr><td>{@value #BEARER_AUTH_CREDENTIALS_SOURCE}</td><td>{@code STATIC_TOKEN}</td><td></td></tr>
 *   <tr><td>{@value #BEARER_AUTH_TOKEN}</td><td>the bearer token</td><td></td></tr>
 *   <tr><td>{@value #BEARER_AUTH_LOGICAL_CLUSTER}, {@value #BEARER_AUTH_IDENTITY_POOL_ID}</td>
 *       <td>sent as {@code target-sr-cluster} and {@code Confluent-Identity-Pool-Id}</td><td></td></tr>
 *   <tr><td>{@value #SSL_PREFIX}{@code truststore.location|password|type},
 *       {@code keystore.location|password|type}, {@code key.password}, {@code protocol}</td>
 *       <td>an explicit TLS context; without them the JVM default (the {@code javax.net.ssl.*}
 *       system properties) applies</td><td></td></tr>
 *   <tr><td>{@value #MAX_RETRIES}</td><td>retries of a transient failure</td><td>3</td></tr>
 *   <tr><td>{@value #RETRIES_WAIT_MS}, {@value #RETRIES_MAX_WAIT_MS}</td><td>first and longest
 *       backoff wait</td><td>200, 10000</td></tr>
 *   <tr><td>{@value #CONNECT_TIMEOUT_MS}, {@value #READ_TIMEOUT_MS}</td><td>connect and
 *       per-request timeouts</td><td>10000, 30000</td></tr>
 *   <tr><td>{@value #MAX_SCHEMAS_PER_SUBJECT}</td><td>cache entries per subject</td><td>1000</td></tr>
 * </table>
 *
 * <p>Confluent keys that Flywheel does not implement are refused with a {@link ConfigException}
 * naming the key when set to anything but their default, rather than ignored: {@code
 * schema.registry.ssl.endpoint.identification.algorithm} other than {@code https} (an empty
 * value, which turns host-name checks off in Confluent's client: this client always checks), the
 * inline PEM keys {@code schema.registry.ssl.truststore.certificates}, {@code
 * schema.registry.ssl.keystore.certificate.chain} and {@code schema.registry.ssl.keystore.key},
 * and {@code proxy.host}.
 */
public final class SchemaRegistryClientConfig {

  /** Base URLs of the registry, comma-separated. */
  public static final String URL = "schema.registry.url";
  /** Where basic credentials come from: {@code URL} or {@code USER_INFO}. */
  public static final String BASIC_AUTH_CREDENTIALS_SOURCE = "basic.auth.credentials.source";
  /** Basic credentials as {@code user:password}, used with {@code USER_INFO}. */
  public static final String BASIC_AUTH_USER_INFO = "basic.auth.user.info";
  /** Confluent's older spelling of {@link #BASIC_AUTH_USER_INFO}. */
  public static final String SR_BASIC_AUTH_USER_INFO = "schema.registry.basic.auth.user.info";
  /** Where the bearer token comes from: {@code STATIC_TOKEN}. */
  public static final String BEARER_AUTH_CREDENTIALS_SOURCE = "bearer.auth.credentials.source";
  /** The static bearer token. */
  public static final String BEARER_AUTH_TOKEN = "bearer.auth.token";
  /** Confluent Cloud logical cluster id, sent as {@code target-sr-cluster}. */
  public static final String BEARER_AUTH_LOGICAL_CLUSTER = "bearer.auth.logical.cluster";
  /** Confluent Cloud identity pool id, sent as {@code Confluent-Identity-Pool-Id}. */
  public static final String BEARER_AUTH_IDENTITY_POOL_ID = "bearer.auth.identity.pool.id";
  /** Prefix of the TLS keys. */
  public static final String SSL_PREFIX = "schema.registry.ssl.";
  /** Retries of a transient failure. */
  public static final String MAX_RETRIES = "max.retries";
  /** First backoff wait in milliseconds. */
  public static final String RETRIES_WAIT_MS = "retries.wait.ms";
  /** Longest backoff wait in milliseconds. */
  public static final String RETRIES_MAX_WAIT_MS = "retries.max.wait.ms";
  /** Connect timeout in milliseconds. */
  public static final String CONNECT_TIMEOUT_MS = "http.connect.timeout.ms";
  /** Per-request timeout in milliseconds. */
  public static final String READ_TIMEOUT_MS = "http.read.timeout.ms";
  /** Cache entries per subject. */
  public static final String MAX_SCHEMAS_PER_SUBJECT = "max.schemas.per.subject";

  // Confluent keys that Flywheel refuses when set to anything but their default
  static final String SSL_ENDPOINT_IDENTIFICATION_ALGORITHM =
      SSL_PREFIX + "endpoint.identification.algorithm";
  static final String PROXY_HOST = "proxy.host";
  static final String PROXY_PORT = "proxy.port";

  /**
   * Every key this class reads, those it refuses included (so that they say why): what a
   * caller that takes registry settings by name (environment variables, a builder's map) accepts.
   */
  public static final java.util.Set<String> KEYS = java.util.Set.of(
      URL, BASIC_AUTH_CREDENTIALS_SOURCE, BASIC_AUTH_USER_INFO, SR_BASIC_AUTH_USER_INFO,
      BEARER_AUTH_CREDENTIALS_SOURCE, BEARER_AUTH_TOKEN, BEARER_AUTH_LOGICAL_CLUSTER,
      BEARER_AUTH_IDENTITY_POOL_ID, MAX_RETRIES, RETRIES_WAIT_MS, RETRIES_MAX_WAIT_MS,
      CONNECT_TIMEOUT_MS, READ_TIMEOUT_MS, MAX_SCHEMAS_PER_SUBJECT, PROXY_HOST, PROXY_PORT,
      SSL_PREFIX + "truststore.location", SSL_PREFIX + "truststore.password",
      SSL_PREFIX + "truststore.type", SSL_PREFIX + "keystore.location",
      SSL_PREFIX + "keystore.password", SSL_PREFIX + "keystore.type",
      SSL_PREFIX + "key.password", SSL_PREFIX + "protocol",
      SSL_ENDPOINT_IDENTIFICATION_ALGORITHM, SSL_PREFIX + "truststore.certificates",
      SSL_PREFIX + "keystore.certificate.chain", SSL_PREFIX + "keystore.key");

  private static final String MOCK_SCHEME = "mock://";

  private SchemaRegistryClientConfig() {}

  /**
   * A client for {@code config}; see the class comment for the keys.
   *
   * @throws ConfigException when {@value #URL} is missing or a value is invalid
   */
  public static SchemaRegistryClient createClient(Map<String, ?> config) {
    refuseUnsupported(config);
    List<String> urls = urls(config);
    if (urls.isEmpty()) {
      throw new ConfigException(URL, null, "the schema registry URL is required, e.g. "
          + "http://localhost:8081 (or mock://<scope> for the in-memory registry of tests)");
    }
    long mocks = urls.stream().filter(u -> u.startsWith(MOCK_SCHEME)).count();
    if (mocks > 0) {
      if (mocks != urls.size() || urls.size() > 1) {
        throw new ConfigException(URL, String.join(",", urls),
            "a mock:// URL must be the only URL");
      }
      return InMemorySchemaRegistryClient.forScope(urls.get(0).substring(MOCK_SCHEME.length()));
    }
    try {
      return builder(config, urls).build();
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new ConfigException("invalid schema registry client config: " + e.getMessage());
    }
  }

  /**
   * Refuses Confluent client keys that Flywheel does not implement when they are set to anything
   * but their default, rather than ignore them: each would change how the registry is reached or
   * trusted.
   */
  private static void refuseUnsupported(Map<String, ?> config) {
    if (config.containsKey(SSL_ENDPOINT_IDENTIFICATION_ALGORITHM)) {
      Object value = config.get(SSL_ENDPOINT_IDENTIFICATION_ALGORITHM);
      String text = value == null ? "" : String.valueOf(value).trim();
      if (!text.equalsIgnoreCase("https")) {
        throw unsupported(SSL_ENDPOINT_IDENTIFICATION_ALGORITHM, value, "Flywheel's client always "
            + "checks that the registry's certificate matches its host name (as with the default, "
            + "https), and cannot turn that off; give the registry a certificate for the host name "
            + "in " + URL + " and remove the key");
      }
    }
    for (String pem : new String[] {SSL_PREFIX + "truststore.certificates",
        SSL_PREFIX + "keystore.certificate.chain", SSL_PREFIX + "keystore.key"}) {
      if (string(config, pem) != null) {
        throw unsupported(pem, "(hidden)", "PEM certificates and keys given inline are not "
            + "supported; put them in a PKCS12 or JKS store and give its file in " + SSL_PREFIX
            + "truststore.location or " + SSL_PREFIX + "keystore.location");
      }
    }
    if (string(config, PROXY_HOST) != null) {
      throw unsupported(PROXY_HOST, config.get(PROXY_HOST), "Flywheel's client does not go "
          + "through an HTTP proxy; reach the registry directly, or set the JVM's proxy "
          + "selector, and remove " + PROXY_HOST + " and " + PROXY_PORT);
    }
  }

  private static ConfigException unsupported(String key, Object value, String whatToDo) {
    return new ConfigException(key, value, "this Confluent setting is not supported by "
        + "Flywheel's schema registry client (it would be ignored); " + whatToDo);
  }

  /** The base URLs of {@value #URL}; empty when absent. */
  static List<String> urls(Map<String, ?> config) {
    Object value = config.get(URL);
    List<String> out = new ArrayList<>();
    if (value instanceof Collection<?> list) {
      list.forEach(v -> addUrls(out, String.valueOf(v)));
    } else if (value != null) {
      addUrls(out, String.valueOf(value));
    }
    return out;
  }

  private static void addUrls(List<String> out, String value) {
    for (String url : value.split(",")) {
      if (!url.isBlank()) {
        out.add(url.trim());
      }
    }
  }

  private static RestSchemaRegistryClient.Builder builder(Map<String, ?> config, List<String> urls) {
    RestSchemaRegistryClient.Builder b = RestSchemaRegistryClient.builder();
    try {
      b.urls(urls);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(URL + ": " + e.getMessage());
    }
    String basicSource = upper(string(config, BASIC_AUTH_CREDENTIALS_SOURCE));
    String bearerSource = upper(string(config, BEARER_AUTH_CREDENTIALS_SOURCE));
    String bearerToken = string(config, BEARER_AUTH_TOKEN);
    boolean bearer = bearerSource != null || bearerToken != null;
    if (bearer) {
      if ("USER_INFO".equals(basicSource)) {
        throw new ConfigException(BEARER_AUTH_CREDENTIALS_SOURCE, bearerSource,
            "give basic credentials (" + BASIC_AUTH_CREDENTIALS_SOURCE + "=USER_INFO) or a bearer "
                + "token, not both");
      }
      if (bearerSource != null && !bearerSource.equals("STATIC_TOKEN")) {
        throw new ConfigException(BEARER_AUTH_CREDENTIALS_SOURCE, bearerSource,
            "only STATIC_TOKEN is supported");
      }
      if (bearerToken == null || bearerToken.isEmpty()) {
        throw new ConfigException(BEARER_AUTH_TOKEN, null,
            "a bearer token is required with " + BEARER_AUTH_CREDENTIALS_SOURCE + "=STATIC_TOKEN");
      }
      b.bearerToken(bearerToken).useUrlCredentials(false);
      String cluster = string(config, BEARER_AUTH_LOGICAL_CLUSTER);
      if (cluster != null) {
        b.header("target-sr-cluster", cluster);
      }
      String pool = string(config, BEARER_AUTH_IDENTITY_POOL_ID);
      if (pool != null) {
        b.header("Confluent-Identity-Pool-Id", pool);
      }
    } else if ("USER_INFO".equals(basicSource)) {
      String userInfo = string(config, BASIC_AUTH_USER_INFO);
      if (userInfo == null) {
        userInfo = string(config, SR_BASIC_AUTH_USER_INFO);
      }
      if (userInfo == null || userInfo.indexOf(':') < 0) {
        throw new ConfigException(BASIC_AUTH_USER_INFO, userInfo == null ? null : "(hidden)",
            "basic credentials as user:password are required with "
                + BASIC_AUTH_CREDENTIALS_SOURCE + "=USER_INFO");
      }
      int colon = userInfo.indexOf(':');
      b.basicAuth(userInfo.substring(0, colon), userInfo.substring(colon + 1))
          .useUrlCredentials(false);
    } else if (basicSource != null && !basicSource.equals("URL")) {
      throw new ConfigException(BASIC_AUTH_CREDENTIALS_SOURCE, basicSource,
          "supported sources are URL and USER_INFO");
    }
    Integer retries = integer(config, MAX_RETRIES);
    if (retries != null) {
      b.maxRetries(retries);
    }
    Integer wait = integer(config, RETRIES_WAIT_MS);
    if (wait != null) {
      b.initialBackoff(Duration.ofMillis(wait));
    }
    Integer maxWait = integer(config, RETRIES_MAX_WAIT_MS);
    if (maxWait != null) {
      b.maxBackoff(Duration.ofMillis(maxWait));
    }
    Integer connect = integer(config, CONNECT_TIMEOUT_MS);
    if (connect != null) {
      b.connectTimeout(Duration.ofMillis(connect));
    }
    Integer read = integer(config, READ_TIMEOUT_MS);
    if (read != null) {
      b.requestTimeout(Duration.ofMillis(read));
    }
    Integer perSubject = integer(config, MAX_SCHEMAS_PER_SUBJECT);
    if (perSubject != null) {
      b.maxSchemasPerSubject(perSubject);
    }
    SSLContext ssl = sslContext(config);
    if (ssl != null) {
      b.sslContext(ssl);
    }
    return b;
  }

  /** An SSLContext from the {@value #SSL_PREFIX} keys, or null when no store is configured. */
  static SSLContext sslContext(Map<String, ?> config) {
    String trustLocation = string(config, SSL_PREFIX + "truststore.location");
    String keyLocation = string(config, SSL_PREFIX + "keystore.location");
    if (trustLocation == null && keyLocation == null) {
      return null;
    }
    try {
      TrustManagerFactory tmf = null;
      if (trustLocation != null) {
        KeyStore trust = load(trustLocation, string(config, SSL_PREFIX + "truststore.type"),
            string(config, SSL_PREFIX + "truststore.password"));
        tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
      }
      KeyManagerFactory kmf = null;
      if (keyLocation != null) {
        String storePassword = string(config, SSL_PREFIX + "keystore.password");
        KeyStore keys = load(keyLocation, string(config, SSL_PREFIX + "keystore.type"), storePassword);
        String keyPassword = string(config, SSL_PREFIX + "key.password");
        kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        String pw = keyPassword != null ? keyPassword : storePassword;
        kmf.init(keys, pw == null ? new char[0] : pw.toCharArray());
      }
      String protocol = string(config, SSL_PREFIX + "protocol");
      SSLContext context = SSLContext.getInstance(protocol == null ? "TLS" : protocol);
      context.init(kmf == null ? null : kmf.getKeyManagers(),
          tmf == null ? null : tmf.getTrustManagers(), null);
      return context;
    } catch (IOException | GeneralSecurityException e) {
      throw new ConfigException(SSL_PREFIX + "*: cannot build the TLS context: " + e.getMessage());
    }
  }

  private static KeyStore load(String location, String type, String password)
      throws IOException, GeneralSecurityException {
    KeyStore store = KeyStore.getInstance(type == null ? KeyStore.getDefaultType() : type);
    try (InputStream in = Files.newInputStream(Path.of(location))) {
      store.load(in, password == null ? null : password.toCharArray());
    }
    return store;
  }

  static String string(Map<String, ?> config, String key) {
    Object value = config.get(key);
    if (value == null) {
      return null;
    }
    String text = value instanceof Password p ? p.value() : String.valueOf(value);
    return text.isBlank() ? null : text.trim();
  }

  static Integer integer(Map<String, ?> config, String key) {
    Object value = config.get(key);
    if (value == null) {
      return null;
    }
    if (value instanceof Number n) {
      return n.intValue();
    }
    try {
      return Integer.valueOf(String.valueOf(value).trim());
    } catch (NumberFormatException e) {
      throw new ConfigException(key, value, "expected an integer");
    }
  }

  private static String upper(String s) {
    return s == null ? null : s.toUpperCase(Locale.ROOT);
  }
}
