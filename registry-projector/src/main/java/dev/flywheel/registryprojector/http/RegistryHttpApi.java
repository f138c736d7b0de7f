package dev.flywheel.registryprojector.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flywheel.events.AliasState;
import dev.flywheel.events.ModelEvent;
import dev.flywheel.events.ModelRegistryState;
import dev.flywheel.events.ModelVersion;
import dev.flywheel.registryprojector.CurrentStates;
import dev.flywheel.registryprojector.ModelCard;
import dev.flywheel.registryprojector.ModelHistory;
import dev.flywheel.registryprojector.RegistryConfig;
import dev.flywheel.registryprojector.RegistryFold;
import dev.flywheel.registryprojector.RegistryJson;
import dev.flywheel.registryprojector.RegistryUnavailableException;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registry's query API, mounted under {@code /models} on any Javalin server. Current answers
 * come from the projection's state store; answers {@code ?asOf=<time>} (ISO-8601 such as {@code
 * 2026-11-17T14:03:00Z}, or epoch milliseconds) and every history come from replaying the audit
 * log ({@link ModelHistory}).
 *
 * <table>
 *   <caption>Routes</caption>
 *   <tr><td>{@code GET /models}</td><td>every model: versions, latest, aliases, tags</td></tr>
 *   <tr><td>{@code GET /models/{model}}</td><td>the model: versions, aliases, tags</td></tr>
 *   <tr><td>{@code GET /models/{model}/versions}</td><td>its versions</td></tr>
 *   <tr><td>{@code GET /models/{model}/versions/{version}}</td><td>one version</td></tr>
 *   <tr><td>{@code GET /models/{model}/aliases}</td><td>its aliases</td></tr>
 *   <tr><td>{@code GET /models/{model}/aliases/{alias}}</td><td>the version an alias points
 *       at</td></tr>
 *   <tr><td>{@code GET /models/{model}/history}</td><td>the audit events, oldest first;
 *       {@code ?commandId=} filters to one command</td></tr>
 *   <tr><td>{@code GET /models/{model}/versions/{version}/card}</td><td>the model card, JSON, or
 *       Markdown with {@code ?format=markdown} or {@code Accept: text/markdown}</td></tr>
 * </table>
 *
 * <p>Errors are JSON {@code {"error": "..."}} saying what to fix: 400 for a bad {@code asOf} or
 * version, 404 for an unknown model, version or alias, 503 while the state or history is being
 * rebuilt.
 */
public final class RegistryHttpApi {

  /** JSON content type. */
  public static final String JSON_TYPE = "application/json";

  /** Markdown content type of model cards. */
  public static final String MARKDOWN_TYPE = "text/markdown; charset=utf-8";

  private static final Logger log = LoggerFactory.getLogger(RegistryHttpApi.class);
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  private final CurrentStates current;
  private final ModelHistory history;
  private final RegistryConfig config;
  private final BooleanSupplier historyReady;

  /**
   * @param current the current states (the projection's store)
   * @param history the replayed audit log
   * @param config the policies (shown on model cards)
   * @param historyReady whether the history has caught up with the audit log
   */
  public RegistryHttpApi(CurrentStates current, ModelHistory history, RegistryConfig config,
      BooleanSupplier historyReady) {
    this.current = Objects.requireNonNull(current, "current");
    this.history = Objects.requireNonNull(history, "history");
    this.config = Objects.requireNonNull(config, "config");
    this.historyReady = Objects.requireNonNull(historyReady, "historyReady");
  }

  /** Adds the routes to a Javalin configuration. */
  public void routes(RoutesConfig routes) {
    routes(routes, () -> this);
  }

  /**
   * Adds the routes, each answered by the API {@code api} supplies when the request arrives, or
   * 503 while it supplies null (the service has not started, or has stopped).
   */
  public static void routes(RoutesConfig routes, Supplier<RegistryHttpApi> api) {
    routes.get("/models", handler(api, RegistryHttpApi::list));
    routes.get("/models/{model}", handler(api, RegistryHttpApi::show));
    routes.get("/models/{model}/versions", handler(api, RegistryHttpApi::versions));
    routes.get("/models/{model}/versions/{version}", handler(api, RegistryHttpApi::version));
    routes.get("/models/{model}/versions/{version}/card", handler(api, RegistryHttpApi::card));
    routes.get("/models/{model}/aliases", handler(api, RegistryHttpApi::aliases));
    routes.get("/models/{model}/aliases/{alias}", handler(api, RegistryHttpApi::alias));
    routes.get("/models/{model}/history", handler(api, RegistryHttpApi::history));
  }

  private static Handler handler(Supplier<RegistryHttpApi> api,
      BiConsumer<RegistryHttpApi, Context> route) {
    return ctx -> {
      RegistryHttpApi a = api.get();
      if (a == null) {
        error(ctx, 503, "the registry projector is not running; start it, or retry shortly");
        return;
      }
      try {
        route.accept(a, ctx);
      } catch (BadRequest e) {
        error(ctx, e.status, e.getMessage());
      } catch (RegistryUnavailableException e) {
        error(ctx, 503, e.getMessage());
      } catch (RuntimeException e) {
        log.error("{} {} failed", ctx.method(), ctx.path(), e);
        error(ctx, 500, "internal error: " + e.getClass().getSimpleName() + ": "
            + e.getMessage());
      }
    };
  }

  // ------------------------------------------------------------------------------------ routes

  private void list(Context ctx) {
    Instant asOf = asOf(ctx);
    ArrayNode out = F.arrayNode();
    if (asOf == null) {
      current.all().forEach(s -> out.add(RegistryJson.summary(s)));
    } else {
      for (String m : history.models(asOf)) {
        history.stateAt(m, asOf).ifPresent(s -> out.add(RegistryJson.summary(s)));
      }
    }
    json(ctx, out);
  }

  private void show(Context ctx) {
    json(ctx, RegistryJson.model(state(ctx)));
  }

  private void versions(Context ctx) {
    ModelRegistryState s = state(ctx);
    ArrayNode out = F.arrayNode();
    s.getVersions().forEach(v -> out.add(RegistryJson.version(s, v)));
    json(ctx, out);
  }

  private void version(Context ctx) {
    ModelRegistryState s = state(ctx, versionNumber(ctx));
    json(ctx, RegistryJson.version(s, version(ctx, s)));
  }

  private void aliases(Context ctx) {
    json(ctx, RegistryJson.of(state(ctx).getAliases()));
  }

  private void alias(Context ctx) {
    ModelRegistryState s = state(ctx);
    String name = ctx.pathParam("alias");
    AliasState a = RegistryFold.alias(s, name).orElseThrow(() -> new BadRequest(404,
        "model " + s.getModel() + " has no alias '" + name + "'" + aliasNames(s)));
    ObjectNode out = (ObjectNode) RegistryJson.of(a);
    out.set("model_version", RegistryJson.version(s,
        RegistryFold.version(s, a.getVersion()).orElseThrow()));
    json(ctx, out);
  }

  private void history(Context ctx) {
    String model = ctx.pathParam("model");
    Instant asOf = asOf(ctx);
    requireHistory();
    List<ModelEvent> events = history.history(model, asOf);
    if (events.isEmpty() && history.history(model, null).isEmpty()) {
      // a model with only rejected commands has no state but has a history: its rejections
      throw unknownModel(model);
    }
    String commandId = ctx.queryParam("commandId");
    ArrayNode out = F.arrayNode();
    for (ModelEvent e : events) {
      if (commandId == null || commandId.equals(e.getCommandId())
          || commandId.equals(e.getCausedBy())) {
        out.add(RegistryJson.event(e));
      }
    }
    json(ctx, out);
  }

  private void card(Context ctx) {
    String model = ctx.pathParam("model");
    Instant asOf = asOf(ctx);
    requireHistory();
    ModelRegistryState s = asOf == null
        ? current.get(model, versionNumber(ctx)).orElseThrow(() -> unknownModel(model))
        : history.stateAt(model, asOf).orElseThrow(() -> unknownModelAt(model, asOf));
    ModelVersion v = version(ctx, s);
    List<ModelEvent> events = history.history(model, asOf == null ? s.getEventTime() : asOf);
    String format = ctx.queryParam("format");
    String accept = ctx.header("Accept");
    boolean markdown = "markdown".equalsIgnoreCase(format) || "md".equalsIgnoreCase(format)
        || format == null && accept != null && accept.contains("text/markdown");
    if (format != null && !markdown && !"json".equalsIgnoreCase(format)) {
      throw new BadRequest(400, "format '" + format + "' is not known; use json or markdown");
    }
    if (markdown) {
      ctx.status(200).contentType(MARKDOWN_TYPE).result(ModelCard.markdown(s, v, events,
          config.policy(model)).getBytes(StandardCharsets.UTF_8));
    } else {
      json(ctx, ModelCard.json(s, v, events, config.policy(model)));
    }
  }

  // ----------------------------------------------------------------------------------- helpers

  private ModelRegistryState state(Context ctx) {
    return state(ctx, null);
  }

  /** The state, with {@code version} in full (every version when null). */
  private ModelRegistryState state(Context ctx, Integer version) {
    String model = ctx.pathParam("model");
    Instant asOf = asOf(ctx);
    if (asOf == null) {
      return (version == null ? current.get(model) : current.get(model, version))
          .orElseThrow(() -> unknownModel(model));
    }
    requireHistory();
    return history.stateAt(model, asOf).orElseThrow(() -> unknownModelAt(model, asOf));
  }

  private void requireHistory() {
    if (!historyReady.getAsBoolean()) {
      throw new RegistryUnavailableException("the registry is still replaying the audit log"
          + " for history and asOf queries; retry in a few seconds", null);
    }
  }

  private static int versionNumber(Context ctx) {
    String raw = ctx.pathParam("version");
    try {
      return Integer.parseInt(raw);
    } catch (NumberFormatException e) {
      throw new BadRequest(400, "version '" + raw + "' is not a number; use a version number"
          + " such as 3");
    }
  }

  private static ModelVersion version(Context ctx, ModelRegistryState s) {
    int number = versionNumber(ctx);
    return RegistryFold.version(s, number).orElseThrow(() -> new BadRequest(404, "version "
        + number + " of " + s.getModel() + " does not exist"
        + (s.getVersions().isEmpty() ? " (no version is registered)"
            : " (versions 1 to " + RegistryFold.latestVersion(s) + ")")));
  }

  private static Instant asOf(Context ctx) {
    String raw = ctx.queryParam("asOf");
    if (raw == null || raw.isBlank()) {
      return null;
    }
    return parseTime(raw.trim());
  }

  /**
   * Parses an {@code asOf}: an ISO-8601 instant or epoch milliseconds.
   *
   * @throws IllegalArgumentException saying the accepted forms
   */
  public static Instant parseTime(String raw) {
    try {
      if (raw.chars().allMatch(Character::isDigit)) {
        return Instant.ofEpochMilli(Long.parseLong(raw));
      }
      return Instant.parse(raw);
    } catch (DateTimeParseException | NumberFormatException e) {
      throw new BadRequest(400, "asOf '" + raw + "' is not a time; give an ISO-8601 instant"
          + " such as 2026-11-17T14:03:00Z, or epoch milliseconds");
    }
  }

  private static BadRequest unknownModel(String model) {
    return new BadRequest(404, "model '" + model + "' is not in the registry: no version of it"
        + " has been registered yet. A model declared in flywheel.yaml gets its first version"
        + " when a training run completes (flywheel watch training.runs shows each run"
        + " and why one failed); otherwise register one. GET /models lists the models");
  }

  private static BadRequest unknownModelAt(String model, Instant asOf) {
    return new BadRequest(404, "model '" + model + "' had no history at " + asOf);
  }

  private static String aliasNames(ModelRegistryState s) {
    if (s.getAliases().isEmpty()) {
      return " (it has none)";
    }
    StringBuilder b = new StringBuilder(" (its aliases: ");
    for (int i = 0; i < s.getAliases().size(); i++) {
      b.append(i == 0 ? "" : ", ").append(s.getAliases().get(i).getAlias());
    }
    return b.append(')').toString();
  }

  private static void json(Context ctx, JsonNode body) {
    ctx.status(200).contentType(JSON_TYPE)
        .result(RegistryJson.write(body).getBytes(StandardCharsets.UTF_8));
  }

  private static void error(Context ctx, int status, String message) {
    ObjectNode body = F.objectNode().put("error", message);
    ctx.status(status).contentType(JSON_TYPE)
        .result(RegistryJson.write(body).getBytes(StandardCharsets.UTF_8));
  }

  /** A request the API answers with a 4xx. */
  static final class BadRequest extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    final int status;

    BadRequest(int status, String message) {
      super(message);
      this.status = status;
    }
  }
}
