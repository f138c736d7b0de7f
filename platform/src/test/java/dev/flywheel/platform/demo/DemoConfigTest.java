package dev.flywheel.platform.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.platform.runtime.PlatformConfig;
import dev.flywheel.platform.runtime.ServiceCatalog;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DemoConfigTest {

  private static String demoYaml() throws IOException {
    try (InputStream in = Demo.class.getResourceAsStream(Demo.CONFIG_RESOURCE)) {
      assertThat(in).as(Demo.CONFIG_RESOURCE).isNotNull();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void shouldConfigureEveryServiceOfTheLoop() throws IOException {
    // Given the demo's flywheel.yaml on a cluster
    String yaml = demoYaml();
    PlatformConfig config = PlatformConfig.parse(yaml, Map.of())
        .withCluster("127.0.0.1:9092", "http://127.0.0.1:8081");

    // When the service catalogue reads it
    ServiceCatalog catalog = ServiceCatalog.builder().yaml(yaml).config(config).build();

    // Then every service runs and none is skipped
    assertThat(catalog.configured()).containsExactlyElementsOf(ServiceCatalog.START_ORDER);
    assertThat(catalog.skipped()).isEmpty();
  }

  @Test
  void shouldShipTheSameExampleToUsers() throws IOException {
    // Given the copy for users in examples/fraud (the module runs in platform/)
    Path example = Path.of("..", "examples", "fraud", "flywheel.yaml");

    // Then it is the demo's configuration, byte for byte, next to the Transaction schema it names
    assertThat(Files.readString(example)).isEqualTo(demoYaml());
    assertThat(Files.readString(example.resolveSibling("transaction.avsc")))
        .contains("\"name\": \"Transaction\"");
  }
}
