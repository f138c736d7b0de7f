package dev.flywheel.platform.demo;

import dev.flywheel.events.DriftAlert;
import dev.flywheel.events.DriftReport;
import dev.flywheel.events.FeatureDrift;
import dev.flywheel.events.FeatureVector;
import dev.flywheel.events.ModelEvent;
import dev.flywheel.events.ModelPromoted;
import dev.flywheel.events.CommandOutcome;
import dev.flywheel.events.Prediction;
import dev.flywheel.events.RunStatus;
import dev.flywheel.events.TrainingReason;
import dev.flywheel.events.TrainingRun;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the loop from outside, as a user with a Kafka client would: one {@code read_committed}
 * consumer (no group) on the feature log, predictions, training runs, model events, promotions,
 * drift reports and alerts of one model, from their beginning. It counts what flows, keeps the
 * latest drift statistics, measures the time from each payment to its prediction, and records a
 * timeline of the loop's stages with the wall-clock time each was seen.
 */
public final class LoopObserver implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(LoopObserver.class);
  private static final Duration POLL = Duration.ofMillis(100);

  private final String model;
  private final Topics topics;
  private final Function<String, Long> sentAtMs;
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final Thread thread;
  private final long startMs;
  private final List<Consumer<Stage>> listeners = new CopyOnWriteArrayList<>();
  private final List<Stage> timeline = new ArrayList<>();
  private final Map<Integer, Long> predictionsByVersion = new TreeMap<>();
  private final Map<Integer, Long> firstPredictionAtMs = new HashMap<>();
  private final Map<Integer, Long> promotedAtMs = new TreeMap<>();
  private final Map<Integer, String> promotedRunIds = new HashMap<>();
  private final Map<String, TrainingRun> completedRuns = new TreeMap<>();
  private final Map<String, Long> runStartedAtMs = new HashMap<>();
  private final Map<String, Long> runCompletedAtMs = new HashMap<>();
  private final Map<Integer, Long> driftedAtMs = new HashMap<>();
  private final List<DriftAlert> alerts = new ArrayList<>();
  private final List<Long> alertAtMs = new ArrayList<>();
  private long[] latencies = new long[1024];
  private int latencyCount;
  private long features;
  private long firstFeatureAtMs;
  private long lastFeatureAtMs;
  private long predictions;
  private long firstPredictionMs;
  private long lastPredictionMs;
  private long reports;
  private DriftReport latestReport;
  private volatile boolean running = true;
  private volatile String failure;

  /**
   * @param kafka consumer properties: bootstrap servers and any security settings
   * @param topics the catalogue (names and Avro deserializers)
   * @param model the model whose loop is watched
   * @param sentAtMs when a payment was sent, by event id (taken: asked once per payment)
   * @param startMs the wall-clock instant stage times are counted from
   */
  public LoopObserver(Map<String, Object> kafka, Topics topics, String model,
      Function<String, Long> sentAtMs, long startMs) {
    this.startMs = startMs;
    this.topics = Objects.requireNonNull(topics, "topics");
    this.model = Objects.requireNonNull(model, "model");
    this.sentAtMs = Objects.requireNonNull(sentAtMs, "sentAtMs");
    Map<String, Object> props = new HashMap<>(kafka);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000);
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, "flywheel-demo-observer");
    this.consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
        new ByteArrayDeserializer());
    this.thread = new Thread(this::run, "flywheel-demo-observer");
    this.thread.setDaemon(true);
  }

  /** Called with each stage as it is recorded, on the observer's thread. */
  public LoopObserver onStage(Consumer<Stage> listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
    return this;
  }

  /** Assigns every partition of the watched topics from the beginning and starts reading. */
  public LoopObserver start() {
    List<TopicPartition> partitions = new ArrayList<>();
    for (Topic<?, ?> t : watched()) {
      consumer.partitionsFor(t.name(), Duration.ofSeconds(30))
          .forEach(p -> partitions.add(new TopicPartition(p.topic(), p.partition())));
    }
    consumer.assign(partitions);
    consumer.seekToBeginning(partitions);
    thread.start();
    return this;
  }

  private List<Topic<?, ?>> watched() {
    return List.of(topics.features(), topics.predictions(), topics.trainingRuns(),
        topics.modelEvents(), topics.modelPromoted(), topics.driftReports(),
        topics.driftAlerts());
  }

  /** Records a stage the demo itself caused, such as the traffic shift. */
  public void mark(String what) {
    record(what);
  }

  private void run() {
    try {
      while (running) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(POLL)) {
          try {
            handle(r);
          } catch (RuntimeException e) {
            log.warn("demo observer could not read a record of {} at offset {}: {}", r.topic(),
                r.offset(), e.toString());
          }
        }
      }
    } catch (WakeupException e) {
      // closing
    } catch (RuntimeException e) {
      failure = e.toString();
      log.error("demo observer stopped", e);
    } finally {
      consumer.close(Duration.ofSeconds(5));
    }
  }

  private void handle(ConsumerRecord<byte[], byte[]> r) {
    String t = r.topic();
    if (t.equals(topics.features().name())) {
      FeatureVector v = decode(topics.features(), r);
      onFeature(v);
    } else if (t.equals(topics.predictions().name())) {
      onPrediction(decode(topics.predictions(), r));
    } else if (t.equals(topics.trainingRuns().name())) {
      onRun(decode(topics.trainingRuns(), r));
    } else if (t.equals(topics.modelEvents().name())) {
      onModelEvent(decode(topics.modelEvents(), r));
    } else if (t.equals(topics.modelPromoted().name())) {
      onPromoted(decode(topics.modelPromoted(), r));
    } else if (t.equals(topics.driftReports().name())) {
      onReport(decode(topics.driftReports(), r));
    } else if (t.equals(topics.driftAlerts().name())) {
      onAlert(decode(topics.driftAlerts(), r));
    }
  }

  private static <V> V decode(Topic<String, V> topic, ConsumerRecord<byte[], byte[]> r) {
    return topic.valueSerde().deserializer().deserialize(r.topic(), r.headers(), r.value());
  }

  private synchronized void onFeature(FeatureVector v) {
    long now = System.currentTimeMillis();
    if (features++ == 0) {
      firstFeatureAtMs = now;
      record("first feature vector (" + v.getFeatureGroup() + ", " + v.getEntityId() + ")");
    }
    lastFeatureAtMs = now;
  }

  private synchronized void onPrediction(Prediction p) {
    if (!model.equals(p.getModel()) || p.getShadow()) {
      return;
    }
    long now = System.currentTimeMillis();
    if (predictions++ == 0) {
      firstPredictionMs = now;
    }
    lastPredictionMs = now;
    predictionsByVersion.merge(p.getVersion(), 1L, Long::sum);
    if (firstPredictionAtMs.putIfAbsent(p.getVersion(), now) == null) {
      record(String.format(Locale.ROOT, "v%d serving: first prediction (%s, score %.3f)",
          p.getVersion(), p.getEntityId(), p.getScore()));
    }
    Long sent = sentAtMs.apply(p.getEventId());
    if (sent != null) {
      if (latencyCount == latencies.length) {
        latencies = Arrays.copyOf(latencies, latencies.length * 2);
      }
      latencies[latencyCount++] = Math.max(0, p.getScoredAt().toEpochMilli() - sent);
    }
  }

  private synchronized void onRun(TrainingRun run) {
    if (!model.equals(run.getModel())) {
      return;
    }
    long now = System.currentTimeMillis();
    if (run.getStatus() == RunStatus.STARTED) {
      runStartedAtMs.putIfAbsent(run.getRunId(), now);
      record("training " + run.getRunId() + " started (attempt " + run.getAttempt() + "; "
          + reasons(run) + ")");
    } else if (run.getStatus() == RunStatus.COMPLETED) {
      completedRuns.put(run.getRunId(), run);
      runCompletedAtMs.putIfAbsent(run.getRunId(), now);
      Double auc = run.getMetrics() == null ? null : run.getMetrics().get("auc");
      long rows = run.getLineage() == null || run.getLineage().getDataset() == null ? 0
          : run.getLineage().getDataset().getTrainRows()
              + run.getLineage().getDataset().getHoldoutRows();
      record(String.format(Locale.ROOT, "training %s completed in %.1f s: %d rows, holdout auc %s",
          run.getRunId(), run.getDurationMs() == null ? 0 : run.getDurationMs() / 1000.0, rows,
          auc == null ? "-" : String.format(Locale.ROOT, "%.3f", auc)));
    } else if (run.getStatus() == RunStatus.FAILED) {
      record("training " + run.getRunId() + " FAILED (attempt " + run.getAttempt() + "): "
          + run.getError());
    }
  }

  private static String reasons(TrainingRun run) {
    if (run.getLineage() == null || run.getLineage().getReasons() == null) {
      return "no reason recorded";
    }
    return run.getLineage().getReasons().stream()
        .map(r -> r.getKind() + (r.getDetail() == null ? "" : " \"" + r.getDetail() + "\""))
        .collect(Collectors.joining(", "));
  }

  private synchronized void onModelEvent(ModelEvent e) {
    if (model.equals(e.getModel()) && e.getOutcome() == CommandOutcome.REJECTED) {
      record("registry rejected " + (e.getVersion() == null ? "a command" : "v" + e.getVersion())
          + (e.getAlias() == null ? "" : " for " + e.getAlias()) + ": " + e.getReason());
    }
  }

  private synchronized void onPromoted(ModelPromoted p) {
    if (!model.equals(p.getModel())) {
      return;
    }
    promotedAtMs.put(p.getVersion(), System.currentTimeMillis());
    if (p.getLineage() != null) {
      promotedRunIds.put(p.getVersion(), p.getLineage().getRunId());
    }
    Double auc = p.getMetrics() == null ? null : p.getMetrics().get("auc");
    record(String.format(Locale.ROOT, "v%d promoted to %s%s by %s", p.getVersion(), p.getAlias(),
        auc == null ? "" : String.format(Locale.ROOT, " (auc %.3f)", auc),
        p.getActor() == null ? "?" : p.getActor().getName()));
  }

  private synchronized void onReport(DriftReport report) {
    if (!model.equals(report.getModel())) {
      return;
    }
    reports++;
    DriftReport previous = latestReport;
    latestReport = report;
    boolean wasDrifted = previous != null && previous.getDrifted()
        && previous.getBaselineVersion() == report.getBaselineVersion();
    if (report.getDrifted()) {
      driftedAtMs.putIfAbsent(report.getBaselineVersion(), System.currentTimeMillis());
    }
    if (report.getDrifted() && !wasDrifted) {
      record(String.format(Locale.ROOT, "window %d against v%d drifted: %.0f%% of features (%s)",
          report.getWindow().getSequence(), report.getBaselineVersion(),
          report.getDriftedShare() * 100, topDrifted(report.getFeatures(), 3)));
    }
  }

  private synchronized void onAlert(DriftAlert alert) {
    if (!model.equals(alert.getModel())) {
      return;
    }
    alerts.add(alert);
    alertAtMs.add(System.currentTimeMillis());
    record(String.format(Locale.ROOT,
        "DRIFT ALERT against v%d: %d windows in a row, %.0f%% of features drifted (%s)",
        alert.getBaselineVersion(), alert.getConsecutiveDrifted(),
        alert.getDriftedShare() * 100, topDrifted(alert.getTopFeatures(), 3)));
  }

  static String topDrifted(List<FeatureDrift> features, int n) {
    if (features == null || features.isEmpty()) {
      return "no features";
    }
    return features.stream().filter(FeatureDrift::getDrifted).limit(n)
        .map(f -> f.getFeature().toString()).collect(Collectors.joining(", "));
  }

  private synchronized void record(String what) {
    Stage stage = new Stage(System.currentTimeMillis() - startMs, what);
    timeline.add(stage);
    for (Consumer<Stage> l : listeners) {
      l.accept(stage);
    }
  }

  /** Feature vectors seen so far. */
  public synchronized long featuresSeen() {
    return features;
  }

  /** Milliseconds since {@code startMs}. */
  public long elapsedMs() {
    return System.currentTimeMillis() - startMs;
  }

  /** The instant stage times are counted from (wall clock). */
  public long startMs() {
    return startMs;
  }

  /** Why the observer stopped reading, if it did. */
  public Optional<String> failure() {
    return Optional.ofNullable(failure);
  }

  /** Everything seen so far. */
  public synchronized Snapshot snapshot() {
    long[] sorted = Arrays.copyOf(latencies, latencyCount);
    Arrays.sort(sorted);
    return new Snapshot(System.currentTimeMillis(), features, firstFeatureAtMs, lastFeatureAtMs,
        predictions, firstPredictionMs, lastPredictionMs, new TreeMap<>(predictionsByVersion),
        new TreeMap<>(promotedAtMs), Map.copyOf(promotedRunIds), Map.copyOf(firstPredictionAtMs),
        new TreeMap<>(completedRuns), Map.copyOf(runStartedAtMs), Map.copyOf(runCompletedAtMs),
        Map.copyOf(driftedAtMs), List.copyOf(alerts),
        List.copyOf(alertAtMs), reports, latestReport, List.copyOf(timeline),
        percentile(sorted, 0.50), percentile(sorted, 0.99), sorted.length);
  }

  private static long percentile(long[] sorted, double p) {
    if (sorted.length == 0) {
      return -1;
    }
    int i = (int) Math.ceil(p * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }

  /** Stops reading. Idempotent. */
  @Override
  public void close() {
    running = false;
    consumer.wakeup();
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * One step of the loop, seen {@code atMs} after the demo started.
   *
   * @param atMs milliseconds since the demo started
   * @param what what happened
   */
  public record Stage(long atMs, String what) {

    /** {@code  +12.3s  what}. */
    public String line() {
      return String.format(Locale.ROOT, "%+7.1fs  %s", atMs / 1000.0, what);
    }
  }

  /**
   * What the observer had seen at {@code atMs}; times are wall-clock milliseconds, 0 when not
   * yet seen.
   */
  public record Snapshot(long atMs, long features, long firstFeatureAtMs, long lastFeatureAtMs,
      long predictions, long firstPredictionAtMs, long lastPredictionAtMs,
      Map<Integer, Long> predictionsByVersion, Map<Integer, Long> promotedAtMs,
      Map<Integer, String> promotedRunIds, Map<Integer, Long> firstPredictionByVersionAtMs,
      Map<String, TrainingRun> completedRuns, Map<String, Long> runStartedAtMs,
      Map<String, Long> runCompletedAtMs, Map<Integer, Long> firstDriftedAtMsByBaseline,
      List<DriftAlert> alerts, List<Long> alertAtMs, long reports, DriftReport latestReport,
      List<Stage> timeline, long latencyP50Ms, long latencyP99Ms, long latencySamples) {

    /** The highest version promoted so far, or 0. */
    public int latestPromoted() {
      return promotedAtMs.isEmpty() ? 0 : ((TreeMap<Integer, Long>) promotedAtMs).lastKey();
    }

    /** Whether a prediction of {@code version} was seen. */
    public boolean serving(int version) {
      return firstPredictionByVersionAtMs.containsKey(version);
    }

    /** The completed run that produced {@code version}, if seen. */
    public Optional<TrainingRun> runOf(int version) {
      String runId = promotedRunIds.get(version);
      return Optional.ofNullable(runId == null ? null : completedRuns.get(runId));
    }

    /** Whether some completed run was asked for by a drift alert. */
    public boolean retrainedOnDrift() {
      return completedRuns.values().stream().anyMatch(LoopObserver::causedByDrift);
    }
  }

  static boolean causedByDrift(TrainingRun run) {
    return run.getLineage() != null && run.getLineage().getReasons() != null
        && run.getLineage().getReasons().stream().map(TrainingReason::getKind)
            .anyMatch(k -> k == dev.flywheel.events.TriggerKind.DRIFT_ALERT);
  }
}
