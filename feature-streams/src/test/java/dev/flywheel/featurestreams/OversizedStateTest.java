package dev.flywheel.featurestreams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.events.FeatureVector;
import dev.flywheel.registry.InMemorySchemaRegistryClient;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.DeadLetterHeaders;
import dev.flywheel.topics.RecordSize;
import dev.flywheel.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
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
    double sealed;
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
      counted = outcome(driver, "dead_lettered");
      sealed = outcome(driver, "sealed");
    }

    // Then no state ever written is larger than a record may be, though 4 held events would be
    assertThat(stateSizes).allSatisfy(size -> assertThat(size).isLessThan(MAX_RECORD_BYTES));
    // and from the 4th event on, each fitted by folding the held ones but the latest into their
    // tile, until the 2nd minute's tile and the 1st could not fit together
    assertThat(sealed).isEqualTo(4);
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

  @Test
  void shouldKeepTheLatestEventHeldSoThatTheOnlineVectorComputedAgainLeavesItOut() {
    // Given a group with the time since the previous event, and an entity with two events
    FeatureGroupPlan plan = FeatureGroupPlan.of(config("""
              - {name: since_last, agg: time_since_last}
              - {name: last_merchant_10m, agg: last, field: merchant, window: 10m}
        """).group("g"), TransactionSource.schema(), "test");
    FeatureEngine engine = new FeatureEngine(plan);
    EntityState state = engine.newState();
    FeatureEngine.Result result = null;
    for (int i = 0; i < 2; i++) {
      Object[] fields = new Object[plan.fields().size()];
      fields[0] = "m-" + i;
      result = engine.apply(state, new FeatureEvent("card-1", "e-" + i, T0 + i * 30_000L, fields,
          0, "t", 0, i, null, null));
    }

    // When every held event is folded into its tile, as for a state too large for a record
    engine.sealAll(state);

    // Then the latest event is still held, and the online vector computed again from the state
    // (as a task does when it rebuilds its online store) is the one of the latest event: 30 s
    assertThat(state.recent).hasSize(1);
    assertThat(engine.evaluate(state, state.maxTime, state.maxSeq)).containsExactly(
        result.online());
    assertThat(result.online()[0]).isEqualTo(30.0);
  }

  @Test
  void shouldDeadLetterAnEventWhoseRecordOnTheRepartitionTopicCannotFitARecordAndGoOn() {
    // Given a group keyed by merchant, not the source's key (card_id): each event goes through a
    // repartition topic with the merchant as its key and in its value, and its source record
    FeatureStreamsConfig config = FeatureStreamsConfig.parse("""
        featureGroups:
          - name: by_merchant
            source: transactions
            entityKey: merchant
            features:
              - {name: tx_10m, agg: count, window: 10m}
              - {name: amount_10m, agg: sum, field: amount, window: 10m}
        """);
    TransactionSource.Tx fits = tx(1, "card-1", T0, 250_000);
    TransactionSource.Tx tooLarge = tx(2, "card-1", T0 + 1_000, 400_000);
    TransactionSource.Tx ordinary = tx(3, "card-2", T0 + 2_000, 20);

    // When a merchant of 250,000 letters pays, then one of 400,000 (a source record of 400 KB,
    // whose repartition record would carry the name three times), then an ordinary one
    List<TestRecord<String, FeatureVector>> vectors;
    List<TestRecord<byte[], byte[]>> dead;
    double counted;
    byte[] sourceValue;
    try (FeatureDriver driver = new FeatureDriver(config)) {
      driver.send(fits);
      driver.send(tooLarge);
      driver.send(ordinary);
      vectors = driver.features.readRecordsToList();
      dead = driver.deadLetters.readRecordsToList();
      counted = driver.meters.find(AggregateProcessor.OVERSIZED_EVENTS).tag("group", "by_merchant")
          .tag("outcome", "dead_lettered").counter().count();
      var data = driver.topics.data(TransactionSource.NAME);
      sourceValue = data.valueSerde().serializer().serialize(data.name(),
          tooLarge.toRecord(driver.schema));
    }

    // Then the 400,000-letter one is dead-lettered, with its source record whole and a reason
    // saying what was too large, the limit and what to change, and counted
    assertThat(dead).singleElement().satisfies(d -> {
      assertThat(d.value()).isEqualTo(sourceValue);
      assertThat(new String(d.headers().lastHeader(DeadLetterHeaders.ERROR).value(),
          StandardCharsets.UTF_8))
          .contains("event 'e-2'", "repartition topic of feature group 'by_merchant'",
              "max.request.size", "entity key field 'merchant'", "Shorten the long text",
              "max.message.bytes")
          .hasSizeLessThan(2_000);
    });
    assertThat(counted).isOne();
    // and the others, before and after it, are applied
    assertThat(vectors).extracting(r -> r.value().getEventId()).containsExactly("e-1", "e-3");
  }

  @Test
  void shouldCutADeadLettersValueToFitARecordWithItsHeaders() {
    // Given a source record as large as a producer may send, which is not Avro
    byte[] large = new byte[1_048_200];
    Arrays.fill(large, (byte) 7);
    List<TestRecord<byte[], byte[]>> dead;
    try (FeatureDriver driver = new FeatureDriver(FeatureStreamsConfig.cardActivity())) {

      // When feature-streams reads it
      driver.rawTransactions.pipeInput("card-1", large);
      dead = driver.deadLetters.readRecordsToList();
    }

    // Then its dead letter (the value and the headers saying what was wrong) fits a record: the
    // value is cut, and the headers say so and how large it was
    assertThat(dead).singleElement().satisfies(d -> {
      assertThat(new String(d.headers().lastHeader(DeadLetterHeaders.VALUE_TRUNCATED).value(),
          StandardCharsets.UTF_8)).isEqualTo("true");
      assertThat(new String(d.headers().lastHeader(DeadLetterHeaders.VALUE_SIZE).value(),
          StandardCharsets.UTF_8)).isEqualTo("1048200");
      assertThat(RecordSize.upperBound(d.key(), d.value(), d.headers().toArray()))
          .isLessThanOrEqualTo(MAX_RECORD_BYTES);
      assertThat(d.value()).hasSizeGreaterThan(1_040_000).containsOnly((byte) 7);
    });
  }

  /** A topic's {@code max.message.bytes} well below the producer's default max.request.size. */
  private static final int TOPIC_MAX_MESSAGE_BYTES = 64 * 1024;

  @Test
  void shouldDeadLetterAnEventWhoseVectorExceedsTheFeatureLogsMaxMessageBytes() {
    // Given a group with the last merchant of 10 minutes, and a feature log whose
    // max.message.bytes (64 KiB) is below the producer's max.request.size (1 MiB)
    FeatureStreamsConfig config = config("""
              - {name: last_merchant_10m, agg: last, field: merchant, window: 10m}
              - {name: tx_10m, agg: count, window: 10m}
        """);
    String featureLog = Topics.builder(new AvroSerdes(new InMemorySchemaRegistryClient(),
        Map.of())).build().features().name();
    TransactionSource.Tx large = tx(1, "card-1", T0, 100_000);
    TransactionSource.Tx next = tx(2, "card-1", T0 + 1_000, 20);

    // When a merchant of 100,000 letters (a vector of 100 KB: it fits max.request.size, not the
    // topic) pays, then an ordinary one
    List<TestRecord<String, FeatureVector>> vectors;
    List<TestRecord<byte[], byte[]>> dead;
    try (FeatureDriver driver = new FeatureDriver(config,
        Map.of(RecordLimits.property(featureLog), TOPIC_MAX_MESSAGE_BYTES))) {
      driver.send(large);
      driver.send(next);
      vectors = driver.features.readRecordsToList();
      dead = driver.deadLetters.readRecordsToList();
      assertThat(outcome(driver, "dead_lettered")).isOne();
    }

    // Then the large one is dead-lettered, naming the topic's limit, instead of being sent
    assertThat(dead).singleElement().satisfies(d -> assertThat(
        new String(d.headers().lastHeader(DeadLetterHeaders.ERROR).value(),
            StandardCharsets.UTF_8))
        .contains("feature vector of event 'e-1'",
            "max.message.bytes " + TOPIC_MAX_MESSAGE_BYTES + " of topic '" + featureLog + "'"));
    // and the next is applied as if it never came
    assertThat(vectors).extracting(r -> r.value().getEventId()).containsExactly("e-2");
    assertThat(vectors.get(0).value().getFeatures().get("tx_10m")).isEqualTo(1.0);
  }

  @Test
  void shouldDeadLetterAnEventAfterWhichTheStateExceedsTheChangelogsMaxMessageBytes() {
    // Given a group counting distinct merchants (its held events keep their text whole), whose
    // state changelog's max.message.bytes (64 KiB) is below the producer's max.request.size
    FeatureStreamsConfig config = config("""
              - {name: merchants_10m, agg: distinct_count, field: merchant, window: 10m}
        """);
    String changelog = FeatureTopology.changelogTopic(FeatureDriver.APPLICATION_ID, "g");
    TransactionSource.Tx large = tx(1, "card-1", T0, 100_000);
    TransactionSource.Tx next = tx(2, "card-1", T0 + 1_000, 20);

    // When a merchant of 100,000 letters pays (a state of 100 KB even with its held events
    // folded), then an ordinary one
    List<TestRecord<String, FeatureVector>> vectors;
    List<TestRecord<byte[], byte[]>> dead;
    try (FeatureDriver driver = new FeatureDriver(config,
        Map.of(RecordLimits.property(changelog), TOPIC_MAX_MESSAGE_BYTES))) {
      driver.send(large);
      driver.send(next);
      vectors = driver.features.readRecordsToList();
      dead = driver.deadLetters.readRecordsToList();
      assertThat(driver.driver.<String, byte[]>getKeyValueStore(
          FeatureTopology.stateStoreName("g")).get("card-1"))
          .hasSizeLessThan(TOPIC_MAX_MESSAGE_BYTES);
    }

    // Then the large one is dead-lettered, naming the changelog's limit, instead of being written
    assertThat(dead).singleElement().satisfies(d -> assertThat(
        new String(d.headers().lastHeader(DeadLetterHeaders.ERROR).value(),
            StandardCharsets.UTF_8))
        .contains("state of entity 'card-1' in feature group 'g'",
            "max.message.bytes " + TOPIC_MAX_MESSAGE_BYTES + " of topic '" + changelog + "'"));
    // and the next is applied as if it never came
    assertThat(vectors).extracting(r -> r.value().getEventId()).containsExactly("e-2");
    assertThat(vectors.get(0).value().getFeatures().get("merchants_10m")).isEqualTo(1.0);
  }

  @Test
  void shouldDeadLetterAnEventWhoseRepartitionRecordExceedsTheTopicsMaxMessageBytes() {
    // Given a group keyed by merchant, not the source's key, whose repartition topic's
    // max.message.bytes (64 KiB) is below the producer's max.request.size
    FeatureStreamsConfig config = FeatureStreamsConfig.parse("""
        featureGroups:
          - name: by_merchant
            source: transactions
            entityKey: merchant
            features:
              - {name: tx_10m, agg: count, window: 10m}
        """);
    String repartition =
        FeatureTopology.repartitionTopic(FeatureDriver.APPLICATION_ID, "by_merchant");
    TransactionSource.Tx large = tx(1, "card-1", T0, 100_000);
    TransactionSource.Tx next = tx(2, "card-2", T0 + 1_000, 20);

    // When a merchant of 100,000 letters pays (a repartition record of 300 KB), then an ordinary
    // one
    List<TestRecord<String, FeatureVector>> vectors;
    List<TestRecord<byte[], byte[]>> dead;
    try (FeatureDriver driver = new FeatureDriver(config,
        Map.of(RecordLimits.property(repartition), TOPIC_MAX_MESSAGE_BYTES))) {
      driver.send(large);
      driver.send(next);
      vectors = driver.features.readRecordsToList();
      dead = driver.deadLetters.readRecordsToList();
    }

    // Then the large one is dead-lettered, naming the repartition topic's limit, and the next
    // is applied
    assertThat(dead).singleElement().satisfies(d -> assertThat(
        new String(d.headers().lastHeader(DeadLetterHeaders.ERROR).value(),
            StandardCharsets.UTF_8))
        .contains("event 'e-1'",
            "max.message.bytes " + TOPIC_MAX_MESSAGE_BYTES + " of topic '" + repartition + "'"));
    assertThat(vectors).extracting(r -> r.value().getEventId()).containsExactly("e-2");
  }

  private static double outcome(FeatureDriver driver, String outcome) {
    var c = driver.meters.find(AggregateProcessor.OVERSIZED_EVENTS).tag("group", "g")
        .tag("outcome", outcome).counter();
    return c == null ? 0 : c.count();
  }
}
