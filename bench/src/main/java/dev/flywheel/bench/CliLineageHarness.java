package dev.flywheel.bench;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.events.Actor;
import dev.flywheel.events.ActorKind;
import dev.flywheel.events.CommandOutcome;
import dev.flywheel.events.DatasetLineage;
import dev.flywheel.events.FeatureVector;
import dev.flywheel.events.ModelArtifact;
import dev.flywheel.events.ModelEvent;
import dev.flywheel.events.ModelFormat;
import dev.flywheel.events.ModelLineage;
import dev.flywheel.events.ModelSignature;
import dev.flywheel.events.ModelTask;
import dev.flywheel.events.OffsetRange;
import dev.flywheel.events.Prediction;
import dev.flywheel.events.RecordOrigin;
import dev.flywheel.events.RegisterVersion;
import dev.flywheel.events.RunStatus;
import dev.flywheel.events.TrainingReason;
import dev.flywheel.events.TrainingRun;
import dev.flywheel.events.TriggerKind;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.serde.AvroSerializer;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.TopicBootstrap;
import dev.flywheel.topics.Topics;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Wall time of the daily commands that read whole topics, as a user runs them: {@code flywheel
 * lineage <event-id>} (which scans the predictions and the feature log) and {@code flywheel watch
 * predictions --from-beginning --no-follow} (which decodes every record through the registry), on
 * topics holding {@code n} source records, feature vectors and predictions.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.flywheel.bench.CliLineageHarness [n] [runs] [flywheel.jar]
 * </pre>
 *
 * <p>Starts an embedded broker and registry in this JVM, writes the records (one model version
 * with its registration and training run), then runs each command {@code runs} times as a fresh
 * {@code java -jar flywheel.jar} process, its output discarded, and prints each run and the
 * median. The times include the JVM's start.
 */
public final class CliLineageHarness {

  private static final Instant T0 = Instant.parse("2026-11-23T10:00:00Z");
  private static final String PREFIX = "bench";
  private static final String MODEL = "fraud-detector";

  private CliLineageHarness() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    int runs = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    Path jar = Path.of(args.length > 2 ? args[2] : "platform/target/flywheel.jar");
    if (!jar.toFile().isFile()) {
      throw new IllegalArgumentException(jar + " does not exist: build it with ./flywheel --version");
    }
    try (Devstack devstack = Devstack.builder().build().start()) {
      AvroSerdes serdes = AvroSerdes.fromConfig(
          Map.of("schema.registry.url", devstack.schemaRegistryUrl()));
      Topics topics = Topics.builder(serdes).prefix(PREFIX).build();
      Topic<String, GenericRecord> source = topics.data("transactions");
      List<Topic<?, ?>> all = new ArrayList<>(topics.all());
      all.add(source);
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", devstack.bootstrapServers()))) {
        new TopicBootstrap(admin).ensure(all);
      }
      Schema schema = new Schema.Parser().parse("""
          {"type": "record", "name": "Tx", "namespace": "bench", "fields": [
            {"name": "event_id", "type": "string"}, {"name": "card_id", "type": "string"},
            {"name": "amount", "type": "double"},
            {"name": "event_time", "type": {"type": "long", "logicalType": "timestamp-millis"}}]}""");
      serdes.client().register(source.name() + "-value", schema);
      long begin = System.nanoTime();
      write(devstack.bootstrapServers(), serdes, topics, source, schema, n);
      System.out.printf("wrote %,d source records, feature vectors and predictions in %d ms%n",
          n, (System.nanoTime() - begin) / 1_000_000);

      String[] common = {"--prefix", PREFIX, "--bootstrap-servers", devstack.bootstrapServers(),
          "--schema-registry-url", devstack.schemaRegistryUrl()};
      time(jar, runs, "lineage tx-" + (n / 2), concat(new String[] {"lineage", "tx-" + (n / 2)},
          common));
      time(jar, runs, "watch predictions --from-beginning --no-follow (" + n + " records)",
          concat(new String[] {"watch", "predictions", "--from-beginning", "--no-follow"},
              common));
      System.out.printf("%d cores, max heap %d MiB%n", Runtime.getRuntime().availableProcessors(),
          Runtime.getRuntime().maxMemory() >> 20);
    }
  }

  private static void write(String bootstrap, AvroSerdes serdes, Topics topics,
      Topic<String, GenericRecord> source, Schema schema, int n) throws Exception {
    Map<String, Object> props = Map.of("bootstrap.servers", bootstrap, "acks", "all",
        "linger.ms", 20, "batch.size", 262_144, "compression.type", "lz4");
    try (KafkaProducer<String, Object> producer = new KafkaProducer<>(props,
        new StringSerializer(), new AvroSerializer<>(serdes.client()))) {
      List<Future<RecordMetadata>> sources = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        GenericData.Record tx = new GenericData.Record(schema);
        tx.put("event_id", "tx-" + i);
        tx.put("card_id", "card-" + (i % 10_000));
        tx.put("amount", (double) (i % 500));
        tx.put("event_time", T0.toEpochMilli() + i);
        sources.add(producer.send(new ProducerRecord<>(source.name(), "card-" + (i % 10_000),
            tx)));
      }
      for (int i = 0; i < n; i++) {
        RecordMetadata at = sources.get(i).get();
        RecordOrigin origin = RecordOrigin.newBuilder().setTopic(at.topic())
            .setPartition(at.partition()).setOffset(at.offset()).build();
        Map<String, Double> features = Map.of("tx_count_24h", (double) (i % 50),
            "amount_sum_24h", (double) (i % 5000));
        String card = "card-" + (i % 10_000);
        producer.send(new ProducerRecord<>(topics.features().name(), card, FeatureVector
            .newBuilder().setEventId("tx-" + i).setEventTime(T0.plusMillis(i)).setEntityId(card)
            .setFeatureGroup("card_activity").setFeatures(features).setAsOf(T0.plusMillis(i))
            .setSource(origin).build()));
        producer.send(new ProducerRecord<>(topics.predictions().name(), card, Prediction
            .newBuilder().setEventId("tx-" + i).setPredictionId("p-" + i)
            .setEventTime(T0.plusMillis(i)).setScoredAt(T0.plusMillis(i + 5)).setEntityId(card)
            .setModel(MODEL).setVersion(1).setAlias("champion").setFeatureGroup("card_activity")
            .setScore((i % 100) / 100.0).setFeatures(features).setLatencyMicros(100)
            .setSource(origin).build()));
      }
      ModelLineage lineage = ModelLineage.newBuilder().setRunId("run-1")
          .setReasons(List.of(TrainingReason.newBuilder().setKind(TriggerKind.MANUAL)
              .setTriggeredAt(T0).setRequestId("req-1").build()))
          .setDataset(DatasetLineage.newBuilder().setSha256("0".repeat(64))
              .setRanges(List.of(OffsetRange.newBuilder().setTopic(topics.features().name())
                  .setPartition(0).setStartOffset(0).setEndOffset(n / 3).build()))
              .setTrainRows(n / 4).setHoldoutRows(n / 12).setTrainStart(T0).setTrainEnd(T0)
              .setHoldoutStart(T0).setHoldoutEnd(T0).build())
          .setTrainer("xgboost").build();
      ModelArtifact artifact = ModelArtifact.newBuilder().setUri("file:///m.json")
          .setSha256("1".repeat(64)).setFormat(ModelFormat.XGBOOST).build();
      ModelSignature signature = ModelSignature.newBuilder()
          .setFeatureNames(List.of("tx_count_24h", "amount_sum_24h"))
          .setTask(ModelTask.BINARY_CLASSIFICATION).build();
      producer.send(new ProducerRecord<>(topics.trainingRuns().name(), "run-1", TrainingRun
          .newBuilder().setEventId("run-1/1/COMPLETED").setEventTime(T0).setRunId("run-1")
          .setModel(MODEL).setStatus(RunStatus.COMPLETED).setStartedAt(T0).setLineage(lineage)
          .setArtifact(artifact).setSignature(signature).build()));
      producer.send(new ProducerRecord<>(topics.modelEvents().name(), MODEL, ModelEvent
          .newBuilder().setEventId("me-1").setEventTime(T0).setModel(MODEL).setSequence(1)
          .setCommandId("cmd-1").setCommandTime(T0)
          .setActor(Actor.newBuilder().setName("training-trigger").setKind(ActorKind.SERVICE)
              .setRoles(List.of()).build())
          .setCommand(RegisterVersion.newBuilder().setArtifact(artifact).setSignature(signature)
              .setLineage(lineage).build())
          .setOutcome(CommandOutcome.ACCEPTED).setVersion(1).build()));
      producer.flush();
    }
  }

  private static void time(Path jar, int runs, String label, String[] args) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<Long> millis = new ArrayList<>();
    for (int i = 0; i < runs; i++) {
      List<String> command = new ArrayList<>(List.of(java, "-jar", jar.toString()));
      command.addAll(List.of(args));
      long start = System.nanoTime();
      Process process = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .redirectError(ProcessBuilder.Redirect.INHERIT).start();
      int exit = process.waitFor();
      long ms = (System.nanoTime() - start) / 1_000_000;
      if (exit != 0) {
        throw new IllegalStateException(label + " exited " + exit);
      }
      millis.add(ms);
      System.out.printf("%s: run %d: %d ms%n", label, i + 1, ms);
    }
    Collections.sort(millis);
    System.out.printf("%s: median of %d runs %d ms (min %d, max %d)%n", label, runs,
        millis.get(runs / 2), millis.get(0), millis.get(runs - 1));
  }

  private static String[] concat(String[] a, String[] b) {
    String[] all = new String[a.length + b.length];
    System.arraycopy(a, 0, all, 0, a.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }
}
