package dev.flywheel.trainingtrigger;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.devstack.junit.LogLines;
import dev.flywheel.events.Actor;
import dev.flywheel.events.ActorKind;
import dev.flywheel.events.DriftAlert;
import dev.flywheel.events.DriftWindow;
import dev.flywheel.events.ExecutorKind;
import dev.flywheel.events.Label;
import dev.flywheel.events.ModelLineage;
import dev.flywheel.events.RunStatus;
import dev.flywheel.events.TrainingReason;
import dev.flywheel.events.TrainingRequested;
import dev.flywheel.events.TrainingRun;
import dev.flywheel.events.TriggerKind;
import dev.flywheel.events.WindowKind;
import dev.flywheel.registry.InMemorySchemaRegistryClient;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.streams.StreamsProps;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.Topics;
import dev.flywheel.trainingtrigger.config.ModelSpec;
import dev.flywheel.trainingtrigger.config.TrainingTriggerConfig;
import dev.flywheel.trainingtrigger.config.TriggerSpec;
import dev.flywheel.trainingtrigger.coordination.CoordinatorProcessor;
import dev.flywheel.trainingtrigger.coordination.JsonSerde;
import dev.flywheel.trainingtrigger.coordination.ModelState;
import dev.flywheel.trainingtrigger.coordination.ParamOverrides;
import dev.flywheel.trainingtrigger.coordination.Reason;
import dev.flywheel.trainingtrigger.coordination.Reasons;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingTriggerTopologyTest {

  private static final String MODEL = "fraud-detector";
  /** Declared without featureGroup: trained outside Flywheel. */
  private static final String EXTERNAL = "vendor-scorer";
  private static final Instant T0 = Instant.parse("2026-11-23T10:00:00Z");

  @TempDir Path stateDir;

  private TopologyTestDriver driver;
  private TestInputTopic<String, TrainingRequested> requestsIn;
  private TestInputTopic<String, DriftAlert> alertsIn;
  private TestInputTopic<String, Label> labelsIn;
  private TestInputTopic<String, TrainingRun> runsIn;
  private TestOutputTopic<String, TrainingRequested> requestsOut;
  private TestOutputTopic<String, TrainingRun> runsOut;
  private Topics topics;
  private final MeterRegistry meters = new SimpleMeterRegistry();

  private void start(TriggerSpec triggers) {
    ModelSpec model = ModelSpec.of(MODEL, "card_activity").withTarget("is_fraud")
        .withTriggers(triggers);
    TrainingTriggerConfig config = TrainingTriggerConfig.of(List.of(model,
        ModelSpec.of("other-model", "card_activity"))).withExternalModels(List.of(EXTERNAL));
    // One partition: the driver runs one task, which owns every model's schedule tick.
    topics = Topics.builder(new AvroSerdes(new InMemorySchemaRegistryClient(), Map.of()))
        .partitions(1).build();
    // No broker under the test driver: what the coordinator refuses is recorded where the
    // service's DeadLetterProcessingHandler would put it on <topic>.dlq with the reason
    DeadLetterRecorder.refused.clear();
    Properties props = StreamsProps.builder("training-trigger-test")
        .bootstrapServers("127.0.0.1:1").stateDir(stateDir)
        .overrides(Map.of(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG,
            DeadLetterRecorder.class))
        .build();
    driver = new TopologyTestDriver(TrainingTriggerTopology.build(config, topics, meters), props,
        T0);
    requestsIn = input(topics.trainingRequests());
    alertsIn = input(topics.driftAlerts());
    labelsIn = input(topics.labels());
    runsIn = input(topics.trainingRuns());
    Topic<String, TrainingRequested> req = topics.trainingRequests();
    requestsOut = driver.createOutputTopic(req.name(), req.keySerde().deserializer(),
        req.valueSerde().deserializer());
    Topic<String, TrainingRun> runs = topics.trainingRuns();
    runsOut = driver.createOutputTopic(runs.name(), runs.keySerde().deserializer(),
        runs.valueSerde().deserializer());
  }

  private <V> TestInputTopic<String, V> input(Topic<String, V> t) {
    return driver.createInputTopic(t.name(), t.keySerde().serializer(), t.valueSerde().serializer());
  }

  @AfterEach
  void close() {
    if (driver != null) {
      driver.close();
    }
  }

  @Test
  void shouldStartRunWithDeterministicIdForManualRequest() {
    // Given
    start(TriggerSpec.defaults());
    // When
    requestsIn.pipeInput(MODEL, manual("m1", "new features", T0), T0);
    // Then
    List<TrainingRun> started = runsOut.readValuesToList();
    assertThat(started).hasSize(1);
    TrainingRun run = started.get(0);
    assertThat(run.getRunId()).isEqualTo("fraud-detector-1");
    assertThat(run.getStatus()).isEqualTo(RunStatus.STARTED);
    assertThat(run.getAttempt()).isEqualTo(1);
    assertThat(run.getEventId()).isEqualTo("fraud-detector-1/1/started");
    assertThat(run.getLineage().getReasons()).singleElement().satisfies(r -> {
      assertThat(r.getKind()).isEqualTo(TriggerKind.MANUAL);
      assertThat(r.getRequestId()).isEqualTo("m1");
      assertThat(r.getDetail()).isEqualTo("new features");
    });
  }

  @Test
  void shouldTurnDriftAlertIntoRequestWithAlertIdAndStartRun() {
    // Given
    start(TriggerSpec.defaults());
    // When
    alertsIn.pipeInput(MODEL, alert("alert-7", T0), T0);
    // Then
    TrainingRequested request = requestsOut.readValue();
    assertThat(request.getReason().getKind()).isEqualTo(TriggerKind.DRIFT_ALERT);
    assertThat(request.getReason().getAlertId()).isEqualTo("alert-7");
    assertThat(runsOut.readValuesToList()).singleElement().satisfies(run ->
        assertThat(run.getLineage().getReasons()).extracting(TrainingReason::getAlertId)
            .containsExactly("alert-7"));
  }

  @Test
  void shouldIgnoreDriftAlertWhenDriftTriggerIsOff() {
    // Given
    start(new TriggerSpec(false, null, null, Duration.ZERO, 3, Duration.ofMinutes(1)));
    // When
    alertsIn.pipeInput(MODEL, alert("alert-8", T0), T0);
    // Then
    assertThat(requestsOut.isEmpty()).isTrue();
    assertThat(runsOut.isEmpty()).isTrue();
  }

  @Test
  void shouldKeepOneRunInFlightAndCoalesceLaterRequestsIntoTheNext() {
    // Given a run in flight
    start(TriggerSpec.defaults());
    requestsIn.pipeInput(MODEL, manual("m1", "first", T0), T0);
    TrainingRun first = runsOut.readValue();
    // When two more requests arrive while it runs
    requestsIn.pipeInput(MODEL, manual("m2", "second", T0.plusSeconds(10)), T0.plusSeconds(10));
    alertsIn.pipeInput(MODEL, alert("alert-1", T0.plusSeconds(20)), T0.plusSeconds(20));
    // Then nothing starts until the first run finishes
    assertThat(runsOut.isEmpty()).isTrue();
    runsIn.pipeInput(first.getRunId(), finished(first, RunStatus.COMPLETED, T0.plusSeconds(60)),
        T0.plusSeconds(60));
    // And the next run carries both reasons, oldest first
    TrainingRun second = runsOut.readValue();
    assertThat(second.getRunId()).isEqualTo("fraud-detector-2");
    assertThat(second.getLineage().getReasons()).extracting(TrainingReason::getKind)
        .containsExactly(TriggerKind.MANUAL, TriggerKind.DRIFT_ALERT);
    assertThat(second.getLineage().getReasons()).extracting(TrainingReason::getRequestId)
        .containsExactly("m2", "fraud-detector/drift/alert-1");
    assertThat(runsOut.isEmpty()).isTrue();
  }

  @Test
  void shouldWaitForTheCooldownAfterARunBeforeStartingTheNext() {
    // Given a cooldown of one hour and a run that completed at T0 + 1 min
    start(new TriggerSpec(true, null, null, Duration.ofHours(1), 3, Duration.ofMinutes(1)));
    requestsIn.pipeInput(MODEL, manual("m1", "first", T0), T0);
    TrainingRun first = runsOut.readValue();
    Instant done = T0.plus(Duration.ofMinutes(1));
    runsIn.pipeInput(first.getRunId(), finished(first, RunStatus.COMPLETED, done), done);
    // When a request arrives 10 minutes later
    Instant later = done.plus(Duration.ofMinutes(10));
    requestsIn.pipeInput(MODEL, manual("m2", "second", later), later);
    // Then it waits while the cooldown lasts
    driver.advanceWallClockTime(Duration.ofMinutes(50));
    assertThat(runsOut.isEmpty()).isTrue();
    // And starts at the first tick after it
    driver.advanceWallClockTime(Duration.ofMinutes(15));
    assertThat(runsOut.readValuesToList()).extracting(TrainingRun::getRunId)
        .containsExactly("fraud-detector-2");
  }

  @Test
  void shouldRetryAFailedRunUnderTheSameRunIdWithExponentialBackoff() {
    // Given up to 3 attempts, 5 minutes apart after the first failure
    start(new TriggerSpec(true, null, null, Duration.ofHours(1), 3, Duration.ofMinutes(5)));
    requestsIn.pipeInput(MODEL, manual("m1", "first", T0), T0);
    TrainingRun attempt1 = runsOut.readValue();
    // When attempt 1 fails
    Instant failed1 = T0.plusSeconds(30);
    runsIn.pipeInput(attempt1.getRunId(), finished(attempt1, RunStatus.FAILED, failed1), failed1);
    // Then a RETRY request with a 5-minute backoff is raised, and nothing starts yet
    TrainingRequested retry = requestsOut.readValue();
    assertThat(retry.getReason().getKind()).isEqualTo(TriggerKind.RETRY);
    assertThat(retry.getReason().getRetryOfRunId()).isEqualTo("fraud-detector-1");
    assertThat(retry.getNotBefore()).isEqualTo(failed1.plus(Duration.ofMinutes(5)));
    assertThat(runsOut.isEmpty()).isTrue();
    // When the backoff passes (the cooldown does not apply to a retry)
    driver.advanceWallClockTime(Duration.ofMinutes(6));
    // Then attempt 2 starts under the same run id, keeping the original reason
    TrainingRun attempt2 = runsOut.readValue();
    assertThat(attempt2.getRunId()).isEqualTo("fraud-detector-1");
    assertThat(attempt2.getAttempt()).isEqualTo(2);
    assertThat(attempt2.getLineage().getReasons()).extracting(TrainingReason::getKind)
        .containsExactly(TriggerKind.MANUAL, TriggerKind.RETRY);
    // When attempt 2 fails, the backoff doubles
    Instant failed2 = T0.plus(Duration.ofMinutes(7));
    runsIn.pipeInput(attempt2.getRunId(), finished(attempt2, RunStatus.FAILED, failed2), failed2);
    assertThat(requestsOut.readValue().getNotBefore())
        .isEqualTo(failed2.plus(Duration.ofMinutes(10)));
    driver.advanceWallClockTime(Duration.ofMinutes(11));
    TrainingRun attempt3 = runsOut.readValue();
    assertThat(attempt3.getAttempt()).isEqualTo(3);
    // And after the last attempt fails, no further retry is raised
    Instant failed3 = T0.plus(Duration.ofMinutes(20));
    runsIn.pipeInput(attempt3.getRunId(), finished(attempt3, RunStatus.FAILED, failed3), failed3);
    driver.advanceWallClockTime(Duration.ofHours(3));
    assertThat(requestsOut.isEmpty()).isTrue();
    assertThat(runsOut.isEmpty()).isTrue();
  }

  @Test
  void shouldNotRetryAFailedRunMarkedNotRetriableAndStartTheNextRequestAfterIt() {
    // Given up to 3 attempts, and attempt 1 in flight
    start(new TriggerSpec(true, null, null, Duration.ZERO, 3, Duration.ofMinutes(5)));
    requestsIn.pipeInput(MODEL, manual("m1", "first", T0), T0);
    TrainingRun attempt1 = runsOut.readValue();
    // When attempt 1 fails as not retriable (its trained model could not be reported)
    Instant failed = T0.plusSeconds(30);
    TrainingRun notRetriable = TrainingRun.newBuilder(
        finished(attempt1, RunStatus.FAILED, failed)).setRetriable(false).build();
    runsIn.pipeInput(attempt1.getRunId(), notRetriable, failed);
    // Then no retry is raised, and nothing starts, however long one waits
    driver.advanceWallClockTime(Duration.ofHours(1));
    assertThat(requestsOut.isEmpty()).isTrue();
    assertThat(runsOut.isEmpty()).isTrue();
    // When training is requested again
    Instant again = T0.plus(Duration.ofHours(2));
    requestsIn.pipeInput(MODEL, manual("m2", "after the fix", again), again);
    // Then a new run starts at once: the model was free
    assertThat(runsOut.readValue()).extracting(TrainingRun::getRunId, TrainingRun::getAttempt)
        .containsExactly("fraud-detector-2", 1);
  }

  @Test
  void shouldRetryAFailedRunWithItsReasonsAndParamsBeforeStartingTheRequestsQueuedMeanwhile() {
    // Given run 1 from a manual request with max_depth=8, and a drift request queued behind it
    start(new TriggerSpec(true, null, null, Duration.ZERO, 3, Duration.ofMinutes(5)));
    TrainingRequested withParams = manual("m1", "new features", T0);
    withParams.setParams(Map.of("max_depth", "8"));
    requestsIn.pipeInput(MODEL, withParams, T0);
    TrainingRun attempt1 = runsOut.readValue();
    alertsIn.pipeInput(MODEL, alert("alert-1", T0.plusSeconds(10)), T0.plusSeconds(10));
    assertThat(runsOut.isEmpty()).isTrue();
    // When run 1 fails
    Instant failed = T0.plusSeconds(30);
    runsIn.pipeInput(attempt1.getRunId(), finished(attempt1, RunStatus.FAILED, failed), failed);
    // Then no new run starts while the retry waits for its backoff
    assertThat(runsOut.readValuesToList()).as("runs started right after the failure").isEmpty();
    // When the backoff passes
    driver.advanceWallClockTime(Duration.ofMinutes(6));
    // Then attempt 2 of run 1 starts with its own reason and params, and the drift reason
    TrainingRun attempt2 = runsOut.readValue();
    assertThat(attempt2.getRunId()).isEqualTo("fraud-detector-1");
    assertThat(attempt2.getAttempt()).isEqualTo(2);
    assertThat(attempt2.getLineage().getReasons()).extracting(TrainingReason::getKind)
        .containsExactly(TriggerKind.MANUAL, TriggerKind.DRIFT_ALERT, TriggerKind.RETRY);
    assertThat(attempt2.getParams()).containsEntry("max_depth", "8");
    // And once it completes, no further run starts
    Instant done = T0.plus(Duration.ofMinutes(10));
    runsIn.pipeInput(attempt2.getRunId(), finished(attempt2, RunStatus.COMPLETED, done), done);
    driver.advanceWallClockTime(Duration.ofHours(1));
    assertThat(runsOut.readValuesToList()).as("runs started after the retry completed")
        .isEmpty();
  }

  @Test
  void shouldKeepTheStateAndTheNextRunSmallWhenHundredsOfRequestsArriveWhileARunIsInFlight() {
    // Given a run in flight, and a label trigger at every label
    start(new TriggerSpec(true, 1L, null, Duration.ZERO, 3, Duration.ofMinutes(1)));
    requestsIn.pipeInput(MODEL, manual("m1", "first", T0), T0);
    TrainingRun first = runsOut.readValue();
    // When 302 requests arrive meanwhile, in turn manual, drift and label ones
    int n = 302;
    List<String> ids = new ArrayList<>();
    long labelTriggers = 0;
    for (int i = 0; i < n; i++) {
      Instant at = T0.plusSeconds(1 + i);
      if (i % 3 == 0) {
        requestsIn.pipeInput(MODEL, manual("m-" + i, "request " + i, at), at);
        ids.add("m-" + i);
      } else if (i % 3 == 1) {
        alertsIn.pipeInput(MODEL, alert("alert-" + i, at), at);
        ids.add(MODEL + "/drift/alert-" + i);
      } else {
        labelsIn.pipeInput("e" + i, label("e" + i, "is_fraud", at), at);
        ids.add(MODEL + "/new-labels/" + ++labelTriggers);
      }
    }
    // Then the model's state stays small: its pending reasons are bounded
    ModelState state = driver.<String, ModelState>getKeyValueStore(
        TrainingTriggerTopology.MODEL_STATE_STORE).get(MODEL);
    assertThat(state.pending).hasSizeLessThanOrEqualTo(Reasons.MAX);
    assertThat(JsonSerde.of(ModelState.class).serializer().serialize("changelog", state))
        .as("the state's changelog record").hasSizeLessThan(16 * 1024);
    assertThat(runsOut.isEmpty()).isTrue();

    // When the run in flight completes
    Instant done = T0.plusSeconds(n + 60);
    runsIn.pipeInput(first.getRunId(), finished(first, RunStatus.COMPLETED, done), done);

    // Then the next run lists the first ten requests and the latest one by one, and counts the
    // others per trigger kind, in the order the kinds were first folded, all of them counted
    TrainingRun next = runsOut.readValue();
    assertThat(runsOut.isEmpty()).isTrue();
    List<TrainingReason> reasons = next.getLineage().getReasons();
    assertThat(reasons).hasSize(Reasons.FIRST + 3 + 1);
    assertThat(reasons.subList(0, Reasons.FIRST)).extracting(TrainingReason::getRequestId)
        .containsExactlyElementsOf(ids.subList(0, Reasons.FIRST));
    assertThat(reasons.get(reasons.size() - 1).getRequestId()).isEqualTo(ids.get(n - 1));
    List<TrainingReason> counted = reasons.subList(Reasons.FIRST, Reasons.FIRST + 3);
    assertThat(counted).extracting(TrainingReason::getKind).containsExactly(
        TriggerKind.DRIFT_ALERT, TriggerKind.NEW_LABELS, TriggerKind.MANUAL);
    assertThat(counted).extracting(TrainingReason::getRequestId).containsOnlyNulls();
    // the folded ones are requests 10 to 300 (request i fired at T0 + 1 + i s), i.e. 291:
    // 97 drift (i % 3 == 1, from 10 to 298), 97 label (11 to 299), 97 manual (12 to 300)
    assertThat(counted).extracting(TrainingReason::getDetail).containsExactly(
        "97 more DRIFT_ALERT reason(s) coalesced into this run, triggered from "
            + T0.plusSeconds(11) + " to " + T0.plusSeconds(299) + "; not listed one by one: a"
            + " run lists its first 10 reasons and its latest, and counts the others by kind",
        "97 more NEW_LABELS reason(s) coalesced into this run, triggered from "
            + T0.plusSeconds(12) + " to " + T0.plusSeconds(300) + ", 97 new labels in all;"
            + " not listed one by one: a run lists its first 10 reasons and its latest, and"
            + " counts the others by kind",
        "97 more MANUAL reason(s) coalesced into this run, triggered from "
            + T0.plusSeconds(13) + " to " + T0.plusSeconds(301) + "; not listed one by one: a"
            + " run lists its first 10 reasons and its latest, and counts the others by kind");
    assertThat(counted).extracting(TrainingReason::getTriggeredAt).containsExactly(
        T0.plusSeconds(299), T0.plusSeconds(300), T0.plusSeconds(301));
    assertThat(counted.get(1).getLabelCount()).isEqualTo(97L);
    Topic<String, TrainingRun> runs = topics.trainingRuns();
    assertThat(runs.valueSerde().serializer().serialize(runs.name(), next))
        .as("the STARTED event").hasSizeLessThan(16 * 1024);
  }

  @Test
  void shouldRetryAFailedRunWhenManyRequestsArriveDuringItsBackoff() {
    // Given run 1 from a manual request, with more manual requests arriving while it runs than a
    // run lists
    start(new TriggerSpec(true, null, null, Duration.ZERO, 3, Duration.ofMinutes(5)));
    requestsIn.pipeInput(MODEL, manual("m1", "first", T0), T0);
    TrainingRun attempt1 = runsOut.readValue();
    for (int i = 0; i < 5 * Reasons.MAX; i++) {
      requestsIn.pipeInput(MODEL, manual("during-" + i, "during", T0), T0);
    }
    // When it fails, and many more arrive while its retry waits for the backoff
    Instant failed = T0.plusSeconds(30);
    runsIn.pipeInput(attempt1.getRunId(), finished(attempt1, RunStatus.FAILED, failed), failed);
    int backoff = 10 * Reasons.MAX;
    for (int i = 0; i < backoff; i++) {
      requestsIn.pipeInput(MODEL, manual("backoff-" + i, "backoff", failed), failed);
    }
    driver.advanceWallClockTime(Duration.ofMinutes(6));
    // Then attempt 2 of run 1 starts all the same: the RETRY request it waits for is never folded
    TrainingRun attempt2 = runsOut.readValue();
    assertThat(attempt2.getRunId()).isEqualTo("fraud-detector-1");
    assertThat(attempt2.getAttempt()).isEqualTo(2);
    // And its reasons are bounded: attempt 1's first, the RETRY and the latest one by one
    List<TrainingReason> reasons = attempt2.getLineage().getReasons();
    assertThat(reasons).hasSizeLessThanOrEqualTo(Reasons.MAX);
    assertThat(reasons.get(0).getRequestId()).isEqualTo("m1");
    assertThat(reasons).filteredOn(r -> r.getKind() == TriggerKind.RETRY).singleElement()
        .satisfies(r -> {
          assertThat(r.getRetryOfRunId()).isEqualTo("fraud-detector-1");
          assertThat(r.getRequestId()).isEqualTo(MODEL + "/retry/fraud-detector-1/2");
        });
    assertThat(reasons.get(reasons.size() - 1).getRequestId())
        .isEqualTo("backoff-" + (backoff - 1));
    assertThat(runsOut.isEmpty()).isTrue();
  }

  @Test
  void shouldCutAReasonDetailLongerThanTheBoundSayingHowMuchWasLeftOut() {
    // Given
    start(TriggerSpec.defaults());
    // When a request comes with a 5,000-character reason
    String why = "x".repeat(5_000);
    requestsIn.pipeInput(MODEL, manual("m1", why, T0), T0);
    // Then its run keeps the first characters of it, saying how many were cut, within the bound
    String detail = runsOut.readValue().getLineage().getReasons().get(0).getDetail();
    assertThat(detail).hasSizeLessThanOrEqualTo(Reasons.MAX_DETAIL).startsWith("x".repeat(900));
    int kept = detail.indexOf('…');
    assertThat(detail).isEqualTo("x".repeat(kept) + "… (" + (5_000 - kept) + " more characters)");
  }

  @Test
  void shouldBoundTheReasonsOfAStateWrittenBeforeTheyWereBounded() {
    // Given a model's state as written before reasons were bounded (no summary fields), with run
    // 1 in flight and 3,000 reasons pending
    start(TriggerSpec.defaults());
    StringBuilder json = new StringBuilder("{\"runSeq\":1,"
        + "\"inFlightRunId\":\"fraud-detector-1\",\"inFlightAttempt\":1,"
        + "\"inFlightStartedAtMs\":" + T0.toEpochMilli()
        + ",\"inFlightReasons\":[],\"inFlightParams\":{},\"pending\":[");
    for (int i = 0; i < 3_000; i++) {
      json.append(i == 0 ? "" : ",").append("{\"kind\":\"MANUAL\",\"detail\":\"old\","
          + "\"triggeredAtMs\":").append(T0.toEpochMilli()).append(",\"requestId\":\"old-")
          .append(i).append("\",\"alertId\":null,\"labelCount\":null,\"retryOfRunId\":null}");
    }
    json.append("],\"pendingParams\":{},\"labelsSinceTrigger\":0,\"labelTriggers\":0}");
    ModelState old = JsonSerde.of(ModelState.class).deserializer()
        .deserialize("changelog", json.toString().getBytes(StandardCharsets.UTF_8));
    assertThat(old.pending).hasSize(3_000).allSatisfy(r -> assertThat(r.folded()).isNull());
    KeyValueStore<String, ModelState> store =
        driver.getKeyValueStore(TrainingTriggerTopology.MODEL_STATE_STORE);
    store.put(MODEL, old);
    // When one more request arrives
    requestsIn.pipeInput(MODEL, manual("new", "new", T0.plusSeconds(1)), T0.plusSeconds(1));
    // Then the state written back is bounded
    assertThat(store.get(MODEL).pending).hasSizeLessThanOrEqualTo(Reasons.MAX)
        .extracting(Reason::requestId).startsWith("old-0", "old-1").endsWith("new");
    // And once run 1 completes, run 2 counts what it does not list
    Instant done = T0.plusSeconds(60);
    runsIn.pipeInput("fraud-detector-1", finished(started("fraud-detector-1", T0),
        RunStatus.COMPLETED, done), done);
    TrainingRun next = runsOut.readValue();
    assertThat(next.getLineage().getReasons()).hasSize(Reasons.FIRST + 2);
    assertThat(next.getLineage().getReasons().get(Reasons.FIRST).getDetail())
        .startsWith((3_000 + 1 - Reasons.FIRST - 1) + " more MANUAL reason(s)");
  }

  @Test
  void shouldRefuseRequestsWhoseOverridesWouldTakeTheNextRunPastTheBoundAndKeepTheStateSmall() {
    // Given a run in flight
    start(TriggerSpec.defaults());
    requestsIn.pipeInput(MODEL, manual("m1", "first", T0), T0);
    TrainingRun first = runsOut.readValue();
    // When 120 requests arrive meanwhile, each overriding 10 parameters of its own with values as
    // long as an override may have (1.2 million characters in all)
    int n = 120;
    int each = 10;
    for (int i = 0; i < n; i++) {
      Instant at = T0.plusSeconds(1 + i);
      requestsIn.pipeInput(MODEL, manual("flood-" + i, "flood", at,
          params(String.format("p%03d", i), each, "v".repeat(ParamOverrides.MAX_VALUE))), at);
    }
    // Then the requests within the bound are taken, and every later one is refused for the DLQ,
    // saying what to fix
    int taken = ParamOverrides.MAX / each;
    assertThat(DeadLetterRecorder.refused).hasSize(n - taken).first().asString()
        .startsWith("flywheel.training.requests: request flood-" + taken + " for model '"
            + MODEL + "' would bring the parameter overrides of the model's next run to "
            + (ParamOverrides.MAX + each) + " distinct names, more than the "
            + ParamOverrides.MAX + " a run may have")
        .contains("Override fewer parameters per request, or put those every run uses under"
            + " models[fraud-detector].training.params in flywheel.yaml");
    // And the model's state stays small: its pending overrides are bounded
    KeyValueStore<String, ModelState> store =
        driver.getKeyValueStore(TrainingTriggerTopology.MODEL_STATE_STORE);
    ModelState state = store.get(MODEL);
    assertThat(state.pendingParams).hasSize(ParamOverrides.MAX);
    assertThat(state.hasPending("flood-" + (taken - 1))).isTrue();
    assertThat(state.hasPending("flood-" + taken)).isFalse();
    assertThat(JsonSerde.of(ModelState.class).serializer().serialize("changelog", state))
        .as("the state's changelog record").hasSizeLessThan(1024 * 1024);

    // When a request overrides a parameter the next run has already, and another overrides none
    Instant later = T0.plusSeconds(n + 1);
    requestsIn.pipeInput(MODEL, manual("again", "again", later, Map.of("p000_0", "8")), later);
    requestsIn.pipeInput(MODEL, manual("plain", "plain", later), later);
    // Then both are taken
    assertThat(DeadLetterRecorder.refused).hasSize(n - taken);

    // When the run in flight completes
    Instant done = later.plusSeconds(60);
    runsIn.pipeInput(first.getRunId(), finished(first, RunStatus.COMPLETED, done), done);
    // Then the next run has the overrides taken, the later value winning, and its STARTED event
    // fits in a Kafka record
    TrainingRun next = runsOut.readValue();
    assertThat(next.getParams().keySet()).filteredOn(k -> k.matches("p\\d{3}_\\d"))
        .hasSize(ParamOverrides.MAX).contains("p000_0", String.format("p%03d_%d", taken - 1,
            each - 1)).doesNotContain(String.format("p%03d_0", taken));
    assertThat(next.getParams()).containsEntry("p000_0", "8");
    assertThat(next.getLineage().getReasons()).extracting(TrainingReason::getRequestId)
        .contains("flood-0").endsWith("plain");
    Topic<String, TrainingRun> runs = topics.trainingRuns();
    assertThat(runs.valueSerde().serializer().serialize(runs.name(), next))
        .as("the STARTED event").hasSizeLessThan(1024 * 1024);
  }

  @Test
  void shouldRefuseARequestWhoseOwnOverridesAreBeyondTheBoundSayingWhatToFix() {
    // Given
    start(TriggerSpec.defaults());
    // When requests arrive with more overrides than a run may have, with a parameter name too
    // long, and with a value too long
    requestsIn.pipeInput(MODEL, manual("many", "many", T0,
        params("p", ParamOverrides.MAX + 1, "1")), T0);
    requestsIn.pipeInput(MODEL, manual("long-name", "long name", T0,
        Map.of("n".repeat(ParamOverrides.MAX_KEY + 1), "1")), T0);
    requestsIn.pipeInput(MODEL, manual("long-value", "long value", T0,
        Map.of("monotone_constraints", "(" + "1,".repeat(600) + "1)")), T0);
    // Then each is refused for the DLQ, saying what to fix
    assertThat(DeadLetterRecorder.refused).satisfiesExactly(
        r -> assertThat(r).isEqualTo("flywheel.training.requests: request many for model '"
            + MODEL + "' has 101 parameter overrides, more than the 100 a run may have; override"
            + " fewer, and put the parameters every run uses under"
            + " models[fraud-detector].training.params in flywheel.yaml"),
        r -> assertThat(r).startsWith("flywheel.training.requests: request long-name for model '"
            + MODEL + "' has a parameter name of 101 characters ('nnnn")
            .endsWith("…'), longer than the 100 a name may have; give the parameter's name"),
        r -> assertThat(r).isEqualTo("flywheel.training.requests: request long-value for model '"
            + MODEL + "' has a value of 1203 characters for 'monotone_constraints', longer than"
            + " the 1000 an override may have; set so long a value under"
            + " models[fraud-detector].training.params in flywheel.yaml instead"));
    // And nothing starts, and no state is kept for the model
    assertThat(runsOut.isEmpty()).isTrue();
    KeyValueStore<String, ModelState> store =
        driver.getKeyValueStore(TrainingTriggerTopology.MODEL_STATE_STORE);
    assertThat(store.get(MODEL)).isNull();
    // And a request within the bound starts a run with its override
    requestsIn.pipeInput(MODEL, manual("ok", "ok", T0.plusSeconds(1),
        Map.of("max_depth", "8")), T0.plusSeconds(1));
    assertThat(runsOut.readValue().getParams()).containsEntry("max_depth", "8");
  }

  @Test
  void shouldCountTheOverridesOfTheAttemptARetryRepeatsAgainstTheBound() {
    // Given run 1 started with 90 overrides, failed, and its retry waiting for the backoff
    start(new TriggerSpec(true, null, null, Duration.ZERO, 3, Duration.ofMinutes(5)));
    requestsIn.pipeInput(MODEL, manual("m1", "first", T0, params("a", 90, "1")), T0);
    TrainingRun attempt1 = runsOut.readValue();
    Instant failed = T0.plusSeconds(30);
    runsIn.pipeInput(attempt1.getRunId(), finished(attempt1, RunStatus.FAILED, failed), failed);
    // When a request adding 20 overrides arrives, then one adding 10
    requestsIn.pipeInput(MODEL, manual("more", "more", failed, params("b", 20, "1")), failed);
    requestsIn.pipeInput(MODEL, manual("fewer", "fewer", failed, params("c", 10, "1")), failed);
    // Then the first is refused: the retry would start with attempt 1's 90 and these 20
    assertThat(DeadLetterRecorder.refused).singleElement().asString()
        .contains("request more for model '" + MODEL + "' would bring the parameter overrides"
            + " of the model's next run to 110 distinct names")
        .contains("(90 names already)");
    // And attempt 2 starts with the 90 overrides of attempt 1 and the 10 of the request taken
    driver.advanceWallClockTime(Duration.ofMinutes(6));
    TrainingRun attempt2 = runsOut.readValue();
    assertThat(attempt2.getAttempt()).isEqualTo(2);
    assertThat(attempt2.getParams().keySet()).filteredOn(k -> k.matches("[abc]_\\d+"))
        .hasSize(100).allMatch(k -> !k.startsWith("b_"));
  }

  @Test
  void shouldStartTheNextRunWithTheOverridesOfAStateWrittenBeforeTheyWereBounded() {
    // Given a model's state as written before overrides were bounded, with run 1 in flight and
    // 300 overrides pending
    start(TriggerSpec.defaults());
    StringBuilder json = new StringBuilder("{\"runSeq\":1,"
        + "\"inFlightRunId\":\"fraud-detector-1\",\"inFlightAttempt\":1,"
        + "\"inFlightStartedAtMs\":" + T0.toEpochMilli()
        + ",\"inFlightReasons\":[],\"inFlightParams\":{},\"pending\":[{\"kind\":\"MANUAL\","
        + "\"detail\":\"old\",\"triggeredAtMs\":" + T0.toEpochMilli() + ",\"requestId\":\"old\","
        + "\"alertId\":null,\"labelCount\":null,\"retryOfRunId\":null}],\"pendingParams\":{");
    for (int i = 0; i < 300; i++) {
      json.append(i == 0 ? "" : ",").append(String.format("\"old_%03d\":\"1\"", i));
    }
    json.append("},\"labelsSinceTrigger\":0,\"labelTriggers\":0}");
    ModelState old = JsonSerde.of(ModelState.class).deserializer()
        .deserialize("changelog", json.toString().getBytes(StandardCharsets.UTF_8));
    KeyValueStore<String, ModelState> store =
        driver.getKeyValueStore(TrainingTriggerTopology.MODEL_STATE_STORE);
    store.put(MODEL, old);
    // When requests arrive overriding nothing, a parameter already pending, and a new one
    Instant at = T0.plusSeconds(1);
    requestsIn.pipeInput(MODEL, manual("plain", "plain", at), at);
    requestsIn.pipeInput(MODEL, manual("same", "same", at, Map.of("old_000", "2")), at);
    requestsIn.pipeInput(MODEL, manual("new", "new", at, Map.of("max_depth", "8")), at);
    // Then only the one adding a name is refused
    assertThat(DeadLetterRecorder.refused).singleElement().asString()
        .contains("request new for model '" + MODEL + "' would bring the parameter overrides"
            + " of the model's next run to 301 distinct names");
    // And once run 1 completes, run 2 starts with every override of the state, the later value
    // winning, for the reasons taken
    Instant done = T0.plusSeconds(60);
    runsIn.pipeInput("fraud-detector-1", finished(started("fraud-detector-1", T0),
        RunStatus.COMPLETED, done), done);
    TrainingRun next = runsOut.readValue();
    assertThat(next.getParams().keySet()).filteredOn(k -> k.startsWith("old_")).hasSize(300);
    assertThat(next.getParams()).containsEntry("old_000", "2").doesNotContainKey("max_depth");
    assertThat(next.getLineage().getReasons()).extracting(TrainingReason::getRequestId)
        .containsExactly("old", "plain", "same");
  }

  @Test
  void shouldRequestTrainingOnceNNewLabelsOfTheTargetArrived() {
    // Given a trigger at 3 new labels of target is_fraud
    start(new TriggerSpec(false, 3L, null, Duration.ZERO, 3, Duration.ofMinutes(1)));
    // When two labels of the target and one of another target arrive
    labelsIn.pipeInput("e1", label("e1", "is_fraud", T0), T0);
    labelsIn.pipeInput("e2", label("e2", "chargeback_amount", T0), T0);
    labelsIn.pipeInput("e3", label("e3", "is_fraud", T0.plusSeconds(1)), T0.plusSeconds(1));
    // Then nothing is requested
    assertThat(requestsOut.isEmpty()).isTrue();
    // When the third label of the target arrives
    labelsIn.pipeInput("e4", label("e4", "is_fraud", T0.plusSeconds(2)), T0.plusSeconds(2));
    // Then one NEW_LABELS request with the count, and a run
    TrainingRequested request = requestsOut.readValue();
    assertThat(request.getReason().getKind()).isEqualTo(TriggerKind.NEW_LABELS);
    assertThat(request.getReason().getLabelCount()).isEqualTo(3L);
    assertThat(requestsOut.isEmpty()).isTrue();
    assertThat(runsOut.readValuesToList()).hasSize(1);
  }

  @Test
  void shouldRequestTrainingOnEachScheduleTick() {
    // Given a schedule of every 6 hours, first seen at T0
    start(new TriggerSpec(false, null, Duration.ofHours(6), Duration.ZERO, 3,
        Duration.ofMinutes(1)));
    driver.advanceWallClockTime(Duration.ofSeconds(5));
    // When less than the period passes
    driver.advanceWallClockTime(Duration.ofHours(5));
    // Then nothing is requested
    assertThat(requestsOut.isEmpty()).isTrue();
    // When the period passes
    driver.advanceWallClockTime(Duration.ofHours(1));
    // Then a SCHEDULE request and a run
    TrainingRequested request = requestsOut.readValue();
    assertThat(request.getReason().getKind()).isEqualTo(TriggerKind.SCHEDULE);
    assertThat(runsOut.readValuesToList()).extracting(TrainingRun::getRunId)
        .containsExactly("fraud-detector-1");
  }

  @Test
  void shouldIgnoreAFinishedEventOfARunThatIsNotInFlight() {
    // Given run 1 in flight and a pending request
    start(TriggerSpec.defaults());
    requestsIn.pipeInput(MODEL, manual("m1", "first", T0), T0);
    TrainingRun first = runsOut.readValue();
    requestsIn.pipeInput(MODEL, manual("m2", "second", T0), T0);
    // When a COMPLETED event of another run id arrives
    TrainingRun stray = finished(first, RunStatus.COMPLETED, T0.plusSeconds(5));
    stray.setRunId("fraud-detector-99");
    runsIn.pipeInput("fraud-detector-99", stray, T0.plusSeconds(5));
    // Then the run in flight still blocks the next
    assertThat(runsOut.isEmpty()).isTrue();
  }

  @Test
  void shouldNotTakeTheCompletedOfARunStartedBeforeAStateResetForTheRunOfTheSameIdInFlight() {
    // Given run 1 started at T0, then the coordinator's state lost (reset), and run ids begun
    // again: a new run 1 in flight, started an hour later, and a request waiting behind it
    start(TriggerSpec.defaults());
    requestsIn.pipeInput(MODEL, manual("m1", "before the reset", T0), T0);
    TrainingRun before = runsOut.readValue();
    driver.<String, ModelState>getKeyValueStore(TrainingTriggerTopology.MODEL_STATE_STORE)
        .delete(MODEL);
    Instant later = T0.plus(Duration.ofHours(1));
    requestsIn.pipeInput(MODEL, manual("m2", "after the reset", later), later);
    TrainingRun after = runsOut.readValue();
    assertThat(after).extracting(TrainingRun::getRunId, TrainingRun::getAttempt)
        .containsExactly(before.getRunId(), before.getAttempt());
    requestsIn.pipeInput(MODEL, manual("m3", "waiting", later.plusSeconds(1)),
        later.plusSeconds(1));
    try (LogLines log = LogLines.of(CoordinatorProcessor.class)) {
      // When the COMPLETED of the run started before the reset arrives
      Instant done = later.plusSeconds(30);
      runsIn.pipeInput(before.getRunId(), finished(before, RunStatus.COMPLETED, done), done);
      // Then it does not free the model: the run in flight stays, and the next does not start
      assertThat(runsOut.readValuesToList()).as("runs started").isEmpty();
      ModelState state = driver.<String, ModelState>getKeyValueStore(
          TrainingTriggerTopology.MODEL_STATE_STORE).get(MODEL);
      assertThat(state.inFlightStartedAtMs).isEqualTo(later.toEpochMilli());
      assertThat(state.lastFinishedAtMs).isNull();
      // And it is logged with both start times, and counted with its reason
      assertThat(log.contain("ignoring COMPLETED fraud-detector-1/1/completed of run"
          + " fraud-detector-1 attempt 1 of model fraud-detector: that attempt started at " + T0
          + ", the one in flight at " + later)).isTrue();
      assertThat(meters.get(CoordinatorProcessor.IGNORED_OUTCOMES).tag("model", MODEL)
          .tag("reason", CoordinatorProcessor.OTHER_START).counter().count()).isEqualTo(1.0);
    }
    // And the outcome of the run in flight frees the model, so the waiting request starts
    Instant done = later.plusSeconds(60);
    runsIn.pipeInput(after.getRunId(), finished(after, RunStatus.COMPLETED, done), done);
    assertThat(runsOut.readValuesToList()).extracting(TrainingRun::getRunId)
        .containsExactly("fraud-detector-2");
  }

  @Test
  void shouldNotRetryTheRunInFlightForTheFailureOfARunStartedBeforeAStateReset() {
    // Given run 1 started at T0, then the coordinator's state lost, and a new run 1 in flight
    start(new TriggerSpec(true, null, null, Duration.ZERO, 3, Duration.ofMinutes(5)));
    requestsIn.pipeInput(MODEL, manual("m1", "before the reset", T0), T0);
    TrainingRun before = runsOut.readValue();
    driver.<String, ModelState>getKeyValueStore(TrainingTriggerTopology.MODEL_STATE_STORE)
        .delete(MODEL);
    Instant later = T0.plus(Duration.ofHours(1));
    requestsIn.pipeInput(MODEL, manual("m2", "after the reset", later), later);
    TrainingRun after = runsOut.readValue();
    // When the FAILED of the run started before the reset arrives
    Instant failed = later.plusSeconds(30);
    runsIn.pipeInput(before.getRunId(), finished(before, RunStatus.FAILED, failed), failed);
    // Then no retry is raised and the run in flight keeps its attempt
    driver.advanceWallClockTime(Duration.ofMinutes(10));
    assertThat(requestsOut.readValuesToList()).as("requests raised").isEmpty();
    assertThat(runsOut.readValuesToList()).as("runs started").isEmpty();
    ModelState state = driver.<String, ModelState>getKeyValueStore(
        TrainingTriggerTopology.MODEL_STATE_STORE).get(MODEL);
    assertThat(state.inFlightRunId).isEqualTo(after.getRunId());
    assertThat(state.retryRunId).isNull();
  }

  @Test
  void shouldMatchAnOutcomeByRunIdAndAttemptAloneWhenTheStateHoldsNoStartTime() {
    // Given a state written without the start of the run in flight
    start(TriggerSpec.defaults());
    ModelState old = JsonSerde.of(ModelState.class).deserializer().deserialize("changelog",
        ("{\"runSeq\":1,\"inFlightRunId\":\"fraud-detector-1\",\"inFlightAttempt\":1,"
            + "\"pending\":[],\"pendingParams\":{}}").getBytes(StandardCharsets.UTF_8));
    KeyValueStore<String, ModelState> store =
        driver.getKeyValueStore(TrainingTriggerTopology.MODEL_STATE_STORE);
    store.put(MODEL, old);
    // When the COMPLETED of run 1 attempt 1 arrives
    Instant done = T0.plusSeconds(60);
    runsIn.pipeInput("fraud-detector-1", finished(started("fraud-detector-1", T0),
        RunStatus.COMPLETED, done), done);
    // Then it frees the model, as before start times were compared
    assertThat(store.get(MODEL).inFlightRunId).isNull();
    assertThat(store.get(MODEL).lastFinishedAtMs).isEqualTo(done.toEpochMilli());
  }

  @Test
  void shouldRefuseARequestForAnUndeclaredModelToTheDeadLetterTopicAndCarryOn() {
    // Given
    start(TriggerSpec.defaults());
    // When a request names a model flywheel.yaml does not declare
    TrainingRequested request = manual("m1", "typo", T0);
    request.setModel("fraud-detecter");
    requestsIn.pipeInput("fraud-detecter", request, T0);
    // Then it is refused with the declared models, for flywheel.training.requests.dlq
    assertThat(DeadLetterRecorder.refused).singleElement().satisfies(r -> {
      assertThat(r).startsWith("flywheel.training.requests: ");
      assertThat(r).contains("no model 'fraud-detecter' is declared")
          .contains("[fraud-detector, other-model]");
    });
    assertThat(runsOut.isEmpty()).isTrue();
  }

  @Test
  void shouldRefuseARequestForAModelTrainedOutsideFlywheelSayingWhatToAddAndCarryOn() {
    // Given a model declared without featureGroup, and training under way for another
    start(TriggerSpec.defaults());
    // When a manual request for it arrives (flywheel train without a config, or an old request)
    TrainingRequested request = manual("m1", "retrain the vendor model", T0);
    request.setModel(EXTERNAL);
    requestsIn.pipeInput(EXTERNAL, request, T0);
    // Then the coordinator refuses it, saying why and what to add, for the dead-letter topic
    assertThat(DeadLetterRecorder.refused).singleElement().satisfies(r -> {
      assertThat(r).startsWith("flywheel.training.requests: ");
      assertThat(r).contains("model 'vendor-scorer' is declared in flywheel.yaml without"
          + " featureGroup").contains("trained outside Flywheel").contains("add featureGroup:");
    });
    // And nothing starts, and no state is kept for it
    assertThat(runsOut.isEmpty()).isTrue();
    assertThat(requestsOut.isEmpty()).isTrue();
    KeyValueStore<String, ModelState> store =
        driver.getKeyValueStore(TrainingTriggerTopology.MODEL_STATE_STORE);
    assertThat(store.get(EXTERNAL)).isNull();
    // And the coordinator carries on: the next request of a model Flywheel trains starts a run
    requestsIn.pipeInput(MODEL, manual("m2", "new features", T0.plusSeconds(1)),
        T0.plusSeconds(1));
    assertThat(runsOut.readValuesToList()).extracting(TrainingRun::getRunId)
        .containsExactly("fraud-detector-1");
  }

  @Test
  void shouldSkipADriftAlertOfAModelTrainedOutsideFlywheelWithALogLineAndACount() {
    // Given
    start(TriggerSpec.defaults());
    try (LogLines log = LogLines.of(TrainingTriggerTopology.class)) {
      // When drift-detector raises alerts for the model it watches, and for an undeclared one
      DriftAlert external = alert("alert-9", T0);
      external.setModel(EXTERNAL);
      alertsIn.pipeInput(EXTERNAL, external, T0);
      DriftAlert external2 = alert("alert-10", T0.plusSeconds(60));
      external2.setModel(EXTERNAL);
      alertsIn.pipeInput(EXTERNAL, external2, T0.plusSeconds(60));
      DriftAlert undeclared = alert("alert-11", T0);
      undeclared.setModel("nosuch");
      alertsIn.pipeInput("nosuch", undeclared, T0);
      // Then no request and no run, nothing refused, and each skip is logged and counted
      assertThat(requestsOut.isEmpty()).isTrue();
      assertThat(runsOut.isEmpty()).isTrue();
      assertThat(DeadLetterRecorder.refused).isEmpty();
      assertThat(log.contain("drift alert alert-9 of model 'vendor-scorer' skipped: the model is"
          + " declared without featureGroup")).isTrue();
      assertThat(log.contain("add featureGroup:")).isTrue();
      assertThat(meters.get(TrainingTriggerTopology.SKIPPED_ALERTS).tag("model", EXTERNAL)
          .tag("reason", TrainingTriggerTopology.TRAINED_OUTSIDE).counter().count())
          .isEqualTo(2.0);
      assertThat(meters.find(TrainingTriggerTopology.SKIPPED_ALERTS).tag("model", "nosuch")
          .counter()).isNull();
    }
    // And the alerts of models Flywheel trains still become requests
    alertsIn.pipeInput(MODEL, alert("alert-12", T0.plusSeconds(120)), T0.plusSeconds(120));
    assertThat(requestsOut.readValue().getReason().getAlertId()).isEqualTo("alert-12");
  }

  @Test
  void shouldLeaveLabelsToTheModelsFlywheelTrains() {
    // Given a label trigger, and a model trained outside Flywheel
    start(new TriggerSpec(false, 1L, null, Duration.ZERO, 3, Duration.ofMinutes(1)));
    // When labels of another target arrive (the external model's, say)
    labelsIn.pipeInput("e1", label("e1", "vendor_target", T0), T0);
    // Then nothing is requested or refused
    assertThat(requestsOut.isEmpty()).isTrue();
    assertThat(DeadLetterRecorder.refused).isEmpty();
  }

  /**
   * Records what a processor threw on, as {@code <source topic>: <message>}, and carries on, as
   * the service's DeadLetterProcessingHandler does after writing the record to the topic's DLQ.
   */
  public static final class DeadLetterRecorder implements ProcessingExceptionHandler {

    static final List<String> refused = new CopyOnWriteArrayList<>();

    @Override
    public void configure(Map<String, ?> configs) {}

    @Override
    public ProcessingHandlerResponse handle(ErrorHandlerContext context,
        org.apache.kafka.streams.processor.api.Record<?, ?> record, Exception exception) {
      refused.add(context.topic() + ": " + exception.getMessage());
      return ProcessingHandlerResponse.CONTINUE;
    }
  }

  static TrainingRequested manual(String id, String why, Instant at) {
    return TrainingRequested.newBuilder().setEventId(id).setEventTime(at).setModel(MODEL)
        .setReason(TrainingReason.newBuilder().setKind(TriggerKind.MANUAL).setDetail(why)
            .setTriggeredAt(at).build())
        .setActor(Actor.newBuilder().setName("alice").setKind(ActorKind.HUMAN).build())
        .build();
  }

  static TrainingRequested manual(String id, String why, Instant at, Map<String, String> params) {
    TrainingRequested r = manual(id, why, at);
    r.setParams(params);
    return r;
  }

  /** {@code n} parameter overrides {@code <prefix>_<i>}, each of value {@code value}. */
  static Map<String, String> params(String prefix, int n, String value) {
    Map<String, String> params = new TreeMap<>();
    for (int i = 0; i < n; i++) {
      params.put(prefix + "_" + i, value);
    }
    return params;
  }

  static DriftAlert alert(String id, Instant at) {
    return DriftAlert.newBuilder().setEventId(id).setEventTime(at).setModel(MODEL)
        .setBaselineVersion(1)
        .setWindow(DriftWindow.newBuilder().setKind(WindowKind.TIME).setSequence(3)
            .setStartTime(at.minusSeconds(3600)).setEndTime(at).setCount(100).build())
        .setOnset(at.minusSeconds(3600)).setConsecutiveDrifted(3).setDriftedShare(0.4)
        .setTopFeatures(List.of()).setReportId("report-" + id).build();
  }

  static Label label(String eventId, String target, Instant at) {
    return Label.newBuilder().setEventId(eventId).setEventTime(at).setTarget(target).setValue(1.0)
        .build();
  }

  /** The STARTED event of attempt 1 of a run of {@link #MODEL}. */
  static TrainingRun started(String runId, Instant at) {
    return TrainingRun.newBuilder().setEventId(runId + "/1/started").setEventTime(at)
        .setRunId(runId).setModel(MODEL).setStatus(RunStatus.STARTED).setAttempt(1)
        .setStartedAt(at).setLineage(ModelLineage.newBuilder().setRunId(runId)
            .setReasons(List.of()).setTrainer("xgboost")
            .setExecutor(ExecutorKind.LOCAL).build())
        .setParams(Map.of()).build();
  }

  static TrainingRun finished(TrainingRun started, RunStatus status, Instant at) {
    return TrainingRun.newBuilder(started).setEventId(started.getRunId() + "/"
            + started.getAttempt() + "/" + status.name().toLowerCase())
        .setEventTime(at).setStatus(status).setFinishedAt(at)
        .setError(status == RunStatus.FAILED ? "trainer crashed" : null).build();
  }
}
