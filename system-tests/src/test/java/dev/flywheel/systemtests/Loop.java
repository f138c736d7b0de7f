package dev.flywheel.systemtests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.CommittedValues;
import dev.flywheel.devstack.junit.GroupOffsets;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WrittenRecords;
import dev.flywheel.driftdetector.topology.DriftTopology;
import dev.flywheel.events.Actor;
import dev.flywheel.events.ActorKind;
import dev.flywheel.events.BaselineProfile;
import dev.flywheel.events.DriftAlert;
import dev.flywheel.events.DriftReport;
import dev.flywheel.events.FeatureProfile;
import dev.flywheel.events.FeatureProfiles;
import dev.flywheel.events.FeatureVector;
import dev.flywheel.events.Label;
import dev.flywheel.events.ModelArtifact;
import dev.flywheel.events.ModelFormat;
import dev.flywheel.events.ModelPromoted;
import dev.flywheel.events.ModelSignature;
import dev.flywheel.events.ModelTask;
import dev.flywheel.events.RegisterVersion;
import dev.flywheel.events.RegistryCommand;
import dev.flywheel.events.RunStatus;
import dev.flywheel.events.TrainingReason;
import dev.flywheel.events.TrainingRequested;
import dev.flywheel.events.TrainingRun;
import dev.flywheel.events.Transaction;
import dev.flywheel.featurestreams.FeatureGroupPlan;
import dev.flywheel.featurestreams.FeatureStreamsConfig;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.servingsink.model.ModelLoader;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.TopicBootstrap;
import dev.flywheel.topics.Topics;
import dev.flywheel.trainingtrigger.ManualRequests;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.DMatrix;
import ml.dmlc.xgboost4j.java.XGBoost;
import ml.dmlc.xgboost4j.java.XGBoostError;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The fraud loop's pieces for system tests, on one test's topic prefix: the transactions source
 * and every topic of the catalogue (with the dead-letter topics the processors write), the {@code
 * card_activity} feature group, a real XGBoost model over four of its features with a baseline,
 * its promotion, generated transactions, and read_committed readers that count what the
 * processors wrote.
 */
final class Loop {

  static final String SOURCE = "transactions";
  static final String GROUP = "card_activity";
  static final String MODEL = "fraud";
  /** The model's inputs, features of {@link #GROUP}. */
  static final List<String> MODEL_FEATURES = List.of("amount_last", "tx_count_10m",
      "amount_mean_7d", "distinct_merchants_24h");
  /** A killed group member leaves after 6 s (the broker's minimum), not 45 s. */
  static final Map<String, Object> FAST_GROUP =
      Map.of("session.timeout.ms", 6000, "heartbeat.interval.ms", 1500);

  private static final String[] CHANNELS = {"POS", "ECOMMERCE", "ATM", "MOBILE"};
  private static final int CARDS = 50;
  /**
   * The training command of {@link #trainingYaml}: writes a model file named after its run and
   * the manifest training-trigger reads, as a user's trainer would, in a few milliseconds.
   */
  private static final String TRAIN_SCRIPT = """
      out="$FLYWHEEL_OUTPUT_DIR"
      printf 'model of %s\\n' "$FLYWHEEL_RUN_ID" > "$out/model.onnx"
      printf '{"artifact": "model.onnx", "format": "ONNX", "metrics": {"auc": 0.5}}' \\
          > "$out/manifest.json.tmp"
      mv "$out/manifest.json.tmp" "$out/manifest.json"
      """;

  final Devstack devstack;
  final UniqueNames names;
  final Path dir;
  final AvroSerdes serdes;
  final Topics topics;
  /** Event time of transaction 0: recent, so the 7-day retention of raw data keeps them all. */
  final long t0 = Instant.now().minus(Duration.ofHours(1)).toEpochMilli();

  Loop(Devstack devstack, UniqueNames names, Path dir) {
    this.devstack = devstack;
    this.names = names;
    this.dir = dir;
    this.serdes = AvroSerdes.fromConfig(Map.of("schema.registry.url",
        devstack.schemaRegistryUrl()));
    this.topics = Topics.builder(serdes).prefix(names.prefix()).build();
  }

  /** Creates every topic of the catalogue, the source's, and the dead-letter topics. */
  Loop createTopics() {
    List<Topic<?, ?>> all = new ArrayList<>(topics.all());
    all.add(data());
    for (Topic<?, ?> t : List.of(data(), topics.features(), topics.predictions(),
        topics.registryCommands(), topics.labels(), topics.modelPromoted())) {
      all.add(topics.dlq(t));
    }
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", devstack.bootstrapServers()))) {
      new TopicBootstrap(admin).ensure(all);
    }
    return this;
  }

  /** Registers the transactions source's schema as ingest does (key and time properties). */
  Loop registerSource() {
    serdes.client().register(data().name() + "-value", sourceSchema());
    return this;
  }

  Topic<String, GenericRecord> data() {
    return topics.data(SOURCE);
  }

  static Schema sourceSchema() {
    Schema schema = new Schema.Parser().parse(Transaction.getClassSchema().toString());
    schema.addProp(FeatureGroupPlan.SOURCE_KEY_PROPERTY, "card_id");
    schema.addProp(FeatureGroupPlan.SOURCE_TIME_PROPERTY, "event_time");
    return schema;
  }

  /** The feature engine's {@code flywheel.yaml}: the card_activity group. */
  Path featuresYaml() {
    return write("features.yaml", resource(FeatureStreamsConfig.CARD_ACTIVITY_RESOURCE));
  }

  /** serving-sink's {@code flywheel.yaml}: the model's inputs from card_activity. */
  Path servingYaml(String instanceId) {
    return servingYaml(instanceId, 100);
  }

  /** serving-sink's {@code flywheel.yaml}, scoring at most {@code maxBatch} vectors a batch. */
  Path servingYaml(String instanceId, int maxBatch) {
    return write("serving-" + instanceId + ".yaml", String.join("\n",
        "servingSink:",
        "  applicationId: " + names.applicationId("serving"),
        "  instanceId: " + instanceId,
        "  startFrom: earliest",
        "  maxBatch: " + maxBatch,
        "  featureGroups:",
        "    " + GROUP + ": [" + String.join(", ", MODEL_FEATURES) + "]",
        ""));
  }

  /** registry-projector's {@code flywheel.yaml}. */
  Path registryYaml() {
    return write("registry.yaml", "registry: {applicationId: "
        + names.applicationId("registry") + ", port: 0}\n");
  }

  /** drift-detector's {@code flywheel.yaml}: windows of {@code window} predictions. */
  Path driftYaml(int window) {
    return write("drift.yaml", String.join("\n",
        "driftDetector:",
        "  applicationId: " + names.applicationId("drift"),
        "models:",
        "  - name: " + MODEL,
        "    drift:",
        "      window: {count: " + window + "}",
        ""));
  }

  /**
   * training-trigger's {@code flywheel.yaml}: {@code models}, each trained on card_activity with
   * the model's inputs by {@link #TRAIN_SCRIPT} (the command executor), never retried (a failed
   * attempt stays FAILED and shows in the runs topic), and not triggered by drift alerts; its
   * state, artifacts and work folders under this test's folder.
   */
  Path trainingYaml(List<String> models) {
    Path script = write("train.sh", TRAIN_SCRIPT);
    StringBuilder yaml = new StringBuilder(String.join("\n",
        "trainingTrigger:",
        "  applicationId: " + names.applicationId("training"),
        "  stateDir: " + dir.resolve("training-state"),
        "  artifactDir: " + dir.resolve("training-artifacts"),
        "  workDir: " + dir.resolve("training-work"),
        "  tick: PT1S",
        "models:",
        ""));
    for (String model : models) {
      yaml.append(String.join("\n",
          "  - name: " + model,
          "    featureGroup: " + GROUP,
          "    features: [" + String.join(", ", MODEL_FEATURES) + "]",
          "    training:",
          "      trainer: system-test-script",
          "      executor: {kind: command, command: [sh, " + script + "], timeout: PT1M}",
          "    triggers: {drift: false, retry: {maxAttempts: 1}}",
          ""));
    }
    return write("training.yaml", yaml.toString());
  }

  private Path write(String name, String text) {
    try {
      return Files.writeString(dir.resolve(name), text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String resource(String name) {
    try (var in = Loop.class.getResourceAsStream(name)) {
      return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // ---- transactions

  /** Transaction {@code i}: card {@code i % 50}, one second after transaction {@code i - 1}. */
  GenericRecord transaction(int i) {
    Random r = new Random(i);
    Schema schema = sourceSchema();
    GenericData.Record tx = new GenericData.Record(schema);
    tx.put("event_id", eventId(i));
    tx.put("card_id", card(i));
    tx.put("merchant", "m-" + r.nextInt(30));
    tx.put("category", "grocery");
    tx.put("amount", Math.round(r.nextDouble() * 20_000) / 100.0);
    tx.put("currency", "EUR");
    tx.put("country", "C" + r.nextInt(5));
    tx.put("channel", new GenericData.EnumSymbol(schema.getField("channel").schema(),
        CHANNELS[r.nextInt(CHANNELS.length)]));
    tx.put("event_time", timeMs(i));
    return tx;
  }

  /** Transaction {@code i} as the JSON ingest accepts. */
  String transactionJson(int i) {
    GenericRecord tx = transaction(i);
    return "{\"event_id\": \"" + tx.get("event_id") + "\", \"card_id\": \"" + tx.get("card_id")
        + "\", \"merchant\": \"" + tx.get("merchant") + "\", \"category\": \"grocery\", "
        + "\"amount\": " + tx.get("amount") + ", \"currency\": \"EUR\", \"country\": \""
        + tx.get("country") + "\", \"channel\": \"" + tx.get("channel") + "\", \"event_time\": "
        + tx.get("event_time") + "}";
  }

  static String eventId(int i) {
    return "tx-" + i;
  }

  static String card(int i) {
    return "card-" + (i % CARDS);
  }

  long timeMs(int i) {
    return t0 + i * 1000L;
  }

  /** Produces transactions {@code from .. from+count-1} straight to the source topic. */
  void produceTransactions(int from, int count) {
    try (KafkaProducer<String, GenericRecord> producer = producer(data())) {
      awaitAll(sendTransactions(producer, from, from + count));
    }
  }

  /**
   * Produces transactions {@code 0 .. count-1} in chunks of {@code chunk}, each chunk once {@code
   * scored} has counted at least its first index less three chunks: a producer that keeps just
   * ahead of the chain, so there is always work in flight and never the whole backlog. While
   * nothing is scored (a killed chain) it waits, up to three minutes a chunk. Transactions from
   * {@code holdAt} on are sent only once {@code resume} is counted down, so the test decides what
   * is still to come when it acts (e.g. kills the chain).
   */
  void produceTransactionsPaced(int count, int chunk, WrittenRecords scored, int holdAt,
      CountDownLatch resume) {
    try (KafkaProducer<String, GenericRecord> producer = producer(data())) {
      List<Future<?>> sent = new ArrayList<>();
      for (int from = 0; from < count; from += chunk) {
        int upTo = from;
        if (from >= holdAt) {
          await().atMost(Duration.ofMinutes(5)).until(() -> resume.getCount() == 0);
        }
        await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(50))
            .until(() -> scored.count() >= upTo - 3L * chunk);
        sent.addAll(sendTransactions(producer, from, Math.min(count, from + chunk)));
      }
      awaitAll(sent);
    }
  }

  /** Sends transactions {@code from .. to-1} and flushes; the futures of their sends. */
  private List<Future<?>> sendTransactions(KafkaProducer<String, GenericRecord> producer,
      int from, int to) {
    List<Future<?>> sent = new ArrayList<>();
    for (int i = from; i < to; i++) {
      sent.add(producer.send(new ProducerRecord<>(data().name(), null, timeMs(i), card(i),
          transaction(i))));
    }
    producer.flush();
    return sent;
  }

  /** Waits for every send. @throws IllegalStateException if one failed */
  private static void awaitAll(List<Future<?>> sent) {
    try {
      for (Future<?> f : sent) {
        f.get();
      }
    } catch (Exception e) {
      throw new IllegalStateException("producing transactions failed", e);
    }
  }


  /** Feature vectors of card_activity with the model's inputs, event ids {@code v-<i>}. */
  void produceVectors(int from, int count) {
    produceVectors(from, count, 0);
  }

  /**
   * Feature vectors of card_activity with the model's inputs and {@code extra} more features
   * the model does not read (to make each vector bigger), event ids {@code v-<i>}.
   */
  void produceVectors(int from, int count, int extra) {
    List<Future<?>> sent = new ArrayList<>();
    try (KafkaProducer<String, FeatureVector> producer = producer(topics.features())) {
      for (int i = from; i < from + count; i++) {
        Map<String, Double> values = new java.util.LinkedHashMap<>();
        values.put("amount_last", (double) (i % 200));
        values.put("tx_count_10m", (double) (i % 4));
        values.put("amount_mean_7d", (double) (i % 150));
        values.put("distinct_merchants_24h", (double) (i % 9));
        for (int e = 0; e < extra; e++) {
          values.put("unused_feature_" + e, i + e / 1000.0);
        }
        Instant t = Instant.ofEpochMilli(timeMs(i));
        FeatureVector v = FeatureVector.newBuilder().setEventId("v-" + i).setEventTime(t)
            .setEntityId(card(i)).setFeatureGroup(GROUP).setFeatures(values).setAsOf(t).build();
        sent.add(producer.send(new ProducerRecord<>(topics.features().name(), v.getEntityId(),
            v)));
      }
      producer.flush();
      for (Future<?> f : sent) {
        f.get();
      }
    } catch (Exception e) {
      throw new IllegalStateException("producing feature vectors failed", e);
    }
  }

  <V> KafkaProducer<String, V> producer(Topic<String, V> topic) {
    KafkaProducer<String, V> producer = new KafkaProducer<>(producerConfig(),
        topic.keySerde().serializer(), topic.valueSerde().serializer());
    await().atMost(Duration.ofSeconds(30)).until(() -> producer.partitionsFor(topic.name())
        .stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty()));
    return producer;
  }

  Map<String, Object> producerConfig() {
    return Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, devstack.bootstrapServers(),
        ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
        // one in flight: no batch overtakes a retried first one (KAFKA-15591)
        ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1,
        ProducerConfig.LINGER_MS_CONFIG, 5);
  }

  /** Sends raw bytes (poison pills) to a topic. */
  void sendRaw(String topic, List<byte[]> values) {
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerConfig(),
        new ByteArraySerializer(), new ByteArraySerializer())) {
      for (byte[] v : values) {
        producer.send(new ProducerRecord<>(topic, "pill".getBytes(), v)).get();
      }
    } catch (Exception e) {
      throw new IllegalStateException("sending to " + topic + " failed", e);
    }
  }

  <V> void send(Topic<String, V> topic, String key, V value) {
    try (KafkaProducer<String, V> producer = producer(topic)) {
      producer.send(new ProducerRecord<>(topic.name(), key, value)).get();
    } catch (Exception e) {
      throw new IllegalStateException("sending to " + topic.name() + " failed", e);
    }
  }

  // ---- registry commands

  /** A command registering a new version of {@code model} (its artifact named by {@code i}). */
  static RegistryCommand registerVersion(String model, String commandId, int i) {
    RegisterVersion register = RegisterVersion.newBuilder()
        .setArtifact(ModelArtifact.newBuilder().setUri("file:///artifacts/" + model + "-" + i)
            .setSha256(String.format("%064x", i + 1)).setFormat(ModelFormat.XGBOOST).build())
        .setSignature(ModelSignature.newBuilder().setFeatureNames(MODEL_FEATURES)
            .setFeatureGroup(GROUP).setTask(ModelTask.BINARY_CLASSIFICATION)
            .setDecisionThreshold(0.5).build())
        .build();
    return RegistryCommand.newBuilder().setEventId(commandId).setEventTime(Instant.now())
        .setModel(model)
        .setActor(Actor.newBuilder().setName("alice").setKind(ActorKind.HUMAN)
            .setRoles(List.of("ml-engineer")).build())
        .setCommand(register).build();
  }

  /** Sends commands, each keyed by its model. */
  void sendCommands(List<RegistryCommand> commands) {
    try (KafkaProducer<String, RegistryCommand> producer = producer(topics.registryCommands())) {
      List<Future<?>> sent = new ArrayList<>();
      for (RegistryCommand c : commands) {
        sent.add(producer.send(new ProducerRecord<>(topics.registryCommands().name(),
            c.getModel(), c)));
      }
      for (Future<?> f : sent) {
        f.get();
      }
    } catch (Exception e) {
      throw new IllegalStateException("sending commands failed", e);
    }
  }

  // ---- labels and training requests

  /**
   * Labels of transactions {@code from .. from+count-1} (target {@code label}: 1 for every
   * seventh), each known a second after its transaction, so the feature log joins them into
   * training rows as soon as their vectors are written.
   */
  void produceLabels(int from, int count) {
    try (KafkaProducer<String, Label> producer = producer(topics.labels())) {
      List<Future<?>> sent = new ArrayList<>();
      for (int i = from; i < from + count; i++) {
        Label label = Label.newBuilder().setEventId(eventId(i))
            .setEventTime(Instant.ofEpochMilli(timeMs(i) + 1000))
            .setLabelledEventTime(Instant.ofEpochMilli(timeMs(i))).setEntityId(card(i))
            .setValue(i % 7 == 0 ? 1.0 : 0.0).setSource("system-test").build();
        sent.add(producer.send(new ProducerRecord<>(topics.labels().name(), null, timeMs(i),
            label.getEventId(), label)));
      }
      for (Future<?> f : sent) {
        f.get();
      }
    } catch (Exception e) {
      throw new IllegalStateException("producing labels failed", e);
    }
  }

  /**
   * One manual training request per model, as {@code flywheel train} writes it, keyed by model.
   *
   * @return each model's request id, in the order of {@code models}
   */
  Map<String, String> requestTraining(List<String> models) {
    Map<String, String> ids = new LinkedHashMap<>();
    try (KafkaProducer<String, TrainingRequested> producer =
        producer(topics.trainingRequests())) {
      List<Future<?>> sent = new ArrayList<>();
      for (String model : models) {
        TrainingRequested r = ManualRequests.of(model, "system test", "system-test", Map.of(),
            Instant.now());
        ids.put(model, r.getEventId());
        sent.add(producer.send(new ProducerRecord<>(topics.trainingRequests().name(), model,
            r)));
      }
      for (Future<?> f : sent) {
        f.get();
      }
    } catch (Exception e) {
      throw new IllegalStateException("sending training requests failed", e);
    }
    return ids;
  }

  /** Models {@code <prefix>-0 .. <prefix>-<count-1>}. */
  static List<String> models(String prefix, int count) {
    return IntStream.range(0, count).mapToObj(i -> prefix + "-" + i).toList();
  }

  // ---- drift-detector and training-trigger: waiting and ground truth

  /**
   * Waits until drift-detector (the application of {@link #driftYaml}) has committed the model's
   * promotion from its by-model repartition topic: it holds the baseline, so these tests count
   * every prediction straight into windows. (A prediction that reaches it before the promotion is
   * held and counted when the promotion arrives; {@code HeldPredictionsTest} covers that path, so
   * these tests keep the simpler one.) Call before any transaction is produced.
   */
  void awaitDriftHoldsPromotion() {
    String group = names.applicationId("drift");
    String byModel = group + "-" + DriftTopology.BY_MODEL + "-repartition";
    await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(200))
        .until(() -> committed(group, byModel) >= 1);
  }

  /** The offsets {@code group} committed on {@code topic}, summed over its partitions. */
  long committed(String group, String topic) throws Exception {
    return GroupOffsets.committedSum(devstack.bootstrapServers(), group, topic);
  }

  /** COMPLETED runs on the runs topic now, read_committed. */
  long completedRuns() {
    return readCommitted(topics.trainingRuns()).stream()
        .filter(r -> r.getStatus() == RunStatus.COMPLETED).count();
  }

  /**
   * drift-detector's ground truth when it held the promotion before the first of {@code
   * predictions} predictions of version 1, windows of {@code window} (a divisor): exactly {@code
   * predictions / window} reports, window sequences 0, 1, .. each once, each window of exactly
   * {@code window} predictions (their sum is {@code predictions}: none lost, none counted twice),
   * and every alert is one of those windows', once.
   */
  void assertDriftCountedEveryPredictionOnce(int predictions, int window) {
    List<DriftReport> reports = readCommitted(topics.driftReports());
    reports.forEach(r -> System.out.println("drift report: " + r.getWindow()));
    int windows = predictions / window;
    assertThat(reports).hasSize(windows)
        .allSatisfy(r -> assertThat(r.getBaselineVersion()).isOne());
    assertThat(reports).extracting(r -> r.getWindow().getSequence())
        .containsExactlyInAnyOrderElementsOf(LongStream.range(0, windows).boxed().toList());
    assertThat(reports).extracting(r -> r.getWindow().getCount())
        .containsOnly((long) window);
    assertThat(reports.stream().mapToLong(r -> r.getWindow().getCount()).sum())
        .isEqualTo(predictions);
    List<DriftAlert> alerts = readCommitted(topics.driftAlerts());
    assertThat(alerts).extracting(DriftAlert::getReportId).doesNotHaveDuplicates()
        .isSubsetOf(reports.stream().map(DriftReport::getEventId).toList());
  }

  /**
   * training-trigger's ground truth for one manual request per model, every model distinct (the
   * coordinator runs one run per model at a time and folds requests that arrive meanwhile into
   * the next, so distinct models make it exactly one run per request): the runs topic holds
   * exactly one STARTED and one COMPLETED event of run {@code <model>-1}, attempt 1, for each
   * request, and nothing else; each run's lineage names exactly its request.
   */
  void assertTrainedOncePerRequest(Map<String, String> requestIdByModel) {
    List<TrainingRun> runs = readCommitted(topics.trainingRuns());
    runs.stream().filter(r -> r.getStatus() == RunStatus.FAILED).forEach(r ->
        System.out.println("failed run " + r.getRunId() + ": " + r.getError()));
    List<String> expected = requestIdByModel.keySet().stream()
        .flatMap(m -> List.of(m + "-1/1/STARTED", m + "-1/1/COMPLETED").stream()).toList();
    assertThat(runs).extracting(r -> r.getRunId() + "/" + r.getAttempt() + "/" + r.getStatus())
        .containsExactlyInAnyOrderElementsOf(expected);
    for (TrainingRun run : runs) {
      assertThat(run.getLineage().getReasons()).as("reasons of %s", run.getEventId())
          .extracting(TrainingReason::getRequestId)
          .containsExactly(requestIdByModel.get(run.getModel()));
    }
  }

  // ---- the model

  /**
   * Trains a small XGBoost model over {@link #MODEL_FEATURES} (label: amount_last above 100
   * with few recent transactions), writes it to {@code dir/<sha256>} and returns its artifact.
   */
  ModelArtifact writeModel(Path modelDir, long seed) {
    Random random = new Random(seed);
    int rows = 400;
    int cols = MODEL_FEATURES.size();
    float[] data = new float[rows * cols];
    float[] labels = new float[rows];
    for (int r = 0; r < rows; r++) {
      data[r * cols] = (float) (random.nextDouble() * 200);
      data[r * cols + 1] = random.nextInt(5);
      data[r * cols + 2] = (float) (random.nextDouble() * 200);
      data[r * cols + 3] = random.nextInt(10);
      labels[r] = data[r * cols] > 100 && data[r * cols + 1] < 2 ? 1f : 0f;
    }
    try {
      DMatrix train = new DMatrix(data, rows, cols, Float.NaN);
      train.setLabel(labels);
      Map<String, Object> params = new HashMap<>();
      params.put("objective", "binary:logistic");
      params.put("max_depth", 3);
      params.put("nthread", 1);
      params.put("seed", (int) seed);
      Booster booster = XGBoost.train(train, params, 10, Map.of(), null, null);
      byte[] bytes = booster.toByteArray("ubj");
      Files.createDirectories(modelDir);
      Path file = modelDir.resolve(ModelLoader.sha256(bytes));
      Files.write(file, bytes);
      return ModelArtifact.newBuilder().setUri(file.toUri().toString())
          .setSha256(ModelLoader.sha256(bytes)).setFormat(ModelFormat.XGBOOST)
          .setSizeBytes((long) bytes.length).build();
    } catch (XGBoostError | IOException e) {
      throw new IllegalStateException("cannot train the test model", e);
    }
  }

  /** The promotion of {@code version} to champion, with a baseline over the model's inputs. */
  ModelPromoted promoted(int version, ModelArtifact artifact) {
    Random random = new Random(version);
    List<FeatureProfile> profiles = new ArrayList<>();
    for (String feature : MODEL_FEATURES) {
      double[] values = new double[1000];
      for (int i = 0; i < values.length; i++) {
        values[i] = random.nextDouble() * 200;
      }
      profiles.add(FeatureProfiles.numeric(feature, values));
    }
    double[] scores = new double[1000];
    for (int i = 0; i < scores.length; i++) {
      scores[i] = random.nextDouble();
    }
    BaselineProfile baseline = BaselineProfile.newBuilder().setSampleCount(1000)
        .setComputedAt(Instant.now()).setFeatures(profiles)
        .setScore(FeatureProfiles.numeric("score", scores)).build();
    return ModelPromoted.newBuilder().setEventId(UUID.randomUUID().toString())
        .setEventTime(Instant.now()).setModel(MODEL).setAlias("champion").setVersion(version)
        .setArtifact(artifact)
        .setSignature(ModelSignature.newBuilder().setFeatureNames(MODEL_FEATURES)
            .setFeatureGroup(GROUP).setTask(ModelTask.BINARY_CLASSIFICATION)
            .setDecisionThreshold(0.5).build())
        .setBaseline(baseline)
        .setActor(Actor.newBuilder().setName("system-test").setKind(ActorKind.HUMAN).build())
        .setCommandId("cmd-" + UUID.randomUUID()).build();
  }

  // ---- reading back

  /**
   * Every value a read_committed reader sees on the topic now; records that do not deserialize
   * (the poison pills a test put there) are left out.
   */
  <V> List<V> readCommitted(Topic<String, V> topic) {
    List<V> out = new ArrayList<>();
    var values = topic.valueSerde().deserializer();
    for (ConsumerRecord<byte[], byte[]> r : readRaw(topic.name())) {
      try {
        out.add(values.deserialize(topic.name(), r.headers(), r.value()));
      } catch (RuntimeException unreadable) {
        // a poison pill
      }
    }
    return out;
  }

  /** Every record, with headers, a read_committed reader sees on {@code topic} now. */
  List<ConsumerRecord<byte[], byte[]>> readRaw(String topic) {
    return CommittedValues.bytes(devstack.bootstrapServers(), topic);
  }

  // ---- child JVMs

  /**
   * Runs {@code main} in a child JVM on this test's class path, with the devstack's addresses
   * and this test's topic prefix in its environment, logging to {@code dir/<label>.log}.
   */
  Process child(Class<?> main, String label, Map<String, String> env, List<String> jvmArgs,
      String... args) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command = new ArrayList<>(List.of(java, "-Xmx256m"));
    command.addAll(jvmArgs);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().put("FLYWHEEL_BOOTSTRAP_SERVERS", devstack.bootstrapServers());
    pb.environment().put("FLYWHEEL_SCHEMA_REGISTRY_URL", devstack.schemaRegistryUrl());
    pb.environment().put("FLYWHEEL_TOPIC_PREFIX", names.prefix());
    pb.environment().putAll(env);
    File log = dir.resolve(label + ".log").toFile();
    pb.redirectErrorStream(true).redirectOutput(log);
    Process process = pb.start();
    System.out.println(main.getSimpleName() + " child " + label + " (pid " + process.pid()
        + ") logs to " + log);
    return process;
  }

  /** Counts the records written to {@code topic}, committed or not ({@link WrittenRecords}). */
  WrittenRecords written(String topic) {
    return new WrittenRecords(devstack.bootstrapServers(), topic);
  }
}
