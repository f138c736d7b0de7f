package dev.flywheel.trainingtrigger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.events.ActorKind;
import dev.flywheel.events.ModelLineage;
import dev.flywheel.events.RunStatus;
import dev.flywheel.events.TrainingReason;
import dev.flywheel.events.TrainingRequested;
import dev.flywheel.events.TrainingRun;
import dev.flywheel.events.TriggerKind;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.Topics;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

@WithDevstack
class TrainCommandIT {

  @TempDir Path dir;

  @Test
  void shouldWriteAManualRequestWithReasonActorAndParams(Devstack devstack, UniqueNames names)
      throws Exception {
    // Given the platform's topics and a flywheel.yaml declaring the model
    Topics topics = Topics.builder(AvroSerdes.fromConfig(Map.of("schema.registry.url",
        devstack.schemaRegistryUrl()))).prefix(names.prefix()).build();
    ItSupport.createTopics(devstack, topics);
    Path yaml = dir.resolve("flywheel.yaml");
    Files.writeString(yaml, "models:\n  - {name: fraud-detector, featureGroup: card_activity}\n");
    StringWriter out = new StringWriter();
    // When
    int status = new CommandLine(new TrainCommand()).setOut(new PrintWriter(out)).execute(
        "fraud-detector", "--reason", "new merchant features", "-p", "max_depth=8",
        "--actor", "alice", "--config", yaml.toString(),
        "--bootstrap-servers", devstack.bootstrapServers(),
        "--schema-registry-url", devstack.schemaRegistryUrl(), "--prefix", names.prefix());
    // Then
    assertThat(status).isZero();
    assertThat(out.toString()).contains("requested training of fraud-detector");
    Topic<String, TrainingRequested> t = topics.trainingRequests();
    List<ConsumerRecord<String, TrainingRequested>> records = ItSupport.readAll(devstack,
        t.name(), t.valueSerde().deserializer());
    assertThat(records).singleElement().satisfies(r -> {
      assertThat(r.key()).isEqualTo("fraud-detector");
      assertThat(r.value().getReason().getKind()).isEqualTo(TriggerKind.MANUAL);
      assertThat(r.value().getReason().getDetail()).isEqualTo("new merchant features");
      assertThat(r.value().getActor().getName()).isEqualTo("alice");
      assertThat(r.value().getActor().getKind()).isEqualTo(ActorKind.HUMAN);
      assertThat(r.value().getParams()).containsEntry("max_depth", "8");
    });
  }

  @Test
  void shouldRefuseAModelTheConfigDoesNotDeclareWithExitStatus2() throws Exception {
    // Given
    Path yaml = dir.resolve("flywheel.yaml");
    Files.writeString(yaml, "models:\n  - {name: fraud-detector, featureGroup: card_activity}\n");
    StringWriter err = new StringWriter();
    // When
    int status = new CommandLine(new TrainCommand()).setErr(new PrintWriter(err)).execute(
        "fraud", "--config", yaml.toString(), "--bootstrap-servers", "127.0.0.1:1");
    // Then
    assertThat(status).isEqualTo(2);
    assertThat(err.toString()).contains("no model 'fraud'").contains("[fraud-detector]");
  }

  @Test
  void shouldWaitForTheRunThatTakesTheRequestThroughARetryAndPrintItsOutcome(Devstack devstack,
      UniqueNames names) throws Exception {
    // Given the platform's topics and a model allowing two attempts
    Topics topics = Topics.builder(AvroSerdes.fromConfig(Map.of("schema.registry.url",
        devstack.schemaRegistryUrl()))).prefix(names.prefix()).build();
    ItSupport.createTopics(devstack, topics);
    Path yaml = dir.resolve("flywheel.yaml");
    Files.writeString(yaml, """
        models:
          - name: fraud-detector
            featureGroup: card_activity
            triggers: {retry: {maxAttempts: 2}}
        """);
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();

    // When the command waits, and the runs topic then shows a record that cannot be read, another
    // request's run completing, then this request's first attempt failing and its second
    // completing
    CompletableFuture<Integer> status = CompletableFuture.supplyAsync(() ->
        new CommandLine(new TrainCommand()).setOut(new PrintWriter(out, true))
            .setErr(new PrintWriter(err, true)).execute("fraud-detector", "--wait",
                "--config", yaml.toString(), "--bootstrap-servers", devstack.bootstrapServers(),
                "--schema-registry-url", devstack.schemaRegistryUrl(), "--prefix",
                names.prefix()));
    String requestId = await().atMost(Duration.ofSeconds(30))
        .until(() -> ItSupport.requests(devstack, topics), r -> !r.isEmpty()).get(0)
        .getEventId();
    Topic<String, TrainingRun> runs = topics.trainingRuns();
    TrainingRun other = run("fraud-detector-1", 1, RunStatus.COMPLETED, "another-request");
    TrainingRun failed = TrainingRun.newBuilder(run("fraud-detector-2", 1, RunStatus.FAILED,
        requestId)).setError("trainer crashed").build();
    TrainingRun completed = TrainingRun.newBuilder(run("fraud-detector-2", 2,
        RunStatus.COMPLETED, requestId)).setMetrics(Map.of("auc", 0.91)).setDurationMs(1500L)
        .build();
    try (KafkaProducer<String, byte[]> raw = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, devstack.bootstrapServers()),
        new StringSerializer(), new ByteArraySerializer())) {
      // a record that cannot be read, ahead of this request's runs in their partition
      raw.send(new ProducerRecord<>(runs.name(), "fraud-detector-2",
          "not an avro record".getBytes(StandardCharsets.UTF_8))).get();
    }
    for (TrainingRun r : List.of(other, run("fraud-detector-2", 1, RunStatus.STARTED, requestId),
        failed, run("fraud-detector-2", 2, RunStatus.STARTED, requestId), completed)) {
      ItSupport.send(devstack, runs, r.getRunId(), r);
    }

    // Then it reports this request's attempts only, and exits 0 with the completed one
    assertThat(status.get(60, TimeUnit.SECONDS)).isZero();
    assertThat(out.toString())
        .contains("waiting for the run that takes request " + requestId)
        .contains("run fraud-detector-2 attempt 1 of fraud-detector started")
        .contains("run fraud-detector-2 attempt 2 of fraud-detector completed in 1.5 s: {auc=0.91}")
        .doesNotContain("fraud-detector-1");
    assertThat(err.toString())
        .contains("run fraud-detector-2 attempt 1 of fraud-detector failed: trainer crashed")
        .contains("waiting for attempt 2 of 2");
    // And it skipped the unreadable record once, instead of stopping at it
    assertThat(err.toString().lines().filter(l -> l.startsWith("skipping ")))
        .as("lines of stderr about skipping the unreadable record:%n%s", err)
        .singleElement().asString().contains(runs.name()).contains("it cannot be read");
  }

  private static TrainingRun run(String runId, int attempt, RunStatus status, String requestId) {
    Instant at = Instant.parse("2026-11-24T01:00:00Z");
    return TrainingRun.newBuilder().setEventId(runId + "/" + attempt + "/" + status)
        .setEventTime(at).setRunId(runId).setModel("fraud-detector").setStatus(status)
        .setAttempt(attempt).setStartedAt(at)
        .setLineage(ModelLineage.newBuilder().setRunId(runId).setReasons(List.of(
            TrainingReason.newBuilder().setKind(TriggerKind.MANUAL).setTriggeredAt(at)
                .setRequestId(requestId).build())).build())
        .setParams(Map.of()).build();
  }
}
