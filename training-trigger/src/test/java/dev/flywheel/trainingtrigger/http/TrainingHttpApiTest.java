package dev.flywheel.trainingtrigger.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.events.TrainingRequested;
import dev.flywheel.trainingtrigger.TrainCommand;
import dev.flywheel.trainingtrigger.config.TrainingTriggerConfig;
import dev.flywheel.trainingtrigger.coordination.ParamOverrides;
import io.javalin.Javalin;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code POST /models/{model}/train} and {@code flywheel train} for a model Flywheel does not
 * train and for parameter overrides, without a broker: the requests the route would write are
 * collected.
 */
class TrainingHttpApiTest {

  private static final String YAML = """
      models:
        - name: fraud
          featureGroup: card_activity
          training: {params: {max_depth: 6}}
        - name: vendor-scorer
          target: is_fraud
          policy: {gates: ["auc >= 0.7"]}
      """;

  @TempDir Path dir;

  private final List<TrainingRequested> sent = new CopyOnWriteArrayList<>();
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();
  private Javalin http;

  @BeforeEach
  void start() {
    TrainingHttpApi api = new TrainingHttpApi(TrainingTriggerConfig.parse(YAML, "flywheel.yaml"),
        r -> {
          sent.add(r);
          return null;
        }, Clock.systemUTC());
    http = Javalin.create(c -> {
      c.jetty.host = "127.0.0.1";
      c.jetty.port = 0;
      c.startup.showJavalinBanner = false;
      c.startup.showOldJavalinVersionWarning = false;
      api.routes(c.routes);
    }).start();
  }

  @AfterEach
  void stop() {
    http.stop();
  }

  private HttpResponse<String> post(String model, String body) throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + http.port() + "/models/" + model + "/train"))
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private int train(String... args) {
    return new CommandLine(new TrainCommand()).setOut(new PrintWriter(out, true))
        .setErr(new PrintWriter(err, true)).execute(args);
  }

  @Test
  void shouldAnswer409ForAModelTrainedOutsideFlywheelSayingWhatToAdd() throws Exception {
    // When training of the model declared without featureGroup is asked for
    HttpResponse<String> answer = post("vendor-scorer", "{\"reason\": \"retrain\"}");
    // Then it is refused, saying why and what to add, and nothing is written
    assertThat(answer.statusCode()).isEqualTo(409);
    assertThat(answer.body()).contains("model 'vendor-scorer' is declared in flywheel.yaml"
        + " without featureGroup").contains("trained outside Flywheel")
        .contains("add featureGroup:");
    assertThat(sent).isEmpty();
  }

  @Test
  void shouldAnswer400ForAnOverrideTheXGBoostTrainerDoesNotKnow() throws Exception {
    // When an override is misspelt
    HttpResponse<String> answer = post("fraud", "{\"params\": {\"max_dept\": 8}}");
    // Then it is refused with the parameter to use, and nothing is written
    assertThat(answer.statusCode()).isEqualTo(400);
    assertThat(answer.body()).contains("'max_dept' (did you mean 'max_depth'?)")
        .contains("https://xgboost.readthedocs.io/en/stable/parameter.html")
        .contains("allowUnknownParams");
    assertThat(sent).isEmpty();
    // And a documented override (an alias) is taken
    HttpResponse<String> ok = post("fraud", "{\"params\": {\"learning_rate\": 0.05}}");
    assertThat(ok.statusCode()).isEqualTo(202);
    assertThat(sent).singleElement().satisfies(r ->
        assertThat(r.getParams()).containsEntry("learning_rate", "0.05"));
  }

  @Test
  void shouldAnswer400ForAnOverrideThatIsNullOrNotAScalar() throws Exception {
    // When an override is null, and another is an object
    HttpResponse<String> isNull = post("fraud", "{\"params\": {\"max_depth\": null}}");
    HttpResponse<String> isObject = post("fraud", "{\"params\": {\"eta\": {\"v\": 1}}}");

    // Then both are refused, naming the parameter, rather than trained as the text "null"
    assertThat(isNull.statusCode()).isEqualTo(400);
    assertThat(isNull.body()).contains("\\\"params\\\".\\\"max_depth\\\" must be a number,"
        + " a string or a boolean, not null");
    assertThat(isObject.statusCode()).isEqualTo(400);
    assertThat(isObject.body()).contains("not an object");
    assertThat(sent).isEmpty();
  }

  @Test
  void shouldAnswer400ForOverridesBeyondTheBoundSayingWhatToFix() throws Exception {
    // When a request overrides more parameters than a run may have, and another sets a value
    // longer than an override may have
    StringBuilder many = new StringBuilder("{\"params\": {");
    for (int i = 0; i <= ParamOverrides.MAX; i++) {
      many.append(i == 0 ? "" : ", ").append("\"p_").append(i).append("\": 1");
    }
    HttpResponse<String> tooMany = post("fraud", many.append("}}").toString());
    HttpResponse<String> tooLong = post("fraud", "{\"params\": {\"monotone_constraints\": \"("
        + "1,".repeat(600) + "1)\"}}");
    // Then both are refused, saying what to fix, and nothing is written
    assertThat(tooMany.statusCode()).isEqualTo(400);
    assertThat(tooMany.body()).contains("has 101 parameter overrides, more than the 100 a run"
        + " may have; override fewer, and put the parameters every run uses under"
        + " models[fraud].training.params in flywheel.yaml");
    assertThat(tooLong.statusCode()).isEqualTo(400);
    assertThat(tooLong.body()).contains("has a value of 1203 characters for"
        + " 'monotone_constraints', longer than the 1000 an override may have; set so long a"
        + " value under models[fraud].training.params in flywheel.yaml instead");
    assertThat(sent).isEmpty();
  }

  @Test
  void shouldExitWithTwoWhenAnOverrideIsLongerThanTheBound() throws Exception {
    // Given the flywheel.yaml here
    Path config = Files.writeString(dir.resolve("flywheel.yaml"), YAML);
    // When an override longer than the bound is asked for
    int status = train("fraud", "-c", config.toString(), "-p",
        "monotone_constraints=(" + "1,".repeat(600) + "1)", "--bootstrap-servers", "127.0.0.1:1");
    // Then it is refused before anything is sent, saying what to do
    assertThat(status).isEqualTo(2);
    assertThat(err.toString()).contains("-p has a value of 1203 characters for"
        + " 'monotone_constraints'").contains("models[fraud].training.params in flywheel.yaml");
    assertThat(out.toString()).doesNotContain("requested training");
  }

  @Test
  void shouldExitWithTwoWhenTheRouteRefusesAModelTrainedOutsideFlywheel() {
    // When 'flywheel train vendor-scorer' runs where there is no flywheel.yaml
    int status = train("vendor-scorer", "-c", dir.resolve("flywheel.yaml").toString(),
        "--url", "http://127.0.0.1:" + http.port());
    // Then the route's refusal is shown, and nothing is written to Kafka unchecked
    assertThat(status).isEqualTo(2);
    assertThat(err.toString()).contains("without featureGroup").contains("add featureGroup:");
    assertThat(out.toString()).doesNotContain("requested training");
    assertThat(sent).isEmpty();
  }

  @Test
  void shouldExitWithTwoWhenTheRouteRefusesAnOverride() {
    // When 'flywheel train fraud -p max_dept=8' runs where there is no flywheel.yaml
    int status = train("fraud", "-c", dir.resolve("flywheel.yaml").toString(),
        "--url", "http://127.0.0.1:" + http.port(), "-p", "max_dept=8");
    // Then the route's refusal is shown, as a usage error
    assertThat(status).isEqualTo(2);
    assertThat(err.toString()).contains("'max_dept' (did you mean 'max_depth'?)");
    assertThat(sent).isEmpty();
  }

  @Test
  void shouldExitWithTwoWhenTheConfigDeclaresTheModelWithoutFeatureGroupOrAnOverrideIsUnknown()
      throws Exception {
    // Given the flywheel.yaml here
    Path config = Files.writeString(dir.resolve("flywheel.yaml"), YAML);
    // When training of the external model, and a misspelt override, are asked for
    int external = train("vendor-scorer", "-c", config.toString(), "--bootstrap-servers",
        "127.0.0.1:1");
    String externalErr = err.toString();
    int typo = train("fraud", "-c", config.toString(), "-p", "max_dept=8",
        "--bootstrap-servers", "127.0.0.1:1");
    // Then both are refused before anything is sent, saying what to do
    assertThat(external).isEqualTo(2);
    assertThat(externalErr).contains("model 'vendor-scorer' is declared in flywheel.yaml"
        + " without featureGroup").contains("add featureGroup:");
    assertThat(typo).isEqualTo(2);
    assertThat(err.toString()).contains("'max_dept' (did you mean 'max_depth'?)");
    assertThat(out.toString()).doesNotContain("requested training");
  }
}
