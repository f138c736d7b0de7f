package dev.flywheel.platform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.Topics;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class UpCommandIT {

  private static final HttpClient HTTP = HttpClient.newBuilder()
      .connectTimeout(Duration.ofMillis(500)).build();

  @TempDir Path workDir;

  @Test
  void shouldServeBrokerAndRegistryUntilStoppedThenExitWithZero() throws Exception {
    // Given 'flywheel up --temporary' on ports the system picks, running in its own thread
    UpCommand up = new UpCommand();
    StringWriter out = new StringWriter();
    CommandLine cli = new CommandLine(up).setOut(new PrintWriter(out, true));
    CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> cli.execute(
        "--temporary", "--http-port", "0", "--kafka-port", "0", "--registry-port", "0"));

    // When it is ready, and the broker and the registry answer where it says
    await().atMost(Duration.ofSeconds(90)).until(() -> out.toString().contains("ready in"));
    int kafkaPort = printedPort(out.toString(), "Kafka bootstrap servers  127.0.0.1:");
    int registryPort = printedPort(out.toString(), "Schema registry          http://127.0.0.1:");
    String bootstrap = "127.0.0.1:" + kafkaPort;
    String registryUrl = "http://127.0.0.1:" + registryPort;
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
        .until(() -> brokerAnswers(bootstrap) && registryAnswers(registryUrl));

    // Then it printed how to connect, created Flywheel's topics, and stops cleanly on request
    assertThat(out.toString())
        .contains("Kafka bootstrap servers  " + bootstrap)
        .contains("Schema registry          " + registryUrl)
        .contains("kcat -b " + bootstrap)
        .contains("KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS=" + bootstrap)
        .contains("KAFKA_CLUSTERS_0_SCHEMAREGISTRY=" + registryUrl)
        .containsPattern("ready in \\d+ ms");
    assertThat(topicNames(bootstrap)).containsAll(catalogueTopicNames());
    Matcher http = Pattern.compile("HTTP +(http://\\S+)").matcher(out.toString());
    assertThat(http.find()).as(out.toString()).isTrue();
    HttpResponse<String> health = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create(http.group(1) + "/health")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(health.body()).contains("\"status\":\"UP\"");
    up.stop();
    assertThat(exit.get(60, TimeUnit.SECONDS)).isZero();
    assertThat(portIsFree(kafkaPort)).isTrue();
    assertThat(portIsFree(registryPort)).isTrue();
  }

  @Test
  void shouldStopCleanlyAndExitWithZeroOnTerminationSignal() throws Exception {
    // Given 'flywheel up --temporary' running in its own JVM, as from a terminal
    Path output = workDir.resolve("up.log");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process process = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        FlywheelCli.class.getName(), "up", "--temporary", "--http-port", "0",
        "--kafka-port", "0", "--registry-port", "0")
        .directory(workDir.toFile())
        .redirectErrorStream(true)
        .redirectOutput(output.toFile())
        .start();
    try {
      await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(100))
          .until(() -> !process.isAlive() || Files.readString(output).contains("ready in"));
      assertThat(process.isAlive()).as(Files.readString(output)).isTrue();
      int kafkaPort = printedPort(Files.readString(output), "Kafka bootstrap servers  127.0.0.1:");
      int registryPort = printedPort(Files.readString(output),
          "Schema registry          http://127.0.0.1:");

      // When it gets SIGTERM, which takes the same shutdown path as Ctrl-C's SIGINT
      process.destroy();

      // Then it stops the stack and exits with 0
      assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(process.exitValue()).as(Files.readString(output)).isZero();
      assertThat(Files.readString(output)).contains("stopping").contains("devstack stopped");
      assertThat(portIsFree(kafkaPort)).isTrue();
      assertThat(portIsFree(registryPort)).isTrue();
    } finally {
      process.destroyForcibly();
    }
  }

  @Test
  void shouldKeepTopicsInTheDataDirectoryAcrossRuns() throws Exception {
    // Given a first run on a data directory that created Flywheel's topics
    Path dataDir = workDir.resolve("data");
    String[] args = {"--http-port", "0", "--kafka-port", "0", "--registry-port", "0",
        "--data-dir", dataDir.toString()};
    try (UpCommand.Running first = parsed(new StringWriter(), args).start()) {
      assertThat(topicNames(first.devstack().bootstrapServers()))
          .containsAll(catalogueTopicNames());
    }

    // When a second run starts on the same directory
    StringWriter out = new StringWriter();
    try (UpCommand.Running second = parsed(out, args).start()) {

      // Then it finds every topic already there and reports the kept folder
      assertThat(out.toString())
          .contains(catalogueTopicNames().size() + " already present")
          .contains(dataDir.toAbsolutePath() + " (kept across runs)");
      assertThat(second.devstack().kafka().logDir()).isEqualTo(dataDir.resolve("kafka"));
    }
  }

  @Test
  void shouldRefuseToStartWhenTheKafkaPortIsTakenAndSaySo() throws Exception {
    // Given another process holding the Kafka port
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      StringWriter err = new StringWriter();
      CommandLine cli = new CommandLine(new FlywheelCli()).setErr(new PrintWriter(err, true));

      // When 'flywheel up' runs on it
      int exit = cli.execute("up", "--temporary", "--http-port", "0", "--kafka-port",
          String.valueOf(taken.getLocalPort()), "--registry-port", "0");

      // Then it exits with 1 and tells how to fix it
      assertThat(exit).isEqualTo(1);
      assertThat(err.toString()).contains("port " + taken.getLocalPort())
          .contains("already in use").contains("--kafka-port");
    }
  }

  @Test
  void shouldSayTheHostIsNotAnAddressOfThisMachineRatherThanThatItsPortIsInUse() {
    // Given an HTTP host that is no address of this machine (TEST-NET-1, RFC 5737)
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new FlywheelCli()).setErr(new PrintWriter(err, true));

    // When 'flywheel up' is asked to listen on it
    int exit = cli.execute("up", "--temporary", "--http-host", "192.0.2.1", "--http-port",
        "18080");

    // Then it exits with 1 naming the address, not a port in use
    assertThat(exit).isEqualTo(1);
    assertThat(err.toString()).contains("cannot listen on 192.0.2.1:18080")
        .contains("an address of this machine").doesNotContain("already in use");
  }

  @Test
  void shouldRejectTemporaryTogetherWithADataDirectory() {
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new FlywheelCli()).setErr(new PrintWriter(err, true));

    int exit = cli.execute("up", "--temporary", "--data-dir", workDir.toString());

    assertThat(exit).isEqualTo(2);
    assertThat(err.toString()).contains("--temporary and --data-dir exclude each other");
  }

  private static UpCommand parsed(StringWriter out, String... args) {
    UpCommand up = new UpCommand();
    new CommandLine(up).setOut(new PrintWriter(out, true)).parseArgs(args);
    return up;
  }

  private static Set<String> catalogueTopicNames() {
    Topics topics = Topics.builder(AvroSerdes.fromConfig(
        Map.of("schema.registry.url", "http://127.0.0.1:1"))).build();
    return topics.all().stream().map(Topic::name).collect(Collectors.toSet());
  }

  private static Set<String> topicNames(String bootstrap) throws Exception {
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      return admin.listTopics().names().get(30, TimeUnit.SECONDS);
    }
  }

  private static boolean brokerAnswers(String bootstrap) {
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 1000,
        AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 1000))) {
      return !admin.describeCluster().nodes().get(2, TimeUnit.SECONDS).isEmpty();
    } catch (Exception notYet) {
      return false;
    }
  }

  private static boolean registryAnswers(String registryUrl) {
    try {
      return HTTP.send(HttpRequest.newBuilder(URI.create(registryUrl + "/subjects"))
              .timeout(Duration.ofSeconds(1)).GET().build(),
          HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
    } catch (IOException notYet) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** The port printed right after {@code prefix} in {@code out}. */
  private static int printedPort(String out, String prefix) {
    Matcher m = Pattern.compile(Pattern.quote(prefix) + "(\\d+)").matcher(out);
    assertThat(m.find()).as("'" + prefix + "<port>' in:%n%s", out).isTrue();
    return Integer.parseInt(m.group(1));
  }

  private static boolean portIsFree(int port) {
    try (ServerSocket probe = new ServerSocket(port, 1, InetAddress.getByName("127.0.0.1"))) {
      return probe.getLocalPort() == port;
    } catch (IOException inUse) {
      return false;
    }
  }
}
