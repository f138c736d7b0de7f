package dev.flywheel.trainingtrigger.executor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A JVM that starts a command through {@link CommandExecutor}'s launcher and dies at once, before
 * it records the command's pid: {@code LaunchAndDie <pid file> <script>}. The launcher's output
 * goes to {@code launcher.log} beside the pid file.
 */
final class LaunchAndDie {

  private LaunchAndDie() {}

  public static void main(String[] args) throws Exception {
    Path pidFile = Path.of(args[0]);
    new ProcessBuilder(CommandExecutor.launch(pidFile, List.of("sh", "-c", args[1])))
        .directory(pidFile.getParent().toFile()).redirectErrorStream(true)
        .redirectOutput(pidFile.resolveSibling("launcher.log").toFile()).start();
    Files.writeString(pidFile.resolveSibling("launched"), "yes");
    Runtime.getRuntime().halt(137); // no shutdown hooks, no clean-up: as a kill -9 leaves it
  }
}
