package dev.flywheel.featurestreams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.events.FeatureVector;
import dev.flywheel.registry.InMemorySchemaRegistryClient;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.avro.Schema;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.Test;

/**
 * Purging decided on event time, the same way however the input is processed: generated
 * transactions of cards often idle longer than their purge time, each record stamped up to 59
 * minutes before or after its event time. Every vector must be the one of a brute-force model of
 * the documented rule (purge, each time the highest event time applied crosses a purge boundary,
 * the entities idle longer than the purge time, then go on), through the production topology, and
 * through the processor with and without restarts. (With 6 cards a purge pass ends within the event
 * that started it; with a pass spread over events, restarts must not change where it purges.)
 */
class EventTimePurgeTest {

  private static final int EVENTS = 800;
  private static final long MINUTE = 60_000;
  private static final long GRACE_MS = 5 * MINUTE;

  private static final FeatureStreamsConfig CONFIG = FeatureStreamsConfig.parse("""
      featureGroups:
        - name: card_10m
          source: transactions
          entityKey: card_id
          grace: 5m
          features:
            - {name: tx_count_10m, agg: count, window: 10m}
            - {name: amount_sum_10m, agg: sum, field: amount, window: 10m}
            - {name: amount_last_10m, agg: last, field: amount, window: 10m}
            - {name: merchants_10m, agg: distinct_count, field: merchant, window: 10m}
            - {name: seconds_since_last_tx, agg: time_since_last}
      """);
  private static final FeatureGroupConfig GROUP = CONFIG.group("card_10m");

  /** A transaction and its record's Kafka timestamp. */
  private record Sent(TransactionSource.Tx tx, long timestamp) {}

  /** What a run wrote: the vector of each event, the online store at the end, purges counted. */
  private record Run(Map<String, FeatureVector> vectors, Map<String, FeatureVector> online,
      double purged) {}

  /**
   * Transactions of 6 cards: mostly a minute apart or less, often up to 10 minutes, sometimes 40
   * (so cards go idle longer than the 15-minute purge time); 30% up to the grace period out of
   * order; each record stamped up to 59 minutes before or after its event time.
   */
  private static List<Sent> generate(long seed) {
    Random random = new Random(seed);
    List<Sent> out = new ArrayList<>();
    long clock = 1_790_000_000_000L + random.nextInt(3_600_000);
    for (int i = 0; i < EVENTS; i++) {
      double r = random.nextDouble();
      clock += r < 0.6 ? random.nextInt(60_000) : r < 0.9 ? random.nextInt(600_000)
          : random.nextInt(2_400_000);
      long t = random.nextDouble() < 0.3 ? clock - random.nextInt((int) GRACE_MS) : clock;
      String card = "card-" + random.nextInt(6);
      long stamp = t + random.nextLong(-59 * MINUTE, 59 * MINUTE);
      out.add(new Sent(TransactionSource.random(random, i, card, t, 5, 3), stamp));
    }
    return out;
  }

  @Test
  void shouldPurgeWhereTheEventTimeRuleSaysWhateverTheRecordTimestamps() {
    // Given
    List<Sent> input = generate(7L);

    // When the input goes through the production topology
    Run run;
    try (FeatureDriver driver = new FeatureDriver(CONFIG)) {
      input.forEach(s -> driver.send(s.tx(), s.timestamp()));
      assertThat(driver.deadLetters.isEmpty()).as("no event is late or out of range").isTrue();
      Map<String, FeatureVector> vectors = new HashMap<>();
      driver.features.readValuesToList().forEach(v -> vectors.put(v.getEventId(), v));
      Map<String, FeatureVector> online = new LinkedHashMap<>();
      driver.onlineStore(GROUP.name()).all().forEachRemaining(kv -> {
        if (!FeatureTopology.STORE_TOKEN_KEY.equals(kv.key)) {
          online.put(kv.key, kv.value);
        }
      });
      run = new Run(vectors, online,
          driver.counter("flywheel.features.purged.entities", GROUP.name()));
    }

    // Then it purged where the model does, and wrote the model's vectors
    assertThatRunFollowsTheModel(input, run);
  }

  @Test
  void shouldPurgeAtTheSameEventsAndWriteTheSameVectorsWhenTheTaskRestarts() {
    // Given
    List<Sent> input = generate(20261124L);

    // When the same input is processed by one processor, and again by a task re-initialised on
    // its stores every 37 records
    Run once = new Task().process(input, Integer.MAX_VALUE);
    Run restarted = new Task().process(input, 37);

    // Then both runs purged where the model does, and wrote the same vectors: the model's
    assertThatRunFollowsTheModel(input, once);
    assertThatRunFollowsTheModel(input, restarted);
  }

  @Test
  void shouldPurgeAtTheSameEventsWhenTheTaskRestartsWithinAPurgePass() {
    // Given a task that examines at most 2 store entries per event when purging, so that a purge
    // pass over the 6 cards and the reserved keys takes several events
    List<Sent> input = generate(20261125L);

    // When the same input is processed by one processor, and again by a task re-initialised on
    // its stores every 3 records (most often while a pass is in progress)
    Task once = new Task(2);
    Run onceRun = once.process(input, Integer.MAX_VALUE);
    Task restarted = new Task(2);
    Run restartedRun = restarted.process(input, 3);

    // Then both held the same entities after every event, purged as many, and wrote vectors of
    // the same values
    assertThat(onceRun.purged()).as("entities purged").isGreaterThan(20);
    assertThat(restarted.entitiesAfterEach).isEqualTo(once.entitiesAfterEach);
    assertThat(restartedRun.purged()).isEqualTo(onceRun.purged());
    assertThat(values(restartedRun.vectors())).isEqualTo(values(onceRun.vectors()));
    assertThat(values(restartedRun.online())).isEqualTo(values(onceRun.online()));
  }

  /** The features and as-of time of each vector, without the time it was computed at. */
  private static Map<String, List<Object>> values(Map<String, FeatureVector> vectors) {
    Map<String, List<Object>> values = new HashMap<>();
    vectors.forEach((key, v) -> values.put(key,
        List.of(v.getAsOf(), v.getFeatures(), v.getCategoricalFeatures())));
    return values;
  }

  /**
   * The model: each entity's accepted events since its last purge, and, after each event whose
   * time crosses a purge boundary (a multiple of the purge interval) past the highest event time
   * so far, the purge of every entity idle longer than the purge time before it.
   */
  private static void assertThatRunFollowsTheModel(List<Sent> input, Run run) {
    long purgeAfter = GROUP.effectivePurgeAfterMs();
    long every = AggregateProcessor.purgeEveryMs(purgeAfter);
    Map<String, List<TransactionSource.Tx>> histories = new HashMap<>();
    long watermark = Long.MIN_VALUE;
    int purges = 0;
    List<String> mismatches = new ArrayList<>();
    assertThat(run.vectors()).hasSize(EVENTS);
    for (Sent s : input) {
      TransactionSource.Tx tx = s.tx();
      List<TransactionSource.Tx> h = histories.computeIfAbsent(tx.card(), c -> new ArrayList<>());
      h.add(tx);
      RandomizedCorrectnessTest.compare(GROUP, BruteForce.features(GROUP, h, tx, tx.timeMs()),
          run.vectors().get(tx.eventId()), mismatches);
      if (Math.floorDiv(tx.timeMs(), every) > Math.floorDiv(watermark, every)) {
        watermark = tx.timeMs();
        long w = watermark;
        int before = histories.size();
        histories.values().removeIf(events -> w - latest(events).timeMs() > purgeAfter);
        purges += before - histories.size();
      }
    }
    assertThat(purges).as("purges the input makes the model do").isGreaterThan(20);
    assertThat(mismatches).as("features differing from the model").isEmpty();
    assertThat(run.purged()).as("entities purged").isEqualTo((double) purges);
    assertThat(run.online().keySet()).as("entities in the online store")
        .isEqualTo(histories.keySet());
    histories.forEach((card, h) -> RandomizedCorrectnessTest.compare(GROUP,
        BruteForce.features(GROUP, h, latest(h), latest(h).timeMs()), run.online().get(card),
        mismatches));
    assertThat(mismatches).as("online features differing from the model").isEmpty();
  }

  /** The entity's latest event: the latest event time, of two the later to arrive. */
  private static TransactionSource.Tx latest(List<TransactionSource.Tx> events) {
    TransactionSource.Tx latest = events.get(0);
    for (TransactionSource.Tx e : events) {
      if (e.timeMs() >= latest.timeMs()) {
        latest = e;
      }
    }
    return latest;
  }

  /**
   * One task of the group on {@link MockProcessorContext}s, its stores kept across restarts (as
   * the state store's changelog and the online store's folder keep them). Punctuators scheduled
   * on stream time are fired as Kafka Streams does: stream time is the highest record timestamp;
   * a new schedule fires at the first record, then once stream time reaches the next interval.
   */
  private static final class Task {
    /** The most store entries a purge examines per event. */
    final int purgeEntriesPerEvent;
    /** The entities of the state store after each event, in key order. */
    final List<List<String>> entitiesAfterEach = new ArrayList<>();
    final Schema schema = TransactionSource.schema();
    final FeatureGroupPlan plan = FeatureGroupPlan.of(GROUP, schema,
        "flywheel.data.transactions-value v1");
    final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    final AvroSerdes serdes = new AvroSerdes(new InMemorySchemaRegistryClient(), Map.of());
    final KeyValueStore<String, byte[]> state =
        store(FeatureTopology.stateStoreName(GROUP.name()), Serdes.ByteArray());
    final KeyValueStore<String, FeatureVector> online = store(
        FeatureTopology.onlineStoreName(GROUP.name()), serdes.specific(FeatureVector.class, false));

    /** A task purging as the production processor does. */
    Task() {
      this(AggregateProcessor.PURGE_ENTRIES_PER_EVENT);
    }

    Task(int purgeEntriesPerEvent) {
      this.purgeEntriesPerEvent = purgeEntriesPerEvent;
    }

    private static <V> KeyValueStore<String, V> store(String name, Serde<V> values) {
      KeyValueStore<String, V> store = Stores.keyValueStoreBuilder(
              Stores.inMemoryKeyValueStore(name), Serdes.String(), values)
          .withLoggingDisabled().withCachingDisabled().build();
      store.init(new MockProcessorContext<>().getStateStoreContext(), store);
      return store;
    }

    Run process(List<Sent> input, int restartEvery) {
      Map<String, FeatureVector> vectors = new HashMap<>();
      MockProcessorContext<String, Object> context = null;
      AggregateProcessor processor = null;
      long streamTime = Long.MIN_VALUE;
      long nextPunctuation = 0;
      for (int i = 0; i < input.size(); i++) {
        if (i % restartEvery == 0) {
          if (processor != null) {
            processor.close();
          }
          context = new MockProcessorContext<>();
          context.addStateStore(state);
          context.addStateStore(online);
          processor = new AggregateProcessor(plan, FeatureTopology.stateStoreName(GROUP.name()),
              FeatureTopology.onlineStoreName(GROUP.name()),
              Topics.builder(serdes).build().features().name(), meters, purgeEntriesPerEvent,
              AggregateProcessor.CACHED_STATE_BYTES);
          processor.init(context);
          nextPunctuation = 0;
        }
        Sent s = input.get(i);
        processor.process(new Record<>(s.tx().card(), extract(s, i), s.timestamp()));
        streamTime = Math.max(streamTime, s.timestamp());
        for (MockProcessorContext.CapturedPunctuator p : context.scheduledPunctuators()) {
          if (p.getType() == PunctuationType.STREAM_TIME && streamTime >= nextPunctuation) {
            p.getPunctuator().punctuate(streamTime);
            long interval = p.getInterval().toMillis();
            nextPunctuation = Math.max(nextPunctuation + interval, streamTime + 1);
          }
        }
        context.forwarded().forEach(f -> {
          assertThat(f.record().value()).as("no event is late").isInstanceOf(FeatureVector.class);
          FeatureVector v = (FeatureVector) f.record().value();
          vectors.put(v.getEventId(), v);
        });
        context.resetForwards();
        List<String> entities = new ArrayList<>();
        try (var it = state.all()) {
          it.forEachRemaining(kv -> {
            if (!FeatureTopology.isReservedKey(kv.key)) {
              entities.add(kv.key);
            }
          });
        }
        entitiesAfterEach.add(entities);
      }
      Map<String, FeatureVector> latest = new LinkedHashMap<>();
      online.all().forEachRemaining(kv -> {
        if (!FeatureTopology.STORE_TOKEN_KEY.equals(kv.key)) {
          latest.put(kv.key, kv.value);
        }
      });
      return new Run(vectors, latest,
          meters.get("flywheel.features.purged.entities").counter().count());
    }

    /** The event of {@code s}, through the production extraction. */
    FeatureEvent extract(Sent s, long offset) {
      MockProcessorContext<String, Object> context = new MockProcessorContext<>();
      ExtractProcessor extract = new ExtractProcessor(plan, meters);
      extract.init(context);
      extract.process(new Record<>(s.tx().card().getBytes(), new Decoded(
          s.tx().toRecord(schema), null, null, "flywheel.data.transactions", 0, offset,
          s.timestamp()), s.timestamp()));
      Object out = context.forwarded().get(0).record().value();
      assertThat(out).as("no event is out of range").isInstanceOf(FeatureEvent.class);
      return (FeatureEvent) out;
    }
  }
}
