package dev.flywheel.trainingtrigger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flywheel.events.TrainingRequested;
import dev.flywheel.topics.ClusterOptions;
import dev.flywheel.topics.Topic;
import dev.flywheel.trainingtrigger.config.InvalidConfigException;
import dev.flywheel.trainingtrigger.config.TrainingTriggerConfig;
import dev.flywheel.trainingtrigger.config.XGBoostParams;
import dev.flywheel.trainingtrigger.coordination.ParamOverrides;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code flywheel train <model> --reason "..."}: writes a MANUAL {@code TrainingRequested} for the
 * model to {@code flywheel.training.requests}; the running training-trigger coalesces it into the
 * model's next run. Exit status 0 when the broker acknowledged it, 2 for a model Flywheel does not
 * train (undeclared, or declared without featureGroup: trained outside Flywheel), parameter
 * overrides beyond the bound of {@code ParamOverrides} or one its XGBoost trainer does not know,
 * 1 when the broker could not be reached.
 *
 * <p>The model is checked against {@code --config} when that file exists. Without it, the request
 * goes through the running platform's training route ({@code POST <url>/models/{model}/train}),
 * which refuses an undeclared model (exit 2, listing the declared ones) and a model trained outside
 * Flywheel (exit 2); when no training route answers there, it is written to Kafka unchecked, and
 * the command says so and where a refusal would show up.
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

  @Option(names = "--url", paramLabel = "<url>", description = "The running platform's HTTP"
      + " API, which checks the model when there is no flywheel.yaml here (default:"
      + " ${DEFAULT-VALUE}).")
  String url = "http://127.0.0.1:8080";

  @Option(names = "--wait", description = "Wait for the run that takes this request and print"
      + " its outcome: exit 0 when it completed, 1 when it failed or none came within"
      + " --wait-timeout.")
  boolean await;

  @Option(names = "--wait-timeout", paramLabel = "<minutes>", description = "How long --wait"
      + " waits, in minutes (default: ${DEFAULT-VALUE}).")
  long waitMinutes = 60;

  @Mixin ClusterOptions cluster;

  /** The id of the request written, by either path; null until one is. */
  private String requestId;

  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    boolean checked = false;
    int maxAttempts = 1; // unknown without the config: the first failure is reported as final
    if (config != null && Files.exists(config)) {
      try {
        TrainingTriggerConfig c = TrainingTriggerConfig.load(config);
        if (c.isExternal(model)) {
          err.println(TrainingTriggerConfig.externalRefusal(model));
          return 2;
        }
        if (c.model(model).isEmpty()) {
          err.println("no model '" + model + "' is declared under models: in " + config
              + "; declared: " + c.models().keySet());
          return 2;
        }
        String overrides = ParamOverrides.problem("-p", model, params);
        if (overrides != null) {
          err.println(overrides);
          return 2;
        }
        List<String> unknown = c.model(model).get().training().unknownParams(params);
        if (!unknown.isEmpty()) {
          err.println(XGBoostParams.problem("-p", unknown) + "; models[" + model
              + "].training.allowUnknownParams: true in " + config + " passes such a parameter"
              + " on");
          return 2;
        }
        maxAttempts = c.model(model).get().triggers().maxAttempts();
      } catch (InvalidConfigException e) {
        err.println(e.getMessage());
        return 2;
      }
      checked = true;
    }
    try (RunWaiter waiter = await ? RunWaiter.open(cluster) : null) {
      int status = request(checked, out, err);
      if (status != 0 || waiter == null) {
        return status;
      }
      return waiter.await(requestId, maxAttempts, Duration.ofMinutes(waitMinutes), out, err);
    } catch (KafkaException e) {
      err.println("cannot follow " + cluster.topics(cluster.serdes()).trainingRuns().name()
          + " at " + cluster.bootstrapServers() + " to wait for the run: " + e.getMessage()
          + " (is the platform running? check --bootstrap-servers)");
      return 1;
    }
  }

  /** Writes the request, through the platform or to Kafka; the exit status. */
  private int request(boolean checked, PrintWriter out, PrintWriter err) {
    if (!checked) {
      Integer status = throughPlatform(out, err);
      if (status != null) {
        return status;
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
    requestId = request.getEventId();
    out.println("requested training of " + model + " (request " + request.getEventId() + ")");
    if (!checked) {
      err.println("note: '" + model + "' was not checked: there is no " + config + " here and no"
          + " training route answered at " + url + " (pass -c <flywheel.yaml> or --url). If no"
          + " such model is declared, or it is declared without featureGroup (trained outside"
          + " Flywheel), the training service refuses the request and puts it on "
          + cluster.topics(cluster.serdes()).dlq(topic).name() + " with the reason.");
    }
    return 0;
  }

  /**
   * Sends the request through the platform's training route, which checks the model: the exit
   * status when the route answered, null when no training route answers at {@code --url}.
   */
  private Integer throughPlatform(PrintWriter out, PrintWriter err) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("reason", reason);
    body.put("actor", actor);
    body.put("params", params);
    HttpResponse<String> answer;
    try {
      answer = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build().send(
          HttpRequest.newBuilder(URI.create(url.replaceAll("/+$", "") + "/models/"
                  + URLEncoder.encode(model, StandardCharsets.UTF_8).replace("+", "%20")
                  + "/train"))
              .timeout(Duration.ofSeconds(30))
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (ConnectException | HttpConnectTimeoutException | IllegalArgumentException e) {
      return null; // nothing answers there: the request goes to Kafka, unchecked
    } catch (IOException e) {
      // sent, but no answer: the platform may have written it, so it is not sent again
      err.println("the platform at " + url + " did not answer the request (" + e + "); it may"
          + " have been written: check with 'flywheel models history " + model + "' or the"
          + " training runs before asking again");
      return 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
    JsonNode json;
    try {
      json = JSON.readTree(answer.body());
    } catch (IOException notJson) {
      json = null;
    }
    if (answer.statusCode() == 202 && json != null && json.hasNonNull("requestId")) {
      requestId = json.get("requestId").asText();
      out.println("requested training of " + model + " (request " + requestId + ", through "
          + url + ")");
      return 0;
    }
    if ((answer.statusCode() == 400 || answer.statusCode() == 404 || answer.statusCode() == 409)
        && json != null && json.hasNonNull("error")) {
      // the request is wrong (an unknown -p key, a model not declared or not trained here)
      err.println(json.get("error").asText());
      return 2;
    }
    if (answer.statusCode() == 401 || answer.statusCode() == 403) {
      err.println("the platform at " + url + " refused the request (" + answer.statusCode()
          + "): it needs a bearer token with the train role; or pass -c <flywheel.yaml> to"
          + " write the request to Kafka instead");
      return 1;
    }
    if (answer.statusCode() == 400) { // without the route's error: refused, nothing written
      err.println("the platform at " + url + " answered 400: " + answer.body());
      return 1;
    }
    int status = answer.statusCode();
    if ((status >= 300 && status < 400) || status == 404 || status == 405) {
      // a redirect, a 404 without the route's error, a 405: no training route answers there, so
      // nothing was written: the request goes to Kafka, unchecked
      return null;
    }
    // the route's own 503, an ingress's 502 or 504, a 202 whose body was lost, a 408 or 429: the
    // platform may have written the request, so it is not written again
    err.println("the platform at " + url + " answered " + status + ": "
        + (json != null && json.hasNonNull("error") ? json.get("error").asText() : answer.body())
        + "; the request may have been written: check 'flywheel status' and the training runs"
        + " ('flywheel models history " + model + "') before asking again");
    return 1;
  }
}
