package dev.flywheel.featurestreams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.events.FeatureVector;
import dev.flywheel.topics.DeadLetterHeaders;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;

/**
 * Events whose text values are too long for a Kafka record to carry what they lead to: the
 * entity's state (held events keep their text whole, and each tile its first and last text) or
 * the event's vector (first/last features of the text). Without a check, such a record is refused
 * by the producer on every retry and its task's partitions stall. The processor folds the held
 * events into their tiles when that makes the state fit, and otherwise dead-letters the event with
 * the reason and keeps the entity's state as it was; every applied vector stays exact.
 */
class OversizedStateTest {

  /** Kafka's default {@code max.request.size}, which the test driver's producer settings keep. */
  private static final int MAX_RECORD_BYTES = 1024 * 1024;

  private static final long T0 = 1_790_000_040_000L - 1_790_000_040_000L % 60_000;

  private static FeatureStreamsConfig config(String features) {
    return FeatureStreamsConfig.parse("""
        featureGroups:
          - name: g
            source: transactions
            entityKey: card_id
            features:
        """ + features);
  }

  /** A transaction of {@code card} at {@code timeMs} paying a merchant of {@code chars} letters. */
  private static TransactionSource.Tx tx(int seq, String card, long timeMs, int chars) {
    String merchant = "m" + seq + "-" + "x".repeat(Math.max(0, chars - 8));
    return new TransactionSource.Tx("e-" + seq, card, merchant, "grocery", 10 + seq, "FR", "POS",
        timeMs);
  }

  @Test
  void shouldFoldHeldTextIntoTilesAndRefuseOnlyEventsWhoseStateCannotFitARecord() {
    // Given a group that keeps the last merchant and the distinct merchants of 10 minutes
    FeatureStreamsConfig config = config("""
              - {name: last_merchant_10m, agg: last, field: merchant, window: 10m}
              - {name: merchants_10m, agg: distinct_count, field: merchant, window: 10m}
              - {name: tx_10m, agg: count, window: 10m}
        """);
    FeatureGroupConfig g = config.group("g");
    List<TransactionSource.Tx> txs = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      // 300,000-letter merchant names, 10 s apart: two one-minute tiles
      txs.add(tx(i, "card-1", T0 + i * 10_000L, 300_000));
    }

    // When they go through the topology one by one
    List<Integer> stateSizes = new ArrayList<>();
    List<TestRecord<String, FeatureVector>> vectors;
    List<String> refused = new ArrayList<>();
    List<String> errors = new ArrayList<>();
    double counted;
    try (FeatureDriver driver = new FeatureDriver(config)) {
      KeyValueStore<String, byte[]> state =
          driver.driver.getKeyValueStore(FeatureTopology.stateStoreName("g"));
      for (TransactionSource.Tx tx : txs) {
        driver.send(tx);
        stateSizes.add(state.get("card-1").length);
      }
      vectors = driver.features.readRecordsToList();
      var data = driver.topics.data(TransactionSource.NAME);
      for (TestRecord<byte[], byte[]> dead : driver.deadLetters.readRecordsToList()) {
        errors.add(new String(dead.headers().lastHeader(DeadLetterHeaders.ERROR).value(),
            StandardCharsets.UTF_8));
        GenericRecord tx = data.valueSerde().deserializer().deserialize(data.name(), dead.value());
        refused.add(tx.get("event_id").toString());
      }
      counted = driver.counter(AggregateProcessor.OVERSIZED_EVENTS, "g");
    }

    // Then no state ever written is larger than a record may be, though 4 held events would be
    assertThat(stateSizes).allSatisfy(size -> assertThat(size).isLessThan(MAX_RECORD_BYTES));
    // and the 4th event fitted by folding the held ones into their tile, so it was applied
    assertThat(refused).doesNotContain("e-3").isNotEmpty();
    // and the refused events are those of the 2nd minute once its tile and the 1st cannot fit
    assertThat(refused).containsExactly("e-7", "e-8", "e-9", "e-10", "e-11");
    assertThat(counted).isEqualTo(refused.size());
    assertThat(errors).allSatisfy(error -> assertThat(error)
        .contains("state of entity 'card-1' in feature group 'g'", "max.request.size",
            "text field 'merchant'", "shorten them at the source"));

    // and every applied event's vector equals brute force over the applied events only
    assertThat(vectors).hasSize(txs.size() - refused.size());
    List<TransactionSource.Tx> applied = new ArrayList<>();
    List<String> mismatches = new ArrayList<>();
    int v = 0;
    for (TransactionSource.Tx tx : txs) {
      if (refused.contains(tx.eventId())) {
        continue;
      }
      applied.add(tx);
      FeatureVector vector = vectors.get(v++).value();
      assertThat(vector.getEventId()).isEqualTo(tx.eventId());
      Map<String, Object> expected = BruteForce.features(g, applied, tx, tx.timeMs());
      RandomizedCorrectnessTest.compare(g, expected, vector, mismatches);
    }
    assertThat(mismatches).as("features differing from brute force").isEmpty();
  }

  @Test
  void shouldRefuseAnEventWhoseVectorCannotFitARecordAsIfItNeverCame() {
    // Given a group with the first and the last merchant of 10 minutes
    FeatureStreamsConfig config = config("""
              - {name: first_merchant_10m, agg: first, field: merchant, window: 10m}
              - {name: last_merchant_10m, agg: last, field: merchant, window: 10m}
              - {name: tx_10m, agg: count, window: 10m}
        """);
    FeatureGroupConfig g = config.group("g");
    TransactionSource.Tx huge = tx(1, "card-1", T0, 600_000);
    TransactionSource.Tx next = tx(2, "card-1", T0 + 1_000, 20);

    // When a card's first transaction has a merchant name that fills more than half a record (so
    // its vector would carry that name twice: as first and as last), and an ordinary one follows
    List<TestRecord<String, FeatureVector>> vectors;
    List<TestRecord<byte[], byte[]>> dead;
    try (FeatureDriver driver = new FeatureDriver(config)) {
      driver.send(huge);
      assertThat(driver.driver.<String, byte[]>getKeyValueStore(
          FeatureTopology.stateStoreName("g")).get("card-1")).as("state after it").isNull();
      driver.send(next);
      vectors = driver.features.readRecordsToList();
      dead = driver.deadLetters.readRecordsToList();
    }

    // Then it is dead-lettered with the reason, naming the feature that holds the text
    assertThat(dead).hasSize(1);
    assertThat(new String(dead.get(0).headers().lastHeader(DeadLetterHeaders.ERROR).value(),
        StandardCharsets.UTF_8))
        .contains("feature vector of event 'e-1' of entity 'card-1'", "max.request.size",
            "_merchant_10m' of feature group 'g'");
    // and the next event's vector is as if it never came
    assertThat(vectors).extracting(r -> r.value().getEventId()).containsExactly("e-2");
    List<String> mismatches = new ArrayList<>();
    RandomizedCorrectnessTest.compare(g, BruteForce.features(g, List.of(next), next,
        next.timeMs()), vectors.get(0).value(), mismatches);
    assertThat(mismatches).isEmpty();
    assertThat(vectors.get(0).value().getCategoricalFeatures().get("first_merchant_10m"))
        .isEqualTo(next.merchant());
  }
}
