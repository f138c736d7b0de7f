package dev.flywheel.devstack;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.registry.SchemaRegistryClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

/** Runs the "In code" snippet of devstack/README.md, and checks the README shows exactly it. */
class ReadmeSnippetIT {

  private static final Path THIS_FILE =
      Path.of("src", "test", "java", "dev", "flywheel", "devstack", "ReadmeSnippetIT.java");

  @Test
  void shouldRunTheReadmeSnippetAgainstAFreshDevstack() {
    int[] registered = new int[1];
    // tag::in-code[]
    try (Devstack devstack = Devstack.builder().build().start()) {
      String bootstrap = devstack.bootstrapServers();   // 127.0.0.1:<free port>
      String registryUrl = devstack.schemaRegistryUrl(); // http://127.0.0.1:<free port>
      SchemaRegistryClient registry = SchemaRegistryClient.builder().url(registryUrl).build();
      int id = registry.register("orders-value", Schema.create(Schema.Type.STRING));
    // end::in-code[]
      registered[0] = id;
      assertThat(bootstrap).startsWith("127.0.0.1:");
      assertThat(registry.getSchemaById(id)).isEqualTo(Schema.create(Schema.Type.STRING));
    }
    assertThat(registered[0]).isPositive();
  }

  @Test
  void shouldShowTheSnippetVerbatimInTheReadme() throws IOException {
    // Given the snippet as compiled here, with the test's indentation removed
    List<String> source = Files.readAllLines(THIS_FILE, StandardCharsets.UTF_8);
    int start = source.indexOf("    // tag::in-code[]") + 1;
    int end = source.indexOf("    // end::in-code[]");
    assertThat(start).isPositive();
    String snippet = source.subList(start, end).stream()
        .map(line -> line.substring(Math.min(4, line.length())))
        .collect(Collectors.joining("\n"));

    // When the README is read
    String readme = Files.readString(Path.of("README.md"), StandardCharsets.UTF_8);

    // Then it holds that code, closed by the try block's brace
    assertThat(readme).contains("```java\n" + snippet + "\n}\n```");
  }
}
