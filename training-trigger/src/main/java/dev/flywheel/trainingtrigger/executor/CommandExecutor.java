package dev.flywheel.trainingtrigger.executor;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flywheel.events.ExecutorKind;
import dev.flywheel.trainingtrigger.config.ExecutorSpec;
import dev.flywheel.trainingtrigger.dataset.DatasetFile;
import dev.flywheel.trainingtrigger.training.TrainingException;
import dev.flywheel.trainingtrigger.training.TrainingOutput;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a user's training command (e.g. a PyTorch script on a GPU host) as a child process. The
 * command finds its inputs and writes its outputs through the environment:
 *
 * <table>
 *   <caption>Environment of the command</caption>
 *   <tr><td>{@code FLYWHEEL_RUN_ID}, {@code FLYWHEEL_ATTEMPT}, {@code FLYWHEEL_MODEL}</td>
 *       <td>the run</td></tr>
 *   <tr><td>{@code FLYWHEEL_DATASET}</td><td>the Avro dataset file (both splits)</td></tr>
 *   <tr><td>{@code FLYWHEEL_DATASET_SHA256}</td><td>its digest</td></tr>
 *   <tr><td>{@code FLYWHEEL_TRAIN_CSV}, {@code FLYWHEEL_HOLDOUT_CSV}</td>
 *       <td>the splits as CSV: event_id, event_time, label, then the features</td></tr>
 *   <tr><td>{@code FLYWHEEL_FEATURES}</td><td>numeric feature names, comma-separated</td></tr>
 *   <tr><td>{@code FLYWHEEL_TASK}</td><td>BINARY_CLASSIFICATION or REGRESSION</td></tr>
 *   <tr><td>{@code FLYWHEEL_PARAMS}</td><td>the effective parameters as a JSON object</td></tr>
 *   <tr><td>{@code FLYWHEEL_OUTPUT_DIR}</td>
 *       <td>where to write the model and {@code manifest.json} ({@link ResultManifest})</td></tr>
 * </table>
 *
 * <p>Output goes to {@code command.log} in the attempt's work directory. A non-zero exit, a
 * missing or invalid manifest, or the timeout (the process tree is killed) fails the attempt.
 *
 * <p>An attempt is not run twice at once, nor again once it has finished. The command's process id
 * and start time are kept in {@value #PID_FILE} in the attempt's work directory. When the attempt
 * is executed again (the service was killed and restarted):
 *
 * <ul>
 *   <li>if its output directory already holds a manifest (the command finished), that is read;
 *   <li>if the command it started is still running (a kill of the service alone does not stop
 *       its children), it is followed: waited for up to the rest of its timeout, and its manifest
 *       read once it ends. A new instance cannot learn its exit status, so ending without a
 *       manifest fails the attempt;
 *   <li>otherwise the command is started again.
 * </ul>
 *
 * <p>The command is started through {@code /bin/sh} ({@link #launch}), which runs it only once the
 * pid file names it: an instance killed between starting the process and recording it leaves no
 * command running that a restart could not find.
 */
public final class CommandExecutor implements TrainingExecutor {

  private static final Logger log = LoggerFactory.getLogger(CommandExecutor.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int LOG_TAIL_LINES = 20;
  private static final Duration FOLLOW_POLL = Duration.ofMillis(200);
  private static final Duration START_TIME_TOLERANCE = Duration.ofSeconds(2);
  /** The running command's "pid start-epoch-ms", in the attempt's work directory. */
  static final String PID_FILE = "command.pid";
  /** Exit status of the launcher when the pid file does not name it: the command never ran. */
  static final int NOT_RECORDED_EXIT = 75;
  /**
   * Waits for its standard input to close, then replaces itself ({@code exec}, same pid and start
   * time) with the command if the pid file ($1) names it, and exits {@value #NOT_RECORDED_EXIT}
   * otherwise. The input closes when the executor has recorded the pid, or when its JVM dies.
   * Shell builtins only: nothing depends on the {@code PATH} the user's {@code env} may set.
   */
  private static final String LAUNCHER = "pid_file=$1; shift;"
      + " while read -r _; do :; done; rec=;"
      + " if [ -f \"$pid_file\" ]; then read -r rec < \"$pid_file\"; fi;"
      + " case \"$rec\" in \"$$ \"*) exec \"$@\" ;; esac;"
      + " echo \"flywheel: training command not started: the instance that launched it ended"
      + " before recording it in $pid_file\" >&2; exit " + NOT_RECORDED_EXIT;
  private static final Path SHELL = Path.of("/bin/sh");

  @Override
  public ExecutorKind kind() {
    return ExecutorKind.COMMAND;
  }

  @Override
  public TrainingOutput execute(RunContext run) throws IOException, InterruptedException {
    ExecutorSpec spec = run.model().training().executor();
    Path out = Files.createDirectories(run.workDir().resolve("out"));
    Path manifest = out.resolve(ResultManifest.FILE);
    if (Files.exists(manifest)) {
      log.info("run {} attempt {}: the command already finished; reading its manifest",
          run.runId(), run.attempt());
      return read(manifest, out, run);
    }
    Path pidFile = run.workDir().resolve(PID_FILE);
    Path logFile = run.workDir().resolve("command.log");
    Optional<LeftRunning> leftRunning = leftRunning(pidFile);
    if (leftRunning.isPresent()) {
      return follow(leftRunning.get(), spec, manifest, out, logFile, run);
    }
    if (Files.exists(manifest)) { // the command ended just now, after the first look
      return read(manifest, out, run);
    }
    Path in = Files.createDirectories(run.workDir().resolve("in"));
    Path trainCsv = in.resolve("train.csv");
    Path holdoutCsv = in.resolve("holdout.csv");
    DatasetFile.writeCsv(run.dataset().train(), run.dataset().featureNames(), trainCsv);
    DatasetFile.writeCsv(run.dataset().holdout(), run.dataset().featureNames(), holdoutCsv);
    if (!Files.isExecutable(SHELL)) {
      throw new TrainingException("the command executor starts training commands through "
          + SHELL + ", which this host lacks; run training-trigger on Linux or macOS, or use the"
          + " local or kubernetes executor");
    }
    Files.deleteIfExists(pidFile); // a command that ended without a manifest: start it again
    ProcessBuilder pb = new ProcessBuilder(launch(pidFile, spec.command()));
    if (spec.workDir() != null) {
      pb.directory(new File(spec.workDir()));
    }
    Map<String, String> env = pb.environment();
    env.putAll(spec.env());
    env.put("FLYWHEEL_RUN_ID", run.runId());
    env.put("FLYWHEEL_ATTEMPT", Integer.toString(run.attempt()));
    env.put("FLYWHEEL_MODEL", run.model().name());
    env.put("FLYWHEEL_DATASET", run.dataset().file().toAbsolutePath().toString());
    env.put("FLYWHEEL_DATASET_SHA256", run.dataset().lineage().getSha256());
    env.put("FLYWHEEL_TRAIN_CSV", trainCsv.toAbsolutePath().toString());
    env.put("FLYWHEEL_HOLDOUT_CSV", holdoutCsv.toAbsolutePath().toString());
    env.put("FLYWHEEL_FEATURES", String.join(",", run.dataset().featureNames()));
    env.put("FLYWHEEL_TASK", run.model().task().name());
    env.put("FLYWHEEL_PARAMS", JSON.writeValueAsString(run.params()));
    env.put("FLYWHEEL_OUTPUT_DIR", out.toAbsolutePath().toString());
    pb.redirectErrorStream(true).redirectOutput(logFile.toFile());
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new TrainingException("cannot start training command " + spec.command() + ": "
          + e.getMessage() + " (check training.executor.command and workDir)", e);
    }
    try {
      // Without a start time no later instance will follow it (it matches none), yet it runs.
      Instant startedAt = p.info().startInstant().orElse(Instant.EPOCH);
      Path tmp = pidFile.resolveSibling(PID_FILE + ".tmp");
      Files.writeString(tmp, p.pid() + " " + startedAt.toEpochMilli());
      Files.move(tmp, pidFile, StandardCopyOption.REPLACE_EXISTING,
          StandardCopyOption.ATOMIC_MOVE);
      p.getOutputStream().close(); // recorded: the launcher may run the command
    } catch (IOException | RuntimeException e) {
      kill(p); // a command no restart could find must not run
      throw e;
    }
    boolean done;
    try {
      done = p.waitFor(spec.timeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      kill(p);
      throw e;
    }
    if (!done) {
      kill(p);
      throw new TrainingException("training command " + spec.command() + " did not finish"
          + " within " + spec.timeout() + " and was killed (raise training.executor.timeout);"
          + " last output:\n" + tail(logFile));
    }
    if (p.exitValue() != 0) {
      String hint = p.exitValue() == 126 || p.exitValue() == 127
          ? " (which usually means the command was not found or is not executable: check"
              + " training.executor.command, workDir and PATH)" : "";
      throw new TrainingException("training command " + spec.command() + " exited with status "
          + p.exitValue() + hint + "; last output:\n" + tail(logFile));
    }
    if (!Files.exists(manifest)) {
      throw new TrainingException("training command " + spec.command() + " exited 0 but wrote no"
          + " " + ResultManifest.FILE + " in FLYWHEEL_OUTPUT_DIR; last output:\n" + tail(logFile));
    }
    return read(manifest, out, run);
  }

  /**
   * The command line that runs {@code command} through the {@link #LAUNCHER}: {@code /bin/sh -c
   * <launcher> flywheel-training <pidFile> <command...>}.
   */
  static List<String> launch(Path pidFile, List<String> command) {
    List<String> line = new ArrayList<>(List.of("/bin/sh", "-c", LAUNCHER, "flywheel-training",
        pidFile.toAbsolutePath().toString()));
    line.addAll(command);
    return line;
  }

  /** A command a previous instance started, and when it started. */
  private record LeftRunning(ProcessHandle process, Instant startedAt) {}

  /**
   * The command {@code pidFile} names, when that process still runs: same pid, and the same start
   * time within {@link #START_TIME_TOLERANCE} (a JVM derives it from the boot time, which moves a
   * little when the clock is adjusted; a pid reused by another process does not match).
   */
  private static Optional<LeftRunning> leftRunning(Path pidFile) throws IOException {
    if (!Files.exists(pidFile)) {
      return Optional.empty();
    }
    String[] pidAndStart = Files.readString(pidFile).trim().split(" ");
    if (pidAndStart.length != 2 || !pidAndStart[0].matches("\\d+")
        || !pidAndStart[1].matches("\\d+")) {
      log.warn("ignoring {}: it does not hold 'pid start-epoch-ms'", pidFile);
      return Optional.empty();
    }
    Instant startedAt = Instant.ofEpochMilli(Long.parseLong(pidAndStart[1]));
    return ProcessHandle.of(Long.parseLong(pidAndStart[0]))
        .filter(h -> h.info().startInstant().map(s -> Duration.between(s, startedAt).abs()
            .compareTo(START_TIME_TOLERANCE) <= 0).orElse(false))
        .filter(CommandExecutor::running)
        .map(h -> new LeftRunning(h, startedAt));
  }

  /** Waits for a command a previous instance started, then reads its manifest. */
  private static TrainingOutput follow(LeftRunning left, ExecutorSpec spec, Path manifest,
      Path out, Path logFile, RunContext run) throws IOException, InterruptedException {
    ProcessHandle command = left.process();
    Instant startedAt = left.startedAt();
    Instant deadline = startedAt.plus(spec.timeout());
    log.info("run {} attempt {}: following the training command the previous instance left"
        + " running (pid {}, started {})", run.runId(), run.attempt(), command.pid(), startedAt);
    try {
      while (running(command)) {
        if (!Instant.now().isBefore(deadline)) {
          kill(command);
          throw new TrainingException("training command " + spec.command() + " (pid "
              + command.pid() + ", left running by the previous instance) did not finish within "
              + spec.timeout() + " and was killed (raise training.executor.timeout); last"
              + " output:\n" + tail(logFile));
        }
        Thread.sleep(FOLLOW_POLL.toMillis());
      }
    } catch (InterruptedException e) {
      kill(command);
      throw e;
    }
    if (!Files.exists(manifest)) {
      throw new TrainingException("training command " + spec.command() + " (pid "
          + command.pid() + ", left running by the previous instance) ended without writing "
          + ResultManifest.FILE + " in FLYWHEEL_OUTPUT_DIR; its exit status is not known to this"
          + " instance; last output:\n" + tail(logFile));
    }
    return read(manifest, out, run);
  }

  /**
   * Whether the process still runs. An exited child of a parent that never reaps it stays in the
   * process table as a zombie, which {@link ProcessHandle#isAlive} counts as alive; on Linux its
   * state in {@code /proc} tells.
   */
  private static boolean running(ProcessHandle process) {
    if (!process.isAlive()) {
      return false;
    }
    Path stat = Path.of("/proc", Long.toString(process.pid()), "stat");
    try {
      String s = Files.readString(stat);
      return s.charAt(s.lastIndexOf(')') + 2) != 'Z';
    } catch (IOException | RuntimeException e) {
      return process.isAlive();
    }
  }

  private static TrainingOutput read(Path manifestFile, Path out, RunContext run)
      throws IOException {
    ResultManifest m = ResultManifest.parse(Files.readAllBytes(manifestFile),
        manifestFile.toString());
    Path artifact = out.resolve(m.artifact());
    if (!Files.isRegularFile(artifact)) {
      throw new TrainingException(manifestFile + " names artifact " + m.artifact()
          + ", which the command did not write in " + out);
    }
    return m.toOutput(artifact, run);
  }

  private static void kill(Process p) {
    kill(p.toHandle());
  }

  private static void kill(ProcessHandle p) {
    p.descendants().forEach(ProcessHandle::destroyForcibly);
    p.destroyForcibly();
    try {
      p.onExit().get(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      log.warn("training command (pid {}) did not end within 10 s of being killed", p.pid());
    }
  }

  private static String tail(Path logFile) {
    try {
      List<String> lines = Files.readAllLines(logFile, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES),
          lines.size()));
    } catch (IOException e) {
      return "(no output: " + e.getMessage() + ")";
    }
  }
}
