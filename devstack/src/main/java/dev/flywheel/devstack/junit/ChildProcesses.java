package dev.flywheel.devstack.junit;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The child processes a test started (services in their own JVM, to be killed with {@code
 * destroyForcibly}), killed after each test so that none outlives it, whether the test passed,
 * failed or timed out.
 *
 * <pre>{@code
 * @RegisterExtension final ChildProcesses children = new ChildProcesses();
 * ...
 * Process child = children.add(processBuilder.start());
 * }</pre>
 */
public final class ChildProcesses implements AfterEachCallback {

  private final List<Process> processes = new CopyOnWriteArrayList<>();

  /** Tracks {@code process} until the end of the test, and returns it. */
  public Process add(Process process) {
    processes.add(process);
    return process;
  }

  @Override
  public void afterEach(ExtensionContext context) throws InterruptedException {
    for (Process p : processes) {
      p.destroyForcibly().waitFor();
    }
    processes.clear();
  }
}
