package dev.flywheel.ingest.dlq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flywheel.registry.InMemorySchemaRegistryClient;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.DeadLetterHeaders;
import dev.flywheel.topics.RecordSize;
import dev.flywheel.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

class DeadLetterWriterTest {

  private final Topics topics = Topics.builder(
      new AvroSerdes(new InMemorySchemaRegistryClient(), Map.of("schema.registry.url", "mock://dlq")))
      .prefix("acme").build();
  private final MockProducer<byte[], byte[]> producer = new MockProducer<>(true, null,
      new ByteArraySerializer(), new ByteArraySerializer());
  private final DeadLetterWriter writer = new DeadLetterWriter(producer, topics, "flywheel-test",
      Clock.fixed(Instant.ofEpochMilli(1234), ZoneOffset.UTC));

  private static String header(ProducerRecord<byte[], byte[]> record, String name) {
    Header header = record.headers().lastHeader(name);
    return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
  }

  @Test
  void shouldWriteTheOriginalTextWithErrorSourceAndOrigin() {
    String topic = topics.data("card-tx").name();
    writer.write(DeadLetter.of(topic, "{\"amount\": \"x\"}")
        .key("c-1")
        .error("amount: expected a number")
        .source("card-tx")
        .origin(DeadLetterHeaders.origin("events.jsonl", 42))
        .header(DeadLetterHeaders.FILE, "events.jsonl")
        .header(DeadLetterHeaders.LINE, "42")
        .build());

    assertThat(producer.history()).hasSize(1);
    ProducerRecord<byte[], byte[]> sent = producer.history().get(0);
    assertThat(sent.topic()).isEqualTo("acme.flywheel.data.card-tx.dlq");
    assertThat(new String(sent.key(), StandardCharsets.UTF_8)).isEqualTo("c-1");
    assertThat(new String(sent.value(), StandardCharsets.UTF_8)).isEqualTo("{\"amount\": \"x\"}");
    assertThat(header(sent, DeadLetterHeaders.ERROR)).isEqualTo("amount: expected a number");
    assertThat(header(sent, DeadLetterHeaders.SOURCE)).isEqualTo("card-tx");
    assertThat(header(sent, DeadLetterHeaders.ORIGIN)).isEqualTo("events.jsonl:42");
    assertThat(header(sent, DeadLetterHeaders.FILE)).isEqualTo("events.jsonl");
    assertThat(header(sent, DeadLetterHeaders.LINE)).isEqualTo("42");
    assertThat(header(sent, DeadLetterHeaders.PROCESSOR)).isEqualTo("flywheel-test");
    assertThat(header(sent, DeadLetterHeaders.FAILED_AT)).isEqualTo("1234");
    assertThat(header(sent, DeadLetterHeaders.ERROR_CLASS)).isNull();
  }

  @Test
  void shouldKeepOriginalBytesAndTheRejectingException() {
    byte[] original = {0, 0, 0, 0, 7, 1};
    writer.write(DeadLetter.of("acme.flywheel.features", original)
        .cause(new IllegalStateException("unknown schema id 7"))
        .origin(DeadLetterHeaders.origin("acme.flywheel.features", 2, 99))
        .build());

    ProducerRecord<byte[], byte[]> sent = producer.history().get(0);
    assertThat(sent.topic()).isEqualTo("acme.flywheel.features.dlq");
    assertThat(sent.value()).containsExactly(original);
    assertThat(sent.key()).isNull();
    assertThat(header(sent, DeadLetterHeaders.ERROR)).isEqualTo("unknown schema id 7");
    assertThat(header(sent, DeadLetterHeaders.ERROR_CLASS))
        .isEqualTo(IllegalStateException.class.getName());
    assertThat(header(sent, DeadLetterHeaders.ORIGIN)).isEqualTo("acme.flywheel.features/2/99");
    assertThat(header(sent, DeadLetterHeaders.SOURCE)).isNull();
  }

  @Test
  void shouldRefuseToDeadLetterADeadLetterTopic() {
    DeadLetter letter = DeadLetter.of("acme.flywheel.features.dlq", new byte[0]).error("x")
        .origin("o").build();

    assertThatThrownBy(() -> writer.write(letter))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("already a dead-letter topic");
    assertThat(producer.history()).isEmpty();
  }

  @Test
  void shouldRequireErrorAndOrigin() {
    assertThatThrownBy(() -> DeadLetter.of("t", "x").origin("o").build())
        .isInstanceOf(NullPointerException.class).hasMessage("error");
    assertThatThrownBy(() -> DeadLetter.of("t", "x").error("e").build())
        .isInstanceOf(NullPointerException.class).hasMessage("origin");
  }

  @Test
  void shouldTruncateAValueTooLargeForTheProducerAndSayHowLargeItWas() {
    // Given a writer for a producer that accepts records up to 4096 bytes
    DeadLetterWriter small = new DeadLetterWriter(producer, topics, "flywheel-test",
        Clock.fixed(Instant.ofEpochMilli(1234), ZoneOffset.UTC), 4096);
    byte[] original = new byte[10_000];
    Arrays.fill(original, (byte) 'x');

    // When a 10000-byte body is dead-lettered
    small.write(DeadLetter.of(topics.data("card-tx").name(), original).key("c-1")
        .error("malformed JSON").origin("http:/ingest/card-tx").build());

    // Then its value is cut to fit, the headers say so, and the rest is kept whole
    ProducerRecord<byte[], byte[]> sent = producer.history().get(0);
    assertThat(RecordSize.upperBound(sent.key(), sent.value(), sent.headers().toArray()))
        .isLessThanOrEqualTo(4096).isGreaterThan(4000);
    assertThat(original).startsWith(sent.value());
    assertThat(header(sent, DeadLetterHeaders.VALUE_TRUNCATED)).isEqualTo("true");
    assertThat(header(sent, DeadLetterHeaders.VALUE_SIZE)).isEqualTo("10000");
    assertThat(header(sent, DeadLetterHeaders.ERROR)).isEqualTo("malformed JSON");
    assertThat(new String(sent.key(), StandardCharsets.UTF_8)).isEqualTo("c-1");
  }

  @Test
  void shouldKeepAValueThatFitsWhole() {
    DeadLetterWriter small = new DeadLetterWriter(producer, topics, "flywheel-test",
        Clock.fixed(Instant.ofEpochMilli(1234), ZoneOffset.UTC), 4096);

    small.write(DeadLetter.of(topics.data("card-tx").name(), "{}").error("e").origin("o").build());

    ProducerRecord<byte[], byte[]> sent = producer.history().get(0);
    assertThat(new String(sent.value(), StandardCharsets.UTF_8)).isEqualTo("{}");
    assertThat(header(sent, DeadLetterHeaders.VALUE_TRUNCATED)).isNull();
  }

  @Test
  void shouldTruncateByDefaultToKafkasDefaultMaxRequestSize() {
    // Given the default writer and a body over 1 MiB (a 10 MiB HTTP body can be malformed)
    byte[] original = new byte[2 * 1024 * 1024];

    writer.write(DeadLetter.of(topics.data("card-tx").name(), original).error("malformed JSON")
        .origin("http:/ingest/card-tx").build());

    ProducerRecord<byte[], byte[]> sent = producer.history().get(0);
    assertThat(RecordSize.upperBound(sent.key(), sent.value(), sent.headers().toArray()))
        .isLessThanOrEqualTo(1024 * 1024);
    assertThat(header(sent, DeadLetterHeaders.VALUE_SIZE)).isEqualTo(Integer.toString(2 << 20));
  }

  @Test
  void shouldKeepTheLetterWithoutItsValueWhenTheTopicRefusesItAsTooLarge() throws Exception {
    // Given a producer whose broker refuses the first record as too large (the dead-letter
    // topic's max.message.bytes is below the producer's max.request.size)
    MockProducer<byte[], byte[]> manual = new MockProducer<>(false, null,
        new ByteArraySerializer(), new ByteArraySerializer());
    DeadLetterWriter writer = new DeadLetterWriter(manual, topics, "flywheel-test",
        Clock.fixed(Instant.ofEpochMilli(1234), ZoneOffset.UTC));
    byte[] original = new byte[5_000];

    // When a letter is written and refused
    Future<RecordMetadata> written = writer.write(DeadLetter.of(
        topics.data("card-tx").name(), original).key("c-1").error("too large for Kafka")
        .origin("lsn:42").build());
    manual.errorNext(new RecordTooLargeException("over max.message.bytes"));

    // Then it is sent again without its value, saying how large the value was, and the write
    // completes once that is acknowledged
    assertThat(manual.history()).hasSize(2);
    ProducerRecord<byte[], byte[]> bare = manual.history().get(1);
    assertThat(bare.value()).isEmpty();
    assertThat(header(bare, DeadLetterHeaders.VALUE_TRUNCATED)).isEqualTo("true");
    assertThat(header(bare, DeadLetterHeaders.VALUE_SIZE)).isEqualTo("5000");
    assertThat(header(bare, DeadLetterHeaders.ERROR)).isEqualTo("too large for Kafka");
    assertThat(new String(bare.key(), StandardCharsets.UTF_8)).isEqualTo("c-1");
    assertThat(written).isNotDone();
    manual.completeNext();
    assertThat(written.get(5, TimeUnit.SECONDS).topic()).isEqualTo(bare.topic());
  }
}
