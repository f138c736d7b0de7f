package dev.flywheel.trainingtrigger.executor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.junit.LogLines;
import dev.flywheel.events.ModelFormat;
import dev.flywheel.trainingtrigger.SyntheticData;
import dev.flywheel.trainingtrigger.TestDatasets;
import dev.flywheel.trainingtrigger.artifact.LocalArtifactStore;
import dev.flywheel.trainingtrigger.config.ExecutorSpec;
import dev.flywheel.trainingtrigger.config.ModelSpec;
import dev.flywheel.trainingtrigger.config.TrainingSpec;
import dev.flywheel.trainingtrigger.dataset.Dataset;
import dev.flywheel.trainingtrigger.training.Metrics;
import dev.flywheel.trainingtrigger.training.TrainingException;
import dev.flywheel.trainingtrigger.training.TrainingOutput;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CommandExecutorTest {

  /**
   * A user's training script in plain Python: it reads the CSV splits Flywheel hands it, fits a
   * one-feature-at-a-time logistic score (the sign of each feature's correlation with the label on
   * the training split), scores the holdout, computes its AUC, and writes its model and manifest.
   * The model file is the script's own JSON; the manifest declares it ONNX only because the
   * schema's formats are XGBOOST and ONNX — the executor does not interpret the bytes.
   */
  static final String SCRIPT = """
      import csv, json, math, os, sys
      params = json.loads(os.environ["FLYWHEEL_PARAMS"])
      names = os.environ["FLYWHEEL_FEATURES"].split(",")
      def load(path):
          with open(path) as f:
              rows = list(csv.DictReader(f))
          return [[float(r[n]) if r[n] else 0.0 for n in names] for r in rows], \\
                 [float(r["label"]) for r in rows]
      xs, ys = load(os.environ["FLYWHEEL_TRAIN_CSV"])
      hx, hy = load(os.environ["FLYWHEEL_HOLDOUT_CSV"])
      my = sum(ys) / len(ys)
      w = []
      for j in range(len(names)):
          mx = sum(x[j] for x in xs) / len(xs)
          cov = sum((x[j] - mx) * (y - my) for x, y in zip(xs, ys)) / len(xs)
          w.append(cov)
      scores = [1 / (1 + math.exp(-10 * sum(wj * xj for wj, xj in zip(w, x)))) for x in hx]
      pos = [s for s, y in zip(scores, hy) if y >= 0.5]
      neg = [s for s, y in zip(scores, hy) if y < 0.5]
      auc = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg) / (len(pos) * len(neg))
      out = os.environ["FLYWHEEL_OUTPUT_DIR"]
      with open(os.path.join(out, "model.onnx"), "w") as f:
          json.dump({"weights": w, "names": names}, f)
      with open(os.path.join(out, "manifest.json"), "w") as f:
          json.dump({"artifact": "model.onnx", "format": "ONNX", "metrics": {"auc": auc},
                     "trainer": "linear-script", "trainerVersion": "1",
                     "holdoutScores": scores, "params": {"scale": str(params.get("scale"))}}, f)
      print("trained run", os.environ["FLYWHEEL_RUN_ID"], "auc", auc)
      """;

  /** Writes a model and a manifest into the attempt's output directory. */
  private static final String WRITE_OUTPUTS = "printf model > out/model.onnx; printf '"
      + "{\"artifact\": \"model.onnx\", \"format\": \"ONNX\", \"metrics\": {\"auc\": 0.75}}'"
      + " > out/manifest.json";

  @TempDir Path dir;
  private final LogLines log = LogLines.of(CommandExecutor.class);
  private final List<Process> started = new ArrayList<>();
  private LocalArtifactStore store;
  private Dataset dataset;

  @AfterEach
  void tearDown() {
    log.close();
    started.forEach(Process::destroyForcibly); // none outlives a failed test
  }

  @BeforeEach
  void setUp() throws Exception {
    store = new LocalArtifactStore(dir.resolve("artifacts"));
    dataset = TestDatasets.stored(new SyntheticData(1500, 4, true, 3), model(List.of("x")), store,
        dir.resolve("data"));
    Files.writeString(dir.resolve("train.py"), SCRIPT);
  }

  private ModelSpec model(List<String> command) {
    return model(command, Duration.ofMinutes(2));
  }

  private ModelSpec model(List<String> command, Duration timeout) {
    ExecutorSpec exec = new ExecutorSpec(ExecutorSpec.Kind.COMMAND, timeout, command,
        null, Map.of("EXTRA", "1"), null, null, null, null, null, null, null);
    return ModelSpec.of("fraud", SyntheticData.GROUP).withTarget(SyntheticData.TARGET)
        .withTraining(new TrainingSpec("linear-script", Map.of(), 0.2, 0.5, exec));
  }

  private RunContext run(ModelSpec spec) {
    return new RunContext("fraud-1", 1, spec, Map.of("scale", "10"), dataset,
        dir.resolve("work"), java.time.Instant.parse("2026-11-24T01:00:00Z"));
  }

  @Test
  void shouldRunARealScriptWithTheDatasetInItsEnvironmentAndReadItsManifest() throws Exception {
    // Given a Python training script
    ModelSpec spec = model(List.of("python3", dir.resolve("train.py").toString()));
    // When executed
    TrainingOutput out = new CommandExecutor().execute(run(spec));
    // Then its manifest is read: metrics, format, scores of every holdout row, params
    assertThat(out.format()).isEqualTo(ModelFormat.ONNX);
    assertThat(out.trainer()).isEqualTo("linear-script");
    assertThat(out.metrics().get(Metrics.AUC)).isGreaterThan(0.85);
    assertThat(out.holdoutScores()).hasSize(dataset.holdout().rows());
    assertThat(out.params()).containsEntry("scale", "10");
    assertThat(out.featureNames()).isEqualTo(dataset.featureNames());
    assertThat(Files.readString(out.artifact())).contains("weights");
    assertThat(Files.readString(dir.resolve("work/command.log"))).contains("trained run fraud-1");
  }

  @Test
  void shouldFailWithTheExitStatusAndTheLastOutput() {
    // Given a command that fails
    ModelSpec spec = model(List.of("sh", "-c", "echo 'CUDA out of memory'; exit 3"));
    // Then
    assertThatThrownBy(() -> new CommandExecutor().execute(run(spec)))
        .isInstanceOf(TrainingException.class).hasMessageContaining("exited with status 3")
        .hasMessageContaining("CUDA out of memory");
  }

  @Test
  void shouldFailWhenTheCommandWritesNoManifest() {
    // Given a command that succeeds without output
    ModelSpec spec = model(List.of("sh", "-c", "true"));
    // Then
    assertThatThrownBy(() -> new CommandExecutor().execute(run(spec)))
        .isInstanceOf(TrainingException.class).hasMessageContaining("wrote no manifest.json");
  }

  @Test
  void shouldKillTheCommandAtTheTimeoutAndFail() throws Exception {
    // Given a command that records its pid and hangs
    Path pid = dir.resolve("pid");
    ModelSpec spec = model(List.of("sh", "-c", "echo $$ > " + pid + "; exec sleep 600"),
        Duration.ofSeconds(1));
    // Then the attempt fails naming the timeout
    assertThatThrownBy(() -> new CommandExecutor().execute(run(spec)))
        .isInstanceOf(TrainingException.class).hasMessageContaining("did not finish within PT1S");
    // And the process is gone
    long p = Long.parseLong(Files.readString(pid).trim());
    await().atMost(Duration.ofSeconds(10)).until(() -> ProcessHandle.of(p)
        .map(h -> !h.isAlive()).orElse(true));
  }

  @Test
  void shouldNotRunTheCommandAgainWhenTheAttemptAlreadyWroteItsManifest() throws Exception {
    // Given an attempt whose script finished before the service crashed
    ModelSpec real = model(List.of("python3", dir.resolve("train.py").toString()));
    TrainingOutput first = new CommandExecutor().execute(run(real));
    // When the same attempt is executed again with a command that would fail
    ModelSpec failing = model(List.of("sh", "-c", "exit 9"));
    TrainingOutput again = new CommandExecutor().execute(run(failing));
    // Then the existing outputs are used
    assertThat(again.metrics()).isEqualTo(first.metrics());
  }

  @Test
  void shouldFollowTheCommandAKilledInstanceLeftRunningInsteadOfStartingItAgain()
      throws Exception {
    // Given the attempt's command, started by an instance that was then killed, still running
    Process left = leftRunning("while [ ! -f release ]; do sleep 0.05; done; " + WRITE_OUTPUTS);
    // When the attempt is executed again, with a command that would fail if it were started
    ModelSpec failing = model(List.of("sh", "-c", "exit 9"));
    CompletableFuture<TrainingOutput> again = executeAsync(run(failing));
    // Then it waits for the running command, and reads its outputs once it ends
    await().atMost(Duration.ofSeconds(30)).until(() -> log.contain("following"));
    assertThat(again).isNotDone();
    Files.writeString(dir.resolve("work/release"), "go");
    TrainingOutput out = again.get(30, TimeUnit.SECONDS);
    assertThat(out.metrics()).containsEntry(Metrics.AUC, 0.75);
    assertThat(Files.readString(out.artifact())).isEqualTo("model");
    assertThat(left.isAlive()).isFalse();
  }

  @Test
  void shouldFailWhenTheCommandLeftRunningEndsWithoutAManifest() throws Exception {
    // Given a command left running that will end without writing its outputs
    leftRunning("while [ ! -f release ]; do sleep 0.05; done; echo 'Killed: out of host memory'");
    // When the attempt is executed again, and the command it follows ends
    ModelSpec failing = model(List.of("sh", "-c", "exit 9"));
    CompletableFuture<TrainingOutput> again = executeAsync(run(failing));
    await().atMost(Duration.ofSeconds(30)).until(() -> log.contain("following"));
    Files.writeString(dir.resolve("work/release"), "go");
    // Then it fails, naming what happened and the command's last output
    assertThatThrownBy(() -> again.get(30, TimeUnit.SECONDS)).cause()
        .isInstanceOf(TrainingException.class)
        .hasMessageContaining("left running by the previous instance) ended without writing"
            + " manifest.json")
        .hasMessageContaining("Killed: out of host memory");
  }

  @Test
  void shouldKillTheCommandLeftRunningAtItsTimeout() throws Exception {
    // Given a command left running that hangs, and a timeout of 2 s from its start
    Process left = leftRunning("exec sleep 600");
    ModelSpec spec = model(List.of("sh", "-c", "exit 9"), Duration.ofSeconds(2));
    // Then executing the attempt again kills it at the timeout and fails
    assertThatThrownBy(() -> new CommandExecutor().execute(run(spec)))
        .isInstanceOf(TrainingException.class).hasMessageContaining("did not finish within PT2S");
    assertThat(left.waitFor(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void shouldStartTheCommandWhenThePidItRecordedNowBelongsToAnotherProcess() throws Exception {
    // Given a pid file naming a live process (this JVM) with another start time: the pid was
    // reused after the attempt's command ended
    Files.createDirectories(dir.resolve("work"));
    Files.writeString(dir.resolve("work").resolve(CommandExecutor.PID_FILE),
        ProcessHandle.current().pid() + " 1000");
    // When the attempt is executed
    ModelSpec spec = model(List.of("python3", dir.resolve("train.py").toString()));
    TrainingOutput out = new CommandExecutor().execute(run(spec));
    // Then the command runs, and the process the pid now names is left alone
    assertThat(out.trainer()).isEqualTo("linear-script");
    assertThat(Files.readString(dir.resolve("work").resolve(CommandExecutor.PID_FILE)))
        .doesNotEndWith(" 1000");
  }

  @Test
  void shouldNeverRunACommandItsInstanceDiedBeforeRecording() throws Exception {
    // Given a command launched by an instance that died before writing its pid file: the
    // launcher's input closes, as the pipe from a dead JVM does
    Path pidFile = Files.createDirectories(dir.resolve("work")).resolve(CommandExecutor.PID_FILE);
    Process launcher = startLauncher(pidFile, "echo ran > ran");
    launcher.getOutputStream().close();
    // Then the launcher exits without running it, and says why
    assertThat(launcher.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(launcher.exitValue()).isEqualTo(CommandExecutor.NOT_RECORDED_EXIT);
    assertThat(dir.resolve("work/ran")).doesNotExist();
    assertThat(Files.readString(dir.resolve("work/launcher.log")))
        .contains("training command not started");
  }

  @Test
  void shouldNeverRunTheCommandWhenTheJvmThatLaunchedItDiesBeforeRecordingIt() throws Exception {
    // Given a JVM that starts a command through the launcher and dies before writing its pid
    Path work = Files.createDirectories(dir.resolve("work"));
    String java = ProcessHandle.current().info().command().orElse("java");
    Process jvm = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        LaunchAndDie.class.getName(), work.resolve(CommandExecutor.PID_FILE).toString(),
        "echo ran > ran").redirectErrorStream(true)
        .redirectOutput(work.resolve("jvm.log").toFile()).start();
    started.add(jvm);
    assertThat(jvm.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(work.resolve("launched")).exists();
    // Then the launcher it left sees its input close with the JVM, and runs nothing
    await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(work.resolve("launcher.log"))
        && Files.readString(work.resolve("launcher.log")).contains("training command not started"));
    assertThat(work.resolve("ran")).doesNotExist();
  }

  @Test
  void shouldRunTheCommandInTheLaunchersPlaceOnceItsPidIsRecorded() throws Exception {
    // Given a launched command whose pid file names the launcher
    Path pidFile = Files.createDirectories(dir.resolve("work")).resolve(CommandExecutor.PID_FILE);
    Process launcher = startLauncher(pidFile, "echo $$ > ran");
    Files.writeString(pidFile, launcher.pid() + " "
        + launcher.info().startInstant().orElseThrow().toEpochMilli());
    // When its input closes
    launcher.getOutputStream().close();
    // Then the command runs as the same process, so the recorded pid is the command's own
    assertThat(launcher.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(launcher.exitValue()).isZero();
    assertThat(Files.readString(dir.resolve("work/ran")).trim())
        .isEqualTo(Long.toString(launcher.pid()));
  }

  @Test
  void shouldSayWhenTheCommandIsNotFound() {
    String name = "no-such-trainer-" + System.nanoTime();
    ModelSpec spec = model(List.of(name));
    assertThatThrownBy(() -> new CommandExecutor().execute(run(spec)))
        .isInstanceOf(TrainingException.class)
        .hasMessageContaining("exited with status 127 (which usually means the command was not"
            + " found or is not executable")
        .hasMessageContaining("exec: " + name); // the shell's own words, from command.log
  }

  @Test
  void shouldFindTheCommandOnThePathItsEnvironmentSets() throws Exception {
    // Given a trainer on a PATH of the executor's env that holds nothing else (no cat, no sh),
    // written with shell builtins only
    Path bin = Files.createDirectories(dir.resolve("bin"));
    Path trainer = bin.resolve("fw-trainer");
    Files.writeString(trainer, "#!/bin/sh\n"
        + "printf model > \"$FLYWHEEL_OUTPUT_DIR/model.onnx\"\n"
        + "printf '{\"artifact\": \"model.onnx\", \"format\": \"ONNX\", \"metrics\":"
        + " {\"auc\": 0.75}}' > \"$FLYWHEEL_OUTPUT_DIR/manifest.json\"\n");
    assertThat(trainer.toFile().setExecutable(true)).isTrue();
    ExecutorSpec exec = new ExecutorSpec(ExecutorSpec.Kind.COMMAND, Duration.ofMinutes(2),
        List.of("fw-trainer"), null, Map.of("PATH", bin.toString()), null, null, null, null, null,
        null, null);
    ModelSpec spec = ModelSpec.of("fraud", SyntheticData.GROUP).withTarget(SyntheticData.TARGET)
        .withTraining(new TrainingSpec("linear-script", Map.of(), 0.2, 0.5, exec));
    // Then the launcher still waits for the pid file, finds the trainer there, and it runs
    TrainingOutput out = new CommandExecutor().execute(run(spec));
    assertThat(out.metrics()).containsEntry(Metrics.AUC, 0.75);
  }

  private Process startLauncher(Path pidFile, String script) throws Exception {
    Process p = new ProcessBuilder(CommandExecutor.launch(pidFile, List.of("sh", "-c", script)))
        .directory(pidFile.getParent().toFile()).redirectErrorStream(true)
        .redirectOutput(pidFile.resolveSibling("launcher.log").toFile()).start();
    started.add(p);
    return p;
  }

  private static CompletableFuture<TrainingOutput> executeAsync(RunContext run) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return new CommandExecutor().execute(run);
      } catch (Exception e) {
        throw new CompletionException(e);
      }
    });
  }

  /**
   * Starts {@code script} in the attempt's work directory and records it as that attempt's
   * command, as an instance does before it is killed.
   */
  private Process leftRunning(String script) throws Exception {
    Path work = Files.createDirectories(dir.resolve("work"));
    Files.createDirectories(work.resolve("out"));
    Process p = new ProcessBuilder("sh", "-c", script).directory(work.toFile())
        .redirectErrorStream(true).redirectOutput(work.resolve("command.log").toFile()).start();
    started.add(p);
    Files.writeString(work.resolve(CommandExecutor.PID_FILE),
        p.pid() + " " + p.info().startInstant().orElseThrow().toEpochMilli());
    return p;
  }
}
