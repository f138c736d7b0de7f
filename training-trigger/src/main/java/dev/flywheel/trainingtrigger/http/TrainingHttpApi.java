package dev.flywheel.trainingtrigger.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flywheel.events.TrainingRequested;
import dev.flywheel.trainingtrigger.ManualRequests;
import dev.flywheel.trainingtrigger.config.TrainingTriggerConfig;
import dev.flywheel.trainingtrigger.config.XGBoostParams;
import dev.flywheel.trainingtrigger.coordination.ParamOverrides;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The HTTP route of training-trigger: {@code POST /models/{model}/train} with an optional JSON
 * body {@code {"reason": "...", "actor": "alice", "params": {"max_depth": 8}}} writes a MANUAL
 * {@code TrainingRequested} and answers 202 {@code {"requestId", "model"}} once the broker has it.
 * An unknown model answers 404 listing the declared ones; a model declared without featureGroup
 * (trained outside Flywheel) 409 saying so and what to add to have it trained; a malformed body,
 * parameter overrides beyond the bound of {@link ParamOverrides}, or one the model's XGBoost
 * trainer does not know, 400 saying what to fix; a broker that does not acknowledge in time 503.
 */
public final class TrainingHttpApi {

  private static final ObjectMapper JSON = new ObjectMapper();
  /** The fields a train request's body may hold. */
  private static final List<String> BODY_FIELDS = List.of("reason", "actor", "params");

  private final TrainingTriggerConfig config;
  private final Function<TrainingRequested, String> send;
  private final Clock clock;

  /**
   * @param config the declared models
   * @param send writes a request and returns null, or an error message when it could not
   * @param clock the request time
   */
  public TrainingHttpApi(TrainingTriggerConfig config, Function<TrainingRequested, String> send,
      Clock clock) {
    this.config = config;
    this.send = send;
    this.clock = clock;
  }

  /** Adds the routes. */
  public void routes(RoutesConfig routes) {
    routes.post("/models/{model}/train", this::train);
  }

  private static void reply(Context ctx, int status, Map<String, ?> body) {
    try {
      ctx.status(status).contentType("application/json").result(JSON.writeValueAsBytes(body));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private void train(Context ctx) {
    String model = ctx.pathParam("model");
    if (config.isExternal(model)) {
      reply(ctx, 409, Map.of("error", TrainingTriggerConfig.externalRefusal(model)));
      return;
    }
    if (config.model(model).isEmpty()) {
      reply(ctx, 404, Map.of("error", "no model '" + model + "' is declared under models:"
          + " in flywheel.yaml; declared: " + config.models().keySet()));
      return;
    }
    String reason = null;
    String actor = null;
    Map<String, String> params = new TreeMap<>();
    String body = ctx.body();
    if (!body.isBlank()) {
      JsonNode n;
      try {
        n = JSON.readTree(body);
      } catch (JsonProcessingException e) {
        reply(ctx, 400, Map.of("error", "the body is not JSON (" + e.getOriginalMessage()
            + (e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr()
                + ", column " + e.getLocation().getColumnNr())
            + "); send e.g. {\"reason\": \"new features\", \"params\": {\"max_depth\": 8}}"));
        return;
      } catch (IOException e) {
        reply(ctx, 400, Map.of("error", "the body cannot be read: " + e.getMessage()));
        return;
      }
      if (!n.isObject()) {
        reply(ctx, 400, Map.of("error", "the body must be a JSON object such as"
            + " {\"reason\": \"new features\"}"));
        return;
      }
      List<String> unknown = new ArrayList<>();
      n.fieldNames().forEachRemaining(f -> {
        if (!BODY_FIELDS.contains(f)) {
          unknown.add(f);
        }
      });
      if (!unknown.isEmpty()) {
        reply(ctx, 400, Map.of("error", "unknown field(s) " + unknown + " in the body; it takes "
            + BODY_FIELDS + ", e.g. {\"reason\": \"new features\", \"actor\": \"alice\"}"));
        return;
      }
      if (n.hasNonNull("reason")) {
        reason = n.get("reason").asText();
      }
      if (n.hasNonNull("actor")) {
        actor = n.get("actor").asText();
      }
      JsonNode p = n.get("params");
      if (p != null && !p.isNull()) {
        if (!p.isObject()) {
          reply(ctx, 400, Map.of("error", "\"params\" must be an object of parameter"
              + " names to values, e.g. {\"max_depth\": 8}"));
          return;
        }
        for (var it = p.fields(); it.hasNext(); ) {
          var e = it.next();
          if (e.getValue().isNull() || e.getValue().isContainerNode()) {
            // null would be trained as the string "null"; leave the parameter out to keep the
            // model's value
            reply(ctx, 400, Map.of("error", "\"params\".\"" + e.getKey() + "\" must be a number,"
                + " a string or a boolean, not " + (e.getValue().isNull() ? "null" : "an "
                + e.getValue().getNodeType().name().toLowerCase(java.util.Locale.ROOT))
                + "; leave it out to keep the value flywheel.yaml sets"));
            return;
          }
          params.put(e.getKey(), e.getValue().isTextual() ? e.getValue().asText()
              : e.getValue().toString());
        }
      }
    }
    String overrides = ParamOverrides.problem("\"params\"", model, params);
    if (overrides != null) {
      reply(ctx, 400, Map.of("error", overrides));
      return;
    }
    List<String> unknownParams = config.model(model).orElseThrow().training()
        .unknownParams(params);
    if (!unknownParams.isEmpty()) {
      reply(ctx, 400, Map.of("error", XGBoostParams.problem("\"params\"", unknownParams)
          + "; models[" + model + "].training.allowUnknownParams: true in flywheel.yaml passes"
          + " such a parameter on"));
      return;
    }
    TrainingRequested request = ManualRequests.of(model, reason, actor, params, clock.instant());
    String error = send.apply(request);
    if (error != null) {
      reply(ctx, 503, Map.of("error", error));
      return;
    }
    Map<String, Object> answer = new LinkedHashMap<>();
    answer.put("requestId", request.getEventId());
    answer.put("model", model);
    reply(ctx, 202, answer);
  }
}
