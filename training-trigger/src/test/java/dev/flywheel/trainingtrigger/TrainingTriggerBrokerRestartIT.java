package dev.flywheel.trainingtrigger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.events.RunStatus;
import dev.flywheel.events.TrainingReason;
import dev.flywheel.events.TrainingRequested;
import dev.flywheel.events.TrainingRun;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topics;
import dev.flywheel.trainingtrigger.config.TrainingTriggerConfig;
import dev.flywheel.trainingtrigger.coordination.ModelState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The automatic triggers across a broker outage: the broker stops for 15 s, longer than the 10 s
 * transaction timeout Kafka Streams gives its producers under exactly-once, while labels, drift
 * alerts and schedule ticks keep arriving and runs execute. Nobody restarts the service.
 * Afterwards each label threshold crossed, each alert and each scheduled tick raised exactly one
 * request, every request is in exactly one run, and every run started and completed once.
 */
@WithDevstack
class TrainingTriggerBrokerRestartIT {

  private static final String MODEL = "fraud-detector";
  private static final int DOWN_SECONDS = 15;
  private static final long PERIOD_MS = 3_000;
  private static final String SCHEDULED = MODEL + "/schedule/";
  /** A command that writes its model and manifest at once. */
  private static final String SCRIPT = """
      import json, os
      out = os.environ["FLYWHEEL_OUTPUT_DIR"]
      with open(os.path.join(out, "model.onnx"), "w") as f:
          f.write("model of " + os.environ["FLYWHEEL_RUN_ID"])
      with open(os.path.join(out, "manifest.json"), "w") as f:
          json.dump({"artifact": "model.onnx", "format": "ONNX", "metrics": {"auc": 0.9}}, f)
      """;

  @TempDir Path dir;
  private TrainingTriggerService service;

  @AfterEach
  void tearDown() {
    if (service != null) {
      service.close();
    }
  }

  @Test
  void shouldRaiseEachLabelAndDriftRequestOnceAndRunEachOnceAcrossABrokerOutage(
      Devstack devstack, UniqueNames names) throws Exception {
    // Given a model retrained on drift and at every 100 new labels, 300 labels on the log, and
    // the service running: three label requests
    Topics topics = topics(devstack, names);
    SyntheticData data = new SyntheticData(500, 3, true, 21);
    ItSupport.produce(devstack, topics, new SyntheticData(300, 3, true, 21));
    String app = names.applicationId("restart-triggers");
    service = start(devstack, topics, "triggers: {drift: true, newLabels: 100}", app);
    await().atMost(Duration.ofSeconds(60)).until(() -> requestIds(devstack, topics)
        .contains(MODEL + "/new-labels/3"));
    // and then a drift alert and 100 more labels
    ItSupport.send(devstack, topics.driftAlerts(), MODEL,
        TrainingTriggerTopologyTest.alert("alert-1", Instant.now()));
    ItSupport.produceLabels(devstack, topics, data.labels.subList(300, 400));
    await().atMost(Duration.ofSeconds(60)).until(() -> requestIds(devstack, topics)
        .containsAll(List.of(MODEL + "/new-labels/4", MODEL + "/drift/alert-1")));

    // When the broker stops for 15 s, and the last 100 labels and a second alert are sent while
    // it is down (their producers wait for it), then starts again
    AtomicReference<CompletableFuture<Void>> late = new AtomicReference<>();
    devstack.kafka().outage(Duration.ofSeconds(DOWN_SECONDS), () ->
        late.set(CompletableFuture.runAsync(() -> {
          ItSupport.produceLabels(devstack, topics, data.labels.subList(400, 500));
          ItSupport.send(devstack, topics.driftAlerts(), MODEL,
              TrainingTriggerTopologyTest.alert("alert-2", Instant.now()));
        })));
    late.get().get(2, TimeUnit.MINUTES);

    // Then the service works through everything by itself: five label requests and two drift
    // requests, each once
    List<String> expected = Stream.concat(
        IntStream.rangeClosed(1, 5).mapToObj(k -> MODEL + "/new-labels/" + k),
        Stream.of(MODEL + "/drift/alert-1", MODEL + "/drift/alert-2")).toList();
    await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
      assertThat(requestIds(devstack, topics)).containsAll(expected);
      assertThat(ItSupport.modelState(devstack, app, MODEL)).isNotNull().satisfies(s -> {
        assertThat(s.labelTriggers).isEqualTo(5);
        assertThat(s.pending).isEmpty();
        assertThat(s.inFlightRunId).isNull();
      });
    });
    assertThat(requestIds(devstack, topics)).containsExactlyInAnyOrderElementsOf(expected);
    // and every run started and completed once, attempt 1, none failed
    ModelState state = ItSupport.modelState(devstack, app, MODEL);
    List<TrainingRun> runs = ItSupport.runs(devstack, topics);
    assertThat(runs).extracting(r -> r.getRunId() + "/" + r.getAttempt() + "/" + r.getStatus())
        .containsExactlyInAnyOrderElementsOf(startedAndCompleted(state.runSeq));
    // and each request is in exactly one run
    List<String> requestsInRuns = runs.stream().filter(r -> r.getStatus() == RunStatus.STARTED)
        .flatMap(r -> r.getLineage().getReasons().stream().map(TrainingReason::getRequestId))
        .toList();
    assertThat(requestsInRuns).containsExactlyInAnyOrderElementsOf(expected);
  }

  @Test
  void shouldKeepTheScheduleAcrossABrokerOutageWithoutRaisingATickTwice(Devstack devstack,
      UniqueNames names) throws Exception {
    // Given a model retrained every 3 s, with labels to train on, and the service running
    Topics topics = topics(devstack, names);
    ItSupport.produce(devstack, topics, new SyntheticData(300, 3, true, 22));
    String app = names.applicationId("restart-schedule");
    service = start(devstack, topics, "triggers: {drift: false, schedule: PT3S}", app);
    await().atMost(Duration.ofSeconds(60)).until(() -> scheduled(devstack, topics).size() >= 2);

    // When the broker stops for 15 s while ticks come due, then starts again
    devstack.kafka().outage(Duration.ofSeconds(DOWN_SECONDS), () -> { });
    long upAgainMs = System.currentTimeMillis();
    // and the service, never restarted, raises two more scheduled requests after it
    await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(500)).until(() ->
        scheduled(devstack, topics).stream().filter(t -> due(t) > upAgainMs).count() >= 2);
    service.close();
    service = null;

    // Then each tick was raised at most once, on the schedule's grid, in order, and none was
    // lost: the ticks that came due while the broker was away (the stream thread waiting on it)
    // were folded into the next request, so each request's successor is the first tick after
    // the moment it was raised
    List<String> ids = requestIds(devstack, topics);
    assertThat(ids).doesNotHaveDuplicates();
    List<TrainingRequested> ticks = scheduled(devstack, topics);
    assertThat(ticks).hasSize(ids.size());
    for (int i = 1; i < ticks.size(); i++) {
      long due = due(ticks.get(i - 1));
      long raisedAt = ticks.get(i - 1).getReason().getTriggeredAt().toEpochMilli();
      assertThat(raisedAt).isGreaterThanOrEqualTo(due);
      assertThat(due(ticks.get(i))).as("the tick after %s", ticks.get(i - 1).getEventId())
          .isEqualTo(due + PERIOD_MS * ((raisedAt - due) / PERIOD_MS + 1));
    }
    assertThat(ticks.stream().filter(t -> due(t) > upAgainMs)).hasSizeGreaterThanOrEqualTo(2);
    // and ticks were folded: the committed state cannot move past a tick while the broker is
    // down, and the outage is five periods long
    assertThat(IntStream.range(1, ticks.size())
        .mapToLong(i -> due(ticks.get(i)) - due(ticks.get(i - 1))))
        .anyMatch(gap -> gap > PERIOD_MS);
    // and every request the coordinator has read back is in exactly one run or still pending
    // (the last ones may have been raised after its last commit); no run started twice
    ModelState state = ItSupport.modelState(devstack, app, MODEL);
    List<TrainingRun> runs = ItSupport.runs(devstack, topics);
    List<String> started = runs.stream().filter(r -> r.getStatus() == RunStatus.STARTED)
        .map(r -> r.getRunId() + "/" + r.getAttempt()).toList();
    assertThat(started).doesNotHaveDuplicates().isNotEmpty();
    assertThat(runs.stream().filter(r -> r.getStatus() == RunStatus.COMPLETED)
        .map(r -> r.getRunId() + "/" + r.getAttempt()).toList()).doesNotHaveDuplicates();
    assertThat(runs).noneMatch(r -> r.getStatus() == RunStatus.FAILED);
    List<String> requestsInRuns = runs.stream().filter(r -> r.getStatus() == RunStatus.STARTED)
        .flatMap(r -> r.getLineage().getReasons().stream().map(TrainingReason::getRequestId))
        .toList();
    Map<Integer, Long> consumed = committedOffsets(devstack, app,
        topics.trainingRequests().name());
    List<String> readBack = ItSupport.readAll(devstack, topics.trainingRequests().name(),
            topics.trainingRequests().valueSerde().deserializer()).stream()
        .filter(r -> r.offset() < consumed.getOrDefault(r.partition(), 0L))
        .map(r -> r.value().getEventId()).toList();
    assertThat(Stream.concat(requestsInRuns.stream(),
            state.pending.stream().map(r -> r.requestId())).toList())
        .containsExactlyInAnyOrderElementsOf(readBack);
  }

  /** The offsets {@code group} has committed on the partitions of {@code topic}. */
  private static Map<Integer, Long> committedOffsets(Devstack devstack, String group,
      String topic) throws Exception {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", devstack.bootstrapServers()))) {
      return admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get()
          .entrySet().stream().filter(e -> e.getKey().topic().equals(topic))
          .collect(Collectors.toMap(e -> e.getKey().partition(), e -> e.getValue().offset()));
    }
  }

  /** The scheduled requests, in the order they are on the topic. */
  private static List<TrainingRequested> scheduled(Devstack devstack, Topics topics) {
    return ItSupport.requests(devstack, topics).stream()
        .filter(r -> r.getEventId().startsWith(SCHEDULED)).toList();
  }

  /** The tick a scheduled request is for: its id is {@code <model>/schedule/<due epoch ms>}. */
  private static long due(TrainingRequested scheduled) {
    return Long.parseLong(scheduled.getEventId().substring(SCHEDULED.length()));
  }

  private static List<String> requestIds(Devstack devstack, Topics topics) {
    return ItSupport.requests(devstack, topics).stream().map(TrainingRequested::getEventId)
        .collect(Collectors.toList());
  }

  /** Runs 1..n of the model, each started and completed once, attempt 1. */
  private static List<String> startedAndCompleted(long runs) {
    return IntStream.rangeClosed(1, (int) runs).boxed()
        .flatMap(n -> Stream.of(MODEL + "-" + n + "/1/STARTED", MODEL + "-" + n + "/1/COMPLETED"))
        .toList();
  }

  /** The test's topic catalogue, its topics created. */
  private static Topics topics(Devstack devstack, UniqueNames names) {
    Topics topics = Topics.builder(AvroSerdes.fromConfig(Map.of("schema.registry.url",
        devstack.schemaRegistryUrl()))).prefix(names.prefix()).build();
    ItSupport.createTopics(devstack, topics);
    return topics;
  }

  /**
   * Starts the service on one model of {@code triggers} trained by {@link #SCRIPT}, with a 6 s
   * session timeout so that a rebalance after the outage is quick.
   */
  private TrainingTriggerService start(Devstack devstack, Topics topics, String triggers,
      String applicationId) throws Exception {
    Files.writeString(dir.resolve("train.py"), SCRIPT);
    Path yaml = ItSupport.commandModelConfig(dir, MODEL, triggers, dir.resolve("train.py"),
        Map.of(), applicationId);
    return TrainingTriggerService.builder()
        .config(TrainingTriggerConfig.load(yaml))
        .kafka(Map.of("bootstrap.servers", devstack.bootstrapServers(),
            "session.timeout.ms", 6000))
        .schemaRegistryUrl(devstack.schemaRegistryUrl()).topics(topics).build().start();
  }
}
