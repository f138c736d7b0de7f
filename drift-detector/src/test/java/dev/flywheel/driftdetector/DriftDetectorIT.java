package dev.flywheel.driftdetector;

import static dev.flywheel.driftdetector.Fixtures.T0;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.CommittedValues;
import dev.flywheel.devstack.junit.GroupOffsets;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.driftdetector.config.DriftDetectorConfig;
import dev.flywheel.driftdetector.config.DriftPolicy;
import dev.flywheel.driftdetector.topology.DriftTopology;
import dev.flywheel.driftdetector.window.BaselineLayout;
import dev.flywheel.driftdetector.window.DriftEvaluator;
import dev.flywheel.driftdetector.window.ModelWindows;
import dev.flywheel.driftdetector.window.WindowCounts;
import dev.flywheel.events.BaselineProfile;
import dev.flywheel.events.DriftReport;
import dev.flywheel.events.DriftWindow;
import dev.flywheel.events.FeatureDrift;
import dev.flywheel.events.ModelPromoted;
import dev.flywheel.events.Prediction;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * drift-detector on the embedded broker and registry, exactly-once, through a crash: the first
 * instance runs in its own JVM and is killed (no close, no commit of its open transaction) in the
 * middle of a window, or while it holds predictions that came before their version's promotion;
 * the second resumes from the changelogs and the committed offsets.
 */
@WithDevstack
class DriftDetectorIT {

  private static final int WINDOW = 1000;
  private static final int FEATURES = 3;

  @TempDir Path dir;

  @Test
  void shouldCountEveryPredictionExactlyOnceAcrossAKillWithoutClose(Devstack devstack,
      UniqueNames names) throws Exception {
    // Given a drift detector in its own JVM, windows of 1,000 predictions
    Detector d = startDetector(devstack, names, "drift");
    Topics topics = d.topics();
    String appId = d.applicationId();
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    try (KafkaProducer<String, Prediction> predictions = producer(devstack, topics.predictions());
        KafkaProducer<String, ModelPromoted> promotions = producer(devstack,
            topics.modelPromoted())) {
      BaselineProfile baseline = Fixtures.baseline(1, 5_000, FEATURES, true);
      ModelPromoted promoted = Fixtures.promoted(1, baseline, T0);
      Fixtures.Stream stream = new Fixtures.Stream(2, 1, FEATURES, true);
      List<Prediction> sent = new ArrayList<>();
      await().atMost(Duration.ofSeconds(60)).until(() -> topicExists(devstack,
          topics.predictions().name()));
      // And version 1 promoted, its baseline taken by the detector before predictions arrive
      // (so the kill below falls among counted predictions, not held ones)
      promotions.send(new ProducerRecord<>(topics.modelPromoted().name(), Fixtures.MODEL,
          promoted)).get();
      String byModel = appId + "-" + DriftTopology.BY_MODEL + "-repartition";
      await().atMost(Duration.ofSeconds(120))
          .until(() -> committed(devstack, appId, byModel) >= 1);
      // When 600 predictions are committed by it, 200 more arrive and the JVM is killed at once
      // (mid-window and mid-transaction), and the window's last 200 and a second full window
      // arrive while it is down
      feedAcrossAKill(devstack, d, predictions, stream, sent, 1);
      // And a new instance starts on the same state directory
      try (DriftDetectorService second = restart(devstack, d, meters)) {
        // Then two windows are reported, each of exactly 1,000 predictions
        List<DriftReport> reports;
        try {
          reports = readCommitted(devstack, topics.driftReports(), 2);
        } catch (RuntimeException | AssertionError e) {
          ModelWindows state = second.streams().store(StoreQueryParameters.fromNameAndType(
              DriftTopology.WINDOWS_STORE, QueryableStoreTypes.<String, ModelWindows>keyValueStore()))
              .get(Fixtures.MODEL);
          System.out.println("second instance's windows: next sequence " + state.nextSequence()
              + ", open " + state.open().stream().map(WindowCounts::count).toList());
          throw e;
        }
        // And each window's statistics are those of exactly the 1,000 predictions sent for it
        // (the predictions share one partition, so their order is the order they were sent):
        // none lost to the kill, none counted twice, none moved into the other window
        assertTwoWindowsOf(promoted, sent, reports);
      }
    } catch (AssertionError | RuntimeException e) {
      printDiagnostics(meters);
      throw e;
    } finally {
      d.first().destroyForcibly();
    }
  }

  @Test
  void shouldCountPredictionsHeldBeforeThePromotionExactlyOnceAcrossAKillWithoutClose(
      Devstack devstack, UniqueNames names) throws Exception {
    // Given a drift detector in its own JVM, windows of 1,000 predictions, and no version of the
    // model promoted yet, so that every prediction it reads is held for its version's promotion
    Detector d = startDetector(devstack, names, "drift-held");
    Topics topics = d.topics();
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    try (KafkaProducer<String, Prediction> predictions = producer(devstack, topics.predictions());
        KafkaProducer<String, ModelPromoted> promotions = producer(devstack,
            topics.modelPromoted())) {
      ModelPromoted promoted = Fixtures.promoted(1,
          Fixtures.baseline(1, 5_000, FEATURES, true), T0);
      Fixtures.Stream stream = new Fixtures.Stream(2, 1, FEATURES, true);
      List<Prediction> sent = new ArrayList<>();
      await().atMost(Duration.ofSeconds(60)).until(() -> topicExists(devstack,
          topics.predictions().name()));
      // When 600 predictions of version 1 are held and committed by it, 200 more arrive and the
      // JVM is killed at once (mid-transaction), and 1,200 more arrive while it is down
      feedAcrossAKill(devstack, d, predictions, stream, sent, 0);
      // And then version 1's promotion
      promotions.send(new ProducerRecord<>(topics.modelPromoted().name(), Fixtures.MODEL,
          promoted)).get();
      // And a new instance starts on the same state directory
      try (DriftDetectorService second = restart(devstack, d, meters)) {
        // Then the promotion counts the 2,000 held predictions, in the order they were sent,
        // into two windows of exactly 1,000: none lost to the kill, none held twice
        assertTwoWindowsOf(promoted, sent, readCommitted(devstack, topics.driftReports(), 2));
      }
    } catch (AssertionError | RuntimeException e) {
      printDiagnostics(meters);
      throw e;
    } finally {
      d.first().destroyForcibly();
    }
  }

  /** The first instance, in its own JVM, and what the test needs to talk to it. */
  private record Detector(AvroSerdes serdes, Topics topics, String applicationId, Path yaml,
      Path stateDir, Process first) {}

  /**
   * Starts the first instance in its own JVM under application id {@code app} (made unique),
   * with windows of {@link #WINDOW} predictions of one model.
   */
  private Detector startDetector(Devstack devstack, UniqueNames names, String app)
      throws Exception {
    AvroSerdes serdes = AvroSerdes.fromConfig(
        Map.of("schema.registry.url", devstack.schemaRegistryUrl()));
    Topics topics = Topics.builder(serdes).prefix(names.prefix()).build();
    String appId = names.applicationId(app);
    Path yaml = config(appId);
    Path stateDir = dir.resolve("state");
    return new Detector(serdes, topics, appId, yaml, stateDir,
        startChild(devstack, names, yaml, stateDir));
  }

  /**
   * Sends 600 predictions and waits until the first instance has committed them (its by-model
   * repartition offsets reach {@code committedBefore + 600}), sends 200 more and kills it at
   * once, then sends {@code 200 + WINDOW} more while it is down; all go to {@code sent}.
   */
  private static void feedAcrossAKill(Devstack devstack, Detector d,
      KafkaProducer<String, Prediction> predictions, Fixtures.Stream stream,
      List<Prediction> sent, long committedBefore) throws Exception {
    Topic<String, Prediction> topic = d.topics().predictions();
    double[] shift = {0.3, 0, 0};
    String byModel = d.applicationId() + "-" + DriftTopology.BY_MODEL + "-repartition";
    send(predictions, topic, stream, sent, 600, shift);
    await().atMost(Duration.ofSeconds(120)).until(
        () -> committed(devstack, d.applicationId(), byModel) >= committedBefore + 600);
    send(predictions, topic, stream, sent, 200, shift);
    d.first().destroyForcibly().waitFor();
    send(predictions, topic, stream, sent, 200 + WINDOW, shift);
  }

  /** A flywheel.yaml with the drift detector's application id and one model's window. */
  private Path config(String applicationId) throws Exception {
    Path yaml = dir.resolve("flywheel.yaml");
    Files.writeString(yaml, """
        driftDetector:
          applicationId: %s
        models:
          - name: %s
            training: {ignored: here}
            drift:
              window: {count: %d}
        """.formatted(applicationId, Fixtures.MODEL, WINDOW));
    return yaml;
  }

  /** The instance that takes over from the killed one, in this JVM, on its state directory. */
  private static DriftDetectorService restart(Devstack devstack, Detector d,
      SimpleMeterRegistry meters) throws Exception {
    return DriftDetectorService.builder()
        .config(DriftDetectorConfig.load(d.yaml()))
        .kafka(Map.of("bootstrap.servers", devstack.bootstrapServers()))
        .schemaRegistryUrl(devstack.schemaRegistryUrl())
        .topics(d.topics()).serdes(d.serdes()).stateDir(d.stateDir()).meterRegistry(meters)
        .build().start();
  }

  /**
   * Two windows, sequences 0 and 1, each of exactly {@link #WINDOW} predictions and with the
   * statistics of exactly the predictions sent for it.
   */
  private static void assertTwoWindowsOf(ModelPromoted promoted, List<Prediction> sent,
      List<DriftReport> reports) {
    assertThat(reports).extracting(r -> r.getWindow().getSequence()).containsExactly(0L, 1L);
    assertThat(reports).extracting(r -> r.getWindow().getCount())
        .containsExactly((long) WINDOW, (long) WINDOW);
    for (int w = 0; w < 2; w++) {
      DriftReport expected = evaluate(promoted,
          sent.subList(w * WINDOW, (w + 1) * WINDOW), reports.get(w));
      for (int i = 0; i < expected.getFeatures().size(); i++) {
        FeatureDrift want = expected.getFeatures().get(i);
        FeatureDrift got = reports.get(w).getFeatures().get(i);
        assertThat(got.getStatistics()).as("window %d, %s", w, want.getFeature())
            .isEqualTo(want.getStatistics());
      }
      assertThat(reports.get(w).getScore()).as("window %d, score", w)
          .isEqualTo(expected.getScore());
    }
  }

  /** The killed instance's log and the second instance's prediction outcomes. */
  private void printDiagnostics(SimpleMeterRegistry meters) throws IOException {
    Path log = dir.resolve("first-instance.log");
    if (Files.exists(log)) {
      System.out.println("first instance's log:\n" + Files.readString(log));
    }
    meters.find("flywheel.drift.predictions").counters().forEach(c -> System.out.println(
        "second instance: " + c.getId().getTag("outcome") + " " + c.count()));
  }

  private static DriftReport evaluate(ModelPromoted promoted, List<Prediction> window,
      DriftReport actual) {
    BaselineLayout layout = BaselineLayout.of(promoted.getBaseline());
    WindowCounts counts = WindowCounts.empty(layout, WindowCounts.NO_BUCKET);
    window.forEach(p -> counts.add(layout, p));
    DriftWindow w = actual.getWindow();
    return DriftEvaluator.evaluate(new DriftEvaluator.Subject(Fixtures.MODEL, "champion", 1,
        actual.getEventId(), w), layout, counts, DriftPolicy.defaults().withWindowCount(WINDOW));
  }

  private static Process startChild(Devstack devstack, UniqueNames names, Path yaml,
      Path stateDir) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    // A short session, so the restarted instance need not wait 45 s for the killed one's
    ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        "-D" + DriftDetectorMain.KAFKA_PROPERTY_PREFIX + "session.timeout.ms=6000",
        DriftDetectorMain.class.getName(), yaml.toString());
    pb.environment().put("FLYWHEEL_BOOTSTRAP_SERVERS", devstack.bootstrapServers());
    pb.environment().put("FLYWHEEL_SCHEMA_REGISTRY_URL", devstack.schemaRegistryUrl());
    pb.environment().put("FLYWHEEL_TOPIC_PREFIX", names.prefix());
    pb.environment().put("FLYWHEEL_STATE_DIR", stateDir.toString());
    pb.redirectErrorStream(true);
    pb.redirectOutput(new File(yaml.getParent().toFile(), "first-instance.log"));
    return pb.start();
  }

  private static void send(KafkaProducer<String, Prediction> producer,
      Topic<String, Prediction> topic, Fixtures.Stream stream, List<Prediction> sent, int n,
      double[] shift) throws Exception {
    for (int i = 0; i < n; i++) {
      Prediction p = stream.next(shift, null);
      sent.add(p);
      // One key, so one partition: the detector reads them in the order they were sent
      producer.send(new ProducerRecord<>(topic.name(), Fixtures.MODEL, p));
    }
    producer.flush();
  }

  private static <V> KafkaProducer<String, V> producer(Devstack devstack, Topic<String, V> t) {
    Map<String, Object> p = new HashMap<>();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, devstack.bootstrapServers());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    // one in flight: no batch overtakes a retried first one (KAFKA-15591)
    p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1);
    return new KafkaProducer<>(p, t.keySerde().serializer(), t.valueSerde().serializer());
  }

  private static boolean topicExists(Devstack devstack, String topic) throws Exception {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", devstack.bootstrapServers()))) {
      return admin.listTopics().names().get().contains(topic);
    }
  }

  private static long committed(Devstack devstack, String group, String topic) throws Exception {
    return GroupOffsets.committedSum(devstack.bootstrapServers(), group, topic);
  }

  private static <V> List<V> readCommitted(Devstack devstack, Topic<String, V> topic, int n) {
    AtomicReference<List<V>> out = new AtomicReference<>(List.of());
    await().atMost(Duration.ofSeconds(180)).untilAsserted(() -> {
      out.set(CommittedValues.of(devstack.bootstrapServers(), topic));
      assertThat(out.get()).as("records on %s", topic.name()).hasSizeGreaterThanOrEqualTo(n);
    });
    return out.get();
  }
}
