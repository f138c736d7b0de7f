package dev.flywheel.platform;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class RunCommandTest {

  @TempDir Path workDir;

  @Test
  void shouldExitWithOneAndSayWhatToSetWhenTheConfigNamesNoCluster() throws Exception {
    // Given a flywheel.yaml with feature groups but no kafka section
    Path yaml = workDir.resolve("flywheel.yaml");
    Files.writeString(yaml, "featureGroups: []\n");
    StringWriter err = new StringWriter();

    // When 'flywheel run features' runs with it
    int exit = new CommandLine(new FlywheelCli()).setErr(new PrintWriter(err, true))
        .execute("run", "features", "-c", yaml.toString(), "--http-port", "0");

    // Then it exits with 1 naming the settings to add
    assertThat(exit).isEqualTo(1);
    assertThat(err.toString()).contains("kafka.bootstrapServers")
        .contains("FLYWHEEL_BOOTSTRAP_SERVERS");
  }

  @Test
  void shouldExitWithTwoNamingTheServicesWhenTheServiceIsUnknown() throws Exception {
    // Given a config on some cluster
    Path yaml = workDir.resolve("flywheel.yaml");
    Files.writeString(yaml, """
        kafka: {bootstrapServers: "127.0.0.1:1", schemaRegistryUrl: "http://127.0.0.1:2"}
        """);
    StringWriter err = new StringWriter();

    // When 'flywheel run' is asked for a service that does not exist
    int exit = new CommandLine(new FlywheelCli()).setErr(new PrintWriter(err, true))
        .execute("run", "scoring", "-c", yaml.toString(), "--http-port", "0");

    // Then it is a usage error (2), not a failure to start (1) that a supervisor retries, and it
    // lists the services
    assertThat(exit).isEqualTo(2);
    assertThat(err.toString()).contains("flywheel run: there is no service 'scoring'")
        .contains("registry, ingest, features, serving, training, drift");
  }

  @Test
  void shouldNameTheFileTheSectionTheKeyAndTheKnownKeysOfAMisspeltSetting() throws Exception {
    // Given a config file named bad.yaml whose servingSink section has a misspelt key
    Path yaml = workDir.resolve("bad.yaml");
    Files.writeString(yaml, """
        kafka: {bootstrapServers: "127.0.0.1:1", schemaRegistryUrl: "http://127.0.0.1:2"}
        servingSink:
          startFrm: earliest
        """);
    StringWriter err = new StringWriter();

    // When 'flywheel run serving' runs with it
    int exit = new CommandLine(new FlywheelCli()).setErr(new PrintWriter(err, true))
        .execute("run", "serving", "-c", yaml.toString(), "--http-port", "0");

    // Then it exits with 1 naming bad.yaml, the service, the key in its section and the keys
    // that section knows, without a Java class name
    assertThat(exit).isEqualTo(1);
    assertThat(err.toString())
        .contains(yaml + ": serving: unknown key 'startFrm' at servingSink.startFrm; known keys: [")
        .contains("startFrom")
        .doesNotContain("flywheel.yaml")
        .doesNotContain("dev.flywheel")
        .doesNotContain("not marked as ignorable");
  }

  @Test
  void shouldListRunModelsAndTrainAmongTheCommands() {
    // When 'flywheel --help' prints the commands
    StringWriter out = new StringWriter();
    new CommandLine(new FlywheelCli()).setOut(new PrintWriter(out, true)).execute("--help");

    // Then run, models and train are among them
    assertThat(out.toString()).containsPattern("(?m)^\\s+run\\s")
        .containsPattern("(?m)^\\s+models\\s").containsPattern("(?m)^\\s+train\\s");
  }
}
