package dev.flywheel.trainingtrigger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.events.RunStatus;
import dev.flywheel.events.TrainingRun;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topics;
import dev.flywheel.trainingtrigger.config.TrainingTriggerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kill without close: the service runs in a child JVM that is killed (SIGKILL) while a run's
 * training command executes; a new instance on the same state then finishes the run under the same
 * run id, and exactly one COMPLETED event exists for it.
 */
@WithDevstack
class TrainingTriggerCrashIT {

  /** Records each launch, waits for the test's go-ahead, then writes a model and manifest. */
  private static final String SCRIPT = """
      import json, os, time
      out = os.environ["FLYWHEEL_OUTPUT_DIR"]
      base = os.environ["CRASH_DIR"]
      with open(os.path.join(base, "launches"), "a") as f:
          f.write(os.environ["FLYWHEEL_RUN_ID"] + " " + os.environ["FLYWHEEL_ATTEMPT"] + "\\n")
      deadline = time.time() + 120
      while not os.path.exists(os.path.join(base, "release")) and time.time() < deadline:
          time.sleep(0.05)
      with open(os.path.join(out, "model.onnx"), "w") as f:
          f.write("model of " + os.environ["FLYWHEEL_RUN_ID"])
      tmp = os.path.join(out, "manifest.json.tmp")
      with open(tmp, "w") as f:
          json.dump({"artifact": "model.onnx", "format": "ONNX", "metrics": {"auc": 0.9}}, f)
      os.replace(tmp, os.path.join(out, "manifest.json"))
      """;

  @TempDir Path dir;
  private Process child;
  private TrainingTriggerService restarted;

  @AfterEach
  void tearDown() throws Exception {
    Files.writeString(dir.resolve("release"), "go");
    if (child != null && child.isAlive()) {
      child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    if (restarted != null) {
      restarted.close();
    }
  }

  @Test
  void shouldCompleteARunInterruptedByAKillUnderTheSameRunIdExactlyOnce(Devstack devstack,
      UniqueNames names) throws Exception {
    // Given data on the log and a model trained by a command, served by a child JVM
    Topics topics = Topics.builder(AvroSerdes.fromConfig(Map.of("schema.registry.url",
        devstack.schemaRegistryUrl()))).prefix(names.prefix()).build();
    ItSupport.createTopics(devstack, topics);
    ItSupport.produce(devstack, topics, new SyntheticData(300, 3, true, 21));
    Files.writeString(dir.resolve("train.py"), SCRIPT);
    Path yaml = dir.resolve("flywheel.yaml");
    Files.writeString(yaml, """
        models:
          - name: fraud-detector
            featureGroup: card_activity
            target: is_fraud
            training:
              executor:
                kind: command
                command: [python3, %s]
                env: {CRASH_DIR: %s}
        trainingTrigger:
          applicationId: %s
          stateDir: %s
          artifactDir: %s
          workDir: %s
          tick: PT1S
        """.formatted(dir.resolve("train.py"), dir, names.applicationId("crash"),
            dir.resolve("state"), dir.resolve("artifacts"), dir.resolve("work")));
    child = startChild(devstack, names, yaml);
    ItSupport.send(devstack, topics.trainingRequests(), "fraud-detector",
        ManualRequests.of("fraud-detector", "crash test", "it", Map.of(), Instant.now()));
    Path launches = dir.resolve("launches");
    await().atMost(Duration.ofSeconds(120)).until(() -> Files.exists(launches)
        && Files.readAllLines(launches).size() == 1);

    // When the service is killed during the run, and a new instance starts on the same state
    child.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    assertThat(child.isAlive()).isFalse();
    restarted = TrainingTriggerService.builder().config(TrainingTriggerConfig.load(yaml))
        .kafka(Map.of("bootstrap.servers", devstack.bootstrapServers(),
            "session.timeout.ms", 6000))
        .schemaRegistryUrl(devstack.schemaRegistryUrl()).topics(topics).build().start();

    // Then the interrupted attempt is executed again, under the same run id and attempt
    await().atMost(Duration.ofSeconds(120)).until(() -> Files.readAllLines(launches).size() == 2);
    assertThat(Files.readAllLines(launches)).containsExactly("fraud-detector-1 1",
        "fraud-detector-1 1");
    Files.writeString(dir.resolve("release"), "go");
    await().atMost(Duration.ofSeconds(60)).until(() -> ItSupport.runs(devstack, topics).stream()
        .anyMatch(r -> r.getStatus() == RunStatus.COMPLETED));
    restarted.close();

    // And the log holds one STARTED and exactly one COMPLETED for the run
    List<TrainingRun> runs = ItSupport.runs(devstack, topics);
    assertThat(runs).extracting(r -> r.getRunId() + "/" + r.getAttempt() + "/" + r.getStatus())
        .containsExactly("fraud-detector-1/1/STARTED", "fraud-detector-1/1/COMPLETED");
  }

  private Process startChild(Devstack devstack, UniqueNames names, Path yaml) throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        TrainingTriggerMain.class.getName(), yaml.toString());
    Map<String, String> env = pb.environment();
    env.put("FLYWHEEL_BOOTSTRAP_SERVERS", devstack.bootstrapServers());
    env.put("FLYWHEEL_SCHEMA_REGISTRY_URL", devstack.schemaRegistryUrl());
    env.put("FLYWHEEL_TOPIC_PREFIX", names.prefix());
    env.put("FLYWHEEL_TRAINING_PORT", "0");
    env.put("FLYWHEEL_KAFKA_SESSION_TIMEOUT_MS", "6000");
    pb.redirectErrorStream(true).redirectOutput(dir.resolve("child.log").toFile());
    return pb.start();
  }
}
