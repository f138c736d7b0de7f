package dev.flywheel.platform.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flywheel.driftdetector.config.DriftDetectorConfig;
import dev.flywheel.driftdetector.metrics.DriftMetrics;
import dev.flywheel.events.DriftAlert;
import dev.flywheel.events.DriftMethod;
import dev.flywheel.events.DriftReport;
import dev.flywheel.events.DriftStatistic;
import dev.flywheel.events.DriftWindow;
import dev.flywheel.events.FeatureDrift;
import dev.flywheel.events.FeatureKind;
import dev.flywheel.events.LivePerformance;
import dev.flywheel.events.ServingCheck;
import dev.flywheel.featurestreams.FeatureStreamsConfig;
import dev.flywheel.featurestreams.FeatureTopology;
import dev.flywheel.ingest.IngestConfig;
import dev.flywheel.ingest.metrics.IngestMetrics;
import dev.flywheel.ingest.source.SourceDefinition;
import dev.flywheel.platform.RunCommand;
import dev.flywheel.platform.runtime.FlywheelRuntime;
import dev.flywheel.platform.runtime.HttpSecurity;
import dev.flywheel.platform.runtime.PlatformConfig;
import dev.flywheel.platform.runtime.ServiceCatalog;
import dev.flywheel.registry.InMemorySchemaRegistryClient;
import dev.flywheel.registryprojector.RegistryConfig;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.servingsink.ServingMetrics;
import dev.flywheel.servingsink.ServingSinkConfig;
import dev.flywheel.servingsink.model.ServedModel;
import dev.flywheel.servingsink.model.ServedModels;
import dev.flywheel.servingsink.model.ServedModelsForMeters;
import dev.flywheel.streams.StreamsProps;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.Topics;
import dev.flywheel.trainingtrigger.config.TrainingTriggerConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.kafka.common.utils.AppInfoParser;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import picocli.CommandLine;

/**
 * Keeps the deployment files — {@code docker-compose.yml}, {@code deploy/flywheel.yaml}, {@code
 * deploy/prometheus.yml}, the Grafana dashboard and {@code deploy/k8s} — in step with the code:
 * service names from {@link ServiceCatalog}, environment variables that {@link PlatformConfig},
 * {@link HttpSecurity} or a service actually read, ports from the resolved configuration, topic
 * names from {@link Topics}, and dashboard metrics from the meters the services' own metric
 * classes register.
 */
class DeployConfigTest {

  private static final Path ROOT = Path.of("").toAbsolutePath().getParent();
  private static final String FLYWHEEL_IMAGE = "flywheel:latest";
  /** The services with Kafka Streams state under their state directory. */
  private static final Set<String> STATEFUL = Set.of(ServiceCatalog.REGISTRY,
      ServiceCatalog.FEATURES, ServiceCatalog.TRAINING, ServiceCatalog.DRIFT);
  /** How long `flywheel run` may take to stop (RunCommand's shutdown timeout), seconds. */
  private static final int RUN_SHUTDOWN_SECONDS = 60;
  /** Series Prometheus itself adds to every target. */
  private static final Set<String> PROMETHEUS_SERIES = Set.of("up");
  private static final Set<String> PROMQL_WORDS = Set.of("by", "without", "on", "ignoring",
      "group_left", "group_right", "and", "or", "unless", "bool", "offset", "le");

  private static String flywheelYaml;
  private static Map<String, String> tokenEnv;
  private static Set<String> exposedSeries;

  @TempDir static Path stateDir;

  @BeforeAll
  static void readFlywheelYamlAndRegisterEveryMeter() throws IOException {
    flywheelYaml = Files.readString(ROOT.resolve("deploy/flywheel.yaml"));
    tokenEnv = new LinkedHashMap<>();
    for (String name : HttpSecurity.parse(flywheelYaml, allTokensSet(), ROOT.resolve("deploy"))
        .environmentVariables()) {
      tokenEnv.put(name, "x".repeat(HttpSecurity.MIN_TOKEN_LENGTH) + name);
    }
    exposedSeries = registerEveryMeter();
  }

  // ------------------------------------------------------------------ deploy/flywheel.yaml

  @Test
  void shouldParseTheSharedFlywheelYamlWithEveryServiceParser() {
    // When every service reads its sections of deploy/flywheel.yaml as its own parser does
    PlatformConfig platform = PlatformConfig.parse(flywheelYaml, Map.of());
    HttpSecurity security = HttpSecurity.parse(flywheelYaml, tokenEnv, ROOT.resolve("deploy"));
    IngestConfig ingest = IngestConfig.parse(flywheelYaml);
    FeatureStreamsConfig features = FeatureStreamsConfig.parse(flywheelYaml);
    RegistryConfig registry = RegistryConfig.parse(flywheelYaml);
    TrainingTriggerConfig training = TrainingTriggerConfig.parse(flywheelYaml,
        "deploy/flywheel.yaml");
    ServingSinkConfig serving = ServingSinkConfig.parse(flywheelYaml);
    DriftDetectorConfig drift = DriftDetectorConfig.parse(flywheelYaml, "deploy/flywheel.yaml");

    // Then it names an external cluster, turns security on, and configures every service
    assertThat(platform.kafka().isEmbedded()).isFalse();
    assertThat(security.enabled()).isTrue();
    assertThat(ingest.sourceDefinitions(ROOT.resolve("deploy"))).isNotEmpty();
    assertThat(features.featureGroups()).isNotEmpty();
    assertThat(registry).isNotNull();
    assertThat(training.models()).isNotEmpty();
    assertThat(serving.featureLookupUrl()).isNotNull();
    assertThat(drift).isNotNull();
  }

  // ------------------------------------------------------------------ docker-compose.yml

  @Test
  void shouldRunEveryCatalogueServiceInComposeFromTheOneImage() throws IOException {
    Map<String, Map<String, Object>> flywheel = composeFlywheelServices();

    // Then each service of the catalogue runs once, as `flywheel run <name>`, under its own name
    assertThat(flywheel.keySet()).containsExactlyInAnyOrderElementsOf(ServiceCatalog.START_ORDER);
    for (var e : flywheel.entrySet()) {
      List<String> command = strings(e.getValue().get("command"));
      assertThat(command).as(e.getKey()).startsWith("run", e.getKey());
      assertThat(command.get(1)).as("compose service name = flywheel run <service>")
          .isEqualTo(e.getKey());
    }
    // And the Dockerfile's entry point is the CLI jar
    assertThat(Files.readString(ROOT.resolve("Dockerfile")))
        .contains("ENTRYPOINT [\"java\", \"-jar\", \"/app/flywheel.jar\"]")
        .contains("FROM eclipse-temurin:17-jre");
  }

  @Test
  void shouldMountTheSharedFlywheelYamlWhereEveryComposeServiceReadsIt() throws IOException {
    for (var e : composeFlywheelServices().entrySet()) {
      String configPath = optionValue(strings(e.getValue().get("command")), "--config");
      assertThat(strings(e.getValue().get("volumes"))).as(e.getKey())
          .contains("./deploy/flywheel.yaml:" + configPath + ":ro");
    }
  }

  @Test
  void shouldSetOnlyEnvironmentVariablesFlywheelReadsInCompose() throws IOException {
    for (var e : composeFlywheelServices().entrySet()) {
      Map<String, String> env = stringMap(e.getValue().get("environment"));
      // Then every variable is read by Flywheel, and every token variable is set
      assertThat(env.keySet()).as(e.getKey()).allSatisfy(DeployConfigTest::assertReadByFlywheel);
      assertThat(env).as(e.getKey()).containsKeys(tokenEnv.keySet().toArray(String[]::new));
      // And it advertises its compose name, which the other containers resolve
      assertThat(env).as(e.getKey()).containsEntry("FLYWHEEL_ADVERTISED_HOST", e.getKey());
      // And compose waits for `flywheel run` to stop before it kills it
      assertThat(seconds((String) e.getValue().get("stop_grace_period"))).as(e.getKey())
          .isGreaterThan(RUN_SHUTDOWN_SECONDS);
    }
  }

  @Test
  void shouldKeepTheComposeBrokersLogOnAVolume() throws IOException {
    Map<String, Object> kafka = service(composeServices(), "kafka");
    String logDirs = stringMap(kafka.get("environment")).get("KAFKA_LOG_DIRS");
    assertThat(logDirs).isNotBlank();
    String volume = strings(kafka.get("volumes")).stream()
        .filter(v -> v.endsWith(":" + logDirs)).findFirst().orElseThrow();
    @SuppressWarnings("unchecked")
    Map<String, Object> volumes = (Map<String, Object>) loadYaml(
        ROOT.resolve("docker-compose.yml")).get("volumes");
    assertThat(volumes).containsKey(volume.split(":")[0]);
  }

  @Test
  void shouldPublishHealthcheckAndScrapeTheConfiguredHttpPortInCompose() throws IOException {
    Map<String, Map<String, Object>> flywheel = composeFlywheelServices();
    Set<String> hostPorts = new LinkedHashSet<>();
    Map<String, Integer> ports = new LinkedHashMap<>();
    for (var e : flywheel.entrySet()) {
      // Given the port each service's resolved configuration listens on
      int port = resolvedConfig(stringMap(e.getValue().get("environment"))).http().port();
      ports.put(e.getKey(), port);
      // Then compose publishes that port, and health-checks /health on it
      List<String> published = strings(e.getValue().get("ports"));
      assertThat(published).as(e.getKey()).hasSize(1);
      assertThat(published.get(0)).as(e.getKey()).endsWith(":" + port);
      assertThat(hostPorts.add(published.get(0).split(":")[0])).as("host port of " + e.getKey()
          + " is used once").isTrue();
      @SuppressWarnings("unchecked")
      Map<String, Object> check = (Map<String, Object>) e.getValue().get("healthcheck");
      assertThat(String.join(" ", strings(check.get("test")))).as(e.getKey())
          .contains("http://localhost:" + port + "/health");
    }
    // And Prometheus scrapes /metrics of each on that port, labelled with its name
    assertThat(prometheusTargets()).isEqualTo(ports);
  }

  @Test
  void shouldPointFlywheelAtTheComposeKafkaRegistryAndLookup() throws IOException {
    Map<String, Object> services = composeServices();
    Map<String, Map<String, Object>> flywheel = composeFlywheelServices();
    Map<String, String> kafkaEnv = stringMap(service(services, "kafka").get("environment"));
    Map<String, String> registryEnv = stringMap(service(services, "schema-registry")
        .get("environment"));
    for (var e : flywheel.entrySet()) {
      PlatformConfig config = resolvedConfig(stringMap(e.getValue().get("environment")));
      // Then the bootstrap servers are an advertised listener of the KRaft broker
      assertThat(kafkaEnv.get("KAFKA_ADVERTISED_LISTENERS"))
          .contains("://" + config.kafka().bootstrapServers());
      assertThat(kafkaEnv.get("KAFKA_PROCESS_ROLES")).contains("controller");
      // And the registry URL is the compose registry's listener
      URI registry = URI.create(config.kafka().schemaRegistryUrl());
      assertThat(services).containsKey(registry.getHost());
      assertThat(registryEnv.get("SCHEMA_REGISTRY_LISTENERS")).endsWith(":" + registry.getPort());
    }
    // And serving's lookup URL is the features service on its port
    URI lookup = URI.create(ServingSinkConfig.parse(flywheelYaml).featureLookupUrl());
    assertThat(lookup.getHost()).isEqualTo(ServiceCatalog.FEATURES);
    assertThat(resolvedConfig(stringMap(flywheel.get(ServiceCatalog.FEATURES)
        .get("environment"))).http().port()).isEqualTo(lookup.getPort());
    // And the broker runs the Kafka version Flywheel's clients are built with
    assertThat((String) service(services, "kafka").get("image"))
        .isEqualTo("apache/kafka:" + AppInfoParser.getVersion());
  }

  @Test
  void shouldRunTheInfrastructureTheServicesNeedInCompose() throws IOException {
    Map<String, Object> services = composeServices();
    // PostgreSQL with logical decoding, for CDC
    assertThat(strings(service(services, "postgres").get("command")))
        .contains("wal_level=logical");
    assertThat((String) service(services, "postgres").get("image")).startsWith("postgres:");
    // the Confluent registry and Kafka UI pointed at it
    assertThat((String) service(services, "schema-registry").get("image"))
        .startsWith("confluentinc/cp-schema-registry:");
    Map<String, String> ui = stringMap(service(services, "kafka-ui").get("environment"));
    assertThat(ui).containsEntry("KAFKA_CLUSTERS_0_SCHEMAREGISTRY", "http://schema-registry:8081")
        .containsEntry("KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS", "kafka:9092");
    // Prometheus with deploy/prometheus.yml, Grafana with the provisioned dashboard
    assertThat(strings(service(services, "prometheus").get("volumes")))
        .contains("./deploy/prometheus.yml:/etc/prometheus/prometheus.yml:ro");
    List<String> grafana = strings(service(services, "grafana").get("volumes"));
    for (String volume : grafana) {
      assertThat(ROOT.resolve(volume.split(":")[0])).as(volume).exists();
    }
    String dashboardMount = grafana.stream().filter(v -> v.endsWith(".json:ro")).findFirst()
        .orElseThrow().split(":")[1];
    Map<String, Object> provider = firstOf(loadYaml(ROOT.resolve(
        "deploy/grafana/provisioning/dashboards/flywheel.yaml")), "providers");
    @SuppressWarnings("unchecked")
    Map<String, Object> options = (Map<String, Object>) provider.get("options");
    assertThat(Path.of(dashboardMount).getParent().toString()).isEqualTo(options.get("path"));
  }

  // ------------------------------------------------------------------ dashboard

  @Test
  void shouldQueryOnlyMetricsFlywheelRegisters() throws IOException {
    // Given every metric name the dashboard's queries use
    Set<String> queried = dashboardMetrics();
    assertThat(queried).isNotEmpty();

    // Then each is a series the services' meters expose on /metrics (or Prometheus' own `up`)
    assertThat(queried).allSatisfy(name -> assertThat(
        exposedSeries.contains(name) || PROMETHEUS_SERIES.contains(name))
        .as("%s is exposed by a Flywheel meter", name).isTrue());
    // And the panels use the provisioned datasource
    Map<String, Object> datasource = firstOf(loadYaml(ROOT.resolve(
        "deploy/grafana/provisioning/datasources/prometheus.yaml")), "datasources");
    JsonNode dashboard = new ObjectMapper().readTree(ROOT.resolve(
        "deploy/grafana/flywheel-dashboard.json").toFile());
    for (JsonNode panel : dashboard.get("panels")) {
      if (!"row".equals(panel.path("type").asText())) {
        assertThat(panel.path("datasource").path("uid").asText()).as(panel.path("title").asText())
            .isEqualTo(datasource.get("uid"));
      }
    }
  }

  @Test
  void shouldExtractMetricNamesFromPromQl() {
    assertThat(metricsOf("histogram_quantile(0.99, sum by (le, model) (rate("
        + "flywheel_serving_latency_seconds_bucket{service=~\"$service\"}[$__rate_interval])))"))
        .containsExactly("flywheel_serving_latency_seconds_bucket");
    assertThat(metricsOf("sum by (route) (rate(a_sum[5m])) / sum by (route) (rate(b_count[5m]))"))
        .containsExactly("a_sum", "b_count");
  }

  // ------------------------------------------------------------------ k8s

  @Test
  void shouldDeployEveryCatalogueServiceOnKubernetesWithProbesOnHealth() throws IOException {
    Map<String, Map<String, Object>> deployments = k8sWorkloads();
    Map<String, Map<String, Object>> services = k8s("Service");
    Map<String, String> envConfig = stringMap(k8s("ConfigMap").get("flywheel-env").get("data"));
    int port = resolvedConfig(envConfig).http().port();

    assertThat(deployments.keySet()).containsExactlyInAnyOrderElementsOf(
        ServiceCatalog.START_ORDER);
    for (var e : deployments.entrySet()) {
      Map<String, Object> pod = path(e.getValue(), "spec", "template", "spec");
      Map<String, Object> container = firstOf(pod, "containers");
      // Then it runs `flywheel run <name>` with the ConfigMap's flywheel.yaml
      List<String> args = strings(container.get("args"));
      assertThat(args).as(e.getKey()).startsWith("run", e.getKey());
      String configPath = optionValue(args, "--config");
      assertThat(mountedConfigMap(pod, container, Path.of(configPath).getParent().toString()))
          .as(e.getKey()).isEqualTo("flywheel-config");
      // And its http port is the configured one, probed on /health
      Map<String, Object> httpPort = firstOf(container, "ports");
      assertThat(httpPort).containsEntry("name", "http").containsEntry("containerPort", port);
      for (String probe : List.of("startupProbe", "readinessProbe")) {
        assertThat(path(container, probe, "httpGet")).as(e.getKey() + " " + probe)
            .containsEntry("path", "/health").containsEntry("port", "http");
      }
      // And liveness only asks whether the process answers: an outage of Kafka is not cured by a
      // restart
      assertThat(path(container, "livenessProbe", "tcpSocket")).as(e.getKey())
          .containsEntry("port", "http");
      // And a Service of the same name routes to it
      Map<String, Object> service = services.get(e.getKey());
      assertThat(service).as("Service " + e.getKey()).isNotNull();
      assertThat(path(service, "spec", "selector")).isEqualTo(
          path(e.getValue(), "spec", "template", "metadata", "labels"));
      assertThat(firstOf(path(service, "spec"), "ports")).containsEntry("targetPort", "http");
    }
    // And serving's lookup URL is the features Service's port
    URI lookup = URI.create(ServingSinkConfig.parse(flywheelYaml).featureLookupUrl());
    assertThat(firstOf(path(services.get(lookup.getHost()), "spec"), "ports"))
        .containsEntry("port", lookup.getPort());
  }

  @Test
  void shouldKeepTheStreamsStateOfEachPodOnItsOwnVolumeOnKubernetes() throws IOException {
    Map<String, Map<String, Object>> statefulSets = k8s("StatefulSet");
    Map<String, Map<String, Object>> services = k8s("Service");
    String stateDir = stringMap(k8s("ConfigMap").get("flywheel-env").get("data"))
        .get("FLYWHEEL_STATE_DIR");
    // Then each service with state is a StatefulSet, governed by a headless Service
    assertThat(statefulSets.keySet()).containsExactlyInAnyOrderElementsOf(STATEFUL);
    for (var e : statefulSets.entrySet()) {
      Map<String, Object> spec = path(e.getValue(), "spec");
      assertThat(spec).as(e.getKey()).containsEntry("podManagementPolicy", "Parallel");
      Map<String, Object> governing = services.get((String) spec.get("serviceName"));
      assertThat(governing).as(e.getKey() + " serviceName").isNotNull();
      assertThat(path(governing, "spec")).containsEntry("clusterIP", "None");
      // And its state directory is a claim of its own, not an emptyDir
      Map<String, Object> claim = firstOf(spec, "volumeClaimTemplates");
      assertThat(strings(path(claim, "spec").get("accessModes"))).containsExactly("ReadWriteOnce");
      String claimName = (String) path(claim, "metadata").get("name");
      Map<String, Object> container = firstOf(path(spec, "template", "spec"), "containers");
      assertThat(maps(container.get("volumeMounts"))).as(e.getKey()).anySatisfy(m -> {
        assertThat(m).containsEntry("name", claimName).containsEntry("mountPath", stateDir);
      });
      assertThat(maps(path(spec, "template", "spec").get("volumes"))).as(e.getKey())
          .noneSatisfy(v -> assertThat(v).containsEntry("name", claimName));
    }
  }

  @Test
  void shouldStopCleanlyAndAdvertiseThePodOnKubernetes() throws IOException {
    Map<String, String> envConfig = stringMap(k8s("ConfigMap").get("flywheel-env").get("data"));
    for (var e : k8sWorkloads().entrySet()) {
      Map<String, Object> pod = path(e.getValue(), "spec", "template", "spec");
      Map<String, Object> container = firstOf(pod, "containers");
      // Then the pod has time to stop after its preStop pause
      int preStop = Integer.parseInt(strings(path(container, "lifecycle", "preStop", "exec")
          .get("command")).get(1));
      assertThat((Integer) pod.get("terminationGracePeriodSeconds")).as(e.getKey())
          .isGreaterThan(RUN_SHUTDOWN_SECONDS + preStop);
      // And it advertises its own IP to the other instances
      Map<String, Object> advertised = maps(container.get("env")).stream()
          .filter(v -> "FLYWHEEL_ADVERTISED_HOST".equals(v.get("name"))).findFirst()
          .orElseThrow(() -> new AssertionError(e.getKey() + " sets no FLYWHEEL_ADVERTISED_HOST"));
      assertThat(path(advertised, "valueFrom", "fieldRef"))
          .containsEntry("fieldPath", "status.podIP");
    }
    // And the topics are replicated as a production cluster needs
    assertThat(resolvedConfig(envConfig).kafka().replicationFactor()).isGreaterThanOrEqualTo(
        (short) 3);
  }

  @Test
  void shouldRunEveryContainerFromTheKustomizedImageOnKubernetes() throws IOException {
    Map<String, Object> kustomization = loadYaml(ROOT.resolve("deploy/k8s/kustomization.yaml"));
    String image = (String) firstOf(kustomization, "images").get("name");
    for (var e : k8sWorkloads().entrySet()) {
      Map<String, Object> pod = path(e.getValue(), "spec", "template", "spec");
      List<Map<String, Object>> containers = new ArrayList<>(maps(pod.get("containers")));
      containers.addAll(maps(pod.get("initContainers")));
      for (Map<String, Object> c : containers) {
        assertThat(((String) c.get("image")).split(":")[0]).as(e.getKey()).isEqualTo(image);
        assertThat(c).as(e.getKey()).containsEntry("imagePullPolicy", "IfNotPresent");
      }
    }
  }

  @Test
  void shouldStartFeaturesOnceIngestAnswersOnKubernetes() throws IOException {
    Map<String, Object> pod = path(k8sWorkloads().get(ServiceCatalog.FEATURES), "spec",
        "template", "spec");
    Map<String, Object> ingest = k8s("Service").get(ServiceCatalog.INGEST);
    int port = (Integer) firstOf(path(ingest, "spec"), "ports").get("port");
    // Then an init container waits until ingest's Service answers /health
    assertThat(String.join(" ", strings(firstOf(pod, "initContainers").get("command"))))
        .contains("curl").contains("http://" + ServiceCatalog.INGEST + ":" + port + "/health");
    // And the image has curl
    assertThat(Files.readString(ROOT.resolve("Dockerfile"))).containsPattern(
        "(?s)FROM eclipse-temurin:17-jre.*apt-get install[^\\n]*curl");
  }

  @Test
  void shouldHoldTheSharedFlywheelYamlAndTokenSecretOnKubernetes() throws IOException {
    Map<String, Map<String, Object>> configMaps = k8s("ConfigMap");
    // Then the ConfigMap's flywheel.yaml is deploy/flywheel.yaml
    assertThat(stringMap(configMaps.get("flywheel-config").get("data")).get("flywheel.yaml"))
        .isEqualTo(flywheelYaml);
    // And flywheel-env sets only variables Flywheel reads
    assertThat(stringMap(configMaps.get("flywheel-env").get("data")).keySet())
        .allSatisfy(DeployConfigTest::assertReadByFlywheel);
    // And the Secret is generated from tokens.env, which git ignores, under its fixed name
    Map<String, Object> kustomization = loadYaml(ROOT.resolve("deploy/k8s/kustomization.yaml"));
    Map<String, Object> generator = firstOf(kustomization, "secretGenerator");
    assertThat(generator).containsEntry("name", "flywheel-tokens");
    assertThat(strings(generator.get("envs"))).containsExactly("tokens.env");
    assertThat(path(kustomization, "generatorOptions"))
        .containsEntry("disableNameSuffixHash", true);
    assertThat(Files.readAllLines(ROOT.resolve(".gitignore"))).contains("deploy/k8s/tokens.env");
    // And its example names every token variable, empty so nothing starts on a default token
    Map<String, String> example = new LinkedHashMap<>();
    for (String line : Files.readAllLines(ROOT.resolve("deploy/k8s/tokens.env.example"))) {
      if (!line.isBlank() && !line.startsWith("#")) {
        String[] kv = line.split("=", 2);
        example.put(kv[0], kv[1]);
      }
    }
    assertThat(example.keySet()).containsExactlyInAnyOrderElementsOf(tokenEnv.keySet());
    assertThat(example.values()).allSatisfy(v -> assertThat(v).isEmpty());
    assertThat(k8s("Secret")).doesNotContainKey("flywheel-tokens");
    // And each container takes every token from it, and sets only variables Flywheel reads
    for (var e : k8sWorkloads().entrySet()) {
      Map<String, Object> container = firstOf(path(e.getValue(), "spec", "template", "spec"),
          "containers");
      Map<String, String> fromSecret = new LinkedHashMap<>();
      for (Map<String, Object> env : maps(container.get("env"))) {
        String name = (String) env.get("name");
        assertReadByFlywheel(name);
        if (env.get("valueFrom") != null && path(env, "valueFrom").containsKey("secretKeyRef")) {
          Map<String, Object> ref = path(env, "valueFrom", "secretKeyRef");
          if ("flywheel-tokens".equals(ref.get("name"))) {
            fromSecret.put(name, (String) ref.get("key"));
          }
        }
      }
      assertThat(fromSecret.keySet()).as(e.getKey())
          .containsExactlyInAnyOrderElementsOf(tokenEnv.keySet());
      fromSecret.forEach((name, key) -> assertThat(key).isEqualTo(name));
    }
  }

  @Test
  void shouldLetOnlyTrainingCreateJobsOnKubernetes() throws IOException {
    Map<String, Map<String, Object>> deployments = k8sWorkloads();
    String account = (String) path(deployments.get(ServiceCatalog.TRAINING), "spec", "template",
        "spec").get("serviceAccountName");
    // Then training runs as a ServiceAccount bound to a Role that may create Jobs
    assertThat(k8s("ServiceAccount")).containsKey(account);
    Map<String, Object> binding = k8s("RoleBinding").values().stream()
        .filter(b -> maps(b.get("subjects")).stream().anyMatch(s -> account.equals(s.get("name"))))
        .findFirst().orElseThrow();
    Map<String, Object> role = k8s("Role").get((String) path(binding, "roleRef").get("name"));
    assertThat(maps(role.get("rules"))).anySatisfy(rule -> {
      assertThat(strings(rule.get("apiGroups"))).contains("batch");
      assertThat(strings(rule.get("resources"))).contains("jobs");
      assertThat(strings(rule.get("verbs"))).contains("create", "delete", "watch");
    });
    // And no other service gets a Kubernetes API token
    deployments.forEach((name, d) -> {
      if (!name.equals(ServiceCatalog.TRAINING)) {
        assertThat(path(d, "spec", "template", "spec"))
            .as(name).containsEntry("automountServiceAccountToken", false);
      }
    });
  }

  // ------------------------------------------------------------------ topics

  @Test
  void shouldNameOnlyCatalogueTopics() throws IOException {
    // Given the topics of the catalogue and of the sources deploy/flywheel.yaml declares
    Topics topics = Topics.builder(new AvroSerdes(new InMemorySchemaRegistryClient(), Map.of()))
        .build();
    Set<String> known = new TreeSet<>();
    List<Topic<?, ?>> all = new ArrayList<>(topics.all());
    for (SourceDefinition source : IngestConfig.parse(flywheelYaml)
        .sourceDefinitions(ROOT.resolve("deploy"))) {
      all.add(topics.data(source.name()));
    }
    for (Topic<?, ?> t : all) {
      known.add(t.name());
      known.add(topics.dlq(t).name());
    }
    // When every topic-like name in the deployment files is collected
    Pattern topic = Pattern.compile("(?<![\\w./-])flywheel\\.[a-z][a-z0-9_.-]*[a-z0-9]");
    Set<String> named = new TreeSet<>();
    for (Path file : deployFiles()) {
      Matcher m = topic.matcher(Files.readString(file));
      while (m.find()) {
        if (!m.group().matches(".*\\.(yaml|yml|json|jar)$")) {
          named.add(m.group());
        }
      }
    }
    // Then each is a catalogue topic
    assertThat(named).isNotEmpty().allSatisfy(n -> assertThat(known).as("topic " + n).contains(n));
  }

  // ------------------------------------------------------------------ helpers

  /** Every meter the services' metric classes register, as Prometheus series names. */
  private static Set<String> registerEveryMeter() throws IOException {
    InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    AvroSerdes serdes = new AvroSerdes(registry, Map.of());
    Topics topics = Topics.builder(serdes).build();
    // the JVM meters the runtime binds, on the runtime's own registry
    Set<String> series = new TreeSet<>();
    try (FlywheelRuntime runtime = FlywheelRuntime.builder()
        .kafka(Map.of("bootstrap.servers", "unused:9092")).topics(topics).build()) {
      series.addAll(seriesOf(runtime.meters().scrape()));
    }
    PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    // ingest
    IngestMetrics ingest = new IngestMetrics(meters);
    ingest.accepted("transactions", IngestMetrics.HTTP).increment();
    ingest.rejected("transactions", IngestMetrics.HTTP).increment();
    ingest.deadLettered("transactions", IngestMetrics.HTTP).increment();
    ingest.httpRequest("/ingest/{source}", "POST", 200, 1_000_000);
    AtomicLong state = new AtomicLong(1);
    ingest.cdcGauge(IngestMetrics.CDC_CAPTURING, "public.orders", "orders", state,
        AtomicLong::get);
    ingest.cdcGauge(IngestMetrics.CDC_LAG, "public.orders", "orders", state, AtomicLong::get);
    // serving
    ServingMetrics serving = new ServingMetrics(meters);
    ServedModel model = ServedModelsForMeters.servedModel("fraud-detector", "champion", 1);
    try (ServedModels served = new ServedModels()) {
      served.install(model);
      serving.predictions(model, "stream", false, 1);
      serving.latency(model, "stream", 1_000_000, 1);
      serving.swapped(model, served);
      serving.refused("fraud-detector", "champion", ServingCheck.values()[0]);
      serving.unscored("no model", 1);
      serving.deadLetter("unreadable");
      // drift
      DriftMetrics drift = new DriftMetrics(meters);
      DriftReport report = driftReport();
      drift.prediction("fraud-detector", "counted");
      drift.report(report);
      drift.alert(DriftAlert.newBuilder().setEventId("a").setEventTime(Instant.EPOCH)
          .setModel("fraud-detector").setBaselineVersion(1).setWindow(report.getWindow())
          .setOnset(Instant.EPOCH).setConsecutiveDrifted(1).setDriftedShare(1.0)
          .setTopFeatures(report.getFeatures()).setReportId("r").build());
      // features: the production topology of deploy/flywheel.yaml's groups, processors initialized
      IngestConfig sources = IngestConfig.parse(flywheelYaml);
      for (SourceDefinition source : sources.sourceDefinitions(ROOT.resolve("deploy"))) {
        registry.register(topics.data(source.name()).name() + "-value", source.schema());
      }
      try (TopologyTestDriver driver = new TopologyTestDriver(FeatureTopology.build(
          FeatureStreamsConfig.parse(flywheelYaml), topics, serdes, meters),
          StreamsProps.builder("deploy-test").bootstrapServers("unused:9092")
              .stateDir(stateDir).build())) {
        series.addAll(seriesOf(meters.scrape()));
      }
    }
    meters.close();
    return series;
  }

  private static DriftReport driftReport() {
    FeatureDrift feature = FeatureDrift.newBuilder().setFeature("amount")
        .setKind(FeatureKind.NUMERIC).setSampleCount(10).setMissingRate(0)
        .setStatistics(List.of(DriftStatistic.newBuilder().setMethod(DriftMethod.KOLMOGOROV_SMIRNOV)
            .setValue(0.5).setPValue(0.01).setThreshold(0.05).setDrifted(true).build()))
        .setDrifted(true).build();
    return DriftReport.newBuilder().setEventId("r").setEventTime(Instant.EPOCH)
        .setModel("fraud-detector").setBaselineVersion(1)
        .setWindow(DriftWindow.newBuilder().setSequence(1).setStartTime(Instant.EPOCH)
            .setEndTime(Instant.EPOCH).setCount(10).build())
        .setFeatures(List.of(feature)).setScore(feature)
        .setPerformance(LivePerformance.newBuilder().setLabelledCount(10)
            .setMetrics(Map.of("auc", 0.9)).build())
        .setDriftedShare(1.0).setDrifted(true).setConsecutiveDrifted(1).build();
  }

  private static Set<String> seriesOf(String scrape) {
    Set<String> names = new TreeSet<>();
    for (String line : scrape.split("\n")) {
      if (!line.isBlank() && !line.startsWith("#")) {
        names.add(line.split("[{ ]", 2)[0]);
      }
    }
    return names;
  }

  private static Set<String> dashboardMetrics() throws IOException {
    JsonNode dashboard = new ObjectMapper().readTree(ROOT.resolve(
        "deploy/grafana/flywheel-dashboard.json").toFile());
    Set<String> names = new TreeSet<>();
    for (JsonNode expr : dashboard.findValues("expr")) {
      names.addAll(metricsOf(expr.asText()));
    }
    return names;
  }

  static Set<String> metricsOf(String promql) {
    String e = promql.replaceAll("\"[^\"]*\"", "\"\"")
        .replaceAll("\\{[^}]*}", "")
        .replaceAll("\\[[^]]*]", "")
        .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", "");
    Matcher m = Pattern.compile("(?<![A-Za-z0-9_:$])[A-Za-z_:][A-Za-z0-9_:]*"
        + "(?![A-Za-z0-9_:]|\\s*\\()").matcher(e);
    Set<String> names = new LinkedHashSet<>();
    while (m.find()) {
      if (!PROMQL_WORDS.contains(m.group())) {
        names.add(m.group());
      }
    }
    return names;
  }

  /** Fails unless setting {@code name} changes what Flywheel reads, or names a secret it reads. */
  private static void assertReadByFlywheel(String name) {
    if (tokenEnv.containsKey(name) || name.equals(IngestConfig.Cdc.PASSWORD_ENV)) {
      return;
    }
    if (name.equals("FLYWHEEL_ADVERTISED_HOST")) {
      // read by `flywheel run` itself, the default of --advertised-host
      assertThat(new CommandLine(new RunCommand()).getUsageMessage()).contains(name);
      return;
    }
    PlatformConfig without = PlatformConfig.parse(flywheelYaml, Map.of());
    PlatformConfig with = PlatformConfig.parse(flywheelYaml, Map.of(name, "1234"));
    assertThat(with).as("%s is read by PlatformConfig, HttpSecurity or a service", name)
        .isNotEqualTo(without);
  }

  private static PlatformConfig resolvedConfig(Map<String, String> env) {
    return PlatformConfig.parse(flywheelYaml, env);
  }

  private static Map<String, String> allTokensSet() throws IOException {
    // every variable the security section names, set, so that parsing lists them
    Map<String, String> env = new LinkedHashMap<>();
    Matcher m = Pattern.compile("(?m)^\\s*env:\\s*(\\S+)").matcher(
        Files.readString(ROOT.resolve("deploy/flywheel.yaml")));
    while (m.find()) {
      env.put(m.group(1), "y".repeat(HttpSecurity.MIN_TOKEN_LENGTH) + m.group(1));
    }
    return env;
  }

  private static Map<String, Integer> prometheusTargets() throws IOException {
    Map<String, Integer> targets = new LinkedHashMap<>();
    for (Map<String, Object> job : maps(loadYaml(ROOT.resolve("deploy/prometheus.yml"))
        .get("scrape_configs"))) {
      assertThat(job).containsEntry("metrics_path", "/metrics");
      for (Map<String, Object> group : maps(job.get("static_configs"))) {
        String service = stringMap(group.get("labels")).get("service");
        for (String target : strings(group.get("targets"))) {
          String[] hostPort = target.split(":");
          assertThat(hostPort[0]).as("target host is the service name").isEqualTo(service);
          targets.put(service, Integer.parseInt(hostPort[1]));
        }
      }
    }
    return targets;
  }

  private static Map<String, Object> composeServices() throws IOException {
    @SuppressWarnings("unchecked")
    Map<String, Object> services = (Map<String, Object>) loadYaml(
        ROOT.resolve("docker-compose.yml")).get("services");
    return services;
  }

  private static Map<String, Map<String, Object>> composeFlywheelServices() throws IOException {
    Map<String, Map<String, Object>> flywheel = new LinkedHashMap<>();
    composeServices().forEach((name, s) -> {
      @SuppressWarnings("unchecked")
      Map<String, Object> service = (Map<String, Object>) s;
      if (FLYWHEEL_IMAGE.equals(service.get("image"))) {
        flywheel.put(name, service);
      }
    });
    return flywheel;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> service(Map<String, Object> services, String name) {
    assertThat(services).containsKey(name);
    return (Map<String, Object>) services.get(name);
  }

  /** Every Deployment and StatefulSet of deploy/k8s, by name. */
  private static Map<String, Map<String, Object>> k8sWorkloads() throws IOException {
    Map<String, Map<String, Object>> workloads = new LinkedHashMap<>(k8s("Deployment"));
    workloads.putAll(k8s("StatefulSet"));
    return workloads;
  }

  private static int seconds(String composeDuration) {
    assertThat(composeDuration).as("a duration in seconds").matches("\\d+s");
    return Integer.parseInt(composeDuration.substring(0, composeDuration.length() - 1));
  }

  /** Every document of deploy/k8s of a kind, by name. */
  private static Map<String, Map<String, Object>> k8s(String kind) throws IOException {
    Map<String, Map<String, Object>> byName = new LinkedHashMap<>();
    try (Stream<Path> files = Files.list(ROOT.resolve("deploy/k8s"))) {
      for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
        for (Object doc : new Yaml(new LoaderOptions()).loadAll(Files.readString(file))) {
          @SuppressWarnings("unchecked")
          Map<String, Object> d = (Map<String, Object>) doc;
          if (d != null && kind.equals(d.get("kind"))) {
            byName.put((String) path(d, "metadata").get("name"), d);
          }
        }
      }
    }
    return byName;
  }

  private static String mountedConfigMap(Map<String, Object> pod, Map<String, Object> container,
      String mountPath) {
    String volume = maps(container.get("volumeMounts")).stream()
        .filter(m -> mountPath.equals(m.get("mountPath"))).findFirst().orElseThrow()
        .get("name").toString();
    Map<String, Object> v = maps(pod.get("volumes")).stream()
        .filter(m -> volume.equals(m.get("name"))).findFirst().orElseThrow();
    return (String) path(v, "configMap").get("name");
  }

  private static List<Path> deployFiles() throws IOException {
    List<Path> files = new ArrayList<>(List.of(ROOT.resolve("docker-compose.yml")));
    try (Stream<Path> deploy = Files.walk(ROOT.resolve("deploy"))) {
      deploy.filter(Files::isRegularFile).sorted().forEach(files::add);
    }
    return files;
  }

  private static Map<String, Object> loadYaml(Path file) throws IOException {
    return new Yaml(new LoaderOptions()).load(Files.readString(file));
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> path(Map<String, Object> map, String... keys) {
    Map<String, Object> at = map;
    for (String key : keys) {
      assertThat(at).as("has " + key).containsKey(key);
      at = (Map<String, Object>) at.get(key);
    }
    return at;
  }

  private static Map<String, Object> firstOf(Map<String, Object> map, String key) {
    List<Map<String, Object>> list = maps(map.get(key));
    assertThat(list).as(key).isNotEmpty();
    return list.get(0);
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> maps(Object list) {
    return list == null ? List.of() : (List<Map<String, Object>>) list;
  }

  private static List<String> strings(Object list) {
    if (list == null) {
      return List.of();
    }
    if (list instanceof String s) {
      return List.of(s);
    }
    return ((List<?>) list).stream().map(String::valueOf).toList();
  }

  private static Map<String, String> stringMap(Object map) {
    Map<String, String> out = new LinkedHashMap<>();
    if (map != null) {
      ((Map<?, ?>) map).forEach((k, v) -> out.put(String.valueOf(k), String.valueOf(v)));
    }
    return out;
  }

  private static String optionValue(List<String> args, String option) {
    int i = args.indexOf(option);
    assertThat(i).as(option + " in " + args).isNotNegative().isLessThan(args.size() - 1);
    return args.get(i + 1);
  }
}
