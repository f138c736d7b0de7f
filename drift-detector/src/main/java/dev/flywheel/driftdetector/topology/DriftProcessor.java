package dev.flywheel.driftdetector.topology;

import dev.flywheel.driftdetector.config.DriftDetectorConfig;
import dev.flywheel.driftdetector.config.DriftPolicy;
import dev.flywheel.driftdetector.metrics.DriftMetrics;
import dev.flywheel.driftdetector.window.BaselineLayout;
import dev.flywheel.driftdetector.window.DriftEvaluator;
import dev.flywheel.driftdetector.window.ModelWindows;
import dev.flywheel.driftdetector.window.WindowBudget;
import dev.flywheel.driftdetector.window.WindowCounts;
import dev.flywheel.events.DriftAlert;
import dev.flywheel.events.DriftReport;
import dev.flywheel.events.DriftWindow;
import dev.flywheel.events.ModelPromoted;
import dev.flywheel.events.Prediction;
import dev.flywheel.events.WindowKind;
import dev.flywheel.streams.StreamsProps;
import dev.flywheel.topics.DeadLetterHeaders;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The drift state machine of each model, keyed by model name. A promotion of the monitored alias
 * switches the model to the new version's baseline and starts fresh windows; a prediction of that
 * version is counted into its window, which closes by count or at its event-time boundary plus
 * grace; a labelled score joins the open window its prediction belongs to. A closed window
 * forwards a {@link DriftReport}, and a {@link DriftAlert} when the policy fires. State lives in
 * {@link DriftTopology#WINDOWS_STORE} and {@link DriftTopology#BASELINES_STORE}; every change
 * is committed with the outputs it causes (exactly-once).
 *
 * <p>A prediction of a version above every version promoted so far (none yet, or a newer one
 * whose promotion has not arrived: serving scores with a version as soon as it loads it, and
 * promotions come from another topic) is held in {@link DriftTopology#HELD_STORE}. The promotion
 * of that version counts the held predictions of it into its windows, in the order they arrived
 * and before any later prediction, while processing the promotion record, so holding, releasing
 * and counting commit in one transaction. A prediction of a version at or below the highest one
 * promoted that is not the current one (a version replaced or rolled back from, which will not be
 * compared again) is counted as {@code other_version}, as are held ones such a promotion leaves
 * behind. Beyond {@link DriftDetectorConfig#maxHeldPredictions()} held predictions of a model,
 * the oldest goes to the predictions topic's dead-letter topic ({@link DeadLetter}).
 *
 * <p>A model's open windows are one value of {@link DriftTopology#WINDOWS_STORE}, and so one
 * record of its changelog, which must fit the producer's {@code max.request.size}. {@link
 * WindowBudget} bounds it from the configuration and the baseline: each window keeps at most as
 * many labelled predictions as fit its share of the budget, and when the counts of the most
 * windows that can be open at once do not fit on their own, the version is not monitored (its
 * predictions and labels are counted as {@code state_too_large}, and the error says what to
 * change).
 */
final class DriftProcessor implements Processor<String, DriftInput, String, Object> {

  private static final Logger LOG = LoggerFactory.getLogger(DriftProcessor.class);

  private final DriftDetectorConfig config;
  private final DriftMetrics metrics;
  /**
   * The layout of each model's current baseline, by model: one entry per model, replaced when a
   * promotion switches the baseline (a layout holds the whole baseline profile).
   */
  private final Map<String, Cached<BaselineLayout>> layouts = new HashMap<>();
  /** The budget of each model's current promotion's windows, by model, as {@link #layouts}. */
  private final Map<String, Cached<WindowBudget>> budgets = new HashMap<>();
  /**
   * Read-through copy of {@link DriftTopology#BASELINES_STORE}, which only this processor writes,
   * so a prediction does not decode its model's baseline profile again; emptied in {@link #init}
   * (a task restored after a failed transaction starts with a fresh one).
   */
  private final Map<String, ModelPromoted> current = new HashMap<>();
  /** Models whose first held-prediction overflow this instance has logged as a warning. */
  private final Set<String> overflowWarned = new HashSet<>();
  private final Serde<String> predictionKeys;
  private final Serde<Prediction> predictionValues;
  private final String predictionsTopic;
  private ProcessorContext<String, Object> context;
  /** The producer's {@code max.request.size}, read at init. */
  private int maxRequestSize;
  private KeyValueStore<String, ModelWindows> windows;
  private KeyValueStore<String, ModelPromoted> baselines;
  private HeldPredictions held;

  DriftProcessor(DriftDetectorConfig config, DriftMetrics metrics, Serde<String> predictionKeys,
      Serde<Prediction> predictionValues, String predictionsTopic) {
    this.config = config;
    this.metrics = metrics;
    this.predictionKeys = predictionKeys;
    this.predictionValues = predictionValues;
    this.predictionsTopic = predictionsTopic;
  }

  @Override
  public void init(ProcessorContext<String, Object> context) {
    this.context = context;
    this.maxRequestSize = StreamsProps.maxRequestSize(context.appConfigs());
    this.windows = context.getStateStore(DriftTopology.WINDOWS_STORE);
    this.baselines = context.getStateStore(DriftTopology.BASELINES_STORE);
    this.held = new HeldPredictions(context.getStateStore(DriftTopology.HELD_STORE),
        predictionValues, predictionsTopic);
    this.current.clear();
  }

  @Override
  public void process(Record<String, DriftInput> record) {
    String model = record.key();
    DriftInput in = record.value();
    if (model == null || in == null) {
      return;
    }
    if (in.promoted() != null) {
      promoted(model, in.promoted());
    } else if (in.prediction() != null) {
      prediction(model, in.prediction());
    } else if (in.labelled() != null) {
      labelled(model, in.labelled());
    }
  }

  private void promoted(String model, ModelPromoted m) {
    DriftPolicy policy = config.policyFor(model);
    if (!Objects.equals(m.getAlias(), policy.alias())) {
      return;
    }
    ModelWindows state = windows.get(model);
    if (state != null && state.baselineEventId().equals(m.getEventId())) {
      return; // the same promotion read again (a replay): nothing changes
    }
    if (state != null) {
      long discarded = state.open().stream().mapToLong(WindowCounts::count).sum();
      for (long i = 0; i < discarded; i++) {
        metrics.prediction(model, "discarded_on_switch");
      }
    }
    baselines.put(model, m);
    current.put(model, m);
    windows.put(model, new ModelWindows(m.getVersion(), m.getEventId()));
    held.promoted(model, m.getVersion());
    LOG.info("drift: {} now compared with the baseline of version {} ({})", model,
        m.getVersion(), m.getBaseline() == null ? "none: not monitored" : "profiled");
    if (m.getBaseline() != null) {
      budget(model, m, policy, layout(model, m));
    }
    release(model, m);
  }

  /**
   * Counts the held predictions of the version {@code m} promotes, oldest first, and settles the
   * held ones of older versions (never promoted, or replaced: {@code other_version}); newer ones
   * stay held.
   */
  private void release(String model, ModelPromoted m) {
    List<HeldPredictions.Held> due = held.release(model, v -> v <= m.getVersion());
    if (due.isEmpty()) {
      return;
    }
    for (HeldPredictions.Held h : due) {
      metrics.prediction(model, "released");
      count(model, m, h.prediction());
    }
    metrics.held(model, held.count(model));
    LOG.info("drift: {} version {} promoted; {} held predictions released, {} still held", model,
        m.getVersion(), due.size(), held.count(model));
  }

  private void prediction(String model, Prediction p) {
    ModelPromoted promoted = baseline(model);
    if (awaitsPromotion(model, promoted, p.getVersion())) {
      hold(model, p);
      return;
    }
    count(model, promoted, p);
  }

  /** Whether {@code version} is above every version of {@code model} promoted so far. */
  private boolean awaitsPromotion(String model, ModelPromoted promoted, int version) {
    if (promoted == null) {
      return true;
    }
    return version > promoted.getVersion() && version > held.highestPromoted(model);
  }

  private void hold(String model, Prediction p) {
    RecordMetadata from = context.recordMetadata().orElse(null);
    String topic = from == null ? predictionsTopic : from.topic();
    int partition = from == null ? -1 : from.partition();
    long offset = from == null ? -1 : from.offset();
    long timestamp = p.getEventTime().toEpochMilli();
    long max = config.maxHeldPredictions();
    List<HeldPredictions.Held> evicted = held.hold(model, p, topic, partition, offset, timestamp,
        max);
    metrics.prediction(model, "held");
    for (HeldPredictions.Held h : evicted) {
      Prediction old = h.prediction();
      String error = "drift-detector holds at most " + max + " predictions of model '" + model
          + "' whose version is not promoted yet (driftDetector.maxHeldPredictions); prediction "
          + old.getPredictionId() + " of version " + old.getVersion() + " was the oldest held"
          + " and is not counted in any drift window. Fix: make sure version " + old.getVersion()
          + " of '" + model + "' is promoted under alias '" + config.policyFor(model).alias()
          + "' (flywheel.model.promoted), or raise driftDetector.maxHeldPredictions, then"
          + " replay this record to " + predictionsTopic;
      byte[] key = predictionKeys.serializer().serialize(predictionsTopic, old.getEntityId());
      Headers headers = DeadLetter.headers(error, config.applicationId(), h.topic(),
          h.partition(), h.offset(), h.timestamp());
      DeadLetterHeaders.Fitted fitted =
          DeadLetterHeaders.fit(key, h.value(), headers, maxRequestSize);
      context.forward(new Record<String, Object>(model,
          new DeadLetter(fitted.key(), fitted.value()),
          h.timestamp(), headers));
      metrics.prediction(model, "held_overflow");
      if (overflowWarned.add(model)) {
        LOG.warn("drift: {} (warned once per model; the rest are counted in"
            + " flywheel.drift.predictions{{outcome=held_overflow}})", error);
      } else {
        LOG.debug("drift: {}", error);
      }
    }
    metrics.held(model, held.count(model));
  }

  private void count(String model, ModelPromoted promoted, Prediction p) {
    if (promoted == null || promoted.getBaseline() == null) {
      metrics.prediction(model, "no_baseline");
      return;
    }
    if (p.getVersion() != promoted.getVersion()) {
      metrics.prediction(model, "other_version");
      return;
    }
    DriftPolicy policy = config.policyFor(model);
    BaselineLayout layout = layout(model, promoted);
    WindowBudget budget = budget(model, promoted, policy, layout);
    if (!budget.fits()) {
      metrics.prediction(model, "state_too_large");
      return;
    }
    ModelWindows state = windows.get(model);
    long t = p.getEventTime().toEpochMilli();
    ModelWindows ws = state;
    if (!policy.timeWindows()) {
      WindowCounts w = ws.countWindow(layout);
      w.add(layout, p);
      if (w.count() >= policy.windowCount()) {
        ws.remove(w);
        close(model, promoted, layout, policy, state, w, WindowKind.COUNT);
      }
    } else {
      long duration = policy.windowDuration().toMillis();
      long grace = policy.grace().toMillis();
      long bucket = Math.floorDiv(t, duration) * duration;
      ws.advance(t);
      if (ws.late(t, bucket, duration, grace)) {
        metrics.prediction(model, "late");
        store(model, state, budget);
        return;
      }
      WindowCounts w = ws.bucket(layout, bucket);
      w.add(layout, p);
      if (policy.windowCount() > 0 && w.count() >= policy.windowCount()) {
        ws.remove(w);
        close(model, promoted, layout, policy, state, w, WindowKind.COUNT);
      }
      for (WindowCounts due : ws.due(duration, grace)) {
        ws.remove(due);
        ws.closed(due.bucket() + duration);
        close(model, promoted, layout, policy, state, due, WindowKind.TIME);
      }
    }
    metrics.prediction(model, "counted");
    store(model, state, budget);
  }

  /**
   * Writes the model's windows, their labelled samples cut to what the budget gives each (a
   * sample kept under a larger budget, by an earlier version or other window settings, is cut
   * when its model's windows are next written).
   */
  private void store(String model, ModelWindows state, WindowBudget budget) {
    state.keepLabelled(budget.labelCapacity(state.open().size()));
    windows.put(model, state);
  }

  private void labelled(String model, LabelledScore l) {
    ModelPromoted promoted = baseline(model);
    if (promoted == null || promoted.getBaseline() == null || l.version() != promoted.getVersion()) {
      return;
    }
    String target = promoted.getSignature().getLabelTarget();
    if (target != null && !target.equals(l.target())) {
      return;
    }
    DriftPolicy policy = config.policyFor(model);
    WindowBudget budget = budget(model, promoted, policy, layout(model, promoted));
    if (!budget.fits()) {
      metrics.label(model, "state_too_large");
      return;
    }
    long duration = policy.timeWindows() ? policy.windowDuration().toMillis() : 0;
    ModelWindows state = windows.get(model);
    for (WindowCounts w : state.open()) {
      if (w.covers(l.eventTimeMs(), duration)) {
        w.label(l.predictionId(), l.score(), l.label(),
            budget.labelCapacity(state.open().size()));
        store(model, state, budget);
        metrics.label(model, "counted");
        return;
      }
    }
    // its prediction's window has closed: live performance is per window, so the label is late
    metrics.label(model, "window_closed");
  }

  private void close(String model, ModelPromoted promoted, BaselineLayout layout,
      DriftPolicy policy, ModelWindows state, WindowCounts w, WindowKind kind) {
    ModelWindows ws = state;
    long sequence = ws.takeSequence();
    long start = w.bucket() != WindowCounts.NO_BUCKET && kind == WindowKind.TIME ? w.bucket()
        : w.minTime();
    long end = kind == WindowKind.TIME ? w.bucket() + policy.windowDuration().toMillis()
        : w.maxTime();
    DriftWindow window = DriftWindow.newBuilder().setKind(kind).setSequence(sequence)
        .setStartTime(Instant.ofEpochMilli(start)).setEndTime(Instant.ofEpochMilli(end))
        .setCount(w.count()).build();
    String reportId = id("report", model, promoted, sequence);
    DriftReport report = DriftEvaluator.evaluate(new DriftEvaluator.Subject(model,
        promoted.getAlias(), promoted.getVersion(), reportId, window), layout, w, policy);
    boolean judged = report.getFeatures().stream().anyMatch(f -> f.getDecidedBy() != null);
    int consecutive = ws.verdict(judged, report.getDrifted(), start);
    report.setConsecutiveDrifted(consecutive);
    metrics.report(report);
    context.forward(new Record<String, Object>(model, report, end));
    if (report.getDrifted() && consecutive >= policy.consecutiveWindows()
        && ws.outOfCooldown(end, policy.cooldown().toMillis())) {
      DriftAlert alert = DriftAlert.newBuilder()
          .setEventId(id("alert", model, promoted, sequence))
          .setEventTime(Instant.ofEpochMilli(end))
          .setModel(model)
          .setAlias(promoted.getAlias())
          .setBaselineVersion(promoted.getVersion())
          .setWindow(window)
          .setOnset(Instant.ofEpochMilli(ws.onset()))
          .setConsecutiveDrifted(consecutive)
          .setDriftedShare(report.getDriftedShare())
          .setTopFeatures(DriftEvaluator.mostDrifted(report, policy.topFeatures()))
          .setScore(report.getScore())
          .setReportId(reportId)
          .setPolicy(policy.describe())
          .build();
      ws.alerted(end);
      metrics.alert(alert);
      LOG.info("drift alert for {} v{}: {} consecutive drifted windows, {} of features drifted",
          model, promoted.getVersion(), consecutive, report.getDriftedShare());
      context.forward(new Record<String, Object>(model, alert, end));
    }
  }

  private ModelPromoted baseline(String model) {
    ModelPromoted m = current.get(model);
    if (m == null) {
      m = baselines.get(model);
      if (m != null) {
        current.put(model, m);
      }
    }
    return m;
  }

  /**
   * The budget of the windows of {@code promoted}'s baseline; the first time this processor sees
   * it, logs an error when the windows' counts alone do not fit, or how many labelled predictions
   * a window keeps when that is fewer than {@link WindowCounts#LABELLED_SAMPLE}.
   */
  private WindowBudget budget(String model, ModelPromoted promoted, DriftPolicy policy,
      BaselineLayout layout) {
    Cached<WindowBudget> cached = budgets.get(model);
    if (cached != null && cached.eventId().equals(promoted.getEventId())) {
      return cached.value();
    }
    String id = promoted.getEventId();
    WindowBudget b = computeBudget(model, promoted, policy, layout, id);
    budgets.put(model, new Cached<>(id, b));
    return b;
  }

  /** Computes and logs {@link #budget}. */
  private WindowBudget computeBudget(String model, ModelPromoted promoted, DriftPolicy policy,
      BaselineLayout layout, String id) {
    WindowBudget b = WindowBudget.of(model, maxRequestSize, policy, layout, id);
    if (!b.fits()) {
      LOG.error("drift: {}; its predictions and labels are counted as state_too_large in"
          + " flywheel.drift.predictions and flywheel.drift.labels",
          b.problem(model, promoted.getVersion(), context.applicationId() + "-"
              + DriftTopology.WINDOWS_STORE + "-changelog"));
    } else if (b.labelCapacity() == 0) {
      LOG.warn("drift: {} version {} keeps no labelled predictions: the counts of up to {}"
          + " windows open at once fill the {} bytes its windows may take, so its reports carry"
          + " no live performance. Keep fewer windows open at once (a longer window.duration or"
          + " a shorter window.grace), or raise max.request.size", model,
          promoted.getVersion(), b.maxOpenWindows(), b.bytes());
    } else if (b.labelCapacity() < WindowCounts.LABELLED_SAMPLE) {
      LOG.info("drift: {} version {} keeps at most {} labelled predictions per window (up to"
          + " {} windows open at once share {} bytes)",
          model, promoted.getVersion(), b.labelCapacity(), b.maxOpenWindows(), b.bytes());
    }
    return b;
  }

  private BaselineLayout layout(String model, ModelPromoted promoted) {
    Cached<BaselineLayout> cached = layouts.get(model);
    if (cached != null && cached.eventId().equals(promoted.getEventId())) {
      return cached.value();
    }
    BaselineLayout layout = BaselineLayout.of(promoted.getBaseline());
    layouts.put(model, new Cached<>(promoted.getEventId(), layout));
    return layout;
  }

  /** A value computed for the promotion {@code eventId}. */
  private record Cached<T>(String eventId, T value) {}

  /** Deterministic per model, baseline (promotion) and window: the same after a replay. */
  private static String id(String kind, String model, ModelPromoted promoted, long sequence) {
    String name = "flywheel-drift-" + kind + "|" + model + "|" + promoted.getVersion() + "|"
        + promoted.getEventId() + "|" + sequence;
    return UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8)).toString();
  }
}
