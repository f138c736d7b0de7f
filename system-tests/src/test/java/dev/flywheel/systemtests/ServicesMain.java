package dev.flywheel.systemtests;

import dev.flywheel.driftdetector.DriftDetectorMain;
import dev.flywheel.featurestreams.FeatureStreamsMain;
import dev.flywheel.registryprojector.RegistryProjectorMain;
import dev.flywheel.servingsink.ServingSinkMain;
import dev.flywheel.trainingtrigger.TrainingTriggerMain;
import java.util.List;

/**
 * The feature engine, the registry projector, serving, drift-detector and training-trigger in one
 * JVM, each started by its own {@code main} exactly as it runs alone (environment and {@code -D}
 * properties included), so a test can kill all five at once with {@code destroyForcibly}.
 *
 * <p>Arguments, in this order: the {@code flywheel.yaml} of the feature engine, of the
 * projector, of serving, of drift-detector and of training-trigger.
 */
public final class ServicesMain {

  private ServicesMain() {}

  public static void main(String[] args) throws InterruptedException {
    List<Thread> threads = List.of(
        run("features", () -> FeatureStreamsMain.main(new String[] {args[0]})),
        run("registry", () -> RegistryProjectorMain.main(new String[] {args[1]})),
        run("serving", () -> ServingSinkMain.main(new String[] {args[2]})),
        run("drift", () -> DriftDetectorMain.main(new String[] {args[3]})),
        run("training", () -> TrainingTriggerMain.main(new String[] {args[4]})));
    for (Thread t : threads) {
      t.join();
    }
  }

  private interface Main {
    void run() throws Exception;
  }

  private static Thread run(String name, Main main) {
    Thread thread = new Thread(() -> {
      try {
        main.run();
      } catch (Throwable e) {
        System.err.println(name + " failed to start: " + e);
        e.printStackTrace();
        System.exit(1);
      }
    }, "main-" + name);
    thread.start();
    return thread;
  }
}
