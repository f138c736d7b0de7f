package dev.flywheel.servingsink;

import dev.flywheel.events.Prediction;
import dev.flywheel.events.RegistryCommand;
import dev.flywheel.servingsink.follow.ModelSwapper;
import dev.flywheel.servingsink.follow.PromotionFollower;
import dev.flywheel.servingsink.follow.RefusalReporter;
import dev.flywheel.servingsink.follow.RegistryCommandReporter;
import dev.flywheel.servingsink.follow.ServingStatus;
import dev.flywheel.servingsink.http.HttpOnlineFeatures;
import dev.flywheel.servingsink.http.OnlineFeatures;
import dev.flywheel.servingsink.http.PredictHttpApi;
import dev.flywheel.servingsink.model.FeatureGroups;
import dev.flywheel.servingsink.model.ModelLoader;
import dev.flywheel.servingsink.model.ServedModel;
import dev.flywheel.servingsink.model.ServedModels;
import dev.flywheel.servingsink.stream.StreamScorer;
import dev.flywheel.topics.ProducerSettings;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.TopicBootstrap;
import dev.flywheel.topics.Topics;
import io.javalin.config.RoutesConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The serving sink: follows promotions, hot-swaps verified models, scores {@code
 * flywheel.features} into {@code flywheel.predictions} exactly once, and answers {@code POST
 * /predict/{model}}.
 *
 * <pre>{@code
 * try (ServingSinkService serving = ServingSinkService.builder()
 *     .config(ServingSinkConfig.load(Path.of("flywheel.yaml")))
 *     .kafka(Map.of("bootstrap.servers", "127.0.0.1:9092"))
 *     .topics(topics)                 // the catalogue, on dev.flywheel.serde.AvroSerdes
 *     .meters(meterRegistry)          // e.g. the runtime's PrometheusMeterRegistry
 *     .build()
 *     .start()) {                     // returns once the current versions serve
 *   javalinConfig.routes(serving::routes);
 * }
 * }</pre>
 *
 * <p>{@link #start()} creates the topics it uses when missing, reads {@code
 * flywheel.model.promoted} and {@code flywheel.registry.state} to their end and loads the
 * versions they name, and only then starts scoring the stream — so the first prediction after a
 * start or a restart comes from the current champion. {@link #close()} stops scoring after the
 * micro-batch in flight, then following, then releases the models. Idempotent.
 */
public final class ServingSinkService implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ServingSinkService.class);

  /** The aliases served: the champion decides, the challenger scores in shadow. */
  public static final Set<String> ALIASES = Set.of(Predictions.CHAMPION, Predictions.CHALLENGER);

  private final ServingSinkConfig config;
  private final Map<String, Object> kafka;
  private final Topics topics;
  private final ServingMetrics metrics;
  private final MeterRegistry meters;
  private final List<KafkaClientMetrics> clientMetrics = new ArrayList<>();
  private final Optional<OnlineFeatures> online;
  /** The lookup client made from {@code featureLookupUrl}, closed with the service. */
  private final HttpOnlineFeatures ownLookup;
  private final FeatureGroups featureGroups;
  private final ServedModels served = new ServedModels();
  private final ServingStatus status = new ServingStatus();

  private Producer<String, RegistryCommand> commandProducer;
  private Producer<String, Prediction> httpProducer;
  private PromotionFollower follower;
  private StreamScorer scorer;
  private PredictHttpApi api;
  private boolean started;
  private boolean closed;

  private ServingSinkService(Builder b) {
    this.config = b.config;
    this.kafka = Map.copyOf(b.kafka);
    this.topics = b.topics;
    this.metrics = new ServingMetrics(b.meters);
    this.meters = b.meters;
    this.ownLookup = b.online == null && config.featureLookupUrl() != null
        ? new HttpOnlineFeatures(config.featureLookupUrl(), config.featureLookupTimeout()) : null;
    this.online = b.online != null ? Optional.of(b.online) : Optional.ofNullable(ownLookup);
    List<FeatureGroups> sources = new ArrayList<>();
    if (b.featureGroups != null) {
      sources.add(b.featureGroups);
    }
    sources.add(FeatureGroups.of(config.featureGroups()));
    online.ifPresent(o -> sources.add(o::featureNames));
    this.featureGroups = FeatureGroups.firstOf(sources);
  }

  /** A builder; config, kafka, topics and meters are required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Creates missing topics, serves the current versions, then starts following promotions and
   * scoring the stream.
   *
   * @throws IllegalStateException when started twice, or the promotions cannot be read in time
   */
  public synchronized ServingSinkService start() {
    if (started || closed) {
      throw new IllegalStateException("the serving sink starts once");
    }
    started = true;
    try {
      try (Admin admin = Admin.create(kafka)) {
        List<Topic<?, ?>> used = List.of(topics.features(), topics.dlq(topics.features()),
            topics.predictions(), topics.modelPromoted(), topics.registryState(),
            topics.registryCommands());
        TopicBootstrap.Result result = new TopicBootstrap(admin).ensure(used);
        if (!result.consistent()) {
          log.warn("serving topics differ from the catalogue: {}", result.describe());
        }
      }
      commandProducer = new KafkaProducer<>(producerProps("commands"), new StringSerializer(),
          topics.registryCommands().valueSerde().serializer());
      Map<String, Object> httpProps = producerProps("http-predictions");
      // a caller waits for its answer, not for the broker: with the broker away, send gives up
      // at once instead of blocking the request for max.block.ms (60 s by default)
      httpProps.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, HTTP_MAX_BLOCK_MS);
      httpProducer = new KafkaProducer<>(httpProps, new StringSerializer(),
          topics.predictions().valueSerde().serializer());
      RefusalReporter reporter = new RegistryCommandReporter(commandProducer,
          topics.registryCommands(), config.instanceId());
      ModelSwapper swapper = new ModelSwapper(new ModelLoader(featureGroups, config.warmupRows()),
          served, reporter, metrics, status);
      follower = new PromotionFollower(kafka, topics.modelPromoted(), topics.registryState(),
          ALIASES, Predictions.CHALLENGER,
          model -> config.models().isEmpty() || config.models().contains(model), swapper, served,
          status);
      follower.catchUp(config.catchUpTimeout());
      follower.start();
      scorer = new StreamScorer(kafka, config.applicationId(),
          config.applicationId() + "-" + config.instanceId(), config.startFrom(),
          config.maxBatch(), topics.features(), topics.predictions(), topics, served, metrics);
      scorer.start();
      Tags tags = Tags.of("service", "serving");
      clientMetrics.add(new KafkaClientMetrics(commandProducer, tags));
      clientMetrics.add(new KafkaClientMetrics(httpProducer, tags));
      clientMetrics.forEach(m -> m.bindTo(meters));
      scorer.bindClientMetrics(meters, tags);
      api = new PredictHttpApi(served, online, this::emitHttp, metrics);
      log.info("serving sink started: serving {}, scoring {} into {}", served.peekAll().values(),
          topics.features().name(), topics.predictions().name());
      return this;
    } catch (TimeoutException e) {
      close();
      throw new IllegalStateException(e.getMessage(), e);
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  private void emitHttp(Prediction p) {
    try {
      httpProducer.send(new ProducerRecord<>(topics.predictions().name(), p.getEntityId(), p),
          (meta, error) -> {
            if (error != null) {
              notWritten(p, error);
            }
          });
    } catch (RuntimeException e) {
      notWritten(p, e); // the answer is computed: the caller still gets it
    }
  }

  private void notWritten(Prediction p, Exception error) {
    metrics.deadLetter("http_prediction_not_written");
    log.warn("an HTTP prediction of {} v{} was not written: {}", p.getModel(), p.getVersion(),
        error.getMessage());
  }

  /** Mounts {@code POST /predict/{model}}. @throws IllegalStateException before start */
  public synchronized void routes(RoutesConfig routes) {
    if (api == null) {
      throw new IllegalStateException("start the serving sink before mounting its routes");
    }
    api.routes(routes);
  }

  /** The versions served now, by model and alias. */
  public Map<ServedModels.Key, ServedModel> served() {
    return served.peekAll();
  }

  /** Why the service is unhealthy, or empty when it is healthy. */
  public Optional<String> healthProblem() {
    if (scorer != null && scorer.problem().isPresent()) {
      return scorer.problem();
    }
    if (follower != null) {
      return follower.problem();
    }
    return Optional.of("not started");
  }

  /**
   * What serves, per model and alias, with what did not take, for {@code /health}; none of it is
   * a problem ({@link #healthProblem()} says when serving is unhealthy):
   *
   * <pre>{@code
   * {"models": {"fraud": {"champion": {
   *     "version": 3,                       // served now; null when nothing serves
   *     "refused": {"version": 4, "check": "SIGNATURE_MISMATCH", "reason": "...",
   *                 "at": "2026-11-20T10:00:05Z"},  // the latest refused since start
   *     "waiting": {"version": 5, "reason": "...", "since": "..."},  // to load, retried
   *     "aliasRemoved": {"at": "2026-11-20T10:07:00Z", "stillServing": 3}}}}}
   * }</pre>
   *
   * <p>{@code refused}, {@code waiting} and {@code aliasRemoved} appear only when there is one.
   */
  public Map<String, Object> healthDetails() {
    Map<ServedModels.Key, ServedModel> now = served.peekAll();
    Map<ServedModels.Key, ServingStatus.Entry> notes = status.snapshot();
    Set<ServedModels.Key> keys = new TreeSet<>(Comparator.comparing(ServedModels.Key::model)
        .thenComparing(ServedModels.Key::alias));
    keys.addAll(now.keySet());
    keys.addAll(notes.keySet());
    Map<String, Map<String, Object>> models = new TreeMap<>();
    for (ServedModels.Key key : keys) {
      ServedModel model = now.get(key);
      Integer version = model == null ? null : model.version();
      Map<String, Object> alias = new LinkedHashMap<>();
      alias.put("version", version);
      ServingStatus.Entry note = notes.get(key);
      if (note != null && note.refused() != null) {
        ServingStatus.Refused r = note.refused();
        alias.put("refused", ordered("version", r.version(), "check", r.check().name(),
            "reason", r.reason(), "at", r.at().toString()));
      }
      if (note != null && note.waiting() != null) {
        ServingStatus.Waiting w = note.waiting();
        alias.put("waiting", ordered("version", w.version(), "reason", w.reason(),
            "since", w.since().toString()));
      }
      if (note != null && note.aliasRemovedAt() != null) {
        alias.put("aliasRemoved", ordered("at", note.aliasRemovedAt().toString(),
            "stillServing", version));
      }
      models.computeIfAbsent(key.model(), m -> new TreeMap<>()).put(key.alias(), alias);
    }
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("models", models);
    return details;
  }

  /** A map of {@code key, value, ...} in that order; values may be null. */
  private static Map<String, Object> ordered(Object... keysAndValues) {
    Map<String, Object> map = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      map.put((String) keysAndValues[i], keysAndValues[i + 1]);
    }
    return map;
  }

  /** Stops scoring, following and HTTP emission, and releases the models. Idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    clientMetrics.forEach(KafkaClientMetrics::close);
    for (AutoCloseable c : new AutoCloseable[] {scorer, follower, api}) {
      if (c != null) {
        try {
          c.close();
        } catch (Exception e) {
          log.warn("closing {} failed", c.getClass().getSimpleName(), e);
        }
      }
    }
    for (Producer<?, ?> p : new Producer<?, ?>[] {httpProducer, commandProducer}) {
      if (p != null) {
        try {
          p.close(Duration.ofSeconds(5));
        } catch (RuntimeException e) {
          log.warn("closing a producer failed", e);
        }
      }
    }
    if (ownLookup != null) {
      ownLookup.close();
    }
    served.close();
  }

  /**
   * How long writing an HTTP prediction may block the request ({@code max.block.ms}): waiting for
   * the topic's metadata or for room in the producer's buffer, both only while the broker is away.
   */
  static final long HTTP_MAX_BLOCK_MS = 250;

  private Map<String, Object> producerProps(String name) {
    Map<String, Object> props = ProducerSettings.delivery(kafka);
    props.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 5);
    props.put(ProducerConfig.CLIENT_ID_CONFIG, config.applicationId() + "-" + name);
    return props;
  }

  /** Builds a {@link ServingSinkService}. */
  public static final class Builder {
    private ServingSinkConfig config = ServingSinkConfig.defaults();
    private final Map<String, Object> kafka = new HashMap<>();
    private Topics topics;
    private MeterRegistry meters;
    private OnlineFeatures online;
    private FeatureGroups featureGroups;

    private Builder() {}

    /** The {@code servingSink} section; defaults when not set. */
    public Builder config(ServingSinkConfig config) {
      this.config = Objects.requireNonNull(config, "config");
      return this;
    }

    /** Kafka client properties: bootstrap servers and security; required. */
    public Builder kafka(Map<String, ?> kafka) {
      this.kafka.putAll(Objects.requireNonNull(kafka, "kafka"));
      return this;
    }

    /** The topic catalogue, with its Avro serdes; required. */
    public Builder topics(Topics topics) {
      this.topics = Objects.requireNonNull(topics, "topics");
      return this;
    }

    /** Where the meters go; required. */
    public Builder meters(MeterRegistry meters) {
      this.meters = Objects.requireNonNull(meters, "meters");
      return this;
    }

    /** The online store for {@code /predict} by entity; default from featureLookupUrl. */
    public Builder onlineFeatures(OnlineFeatures online) {
      this.online = online;
      return this;
    }

    /** Asked first for a feature group's features; then the config, then the online store. */
    public Builder featureGroups(FeatureGroups featureGroups) {
      this.featureGroups = featureGroups;
      return this;
    }

    /** @throws IllegalStateException naming what is missing */
    public ServingSinkService build() {
      if (kafka.get("bootstrap.servers") == null) {
        throw new IllegalStateException("kafka bootstrap.servers is required");
      }
      if (topics == null) {
        throw new IllegalStateException("topics is required");
      }
      if (meters == null) {
        throw new IllegalStateException("meters is required (a Micrometer MeterRegistry)");
      }
      return new ServingSinkService(this);
    }
  }
}
