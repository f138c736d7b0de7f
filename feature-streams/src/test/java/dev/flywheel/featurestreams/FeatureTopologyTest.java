package dev.flywheel.featurestreams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.events.FeatureVector;
import dev.flywheel.topics.DeadLetterHeaders;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;

/** The production topology on a TopologyTestDriver: outputs, dead letters, purging, metrics. */
class FeatureTopologyTest {

  private static final long T0 = 1_790_000_040_000L;
  private static final long MINUTE = 60_000;

  private static TransactionSource.Tx tx(int seq, String card, long timeMs, double amount) {
    return new TransactionSource.Tx("e-" + seq, card, "m-" + seq % 3, "grocery", amount, "DE",
        "POS", timeMs);
  }

  private static String header(Headers headers, String name) {
    Header h = headers.lastHeader(name);
    return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }

  @Test
  void shouldEmitOneVectorPerEventWithEventIdTimeGroupVersionAndOrigin() {
    // Given
    FeatureStreamsConfig config = FeatureStreamsConfig.cardActivity();
    try (FeatureDriver driver = new FeatureDriver(config)) {
      // When
      driver.send(tx(1, "card-1", T0, 10.0));
      driver.send(tx(2, "card-1", T0 + MINUTE, 30.0));

      // Then
      List<TestRecord<String, FeatureVector>> out = driver.features.readRecordsToList();
      assertThat(out).hasSize(2);
      FeatureVector second = out.get(1).value();
      assertThat(out.get(1).key()).isEqualTo("card-1");
      assertThat(out.get(1).timestamp()).isEqualTo(T0 + MINUTE);
      assertThat(second.getEventId()).isEqualTo("e-2");
      assertThat(second.getEventTime()).isEqualTo(Instant.ofEpochMilli(T0 + MINUTE));
      assertThat(second.getAsOf()).isEqualTo(second.getEventTime());
      assertThat(second.getFeatureGroup()).isEqualTo("card_activity");
      assertThat(second.getFeatureGroupVersion())
          .isEqualTo(config.group("card_activity").version());
      assertThat(second.getSource().getTopic()).isEqualTo("flywheel.data.transactions");
      assertThat(second.getSource().getOffset()).isEqualTo(1L);
      assertThat(second.getFeatures())
          .containsEntry("tx_count_10m", 2.0)
          .containsEntry("amount_sum_1h", 40.0)
          .containsEntry("amount_mean_24h", 20.0)
          .containsEntry("amount_max_7d", 30.0)
          .containsEntry("distinct_merchants_24h", 2.0)
          .containsEntry("distinct_countries_24h", 1.0)
          .containsEntry("seconds_since_last_tx", 60.0)
          .containsEntry("amount_last", 30.0)
          .containsEntry("amount_to_mean_7d", 1.5);
      assertThat(second.getFeatures().keySet())
          .containsExactlyInAnyOrderElementsOf(config.group("card_activity").featureNames());
      assertThat(out.get(0).value().getFeatures()).containsEntry("seconds_since_last_tx", null);
    }
  }

  @Test
  void shouldKeepTheLatestVectorPerEntityInTheOnlineStore() {
    // Given
    try (FeatureDriver driver = new FeatureDriver(FeatureStreamsConfig.cardActivity())) {
      driver.send(tx(1, "card-1", T0, 10.0));
      driver.send(tx(2, "card-2", T0, 99.0));
      driver.send(tx(3, "card-1", T0 + MINUTE, 20.0));

      // When an out-of-order event arrives within the grace period
      driver.send(tx(4, "card-1", T0 + MINUTE / 2, 5.0));

      // Then the store holds card-1 as of its latest event, now including the late-arriving one
      FeatureVector card1 = driver.onlineStore("card_activity").get("card-1");
      assertThat(card1.getAsOf()).isEqualTo(Instant.ofEpochMilli(T0 + MINUTE));
      assertThat(card1.getEventId()).isEqualTo("e-3");
      assertThat(card1.getFeatures()).containsEntry("tx_count_10m", 3.0)
          .containsEntry("amount_sum_10m", 35.0).containsEntry("amount_last", 20.0);
      assertThat(driver.onlineStore("card_activity").get("card-2").getFeatures())
          .containsEntry("tx_count_10m", 1.0);
      // and the out-of-order event's own vector is as of its own time
      List<TestRecord<String, FeatureVector>> out = driver.features.readRecordsToList();
      assertThat(out.get(3).value().getAsOf()).isEqualTo(Instant.ofEpochMilli(T0 + MINUTE / 2));
      assertThat(out.get(3).value().getFeatures()).containsEntry("tx_count_10m", 2.0)
          .containsEntry("amount_last", 5.0).containsEntry("seconds_since_last_tx", 30.0);
    }
  }

  @Test
  void shouldSendEventsLaterThanTheGracePeriodToTheDeadLetterTopicAndCountThem() {
    // Given card-1 has an event at T0 + 10 min and the grace period is 5 minutes
    try (FeatureDriver driver = new FeatureDriver(FeatureStreamsConfig.cardActivity())) {
      driver.send(tx(1, "card-1", T0 + 10 * MINUTE, 10.0));

      // When an event 6 minutes behind arrives
      driver.send(tx(2, "card-1", T0 + 4 * MINUTE, 20.0));

      // Then it is not applied, goes to flywheel.data.transactions.dlq with headers, and counts
      assertThat(driver.features.readValuesToList()).hasSize(1);
      TestRecord<byte[], byte[]> dead = driver.deadLetters.readRecord();
      assertThat(new String(dead.key(), StandardCharsets.UTF_8)).isEqualTo("card-1");
      assertThat(dead.value()).isNotEmpty();
      assertThat(header(dead.headers(), DeadLetterHeaders.ERROR))
          .contains("card-1", "beyond the grace period PT5M", "card_activity", "raise its grace");
      assertThat(header(dead.headers(), DeadLetterHeaders.ORIGIN))
          .isEqualTo("flywheel.data.transactions/0/1");
      assertThat(header(dead.headers(), DeadLetterHeaders.SOURCE)).isEqualTo("transactions");
      assertThat(header(dead.headers(), DeadLetterHeaders.PROCESSOR)).isEqualTo("feature-test");
      assertThat(header(dead.headers(), DeadLetterHeaders.OFFSET)).isEqualTo("1");
      assertThat(header(dead.headers(), DeadLetterHeaders.FAILED_AT)).isNotNull();
      assertThat(driver.counter("flywheel.features.late.events", "card_activity")).isEqualTo(1.0);
      assertThat(driver.onlineStore("card_activity").get("card-1").getFeatures())
          .containsEntry("tx_count_7d", 1.0);
      // an event exactly at the grace boundary is still applied
      driver.send(tx(3, "card-1", T0 + 5 * MINUTE, 20.0));
      assertThat(driver.features.readValuesToList()).hasSize(1);
      assertThat(driver.deadLetters.isEmpty()).isTrue();
    }
  }

  @Test
  void shouldSendUnreadableRecordsToTheDeadLetterTopicAndCarryOn() {
    // Given
    try (FeatureDriver driver = new FeatureDriver(FeatureStreamsConfig.cardActivity())) {
      // When a record that is not Avro in the wire format arrives, then a good one
      driver.rawTransactions.pipeInput("card-1", "{\"amount\": 1}".getBytes(StandardCharsets.UTF_8),
          Instant.ofEpochMilli(T0));
      driver.send(tx(2, "card-1", T0, 10.0));

      // Then the bad one is dead-lettered with its bytes, and the good one computed
      TestRecord<byte[], byte[]> dead = driver.deadLetters.readRecord();
      assertThat(new String(dead.value(), StandardCharsets.UTF_8)).isEqualTo("{\"amount\": 1}");
      assertThat(header(dead.headers(), DeadLetterHeaders.ERROR))
          .contains("cannot read the value as Avro");
      assertThat(header(dead.headers(), DeadLetterHeaders.ERROR_CLASS)).isNotNull();
      assertThat(driver.features.readValuesToList()).extracting(FeatureVector::getEventId)
          .containsExactly("e-2");
    }
  }

  private static double deadLetters(FeatureDriver driver, String reason) {
    var c = driver.meters.find("flywheel.features.dead.letters").tag("group", "card_activity")
        .tag("reason", reason).counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void shouldDeadLetterAnEventTimeInMicrosecondsFarAheadOfItsRecordTimestamp() {
    // Given
    try (FeatureDriver driver = new FeatureDriver(FeatureStreamsConfig.cardActivity())) {
      // When a producer writes event_time in microseconds, on a record stamped T0
      TransactionSource.Tx micros = tx(1, "card-1", T0 * 1000, 10.0);
      driver.transactions.pipeInput("card-1", micros.toRecord(driver.schema),
          Instant.ofEpochMilli(T0));

      // Then no vector carries that time: the event is dead-lettered saying what to check, and
      // counted under its own reason
      assertThat(driver.features.isEmpty()).isTrue();
      TestRecord<byte[], byte[]> dead = driver.deadLetters.readRecord();
      assertThat(header(dead.headers(), DeadLetterHeaders.ERROR))
          .contains("event-time field 'event_time' is " + T0 * 1000,
              "after the record's Kafka timestamp " + T0, "maxClockSkew PT1H", "card_activity",
              "check the producer's clock", "milliseconds");
      assertThat(deadLetters(driver, "event_time_out_of_range")).isEqualTo(1.0);
      assertThat(deadLetters(driver, "invalid")).isZero();
      // and the card's real events are not late because of it
      driver.send(tx(2, "card-1", T0, 10.0));
      assertThat(driver.features.readValuesToList()).extracting(FeatureVector::getEventId)
          .containsExactly("e-2");
      assertThat(driver.deadLetters.isEmpty()).isTrue();
    }
  }

  @Test
  void shouldApplyAnEventTimeUpToTheMaximumClockSkewAheadOfItsRecordTimestamp() {
    // Given
    try (FeatureDriver driver = new FeatureDriver(FeatureStreamsConfig.cardActivity())) {
      // When one event is exactly 1 hour ahead of its record, the next 1 ms more
      driver.transactions.pipeInput("card-1",
          tx(1, "card-1", T0 + 60 * MINUTE, 10.0).toRecord(driver.schema),
          Instant.ofEpochMilli(T0));
      driver.transactions.pipeInput("card-2",
          tx(2, "card-2", T0 + 60 * MINUTE + 1, 10.0).toRecord(driver.schema),
          Instant.ofEpochMilli(T0));

      // Then the first is applied, the second dead-lettered
      assertThat(driver.features.readValuesToList()).extracting(FeatureVector::getEventId)
          .containsExactly("e-1");
      assertThat(driver.deadLetters.readRecordsToList()).hasSize(1);
    }
  }

  @Test
  void shouldDeadLetterAnEventTimeOutsideAGroupsConfiguredMaximumClockSkew() {
    // Given a group that allows 10 minutes
    FeatureStreamsConfig config = FeatureStreamsConfig.parse("""
        featureGroups:
          - name: card_activity
            source: transactions
            entityKey: card_id
            maxClockSkew: 10m
            features:
              - {name: tx_count_10m, agg: count, window: 10m}
        """);
    try (FeatureDriver driver = new FeatureDriver(config)) {
      // When an event is 11 minutes ahead of its record
      driver.transactions.pipeInput("card-1",
          tx(1, "card-1", T0 + 11 * MINUTE, 10.0).toRecord(driver.schema),
          Instant.ofEpochMilli(T0));

      // Then it is dead-lettered, naming the configured bound
      assertThat(driver.features.isEmpty()).isTrue();
      assertThat(header(driver.deadLetters.readRecord().headers(), DeadLetterHeaders.ERROR))
          .contains("PT11M after the record's Kafka timestamp", "maxClockSkew PT10M");
    }
  }

  @Test
  void shouldDeadLetterANegativeEventTime() {
    // Given
    try (FeatureDriver driver = new FeatureDriver(FeatureStreamsConfig.cardActivity())) {
      // When an event's time is before 1970
      driver.transactions.pipeInput("card-1", tx(1, "card-1", -5, 10.0).toRecord(driver.schema),
          Instant.ofEpochMilli(T0));

      // Then it is dead-lettered and counted, and the processor carries on
      assertThat(driver.features.isEmpty()).isTrue();
      assertThat(header(driver.deadLetters.readRecord().headers(), DeadLetterHeaders.ERROR))
          .contains("event-time field 'event_time' is -5", "before 1970",
              "check the producer's clock");
      assertThat(deadLetters(driver, "event_time_out_of_range")).isEqualTo(1.0);
      driver.send(tx(2, "card-1", T0, 10.0));
      assertThat(driver.features.readValuesToList()).hasSize(1);
    }
  }

  @Test
  void shouldDeadLetterAnEntityIdEqualToTheStoresReservedKeys() {
    // Given
    try (FeatureDriver driver = new FeatureDriver(FeatureStreamsConfig.cardActivity())) {
      // When records' card_ids are the stores' reserved keys
      driver.send(tx(1, FeatureTopology.STORE_TOKEN_KEY, T0, 10.0));
      driver.send(tx(2, FeatureTopology.WATERMARK_KEY, T0, 10.0));
      driver.send(tx(3, FeatureTopology.PURGE_CURSOR_KEY, T0, 10.0));

      // Then they are dead-lettered, not applied over the token, the watermark or a purge's cursor
      assertThat(driver.features.isEmpty()).isTrue();
      List<TestRecord<byte[], byte[]>> dead = driver.deadLetters.readRecordsToList();
      assertThat(dead).hasSize(3);
      for (TestRecord<byte[], byte[]> d : dead) {
        assertThat(header(d.headers(), DeadLetterHeaders.ERROR))
            .contains("entity key field 'card_id' holds a value reserved by feature-streams");
      }
      assertThat(driver.onlineStore("card_activity").get(FeatureTopology.STORE_TOKEN_KEY)
          .getEntityId()).isEqualTo(FeatureTopology.STORE_TOKEN_KEY);
      assertThat(state(driver, "card_activity").get(FeatureTopology.WATERMARK_KEY)).isNull();
      assertThat(state(driver, "card_activity").get(FeatureTopology.PURGE_CURSOR_KEY)).isNull();
    }
  }

  @Test
  void shouldPurgeEntitiesIdleLongerThanTheLongestWindowOnEventTime() {
    // Given card_activity (longest window 7d, grace 5m) has seen card-1 and card-2
    try (FeatureDriver driver = new FeatureDriver(FeatureStreamsConfig.cardActivity())) {
      driver.send(tx(1, "card-1", T0, 10.0));
      driver.send(tx(2, "card-2", T0 + 6 * 24 * 60 * MINUTE, 10.0));

      // When the event times applied pass 7 days and 5 minutes after card-1's event, plus a purge
      // interval (a tenth of the purge time: 16.8 hours)
      driver.send(tx(3, "card-2", T0 + (7 * 24 * 60 + 5) * MINUTE + 17 * 60 * MINUTE, 10.0));

      // Then card-1 is gone from the online store and its state; card-2 stays
      assertThat(driver.onlineStore("card_activity").get("card-1")).isNull();
      assertThat(driver.driver.getKeyValueStore(FeatureTopology.stateStoreName("card_activity"))
          .get("card-1")).isNull();
      assertThat(driver.onlineStore("card_activity").get("card-2")).isNotNull();
      assertThat(driver.counter("flywheel.features.purged.entities", "card_activity"))
          .isEqualTo(1.0);
      // and a new event of card-1 starts afresh
      driver.send(tx(4, "card-1", T0 + 8 * 24 * 60 * MINUTE, 10.0));
      assertThat(driver.onlineStore("card_activity").get("card-1").getFeatures())
          .containsEntry("seconds_since_last_tx", null).containsEntry("tx_count_7d", 1.0);
    }
  }

  @Test
  void shouldPurgeMoreIdleEntitiesThanOneEventExaminesOverTheEventsThatFollow() {
    // Given card_10m (purged after 15 minutes idle) has seen 300 cards at T0: with the token and
    // the watermark, which come first in key order, more store entries than one event examines
    int perEvent = AggregateProcessor.PURGE_ENTRIES_PER_EVENT;
    try (FeatureDriver driver = new FeatureDriver(TEN_MINUTES)) {
      for (int i = 0; i < 300; i++) {
        driver.send(tx(i, String.format("card-%03d", i), T0, 10.0));
      }
      KeyValueStore<String, byte[]> state = state(driver, "card_10m");

      // When card-new's events, a second apart, take the event times applied 20 minutes past
      // theirs (across one purge boundary)
      List<Long> idleLeft = new ArrayList<>();
      List<Boolean> passInProgress = new ArrayList<>();
      for (int n = 0; n < 4; n++) {
        driver.send(tx(1000 + n, "card-new", T0 + 20 * MINUTE + n * 1000L, 10.0));
        long left = 0;
        for (int i = 0; i < 300; i++) {
          left += state.get(String.format("card-%03d", i)) == null ? 0 : 1;
        }
        idleLeft.add(left);
        passInProgress.add(state.get(FeatureTopology.PURGE_CURSOR_KEY) != null);
      }

      // Then each event purged the idle cards among the next entries it examined, until none was
      // left, and the pass ended
      assertThat(idleLeft).containsExactly(300L - (perEvent - 2),
          Math.max(0, 300L - (2 * perEvent - 2)), 0L, 0L);
      assertThat(passInProgress).containsExactly(true, true, false, false);
      assertThat(driver.counter("flywheel.features.purged.entities", "card_10m"))
          .isEqualTo(300.0);
      assertThat(driver.onlineStore("card_10m").get("card-000")).isNull();
      assertThat(driver.features.readValuesToList()).hasSize(304);
      assertThat(driver.onlineStore("card_10m").get("card-new").getFeatures())
          .containsEntry("tx_count_10m", 4.0);
    }
  }

  /** A group whose longest window is 10 minutes: purged after 15 minutes idle (grace 5m). */
  private static final FeatureStreamsConfig TEN_MINUTES = FeatureStreamsConfig.parse("""
      featureGroups:
        - name: card_10m
          source: transactions
          entityKey: card_id
          features:
            - {name: tx_count_10m, agg: count, window: 10m}
            - {name: seconds_since_last_tx, agg: time_since_last}
      """);

  private static KeyValueStore<String, byte[]> state(FeatureDriver driver, String group) {
    return driver.driver.getKeyValueStore(FeatureTopology.stateStoreName(group));
  }

  @Test
  void shouldNotPurgeOnARecordWhoseKafkaTimestampIsFarAheadOfItsEventTime() {
    // Given card_10m (purged after 15 minutes idle) has seen card-1 and card-2
    try (FeatureDriver driver = new FeatureDriver(TEN_MINUTES)) {
      driver.send(tx(1, "card-1", T0, 10.0));
      driver.send(tx(2, "card-2", T0 + MINUTE, 10.0));

      // When a record of card-3 with event time T0 + 2m is stamped 59 minutes ahead (a producer
      // clock ahead; the broker accepts it)
      driver.send(tx(3, "card-3", T0 + 2 * MINUTE, 10.0), T0 + 59 * MINUTE);

      // Then no entity is purged: none is idle 15 minutes in event time
      assertThat(driver.counter("flywheel.features.purged.entities", "card_10m")).isZero();
      assertThat(state(driver, "card_10m").get("card-1")).isNotNull();
      assertThat(driver.onlineStore("card_10m").get("card-2")).isNotNull();
      // and card-1's next event counts its earlier one
      driver.send(tx(4, "card-1", T0 + 3 * MINUTE, 10.0));
      assertThat(driver.onlineStore("card_10m").get("card-1").getFeatures())
          .containsEntry("tx_count_10m", 2.0).containsEntry("seconds_since_last_tx", 180.0);
    }
  }

  @Test
  void shouldPurgeOnEventTimeNotOnTheRecordTimestampsOfABackfill() {
    // Given a backfill of month-old events, every record stamped with today's time
    long today = T0 + 30 * 24 * 60 * MINUTE;
    try (FeatureDriver driver = new FeatureDriver(TEN_MINUTES)) {
      driver.send(tx(1, "card-1", T0, 10.0), today);
      driver.send(tx(2, "card-2", T0 + 10 * MINUTE, 10.0), today);
      assertThat(state(driver, "card_10m").get("card-1"))
          .as("card-1 is idle 10 minutes in event time, less than its purge time").isNotNull();

      // When the event times applied pass card-1's purge time (15 minutes idle)
      driver.send(tx(3, "card-2", T0 + 16 * MINUTE, 10.0), today);

      // Then card-1 is purged from both stores, and card-2, idle 6 minutes, is not: its vector
      // counts its earlier event
      assertThat(state(driver, "card_10m").get("card-1")).isNull();
      assertThat(driver.onlineStore("card_10m").get("card-1")).isNull();
      assertThat(driver.counter("flywheel.features.purged.entities", "card_10m")).isEqualTo(1.0);
      List<FeatureVector> vectors = driver.features.readValuesToList();
      assertThat(vectors.get(2).getFeatures())
          .containsEntry("tx_count_10m", 2.0).containsEntry("seconds_since_last_tx", 360.0);
      // and card-1's next event starts afresh
      driver.send(tx(4, "card-1", T0 + 17 * MINUTE, 10.0), today);
      assertThat(driver.features.readValue().getFeatures())
          .containsEntry("tx_count_10m", 1.0).containsEntry("seconds_since_last_tx", null);
    }
  }

  @Test
  void shouldSwitchDistinctCountsFromExactToHyperLogLogAboveTheBound() {
    // Given a group exact up to 50 distinct merchants
    FeatureStreamsConfig config = FeatureStreamsConfig.parse("""
        featureGroups:
          - name: merchants
            source: transactions
            entityKey: card_id
            distinctExactUpTo: 50
            features:
              - {name: merchants_1h, agg: distinct_count, field: merchant, window: 1h}
              - {name: merchants_all, agg: distinct_count, field: merchant}
        """);
    Random random = new Random(7);
    try (FeatureDriver driver = new FeatureDriver(config)) {
      // When one card pays 40 merchants, then 3000 more over 2 hours (some twice)
      for (int i = 0; i < 40; i++) {
        driver.send(new TransactionSource.Tx("a-" + i, "card-1", "m-" + i, "grocery", 1.0, "DE",
            "POS", T0 + i));
      }
      FeatureVector exact = driver.onlineStore("merchants").get("card-1");
      for (int i = 0; i < 4000; i++) {
        driver.send(new TransactionSource.Tx("b-" + i, "card-1",
            "shop-" + (i < 3000 ? i : random.nextInt(3000)), "grocery", 1.0, "DE", "POS",
            T0 + 1000 + i * 1800L));
      }

      // Then counts are exact within the bound, and within a few percent beyond it
      assertThat(exact.getFeatures()).containsEntry("merchants_all", 40.0);
      FeatureVector approx = driver.onlineStore("merchants").get("card-1");
      assertThat(approx.getFeatures().get("merchants_all")).isCloseTo(3040.0,
          org.assertj.core.data.Percentage.withPercentage(7));
      // the last hour holds 2000 events: 1000 distinct shops plus up to 1000 repeats
      assertThat(approx.getFeatures().get("merchants_1h")).isBetween(1000.0 * 0.93, 2000.0 * 1.07);
    }
  }
}
