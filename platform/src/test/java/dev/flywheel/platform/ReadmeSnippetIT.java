package dev.flywheel.platform;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.platform.runtime.FlywheelRuntime;
import dev.flywheel.platform.runtime.PlatformConfig;
import dev.flywheel.platform.runtime.ServiceCatalog;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the "From Java" snippet of platform/README.md; keep the two in step. */
@WithDevstack
class ReadmeSnippetIT {

  @TempDir Path workDir;

  @Test
  void shouldStartTheConfiguredServicesAsTheReadmeShows(Devstack devstack, UniqueNames names)
      throws Exception {
    // Given a flywheel.yaml configuring the registry alone, on a fresh topic prefix
    Path yaml = workDir.resolve("flywheel.yaml");
    Files.writeString(yaml, "kafka: {topicPrefix: " + names.prefix() + "}\nregistry: {}\n");
    String bootstrapServers = devstack.bootstrapServers();
    String schemaRegistryUrl = devstack.schemaRegistryUrl();
    Path stateDir = workDir.resolve("state");
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    PrintStream stdout = System.out;
    System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
    try {
      // When the README's snippet runs
      // --- README snippet start
      FlywheelRuntime.Builder builder = FlywheelRuntime.builder().host("127.0.0.1");
      List<String> skipped = ServiceCatalog.addAll(builder, Files.readString(yaml),
          PlatformConfig.parse(Files.readString(yaml), Map.of())
              .withCluster(bootstrapServers, schemaRegistryUrl)   // the cluster the services join
              .withHttpPort(0),                                   // 0: a free port, chosen up front
          stateDir);                                              // <stateDir>/<service>
      skipped.forEach(System.out::println);                       // "drift: skipped, ..."
      try (FlywheelRuntime runtime = builder.build().start()) {
        System.out.println("every service on http://127.0.0.1:" + runtime.httpPort()
            + "; the registry at " + runtime.routes(ServiceCatalog.REGISTRY));
      }
      // --- README snippet end
    } finally {
      System.setOut(stdout);
    }

    // Then it ran the registry on a port of its own, kept state under stateDir/registry, and
    // named the five services it skipped
    String out = printed.toString(StandardCharsets.UTF_8);
    assertThat(out).contains("drift: skipped, ").contains("ingest: skipped, ")
        .containsPattern("every service on http://127\\.0\\.0\\.1:\\d+; the registry at \\[GET"
            + " /models, ");
    assertThat(out.lines().filter(l -> l.matches("[a-z]+: skipped, .*"))).hasSize(5);
    assertThat(stateDir.resolve("registry")).isDirectory();
  }
}
