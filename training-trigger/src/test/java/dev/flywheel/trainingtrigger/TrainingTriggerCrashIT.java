package dev.flywheel.trainingtrigger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.LogLines;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.events.RunStatus;
import dev.flywheel.events.TrainingReason;
import dev.flywheel.events.TrainingRequested;
import dev.flywheel.events.TrainingRun;
import dev.flywheel.events.TriggerKind;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topics;
import dev.flywheel.trainingtrigger.config.TrainingTriggerConfig;
import dev.flywheel.trainingtrigger.coordination.ModelState;
import dev.flywheel.trainingtrigger.coordination.Reason;
import dev.flywheel.trainingtrigger.executor.CommandExecutor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kill without close: the service runs in a child JVM that is killed (SIGKILL) while a run's
 * training command executes. When only the service is killed, its command runs on, and a new
 * instance on the same state follows that command to its end instead of starting a second; when
 * the command is killed with it (as a container runtime kills the whole container), the new
 * instance runs the attempt again, on the dataset it started with. Either way the run keeps its id
 * and exactly one COMPLETED event exists for it. The automatic triggers survive the same kill:
 * labels and a drift alert that arrive while the service is down become exactly one further run,
 * after the interrupted one. So does the schedule: the ticks that come due while the service is
 * down become one catch-up request, not one each. A clean stop ({@code close()}) during an attempt
 * reports nothing for it, and the next instance runs it again.
 */
@WithDevstack
class TrainingTriggerCrashIT {

  private static final String MODEL = "fraud-detector";

  /** The schedule of the schedule test: short, against a tick of 1 s. */
  private static final Duration SCHEDULE = Duration.ofSeconds(3);

  /**
   * Records each launch, waits for the test's go-ahead (a file {@code release} for every run, or
   * {@code release-<run id>} for one), then writes a model and manifest.
   */
  private static final String SCRIPT = """
      import json, os, time
      out = os.environ["FLYWHEEL_OUTPUT_DIR"]
      base = os.environ["CRASH_DIR"]
      with open(os.path.join(base, "launches"), "a") as f:
          f.write(os.environ["FLYWHEEL_RUN_ID"] + " " + os.environ["FLYWHEEL_ATTEMPT"] + "\\n")
      go = [os.path.join(base, "release"),
            os.path.join(base, "release-" + os.environ["FLYWHEEL_RUN_ID"])]
      deadline = time.time() + 120
      while not any(os.path.exists(g) for g in go) and time.time() < deadline:
          time.sleep(0.05)
      with open(os.path.join(out, "model.onnx"), "w") as f:
          f.write("model of " + os.environ["FLYWHEEL_RUN_ID"])
      tmp = os.path.join(out, "manifest.json.tmp")
      with open(tmp, "w") as f:
          json.dump({"artifact": "model.onnx", "format": "ONNX", "metrics": {"auc": 0.9}}, f)
      os.replace(tmp, os.path.join(out, "manifest.json"))
      """;

  @TempDir Path dir;
  private Process child;
  private TrainingTriggerService restarted;
  private final LogLines executorLog = LogLines.of(CommandExecutor.class);

  @AfterEach
  void tearDown() throws Exception {
    executorLog.close();
    Files.writeString(dir.resolve("release"), "go");
    if (child != null && child.isAlive()) {
      child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    if (restarted != null) {
      restarted.close();
    }
  }

  @Test
  void shouldFollowTheCommandAKilledServiceLeftRunningAndCompleteTheRunOnce(Devstack devstack,
      UniqueNames names) throws Exception {
    // Given data on the log and a model trained by a command, served by a child JVM
    Topics topics = topics(devstack, names);
    ItSupport.createTopics(devstack, topics);
    ItSupport.produce(devstack, topics, new SyntheticData(300, 3, true, 21));
    Path yaml = writeConfig(names.applicationId("crash"), "");
    child = startChild(devstack, names, yaml);
    requestTraining(devstack, topics, "crash test");
    await().atMost(Duration.ofSeconds(120)).until(() -> launches().size() == 1);

    // When the service alone is killed during the run, its command running on, and a new
    // instance starts on the same state
    child.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    assertThat(child.isAlive()).isFalse();
    restarted = startInProcess(devstack, topics, yaml);

    // Then the new instance follows the command instead of starting it a second time, and the
    // run completes when the command ends
    await().atMost(Duration.ofSeconds(60)).until(() -> executorLog.contain("following"));
    assertThat(launches()).hasSize(1);
    assertThat(ItSupport.runs(devstack, topics)).extracting(TrainingRun::getStatus)
        .containsExactly(RunStatus.STARTED);
    Files.writeString(dir.resolve("release"), "go");
    await().atMost(Duration.ofSeconds(60)).until(() -> ItSupport.runs(devstack, topics).stream()
        .anyMatch(r -> r.getStatus() == RunStatus.COMPLETED));
    restarted.close();

    // And the log holds one STARTED and exactly one COMPLETED for the run
    List<TrainingRun> runs = ItSupport.runs(devstack, topics);
    assertThat(runs).extracting(r -> r.getRunId() + "/" + r.getAttempt() + "/" + r.getStatus())
        .containsExactly("fraud-detector-1/1/STARTED", "fraud-detector-1/1/COMPLETED");
    assertThat(launches()).containsExactly("fraud-detector-1 1");
  }

  @Test
  void shouldNotReportAnAttemptACleanStopInterruptsAndRunItAgainAfterTheRestart(
      Devstack devstack, UniqueNames names) throws Exception {
    // Given an instance that has completed a run (its producer has written run events)
    Topics topics = topics(devstack, names);
    ItSupport.createTopics(devstack, topics);
    ItSupport.produce(devstack, topics, new SyntheticData(300, 3, true, 21));
    Path yaml = writeConfig(names.applicationId("clean-stop"), "");
    TrainingTriggerService first = startInProcess(devstack, topics, yaml);
    restarted = first;
    requestTraining(devstack, topics, "first run");
    await().atMost(Duration.ofSeconds(60)).until(() -> launches().size() == 1);
    Files.writeString(dir.resolve("release-fraud-detector-1"), "go");
    await().atMost(Duration.ofSeconds(60)).until(() -> ItSupport.runs(devstack, topics).stream()
        .anyMatch(r -> r.getStatus() == RunStatus.COMPLETED));
    // and a second run executing
    requestTraining(devstack, topics, "second run");
    await().atMost(Duration.ofSeconds(60)).until(() -> launches().size() == 2);

    // When the instance is stopped cleanly during the second run
    first.close();

    // Then the interrupted attempt is not reported (no FAILED)
    assertThat(ItSupport.runs(devstack, topics))
        .extracting(r -> r.getRunId() + "/" + r.getAttempt() + "/" + r.getStatus())
        .containsExactly("fraud-detector-1/1/STARTED", "fraud-detector-1/1/COMPLETED",
            "fraud-detector-2/1/STARTED");
    // and a new instance runs it again under the same run id and attempt, to one COMPLETED
    restarted = startInProcess(devstack, topics, yaml);
    await().atMost(Duration.ofSeconds(60)).until(() -> launches().size() == 3);
    Files.writeString(dir.resolve("release-fraud-detector-2"), "go");
    await().atMost(Duration.ofSeconds(60)).until(() -> ItSupport.runs(devstack, topics).stream()
        .filter(r -> r.getStatus() == RunStatus.COMPLETED).count() == 2);
    restarted.close();
    assertThat(launches()).containsExactly("fraud-detector-1 1", "fraud-detector-2 1",
        "fraud-detector-2 1");
    assertThat(ItSupport.runs(devstack, topics))
        .extracting(r -> r.getRunId() + "/" + r.getAttempt() + "/" + r.getStatus())
        .containsExactlyInAnyOrder("fraud-detector-1/1/STARTED", "fraud-detector-1/1/COMPLETED",
            "fraud-detector-2/1/STARTED", "fraud-detector-2/1/COMPLETED");
  }

  private static void requestTraining(Devstack devstack, Topics topics, String reason) {
    ItSupport.send(devstack, topics.trainingRequests(), MODEL,
        ManualRequests.of(MODEL, reason, "it", Map.of(), Instant.now()));
  }

  @Test
  void shouldFinishAnInterruptedDriftRunOnceThenCoalesceWhatArrivedWhileDownIntoOneRun(
      Devstack devstack, UniqueNames names) throws Exception {
    // Given 300 labels on the log, a model retrained on drift and at every 500 new labels, and the
    // service in a child JVM executing a run that a drift alert launched
    Topics topics = topics(devstack, names);
    ItSupport.createTopics(devstack, topics);
    SyntheticData data = new SyntheticData(500, 3, true, 21);
    ItSupport.produce(devstack, topics, new SyntheticData(300, 3, true, 21));
    String app = names.applicationId("crash-drift");
    Path yaml = writeConfig(app, "triggers: {drift: true, newLabels: 500}");
    child = startChild(devstack, names, yaml);
    ItSupport.send(devstack, topics.driftAlerts(), MODEL,
        TrainingTriggerTopologyTest.alert("alert-1", Instant.now()));
    await().atMost(Duration.ofSeconds(60)).until(() -> launches().size() == 1);
    assertThat(launches()).containsExactly("fraud-detector-1 1");

    // When the service is killed with its command during that run; while it is down, the 200
    // labels that make 500 arrive, and a second drift alert; then a new instance starts on the
    // same state
    killServiceAndItsCommand();
    ItSupport.produceLabels(devstack, topics, data.labels.subList(300, 500));
    ItSupport.send(devstack, topics.driftAlerts(), MODEL,
        TrainingTriggerTopologyTest.alert("alert-2", Instant.now()));
    restarted = startInProcess(devstack, topics, yaml);

    // Then the drift run executes again under its run id and attempt, and the committed state
    // keeps it in flight with the label trigger and the second alert pending behind it
    await().atMost(Duration.ofSeconds(60)).until(() -> launches().size() == 2);
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
        assertThat(ItSupport.modelState(devstack, app, MODEL)).isNotNull().satisfies(s -> {
          assertThat(s.inFlightRunId).isEqualTo("fraud-detector-1");
          assertThat(s.pending).extracting(Reason::kind)
              .containsExactlyInAnyOrder("DRIFT_ALERT", "NEW_LABELS");
        }));
    Files.writeString(dir.resolve("release"), "go");
    await().atMost(Duration.ofSeconds(90)).untilAsserted(() ->
        assertThat(ItSupport.modelState(devstack, app, MODEL)).satisfies(s -> {
          assertThat(s.runSeq).isEqualTo(2);
          assertThat(s.inFlightRunId).isNull();
        }));
    restarted.close();

    // And each run was started and completed exactly once: the drift run under its first id, then
    // one run for both reasons that arrived while the service was down
    List<TrainingRun> runs = ItSupport.runs(devstack, topics);
    assertThat(runs).extracting(r -> r.getRunId() + "/" + r.getAttempt() + "/" + r.getStatus())
        .containsExactlyInAnyOrder("fraud-detector-1/1/STARTED", "fraud-detector-1/1/COMPLETED",
            "fraud-detector-2/1/STARTED", "fraud-detector-2/1/COMPLETED");
    assertThat(launches()).containsExactly("fraud-detector-1 1", "fraud-detector-1 1",
        "fraud-detector-2 1");
    assertThat(runs).filteredOn(r -> r.getRunId().equals("fraud-detector-1")).allSatisfy(r ->
        assertThat(r.getLineage().getReasons())
            .extracting(TrainingReason::getKind, TrainingReason::getAlertId,
                TrainingReason::getLabelCount)
            .containsExactly(tuple(TriggerKind.DRIFT_ALERT, "alert-1", null)));
    assertThat(runs).filteredOn(r -> r.getRunId().equals("fraud-detector-2")).allSatisfy(r ->
        assertThat(r.getLineage().getReasons())
            .extracting(TrainingReason::getKind, TrainingReason::getAlertId,
                TrainingReason::getLabelCount)
            .containsExactlyInAnyOrder(tuple(TriggerKind.DRIFT_ALERT, "alert-2", null),
                tuple(TriggerKind.NEW_LABELS, null, 500L)));

    // And the drift run was trained on the 300 labels it started with, both times; the next on 500
    assertThat(runs).filteredOn(r -> r.getStatus() == RunStatus.COMPLETED)
        .extracting(TrainingRun::getRunId, r -> labelsRead(r, topics))
        .containsExactlyInAnyOrder(tuple("fraud-detector-1", 300L),
            tuple("fraud-detector-2", 500L));

    // And the requests log holds the two drift requests and one label request, at the 500th label
    assertThat(ItSupport.requests(devstack, topics))
        .extracting(TrainingRequested::getEventId, r -> r.getReason().getKind(),
            r -> r.getReason().getLabelCount())
        .containsExactlyInAnyOrder(
            tuple("fraud-detector/drift/alert-1", TriggerKind.DRIFT_ALERT, null),
            tuple("fraud-detector/drift/alert-2", TriggerKind.DRIFT_ALERT, null),
            tuple("fraud-detector/new-labels/1", TriggerKind.NEW_LABELS, 500L));
    ModelState state = ItSupport.modelState(devstack, app, MODEL);
    assertThat(state.labelTriggers).isEqualTo(1);
    assertThat(state.labelsSinceTrigger).isZero();
    assertThat(state.pending).isEmpty();
  }

  @Test
  void shouldCompleteAKilledScheduledRunOnceAndCatchUpMissedTicksWithOneRequest(
      Devstack devstack, UniqueNames names) throws Exception {
    // Given a model retrained every 3 s (the schedule's phase is set by the service's first tick,
    // not by wall-clock boundaries), and the service in a child JVM executing its first run
    long periodMs = SCHEDULE.toMillis();
    Topics topics = topics(devstack, names);
    ItSupport.createTopics(devstack, topics);
    ItSupport.produce(devstack, topics, new SyntheticData(300, 3, true, 21));
    String app = names.applicationId("crash-schedule");
    Path yaml = writeConfig(app, "triggers: {schedule: " + SCHEDULE + "}");
    child = startChild(devstack, names, yaml);
    await().atMost(Duration.ofSeconds(60)).until(() -> launches().size() == 1);
    assertThat(launches()).containsExactly("fraud-detector-1 1");

    // When the service is killed during that run and stays down for two periods and its restart,
    // and a new instance starts on the same state (in a child JVM too, to be killed at the end)
    Instant killedAt = Instant.now();
    killServiceAndItsCommand();
    Instant downUntil = killedAt.plus(SCHEDULE.multipliedBy(2));
    await().atMost(SCHEDULE.multipliedBy(3)).until(() -> Instant.now().isAfter(downUntil));
    Instant restartedAt = Instant.now();
    child = startChild(devstack, names, yaml, "child-2.log");

    // Then the interrupted run executes again under its run id and attempt, and the new instance
    // raises a SCHEDULE request for the time it was down
    await().atMost(Duration.ofSeconds(60)).until(() -> launches().size() == 2);
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250)).until(() ->
        ItSupport.requests(devstack, topics).stream()
            .anyMatch(r -> triggeredAt(r).isAfter(restartedAt)));
    // And once the interrupted run completes, the second run starts for what is pending; the
    // service is killed while it executes, so nothing follows it
    Files.writeString(dir.resolve("release-fraud-detector-1"), "go");
    await().atMost(Duration.ofSeconds(90)).until(() -> launches().size() == 3);
    killServiceAndItsCommand();
    assertThat(launches()).containsExactly("fraud-detector-1 1", "fraud-detector-1 1",
        "fraud-detector-2 1");

    // And the runs log holds the interrupted run started and completed exactly once, then the
    // second run started
    List<TrainingRun> runs = ItSupport.runs(devstack, topics);
    assertThat(runs).extracting(r -> r.getRunId() + "/" + r.getAttempt() + "/" + r.getStatus())
        .containsExactlyInAnyOrder("fraud-detector-1/1/STARTED", "fraud-detector-1/1/COMPLETED",
            "fraud-detector-2/1/STARTED");

    // And the requests log: every tick before the kill, one period apart; after the restart one
    // request for the first tick missed (at least two were), then only ticks due after the new
    // instance's first tick, in the same phase
    List<TrainingRequested> requests = ItSupport.requests(devstack, topics);
    assertThat(requests).extracting(r -> r.getReason().getKind())
        .containsOnly(TriggerKind.SCHEDULE);
    assertThat(requests).extracting(TrainingRequested::getEventId).doesNotHaveDuplicates();
    List<TrainingRequested> before = requests.stream()
        .filter(r -> triggeredAt(r).isBefore(killedAt))
        .sorted(Comparator.comparingLong(TrainingTriggerCrashIT::due)).toList();
    List<TrainingRequested> after = requests.stream()
        .filter(r -> triggeredAt(r).isAfter(restartedAt))
        .sorted(Comparator.comparingLong(TrainingTriggerCrashIT::due)).toList();
    assertThat(before.size() + after.size()).isEqualTo(requests.size());
    assertThat(before).isNotEmpty();
    assertThat(after).isNotEmpty();
    long first = due(before.get(0));
    assertThat(before).extracting(TrainingTriggerCrashIT::due)
        .as("requests before the kill: one per tick, one period apart")
        .containsExactlyElementsOf(ticks(first, periodMs, before.size()));
    long lastBeforeKill = due(before.get(before.size() - 1));
    TrainingRequested catchUp = after.get(0);
    long caughtUpAt = triggeredAt(catchUp).toEpochMilli();
    assertThat(due(catchUp)).as("the first request after the restart is for the first tick"
        + " missed").isEqualTo(lastBeforeKill + periodMs);
    assertThat(caughtUpAt).as("at least two ticks came due while the service was down")
        .isGreaterThanOrEqualTo(lastBeforeKill + 2 * periodMs);
    long nextAfterCatchUp = lastBeforeKill + periodMs * ((caughtUpAt - lastBeforeKill) / periodMs
        + 1);
    assertThat(after.subList(1, after.size())).extracting(TrainingTriggerCrashIT::due)
        .as("requests after the catch-up: only ticks due after it, one period apart")
        .containsExactlyElementsOf(ticks(nextAfterCatchUp, periodMs, after.size() - 1));

    // And each request is in exactly one place: the first tick in run 1, the rest in run 2, then
    // pending, oldest first, except at most the latest, written but not yet read back when the
    // service stopped; the committed state has run 2 in flight and the next tick after the last
    Map<String, List<String>> reasons = runs.stream()
        .filter(r -> r.getStatus() == RunStatus.STARTED)
        .collect(Collectors.toMap(TrainingRun::getRunId, r -> r.getLineage().getReasons()
            .stream().map(TrainingReason::getRequestId).toList()));
    assertThat(reasons.get("fraud-detector-1")).containsExactly(before.get(0).getEventId());
    assertThat(reasons.get("fraud-detector-2")).contains(catchUp.getEventId());
    ModelState state = ItSupport.modelState(devstack, app, MODEL);
    assertThat(state.runSeq).isEqualTo(2);
    assertThat(state.inFlightRunId).isEqualTo("fraud-detector-2");
    assertThat(state.nextScheduleAtMs)
        .isEqualTo(nextAfterCatchUp + (after.size() - 1) * periodMs);
    List<String> runTwoThenPending = new ArrayList<>(reasons.get("fraud-detector-2"));
    state.pending.forEach(r -> runTwoThenPending.add(r.requestId()));
    List<String> sinceFirst = new ArrayList<>();
    before.subList(1, before.size()).forEach(r -> sinceFirst.add(r.getEventId()));
    after.forEach(r -> sinceFirst.add(r.getEventId()));
    assertThat(runTwoThenPending).doesNotHaveDuplicates()
        .hasSizeBetween(sinceFirst.size() - 1, sinceFirst.size())
        .containsExactlyElementsOf(sinceFirst.subList(0, runTwoThenPending.size()));
  }

  /**
   * SIGKILL to the service, then to the training command it started, as a container runtime
   * stops a container: the command cannot see its service die first and report a failure.
   */
  private void killServiceAndItsCommand() throws InterruptedException {
    List<ProcessHandle> command = child.descendants().toList();
    child.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    assertThat(child.isAlive()).isFalse();
    command.forEach(ProcessHandle::destroyForcibly);
  }

  /** How many labels the run's dataset read, from the offset ranges in its lineage. */
  private static long labelsRead(TrainingRun run, Topics topics) {
    return run.getLineage().getDataset().getRanges().stream()
        .filter(r -> r.getTopic().equals(topics.labels().name()))
        .mapToLong(r -> r.getEndOffset() - r.getStartOffset()).sum();
  }

  /** When a request's reason fired. */
  private static Instant triggeredAt(TrainingRequested r) {
    return r.getReason().getTriggeredAt();
  }

  /** The tick a SCHEDULE request is for, epoch ms, from its id {@code <model>/schedule/<ms>}. */
  private static long due(TrainingRequested r) {
    String prefix = MODEL + "/schedule/";
    assertThat(r.getEventId()).startsWith(prefix);
    return Long.parseLong(r.getEventId().substring(prefix.length()));
  }

  /** {@code count} ticks one period apart from {@code firstMs}. */
  private static List<Long> ticks(long firstMs, long periodMs, int count) {
    return LongStream.range(0, count).mapToObj(i -> firstMs + i * periodMs).toList();
  }

  private Topics topics(Devstack devstack, UniqueNames names) {
    return Topics.builder(AvroSerdes.fromConfig(Map.of("schema.registry.url",
        devstack.schemaRegistryUrl()))).prefix(names.prefix()).build();
  }

  /** The script, and a flywheel.yaml with one model trained by it; triggers: the model's line. */
  private Path writeConfig(String applicationId, String triggers) throws Exception {
    Files.writeString(dir.resolve("train.py"), SCRIPT);
    return ItSupport.commandModelConfig(dir, MODEL, triggers, dir.resolve("train.py"),
        Map.of("CRASH_DIR", dir.toString()), applicationId);
  }

  /** Each launch of the training command so far, as "run-id attempt". */
  private List<String> launches() throws Exception {
    Path launches = dir.resolve("launches");
    return Files.exists(launches) ? Files.readAllLines(launches) : List.of();
  }

  private static TrainingTriggerService startInProcess(Devstack devstack, Topics topics,
      Path yaml) throws Exception {
    return TrainingTriggerService.builder().config(TrainingTriggerConfig.load(yaml))
        .kafka(Map.of("bootstrap.servers", devstack.bootstrapServers(),
            "session.timeout.ms", 6000))
        .schemaRegistryUrl(devstack.schemaRegistryUrl()).topics(topics).build().start();
  }

  private Process startChild(Devstack devstack, UniqueNames names, Path yaml) throws Exception {
    return startChild(devstack, names, yaml, "child.log");
  }

  /** The service in its own JVM, its output in {@code log} under the test's directory. */
  private Process startChild(Devstack devstack, UniqueNames names, Path yaml, String log)
      throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        TrainingTriggerMain.class.getName(), yaml.toString());
    Map<String, String> env = pb.environment();
    env.put("FLYWHEEL_BOOTSTRAP_SERVERS", devstack.bootstrapServers());
    env.put("FLYWHEEL_SCHEMA_REGISTRY_URL", devstack.schemaRegistryUrl());
    env.put("FLYWHEEL_TOPIC_PREFIX", names.prefix());
    env.put("FLYWHEEL_TRAINING_PORT", "0");
    env.put("FLYWHEEL_KAFKA_SESSION_TIMEOUT_MS", "6000");
    pb.redirectErrorStream(true).redirectOutput(dir.resolve(log).toFile());
    return pb.start();
  }
}
