package dev.flywheel.featurestreams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.events.FeatureVector;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;

/**
 * Thousands of generated transactions, a third of them out of order within the grace period and
 * some at exactly the same instant, through the production topology; every feature of every
 * vector, and every entity's online value at the end, compared with {@link BruteForce}. Covers
 * every aggregation, sliding windows of 1-second, 1-minute and 1-hour tiles, lifetime, numeric and
 * enum filters, categorical features, ratios, and a group keyed by another field (repartitioned).
 */
class RandomizedCorrectnessTest {

  private static final int EVENTS = 3000;
  private static final long GRACE_MS = 5 * 60_000;

  static FeatureStreamsConfig config() {
    List<FeatureGroupConfig> groups = new ArrayList<>(
        FeatureStreamsConfig.cardActivity().featureGroups());
    groups.addAll(FeatureStreamsConfig.parse(resource("/every_aggregation.yaml")).featureGroups());
    return new FeatureStreamsConfig(groups);
  }

  static String resource(String name) {
    try (InputStream in = RandomizedCorrectnessTest.class.getResourceAsStream(name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Transactions of 8 cards over about a month: mostly seconds apart, sometimes hours or a day;
   * 35% arrive up to the grace period late, 5% at the same instant as the card's previous one.
   */
  static List<TransactionSource.Tx> generate(long seed, int events) {
    Random random = new Random(seed);
    List<TransactionSource.Tx> out = new ArrayList<>();
    Map<String, Long> lastTime = new HashMap<>();
    long clock = 1_790_000_000_000L + random.nextInt(3_600_000);
    for (int i = 0; i < events; i++) {
      double r = random.nextDouble();
      clock += r < 0.70 ? random.nextInt(60_000) : r < 0.99 ? random.nextInt(1_800_000)
          : random.nextInt(86_400_000);
      String card = "card-" + random.nextInt(8);
      long t = clock;
      if (random.nextDouble() < 0.35) {
        t = clock - random.nextInt((int) GRACE_MS);
      }
      Long previous = lastTime.get(card);
      if (previous != null && random.nextDouble() < 0.05 && previous >= clock - GRACE_MS) {
        t = previous;
      }
      lastTime.put(card, t);
      out.add(TransactionSource.random(random, i, card, t, 40, 6));
    }
    return out;
  }

  @Test
  void shouldMatchBruteForceForEveryAggregationAndWindowWithOutOfOrderEvents() {
    // Given
    FeatureStreamsConfig config = config();
    List<TransactionSource.Tx> txs = generate(20261123L, EVENTS);

    // When
    List<TestRecord<String, FeatureVector>> vectors;
    Map<String, Map<String, FeatureVector>> online = new LinkedHashMap<>();
    try (FeatureDriver driver = new FeatureDriver(config)) {
      driver.sendAll(txs);
      vectors = driver.features.readRecordsToList();
      for (FeatureGroupConfig g : config.featureGroups()) {
        Map<String, FeatureVector> store = new LinkedHashMap<>();
        driver.onlineStore(g.name()).all().forEachRemaining(kv -> {
          if (!FeatureTopology.STORE_TOKEN_KEY.equals(kv.key)) {
            store.put(kv.key, kv.value);
          }
        });
        online.put(g.name(), store);
      }
      assertThat(driver.deadLetters.isEmpty()).as("no event is late or invalid").isTrue();
    }

    // Then: one vector per event and group, each equal to the brute-force values
    assertThat(vectors).hasSize(EVENTS * config.featureGroups().size());
    Map<String, FeatureVector> byGroupAndEvent = new HashMap<>();
    for (TestRecord<String, FeatureVector> v : vectors) {
      assertThat(v.key()).isEqualTo(v.value().getEntityId());
      assertThat(byGroupAndEvent.put(v.value().getFeatureGroup() + "/" + v.value().getEventId(),
          v.value())).as("one vector per event and group").isNull();
    }
    List<String> mismatches = new ArrayList<>();
    int compared = 0;
    for (FeatureGroupConfig g : config.featureGroups()) {
      Map<String, List<TransactionSource.Tx>> history = new HashMap<>();
      for (TransactionSource.Tx tx : txs) {
        String entity = BruteForce.value(tx, g.entityKey()).toString();
        List<TransactionSource.Tx> h = history.computeIfAbsent(entity, e -> new ArrayList<>());
        h.add(tx);
        FeatureVector v = byGroupAndEvent.get(g.name() + "/" + tx.eventId());
        assertThat(v).as("vector of %s in %s", tx.eventId(), g.name()).isNotNull();
        assertThat(v.getEntityId()).isEqualTo(entity);
        assertThat(v.getEventTime().toEpochMilli()).isEqualTo(tx.timeMs());
        assertThat(v.getAsOf().toEpochMilli()).isEqualTo(tx.timeMs());
        compare(g, BruteForce.features(g, h, tx, tx.timeMs()), v, mismatches);
        compared++;
      }
      // the online store: every event of the entity, as of its latest event time
      for (Map.Entry<String, List<TransactionSource.Tx>> e : history.entrySet()) {
        List<TransactionSource.Tx> h = e.getValue();
        TransactionSource.Tx latest = h.get(0);
        for (TransactionSource.Tx tx : h) {
          if (tx.timeMs() >= latest.timeMs()) {
            latest = tx;
          }
        }
        FeatureVector stored = online.get(g.name()).get(e.getKey());
        assertThat(stored).as("online %s of %s", e.getKey(), g.name()).isNotNull();
        assertThat(stored.getAsOf().toEpochMilli()).isEqualTo(latest.timeMs());
        assertThat(stored.getEventId()).isEqualTo(latest.eventId());
        compare(g, BruteForce.features(g, h, latest, latest.timeMs()), stored, mismatches);
      }
      assertThat(online.get(g.name())).hasSize(history.size());
    }
    assertThat(compared).isEqualTo(EVENTS * config.featureGroups().size());
    assertThat(mismatches).as("features differing from brute force").isEmpty();
  }

  static void compare(FeatureGroupConfig group, Map<String, Object> expected, FeatureVector actual,
      List<String> mismatches) {
    for (Map.Entry<String, Object> e : expected.entrySet()) {
      String name = e.getKey();
      Object want = e.getValue();
      Object got = actual.getFeatures().containsKey(name) ? actual.getFeatures().get(name)
          : actual.getCategoricalFeatures().get(name);
      boolean present = actual.getFeatures().containsKey(name)
          || actual.getCategoricalFeatures().containsKey(name);
      boolean same;
      if (!present) {
        same = false;
      } else if (want instanceof Double w && got instanceof Double g) {
        same = Math.abs(w - g) <= 1e-9 * Math.max(1.0, Math.abs(w));
      } else {
        same = want == null ? got == null : want.equals(got);
      }
      if (!same && mismatches.size() < 40) {
        mismatches.add(group.name() + " " + actual.getEventId() + " " + name + ": expected "
            + want + ", got " + (present ? got : "(missing)"));
      }
    }
  }
}
