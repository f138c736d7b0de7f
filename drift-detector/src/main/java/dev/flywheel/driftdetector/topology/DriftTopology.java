package dev.flywheel.driftdetector.topology;

import dev.flywheel.driftdetector.config.DriftDetectorConfig;
import dev.flywheel.driftdetector.metrics.DriftMetrics;
import dev.flywheel.driftdetector.window.BaselineLayout;
import dev.flywheel.driftdetector.window.ModelWindows;
import dev.flywheel.events.DriftAlert;
import dev.flywheel.events.DriftReport;
import dev.flywheel.events.Label;
import dev.flywheel.events.ModelPromoted;
import dev.flywheel.events.Prediction;
import dev.flywheel.topics.AvroSerdeFactory;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.Topics;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.JoinWindows;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.kstream.StreamJoined;
import org.apache.kafka.streams.processor.TimestampExtractor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.state.BuiltInDslStoreSuppliers;
import org.apache.kafka.streams.state.KeyValueBytesStoreSupplier;
import org.apache.kafka.streams.state.Stores;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wiring of drift detection. Predictions of the alias each model's policy monitors, promotions
 * and labelled predictions are keyed by model and meet in one repartition topic, {@link
 * #BY_MODEL}; {@link DriftProcessor} keeps each model's windows and writes reports and alerts,
 * holding predictions of a version not promoted yet until its promotion ({@link #HELD_STORE};
 * beyond the cap, the oldest held one goes to {@code flywheel.predictions.dlq}).
 * Labels join predictions by event id over {@link DriftDetectorConfig#labelWindow()} of event
 * time before they are keyed by model.
 *
 * <pre>
 * flywheel.predictions ─┬─ monitored  ─ key model ──────────────────┐
 *                       └─ key event id ─ join ─ key model ─────────┼─ merge ─ drift-by-model ─ drift-windows ─┬─ flywheel.drift.reports
 * flywheel.labels ──────────────────────┘                           │                  drift-baselines         ├─ flywheel.drift.alerts
 * flywheel.model.promoted ─ check baseline ─────────────────────────┘                  drift-held-predictions  └─ flywheel.predictions.dlq
 * </pre>
 */
public final class DriftTopology {

  /** Source of predictions. */
  public static final String PREDICTIONS_SOURCE = "drift-predictions-source";
  /** Source of labels. */
  public static final String LABELS_SOURCE = "drift-labels-source";
  /** Source of promotions. */
  public static final String PROMOTED_SOURCE = "drift-promoted-source";
  /** Drops empty labels. */
  public static final String LABELS_PRESENT = "drift-labels-present";
  /** Drops labels whose event time is too far ahead of their record ({@link FutureEventTimes}). */
  public static final String LABELS_ON_TIME = "drift-labels-on-time";
  /** Drops empty promotions. */
  public static final String PROMOTED_PRESENT = "drift-promoted-present";
  /**
   * Keeps the predictions of the alias the model's policy monitors whose event time is not too
   * far ahead of their scored_at ({@link FutureEventTimes}).
   */
  public static final String SERVED_ONLY = "drift-served-predictions";
  /** Keys predictions by model. */
  public static final String PREDICTIONS_BY_MODEL = "drift-predictions-by-model";
  /** Keys predictions by event id for the label join. */
  public static final String PREDICTIONS_BY_EVENT = "drift-predictions-by-event";
  /** The label join (its repartition topics and stores take this name). */
  public static final String LABEL_JOIN = "drift-label-join";
  /** Stores of the label join. */
  public static final String LABEL_JOIN_STORE = "drift-label-join-store";
  /** Keys labelled scores by model. */
  public static final String LABELLED_BY_MODEL = "drift-labelled-by-model";
  /** Checks a promotion's baseline; a broken one goes to the promoted topic's DLQ. */
  public static final String CHECK_BASELINE = "drift-check-baseline";
  /** Wraps predictions. */
  public static final String WRAP_PREDICTIONS = "drift-wrap-predictions";
  /** Wraps labelled scores. */
  public static final String WRAP_LABELLED = "drift-wrap-labelled";
  /** Merges the three inputs. */
  public static final String MERGE_PREDICTIONS_PROMOTED = "drift-merge-predictions-promoted";
  /** Merges the labelled scores in. */
  public static final String MERGE_LABELLED = "drift-merge-labelled";
  /** The repartition topic of every input by model ({@code <application id>-drift-by-model-repartition}). */
  public static final String BY_MODEL = "drift-by-model";
  /** The drift state machine. */
  public static final String DETECTOR = "drift-detector";
  /** Splits reports from alerts. */
  public static final String OUTPUT_SPLIT = "drift-output-";
  /** Writes reports. */
  public static final String REPORTS_SINK = "drift-reports-sink";
  /** Writes alerts. */
  public static final String ALERTS_SINK = "drift-alerts-sink";
  /** Turns dead letters into the predictions topic's key and value bytes. */
  public static final String DLQ_BYTES = "drift-predictions-dlq-bytes";
  /** Writes predictions given up on (held beyond the cap) to {@code flywheel.predictions.dlq}. */
  public static final String DLQ_SINK = "drift-predictions-dlq-sink";
  /** Each model's windows and hysteresis ({@link ModelWindows}). */
  public static final String WINDOWS_STORE = "drift-windows";
  /** Each model's current promotion, with the baseline its windows are compared with. */
  public static final String BASELINES_STORE = "drift-baselines";
  /**
   * Predictions of versions not promoted yet, held per model until their promotion (at most
   * {@link DriftDetectorConfig#maxHeldPredictions()} per model).
   */
  public static final String HELD_STORE = "drift-held-predictions";

  private static final Duration LABEL_JOIN_GRACE = Duration.ofMinutes(5);
  private static final Logger LOG = LoggerFactory.getLogger(DriftTopology.class);

  private DriftTopology() {}

  /** The topology for {@code config}, reading and writing the topics of {@code topics}. */
  public static Topology build(DriftDetectorConfig config, Topics topics, AvroSerdeFactory serdes,
      DriftMetrics metrics) {
    return build(config, topics, serdes, metrics, Materialized.StoreType.ROCKS_DB);
  }

  /**
   * The same topology with its stores of {@code storeType}: {@code ROCKS_DB} in production;
   * {@code IN_MEMORY} for the test driver, which commits (and so flushes RocksDB) after every
   * record.
   */
  public static Topology build(DriftDetectorConfig config, Topics topics, AvroSerdeFactory serdes,
      DriftMetrics metrics, Materialized.StoreType storeType) {
    boolean inMemory = storeType == Materialized.StoreType.IN_MEMORY;
    Topic<String, Prediction> predictions = topics.predictions();
    Topic<String, Label> labels = topics.labels();
    Topic<String, ModelPromoted> promoted = topics.modelPromoted();
    Topic<String, DriftReport> reports = topics.driftReports();
    Topic<String, DriftAlert> alerts = topics.driftAlerts();
    Topic<byte[], byte[]> predictionsDlq = topics.dlq(predictions);
    Serde<DriftInput> inputSerde = DriftInput.serde(predictions.valueSerde(), predictions.name(),
        promoted.valueSerde(), promoted.name());
    Serde<ModelPromoted> baselineSerde = serdes.specific(ModelPromoted.class, false);

    FutureEventTimes future = new FutureEventTimes(config.maxEventTimeSkew(), metrics);
    StreamsBuilder builder = new StreamsBuilder();
    // every prediction and label rewrites its model's windows: the record cache folds those
    // writes into one store write and one changelog record per model and commit
    builder.addStateStore(Stores.keyValueStoreBuilder(
        store(WINDOWS_STORE, inMemory), Serdes.String(), ModelWindows.serde())
        .withCachingEnabled());
    builder.addStateStore(Stores.keyValueStoreBuilder(
        store(BASELINES_STORE, inMemory), Serdes.String(), baselineSerde));
    builder.addStateStore(Stores.keyValueStoreBuilder(
        store(HELD_STORE, inMemory), Serdes.String(), Serdes.ByteArray()));

    KStream<String, Prediction> served = builder
        .stream(predictions.name(), Consumed.with(predictions.keySerde(),
            predictions.valueSerde()).withTimestampExtractor(predictionTime(future))
            .withName(PREDICTIONS_SOURCE))
        // the predictions of the alias each model's policy monitors: the champion's by default,
        // a challenger's shadow predictions when the policy names it; and none whose event time
        // is far ahead, which would close every open window and stall the label join
        .filter((k, p) -> p != null
            && Objects.equals(p.getAlias(), config.policyFor(p.getModel()).alias())
            && future.keep(p),
            Named.as(SERVED_ONLY));

    KStream<String, DriftInput> predictionInputs = served
        .selectKey((k, p) -> p.getModel(), Named.as(PREDICTIONS_BY_MODEL))
        .mapValues(DriftInput::of, Named.as(WRAP_PREDICTIONS));

    KStream<String, Label> labelStream = builder.stream(labels.name(),
        Consumed.with(labels.keySerde(), labels.valueSerde())
            .withTimestampExtractor(labelTime(future)).withName(LABELS_SOURCE));
    KStream<String, DriftInput> labelledInputs = served
        .selectKey((k, p) -> p.getEventId(), Named.as(PREDICTIONS_BY_EVENT))
        .join(labelStream.filter((k, l) -> l != null, Named.as(LABELS_PRESENT))
                .processValues(() -> new LabelsOnTime(future), Named.as(LABELS_ON_TIME)),
            LabelledScore::of,
            JoinWindows.ofTimeDifferenceAndGrace(config.labelWindow(), LABEL_JOIN_GRACE),
            StreamJoined.with(Serdes.String(), predictions.valueSerde(), labels.valueSerde())
                .withName(LABEL_JOIN).withStoreName(LABEL_JOIN_STORE)
                .withDslStoreSuppliers(inMemory
                    ? new BuiltInDslStoreSuppliers.InMemoryDslStoreSuppliers()
                    : new BuiltInDslStoreSuppliers.RocksDBDslStoreSuppliers()))
        .selectKey((eventId, l) -> modelOf(l), Named.as(LABELLED_BY_MODEL))
        .mapValues(DriftInput::of, Named.as(WRAP_LABELLED));

    KStream<String, DriftInput> promotionInputs = builder
        .stream(promoted.name(), Consumed.with(promoted.keySerde(), promoted.valueSerde())
            .withTimestampExtractor(promotionTime()).withName(PROMOTED_SOURCE))
        .filter((k, m) -> m != null, Named.as(PROMOTED_PRESENT))
        .mapValues(m -> checked(m, metrics), Named.as(CHECK_BASELINE));

    KStream<String, Object> out = promotionInputs
        .merge(predictionInputs, Named.as(MERGE_PREDICTIONS_PROMOTED))
        .merge(labelledInputs, Named.as(MERGE_LABELLED))
        .repartition(Repartitioned.with(Serdes.String(), inputSerde).withName(BY_MODEL))
        .process(() -> new DriftProcessor(config, metrics, predictions.keySerde(),
            predictions.valueSerde(), predictions.name()), Named.as(DETECTOR),
            WINDOWS_STORE, BASELINES_STORE, HELD_STORE);

    out.split(Named.as(OUTPUT_SPLIT))
        .branch((k, v) -> v instanceof DriftReport, Branched.withConsumer(s -> s
            .mapValues(v -> (DriftReport) v)
            .to(reports.name(), Produced.with(reports.keySerde(), reports.valueSerde())
                .withName(REPORTS_SINK)), "reports"))
        .branch((k, v) -> v instanceof DriftAlert, Branched.withConsumer(s -> s
            .mapValues(v -> (DriftAlert) v)
            .to(alerts.name(), Produced.with(alerts.keySerde(), alerts.valueSerde())
                .withName(ALERTS_SINK)), "alerts"))
        .branch((k, v) -> v instanceof DeadLetter, Branched.withConsumer(s -> s
            .map((k, v) -> KeyValue.pair(((DeadLetter) v).key(), ((DeadLetter) v).value()),
                Named.as(DLQ_BYTES))
            .to(predictionsDlq.name(), Produced.with(predictionsDlq.keySerde(),
                predictionsDlq.valueSerde()).withName(DLQ_SINK)), "dead-letters"))
        .noDefaultBranch();
    return builder.build();
  }

  /**
   * The promotion as the detector takes it. A baseline that cannot be used (a histogram without
   * one more count than cut points, negative counts, cut points not finite or not increasing) is
   * dropped: the version is still the promoted one, served but not monitored, so its predictions
   * are counted as {@code no_baseline} instead of being held for a promotion that already came.
   * The problem is logged, saying what to fix, and counted.
   */
  static DriftInput checked(ModelPromoted m, DriftMetrics metrics) {
    Optional<String> problem = baselineProblem(m);
    if (problem.isEmpty()) {
      return DriftInput.of(m);
    }
    LOG.error("{}; this version is not monitored for drift. Register a version whose trainer"
        + " writes a consistent baseline profile, and promote it", problem.get());
    metrics.unusableBaseline(m.getModel());
    return DriftInput.of(ModelPromoted.newBuilder(m).setBaseline(null).build());
  }

  /** What makes the promotion's baseline unusable, or empty when it has none or it is usable. */
  static Optional<String> baselineProblem(ModelPromoted m) {
    if (m.getBaseline() == null) {
      return Optional.empty();
    }
    try {
      BaselineLayout.of(m.getBaseline());
      return Optional.empty();
    } catch (IllegalArgumentException e) {
      return Optional.of("model '" + m.getModel() + "' version " + m.getVersion()
          + ": " + e.getMessage());
    }
  }

  private static KeyValueBytesStoreSupplier store(String name, boolean inMemory) {
    return inMemory ? Stores.inMemoryKeyValueStore(name) : Stores.persistentKeyValueStore(name);
  }

  private static String modelOf(LabelledScore l) {
    return l.model();
  }

  /**
   * A prediction's event time; one that {@link FutureEventTimes} drops takes its scored_at, so it
   * does not move the task's stream time either.
   */
  private static TimestampExtractor predictionTime(FutureEventTimes future) {
    return (record, partitionTime) -> record.value() instanceof Prediction p
        ? future.timestamp(p) : Math.max(record.timestamp(), partitionTime);
  }

  /**
   * Promotions take timestamp 0, so that a task holding a promotion and predictions at once
   * forwards the promotion first (a task picks the record with the lowest timestamp): predictions
   * carry their event time, which is often older than the promotion's wall-clock time, and a
   * prediction read before its version's promotion has no baseline to be counted against. Nothing
   * downstream reads a promotion's timestamp.
   */
  private static TimestampExtractor promotionTime() {
    return (record, partitionTime) -> 0L;
  }

  /**
   * A label's event time; one too far ahead of its record's timestamp takes that timestamp, which
   * {@link LabelsOnTime} then finds it too far ahead of and drops.
   */
  private static TimestampExtractor labelTime(FutureEventTimes future) {
    return (record, partitionTime) -> record.value() instanceof Label l
        ? future.timestamp(l, record.timestamp()) : Math.max(record.timestamp(), partitionTime);
  }

  /**
   * Drops labels whose event time is too far ahead of their record's timestamp: {@link
   * #labelTime} gave those the record's timestamp, the others their event time.
   */
  private static final class LabelsOnTime implements FixedKeyProcessor<String, Label, Label> {
    private final FutureEventTimes future;
    private FixedKeyProcessorContext<String, Label> context;

    LabelsOnTime(FutureEventTimes future) {
      this.future = future;
    }

    @Override
    public void init(FixedKeyProcessorContext<String, Label> context) {
      this.context = context;
    }

    @Override
    public void process(FixedKeyRecord<String, Label> record) {
      if (future.keep(record.value(), record.timestamp())) {
        context.forward(record);
      }
    }
  }
}
