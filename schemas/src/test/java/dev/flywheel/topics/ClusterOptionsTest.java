package dev.flywheel.topics;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

class ClusterOptionsTest {

  @Command(name = "some-command", mixinStandardHelpOptions = true)
  static final class SomeCommand implements Runnable {
    @Mixin ClusterOptions cluster;

    SomeCommand(ClusterOptions cluster) {
      this.cluster = cluster;
    }

    @Override
    public void run() {}
  }

  private static ClusterOptions parse(Map<String, String> env, String... args) {
    SomeCommand command = new SomeCommand(new ClusterOptions(
        new ServiceEnvironment(env, new Properties())));
    new CommandLine(command).parseArgs(args);
    return command.cluster;
  }

  @Test
  void shouldDefaultToTheEmbeddedStackWhenNothingIsGivenOrSet() {
    // Given no options and an empty environment
    // When the options are parsed
    ClusterOptions cluster = parse(Map.of());

    // Then the cluster is the embedded stack's, without a prefix
    assertThat(cluster.bootstrapServers()).isEqualTo("127.0.0.1:9092");
    assertThat(cluster.schemaRegistryUrl()).isEqualTo("http://127.0.0.1:8081");
    assertThat(cluster.prefix()).isEmpty();
    assertThat(cluster.topicNamePrefix()).isEqualTo("flywheel.");
    assertThat(cluster.kafka()).containsOnly(Map.entry("bootstrap.servers", "127.0.0.1:9092"));
  }

  @Test
  void shouldDefaultToTheVariablesTheServicesRead() {
    // Given the services' variables, a Kafka security property among them
    Map<String, String> env = Map.of(
        "FLYWHEEL_BOOTSTRAP_SERVERS", "kafka-1:9093",
        "FLYWHEEL_SCHEMA_REGISTRY_URL", "http://registry:8085",
        "FLYWHEEL_TOPIC_PREFIX", "acme",
        "FLYWHEEL_KAFKA_SECURITY_PROTOCOL", "SASL_SSL");

    // When no option is given
    ClusterOptions cluster = parse(env);

    // Then each comes from its variable, and the clients get the security property
    assertThat(cluster.bootstrapServers()).isEqualTo("kafka-1:9093");
    assertThat(cluster.schemaRegistryUrl()).isEqualTo("http://registry:8085");
    assertThat(cluster.prefix()).isEqualTo("acme");
    assertThat(cluster.topicNamePrefix()).isEqualTo("acme.flywheel.");
    assertThat(cluster.kafka()).containsOnly(Map.entry("bootstrap.servers", "kafka-1:9093"),
        Map.entry("security.protocol", "SASL_SSL"));
  }

  @Test
  void shouldLetTheOptionsWinOverTheVariables() {
    // Given the variables set
    Map<String, String> env = Map.of(
        "FLYWHEEL_BOOTSTRAP_SERVERS", "kafka-1:9093",
        "FLYWHEEL_SCHEMA_REGISTRY_URL", "http://registry:8085",
        "FLYWHEEL_TOPIC_PREFIX", "acme",
        "FLYWHEEL_KAFKA_BOOTSTRAP_SERVERS", "kafka-from-variable:9093");

    // When every option is given too
    ClusterOptions cluster = parse(env, "--bootstrap-servers", "other:9092",
        "--schema-registry-url", "http://other:8081", "--prefix", "");

    // Then the options win, bootstrap.servers of the clients included
    assertThat(cluster.bootstrapServers()).isEqualTo("other:9092");
    assertThat(cluster.schemaRegistryUrl()).isEqualTo("http://other:8081");
    assertThat(cluster.prefix()).isEmpty();
    assertThat(cluster.topics(new FakeAvroSerdeFactory()).prefix()).isEmpty();
    assertThat(cluster.kafka()).containsEntry("bootstrap.servers", "other:9092");
  }

  @Test
  void shouldGiveTheCommandsTheServicesRegistrySettingsOnTheUrlOfTheOption() {
    // Given a registry behind basic auth, set up for the services by their variables
    Map<String, String> env = Map.of(
        "FLYWHEEL_SCHEMA_REGISTRY_URL", "http://registry:8085",
        "FLYWHEEL_SCHEMA_REGISTRY_BASIC_AUTH_CREDENTIALS_SOURCE", "USER_INFO",
        "FLYWHEEL_SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO", "key:secret");

    // When a command is given another registry URL
    ClusterOptions cluster = parse(env, "--schema-registry-url", "http://other:8081");

    // Then its registry settings carry the credentials, on the URL of the option
    assertThat(cluster.schemaRegistry())
        .containsEntry("schema.registry.url", "http://other:8081")
        .containsEntry("basic.auth.credentials.source", "USER_INFO")
        .containsEntry("basic.auth.user.info", "key:secret");
  }

  @Test
  void shouldNameTheVariablesInTheHelp() {
    // Given a command with the options
    StringWriter help = new StringWriter();
    CommandLine cli = new CommandLine(new SomeCommand(new ClusterOptions(
        new ServiceEnvironment(Map.of(), new Properties())))).setOut(new PrintWriter(help));

    // When its help is printed
    cli.execute("--help");

    // Then each option names the variable it defaults to
    assertThat(help.toString())
        .contains("--bootstrap-servers=<host:port>", "FLYWHEEL_BOOTSTRAP_SERVERS")
        .contains("--schema-registry-url=<url>", "FLYWHEEL_SCHEMA_REGISTRY_URL")
        .contains("--prefix=<prefix>", "FLYWHEEL_TOPIC_PREFIX");
  }
}
