package dev.flywheel.ingest.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.flywheel.events.Label;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.FutureTask;
import java.util.concurrent.Future;
import java.util.function.Function;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

class TransactionalBatchWriterTest {

  private final List<MockProducer<String, GenericRecord>> created = new ArrayList<>();
  private final List<String> ids = new ArrayList<>();
  /** How many commits, of any producer, time out before one goes through. */
  private int commitTimeouts;
  /** When set, every send fails at once with it, as a send that found no metadata does. */
  private RuntimeException refuseSends;
  private int sends;
  /** The number of the send (counting from 1) that fails at once as too large; 0 for none. */
  private int refuseSendNumber;
  /** When set, sends stay pending until the commit, which fails them with it, then fails. */
  private TimeoutException expireAtCommit;
  private final List<CompletableFuture<RecordMetadata>> pending = new ArrayList<>();
  /** When set, the initTransactions of every producer created from now on fails with it. */
  private RuntimeException refuseInit;
  /** When set, the commit and abort of every producer created from now on fail with it. */
  private ProducerFencedException fenceNew;
  /** When set, every send waits until it is opened, after counting down {@link #sendEntered}. */
  private volatile CountDownLatch sendGate;
  private final CountDownLatch sendEntered = new CountDownLatch(1);

  private TransactionalBatchWriter writer(int size) {
    return new TransactionalBatchWriter(this::producer, "ingest-a", size, Duration.ofSeconds(1));
  }

  /** A pool whose producers' metrics are bound to {@code registry} as ingest binds them. */
  private TransactionalBatchWriter writer(int size, MeterRegistry registry) {
    Function<Producer<String, GenericRecord>, AutoCloseable> bind =
        producer -> IngestService.bindMetrics(producer, registry);
    return new TransactionalBatchWriter(this::producer, bind, "ingest-a", size,
        Duration.ofSeconds(1));
  }

  /**
   * A mock producer with one client metric, {@code producer-metrics:record-send-total}, tagged
   * {@code client-id=<transactional id>#<how many were created before>}.
   */
  private MockProducer<String, GenericRecord> producer(String id) {
    ids.add(id);
    MockProducer<String, GenericRecord> producer = new MockProducer<>(true, null,
        new StringSerializer(), (topic, record) -> new byte[0]) {
      @Override
      public void commitTransaction() {
        if (expireAtCommit != null) {
          pending.forEach(f -> f.completeExceptionally(expireAtCommit));
          throw new KafkaException("Cannot execute transactional method because we are in an"
              + " error state", expireAtCommit);
        }
        if (commitTimeouts > 0) {
          commitTimeouts--;
          throw new TimeoutException("Timeout expired after 30000ms while awaiting EndTxn");
        }
        super.commitTransaction();
      }

      @Override
      public synchronized Future<RecordMetadata> send(ProducerRecord<String, GenericRecord> r) {
        sends++;
        CountDownLatch gate = sendGate;
        if (gate != null) {
          sendEntered.countDown();
          try {
            gate.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
        if (expireAtCommit != null) {
          CompletableFuture<RecordMetadata> future = new CompletableFuture<>();
          pending.add(future);
          return future;
        }
        if (sends == refuseSendNumber) {
          return CompletableFuture.failedFuture(new RecordTooLargeException("The message is 9000"
              + " bytes when serialized which is larger than 4096, which is the value of the"
              + " max.request.size configuration."));
        }
        return refuseSends == null ? super.send(r)
            : CompletableFuture.failedFuture(refuseSends);
      }
    };
    producer.initTransactionException = refuseInit;
    producer.commitTransactionException = fenceNew;
    producer.abortTransactionException = fenceNew;
    MetricName sendTotal = new MetricName("record-send-total", "producer-metrics", "",
        Map.of("client-id", id + "#" + created.size()));
    producer.setMockMetrics(sendTotal, new Metric() {
      @Override
      public MetricName metricName() {
        return sendTotal;
      }

      @Override
      public Object metricValue() {
        return 0.0;
      }
    });
    created.add(producer);
    return producer;
  }

  /** The {@code client.id} tag of every Kafka client meter in {@code registry}. */
  private static List<String> boundClients(MeterRegistry registry) {
    return registry.getMeters().stream()
        .filter(m -> m.getId().getName().startsWith("kafka."))
        .map(Meter::getId).map(id -> id.getTag("client.id")).toList();
  }

  private static List<ProducerRecord<String, GenericRecord>> batch(int records) {
    List<ProducerRecord<String, GenericRecord>> batch = new ArrayList<>();
    for (int i = 0; i < records; i++) {
      batch.add(new ProducerRecord<>("t", 0, "k" + i, new GenericData.Record(
          Label.getClassSchema())));
    }
    return batch;
  }

  @Test
  void shouldGiveEachSlotItsOwnTransactionalId() {
    // When a pool of three is created
    try (TransactionalBatchWriter ignored = writer(3)) {
      // Then each producer has <prefix>-<slot> and initialized its transactions
      assertThat(ids).containsExactly("ingest-a-0", "ingest-a-1", "ingest-a-2");
      assertThat(created).allMatch(MockProducer::transactionInitialized);
    }
  }

  @Test
  void shouldWriteABatchInOneCommittedTransaction() throws Exception {
    try (TransactionalBatchWriter writer = writer(1)) {
      // When a batch of three is written
      List<RecordMetadata> written = writer.write(batch(3));

      // Then all three were sent in one transaction that committed
      assertThat(written).hasSize(3);
      MockProducer<String, GenericRecord> producer = created.get(0);
      assertThat(producer.history()).hasSize(3);
      assertThat(producer.transactionCommitted()).isTrue();
      assertThat(producer.transactionAborted()).isFalse();
    }
  }

  @Test
  void shouldAbortTheTransactionWhenTheCommitFails() {
    try (TransactionalBatchWriter writer = writer(1)) {
      // Given a producer whose commit fails, as when the broker refused a record
      MockProducer<String, GenericRecord> producer = created.get(0);
      producer.commitTransactionException = new KafkaException("record too large");

      // When a batch is written, Then it fails as aborted
      assertThatThrownBy(() -> writer.write(batch(2)))
          .isInstanceOfSatisfying(TransactionalBatchWriter.BatchFailedException.class,
              e -> assertThat(e.aborted()).isTrue())
          .hasMessageContaining("record too large");
      assertThat(producer.transactionAborted()).isTrue();
      assertThat(producer.transactionCommitted()).isFalse();
      assertThat(producer.closed()).isFalse();
    }
  }

  @Test
  void shouldReplaceAProducerThatCannotAbort() throws Exception {
    try (TransactionalBatchWriter writer = writer(1)) {
      // Given a fenced producer: neither commit nor abort works
      MockProducer<String, GenericRecord> fenced = created.get(0);
      fenced.commitTransactionException = new ProducerFencedException("fenced");
      fenced.abortTransactionException = new ProducerFencedException("fenced");

      // When a batch is written, Then its outcome is reported as not certainly aborted
      assertThatThrownBy(() -> writer.write(batch(1)))
          .isInstanceOfSatisfying(TransactionalBatchWriter.BatchFailedException.class,
              e -> assertThat(e.aborted()).isFalse());

      // and the producer is closed and replaced by one with the same transactional id
      assertThat(fenced.closed()).isTrue();
      assertThat(writer.write(batch(1))).hasSize(1);
      assertThat(ids).containsExactly("ingest-a-0", "ingest-a-0");
      assertThat(created.get(1).transactionCommitted()).isTrue();
    }
  }

  @Test
  void shouldUnbindTheMetricsOfEveryProducerItReplaces() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (TransactionalBatchWriter writer = writer(1, registry)) {
      // Given a pool of one whose producer's metrics are bound
      assertThat(boundClients(registry)).containsExactly("ingest-a-0#0");

      // When its producer, and each one replacing it, is fenced, so replaced, on each of five
      // batches, and the next batch goes through a sixth producer
      fenceNew = new ProducerFencedException("fenced");
      created.get(0).commitTransactionException = fenceNew;
      created.get(0).abortTransactionException = fenceNew;
      for (int i = 0; i < 5; i++) {
        assertThatThrownBy(() -> writer.write(batch(1)))
            .isInstanceOfSatisfying(TransactionalBatchWriter.BatchFailedException.class,
                e -> assertThat(e.aborted()).isFalse());
      }
      fenceNew = null;
      assertThat(writer.write(batch(1))).hasSize(1);

      // Then only the sixth producer's metrics are bound: the five replaced ones were unbound
      assertThat(created).hasSize(6);
      assertThat(boundClients(registry)).containsExactly("ingest-a-0#5");
    }
    // and closing the pool unbinds the last
    assertThat(boundClients(registry)).isEmpty();
  }

  @Test
  void shouldNotBindTheMetricsOfAProducerThatCannotInitializeItsTransactions() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (TransactionalBatchWriter writer = writer(1, registry)) {
      // Given a pool of one whose producer was fenced, and a broker that cannot be reached, so a
      // new producer's initTransactions times out
      MockProducer<String, GenericRecord> fenced = created.get(0);
      fenced.commitTransactionException = new ProducerFencedException("fenced");
      fenced.abortTransactionException = new ProducerFencedException("fenced");
      assertThatThrownBy(() -> writer.write(batch(1)))
          .isInstanceOf(TransactionalBatchWriter.BatchFailedException.class);
      refuseInit = new TimeoutException("Timeout expired after 30000ms while awaiting"
          + " InitProducerId");

      // When three batches are posted meanwhile, each trying a new producer
      for (int i = 0; i < 3; i++) {
        assertThatThrownBy(() -> writer.write(batch(1)))
            .isInstanceOfSatisfying(TransactionalBatchWriter.BatchFailedException.class,
                e -> assertThat(e.aborted()).isTrue())
            .hasMessageContaining("cannot start a Kafka producer");
      }

      // Then none of those three had its metrics bound, and each was closed
      assertThat(created).hasSize(4);
      assertThat(created.subList(1, 4)).allMatch(MockProducer::closed);
      assertThat(boundClients(registry)).isEmpty();
      // and once the broker is back the next producer's metrics are bound
      refuseInit = null;
      assertThat(writer.write(batch(1))).hasSize(1);
      assertThat(boundClients(registry)).containsExactly("ingest-a-0#4");
    }
  }

  @Test
  void shouldCallTheOutcomeUnknownWhenTheCommitKeepsTimingOut() {
    try (TransactionalBatchWriter writer = writer(1)) {
      // Given a commit that still times out when called again for the whole timeout (it may
      // still complete on the broker)
      MockProducer<String, GenericRecord> producer = created.get(0);
      commitTimeouts = Integer.MAX_VALUE;

      // When a batch is written, Then it is not reported as aborted, and the producer is replaced
      assertThatThrownBy(() -> writer.write(batch(1)))
          .isInstanceOfSatisfying(TransactionalBatchWriter.BatchFailedException.class,
              e -> assertThat(e.aborted()).isFalse());
      assertThat(producer.transactionAborted()).isFalse();
      assertThat(producer.closed()).isTrue();
    }
  }

  @Test
  void shouldCallATimedOutCommitAgainAndReportTheBatchWritten() throws Exception {
    try (TransactionalBatchWriter writer = writer(1)) {
      // Given a commit that times out twice (the broker away for a while), then goes through
      commitTimeouts = 2;

      // When a batch is written, Then it is written, by the same producer
      assertThat(writer.write(batch(2))).hasSize(2);
      MockProducer<String, GenericRecord> producer = created.get(0);
      assertThat(producer.transactionCommitted()).isTrue();
      assertThat(producer.closed()).isFalse();
      assertThat(created).hasSize(1);
    }
  }

  @Test
  void shouldReportAbortedWhenARecordFailedEvenIfTheAbortTimesOut() throws Exception {
    try (TransactionalBatchWriter writer = writer(1)) {
      // Given records that expired while the broker was away, so the commit fails, and an abort
      // that times out too
      MockProducer<String, GenericRecord> producer = created.get(0);
      expireAtCommit = new TimeoutException("Expiring 2 record(s) for t-0: 30004 ms has passed"
          + " since batch creation");
      producer.abortTransactionException = new TimeoutException("Timeout expired after 30000ms"
          + " while awaiting EndTxn(false)");

      // When a batch is written, Then it is reported as aborted: the producer never asked to
      // commit it, and its replacement's initTransactions aborts it
      assertThatThrownBy(() -> writer.write(batch(2)))
          .isInstanceOfSatisfying(TransactionalBatchWriter.BatchFailedException.class,
              e -> assertThat(e.aborted()).isTrue())
          .hasMessageContaining("error state");
      assertThat(producer.closed()).isTrue();
      // and once the broker is back the next batch goes through a new producer
      expireAtCommit = null;
      assertThat(writer.write(batch(1))).hasSize(1);
      assertThat(ids).containsExactly("ingest-a-0", "ingest-a-0");
    }
  }

  @Test
  void shouldFailTheBatchAtTheFirstSendRefusedAtOnce() {
    try (TransactionalBatchWriter writer = writer(1)) {
      // Given sends that fail at once, as while the broker is away and metadata cannot be had
      refuseSends = new TimeoutException("Topic t not present in metadata after 2000 ms.");

      // When a batch of 20 is written, Then it fails as aborted after one send, not twenty
      assertThatThrownBy(() -> writer.write(batch(20)))
          .isInstanceOfSatisfying(TransactionalBatchWriter.BatchFailedException.class,
              e -> assertThat(e.aborted()).isTrue())
          .hasMessageContaining("not present in metadata");
      assertThat(sends).isEqualTo(1);
    }
  }

  @Test
  void shouldNameTheRecordsWhoseSendsFailedAsTooLarge() {
    try (TransactionalBatchWriter writer = writer(1)) {
      // Given a producer that refuses the third record of a batch as too large
      MockProducer<String, GenericRecord> producer = created.get(0);
      refuseSendNumber = 3;

      // When the batch is written, Then it fails as aborted, naming that record, and not as
      // shutting down
      assertThatThrownBy(() -> writer.write(batch(5)))
          .isInstanceOfSatisfying(TransactionalBatchWriter.BatchFailedException.class, e -> {
            assertThat(e.aborted()).isTrue();
            assertThat(e.shuttingDown()).isFalse();
            assertThat(e.tooLarge()).extracting(TransactionalBatchWriter.RefusedRecord::index)
                .containsExactly(2);
          });
      assertThat(producer.transactionAborted()).isTrue();
    }
  }

  @Test
  void shouldCreateNoProducerForABatchStillWaitingWhenThePoolCloses() {
    // Given a pool of one whose producer is busy sending a batch, and a second batch waiting for
    // that producer
    TransactionalBatchWriter writer = new TransactionalBatchWriter(this::producer, "ingest-a", 1,
        Duration.ofSeconds(30));
    sendGate = new CountDownLatch(1);
    FutureTask<List<RecordMetadata>> busy = new FutureTask<>(() -> writer.write(batch(1)));
    new Thread(busy, "busy-batch").start();
    await().atMost(Duration.ofSeconds(10)).until(() -> sendEntered.getCount() == 0);
    FutureTask<List<RecordMetadata>> waiting = new FutureTask<>(() -> writer.write(batch(1)));
    Thread waiter = new Thread(waiting, "waiting-batch");
    waiter.start();
    await().atMost(Duration.ofSeconds(10))
        .until(() -> waiter.getState() == Thread.State.TIMED_WAITING);

    // When the pool closes, and then the busy batch's send returns and frees the producer's slot
    writer.close();
    sendGate.countDown();

    // Then the waiting batch fails as refused by a shutting-down ingest, none of it written
    await().atMost(Duration.ofSeconds(30)).until(() -> busy.isDone() && waiting.isDone());
    assertThatThrownBy(waiting::get).cause()
        .isInstanceOfSatisfying(TransactionalBatchWriter.BatchFailedException.class, e -> {
          assertThat(e.shuttingDown()).isTrue();
          assertThat(e.aborted()).isTrue();
        })
        .hasMessageContaining("shutting down");
    // and no producer was created for it: the pool's only producer is closed
    assertThat(created).hasSize(1).allMatch(MockProducer::closed);
  }

  @Test
  void shouldRefuseABatchAfterClosingWithoutCreatingAProducer() {
    // Given a closed pool
    TransactionalBatchWriter writer = writer(2);
    writer.close();

    // When a batch is written, Then it fails as shutting down, and no producer is created
    assertThatThrownBy(() -> writer.write(batch(1)))
        .isInstanceOfSatisfying(TransactionalBatchWriter.BatchFailedException.class,
            e -> assertThat(e.shuttingDown()).isTrue());
    assertThat(created).hasSize(2).allMatch(MockProducer::closed);
  }

  @Test
  void shouldCallTheOutcomeUnknownWhenTheCommitIsInterruptedWithEveryRecordAcknowledged() {
    try (TransactionalBatchWriter writer = writer(1)) {
      // Given a commit interrupted after every record was acknowledged (it may have been asked
      // for), and an abort the producer refuses until that commit is called again
      MockProducer<String, GenericRecord> producer = created.get(0);
      producer.commitTransactionException = new InterruptException("interrupted");
      Thread.interrupted(); // the exception interrupts the thread that makes it
      producer.abortTransactionException = new KafkaException("Cannot attempt operation"
          + " `abortTransaction` because the previous call to `commitTransaction` timed out and"
          + " must be retried");

      // When a batch is written, Then its outcome is unknown, not "none of it was written"
      assertThatThrownBy(() -> writer.write(batch(2)))
          .isInstanceOfSatisfying(TransactionalBatchWriter.BatchFailedException.class,
              e -> assertThat(e.aborted()).isFalse());
      assertThat(producer.closed()).isTrue();
    }
  }
}
