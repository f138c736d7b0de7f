package dev.flywheel.streams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.registry.SchemaRegistryException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler
    .StreamThreadExceptionResponse;
import org.junit.jupiter.api.Test;

/** Failed stream threads are replaced after a pause that grows while failures follow in a row. */
class ReplaceFailedThreadsTest {

  private final AtomicLong clock = new AtomicLong();
  private final List<Long> pauses = new ArrayList<>();
  private final ReplaceFailedThreads handler =
      new ReplaceFailedThreads("test", clock::get, pauses::add);

  @Test
  void shouldReplaceAfterAPauseDoublingFromOneSecondUpToFive() {
    // When seven threads fail one after the other, a second apart
    for (int i = 0; i < 7; i++) {
      assertThat(handler.handle(new IllegalStateException("registry away")))
          .isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
      clock.addAndGet(Duration.ofSeconds(1).toNanos());
    }

    // Then each is replaced after 1, 2, 4, 5, 5, 5, 5 s (±20%): never near the transaction timeout
    long[] expected = {1_000, 2_000, 4_000, 5_000, 5_000, 5_000, 5_000};
    assertThat(pauses).hasSize(expected.length);
    for (int i = 0; i < expected.length; i++) {
      assertThat(pauses.get(i)).as("pause %d", i)
          .isBetween((long) (expected[i] * 0.8), (long) (expected[i] * 1.2));
    }
  }

  @Test
  void shouldStartAgainFromOneSecondAfterFiveQuietMinutes() {
    // Given three failures in a row
    for (int i = 0; i < 3; i++) {
      handler.handle(new IllegalStateException("x"));
    }

    // When the next comes more than five minutes after the last
    clock.addAndGet(ReplaceFailedThreads.QUIET.plusSeconds(1).toNanos());
    handler.handle(new IllegalStateException("x"));

    // Then it is replaced after about a second again
    assertThat(pauses.get(3)).isBetween(800L, 1_200L);
  }

  @Test
  void shouldCountTheFailuresInARowAndKeepTheLastCause() {
    // When three threads fail a second apart, the last for a cause of its own
    handler.handle(new IllegalStateException("first"));
    clock.addAndGet(Duration.ofSeconds(1).toNanos());
    handler.handle(new IllegalStateException("second"));
    clock.addAndGet(Duration.ofSeconds(1).toNanos());
    handler.handle(new org.apache.kafka.streams.errors.StreamsException("task [0_1] failed",
        new IllegalArgumentException("topic flywheel.out.dlq not writable")));

    // Then they count as three in a row, with the last one's causes outermost first
    assertThat(handler.failures()).isEqualTo(new ReplaceFailedThreads.Failures(3,
        "task [0_1] failed: topic flywheel.out.dlq not writable"));
  }

  @Test
  void shouldReportNoProblemBeforeFiveFailuresInARow() {
    // When four threads fail in a row
    for (int i = 0; i < ReplaceFailedThreads.UNHEALTHY_AFTER - 1; i++) {
      handler.handle(new IllegalStateException("x"));
    }

    // Then that is no health problem yet
    assertThat(handler.healthProblem()).isEmpty();
  }

  @Test
  void shouldReportTheFailuresAndTheLastCauseFromFiveInARowAndStillReplace() {
    // When ten threads fail in a row, a few seconds apart
    List<StreamThreadExceptionResponse> responses = new ArrayList<>();
    for (int i = 1; i <= 10; i++) {
      responses.add(handler.handle(new IllegalStateException("cannot write flywheel.out " + i)));
      clock.addAndGet(Duration.ofSeconds(5).toNanos());
    }

    // Then the health problem names the count and the last cause
    assertThat(handler.healthProblem()).hasValue("test: a stream thread failed 10 times in a"
        + " row, last: cannot write flywheel.out 10; it is replaced each time, see the log");
    // and every thread was still replaced, so the processor recovers once the cause is fixed
    assertThat(responses).containsOnly(StreamThreadExceptionResponse.REPLACE_THREAD);
  }

  @Test
  void shouldForgetTheFailuresOnceAThreadHasRunFiveMinutesWithoutFailing() {
    // Given five failures in a row, reported as a health problem
    for (int i = 0; i < ReplaceFailedThreads.UNHEALTHY_AFTER; i++) {
      handler.handle(new IllegalStateException("x"));
    }
    assertThat(handler.healthProblem()).isPresent();

    // When the last replacement runs a little more than five minutes without failing
    clock.addAndGet(ReplaceFailedThreads.QUIET.plusSeconds(1).toNanos());

    // Then there is no problem any more, and the next failure is the first of a new row
    assertThat(handler.healthProblem()).isEmpty();
    assertThat(handler.failures().inARow()).isZero();
    handler.handle(new IllegalStateException("y"));
    assertThat(handler.failures()).isEqualTo(new ReplaceFailedThreads.Failures(1, "y"));
  }

  @Test
  void shouldReportHealthyAgainOnceTheReplacedThreadHasRunNinetySecondsWithoutFailing() {
    // Given five failures in a row, reported as a health problem
    for (int i = 0; i < ReplaceFailedThreads.UNHEALTHY_AFTER; i++) {
      handler.handle(new IllegalStateException("x"));
    }

    // When the last replacement runs 89 s, then 91 s, without failing
    clock.addAndGet(Duration.ofSeconds(89).toNanos());
    boolean reportedAt89 = handler.healthProblem().isPresent();
    clock.addAndGet(Duration.ofSeconds(2).toNanos());

    // Then the problem is reported until then and not after, while the run still counts for the
    // back-off
    assertThat(reportedAt89).isTrue();
    assertThat(handler.healthProblem()).isEmpty();
    assertThat(handler.failures().inARow()).isEqualTo(5);
  }

  @Test
  void shouldCountTheHealthWindowFromTheReplacementNotFromTheFailure() {
    // Given a registry that refuses the threads, each failed one replaced after the 60 s wait
    ReplaceFailedThreads waiting = new ReplaceFailedThreads("test", clock::get,
        millis -> clock.addAndGet(Duration.ofMillis(millis).toNanos()))
        .waitingOut(SchemaRegistryException::isRetriableCause, () -> true, () -> false)
        .probingOn(Runnable::run);
    RuntimeException refused = new org.apache.kafka.streams.errors.StreamsException(
        "cannot decode", new SchemaRegistryException("GET /schemas/ids/7: HTTP 401", 401, 401,
            "Unauthorized", null));
    for (int i = 0; i < ReplaceFailedThreads.UNHEALTHY_AFTER; i++) {
      waiting.handle(refused);
    }

    // When the last replacement has run 80 s (its thread failed over two minutes ago)
    clock.addAndGet(Duration.ofSeconds(80).toNanos());

    // Then the run of failures is still reported: the replaced thread has not run 90 s yet
    assertThat(waiting.healthProblem()).isPresent();
  }

  @Test
  void shouldStillCountFailuresInARowThatComeJustUnderFiveMinutesApart() {
    // When five threads fail, each a little less than five minutes after the one before
    for (int i = 0; i < ReplaceFailedThreads.UNHEALTHY_AFTER; i++) {
      if (i > 0) {
        clock.addAndGet(ReplaceFailedThreads.QUIET.minusSeconds(1).toNanos());
      }
      handler.handle(new IllegalStateException("x"));
    }

    // Then they count as five in a row
    assertThat(handler.failures().inARow()).isEqualTo(5);
    assertThat(handler.healthProblem()).isPresent();
  }

  @Test
  void shouldCutALongCauseInTheHealthProblem() {
    // When threads fail with a very long message
    for (int i = 0; i < ReplaceFailedThreads.UNHEALTHY_AFTER; i++) {
      handler.handle(new IllegalStateException("z".repeat(1_000)));
    }

    // Then the cause kept is cut
    assertThat(handler.failures().lastCause())
        .hasSize(ReplaceFailedThreads.CAUSE_CHARS + 3).endsWith("...");
  }

  @Test
  void shouldReplaceAThreadFailedByARegistryOutageOnceTheRegistryAnswersAgain() {
    // Given a handler waiting out registry outages, and a registry that answers on the 6th probe
    ReplaceFailedThreads waiting = waitingOut(probes -> probes >= 6, () -> false);

    // When a thread fails because the registry does not answer
    StreamThreadExceptionResponse response = waiting.handle(registryAway());

    // Then it is replaced after the usual pause and five more probes a second apart, no longer
    assertThat(response).isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
    assertThat(slept).hasSize(6);
    assertThat(slept.get(0)).isBetween(800L, 1_200L);
    assertThat(slept.subList(1, 6)).containsOnly(ReplaceFailedThreads.PROBE_MILLIS);
  }

  @Test
  void shouldReplaceAThreadFailedByARegistryOutageAfterTheLongestWaitIfTheRegistryStaysAway() {
    // Given a registry that never answers
    ReplaceFailedThreads waiting = waitingOut(probes -> false, () -> false);

    // When a thread fails because it does not answer
    waiting.handle(registryAway());

    // Then it is replaced once the longest wait is over
    long total = slept.stream().mapToLong(Long::longValue).sum();
    assertThat(total).isBetween(ReplaceFailedThreads.OUTAGE_WAIT.toMillis(),
        ReplaceFailedThreads.OUTAGE_WAIT.toMillis() + ReplaceFailedThreads.PROBE_MILLIS);
  }

  @Test
  void shouldWaitTheLongestWaitForAThreadFailedByARegistryThatRefusesIt() {
    // Given a registry that answers every probe, but refused the thread access to a schema
    ReplaceFailedThreads waiting = waitingOut(probes -> true, () -> false);
    RuntimeException refused = new org.apache.kafka.streams.errors.StreamsException(
        "cannot decode", new SchemaRegistryException("GET /schemas/ids/7: HTTP 403", 403, 40301,
            "User is denied operation Read on Subject: payments-value", null));

    // When a thread fails because of it
    waiting.handle(refused);

    // Then it is replaced only once the longest wait is over, not as soon as a probe answers (a
    // replacement restores the thread's stores, and meets the same refusal)
    long total = slept.stream().mapToLong(Long::longValue).sum();
    assertThat(total).isBetween(ReplaceFailedThreads.OUTAGE_WAIT.toMillis(),
        ReplaceFailedThreads.OUTAGE_WAIT.toMillis() + ReplaceFailedThreads.PROBE_MILLIS);
  }

  @Test
  void shouldReplaceAfterTheLongestWaitWhileAProbeOfTheRegistryHangs() {
    // Given a probe of the registry that never returns (a registry that accepts and then hangs)
    ReplaceFailedThreads waiting = waitingOut(probes -> true, () -> false, task -> { });

    // When a thread fails because the registry does not answer
    waiting.handle(registryAway());

    // Then it is replaced once the longest wait is over, the probe still running
    long total = slept.stream().mapToLong(Long::longValue).sum();
    assertThat(total).isBetween(ReplaceFailedThreads.OUTAGE_WAIT.toMillis(),
        ReplaceFailedThreads.OUTAGE_WAIT.toMillis() + ReplaceFailedThreads.PROBE_MILLIS);
  }

  @Test
  void shouldStopWaitingForTheRegistryWhenStreamsShutsDown() {
    // Given a registry that never answers, and Kafka Streams shutting down after two probes
    int[] probes = {0};
    ReplaceFailedThreads waiting = waitingOut(n -> {
      probes[0] = n;
      return false;
    }, () -> probes[0] >= 2);

    // When a thread fails because the registry does not answer
    waiting.handle(registryAway());

    // Then it stops waiting at once
    assertThat(slept).hasSize(3);
  }

  @Test
  void shouldPauseAsUsualForAFailureThatIsNotARegistryOutage() {
    // Given a handler waiting out registry outages, and a registry that never answers
    ReplaceFailedThreads waiting = waitingOut(probes -> false, () -> false);

    // When a thread fails for another reason
    waiting.handle(new IllegalStateException("a bug"));

    // Then it is replaced after the usual pause alone
    assertThat(slept).hasSize(1);
    assertThat(slept.get(0)).isBetween(800L, 1_200L);
  }

  @Test
  void shouldTakeARegistryThatRefusesTheClientAsNotAnsweringButOneThatRefusesARequestAsAnswering() {
    // Given a registry that refuses the client's credentials, and one that answers that a
    // subject does not exist
    dev.flywheel.registry.SchemaRegistryClient refusingTheClient = registryAnswering(
        new SchemaRegistryException("GET /subjects: HTTP 401", 401, 401, "Unauthorized", null));
    dev.flywheel.registry.SchemaRegistryClient refusingARequest = registryAnswering(
        new SchemaRegistryException("GET /subjects: HTTP 404", 404, 40401, "Subject not found",
            null));

    // Then a thread failed because of the first waits as for an outage (every thread would fail
    // alike until the credentials are fixed), and the second is the registry answering
    assertThat(ReplaceFailedThreads.answers(refusingTheClient)).isFalse();
    assertThat(ReplaceFailedThreads.answers(refusingARequest)).isTrue();
  }

  /** A registry client whose every call throws {@code refusal}. */
  private static dev.flywheel.registry.SchemaRegistryClient registryAnswering(
      SchemaRegistryException refusal) {
    return (dev.flywheel.registry.SchemaRegistryClient) java.lang.reflect.Proxy.newProxyInstance(
        ReplaceFailedThreadsTest.class.getClassLoader(),
        new Class<?>[] {dev.flywheel.registry.SchemaRegistryClient.class},
        (proxy, method, args) -> {
          throw refusal;
        });
  }

  private final List<Long> slept = new ArrayList<>();

  /** A handler on a clock its sleeps move, whose registry answers when {@code answers} says. */
  private ReplaceFailedThreads waitingOut(java.util.function.IntPredicate answers,
      java.util.function.BooleanSupplier stopping) {
    return waitingOut(answers, stopping, Runnable::run);
  }

  private ReplaceFailedThreads waitingOut(java.util.function.IntPredicate answers,
      java.util.function.BooleanSupplier stopping, java.util.concurrent.Executor probes) {
    AtomicLong now = new AtomicLong();
    int[] asked = {0};
    return new ReplaceFailedThreads("test", now::get, millis -> {
      slept.add(millis);
      now.addAndGet(Duration.ofMillis(millis).toNanos());
    }).waitingOut(SchemaRegistryException::isRetriableCause,
        () -> answers.test(++asked[0]), stopping).probingOn(probes);
  }

  private static RuntimeException registryAway() {
    return new org.apache.kafka.streams.errors.StreamsException("cannot decode",
        new SchemaRegistryException("GET /schemas/ids/7: no answer from http://registry:8081",
            SchemaRegistryException.NO_RESPONSE, SchemaRegistryException.NO_RESPONSE, null,
            null));
  }
}
