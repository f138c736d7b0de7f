package dev.flywheel.servingsink.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flywheel.events.Prediction;
import dev.flywheel.events.ScoringMode;
import dev.flywheel.servingsink.Predictions;
import dev.flywheel.servingsink.ServingMetrics;
import dev.flywheel.servingsink.model.ServedModel;
import dev.flywheel.servingsink.model.ServedModels;
import dev.flywheel.text.KeyHints;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /predict/{model}}: scores one row or a batch with the version served under an alias
 * ({@code ?alias=}, default {@code champion}) and answers with the version that scored.
 *
 * <p>Each instance is either {@code {"entity": "card-7"}} — the features are fetched from the
 * online store, for the model's feature group — or {@code {"features": {"amount": 12.5, ...}}}
 * with every input of the model (null for undefined), optionally with {@code "entity"} and
 * {@code "eventId"}. A request is one instance, or {@code {"instances": [...]}} (at most
 * {@value #MAX_BATCH}). One version scores the whole request, even across a swap. Any other key,
 * at the top level or in an instance, is refused with a 400 naming it, the accepted key it is
 * closest to and the accepted keys: a misspelt {@code "feature"} must not quietly score by entity.
 *
 * <pre>{@code
 * POST /predict/fraud {"entity": "card-7"}
 * 200 {"model": "fraud", "alias": "champion", "version": 3, "entity": "card-7", "score": 0.91,
 *      "decision": true, "threshold": 0.5, "featuresFound": true, "eventId": "http:...",
 *      "predictionId": "...", "latencyMicros": 41}
 * }</pre>
 *
 * <p>Every answer's predictions are also emitted to {@code flywheel.predictions} ({@code
 * scoring_mode = HTTP}); when a challenger is served, it scores the same rows and its shadow
 * predictions are emitted too (never answered). The challenger scores on a thread of its own after
 * the answer is computed, so its latency is never added to the champion's answer; when {@value
 * #SHADOW_QUEUE} requests already wait for it behind the one it scores, a request is not
 * shadow-scored and is counted ({@code flywheel.serving.unscored{reason=shadow_busy}}). Errors are JSON {@code
 * {"error": "..."}}: 400 for a request to fix, 404 for a model not served here, 413 for a body
 * over the server's limit, 503 when the online store cannot answer. {@link #close()} stops the
 * shadow thread.
 */
public final class PredictHttpApi implements AutoCloseable {

  /** The route. */
  public static final String PATH = "/predict/{model}";

  /** Most instances in one request. */
  public static final int MAX_BATCH = 1_000;

  /** The most requests waiting for the challenger's shadow scoring. */
  static final int SHADOW_QUEUE = 64;

  /** The keys of one instance, alone or in {@code "instances"}. */
  private static final Set<String> INSTANCE_KEYS = sortedSet("entity", "eventId", "features");

  /** The keys of a request of one instance: an instance's, or {@code "instances"}. */
  private static final Set<String> REQUEST_KEYS =
      sortedSet("entity", "eventId", "features", "instances");

  /** The keys of a batch: {@code "instances"} alone. */
  private static final Set<String> BATCH_KEYS = sortedSet("instances");

  private static final Logger log = LoggerFactory.getLogger(PredictHttpApi.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ServedModels served;
  private final Optional<OnlineFeatures> online;
  private final Consumer<Prediction> emitter;
  private final ServingMetrics metrics;
  private final ThreadPoolExecutor shadows;

  /**
   * @param online the online store; empty when only explicit features are accepted
   * @param emitter where predictions go (to {@code flywheel.predictions}); must not block long
   */
  public PredictHttpApi(ServedModels served, Optional<OnlineFeatures> online,
      Consumer<Prediction> emitter, ServingMetrics metrics) {
    this.served = Objects.requireNonNull(served, "served");
    this.online = Objects.requireNonNull(online, "online");
    this.emitter = Objects.requireNonNull(emitter, "emitter");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    this.shadows = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS,
        new ArrayBlockingQueue<>(SHADOW_QUEUE), task -> {
          Thread thread = new Thread(task, "flywheel-serving-shadow");
          thread.setDaemon(true);
          return thread;
        }, new ThreadPoolExecutor.AbortPolicy());
  }

  /**
   * Stops the shadow thread: requests waiting for it are not shadow-scored, and their challenger
   * leases are released; the one being scored is waited for a moment (its predictions go to the
   * emitter, which closes after this). Idempotent.
   */
  @Override
  public void close() {
    for (Runnable waiting : shadows.shutdownNow()) {
      if (waiting instanceof ShadowTask task) {
        task.challenger.release();
      }
    }
    try {
      if (!shadows.awaitTermination(2, TimeUnit.SECONDS)) {
        log.warn("the challenger is still scoring an HTTP request; its shadow predictions may"
            + " not be written");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Mounts {@code POST /predict/{model}}. */
  public void routes(RoutesConfig routes) {
    routes.post(PATH, this::predict);
  }

  private record Instance(String entity, String eventId, Map<String, Double> features,
      Map<String, String> categorical, Boolean found) {}

  /** A request the caller must fix. */
  private static final class BadRequest extends Exception {
    private final int status;

    BadRequest(int status, String message) {
      super(message);
      this.status = status;
    }
  }

  private void predict(Context ctx) {
    String modelName = ctx.pathParam("model");
    String alias = Optional.ofNullable(ctx.queryParam("alias")).orElse(Predictions.CHAMPION);
    Optional<ServedModel> leased = served.acquire(modelName, alias);
    if (leased.isEmpty()) {
      error(ctx, 404, "model '" + modelName + "' has no version served under alias '" + alias
          + "' here; served: " + served.peekAll().values());
      return;
    }
    ServedModel model = leased.get();
    Optional<ServedModel> shadow = Predictions.CHAMPION.equals(alias)
        ? served.acquire(modelName, Predictions.CHALLENGER) : Optional.empty();
    try {
      JsonNode body;
      try {
        body = JSON.readTree(ctx.bodyAsBytes());
      } catch (JsonProcessingException e) {
        throw new BadRequest(400, "the body is not JSON (" + e.getOriginalMessage()
            + (e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr()
                + ", column " + e.getLocation().getColumnNr()) + ")");
      } catch (HttpResponseException e) {
        // Javalin refuses a body over the server's maxRequestSize with 413
        throw new BadRequest(e.getStatus(), e.getStatus() != 413 ? e.getMessage() : "the body"
            + (ctx.contentLength() < 0 ? "" : " (" + ctx.contentLength() + " bytes)")
            + " is larger than this server accepts (" + e.getMessage() + "): send fewer"
            + " instances per request");
      } catch (IOException e) {
        throw new BadRequest(400, "the body cannot be read: " + e.getMessage());
      }
      if (body == null || !body.isObject()) {
        throw new BadRequest(400, "send a JSON object: {\"entity\": \"...\"}, {\"features\":"
            + " {...}} or {\"instances\": [...]}");
      }
      boolean batch = body.has("instances");
      if (batch) {
        refuseUnknownKeys(body, BATCH_KEYS, "", "a batch accepts only \"instances\" at the top"
            + " level; each instance accepts " + quoted(INSTANCE_KEYS));
      } else {
        refuseUnknownKeys(body, REQUEST_KEYS, "", "a request accepts " + quoted(INSTANCE_KEYS)
            + ", or \"instances\" for a batch");
      }
      List<JsonNode> nodes = new ArrayList<>();
      if (batch) {
        if (!body.get("instances").isArray()) {
          throw new BadRequest(400, "\"instances\" must be an array");
        }
        body.get("instances").forEach(nodes::add);
        if (nodes.isEmpty() || nodes.size() > MAX_BATCH) {
          throw new BadRequest(400, "\"instances\" must hold 1 to " + MAX_BATCH
              + " instances, got " + nodes.size());
        }
      } else {
        nodes.add(body);
      }
      List<Instance> instances = resolve(model, nodes, batch);
      List<Map<String, Double>> rows = new ArrayList<>(instances.size());
      instances.forEach(i -> rows.add(i.features()));
      long begin = System.nanoTime();
      double[] scores = model.score(rows);
      long nanos = System.nanoTime() - begin;
      metrics.latency(model, "http", nanos, rows.size());
      metrics.predictions(model, "http", false, rows.size());
      long micros = nanos / rows.size() / 1_000;
      ArrayNode answers = JSON.createArrayNode();
      Instant now = Instant.now();
      for (int i = 0; i < instances.size(); i++) {
        Instance in = instances.get(i);
        Prediction p = Predictions.of(model, in.eventId(), now, in.entity(),
            model.featureGroup(), in.features(), in.categorical(), scores[i], micros,
            ScoringMode.HTTP, null);
        emitter.accept(p);
        answers.add(answer(p, in.found()));
      }
      if (shadow.isPresent()) {
        // scored after the answer, on the shadow thread, which releases the challenger
        ServedModel challenger = shadow.get();
        shadow = Optional.empty();
        ShadowTask task = new ShadowTask(challenger, model, instances, rows, now);
        try {
          shadows.execute(task);
        } catch (RejectedExecutionException e) {
          if (!shadows.isShutdown()) {
            metrics.unscored("shadow_busy", rows.size());
          }
          challenger.release();
        }
      }
      ObjectNode response;
      if (batch) {
        response = JSON.createObjectNode();
        response.put("model", model.model());
        response.put("alias", model.alias());
        response.put("version", model.version());
        response.set("predictions", answers);
      } else {
        response = (ObjectNode) answers.get(0);
      }
      ctx.status(200).contentType("application/json");
      // straight to the response stream: result(bytes) copies through a fresh 32 KiB buffer
      ctx.outputStream().write(JSON.writeValueAsBytes(response));
    } catch (BadRequest e) {
      error(ctx, e.status, e.getMessage());
    } catch (OnlineFeatures.FeaturesUnavailableException e) {
      ctx.header("Retry-After", "1");
      error(ctx, 503, e.getMessage());
    } catch (OnlineFeatures.UnknownGroupException | OnlineFeatures.LookupRejectedException e) {
      error(ctx, 502, model + " reads feature group '" + model.featureGroup() + "', but "
          + e.getMessage());
    } catch (IOException | RuntimeException e) {
      log.warn("{} failed to answer /predict", model, e);
      error(ctx, 500, model + " failed to score: " + e.getMessage());
    } finally {
      model.release();
      shadow.ifPresent(ServedModel::release);
    }
  }

  private List<Instance> resolve(ServedModel model, List<JsonNode> nodes, boolean batch)
      throws BadRequest {
    List<Instance> out = new ArrayList<>(nodes.size());
    List<Integer> lookups = new ArrayList<>();
    List<String> entities = new ArrayList<>();
    for (int i = 0; i < nodes.size(); i++) {
      JsonNode n = nodes.get(i);
      String where = batch ? "instance " + i + ": " : "";
      if (!n.isObject()) {
        throw new BadRequest(400, where + "each instance must be a JSON object");
      }
      if (batch) {
        refuseUnknownKeys(n, INSTANCE_KEYS, where, "an instance accepts "
            + quoted(INSTANCE_KEYS));
      }
      String entity = n.hasNonNull("entity") ? n.get("entity").asText() : null;
      String eventId = n.hasNonNull("eventId") ? n.get("eventId").asText()
          : "http:" + UUID.randomUUID();
      if (n.has("features")) {
        JsonNode f = n.get("features");
        if (!f.isObject()) {
          throw new BadRequest(400, where + "\"features\" must be an object of name to number");
        }
        Map<String, Double> features = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = f.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> e = it.next();
          if (e.getValue().isNull()) {
            features.put(e.getKey(), null);
          } else if (e.getValue().isNumber()) {
            features.put(e.getKey(), e.getValue().doubleValue());
          } else {
            throw new BadRequest(400, where + "feature '" + e.getKey() + "' is "
                + e.getValue() + "; send a number, or null when undefined");
          }
        }
        TreeSet<String> missing = new TreeSet<>(model.inputs());
        missing.removeAll(features.keySet());
        if (!missing.isEmpty()) {
          TreeSet<String> notInputs = new TreeSet<>(features.keySet());
          notInputs.removeAll(model.inputs());
          throw new BadRequest(400, where + "features lack input(s) " + missing + " of " + model
              + "; send every input " + model.inputs() + ", null for an undefined one"
              + (notInputs.isEmpty() ? "" : "; " + notInputs + " " + (notInputs.size() == 1
                  ? "is not an input" : "are not inputs") + " of the model"));
        }
        out.add(new Instance(entity == null ? "" : entity, eventId, features, Map.of(), null));
      } else if (entity != null) {
        if (online.isEmpty()) {
          throw new BadRequest(400, where + "this instance has no online store configured"
              + " (servingSink.featureLookupUrl); send \"features\" instead of \"entity\"");
        }
        lookups.add(i);
        entities.add(entity);
        out.add(new Instance(entity, eventId, null, null, null));
      } else {
        throw new BadRequest(400, where + "send \"entity\" (features from the online store) or"
            + " \"features\" (every input of " + model + ")");
      }
    }
    if (!lookups.isEmpty()) {
      List<OnlineFeatures.Row> rows = online.get().fetch(model.featureGroup(), entities);
      for (int k = 0; k < lookups.size(); k++) {
        Instance was = out.get(lookups.get(k));
        OnlineFeatures.Row row = rows.get(k);
        out.set(lookups.get(k), new Instance(was.entity(), was.eventId(), row.features(),
            row.categorical(), row.found()));
      }
    }
    return out;
  }

  /** A request's rows waiting for the challenger's shadow scoring; releases its lease when run. */
  private final class ShadowTask implements Runnable {
    private final ServedModel challenger;
    private final ServedModel champion;
    private final List<Instance> instances;
    private final List<Map<String, Double>> rows;
    private final Instant now;

    ShadowTask(ServedModel challenger, ServedModel champion, List<Instance> instances,
        List<Map<String, Double>> rows, Instant now) {
      this.challenger = challenger;
      this.champion = champion;
      this.instances = instances;
      this.rows = rows;
      this.now = now;
    }

    @Override
    public void run() {
      try {
        shadowScore(challenger, champion, instances, rows, now);
      } finally {
        challenger.release();
      }
    }
  }

  private void shadowScore(ServedModel challenger, ServedModel champion, List<Instance> instances,
      List<Map<String, Double>> rows, Instant now) {
    // the rows were resolved for the champion: a challenger of another feature group, or with an
    // input they lack, would score NaN for it and bias the comparison, so it does not score them
    boolean lookedUp = instances.stream().anyMatch(in -> in.found() != null);
    if (lookedUp && !challenger.featureGroup().equals(champion.featureGroup())
        || rows.stream().anyMatch(r -> r == null || !r.keySet().containsAll(challenger.inputs()))) {
      metrics.unscored("shadow_inputs_missing", rows.size());
      return;
    }
    try {
      long begin = System.nanoTime();
      double[] scores = challenger.score(rows);
      long nanos = System.nanoTime() - begin;
      metrics.latency(challenger, "http", nanos, rows.size());
      metrics.predictions(challenger, "http", true, rows.size());
      for (int i = 0; i < instances.size(); i++) {
        Instance in = instances.get(i);
        emitter.accept(Predictions.of(challenger, in.eventId(), now, in.entity(),
            challenger.featureGroup(), in.features(), in.categorical(), scores[i],
            nanos / rows.size() / 1_000, ScoringMode.HTTP, null));
      }
    } catch (RuntimeException e) {
      log.debug("shadow {} failed to score an HTTP request", challenger, e);
    }
  }

  /**
   * Refuses the first key of {@code node} that is not in {@code accepted}: {@code unknown key
   * 'feature'; did you mean 'features'? a request accepts ...}.
   */
  private static void refuseUnknownKeys(JsonNode node, Set<String> accepted, String where,
      String acceptedKeys) throws BadRequest {
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      if (!accepted.contains(key)) {
        throw new BadRequest(400, where + "unknown key '" + key + "'"
            + KeyHints.didYouMean(key, accepted)
            + "; " + acceptedKeys);
      }
    }
  }

  /** {@code "entity", "eventId" and "features"}. */
  private static String quoted(Set<String> keys) {
    List<String> q = keys.stream().map(k -> "\"" + k + "\"").toList();
    return q.size() == 1 ? q.get(0) : String.join(", ", q.subList(0, q.size() - 1)) + " and "
        + q.get(q.size() - 1);
  }

  private static Set<String> sortedSet(String... keys) {
    return Collections.unmodifiableSet(new TreeSet<>(List.of(keys)));
  }

  private static ObjectNode answer(Prediction p, Boolean found) {
    ObjectNode node = JSON.createObjectNode();
    node.put("model", p.getModel());
    node.put("alias", p.getAlias());
    node.put("version", p.getVersion());
    if (p.getEntityId().isEmpty()) {
      node.putNull("entity"); // features given explicitly, with no entity named
    } else {
      node.put("entity", p.getEntityId());
    }
    node.put("score", p.getScore());
    if (p.getDecision() == null) {
      node.putNull("decision");
    } else {
      node.put("decision", p.getDecision());
    }
    if (p.getThreshold() == null) {
      node.putNull("threshold");
    } else {
      node.put("threshold", p.getThreshold());
    }
    if (found == null) {
      node.putNull("featuresFound");
    } else {
      node.put("featuresFound", found);
    }
    node.put("eventId", p.getEventId());
    node.put("predictionId", p.getPredictionId());
    node.put("latencyMicros", p.getLatencyMicros());
    return node;
  }

  private static void error(Context ctx, int status, String message) {
    ObjectNode node = JSON.createObjectNode();
    node.put("error", message);
    ctx.status(status).contentType("application/json").result(node.toString());
  }
}
