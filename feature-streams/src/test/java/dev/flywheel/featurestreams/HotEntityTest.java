package dev.flywheel.featurestreams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.withinPercentage;

import dev.flywheel.events.FeatureVector;
import dev.flywheel.topics.DeadLetterHeaders;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;

/**
 * Entities with more events within the grace period than the group's {@code maxEventsInGrace}:
 * their oldest held events are sealed early and events older than those are refused as late. The
 * refused events are exactly those an independent model of that rule refuses, every vector of an
 * applied event still equals {@link BruteForce} over the applied events, and no entity holds more
 * than {@code maxEventsInGrace} events.
 */
class HotEntityTest {

  private static final int MAX_IN_GRACE = 16;
  private static final long GRACE_MS = 5 * 60_000;

  private static FeatureStreamsConfig config(FeatureStreamsConfig declared, int maxEventsInGrace) {
    List<FeatureGroupConfig> groups = new ArrayList<>();
    for (FeatureGroupConfig g : declared.featureGroups()) {
      groups.add(g.withMaxEventsInGrace(maxEventsInGrace));
    }
    return new FeatureStreamsConfig(groups);
  }

  /**
   * Transactions of 3 cards, mostly under 2 s apart (about 50 per card in a grace period), 35% of
   * them up to the grace period out of order, 5% at the instant of the card's previous one, and
   * now and then an hour's pause.
   */
  private static List<TransactionSource.Tx> burst(long seed, int events) {
    Random random = new Random(seed);
    List<TransactionSource.Tx> out = new ArrayList<>();
    Map<String, Long> lastTime = new HashMap<>();
    long clock = 1_790_000_000_000L;
    for (int i = 0; i < events; i++) {
      clock += random.nextDouble() < 0.995 ? random.nextInt(2_000) : 3_600_000;
      String card = "card-" + random.nextInt(3);
      long t = random.nextDouble() < 0.35 ? clock - random.nextInt((int) GRACE_MS) : clock;
      Long previous = lastTime.get(card);
      if (previous != null && random.nextDouble() < 0.05) {
        t = previous;
      }
      lastTime.put(card, t);
      out.add(TransactionSource.random(random, i, card, t, 40, 6));
    }
    return out;
  }

  @Test
  void shouldRefuseOnlyEventsBehindAnEarlySealAndKeepEveryAppliedVectorExact() {
    // Given groups that hold at most 16 events per entity within their 5-minute grace period
    FeatureStreamsConfig config = config(RandomizedCorrectnessTest.config(), MAX_IN_GRACE);
    List<TransactionSource.Tx> txs = burst(20261124L, 3000);

    // When bursts of out-of-order transactions go through the topology
    List<TestRecord<String, FeatureVector>> vectors;
    Map<String, Set<String>> refusedByGroup = new HashMap<>();
    Map<String, Integer> largestHeld = new HashMap<>();
    try (FeatureDriver driver = new FeatureDriver(config)) {
      driver.sendAll(txs);
      vectors = driver.features.readRecordsToList();
      var data = driver.topics.data(TransactionSource.NAME);
      for (TestRecord<byte[], byte[]> dead : driver.deadLetters.readRecordsToList()) {
        String error = new String(dead.headers().lastHeader(DeadLetterHeaders.ERROR).value(),
            StandardCharsets.UTF_8);
        assertThat(error).contains("sealed early", "maxEventsInGrace " + MAX_IN_GRACE);
        String group = error.replaceAll(".*feature group '([^']+)'.*", "$1");
        GenericRecord tx = data.valueSerde().deserializer().deserialize(data.name(), dead.value());
        refusedByGroup.computeIfAbsent(group, g -> new HashSet<>())
            .add(tx.get("event_id").toString());
      }
      assertThat(driver.counter(AggregateProcessor.LATE_EVENTS, "card_activity", "early_seal"))
          .isEqualTo(refusedByGroup.get("card_activity").size());
      assertThat(driver.counter(AggregateProcessor.LATE_EVENTS, "card_activity", "grace"))
          .isZero();
      for (FeatureGroupConfig g : config.featureGroups()) {
        EntityStateSerde serde = new EntityStateSerde(FeatureGroupPlan.of(g,
            TransactionSource.schema(), "flywheel.data.transactions-value v1"));
        KeyValueStore<String, byte[]> state =
            driver.driver.getKeyValueStore(FeatureTopology.stateStoreName(g.name()));
        try (KeyValueIterator<String, byte[]> it = state.all()) {
          while (it.hasNext()) {
            KeyValue<String, byte[]> kv = it.next();
            if (!FeatureTopology.isReservedKey(kv.key)) {
              largestHeld.merge(g.name(), serde.read(kv.value).recent.size(), Math::max);
            }
          }
        }
      }
    }

    // Then the refused events are exactly those the rule refuses, and there are some
    for (FeatureGroupConfig g : config.featureGroups()) {
      Set<String> expected = refusedByRule(g, txs);
      assertThat(refusedByGroup.getOrDefault(g.name(), Set.of())).as("refused in %s", g.name())
          .isEqualTo(expected);
      assertThat(largestHeld.get(g.name())).as("events held per entity in %s", g.name())
          .isLessThanOrEqualTo(MAX_IN_GRACE);
    }
    assertThat(refusedByGroup.get("card_activity")).as("refused in card_activity")
        .hasSizeGreaterThan(50);

    // and every applied event's vector equals brute force over the applied events
    Map<String, FeatureVector> byGroupAndEvent = new HashMap<>();
    vectors.forEach(v -> byGroupAndEvent.put(
        v.value().getFeatureGroup() + "/" + v.value().getEventId(), v.value()));
    List<String> mismatches = new ArrayList<>();
    int compared = 0;
    for (FeatureGroupConfig g : config.featureGroups()) {
      Set<String> refused = refusedByGroup.getOrDefault(g.name(), Set.of());
      Map<String, List<TransactionSource.Tx>> history = new HashMap<>();
      for (TransactionSource.Tx tx : txs) {
        FeatureVector v = byGroupAndEvent.get(g.name() + "/" + tx.eventId());
        if (refused.contains(tx.eventId())) {
          assertThat(v).as("vector of refused %s in %s", tx.eventId(), g.name()).isNull();
          continue;
        }
        String entity = BruteForce.value(tx, g.entityKey()).toString();
        List<TransactionSource.Tx> h = history.computeIfAbsent(entity, e -> new ArrayList<>());
        h.add(tx);
        assertThat(v).as("vector of %s in %s", tx.eventId(), g.name()).isNotNull();
        RandomizedCorrectnessTest.compare(g, BruteForce.features(g, h, tx, tx.timeMs()), v,
            mismatches);
        compared++;
      }
    }
    assertThat(vectors).hasSize(compared);
    assertThat(mismatches).as("features differing from brute force").isEmpty();
  }

  @Test
  void shouldKeepAHotEntitysStateBoundedWhateverItsEventsWithinTheGracePeriod() {
    // Given the demo group, holding at most 1,000 events per entity within its grace period
    FeatureStreamsConfig config = FeatureStreamsConfig.cardActivity();
    assertThat(config.group("card_activity").maxEventsInGrace())
        .isEqualTo(FeatureGroupConfig.DEFAULT_MAX_EVENTS_IN_GRACE).isEqualTo(1000);
    Random random = new Random(7);
    List<TransactionSource.Tx> txs = new ArrayList<>();
    long t0 = 1_790_000_000_000L;

    // When one card makes 5,000 transactions within 50 seconds, in order
    for (int i = 0; i < 5_000; i++) {
      txs.add(TransactionSource.random(random, i, "card-hot", t0 + i * 10L, 40, 6));
    }
    int stateBytes;
    int held;
    try (FeatureDriver driver = new FeatureDriver(config)) {
      driver.sendAll(txs);
      assertThat(driver.deadLetters.isEmpty()).as("in-order events are never refused").isTrue();
      byte[] state = driver.driver.<String, byte[]>getKeyValueStore(
          FeatureTopology.stateStoreName("card_activity")).get("card-hot");
      stateBytes = state.length;
      held = new EntityStateSerde(FeatureGroupPlan.of(config.group("card_activity"),
          TransactionSource.schema(), "flywheel.data.transactions-value v1"))
          .read(state).recent.size();
    }

    // Then it holds at most 1,000 events, and its state stays far below 1 MiB
    assertThat(held).isBetween(500, 1000);
    assertThat(stateBytes).isLessThan(64 * 1024);
  }

  @Test
  void shouldKeepHeldEventsBoundedAndEveryVectorExactWhenManyEventsShareOneInstant() {
    // Given groups that hold at most 16 events per entity within their 5-minute grace period
    FeatureStreamsConfig config = config(RandomizedCorrectnessTest.config(), MAX_IN_GRACE);
    Random random = new Random(11);
    List<TransactionSource.Tx> txs = new ArrayList<>();
    long t0 = 1_790_000_000_000L;
    long burst = t0 + 30_000;
    long last = burst + 20_000;
    for (int i = 0; i < 20; i++) {
      txs.add(TransactionSource.random(random, txs.size(), "card-1", t0 + i * 1_000L, 40, 6));
    }
    // (amounts of the bursts from 30 values: a tile of the amount column keeps at most 192
    // distinct values exactly, and the test compares exact distinct counts)
    for (int i = 0; i < 400; i++) {
      txs.add(withAmount(TransactionSource.random(random, txs.size(), "card-1", burst, 40, 6),
          10 + i % 30));
    }
    for (int i = 0; i < 10; i++) {
      txs.add(TransactionSource.random(random, txs.size(), "card-1", burst + i * 1_000L, 40, 6));
    }
    for (int i = 0; i < 100; i++) {
      txs.add(withAmount(TransactionSource.random(random, txs.size(), "card-1", last, 40, 6),
          10 + i % 30));
    }

    // When they go through the topology in order: 400, then 100, all stamped the same millisecond
    // (a backfill stamped at midnight, second-resolution times of a busy card)
    List<TestRecord<String, FeatureVector>> vectors;
    Map<String, Integer> largestHeld = new HashMap<>();
    List<String> mismatches = new ArrayList<>();
    Map<String, Map<String, List<TransactionSource.Tx>>> histories = new HashMap<>();
    try (FeatureDriver driver = new FeatureDriver(config)) {
      for (TransactionSource.Tx tx : txs) {
        driver.send(tx);
        for (FeatureGroupConfig g : config.featureGroups()) {
          String entity = BruteForce.value(tx, g.entityKey()).toString();
          byte[] state = driver.driver.<String, byte[]>getKeyValueStore(
              FeatureTopology.stateStoreName(g.name())).get(entity);
          largestHeld.merge(g.name(), serde(g).read(state).recent.size(), Math::max);
          histories.computeIfAbsent(g.name(), n -> new HashMap<>())
              .computeIfAbsent(entity, e -> new ArrayList<>()).add(tx);
        }
      }
      assertThat(driver.deadLetters.isEmpty()).as("in-order events are never refused").isTrue();
      vectors = driver.features.readRecordsToList();

      // and each entity's latest vector is computed again from its state, as a task rebuilding
      // its online store does
      for (FeatureGroupConfig g : config.featureGroups()) {
        FeatureGroupPlan plan = FeatureGroupPlan.of(g, TransactionSource.schema(), "test");
        FeatureEngine engine = new FeatureEngine(plan);
        KeyValueStore<String, FeatureVector> online = driver.onlineStore(g.name());
        for (Map.Entry<String, List<TransactionSource.Tx>> e : histories.get(g.name())
            .entrySet()) {
          EntityState s = serde(g).read(driver.driver.<String, byte[]>getKeyValueStore(
              FeatureTopology.stateStoreName(g.name())).get(e.getKey()));
          List<TransactionSource.Tx> h = e.getValue();
          TransactionSource.Tx latest = h.get(h.size() - 1);
          Map<String, Object> expected = BruteForce.features(g, h, latest, latest.timeMs());
          FeatureVector stored = online.get(e.getKey());
          assertThat(stored.getEventId()).isEqualTo(latest.eventId());
          RandomizedCorrectnessTest.compare(g, expected, stored, mismatches);
          Object[] again = engine.evaluate(s, s.maxTime, s.maxSeq);
          for (int i = 0; i < again.length; i++) {
            String name = plan.features().get(i).name();
            Object want = expected.get(name);
            boolean same = want instanceof Double w && again[i] instanceof Double got
                ? Math.abs(w - got) <= 1e-9 * Math.max(1.0, Math.abs(w))
                : Objects.equals(want, again[i]);
            if (!same) {
              mismatches.add(g.name() + " " + e.getKey() + " computed again " + name
                  + ": expected " + want + ", got " + again[i]);
            }
          }
        }
      }
    }

    // Then no entity ever held more than 16 events
    for (FeatureGroupConfig g : config.featureGroups()) {
      assertThat(largestHeld.get(g.name())).as("events held per entity in %s", g.name())
          .isLessThanOrEqualTo(MAX_IN_GRACE);
    }
    // and every vector equals brute force, ties of first and last (earlier and later arrival)
    // and time since last (0 within the instant) included
    assertThat(vectors).hasSize(txs.size() * config.featureGroups().size());
    Map<String, FeatureVector> byGroupAndEvent = new HashMap<>();
    vectors.forEach(v -> byGroupAndEvent.put(
        v.value().getFeatureGroup() + "/" + v.value().getEventId(), v.value()));
    for (FeatureGroupConfig g : config.featureGroups()) {
      Map<String, List<TransactionSource.Tx>> history = new HashMap<>();
      for (TransactionSource.Tx tx : txs) {
        String entity = BruteForce.value(tx, g.entityKey()).toString();
        List<TransactionSource.Tx> h = history.computeIfAbsent(entity, e -> new ArrayList<>());
        h.add(tx);
        RandomizedCorrectnessTest.compare(g, BruteForce.features(g, h, tx, tx.timeMs()),
            byGroupAndEvent.get(g.name() + "/" + tx.eventId()), mismatches);
      }
    }
    assertThat(mismatches).as("features differing from brute force").isEmpty();
  }

  @Test
  void shouldKeepAHotEntitysStateBoundedWhenAllItsEventsShareOneMillisecond() {
    // Given the demo group, holding at most 1,000 events per entity within its grace period
    FeatureStreamsConfig config = FeatureStreamsConfig.cardActivity();
    FeatureGroupConfig g = config.group("card_activity");
    Random random = new Random(8);
    List<TransactionSource.Tx> txs = new ArrayList<>();
    long midnight = 1_790_035_200_000L;

    // When one card makes 5,000 transactions all stamped the same millisecond
    for (int i = 0; i < 5_000; i++) {
      txs.add(TransactionSource.random(random, i, "card-hot", midnight, 40, 6));
    }
    int stateBytes;
    int held;
    try (FeatureDriver driver = new FeatureDriver(config)) {
      driver.sendAll(txs);
      assertThat(driver.deadLetters.isEmpty()).as("in-order events are never refused").isTrue();
      byte[] state = driver.driver.<String, byte[]>getKeyValueStore(
          FeatureTopology.stateStoreName("card_activity")).get("card-hot");
      stateBytes = state.length;
      held = serde(g).read(state).recent.size();
    }

    // Then it holds at most 1,000 events, and its state stays far below 1 MiB
    assertThat(held).isBetween(1, 1000);
    assertThat(stateBytes).isLessThan(64 * 1024);
  }

  @Test
  void shouldKeepTheLatestEventHeldWhenSealingItsInstantSoThatTimeSinceLastLeavesItOut() {
    // Given a group holding at most 2 events, with the time since the previous POS payment
    FeatureGroupPlan plan = FeatureGroupPlan.of(FeatureStreamsConfig.parse("""
        featureGroups:
          - name: g
            source: transactions
            entityKey: card_id
            maxEventsInGrace: 2
            features:
              - {name: since_last_pos, agg: time_since_last, filter: channel == POS}
        """).group("g"), TransactionSource.schema(), "test");
    FeatureEngine engine = new FeatureEngine(plan);
    EntityState state = engine.newState();
    long t0 = 1_790_000_000_000L;

    // When a POS payment at t0 is followed, 30 s later, by an ATM withdrawal and a POS payment
    // at one instant (3 events held, 2 of them at the latest instant: it is sealed)
    String[] channels = {"POS", "ATM", "POS"};
    long[] times = {t0, t0 + 30_000, t0 + 30_000};
    FeatureEngine.Result result = null;
    for (int i = 0; i < channels.length; i++) {
      Object[] fields = {channels[i]};
      result = engine.apply(state, new FeatureEvent("card-1", "e-" + i, times[i], fields,
          channels[i].equals("POS") ? 1 : 0, "t", 0, i, null, null));
    }

    // Then the events of that instant but the latest are folded into their tiles, events before
    // it are late from now on, and the online vector computed again from the state (as a task
    // rebuilding its online store does) still leaves the latest out: 30 s since the last POS
    assertThat(state.recent).extracting(EntityState.Recent::seq).containsExactly(2L);
    assertThat(engine.isLate(state, t0 + 29_999)).isTrue();
    assertThat(engine.isLate(state, t0 + 30_000)).isFalse();
    assertThat(result.online()[0]).isEqualTo(30.0);
    assertThat(engine.evaluate(state, state.maxTime, state.maxSeq)).containsExactly(30.0);
  }

  private static TransactionSource.Tx withAmount(TransactionSource.Tx tx, double amount) {
    return new TransactionSource.Tx(tx.eventId(), tx.card(), tx.merchant(), tx.category(), amount,
        tx.country(), tx.channel(), tx.timeMs());
  }

  private static EntityStateSerde serde(FeatureGroupConfig g) {
    return new EntityStateSerde(FeatureGroupPlan.of(g, TransactionSource.schema(),
        "flywheel.data.transactions-value v1"));
  }

  @Test
  void shouldKeepAHighCardinalityDistinctCountWithinItsColumnsBudget() {
    // Given a distinct count over 7 days, exact up to the default 1,000 values
    FeatureGroupPlan plan = FeatureGroupPlan.of(FeatureStreamsConfig.parse("""
        featureGroups:
          - name: g
            source: transactions
            entityKey: card_id
            features:
              - {name: merchants_7d, agg: distinct_count, field: merchant, window: 7d}
        """).group("g"), TransactionSource.schema(), "test");
    FeatureEngine engine = new FeatureEngine(plan);
    EntityState state = engine.newState();
    long t0 = 1_790_000_000_000L;

    // When one card pays 1,000 different merchants in each of 10 hours
    Object[] values = null;
    for (int i = 0; i < 10_000; i++) {
      Object[] fields = new Object[plan.fields().size()];
      fields[0] = "m-" + i;
      values = engine.apply(state, new FeatureEvent("card-1", "e-" + i, t0 + i * 3_600L, fields,
          0, "t", 0, i, null, null)).log();
    }
    int bytes = new EntityStateSerde(plan).write(state).length;

    // Then each sealed hour is a 1.5 KiB sketch rather than 8 KB of exact values (a tile of a
    // 7-day column keeps at most 192 exactly), and the count is the sketch's estimate
    assertThat(bytes).isLessThan(24 * 1024);
    assertThat((Double) values[0]).isCloseTo(10_000.0, withinPercentage(5));
  }

  /**
   * The events of {@code g} the documented rule refuses, computed without the engine: per entity,
   * an event is late when it is more than the grace period behind the entity's latest event time
   * or older than the latest early-sealed one; after each applied event, the held events older
   * than the grace period are sealed, and when more than {@code maxEventsInGrace} remain, every
   * one up to the time that leaves half of {@code maxEventsInGrace}, but the latest event.
   */
  private static Set<String> refusedByRule(FeatureGroupConfig g,
      List<TransactionSource.Tx> txs) {
    Set<String> refused = new HashSet<>();
    Map<String, Long> latest = new HashMap<>();
    Map<String, Long> sealedUpTo = new HashMap<>();
    Map<String, List<Long>> held = new HashMap<>();
    for (TransactionSource.Tx tx : txs) {
      String entity = BruteForce.value(tx, g.entityKey()).toString();
      long t = tx.timeMs();
      Long max = latest.get(entity);
      long sealed = sealedUpTo.getOrDefault(entity, Long.MIN_VALUE);
      if (max != null && (t < max - g.graceMs() || t < sealed)) {
        refused.add(tx.eventId());
        continue;
      }
      long newMax = max == null ? t : Math.max(max, t);
      latest.put(entity, newMax);
      List<Long> times = held.computeIfAbsent(entity, e -> new ArrayList<>());
      times.add(t);
      times.removeIf(x -> x < newMax - g.graceMs());
      if (times.size() > g.maxEventsInGrace()) {
        List<Long> sorted = new ArrayList<>(times);
        sorted.sort(null);
        long upTo = sorted.get(sorted.size() - 1 - g.maxEventsInGrace() / 2);
        sealedUpTo.put(entity, Math.max(sealed, upTo));
        times.removeIf(x -> x <= upTo);
        if (upTo == newMax) {
          times.add(newMax); // never the latest event: it stays held
        }
      }
    }
    return refused;
  }
}
