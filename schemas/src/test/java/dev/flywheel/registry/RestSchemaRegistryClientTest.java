package dev.flywheel.registry;

import static dev.flywheel.registry.ScriptedRegistryPeer.drop;
import static dev.flywheel.registry.ScriptedRegistryPeer.error;
import static dev.flywheel.registry.ScriptedRegistryPeer.json;
import static dev.flywheel.registry.ScriptedRegistryPeer.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.flywheel.registry.ScriptedRegistryPeer.Request;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RestSchemaRegistryClientTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Schema USER = new Schema.Parser().parse("""
      {"type": "record", "name": "User", "namespace": "dev.flywheel.test", "fields": [
        {"name": "id", "type": "string"}]}""");

  private ScriptedRegistryPeer peer;

  @BeforeEach
  void startPeer() throws Exception {
    peer = ScriptedRegistryPeer.start();
  }

  @AfterEach
  void stopPeer() {
    peer.close();
  }

  private RestSchemaRegistryClient client() {
    return fastRetries(SchemaRegistryClient.builder().url(peer.url())).build();
  }

  private static RestSchemaRegistryClient.Builder fastRetries(RestSchemaRegistryClient.Builder b) {
    return b.maxRetries(3).initialBackoff(Duration.ofMillis(1)).maxBackoff(Duration.ofMillis(5));
  }

  private static String schemaAnswer(Schema schema) {
    return JsonNodeFactory.instance.objectNode().put("schema", schema.toString()).toString();
  }

  private static String versionAnswer(String subject, int version, int id, Schema schema) {
    return JsonNodeFactory.instance.objectNode().put("subject", subject).put("version", version)
        .put("id", id).put("schema", schema.toString()).toString();
  }

  private static JsonNode body(Request request) throws Exception {
    return JSON.readTree(request.body());
  }

  @Test
  void shouldRegisterWithTheRegistryMediaTypeAndSchemaBody() throws Exception {
    // Given a registry that assigns id 7
    peer.then(json(200, "{\"id\":7}"));

    // When a schema is registered
    int id = client().register("flywheel.features-value", USER);

    // Then the request is Confluent's: path, media type, accept, body with the schema text only
    assertThat(id).isEqualTo(7);
    Request request = peer.lastRequest();
    assertThat(request.method()).isEqualTo("POST");
    assertThat(request.pathAndQuery()).isEqualTo("/subjects/flywheel.features-value/versions");
    assertThat(request.header("Content-Type")).isEqualTo("application/vnd.schemaregistry.v1+json");
    assertThat(request.header("Accept")).startsWith("application/vnd.schemaregistry.v1+json");
    assertThat(request.header("Authorization")).isNull();
    JsonNode body = body(request);
    assertThat(body.get("schema").asText()).isEqualTo(USER.toString());
    assertThat(body.has("schemaType")).isFalse();
  }

  @Test
  void shouldAnswerARepeatedRegistrationFromTheCache() {
    // Given a schema registered once
    peer.then(json(200, "{\"id\":7}"));
    RestSchemaRegistryClient client = client();
    client.register("s", USER);

    // When it is registered again, and its id is asked for
    int again = client.register("s", USER);
    Schema byId = client.getSchemaById(7);

    // Then no further request was made
    assertThat(again).isEqualTo(7);
    assertThat(byId).isEqualTo(USER);
    assertThat(peer.requests()).hasSize(1);
  }

  @Test
  void shouldAskTheRegistryToNormalizeWhenAsked() {
    // Given a registry, When a schema is registered and looked up with normalize
    peer.then(json(200, "{\"id\":3}"), json(200, versionAnswer("s", 1, 3, USER)));
    RestSchemaRegistryClient client = client();
    client.register("s", USER, true);
    client.lookup("other", USER, true);

    // Then both requests carry normalize=true
    assertThat(peer.requests()).extracting(Request::pathAndQuery)
        .containsExactly("/subjects/s/versions?normalize=true", "/subjects/other?normalize=true");
  }

  @Test
  void shouldFetchASchemaByIdOnceAndThenFromTheCache() {
    // Given a registry that knows schema 42
    peer.then(json(200, schemaAnswer(USER)));
    RestSchemaRegistryClient client = client();

    // When the schema is fetched twice
    Schema first = client.getSchemaById(42);
    Schema second = client.getSchemaById(42);

    // Then one GET /schemas/ids/42 was made and both answers are the schema
    assertThat(first).isEqualTo(USER);
    assertThat(second).isSameAs(first);
    assertThat(peer.requests()).extracting(Request::method, Request::pathAndQuery)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("GET", "/schemas/ids/42"));
  }

  @Test
  void shouldReadVersionsLatestAndLookups() {
    // Given answers for a version, the latest and a lookup
    peer.then(json(200, versionAnswer("s", 2, 11, USER)), json(200, versionAnswer("s", 3, 12, USER)),
        json(200, versionAnswer("s", 3, 12, USER)));
    RestSchemaRegistryClient client = client();

    // When they are asked for
    RegisteredSchema v2 = client.getBySubjectAndVersion("s", 2);
    RegisteredSchema latest = client.getLatest("s");
    RegisteredSchema found = client.lookup("s", USER);
    RegisteredSchema foundAgain = client.lookup("s", USER);

    // Then the answers are parsed, the paths are Confluent's, the second lookup is cached
    assertThat(v2).isEqualTo(new RegisteredSchema("s", 2, 11, USER));
    assertThat(latest).isEqualTo(new RegisteredSchema("s", 3, 12, USER));
    assertThat(found).isEqualTo(new RegisteredSchema("s", 3, 12, USER));
    assertThat(foundAgain).isEqualTo(found);
    assertThat(peer.requests()).extracting(Request::method, Request::pathAndQuery).containsExactly(
        org.assertj.core.groups.Tuple.tuple("GET", "/subjects/s/versions/2"),
        org.assertj.core.groups.Tuple.tuple("GET", "/subjects/s/versions/latest"),
        org.assertj.core.groups.Tuple.tuple("POST", "/subjects/s"));
  }

  @Test
  void shouldEncodeSubjectsInPaths() {
    // Given a subject with a space, a slash and a non-ASCII letter
    peer.then(json(200, "[1]"));

    // When its versions are listed
    client().listVersions("a b/ç");

    // Then the subject is one percent-encoded path segment
    assertThat(peer.lastRequest().pathAndQuery()).isEqualTo("/subjects/a%20b%2F%C3%A7/versions");
  }

  @Test
  void shouldCarryTheRegistrysErrorCodeAndMessageWithoutRetrying() {
    // Given a registry that does not know the subject
    peer.otherwise(r -> error(404, 40401, "Subject 'ghost-value' not found."));

    // When the latest version is asked for
    // Then the exception carries status, error_code and message, after a single request
    assertThatThrownBy(() -> client().getLatest("ghost-value"))
        .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
          assertThat(e.httpStatus()).isEqualTo(404);
          assertThat(e.errorCode()).isEqualTo(40401);
          assertThat(e.registryMessage()).isEqualTo("Subject 'ghost-value' not found.");
          assertThat(e.isNotFound()).isTrue();
          assertThat(e.isRetriable()).isFalse();
          assertThat(e.getMessage()).contains("GET " + peer.url() + "/subjects/ghost-value/versions/latest")
              .contains("HTTP 404, error_code 40401: Subject 'ghost-value' not found.");
        });
    assertThat(peer.requests()).hasSize(1);
  }

  @Test
  void shouldNeverRetryClientErrors() {
    // Given a registry refusing a schema as incompatible (409) and then as invalid (422)
    peer.then(error(409, 409, "Schema being registered is incompatible"),
        error(422, 42201, "Invalid schema"));
    RestSchemaRegistryClient client = client();

    // When both are attempted, Then each fails after exactly one request
    assertThatThrownBy(() -> client.register("s", USER))
        .isInstanceOfSatisfying(SchemaRegistryException.class,
            e -> assertThat(e.isIncompatible()).isTrue());
    assertThat(peer.requests()).hasSize(1);
    assertThatThrownBy(() -> client.register("t", USER))
        .isInstanceOfSatisfying(SchemaRegistryException.class,
            e -> assertThat(e.errorCode()).isEqualTo(42201));
    assertThat(peer.requests()).hasSize(2);
  }

  @Test
  void shouldReportANonJsonErrorBodyClearly() {
    // Given a proxy answering 400 with an HTML page
    peer.then(text(400, "<html><body>Bad Request</body></html>"));

    // When a request is made, Then the error says the body is not a registry error document
    assertThatThrownBy(() -> client().listSubjects())
        .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
          assertThat(e.httpStatus()).isEqualTo(400);
          assertThat(e.errorCode()).isEqualTo(SchemaRegistryException.UNPARSEABLE_ERROR_RESPONSE);
          assertThat(e.getMessage()).contains("HTTP 400 with a body that is not a registry error "
              + "document (is the URL a schema registry?): <html><body>Bad Request</body></html>");
        });
  }

  @Test
  void shouldRetryServiceUnavailableThenSucceed() {
    // Given a registry answering 503 twice (forwarding error) before it answers
    peer.then(error(503, 50003, "Error while forwarding the request to the leader"),
        text(503, "Service Unavailable"), json(200, "{\"id\":5}"));

    // When a schema is registered
    int id = client().register("s", USER);

    // Then it succeeds on the third request
    assertThat(id).isEqualTo(5);
    assertThat(peer.requests()).hasSize(3);
  }

  @Test
  void shouldRetryRegistryStoreErrorsAndTooManyRequests() {
    // Given a 500 with error_code 50001, then a 429, then the answer
    peer.then(error(500, 50001, "Error in the backend data store"), error(429, 42901, "slow down"),
        json(200, "[\"a-value\"]"));

    // When subjects are listed, Then the call succeeds after both retries
    assertThat(client().listSubjects()).containsExactly("a-value");
    assertThat(peer.requests()).hasSize(3);
  }

  @Test
  void shouldRetryARequestTimeoutThenSucceed() {
    // Given a proxy answering 408 once before the registry answers
    peer.then(text(408, "Request Timeout"), json(200, "[\"a-value\"]"));

    // When subjects are listed, Then the call succeeds on the second request
    assertThat(client().listSubjects()).containsExactly("a-value");
    assertThat(peer.requests()).hasSize(2);
  }

  @Test
  void shouldReportRefusedCredentialsAsASetupProblemWithoutRetrying() {
    // Given a registry refusing the credentials
    peer.otherwise(r -> error(401, 40101, "Unauthorized"));

    // When a schema is asked for, Then it fails after one request, as a setup problem
    assertThatThrownBy(() -> client().getSchemaById(3))
        .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
          assertThat(e.isSetupProblem()).isTrue();
          assertThat(e.isRetriable()).isFalse();
          assertThat(SchemaRegistryException.isRetriableCause(e)).isTrue();
        });
    assertThat(peer.requests()).hasSize(1);
  }

  @Test
  void shouldRetryADroppedConnectionThenSucceed() {
    // Given a registry that drops the first connection without answering (a POST, which the JDK's
    // HTTP client never retries by itself)
    peer.then(drop(), json(200, "{\"id\":5}"));

    // When a schema is registered, Then the client's own retry gets the answer
    assertThat(client().register("s", USER)).isEqualTo(5);
    assertThat(peer.requests()).extracting(Request::method).containsExactly("POST", "POST");
  }

  @Test
  void shouldGiveUpAfterTheMaximumRetries() {
    // Given a registry that is always unavailable and a client allowing 2 retries
    peer.otherwise(r -> error(503, 50002, "Operation timed out"));
    RestSchemaRegistryClient client = SchemaRegistryClient.builder().url(peer.url())
        .maxRetries(2).initialBackoff(Duration.ofMillis(1)).maxBackoff(Duration.ofMillis(2)).build();

    // When a request is made, Then it fails after 3 attempts with the last answer
    assertThatThrownBy(() -> client.getSchemaById(1))
        .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
          assertThat(e.errorCode()).isEqualTo(50002);
          assertThat(e.isRetriable()).isTrue();
        });
    assertThat(peer.requests()).hasSize(3);
  }

  @Test
  void shouldReportAnUnreachableRegistryAsRetriableWithNoResponse() throws Exception {
    // Given a URL where nothing listens
    int port = peer.port();
    peer.close();
    RestSchemaRegistryClient client = SchemaRegistryClient.builder()
        .url("http://127.0.0.1:" + port).maxRetries(1).initialBackoff(Duration.ofMillis(1)).build();

    // When a request is made, Then the failure has no HTTP status and is retriable
    assertThatThrownBy(client::listSubjects)
        .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
          assertThat(e.httpStatus()).isEqualTo(SchemaRegistryException.NO_RESPONSE);
          assertThat(e.isRetriable()).isTrue();
          assertThat(e.getMessage()).contains("no answer");
        });
    peer = ScriptedRegistryPeer.start();
  }

  @Test
  void shouldFailOverToTheNextUrlAndStayThere() throws Exception {
    // Given two base URLs, the first of which drops every connection
    peer.otherwise(r -> drop());
    try (ScriptedRegistryPeer second = ScriptedRegistryPeer.start()) {
      second.otherwise(r -> json(200, "{\"id\":8}"));
      RestSchemaRegistryClient client = fastRetries(SchemaRegistryClient.builder()
          .url(peer.url() + "," + second.url())).build();

      // When two registrations are made
      int first = client.register("a", USER);
      int again = client.register("b", USER);

      // Then the second URL answers both, and the first was tried only once
      assertThat(first).isEqualTo(8);
      assertThat(again).isEqualTo(8);
      assertThat(peer.requests()).hasSize(1);
      assertThat(second.requests()).hasSize(2);
    }
  }

  @Test
  void shouldSendBasicCredentialsFromUserInfoConfig() {
    // Given a client configured the Confluent way with USER_INFO credentials
    peer.then(json(200, "[]"));
    SchemaRegistryClient client = SchemaRegistryClient.fromConfig(Map.of(
        "schema.registry.url", peer.url(),
        "basic.auth.credentials.source", "USER_INFO",
        "basic.auth.user.info", "alice:s3cret:with-colon"));

    // When a request is made, Then it carries HTTP basic credentials
    client.listSubjects();
    assertThat(peer.lastRequest().header("Authorization")).isEqualTo("Basic "
        + Base64.getEncoder().encodeToString("alice:s3cret:with-colon".getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void shouldSendBasicCredentialsFromTheUrlAndHideThem() {
    // Given a URL with percent-encoded credentials in it
    peer.then(json(200, "[]"));
    String url = peer.url().replace("http://", "http://bob:p%40ss@");
    RestSchemaRegistryClient client = fastRetries(SchemaRegistryClient.builder().url(url)).build();

    // When a request is made
    client.listSubjects();

    // Then it carries them as basic credentials, and the client never shows them
    assertThat(peer.lastRequest().header("Authorization")).isEqualTo("Basic "
        + Base64.getEncoder().encodeToString("bob:p@ss".getBytes(StandardCharsets.UTF_8)));
    assertThat(client.baseUrls()).containsExactly(peer.url());
    assertThat(client.toString()).doesNotContain("p%40ss").doesNotContain("bob");
  }

  @Test
  void shouldKeepAPlusInUrlCredentials() {
    // Given a URL whose secret holds a literal '+' and a percent-encoded one
    peer.then(json(200, "[]"));
    String url = peer.url().replace("http://", "http://KEY:abc+def%2Bghi@");
    RestSchemaRegistryClient client = fastRetries(SchemaRegistryClient.builder().url(url)).build();

    // When a request is made
    client.listSubjects();

    // Then both are sent as '+', not as a space
    assertThat(peer.lastRequest().header("Authorization")).isEqualTo("Basic "
        + Base64.getEncoder().encodeToString("KEY:abc+def+ghi".getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void shouldHideASecretWithAnUnencodedSlashWhenRefusingTheUrl() {
    // Given a URL whose secret holds an unencoded '/', which ends the authority early
    String url = "http://KEY:abc+def/ghi@127.0.0.1:8081";

    // When a client is built with it, Then it is refused without showing the secret
    assertThatThrownBy(() -> SchemaRegistryClient.builder().url(url))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("//***@127.0.0.1:8081")
        .hasMessageContaining("percent-encode '/'")
        .hasMessageNotContaining("abc")
        .hasMessageNotContaining("ghi");
  }

  @Test
  void shouldSendABearerTokenAndClusterHeadersFromConfig() {
    // Given a client configured with a static bearer token and a logical cluster
    peer.then(json(200, "[]"));
    SchemaRegistryClient client = SchemaRegistryClient.fromConfig(Map.of(
        "schema.registry.url", peer.url(),
        "bearer.auth.credentials.source", "STATIC_TOKEN",
        "bearer.auth.token", "tok-123",
        "bearer.auth.logical.cluster", "lsrc-1"));

    // When a request is made, Then it carries the token and the cluster header
    client.listSubjects();
    assertThat(peer.lastRequest().header("Authorization")).isEqualTo("Bearer tok-123");
    assertThat(peer.lastRequest().header("target-sr-cluster")).isEqualTo("lsrc-1");
  }

  @Test
  void shouldCheckCompatibilityVerbosely() throws Exception {
    // Given a registry finding the schema incompatible
    peer.then(json(200, "{\"is_compatible\":false,\"messages\":[\"READER_FIELD_MISSING_DEFAULT_VALUE\"]}"));

    // When compatibility is tested
    CompatibilityResult result = client().testCompatibility("s", USER);

    // Then the request asks for reasons, and they are returned
    assertThat(result.compatible()).isFalse();
    assertThat(result.messages()).containsExactly("READER_FIELD_MISSING_DEFAULT_VALUE");
    assertThat(peer.lastRequest().pathAndQuery())
        .isEqualTo("/compatibility/subjects/s/versions?verbose=true");
    assertThat(body(peer.lastRequest()).get("schema").asText()).isEqualTo(USER.toString());
  }

  @Test
  void shouldCheckAgainstTheLatestVersionWhenTheRegistryCannotCheckAgainstAll() {
    // Given a registry without POST /compatibility/subjects/{s}/versions, finding it compatible
    // with the latest version
    peer.then(error(404, 404, "HTTP 404 Not Found"), json(200, "{\"is_compatible\":true}"),
        json(200, "{\"is_compatible\":true}"));
    RestSchemaRegistryClient client = client();

    // When compatibility is tested twice
    CompatibilityResult first = client.testCompatibility("s", USER);
    CompatibilityResult second = client.testCompatibility("s", USER);

    // Then both ask about the latest version, the second without trying the route again
    assertThat(first.compatible()).isTrue();
    assertThat(second.compatible()).isTrue();
    assertThat(peer.requests()).extracting(Request::pathAndQuery).containsExactly(
        "/compatibility/subjects/s/versions?verbose=true",
        "/compatibility/subjects/s/versions/latest?verbose=true",
        "/compatibility/subjects/s/versions/latest?verbose=true");
  }

  @Test
  void shouldTreatASubjectWithoutVersionsAsCompatible() {
    // Given an older registry answering 40401 for a new subject
    peer.then(error(404, 40401, "Subject 'new' not found."));

    // When compatibility is tested, Then the schema is compatible
    assertThat(client().testCompatibility("new", USER)).isEqualTo(new CompatibilityResult(true, List.of()));
  }

  @Test
  void shouldReadAndWriteCompatibilityConfig() throws Exception {
    // Given answers for the global level, a subject level, a change and a delete
    peer.then(json(200, "{\"compatibilityLevel\":\"FULL\"}"),
        json(200, "{\"compatibilityLevel\":\"BACKWARD_TRANSITIVE\"}"),
        json(200, "{\"compatibility\":\"FORWARD\"}"),
        json(200, "{\"compatibilityLevel\":\"FORWARD\"}"));
    RestSchemaRegistryClient client = client();

    // When they are asked for
    CompatibilityLevel global = client.getCompatibility(null);
    CompatibilityLevel subject = client.getCompatibility("s");
    CompatibilityLevel set = client.setCompatibility("s", CompatibilityLevel.FORWARD);
    CompatibilityLevel deleted = client.deleteSubjectConfig("s");

    // Then the levels are parsed and the requests are Confluent's
    assertThat(List.of(global, subject, set, deleted)).containsExactly(CompatibilityLevel.FULL,
        CompatibilityLevel.BACKWARD_TRANSITIVE, CompatibilityLevel.FORWARD, CompatibilityLevel.FORWARD);
    List<Request> requests = peer.requests();
    assertThat(requests).extracting(Request::method, Request::pathAndQuery).containsExactly(
        org.assertj.core.groups.Tuple.tuple("GET", "/config"),
        org.assertj.core.groups.Tuple.tuple("GET", "/config/s?defaultToGlobal=true"),
        org.assertj.core.groups.Tuple.tuple("PUT", "/config/s"),
        org.assertj.core.groups.Tuple.tuple("DELETE", "/config/s"));
    assertThat(body(requests.get(2)).get("compatibility").asText()).isEqualTo("FORWARD");
  }

  @Test
  void shouldListAndDeleteSubjectsAndVersions() {
    // Given answers for listings and deletes
    peer.then(json(200, "[\"a-value\",\"b-value\"]"), json(200, "[1,2,3]"), json(200, "[1,2,3]"),
        json(200, "[1,2,3]"), json(200, "2"));
    RestSchemaRegistryClient client = client();

    // When subjects and versions are listed and deleted
    assertThat(client.listSubjects()).containsExactly("a-value", "b-value");
    assertThat(client.listVersions("a-value")).containsExactly(1, 2, 3);
    assertThat(client.deleteSubject("a-value", false)).containsExactly(1, 2, 3);
    assertThat(client.deleteSubject("a-value", true)).containsExactly(1, 2, 3);
    assertThat(client.deleteVersion("b-value", 2, true)).isEqualTo(2);

    // Then the requests are Confluent's
    assertThat(peer.requests()).extracting(Request::method, Request::pathAndQuery).containsExactly(
        org.assertj.core.groups.Tuple.tuple("GET", "/subjects"),
        org.assertj.core.groups.Tuple.tuple("GET", "/subjects/a-value/versions"),
        org.assertj.core.groups.Tuple.tuple("DELETE", "/subjects/a-value"),
        org.assertj.core.groups.Tuple.tuple("DELETE", "/subjects/a-value?permanent=true"),
        org.assertj.core.groups.Tuple.tuple("DELETE", "/subjects/b-value/versions/2?permanent=true"));
  }

  @Test
  void shouldForgetCachedIdsOfADeletedSubject() {
    // Given a registered (and cached) schema
    peer.then(json(200, "{\"id\":7}"), json(200, "[1]"), json(200, "{\"id\":7}"));
    RestSchemaRegistryClient client = client();
    client.register("s", USER);

    // When the subject is deleted and the schema registered again
    client.deleteSubject("s", false);
    client.register("s", USER);

    // Then the registration went to the registry again
    assertThat(peer.requests()).extracting(Request::method)
        .containsExactly("POST", "DELETE", "POST");
  }

  @Test
  void shouldParseSchemasWithReferences() {
    // Given schema 9 referencing a named type registered under another subject
    Schema money = new Schema.Parser().parse("""
        {"type": "record", "name": "Money", "namespace": "dev.flywheel.test", "fields": [
          {"name": "cents", "type": "long"}]}""");
    String payment = """
        {"type": "record", "name": "Payment", "namespace": "dev.flywheel.test", "fields": [
          {"name": "amount", "type": "dev.flywheel.test.Money"}]}""";
    peer.then(json(200, JsonNodeFactory.instance.objectNode().put("schema", payment)
            .set("references", JSON.createArrayNode().add(JSON.createObjectNode()
                .put("name", "dev.flywheel.test.Money").put("subject", "money").put("version", 1)))
            .toString()),
        json(200, versionAnswer("money", 1, 3, money)));

    // When schema 9 is fetched
    Schema schema = client().getSchemaById(9);

    // Then the reference was fetched and the schema is complete
    assertThat(schema.getField("amount").schema()).isEqualTo(money);
    assertThat(peer.requests()).extracting(Request::pathAndQuery)
        .containsExactly("/schemas/ids/9", "/subjects/money/versions/1?deleted=true");
  }

  @Test
  void shouldResolveAReferenceToASoftDeletedVersion() {
    // Given schema 9 referencing Money version 1, which was soft-deleted: the registry serves it
    // only to a request with deleted=true
    Schema money = new Schema.Parser().parse("""
        {"type": "record", "name": "Money", "namespace": "dev.flywheel.test", "fields": [
          {"name": "cents", "type": "long"}]}""");
    String payment = """
        {"type": "record", "name": "Payment", "namespace": "dev.flywheel.test", "fields": [
          {"name": "amount", "type": "dev.flywheel.test.Money"}]}""";
    String withReference = JsonNodeFactory.instance.objectNode().put("schema", payment)
        .set("references", JSON.createArrayNode().add(JSON.createObjectNode()
            .put("name", "dev.flywheel.test.Money").put("subject", "money").put("version", 1)))
        .toString();
    peer.otherwise(r -> switch (r.pathAndQuery()) {
      case "/schemas/ids/9" -> json(200, withReference);
      case "/subjects/money/versions/1?deleted=true" -> json(200, versionAnswer("money", 1, 3, money));
      default -> error(404, 40402, "Version 1 not found.");
    });

    // When schema 9 is fetched, Then it is complete
    Schema schema = client().getSchemaById(9);
    assertThat(schema.getField("amount").schema()).isEqualTo(money);
  }

  @Test
  void shouldFetchEachReferenceNameOnce() {
    // Given schema 9 referencing Money twice under the same name (at versions 1 and 2), and
    // Money referencing nothing
    Schema money = new Schema.Parser().parse("""
        {"type": "record", "name": "Money", "namespace": "dev.flywheel.test", "fields": [
          {"name": "cents", "type": "long"}]}""");
    String payment = """
        {"type": "record", "name": "Payment", "namespace": "dev.flywheel.test", "fields": [
          {"name": "amount", "type": "dev.flywheel.test.Money"}]}""";
    peer.then(json(200, JsonNodeFactory.instance.objectNode().put("schema", payment)
            .set("references", JSON.createArrayNode()
                .add(JSON.createObjectNode().put("name", "dev.flywheel.test.Money")
                    .put("subject", "money").put("version", 1))
                .add(JSON.createObjectNode().put("name", "dev.flywheel.test.Money")
                    .put("subject", "money").put("version", 2)))
            .toString()),
        json(200, versionAnswer("money", 1, 3, money)));

    // When schema 9 is fetched
    Schema schema = client().getSchemaById(9);

    // Then the name was fetched once (a second definition of Money would not parse)
    assertThat(schema.getField("amount").schema()).isEqualTo(money);
    assertThat(peer.requests()).extracting(Request::pathAndQuery)
        .containsExactly("/schemas/ids/9", "/subjects/money/versions/1?deleted=true");
  }

  @Test
  void shouldRefuseSchemasThatAreNotAvro() {
    // Given schema 4 is a Protobuf schema
    peer.then(json(200, "{\"schema\":\"syntax = \\\"proto3\\\";\",\"schemaType\":\"PROTOBUF\"}"));

    // When it is fetched, Then the error says this client reads Avro only
    assertThatThrownBy(() -> client().getSchemaById(4))
        .isInstanceOf(SchemaRegistryException.class)
        .hasMessageContaining("schema id 4 is a PROTOBUF schema; this client reads Avro only");
  }

  @Test
  void shouldBackOffExponentiallyWithJitterWithinTheCap() {
    // Given a client with a 100 ms first wait and a 1 s cap
    RestSchemaRegistryClient client = SchemaRegistryClient.builder().url("http://127.0.0.1:1")
        .initialBackoff(Duration.ofMillis(100)).maxBackoff(Duration.ofSeconds(1)).build();

    // When waits are drawn, Then each lies in [d/2, d] with d doubling up to the cap
    for (int i = 0; i < 50; i++) {
      assertThat(client.backoffMs(0, 0)).isBetween(50L, 100L);
      assertThat(client.backoffMs(2, 0)).isBetween(200L, 400L);
      assertThat(client.backoffMs(10, 0)).isBetween(500L, 1000L);
      assertThat(client.backoffMs(0, 700)).isEqualTo(700L);
      assertThat(client.backoffMs(0, 5_000)).isEqualTo(1000L);
    }
  }

  @Test
  void shouldRefuseIncompleteOrContradictoryBuilders() {
    // Given builders without URL, with a bad URL, or with two kinds of credentials
    // When they are built, Then each says what is wrong (without showing credentials)
    assertThatThrownBy(() -> SchemaRegistryClient.builder().build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("URL is required");
    assertThatThrownBy(() -> SchemaRegistryClient.builder().url("ftp://u:secret@host"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("expected http://host:port")
        .hasMessageNotContaining("secret");
    assertThatThrownBy(() -> SchemaRegistryClient.builder().url("http://h:1").basicAuth("u", "p")
        .bearerToken("t").build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("not both");
  }
}
