package dev.flywheel.devstack.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.registry.StoreRecord.ConfigRecord;
import dev.flywheel.registry.CompatibilityLevel;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** How a write to the schema topic that fails is reported; no broker, a {@link MockProducer}. */
class KafkaSchemaLogTest {

  private static final StoreRecord RECORD = new ConfigRecord(null, CompatibilityLevel.FULL);

  private final MockProducer<byte[], byte[]> producer =
      new MockProducer<>(false, null, new ByteArraySerializer(), new ByteArraySerializer());
  private KafkaSchemaLog log;

  @AfterEach
  void close() {
    log.close();
  }

  @Test
  void shouldAnswer50002SayingTheWriteMayHaveLandedWhenTheProducerGivesUp() {
    // Given a writer whose record is sent but never acknowledged, with time to wait for it
    log = new KafkaSchemaLog("127.0.0.1:1", "_schemas", Duration.ofSeconds(30));
    log.openWriter(producer);
    CompletableFuture<Void> append = CompletableFuture.runAsync(() -> log.append(RECORD));
    await().atMost(Duration.ofSeconds(10)).until(() -> producer.history().size() == 1);

    // When the producer expires it, as on its delivery timeout
    producer.errorNext(new TimeoutException("Expiring 1 record(s) for _schemas-0"));

    // Then the registry answers 50002, without claiming that nothing was written
    RegistryException failure = (RegistryException) catchThrowableOfType(CompletionException.class,
        append::join).getCause();
    assertThat(failure.errorCode()).isEqualTo(50002);
    assertThat(failure.httpStatus()).isEqualTo(500);
    assertThat(failure.getMessage()).contains("timed out")
        .contains("may or may not have been written").contains("retry");
  }

  @Test
  void shouldAnswer50002SayingTheWriteMayHaveLandedWhenNoAnswerComesInTime() {
    // Given a writer whose record is sent but never acknowledged nor expired, waiting 0.1 s
    log = new KafkaSchemaLog("127.0.0.1:1", "_schemas", Duration.ofMillis(100));
    log.openWriter(producer);

    // When it is appended
    RegistryException failure = catchThrowableOfType(RegistryException.class,
        () -> log.append(RECORD));

    // Then the wait ends with 50002, without claiming that nothing was written
    assertThat(producer.history()).hasSize(1);
    assertThat(failure.errorCode()).isEqualTo(50002);
    assertThat(failure.getMessage()).contains("timed out")
        .contains("may or may not have been written").contains("retry");
  }
}
