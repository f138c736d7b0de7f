package dev.flywheel.trainingtrigger;

import dev.flywheel.events.DriftAlert;
import dev.flywheel.events.Label;
import dev.flywheel.events.RunStatus;
import dev.flywheel.events.TrainingReason;
import dev.flywheel.events.TrainingRequested;
import dev.flywheel.events.TrainingRun;
import dev.flywheel.events.TriggerKind;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.Topics;
import dev.flywheel.trainingtrigger.config.TrainingTriggerConfig;
import dev.flywheel.trainingtrigger.coordination.CoordinatorProcessor;
import dev.flywheel.trainingtrigger.coordination.Emit;
import dev.flywheel.trainingtrigger.coordination.JsonSerde;
import dev.flywheel.trainingtrigger.coordination.ModelState;
import dev.flywheel.trainingtrigger.coordination.Signal;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.state.Stores;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The trigger and coordination topology, wiring only:
 *
 * <ol>
 *   <li>drift alerts of models with the drift trigger on become {@code DRIFT_ALERT} requests on
 *       {@code flywheel.training.requests}; an alert of a model trained outside Flywheel
 *       (declared without featureGroup) is skipped with a log line and counted in {@value
 *       #SKIPPED_ALERTS}, an alert of an undeclared model skipped silently;
 *   <li>labels of each model's target are re-keyed by model ({@value #LABELS_BY_MODEL}), finished
 *       runs by model ({@value #RUNS_BY_MODEL});
 *   <li>requests, labels and finished runs meet in {@link CoordinatorProcessor} ({@value
 *       #COORDINATOR}) over the {@value #MODEL_STATE_STORE} store, which writes the requests it
 *       raises back to {@code flywheel.training.requests} and the runs it starts to {@code
 *       flywheel.training.runs} as STARTED.
 * </ol>
 */
public final class TrainingTriggerTopology {

  /** The coordinator's per-model state (changelog {@code <app>-training-model-state-changelog}). */
  public static final String MODEL_STATE_STORE = "training-model-state";
  /** Repartition of labels by model ({@code <app>-training-labels-by-model-repartition}). */
  public static final String LABELS_BY_MODEL = "training-labels-by-model";
  /** Repartition of finished runs by model. */
  public static final String RUNS_BY_MODEL = "training-runs-by-model";
  /** The coordinator processor. */
  public static final String COORDINATOR = "training-coordinator";
  /**
   * The counter of drift alerts not turned into requests as their model is trained outside
   * Flywheel, tagged {@code model} and {@code reason} ({@value #TRAINED_OUTSIDE}).
   */
  public static final String SKIPPED_ALERTS = "flywheel.training.alerts.skipped";
  /** The {@code reason} of an alert skipped as its model is trained outside Flywheel. */
  public static final String TRAINED_OUTSIDE = "trained_outside_flywheel";

  private static final Logger log = LoggerFactory.getLogger(TrainingTriggerTopology.class);

  static final String DRIFT_SOURCE = "training-drift-alerts-source";
  static final String DRIFT_TO_REQUEST = "training-drift-alert-to-request";
  static final String DRIFT_SINK = "training-drift-requests-sink";
  static final String LABELS_SOURCE = "training-labels-source";
  static final String LABELS_ROUTE = "training-labels-route-to-models";
  static final String LABELS_SIGNAL = "training-labels-signal";
  static final String REQUESTS_SOURCE = "training-requests-source";
  static final String REQUESTS_SIGNAL = "training-requests-signal";
  static final String RUNS_SOURCE = "training-runs-source";
  static final String RUNS_FINISHED = "training-runs-finished-by-model";
  static final String RUNS_SIGNAL = "training-runs-signal";
  static final String MERGE_LABELS = "training-merge-labels";
  static final String MERGE_RUNS = "training-merge-runs";
  static final String EMIT_SPLIT = "training-emit-";
  static final String EMIT_REQUESTS = "requests";
  static final String EMIT_RUNS = "runs";
  static final String REQUESTS_SINK = "training-raised-requests-sink";
  static final String RUNS_SINK = "training-started-runs-sink";

  private TrainingTriggerTopology() {}

  /**
   * The topology for these models and topics, counting in Micrometer's global registry.
   *
   * @param config the declared models and the tick
   * @param topics the topic catalogue (its serdes and partition count)
   */
  public static Topology build(TrainingTriggerConfig config, Topics topics) {
    return build(config, topics, Metrics.globalRegistry);
  }

  /**
   * The topology for these models and topics.
   *
   * @param config the declared models and the tick
   * @param topics the topic catalogue (its serdes and partition count)
   * @param meters where {@value #SKIPPED_ALERTS} and {@value
   *     CoordinatorProcessor#IGNORED_OUTCOMES} are counted
   */
  public static Topology build(TrainingTriggerConfig config, Topics topics, MeterRegistry meters) {
    StreamsBuilder b = new StreamsBuilder();
    Topic<String, DriftAlert> alerts = topics.driftAlerts();
    Topic<String, Label> labels = topics.labels();
    Topic<String, TrainingRequested> requests = topics.trainingRequests();
    Topic<String, TrainingRun> runs = topics.trainingRuns();

    b.stream(alerts.name(), Consumed.with(alerts.keySerde(), alerts.valueSerde())
            .withName(DRIFT_SOURCE))
        .filter((model, alert) -> alert != null && (config.isExternal(alert.getModel())
                ? skipExternal(alert, meters)
                : config.model(alert.getModel()).map(m -> m.triggers().drift()).orElse(false)),
            Named.as(DRIFT_TO_REQUEST + "-filter"))
        .map((model, alert) -> KeyValue.pair(alert.getModel(), driftRequest(alert)),
            Named.as(DRIFT_TO_REQUEST))
        .to(requests.name(), Produced.with(requests.keySerde(), requests.valueSerde())
            .withName(DRIFT_SINK));

    KStream<String, Signal> labelSignals = b.stream(labels.name(),
            Consumed.with(labels.keySerde(), labels.valueSerde()).withName(LABELS_SOURCE))
        .flatMap((eventId, label) -> label == null ? List.<KeyValue<String, Label>>of()
            : config.models().values().stream()
                .filter(m -> m.triggers().newLabels() != null
                    && m.target().equals(label.getTarget()))
                .map(m -> KeyValue.pair(m.name(), label)).toList(), Named.as(LABELS_ROUTE))
        .repartition(Repartitioned.<String, Label>as(LABELS_BY_MODEL)
            .withKeySerde(Serdes.String()).withValueSerde(labels.valueSerde())
            .withNumberOfPartitions(topics.partitions()))
        .mapValues(Signal::of, Named.as(LABELS_SIGNAL));

    KStream<String, Signal> runSignals = b.stream(runs.name(),
            Consumed.with(runs.keySerde(), runs.valueSerde()).withName(RUNS_SOURCE))
        .filter((runId, run) -> run != null && (run.getStatus() == RunStatus.COMPLETED
            || run.getStatus() == RunStatus.FAILED) && config.model(run.getModel()).isPresent(),
            Named.as(RUNS_FINISHED + "-filter"))
        .selectKey((runId, run) -> run.getModel(), Named.as(RUNS_FINISHED))
        .repartition(Repartitioned.<String, TrainingRun>as(RUNS_BY_MODEL)
            .withKeySerde(Serdes.String()).withValueSerde(runs.valueSerde())
            .withNumberOfPartitions(topics.partitions()))
        .mapValues(Signal::of, Named.as(RUNS_SIGNAL));

    b.addStateStore(Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(MODEL_STATE_STORE), Serdes.String(),
        JsonSerde.of(ModelState.class)));

    KStream<String, Emit> emitted = b.stream(requests.name(),
            Consumed.with(requests.keySerde(), requests.valueSerde()).withName(REQUESTS_SOURCE))
        .filter((model, r) -> r != null, Named.as(REQUESTS_SIGNAL + "-filter"))
        .mapValues(Signal::of, Named.as(REQUESTS_SIGNAL))
        .merge(labelSignals, Named.as(MERGE_LABELS))
        .merge(runSignals, Named.as(MERGE_RUNS))
        .process(() -> new CoordinatorProcessor(config, MODEL_STATE_STORE,
                topics.partitions(), meters),
            Named.as(COORDINATOR), MODEL_STATE_STORE);

    Map<String, KStream<String, Emit>> branches = emitted.split(Named.as(EMIT_SPLIT))
        .branch((k, e) -> e.isRequest(), Branched.as(EMIT_REQUESTS))
        .defaultBranch(Branched.as(EMIT_RUNS));
    branches.get(EMIT_SPLIT + EMIT_REQUESTS)
        .mapValues(Emit::request, Named.as(REQUESTS_SINK + "-value"))
        .to(requests.name(), Produced.with(requests.keySerde(), requests.valueSerde())
            .withName(REQUESTS_SINK));
    branches.get(EMIT_SPLIT + EMIT_RUNS)
        .mapValues(Emit::run, Named.as(RUNS_SINK + "-value"))
        .to(runs.name(), Produced.with(runs.keySerde(), runs.valueSerde()).withName(RUNS_SINK));
    return b.build();
  }

  /**
   * Logs and counts a drift alert of a model trained outside Flywheel, which training-trigger
   * does not turn into a request (the coordinator would refuse it); always false.
   */
  private static boolean skipExternal(DriftAlert alert, MeterRegistry meters) {
    log.info("drift alert {} of model '{}' skipped: the model is declared without featureGroup, so"
        + " it is trained outside Flywheel and training-trigger does not retrain it; {}",
        alert.getEventId(), alert.getModel(), TrainingTriggerConfig.EXTERNAL_HINT);
    Counter.builder(SKIPPED_ALERTS)
        .description("Drift alerts not turned into training requests")
        .tags("model", alert.getModel(), "reason", TRAINED_OUTSIDE)
        .register(meters).increment();
    return false;
  }

  /** The request a drift alert becomes; its id derives from the alert's, so replays dedupe. */
  static TrainingRequested driftRequest(DriftAlert alert) {
    String detail = alert.getPolicy() != null ? alert.getPolicy()
        : String.format("%.0f%% of features drifted for %d window(s)",
            alert.getDriftedShare() * 100, alert.getConsecutiveDrifted());
    return TrainingRequested.newBuilder().setEventId(alert.getModel() + "/drift/"
            + alert.getEventId())
        .setEventTime(alert.getEventTime()).setModel(alert.getModel())
        .setReason(TrainingReason.newBuilder().setKind(TriggerKind.DRIFT_ALERT).setDetail(detail)
            .setTriggeredAt(alert.getEventTime()).setAlertId(alert.getEventId()).build())
        .setActor(CoordinatorProcessor.SERVICE_ACTOR).setParams(Map.of()).build();
  }
}
