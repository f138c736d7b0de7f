package dev.flywheel.bench;

import dev.flywheel.events.Actor;
import dev.flywheel.events.ActorKind;
import dev.flywheel.events.CommandOutcome;
import dev.flywheel.events.ModelEvent;
import dev.flywheel.events.ModelVersion;
import dev.flywheel.events.RegisterVersion;
import dev.flywheel.registryprojector.ModelHistory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Heap the registry's in-memory history takes per registration of a realistic version
 * ({@link RealisticVersions}, baseline profile included): {@code n} registrations of one model
 * held as the audit log delivers them, against the same registrations added to a {@link
 * ModelHistory} (which keeps a baseline's summary only). Heap is read after full collections.
 *
 * <pre>
 * java -Xmx2g -cp bench/target/benchmarks.jar dev.flywheel.bench.RegistryHistoryMemoryHarness 20000
 * </pre>
 */
public final class RegistryHistoryMemoryHarness {

  private RegistryHistoryMemoryHarness() {}

  public static void main(String[] args) {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    long base = usedAfterGc();
    List<ModelEvent> whole = new ArrayList<>(n);
    for (int v = 1; v <= n; v++) {
      whole.add(registration(v));
    }
    long wholeBytes = usedAfterGc() - base;
    whole = null;
    base = usedAfterGc();
    ModelHistory history = new ModelHistory();
    for (int v = 1; v <= n; v++) {
      history.add(registration(v));
    }
    long historyBytes = usedAfterGc() - base;
    System.out.printf(Locale.ROOT, "%,d registrations: as delivered %,d bytes (%,d per"
        + " registration); in ModelHistory %,d bytes (%,d per registration, current state"
        + " included), %d events held%n", n, wholeBytes, wholeBytes / n, historyBytes,
        historyBytes / n, history.history("fraud-detector", null).size());
  }

  private static ModelEvent registration(int v) {
    ModelVersion mv = RealisticVersions.version(v);
    RegisterVersion command = RegisterVersion.newBuilder().setArtifact(mv.getArtifact())
        .setSignature(mv.getSignature()).setMetrics(mv.getMetrics()).setParams(mv.getParams())
        .setLineage(mv.getLineage()).setDescription(mv.getDescription())
        .setBaseline(RealisticVersions.baseline(v)).build();
    Actor training = Actor.newBuilder().setName("training-trigger").setKind(ActorKind.SERVICE)
        .setRoles(List.of()).build();
    return ModelEvent.newBuilder().setEventId("e-" + v).setEventTime(mv.getRegisteredAt())
        .setModel("fraud-detector").setSequence(v).setCommandId("run-" + v + "/register")
        .setCommandTime(mv.getRegisteredAt()).setActor(training).setCommand(command)
        .setOutcome(CommandOutcome.ACCEPTED).setVersion(v).build();
  }

  private static long usedAfterGc() {
    Runtime rt = Runtime.getRuntime();
    for (int i = 0; i < 4; i++) {
      System.gc();
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    return rt.totalMemory() - rt.freeMemory();
  }
}
