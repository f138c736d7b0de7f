package dev.flywheel.systemtests;

import dev.flywheel.featurestreams.FeatureStreamsMain;
import dev.flywheel.registryprojector.RegistryProjectorMain;
import dev.flywheel.servingsink.ServingSinkMain;
import java.util.List;

/**
 * The feature engine, the registry projector and serving in one JVM, each started by its own
 * {@code main} exactly as it runs alone (environment and {@code -D} properties included), so a
 * test can kill all three at once with {@code destroyForcibly}.
 *
 * <p>Arguments: the feature engine's, the projector's and serving's {@code flywheel.yaml}.
 */
public final class ServicesMain {

  private ServicesMain() {}

  public static void main(String[] args) throws InterruptedException {
    List<Thread> threads = List.of(
        run("features", () -> FeatureStreamsMain.main(new String[] {args[0]})),
        run("registry", () -> RegistryProjectorMain.main(new String[] {args[1]})),
        run("serving", () -> ServingSinkMain.main(new String[] {args[2]})));
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
