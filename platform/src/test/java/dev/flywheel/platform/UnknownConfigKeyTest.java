package dev.flywheel.platform;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code flywheel up} and {@code flywheel run} refuse a key of flywheel.yaml no service reads. */
class UnknownConfigKeyTest {

  @TempDir Path workDir;

  @Test
  void shouldFailUpBeforeStartingAnythingWhenAModelKeyIsMisspelt() throws Exception {
    // Given a config whose model has its target misspelt
    Path yaml = workDir.resolve("bad.yaml");
    Files.writeString(yaml, """
        models:
          - name: fraud
            featureGroup: card_activity
            taget: is_fraud
            training: {trainer: logistic_regression}
        """);
    StringWriter err = new StringWriter();

    // When 'flywheel up' runs with it (the check comes before the embedded broker starts)
    int exit = new CommandLine(new FlywheelCli()).setErr(new PrintWriter(err, true))
        .execute("up", "-c", yaml.toString(), "--temporary", "--http-port", "0");

    // Then it exits with 1 naming the file, the path and the fix
    assertThat(exit).isEqualTo(1);
    assertThat(err.toString())
        .contains("flywheel up: " + yaml + ": unknown key 'taget' at models[0].taget (model"
            + " 'fraud'); did you mean 'target'?")
        .doesNotContain("devstack");
  }

  @Test
  void shouldFailUpBeforeCreatingTopicsWhenAServiceSettingIsMisspelt() throws Exception {
    // Given a config on a cluster nothing answers at, whose servingSink setting is misspelt
    Path yaml = workDir.resolve("bad.yaml");
    Files.writeString(yaml, """
        kafka: {bootstrapServers: "127.0.0.1:1", schemaRegistryUrl: "http://127.0.0.1:2"}
        servingSink:
          startFrm: earliest
        """);
    StringWriter err = new StringWriter();

    // When 'flywheel up' runs with it
    int exit = new CommandLine(new FlywheelCli()).setErr(new PrintWriter(err, true))
        .execute("up", "-c", yaml.toString(), "--http-port", "0");

    // Then it exits with 1 naming the setting, before it tried to create topics on the cluster
    assertThat(exit).isEqualTo(1);
    assertThat(err.toString())
        .contains(yaml + ": serving: unknown key 'startFrm' at servingSink.startFrm")
        .doesNotContain("could not start");
  }

  @Test
  void shouldFailRunWhenASectionIsMisspeltInsteadOfSayingTheServiceIsNotConfigured()
      throws Exception {
    // Given a config on some cluster whose servingSink section is spelt in the wrong case
    Path yaml = workDir.resolve("bad.yaml");
    Files.writeString(yaml, """
        kafka: {bootstrapServers: "127.0.0.1:1", schemaRegistryUrl: "http://127.0.0.1:2"}
        servingsink:
          startFrom: earliest
        """);
    StringWriter err = new StringWriter();

    // When 'flywheel run serving' runs with it
    int exit = new CommandLine(new FlywheelCli()).setErr(new PrintWriter(err, true))
        .execute("run", "serving", "-c", yaml.toString(), "--http-port", "0");

    // Then it exits with 1 naming the misspelt section and the one meant
    assertThat(exit).isEqualTo(1);
    assertThat(err.toString())
        .contains(yaml + ": unknown top-level section 'servingsink'; did you mean 'servingSink'?")
        .doesNotContain("does not configure serving");
  }
}
