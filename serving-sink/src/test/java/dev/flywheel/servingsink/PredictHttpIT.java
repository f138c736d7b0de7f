package dev.flywheel.servingsink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.events.ModelFormat;
import dev.flywheel.events.ModelSignature;
import dev.flywheel.events.Prediction;
import dev.flywheel.events.ReportServingFailure;
import dev.flywheel.events.ScoringMode;
import dev.flywheel.events.ServingCheck;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topics;
import io.javalin.Javalin;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code POST /predict/{model}} on a real HTTP server, with features fetched by entity from a
 * small real HTTP server that answers feature-streams' lookup API.
 */
@WithDevstack
class PredictHttpIT {

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path artifacts;

  private final HttpClient http = HttpClient.newHttpClient();

  /** A feature group the lookup below answers with 422, an error asking again will not change. */
  private static final String REJECTED_GROUP = "Merchant-Activity";

  /** A lookup on {@code port} (0: any) answering feature-streams' API for card-7. */
  private static Javalin lookup(int port) {
    return Javalin.create(c -> {
      c.startup.showJavalinBanner = false;
      c.routes.get("/features/{group}/{entity}", ctx -> {
        if (ctx.pathParam("group").equals(REJECTED_GROUP)) {
          ctx.status(422).contentType("application/json")
              .result("{\"error\":\"group names must be lowercase words\"}");
          return;
        }
        boolean known = ctx.pathParam("entity").equals("card-7")
            && ctx.pathParam("group").equals(TestModels.GROUP);
        ctx.contentType("application/json").result(known
            ? "{\"group\":\"card_activity\",\"entity\":\"card-7\",\"found\":true,"
                + "\"eventId\":\"tx-1\",\"asOfMillis\":1795428930123,\"features\":{"
                + "\"velocity\":0.5,\"mean_7d\":3.0,\"count_10m\":2.0,\"amount\":1.0},"
                + "\"categoricalFeatures\":{}}"
            : "{\"found\":false,\"features\":{\"amount\":null,\"count_10m\":0.0,"
                + "\"mean_7d\":null,\"velocity\":null},\"categoricalFeatures\":{}}");
      });
    }).start(port);
  }

  /** The topics of this test, with the ONNX model promoted as fraud v3. */
  private Topics promoteV3(Devstack devstack, UniqueNames names) throws Exception {
    AvroSerdes serdes = AvroSerdes.fromConfig(
        Map.of("schema.registry.url", devstack.schemaRegistryUrl()));
    Topics topics = Topics.builder(serdes).prefix(names.prefix()).build();
    Kafka.createTopics(devstack, topics);
    Kafka.send(devstack, topics.modelPromoted(), "fraud", TestModels.promoted("fraud",
        "champion", 3, TestModels.artifact(TestModels.writeOnnx(artifacts), ModelFormat.ONNX),
        TestModels.signature(TestModels.FEATURES)));
    return topics;
  }

  @Test
  void shouldServeAVersionOnceTheFeatureLookupAnswersNotRefuseIt(Devstack devstack,
      UniqueNames names) throws Exception {
    // Given v3 promoted, and serving pointed at a feature lookup that does not answer yet (it
    // learns the group's features from it), as when serving starts before feature-streams
    int port;
    try (ServerSocket free = new ServerSocket(0)) {
      port = free.getLocalPort();
    }
    Topics topics = promoteV3(devstack, names);
    ServingSinkConfig config = ServingSinkConfig.defaults()
        .withIds(names.applicationId("serving"), "it")
        .withFeatureLookupUrl("http://127.0.0.1:" + port);
    try (ServingSinkService serving = ServingSinkService.builder().config(config)
        .kafka(Map.of("bootstrap.servers", devstack.bootstrapServers())).topics(topics)
        .meters(new SimpleMeterRegistry()).build().start()) {
      // When it starts, Then it serves nothing yet and says why, and refuses nothing
      assertThat(serving.served()).isEmpty();
      assertThat(serving.healthProblem()).hasValueSatisfying(problem -> assertThat(problem)
          .contains("waiting to serve", "fraud", "v3", "feature lookup does not answer"));
      // And its health details show v3 waiting, with nothing served for fraud@champion
      JsonNode champion = JSON.valueToTree(serving.healthDetails()).at("/models/fraud/champion");
      assertThat(champion.get("version").isNull()).as(champion.toString()).isTrue();
      assertThat(champion.at("/waiting/version").asInt()).as(champion.toString()).isEqualTo(3);
      assertThat(champion.at("/waiting/reason").asText())
          .contains("cannot learn the features of group '" + TestModels.GROUP + "'");
      assertThat(champion.has("refused")).isFalse();

      // When the lookup answers
      Javalin lookup = lookup(port);
      try {
        // Then v3 is served and serving is healthy
        await().atMost(Duration.ofSeconds(30)).until(() -> !serving.served().isEmpty());
        assertThat(serving.served().values()).singleElement()
            .satisfies(m -> assertThat(m.version()).isEqualTo(3));
        await().atMost(Duration.ofSeconds(10)).until(() -> serving.healthProblem().isEmpty());
        JsonNode served = JSON.valueToTree(serving.healthDetails()).at("/models/fraud/champion");
        assertThat(served.get("version").asInt()).as(served.toString()).isEqualTo(3);
        assertThat(served.has("waiting")).as(served.toString()).isFalse();
      } finally {
        lookup.stop();
      }
      // And no refusal went to the registry's audit history
      assertThat(Kafka.readAll(devstack, topics.registryCommands())).isEmpty();
    }
  }

  @Test
  void shouldRefuseAVersionWhoseGroupTheLookupRejectsAndKeepThePreviousServing(
      Devstack devstack, UniqueNames names) throws Exception {
    // Given v3 served, its group's features learnt from the feature lookup
    Javalin lookup = lookup(0);
    Topics topics = promoteV3(devstack, names);
    ServingSinkConfig config = ServingSinkConfig.defaults()
        .withIds(names.applicationId("serving"), "it")
        .withFeatureLookupUrl("http://127.0.0.1:" + lookup.port());
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    try (ServingSinkService serving = ServingSinkService.builder().config(config)
        .kafka(Map.of("bootstrap.servers", devstack.bootstrapServers())).topics(topics)
        .meters(meters).build().start()) {
      assertThat(serving.served().values()).singleElement()
          .satisfies(m -> assertThat(m.version()).isEqualTo(3));

      // When v4 is promoted reading a group the lookup answers with 422, not "unavailable"
      ModelSignature signature = TestModels.signature(TestModels.FEATURES);
      signature.setFeatureGroup(REJECTED_GROUP);
      Kafka.send(devstack, topics.modelPromoted(), "fraud", TestModels.promoted("fraud",
          "champion", 4, TestModels.artifact(TestModels.writeOnnx(artifacts), ModelFormat.ONNX),
          signature));

      // Then v4 is refused for good and reported to the registry, naming the lookup's answer
      await().atMost(Duration.ofSeconds(30)).until(() ->
          !Kafka.readAll(devstack, topics.registryCommands()).isEmpty());
      assertThat(Kafka.readAll(devstack, topics.registryCommands())).singleElement()
          .satisfies(c -> {
            ReportServingFailure failure = (ReportServingFailure) c.getCommand();
            assertThat(failure.getVersion()).isEqualTo(4);
            assertThat(failure.getCheck()).isEqualTo(ServingCheck.SIGNATURE_MISMATCH);
            assertThat(failure.getMessage()).contains(REJECTED_GROUP, "422",
                "group names must be lowercase words", "servingSink.featureLookupUrl");
          });
      assertThat(meters.counter("flywheel.serving.refusals", "model", "fraud", "alias",
          "champion", "check", "SIGNATURE_MISMATCH").count()).isEqualTo(1.0);
      // And v3 keeps serving, with nothing waited for
      assertThat(serving.served().values()).singleElement()
          .satisfies(m -> assertThat(m.version()).isEqualTo(3));
      assertThat(serving.healthProblem()).isEmpty();
    } finally {
      lookup.stop();
    }
  }

  private HttpResponse<String> post(String url, String body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(url)).POST(
        HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json")
        .build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void shouldRefuseAnUnknownBodyKeyNamingItTheClosestAcceptedKeyAndTheAcceptedKeys(
      Devstack devstack, UniqueNames names) throws Exception {
    // Given a feature lookup that knows card-7 and the ONNX model serving as v3
    try (ServingV3 served = servingV3(devstack, names)) {
      Topics topics = served.topics();
      String url = served.url() + "/predict/fraud";
      String features = "{\"amount\": 1.0, \"count_10m\": 2.0, \"mean_7d\": 3.0,"
          + " \"velocity\": 0.5}";
      // When the entity key is misspelt
      HttpResponse<String> entitiy = post(url, "{\"entitiy\": \"card-7\"}");
      // Then it is a 400 naming the key, the key meant and the accepted ones
      assertThat(entitiy.statusCode()).as(entitiy.body()).isEqualTo(400);
      assertThat(JSON.readTree(entitiy.body()).get("error").asText()).contains(
          "unknown key 'entitiy'", "did you mean 'entity'?",
          "\"entity\", \"eventId\" and \"features\"", "\"instances\" for a batch");

      // When "features" is misspelt next to an entity the lookup knows
      HttpResponse<String> feature = post(url, "{\"entity\": \"card-7\", \"feature\": "
          + features + "}");
      // Then it is refused, not scored on the looked-up features
      assertThat(feature.statusCode()).as(feature.body()).isEqualTo(400);
      assertThat(JSON.readTree(feature.body()).get("error").asText()).contains(
          "unknown key 'feature'", "did you mean 'features'?");

      // When an instance of a batch has a misspelt key
      HttpResponse<String> eventid = post(url, "{\"instances\": [{\"entity\": \"card-7\"},"
          + " {\"features\": " + features + ", \"eventid\": \"ev-2\"}]}");
      // Then the 400 says which instance, the key meant and an instance's keys
      assertThat(eventid.statusCode()).as(eventid.body()).isEqualTo(400);
      assertThat(JSON.readTree(eventid.body()).get("error").asText()).contains(
          "instance 1: unknown key 'eventid'", "did you mean 'eventId'?",
          "an instance accepts \"entity\", \"eventId\" and \"features\"");

      // When a batch has a key beside "instances", or "instances" is misspelt
      HttpResponse<String> beside = post(url, "{\"instances\": [{\"entity\": \"card-7\"}],"
          + " \"alias\": \"challenger\"}");
      HttpResponse<String> instance = post(url, "{\"instance\": [{\"entity\": \"card-7\"}]}");
      // Then each is a 400 naming the key
      assertThat(beside.statusCode()).as(beside.body()).isEqualTo(400);
      assertThat(JSON.readTree(beside.body()).get("error").asText()).contains(
          "unknown key 'alias'", "a batch accepts only \"instances\" at the top level");
      assertThat(instance.statusCode()).as(instance.body()).isEqualTo(400);
      assertThat(JSON.readTree(instance.body()).get("error").asText()).contains(
          "unknown key 'instance'", "did you mean 'instances'?");

      // And nothing refused was scored or written
      HttpResponse<String> fixed = post(url, "{\"entity\": \"card-7\", \"eventId\": \"ev-1\"}");
      assertThat(fixed.statusCode()).as(fixed.body()).isEqualTo(200);
      await().atMost(Duration.ofSeconds(30)).until(() ->
          !Kafka.readAll(devstack, topics.predictions()).isEmpty());
      assertThat(Kafka.readAll(devstack, topics.predictions()))
          .extracting(Prediction::getEventId).containsExactly("ev-1");
    }
  }

  @Test
  void shouldPredictByEntityAndByFeaturesNamingTheVersion(Devstack devstack, UniqueNames names)
      throws Exception {
    // Given a feature lookup that knows card-7 and the ONNX model serving as v3
    try (ServingV3 served = servingV3(devstack, names)) {
      Topics topics = served.topics();
      String url = served.url() + "/predict/fraud";
      // When card-7 is scored by entity (features from the lookup; the group's names came
      // from it too, as servingSink.featureGroups is not set)
      HttpResponse<String> byEntity = post(url, "{\"entity\": \"card-7\"}");
      // Then the answer names v3 and is the fixture's score of those features
      assertThat(byEntity.statusCode()).as(byEntity.body()).isEqualTo(200);
      JsonNode one = JSON.readTree(byEntity.body());
      assertThat(one.get("version").asInt()).isEqualTo(3);
      assertThat(one.get("alias").asText()).isEqualTo("champion");
      assertThat(one.get("featuresFound").asBoolean()).isTrue();
      assertThat(one.get("score").asDouble()).isBetween(0.41580, 0.41582);
      assertThat(one.get("decision").asBoolean()).isFalse();

      // When a batch gives features explicitly
      HttpResponse<String> batch = post(url, "{\"instances\": ["
          + "{\"features\": {\"amount\": 1.0, \"count_10m\": 2.0, \"mean_7d\": 3.0,"
          + " \"velocity\": 0.5}, \"entity\": \"card-7\", \"eventId\": \"ev-1\"},"
          + "{\"features\": {\"amount\": 12.5, \"count_10m\": 1.0, \"mean_7d\": 40.0,"
          + " \"velocity\": -0.25}}]}");
      // Then each row is scored by v3, in order
      assertThat(batch.statusCode()).as(batch.body()).isEqualTo(200);
      JsonNode many = JSON.readTree(batch.body());
      assertThat(many.get("version").asInt()).isEqualTo(3);
      assertThat(many.get("predictions")).hasSize(2);
      assertThat(many.get("predictions").get(0).get("score").asDouble())
          .isEqualTo(one.get("score").asDouble());
      assertThat(many.get("predictions").get(1).get("score").asDouble())
          .isBetween(0.99985, 0.99986);
      assertThat(many.get("predictions").get(1).get("entity").isNull()).isTrue();

      // And requests to fix are told what to fix
      HttpResponse<String> lacking = post(url, "{\"features\": {\"amount\": 1.0,"
          + " \"amount_last\": 2.0}}");
      assertThat(lacking.statusCode()).isEqualTo(400);
      assertThat(lacking.body()).contains("count_10m", "mean_7d", "velocity",
          "[amount_last] is not an input");
      HttpResponse<String> unknown = post(served.url() + "/predict/churn",
          "{\"entity\": \"card-7\"}");
      assertThat(unknown.statusCode()).isEqualTo(404);
      assertThat(unknown.body()).contains("churn", "fraud@champion v3");
      assertThat(post(url, "not json").statusCode()).isEqualTo(400);

      // And the three predictions answered are on the prediction log, marked HTTP
      await().atMost(Duration.ofSeconds(30)).until(() ->
          Kafka.readAll(devstack, topics.predictions()).size() >= 3);
      List<Prediction> logged = Kafka.readAll(devstack, topics.predictions());
      assertThat(logged).hasSize(3).allSatisfy(p -> {
        assertThat(p.getScoringMode()).isEqualTo(ScoringMode.HTTP);
        assertThat(p.getVersion()).isEqualTo(3);
      });
      assertThat(logged).extracting(Prediction::getEventId).contains("ev-1");
    }
  }

  /**
   * Serving with the ONNX model as v3 of fraud@champion, its routes on a port of their own, and a
   * feature lookup that knows card-7; closing it stops all three.
   */
  private record ServingV3(Javalin lookup, ServingSinkService serving, Javalin app, Topics topics)
      implements AutoCloseable {

    /** {@code http://127.0.0.1:<port>} of the routes. */
    String url() {
      return "http://127.0.0.1:" + app.port();
    }

    @Override
    public void close() {
      app.stop();
      serving.close();
      lookup.stop();
    }
  }

  private ServingV3 servingV3(Devstack devstack, UniqueNames names) throws Exception {
    Javalin lookup = lookup(0);
    Topics topics = promoteV3(devstack, names);
    ServingSinkConfig config = ServingSinkConfig.defaults()
        .withIds(names.applicationId("serving"), "it")
        .withFeatureLookupUrl("http://127.0.0.1:" + lookup.port());
    ServingSinkService serving = ServingSinkService.builder().config(config)
        .kafka(Map.of("bootstrap.servers", devstack.bootstrapServers())).topics(topics)
        .meters(new SimpleMeterRegistry()).build().start();
    Javalin app = Javalin.create(c -> {
      c.startup.showJavalinBanner = false;
      serving.routes(c.routes);
    }).start(0);
    return new ServingV3(lookup, serving, app, topics);
  }
}
