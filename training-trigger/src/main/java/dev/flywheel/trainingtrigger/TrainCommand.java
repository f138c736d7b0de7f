package dev.flywheel.trainingtrigger;

import dev.flywheel.events.TrainingRequested;
import dev.flywheel.topics.ClusterOptions;
import dev.flywheel.topics.Topic;
import dev.flywheel.trainingtrigger.config.InvalidConfigException;
import dev.flywheel.trainingtrigger.config.TrainingTriggerConfig;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code flywheel train <model> --reason "..."}: writes a MANUAL {@code TrainingRequested} for the
 * model to {@code flywheel.training.requests}; the running training-trigger coalesces it into the
 * model's next run. Exit status 0 when the broker acknowledged it, 2 for an unknown model, 1 when
 * the broker could not be reached.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
    description = "Request a training run of a model; the training-trigger service runs it.")
public final class TrainCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "MODEL", description = "The model, as named in flywheel.yaml.")
  String model;

  @Option(names = "--reason", description = "Why, in words; recorded in the run's lineage.")
  String reason;

  @Option(names = {"-p", "--param"}, paramLabel = "NAME=VALUE",
      description = "A training parameter override for this run, e.g. -p max_depth=8.")
  Map<String, String> params = new LinkedHashMap<>();

  @Option(names = "--actor", description = "Who asks; default: the USER environment variable.")
  String actor = System.getenv().getOrDefault("USER", "anonymous");

  @Option(names = {"-c", "--config"}, description = "flywheel.yaml, to check the model is declared"
      + " (default: ${DEFAULT-VALUE} when it exists).")
  Path config = Path.of("flywheel.yaml");

  @Mixin ClusterOptions cluster;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (config != null && Files.exists(config)) {
      try {
        TrainingTriggerConfig c = TrainingTriggerConfig.load(config);
        if (c.model(model).isEmpty()) {
          err.println("no model '" + model + "' is declared under models: in " + config
              + "; declared: " + c.models().keySet());
          return 2;
        }
      } catch (InvalidConfigException e) {
        err.println(e.getMessage());
        return 2;
      }
    }
    Topic<String, TrainingRequested> topic = cluster.topics(cluster.serdes()).trainingRequests();
    TrainingRequested request = ManualRequests.of(model, reason, actor, params,
        Clock.systemUTC().instant());
    // the cluster's properties (security), then this one-record producer's own settings
    Map<String, Object> props = cluster.kafka();
    props.putAll(Map.of("acks", "all", "enable.idempotence", true, "max.block.ms", 15_000,
        "delivery.timeout.ms", 20_000, "request.timeout.ms", 10_000));
    try (KafkaProducer<String, TrainingRequested> producer = new KafkaProducer<>(props,
        topic.keySerde().serializer(), topic.valueSerde().serializer())) {
      producer.send(new ProducerRecord<>(topic.name(), model, request)).get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      err.println("could not write the request to " + topic.name() + " at "
          + cluster.bootstrapServers() + ": " + e.getMessage() + " (is the platform running?"
          + " check --bootstrap-servers and --schema-registry-url)");
      return 1;
    }
    out.println("requested training of " + model + " (request " + request.getEventId() + ")");
    return 0;
  }
}
