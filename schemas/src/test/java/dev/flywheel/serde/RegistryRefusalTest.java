package dev.flywheel.serde;

import static dev.flywheel.registry.ScriptedRegistryPeer.error;
import static dev.flywheel.registry.ScriptedRegistryPeer.text;
import static dev.flywheel.serde.TestSchemas.wire;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flywheel.registry.ScriptedRegistryPeer;
import dev.flywheel.registry.ScriptedRegistryPeer.Reply;
import dev.flywheel.registry.SchemaRegistryClient;
import dev.flywheel.registry.SchemaRegistryException;
import java.time.Duration;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A record whose writer schema cannot be fetched because the registry refuses this client, or the
 * URL does not lead to a registry, is not the record's fault: readers must retry it, not
 * dead-letter it, and the message says what to fix.
 */
class RegistryRefusalTest {

  private static final String TOPIC = "flywheel.features";
  private static final byte[] FINE = wire(9, new byte[] {2, 'a', 4});

  private ScriptedRegistryPeer peer;
  private AvroDeserializer<GenericRecord> deserializer;

  @BeforeEach
  void start() throws Exception {
    peer = ScriptedRegistryPeer.start();
    deserializer = new AvroDeserializer<>(SchemaRegistryClient.builder().url(peer.url())
        .maxRetries(0).initialBackoff(Duration.ofMillis(1)).build());
  }

  @AfterEach
  void stop() {
    peer.close();
  }

  private SerializationException readWhileTheRegistryAnswers(Reply reply) {
    peer.otherwise(r -> reply);
    Throwable thrown = org.assertj.core.api.Assertions.catchThrowable(
        () -> deserializer.deserialize(TOPIC, FINE));
    assertThat(thrown).isInstanceOf(SerializationException.class);
    return (SerializationException) thrown;
  }

  @Test
  void shouldNotBlameTheRecordWhenTheRegistryRefusesTheCredentials() {
    // Given a registry answering 401 (an expired token, a rotated password)
    // When a well-formed record is read
    SerializationException e = readWhileTheRegistryAnswers(
        error(401, 40101, "Unauthorized"));

    // Then readers retry it rather than dead-letter it, and the message says to fix credentials
    assertThat(SchemaRegistryException.isRetriableCause(e)).isTrue();
    assertThat(e.getMessage()).doesNotContain("unknown schema id")
        .contains("refused the credentials (HTTP 401)").contains("basic.auth.user.info")
        .contains("bearer.auth.token");
  }

  @Test
  void shouldNotBlameTheRecordWhenTheRegistryDeniesAccess() {
    // Given a registry answering 403 (an ACL without read access to the subject)
    // When a well-formed record is read
    SerializationException e = readWhileTheRegistryAnswers(
        error(403, 40301, "User cannot access the resource."));

    // Then readers retry it, and the message says to grant access
    assertThat(SchemaRegistryException.isRetriableCause(e)).isTrue();
    assertThat(e.getMessage()).doesNotContain("unknown schema id")
        .contains("denied access (HTTP 403)").contains("grant these credentials read access");
  }

  @Test
  void shouldNotBlameTheRecordWhenAProxyAsksForCredentials() {
    // Given a proxy answering 407 with its own page
    // When a well-formed record is read
    SerializationException e = readWhileTheRegistryAnswers(
        text(407, "<html>Proxy Authentication Required</html>"));

    // Then readers retry it, and the message names the proxy
    assertThat(SchemaRegistryException.isRetriableCause(e)).isTrue();
    assertThat(e.getMessage()).contains("(HTTP 407)").contains("proxy");
  }

  @Test
  void shouldNotBlameTheRecordWhenTheUrlIsNotASchemaRegistry() {
    // Given a URL with a wrong base path, whose web server answers 404 with an HTML page
    // When a well-formed record is read
    SerializationException e = readWhileTheRegistryAnswers(
        text(404, "<html><body>Not Found</body></html>"));

    // Then readers retry it, and the message says to fix the URL, not that the id is unknown
    assertThat(SchemaRegistryException.isRetriableCause(e)).isTrue();
    assertThat(e.getMessage()).doesNotContain("unknown schema id")
        .contains("schema.registry.url does not lead to a schema registry (HTTP 404")
        .contains("fix the URL");
  }

  @Test
  void shouldNotBlameTheRecordWhenTheRegistryTimesOutTheRequest() {
    // Given a registry (or a proxy) answering 408
    // When a well-formed record is read
    SerializationException e = readWhileTheRegistryAnswers(text(408, "Request Timeout"));

    // Then readers retry it
    assertThat(SchemaRegistryException.isRetriableCause(e)).isTrue();
    assertThat(e.getMessage()).doesNotContain("unknown schema id");
  }

  @Test
  void shouldBlameTheRecordOnlyWhenTheRegistryDoesNotKnowItsSchemaId() {
    // Given a registry that answers it has no schema 9 (error code 40403)
    // When the record is read
    SerializationException e = readWhileTheRegistryAnswers(
        error(404, SchemaRegistryException.SCHEMA_NOT_FOUND, "Schema 9 not found"));

    // Then the record is bad: an unknown schema id, not to be retried
    assertThat(SchemaRegistryException.isRetriableCause(e)).isFalse();
    assertThat(e.getMessage()).contains("unknown schema id 9");
  }

  @Test
  void shouldNotCallAnotherRegistryNotFoundAnUnknownSchemaId() {
    // Given a registry answering a 404 with another registry error code (a subject not found)
    // When the record is read, Then the message carries the registry's answer, not "unknown id"
    assertThatThrownBy(() -> {
      peer.otherwise(r -> error(404, SchemaRegistryException.SUBJECT_NOT_FOUND,
          "Subject 'x' not found."));
      deserializer.deserialize(TOPIC, FINE);
    }).isInstanceOf(SerializationException.class)
        .hasMessageNotContaining("unknown schema id")
        .hasMessageContaining("error_code 40401");
  }
}
