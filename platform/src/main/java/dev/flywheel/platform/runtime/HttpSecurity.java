package dev.flywheel.platform.runtime;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bearer-token authentication with roles for the mutating HTTP endpoints of the shared server
 * (POST, PUT, PATCH and DELETE); reads (GET, HEAD, OPTIONS), {@code /health} and {@code /metrics}
 * stay open. Configured by the {@code security:} section of {@code flywheel.yaml}:
 *
 * <pre>{@code
 * security:
 *   tokens:
 *     - name: pipeline                      # shown in logs and answers; the value never is
 *       env: FLYWHEEL_PIPELINE_TOKEN        # the token's value comes from this variable ...
 *       roles: [ingest, labels]
 *     - name: operator
 *       file: /run/secrets/operator-token   # ... or from this file (trimmed)
 *       roles: [admin]                      # admin may call every route
 *   routes:                                 # checked before the defaults; first match wins
 *     - path: /predict/*
 *       role: predict                       # 'public' lets anyone call the route
 * }</pre>
 *
 * <p>The default routes: {@code /ingest/*} needs {@value #INGEST}, {@code /labels} {@value
 * #LABELS}, {@code /sources} {@value #ADMIN}, {@code /models/* /train} {@value #TRAIN}, any other
 * {@code /models/**} {@value #REGISTRY}; {@code /predict/*} and {@code /features/* /batch} (queries
 * sent as POST) are {@value #PUBLIC}. A mutating request no route matches needs {@value #ADMIN}.
 * In a path pattern {@code *} is one segment and {@code **} the rest of the path.
 *
 * <p>Without a {@code security:} section security is off and every request passes. Without a
 * token or with an unknown one the answer is 401, with a token that lacks the route's role 403;
 * both say what to send. Token values are compared in constant time and never logged: {@link
 * Token#toString()} masks them.
 */
public final class HttpSecurity {

  /** Role that may call every route. */
  public static final String ADMIN = "admin";
  /** Role of {@code POST /ingest/{source}}. */
  public static final String INGEST = "ingest";
  /** Role of {@code POST /labels}. */
  public static final String LABELS = "labels";
  /** Role of {@code POST /models/{model}/train}. */
  public static final String TRAIN = "train";
  /** Role of registry commands under {@code /models}. */
  public static final String REGISTRY = "registry";
  /** Not a role: a route anyone may call. */
  public static final String PUBLIC = "public";

  /** The routes applied after the configured ones. */
  public static final List<Route> DEFAULT_ROUTES = List.of(
      new Route("/ingest/*", INGEST, null),
      new Route("/labels", LABELS, null),
      new Route("/sources", ADMIN, null),
      new Route("/models/*/train", TRAIN, null),
      new Route("/models/**", REGISTRY, null),
      new Route("/predict/*", PUBLIC, null),
      new Route("/features/*/batch", PUBLIC, null));

  /** Tokens shorter than this are refused. */
  public static final int MIN_TOKEN_LENGTH = 16;

  /** The top-level section of {@code flywheel.yaml} it reads. */
  public static final String SECTION = "security";

  private static final Set<String> MUTATING = Set.of("POST", "PUT", "PATCH", "DELETE");
  private static final Logger log = LoggerFactory.getLogger(HttpSecurity.class);
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private final boolean enabled;
  private final List<Token> tokens;
  private final List<Route> routes;

  private HttpSecurity(boolean enabled, List<Token> tokens, List<Route> routes) {
    this.enabled = enabled;
    this.tokens = List.copyOf(tokens);
    List<Route> all = new ArrayList<>(routes);
    all.addAll(DEFAULT_ROUTES);
    this.routes = List.copyOf(all);
  }

  /** Every request passes. */
  public static HttpSecurity disabled() {
    return new HttpSecurity(false, List.of(), List.of());
  }

  /**
   * The {@code security:} section of a {@code flywheel.yaml}; {@code file:} paths are relative to
   * the file's folder.
   *
   * @throws IllegalArgumentException naming the file and what to fix
   */
  public static HttpSecurity load(Path file, Map<String, String> env) {
    Objects.requireNonNull(file, "file");
    try {
      Path dir = file.toAbsolutePath().getParent();
      return parse(Files.readString(file), env, dir);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  /**
   * The {@code security:} section of {@code flywheel.yaml} text: {@link #disabled()} when there
   * is none. Token values are read now from {@code env} or their file.
   *
   * @param baseDir the folder relative {@code file:} paths start from
   * @throws IllegalArgumentException saying what to fix: a missing variable or file, a short or
   *     repeated token, a token without roles, a misspelt setting
   */
  public static HttpSecurity parse(String yaml, Map<String, String> env, Path baseDir) {
    Objects.requireNonNull(env, "env");
    Section section;
    try {
      Map<String, Object> root = YAML.readValue(yaml == null || yaml.isBlank() ? "{}" : yaml,
          YAML.getTypeFactory().constructMapType(LinkedHashMap.class, String.class, Object.class));
      if (root == null || !root.containsKey(SECTION)) {
        return disabled();
      }
      section = YAML.convertValue(root.get(SECTION) == null ? Map.of() : root.get(SECTION),
          Section.class);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not valid YAML: " + e.getOriginalMessage(), e);
    } catch (IllegalArgumentException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      throw new IllegalArgumentException(SECTION + ": " + (cause instanceof JsonProcessingException j
          ? j.getOriginalMessage() : cause.getMessage()), e);
    }
    if (section.tokens().isEmpty()) {
      throw new IllegalArgumentException("security.tokens is empty: declare at least one token"
          + " (name, env or file, roles), or remove the security section to turn security off");
    }
    List<Token> tokens = new ArrayList<>();
    Set<String> names = new LinkedHashSet<>();
    for (TokenSpec spec : section.tokens()) {
      Token token = spec.resolve(env, baseDir);
      if (!names.add(token.name())) {
        throw new IllegalArgumentException("security.tokens: two tokens are named '"
            + token.name() + "': give each a name of its own");
      }
      for (Token other : tokens) {
        if (MessageDigest.isEqual(other.digest, token.digest)) {
          throw new IllegalArgumentException("security.tokens: tokens '" + other.name()
              + "' and '" + token.name() + "' have the same value: give each its own value");
        }
      }
      tokens.add(token);
    }
    return new HttpSecurity(true, tokens, section.routes());
  }

  /** Whether requests are checked. */
  public boolean enabled() {
    return enabled;
  }

  /** The tokens, values masked in their {@code toString}. */
  public List<Token> tokens() {
    return tokens;
  }

  /** The routes checked in order: the configured ones, then {@link #DEFAULT_ROUTES}. */
  public List<Route> routes() {
    return routes;
  }

  /** The environment variables the tokens are read from. */
  public List<String> environmentVariables() {
    return tokens.stream().map(Token::env).flatMap(Optional::stream).toList();
  }

  /** Checks every request of the server {@code routes} belongs to before its handler runs. */
  public void install(RoutesConfig routes) {
    if (!enabled) {
      log.warn("HTTP security is off (no security section in flywheel.yaml): anyone who reaches"
          + " the HTTP port can ingest, add sources and request training");
      return;
    }
    log.info("HTTP security on: mutating routes need a bearer token; tokens {}",
        tokens.stream().map(t -> t.name() + t.roles()).toList());
    routes.before(this::check);
  }

  private void check(Context ctx) {
    Decision decision = decide(ctx.method().name(), ctx.path(), ctx.header("Authorization"));
    if (decision.allowed()) {
      return;
    }
    log.debug("{} {} refused with {} (token {})", ctx.method(), ctx.path(), decision.status(),
        decision.token() == null ? "none" : decision.token());
    if (decision.status() == 401) {
      ctx.header("WWW-Authenticate", "Bearer realm=\"flywheel\"");
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("error", decision.message());
    ctx.status(decision.status()).json(body);
    ctx.skipRemainingHandlers();
  }

  /**
   * What happens to a request.
   *
   * @param method the HTTP method
   * @param path the request path
   * @param authorization the {@code Authorization} header, or null
   */
  public Decision decide(String method, String path, String authorization) {
    String m = method.toUpperCase(Locale.ROOT);
    if (!enabled || !MUTATING.contains(m)) {
      return Decision.ALLOW;
    }
    String role = roleOf(m, path);
    if (PUBLIC.equals(role)) {
      return Decision.ALLOW;
    }
    String what = m + " " + path;
    String send = "send the header 'Authorization: Bearer <token>' with a token that has role '"
        + role + "' (or '" + ADMIN + "')";
    if (authorization == null || authorization.isBlank()) {
      return new Decision(401, what + " needs a bearer token: " + send, null);
    }
    String value = authorization.strip();
    if (value.length() < 7 || !value.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return new Decision(401, what + ": the Authorization header is not a bearer token: "
          + send, null);
    }
    byte[] digest = sha256(value.substring(7).strip());
    Token match = null;
    for (Token token : tokens) {
      // every token is compared, each in constant time, so timing says nothing about the value
      if (MessageDigest.isEqual(token.digest, digest)) {
        match = token;
      }
    }
    if (match == null) {
      return new Decision(401, what + ": the bearer token is not one of the configured tokens"
          + " (security.tokens): " + send, null);
    }
    if (match.roles().contains(role) || match.roles().contains(ADMIN)) {
      return new Decision(0, "allowed", match.name());
    }
    return new Decision(403, what + " needs role '" + role + "', which token '" + match.name()
        + "' does not have (it has " + match.roles() + "): use a token with role '" + role
        + "', or add the role to '" + match.name() + "' in security.tokens", match.name());
  }

  /** The role a mutating request needs: the first matching route's, else {@value #ADMIN}. */
  public String roleOf(String method, String path) {
    String m = method.toUpperCase(Locale.ROOT);
    for (Route route : routes) {
      if (route.matches(m, path)) {
        return route.role();
      }
    }
    return ADMIN;
  }

  @Override
  public String toString() {
    return enabled ? "HttpSecurity[tokens=" + tokens + "]" : "HttpSecurity[off]";
  }

  private static byte[] sha256(String value) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  /**
   * The verdict on a request.
   *
   * @param status 0 when allowed, else 401 or 403
   * @param message why, and what to send
   * @param token the name of the token presented, or null when none was recognized
   */
  public record Decision(int status, String message, String token) {

    static final Decision ALLOW = new Decision(0, "allowed", null);

    /** Whether the request goes on to its handler. */
    public boolean allowed() {
      return status == 0;
    }
  }

  /**
   * A route rule.
   *
   * @param path a path pattern: {@code *} matches one segment, {@code **} the rest
   * @param role the role the route needs, or {@value #PUBLIC}
   * @param methods the methods it applies to; empty for every mutating method
   */
  @JsonIgnoreProperties(ignoreUnknown = false)
  public record Route(String path, String role, List<String> methods) {

    /** @throws IllegalArgumentException naming what is missing */
    @JsonCreator
    public Route(@JsonProperty("path") String path, @JsonProperty("role") String role,
        @JsonProperty("methods") List<String> methods) {
      if (path == null || !path.startsWith("/")) {
        throw new IllegalArgumentException("security.routes: each route needs a path starting"
            + " with '/', got " + path);
      }
      if (role == null || role.isBlank()) {
        throw new IllegalArgumentException("security.routes: route " + path + " needs a role"
            + " (or 'public')");
      }
      this.path = path;
      this.role = role.strip();
      this.methods = methods == null ? List.of()
          : methods.stream().map(s -> s.toUpperCase(Locale.ROOT)).toList();
    }

    boolean matches(String method, String requestPath) {
      if (!methods.isEmpty() && !methods.contains(method)) {
        return false;
      }
      String[] pattern = segments(path);
      String[] actual = segments(requestPath);
      for (int i = 0; i < pattern.length; i++) {
        if (pattern[i].equals("**")) {
          return true;
        }
        if (i >= actual.length || !(pattern[i].equals("*") || pattern[i].equals(actual[i]))) {
          return false;
        }
      }
      return pattern.length == actual.length;
    }

    private static String[] segments(String p) {
      String trimmed = p.replaceAll("/+", "/").replaceAll("^/|/$", "");
      return trimmed.isEmpty() ? new String[0] : trimmed.split("/");
    }
  }

  /**
   * A configured token. Its value is kept only as a SHA-256 digest and never shown.
   *
   * @param name what logs and answers call it
   * @param roles the roles it grants
   * @param env the variable it was read from, if any
   * @param file the file it was read from, if any
   * @param digest the SHA-256 digest of the value
   */
  public record Token(String name, Set<String> roles, Optional<String> env, Optional<Path> file,
      byte[] digest) {

    /** Copies the roles and the digest. */
    public Token {
      roles = Set.copyOf(roles);
      digest = digest.clone();
    }

    /** A copy of the SHA-256 digest of the value. */
    @Override
    public byte[] digest() {
      return digest.clone();
    }

    /** Never shows the value. */
    @Override
    public String toString() {
      return "Token[name=" + name + ", roles=" + roles.stream().sorted().toList() + ", from="
          + env.map(e -> "env " + e).orElseGet(() -> "file " + file.orElseThrow())
          + ", value=****]";
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Token t && name.equals(t.name) && roles.equals(t.roles)
          && env.equals(t.env) && file.equals(t.file) && MessageDigest.isEqual(digest, t.digest);
    }

    @Override
    public int hashCode() {
      return Objects.hash(name, roles, env, file);
    }
  }

  @JsonIgnoreProperties(ignoreUnknown = false)
  private record Section(List<TokenSpec> tokens, List<Route> routes) {
    @JsonCreator
    Section(@JsonProperty("tokens") List<TokenSpec> tokens,
        @JsonProperty("routes") List<Route> routes) {
      this.tokens = tokens == null ? List.of() : List.copyOf(tokens);
      this.routes = routes == null ? List.of() : List.copyOf(routes);
    }
  }

  @JsonIgnoreProperties(ignoreUnknown = false)
  private record TokenSpec(String name, String env, String file, List<String> roles) {
    @JsonCreator
    TokenSpec(@JsonProperty("name") String name, @JsonProperty("env") String env,
        @JsonProperty("file") String file, @JsonProperty("roles") List<String> roles) {
      this.name = name;
      this.env = env;
      this.file = file;
      this.roles = roles == null ? List.of() : List.copyOf(roles);
    }

    Token resolve(Map<String, String> environment, Path baseDir) {
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException("security.tokens: every token needs a name");
      }
      String where = "security.tokens '" + name + "'";
      if ((env == null) == (file == null)) {
        throw new IllegalArgumentException(where + " needs exactly one of env (a variable"
            + " holding the token) or file (a file holding it)");
      }
      if (roles.isEmpty()) {
        throw new IllegalArgumentException(where + " has no roles: give it roles, e.g. [" + INGEST
            + "] or [" + ADMIN + "]");
      }
      String value;
      Optional<Path> path = Optional.empty();
      if (env != null) {
        value = environment.get(env);
        if (value == null || value.isBlank()) {
          throw new IllegalArgumentException(where + " comes from the environment variable "
              + env + ", which is not set: set it to the token's value");
        }
      } else {
        Path p = Path.of(file);
        if (!p.isAbsolute() && baseDir != null) {
          p = baseDir.resolve(p);
        }
        path = Optional.of(p);
        try {
          value = Files.readString(p);
        } catch (IOException e) {
          throw new IllegalArgumentException(where + " comes from the file " + p + ", which"
              + " cannot be read (" + e.getClass().getSimpleName() + "): create it with the"
              + " token's value", e);
        }
      }
      value = value.strip();
      if (value.length() < MIN_TOKEN_LENGTH) {
        throw new IllegalArgumentException(where + " is " + value.length() + " characters long;"
            + " use at least " + MIN_TOKEN_LENGTH + " random characters (e.g. openssl rand -hex"
            + " 32)");
      }
      return new Token(name.strip(), new LinkedHashSet<>(roles), Optional.ofNullable(env), path,
          sha256(value));
    }
  }
}
