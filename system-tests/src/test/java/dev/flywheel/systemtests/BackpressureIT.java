package dev.flywheel.systemtests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.ChildProcesses;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.devstack.junit.WrittenRecords;
import dev.flywheel.events.Prediction;
import dev.flywheel.servingsink.ServingSinkMain;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A producer far ahead of serving: 5,000 feature vectors of 204 features each (about 25 MB on
 * the topic, over 100 MB as objects), 4,000 waiting before serving starts and 1,000 sent as fast
 * as possible while it runs, to serving throttled to batches of 50 vectors, one transaction each. Serving runs in its own JVM with a 128 MiB heap and exits on
 * an OutOfMemoryError; its GC log is the measurement.
 *
 * <p>The bound: after every collection the heap holds at most 64 MiB. A serving loop that pulled
 * the backlog into memory ahead of scoring would hold the vectors as objects — well over 100
 * MiB — and exceed it (or die); one that reads as it scores holds a batch and the consumer's fetch
 * buffers (1 MiB per partition by default). The bound is a resource bound, not a time bound.
 */
@WithDevstack
class BackpressureIT {

  private static final int VECTORS = 5_000;
  /** Vectors on the log before serving starts: the backlog, there by construction. */
  private static final int WAITING = 4_000;
  private static final int EXTRA_FEATURES = 200;
  private static final int HEAP_MB = 128;
  private static final int RETAINED_BOUND_MB = 64;
  /** {@code GC(7) Pause Young (Normal) (G1 Evacuation Pause) 40M->12M(128M) 3.1ms}. */
  private static final Pattern COLLECTION =
      Pattern.compile("GC\\(\\d+\\) Pause .* (\\d+)M->(\\d+)M\\((\\d+)M\\)");

  @TempDir Path dir;

  @RegisterExtension final ChildProcesses children = new ChildProcesses();

  @Test
  void shouldKeepServingsHeapBoundedWhileABacklogWaits(Devstack devstack, UniqueNames names)
      throws Exception {
    // Given 4,000 big vectors already waiting on the log
    Loop loop = new Loop(devstack, names, dir).createTopics();
    loop.send(loop.topics.modelPromoted(), Loop.MODEL,
        loop.promoted(1, loop.writeModel(dir.resolve("models"), 1)));
    loop.produceVectors(0, WAITING, EXTRA_FEATURES);
    Path gcLog = dir.resolve("serving-gc.log");
    Process serving;

    try (WrittenRecords predicted = loop.written(loop.topics.predictions().name())) {
      // When serving starts in its own JVM (128 MiB heap, GC logged), scoring 50 vectors a
      // transaction, while a producer sends the other 1,000 as fast as it can
      serving = loop.child(ServingSinkMain.class, "serving",
          Map.of("FLYWHEEL_SERVING_PORT", "0"),
          List.of("-Xmx" + HEAP_MB + "m", "-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError",
              "-Xlog:gc:file=" + gcLog),
          loop.servingYaml("a", 50).toString());
      children.add(serving);
      loop.produceVectors(WAITING, VECTORS - WAITING, EXTRA_FEATURES);
      System.out.println("backlog when the producer finished: " + (VECTORS - predicted.count())
          + " vectors");

      // Then serving works through the backlog, each vector scored once
      await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(200))
          .until(() -> predicted.count() >= VECTORS);
      await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(1))
          .until(() -> loop.readCommitted(loop.topics.predictions()).size() >= VECTORS);
    }
    assertThat(serving.isAlive()).as("serving ran out of memory; see serving.log").isTrue();
    List<Prediction> predictions = loop.readCommitted(loop.topics.predictions());
    assertThat(predictions).hasSize(VECTORS);
    assertThat(predictions.stream().map(Prediction::getEventId).collect(Collectors.toSet()))
        .hasSize(VECTORS);
    serving.destroy();
    assertThat(serving.waitFor(60, TimeUnit.SECONDS)).isTrue();

    // and its heap after every collection stayed under the bound
    List<Integer> retained = new ArrayList<>();
    for (String line : Files.readAllLines(gcLog)) {
      Matcher m = COLLECTION.matcher(line);
      if (m.find()) {
        retained.add(Integer.parseInt(m.group(2)));
      }
    }
    System.out.println("serving heap after each collection (MiB): " + retained);
    assertThat(retained).as("collections while the backlog was scored").hasSizeGreaterThan(3);
    assertThat(retained).allSatisfy(mb -> assertThat(mb).isLessThanOrEqualTo(RETAINED_BOUND_MB));
  }
}
