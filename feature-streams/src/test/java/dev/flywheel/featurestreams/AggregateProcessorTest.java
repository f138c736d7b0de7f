package dev.flywheel.featurestreams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.events.FeatureVector;
import dev.flywheel.registry.InMemorySchemaRegistryClient;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.Test;

/**
 * When {@link AggregateProcessor} rebuilds the online store at initialisation, how it purges idle
 * entities and what its state cache holds: instances of one task on {@link MockProcessorContext}s.
 * The state store is one store object shared by the instances, as its changelog makes it (a standby
 * or a restore holds what the last active wrote); each instance has its own online store, which has
 * no changelog and stays on the instance's disk.
 */
class AggregateProcessorTest {

  private static final long T0 = 1_790_000_040_000L;
  private static final long DAY = 24 * 60 * 60_000L;
  private static final String GROUP = "card_activity";

  private final Schema schema = TransactionSource.schema();
  private final AvroSerdes serdes = new AvroSerdes(new InMemorySchemaRegistryClient(), Map.of());
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final KeyValueStore<String, byte[]> state = store(
      FeatureTopology.stateStoreName(GROUP), Serdes.ByteArray());
  private long offset;

  private static FeatureGroupPlan plan(FeatureGroupConfig group) {
    return FeatureGroupPlan.of(group, TransactionSource.schema(),
        "flywheel.data.transactions-value v1");
  }

  private static FeatureGroupPlan cardActivity() {
    return plan(FeatureStreamsConfig.cardActivity().group(GROUP));
  }

  private <V> KeyValueStore<String, V> store(String name, Serde<V> values) {
    KeyValueStore<String, V> store = Stores.keyValueStoreBuilder(
            Stores.inMemoryKeyValueStore(name), Serdes.String(), values)
        .withLoggingDisabled().withCachingDisabled().build();
    store.init(new MockProcessorContext<>().getStateStoreContext(), store);
    return store;
  }

  private KeyValueStore<String, FeatureVector> onlineStore() {
    return store(FeatureTopology.onlineStoreName(GROUP),
        serdes.specific(FeatureVector.class, false));
  }

  /** The task, active on one instance: initialised on the shared state and its online store. */
  private final class Instance {
    final MockProcessorContext<String, Object> context = new MockProcessorContext<>();
    final FeatureGroupPlan plan;
    final AggregateProcessor processor;
    final KeyValueStore<String, FeatureVector> online;

    Instance(FeatureGroupPlan plan, KeyValueStore<String, FeatureVector> online) {
      this(plan, state, online, AggregateProcessor.PURGE_ENTRIES_PER_EVENT);
    }

    /** The task on {@code state}, purging at most {@code purgeEntriesPerEvent} per event. */
    Instance(FeatureGroupPlan plan, KeyValueStore<String, byte[]> state,
        KeyValueStore<String, FeatureVector> online, int purgeEntriesPerEvent) {
      this.plan = plan;
      this.online = online;
      context.addStateStore(state);
      context.addStateStore(online);
      processor = new AggregateProcessor(plan, FeatureTopology.stateStoreName(GROUP),
          FeatureTopology.onlineStoreName(GROUP),
          Topics.builder(serdes).build().features().name(), meters, purgeEntriesPerEvent,
          AggregateProcessor.CACHED_STATE_BYTES);
      processor.init(context);
    }

    /** One transaction, through the production extraction. */
    void send(String card, long timeMs, double amount) {
      send(card, timeMs, amount, "m-1");
    }

    /** One transaction paying {@code merchant}, through the production extraction. */
    void send(String card, long timeMs, double amount, String merchant) {
      long n = offset++;
      TransactionSource.Tx tx = new TransactionSource.Tx("e-" + n, card, merchant, "grocery",
          amount, "DE", "POS", timeMs);
      MockProcessorContext<String, Object> extractContext = new MockProcessorContext<>();
      ExtractProcessor extract = new ExtractProcessor(plan, meters);
      extract.init(extractContext);
      extract.process(new Record<>(card.getBytes(), new Decoded(tx.toRecord(schema), null, null,
          "flywheel.data.transactions", 0, n, timeMs), timeMs));
      FeatureEvent event = (FeatureEvent) extractContext.forwarded().get(0).record().value();
      processor.process(new Record<>(card, event, timeMs));
    }

    void stop() {
      processor.close();
    }
  }

  @Test
  void shouldRebuildAnOnlineStoreLeftOnAnInstanceWhileAnotherOneProcessedTheTask() {
    // Given instance A processed card-1 and card-2, then stopped (rolling restart)
    KeyValueStore<String, FeatureVector> onlineOfA = onlineStore();
    Instance a = new Instance(cardActivity(), onlineOfA);
    a.send("card-1", T0, 10.0);
    a.send("card-2", T0, 20.0);
    a.stop();
    // and instance B took the task over (its online store empty, so rebuilt), updated card-1
    // (purging card-2, idle for longer than 7 days and 5 minutes in event time) and saw card-3
    Instance b = new Instance(cardActivity(), onlineStore());
    b.send("card-1", T0 + 8 * DAY, 30.0);
    b.send("card-3", T0 + 8 * DAY, 40.0);
    b.stop();

    // When the task moves back to A, whose online store still holds what A wrote
    new Instance(cardActivity(), onlineOfA);

    // Then A's online store is what B left: card-1 updated, card-3 there, card-2 gone
    assertThat(onlineOfA.get("card-1").getAsOf()).isEqualTo(Instant.ofEpochMilli(T0 + 8 * DAY));
    assertThat(onlineOfA.get("card-1").getFeatures()).containsEntry("amount_last", 30.0);
    assertThat(onlineOfA.get("card-3")).isNotNull();
    assertThat(onlineOfA.get("card-2")).isNull();
  }

  @Test
  void shouldRecomputeTheOnlineStoreUnderAChangedDeclaration() {
    // Given an instance kept card-1's vector under the group's declaration
    KeyValueStore<String, FeatureVector> online = onlineStore();
    Instance before = new Instance(cardActivity(), online);
    before.send("card-1", T0, 10.0);
    before.stop();

    // When it restarts on the same stores with the group's grace doubled
    FeatureGroupConfig g = FeatureStreamsConfig.cardActivity().group(GROUP);
    FeatureGroupConfig changed = new FeatureGroupConfig(g.name(), g.source(), g.entityKey(),
        g.eventTime(), g.eventId(), 2 * g.graceMs(), g.purgeAfterMs(), g.distinctExactUpTo(),
        g.features(), g.defaults(), g.maxClockSkewMs(), g.maxEventsInGrace());
    new Instance(plan(changed), online);

    // Then card-1's vector is computed again, with the new declaration's version
    assertThat(online.get("card-1").getFeatureGroupVersion()).isEqualTo(changed.version())
        .isNotEqualTo(g.version());
  }

  @Test
  void shouldDropVectorsOfAnOldLayoutWhenTheGroupsFeaturesChanged() {
    // Given an instance kept card-1's vector with the features of card_activity
    KeyValueStore<String, FeatureVector> online = onlineStore();
    Instance before = new Instance(cardActivity(), online);
    before.send("card-1", T0, 10.0);
    before.stop();

    // When it restarts on the same stores with the group reduced to one feature
    FeatureGroupConfig changed = FeatureStreamsConfig.parse(
        "featureGroups:\n  - name: " + GROUP + "\n    source: transactions\n"
            + "    entityKey: card_id\n    features:\n"
            + "      - {name: tx_count_10m, agg: count, window: 10m}\n").group(GROUP);
    Instance after = new Instance(plan(changed), online);

    // Then the old vector is gone (its state is started afresh), and card-1's next event gives
    // a vector with the new features only
    assertThat(online.get("card-1")).isNull();
    after.send("card-1", T0 + 60_000, 10.0);
    assertThat(online.get("card-1").getFeatures()).containsOnlyKeys("tx_count_10m");
  }

  @Test
  void shouldKeepTheOnlineStoreWhenTheTaskRestartsOnTheStateItWasDerivedFrom() {
    // Given an instance processed card-1 and stopped, and nobody processed the task since
    KeyValueStore<String, FeatureVector> online = onlineStore();
    Instance first = new Instance(cardActivity(), online);
    first.send("card-1", T0, 10.0);
    first.stop();

    // When the task starts again on the same instance
    new Instance(cardActivity(), online);

    // Then the vector is the one computed from the event, not rebuilt (a rebuilt one has no
    // source offset)
    assertThat(online.get("card-1").getSource()).isNotNull();
    assertThat(online.get("card-1").getSource().getOffset()).isZero();
  }

  @Test
  void shouldNeitherPurgeNorCountTheReservedKeys() {
    // Given an instance that saw card-1
    Instance instance = new Instance(cardActivity(), onlineStore());
    instance.send("card-1", T0, 10.0);

    // When an event of card-2 takes the event times applied past card-1's purge time
    instance.send("card-2", T0 + 8 * DAY, 10.0);

    // Then only card-1 is purged and counted; the token and the watermark stay
    assertThat(meters.get("flywheel.features.purged.entities").counter().count()).isEqualTo(1.0);
    assertThat(state.get("card-1")).isNull();
    assertThat(state.get(FeatureTopology.STORE_TOKEN_KEY)).isNotNull();
    assertThat(state.get(FeatureTopology.WATERMARK_KEY)).isNotNull();
    // and a restart's rebuild of the online store takes neither for an entity
    KeyValueStore<String, FeatureVector> online = onlineStore();
    new Instance(cardActivity(), online);
    assertThat(online.get("card-2")).isNotNull();
    assertThat(online.get(FeatureTopology.WATERMARK_KEY)).isNull();
  }

  @Test
  void shouldPurgeWhenTheEventTimesCrossAPurgeBoundaryNotWhenTheTaskRestarts() {
    // Given card_activity purges every `every` of event time (boundaries at its multiples), and
    // boundary j is the last one at or before card-1's purge time
    long purgeAfter = cardActivity().config().effectivePurgeAfterMs();
    long every = AggregateProcessor.purgeEveryMs(purgeAfter);
    long j = Math.floorDiv(T0 + purgeAfter, every) * every;
    assertThat(T0 + purgeAfter).as("test times").isLessThan(j + every - 2);
    // and an instance saw card-1 at T0, then card-2 at boundary j (card-1 not idle long enough
    // then) and just before boundary j + 1 (card-1 idle long enough, but no boundary crossed)
    Instance first = new Instance(cardActivity(), onlineStore());
    first.send("card-1", T0, 10.0);
    first.send("card-2", j, 10.0);
    first.send("card-2", j + every - 2, 10.0);
    first.stop();

    // When the task restarts and applies another event before boundary j + 1
    Instance restarted = new Instance(cardActivity(), onlineStore());
    restarted.send("card-3", j + every - 1, 10.0);

    // Then card-1 is still there, as it would be without the restart
    assertThat(state.get("card-1")).isNotNull();
    // and it is purged by the first event at or after boundary j + 1
    restarted.send("card-3", j + every, 10.0);
    assertThat(state.get("card-1")).isNull();
    assertThat(meters.get("flywheel.features.purged.entities").counter().count()).isEqualTo(1.0);
  }

  @Test
  void shouldPurgeIdleEntitiesAFewStoreEntriesPerEventUntilAllAreGone() {
    // Given a task purging at most 50 store entries per event, whose state holds 2,980 cards
    // last seen at T0; 20 other cards, spread among them in key order, are seen from T0 + 8 days
    int budget = 50;
    IteratedEntriesStore<byte[]> counted = new IteratedEntriesStore<>(state);
    KeyValueStore<String, FeatureVector> online = onlineStore();
    Instance task = new Instance(cardActivity(), counted, online, budget);
    List<String> idle = new ArrayList<>();
    List<String> active = new ArrayList<>();
    for (int i = 0; i < 3000; i++) {
      String card = String.format("card-%04d", i);
      if (i % 150 == 0) {
        active.add(card);
      } else {
        idle.add(card);
        task.send(card, T0, 10.0);
      }
    }
    // and the events of the active cards, 5 rounds of one each, 1 s apart from T0 + 8 days: the
    // first one takes the event times applied past the idle cards' purge time
    List<String> cards = new ArrayList<>();
    for (int round = 0; round < 5; round++) {
      cards.addAll(active);
    }

    // When the task processes them, counting the store entries each event iterates over
    List<Long> iterated = new ArrayList<>();
    List<Integer> idleLeft = new ArrayList<>();
    counted.takeIterated();
    for (int n = 0; n < cards.size(); n++) {
      task.send(cards.get(n), T0 + 8 * DAY + n * 1000L, 10.0 + n);
      iterated.add(counted.takeIterated());
      idleLeft.add((int) idle.stream().filter(card -> state.get(card) != null).count());
    }

    // Then no event iterated over more than 50 entries, and the first one left idle cards for
    // the next events
    assertThat(Collections.max(iterated)).as("most entries iterated by one event")
        .isLessThanOrEqualTo(budget);
    assertThat(idleLeft.get(0)).isPositive();
    // and every idle card was gone within the documented bound: N / (50 - 1) events, N the
    // state's entries (the idle cards, 3 reserved keys, at most one new card per event)
    int bound = (idle.size() + 3 + cards.size() + budget - 2) / (budget - 1);
    assertThat(idleLeft.indexOf(0)).isBetween(1, bound - 1);
    assertThat(idle).allSatisfy(card -> {
      assertThat(state.get(card)).as(card).isNull();
      assertThat(online.get(card)).as(card).isNull();
    });
    assertThat(meters.get("flywheel.features.purged.entities").counter().count())
        .isEqualTo(idle.size());
    // and the active cards kept the vectors of a task that never saw the idle ones
    Instance alone = new Instance(cardActivity(), store(FeatureTopology.stateStoreName(GROUP),
        Serdes.ByteArray()), onlineStore(), budget);
    for (int n = 0; n < cards.size(); n++) {
      alone.send(cards.get(n), T0 + 8 * DAY + n * 1000L, 10.0 + n);
    }
    assertThat(active).allSatisfy(card -> {
      assertThat(online.get(card)).as(card).isNotNull();
      assertThat(online.get(card).getFeatures()).as(card)
          .isEqualTo(alone.online.get(card).getFeatures());
      assertThat(online.get(card).getCategoricalFeatures()).as(card)
          .isEqualTo(alone.online.get(card).getCategoricalFeatures());
    });
  }

  @Test
  void shouldGoOnWithAPurgePassFromWhereItStoppedWhenTheTaskRestarts() {
    // Given a task purging at most 10 store entries per event saw 100 cards at T0, then card-x
    // at T0 + 8 days, which started a pass over them
    KeyValueStore<String, FeatureVector> online = onlineStore();
    Instance first = new Instance(cardActivity(), state, online, 10);
    for (int i = 0; i < 100; i++) {
      first.send(String.format("card-%03d", i), T0, 10.0);
    }
    first.send("card-x", T0 + 8 * DAY, 10.0);
    int leftByFirst = idleCards();
    first.stop();

    // When the task restarts, on the state the first one left, and applies one more event
    IteratedEntriesStore<byte[]> counted = new IteratedEntriesStore<>(state);
    Instance restarted = new Instance(cardActivity(), counted, online, 10);
    counted.takeIterated();
    restarted.send("card-x", T0 + 8 * DAY + 1000, 10.0);

    // Then that event went on with the pass: 10 more entries examined, not the pass started over
    assertThat(leftByFirst).isBetween(1, 99);
    assertThat(counted.takeIterated()).isEqualTo(10);
    assertThat(idleCards()).isEqualTo(leftByFirst - 10);
    assertThat(state.get(FeatureTopology.PURGE_CURSOR_KEY)).isNotNull();
    // and the pass ends with every idle card gone and its cursor deleted
    for (int n = 2; idleCards() > 0 && n < 20; n++) {
      restarted.send("card-x", T0 + 8 * DAY + n * 1000L, 10.0);
    }
    assertThat(idleCards()).isZero();
    restarted.send("card-x", T0 + 8 * DAY + 30_000, 10.0);
    assertThat(state.get(FeatureTopology.PURGE_CURSOR_KEY)).isNull();
    assertThat(state.get("card-x")).isNotNull();
  }

  /** Cards of the state store other than card-x. */
  private int idleCards() {
    int n = 0;
    try (var it = state.all()) {
      while (it.hasNext()) {
        String key = it.next().key;
        if (!FeatureTopology.isReservedKey(key) && !"card-x".equals(key)) {
          n++;
        }
      }
    }
    return n;
  }

  @Test
  void shouldKeepTheCachedStatesWithinTheirByteBudgetHoweverLargeEachState() {
    // Given a group holding each entity's last merchant name, and 60 cards paying merchants of
    // 100,000 letters: each card's state holds about 100 KB, together more than the cache's
    // budget, far fewer of them than the cache's count limit
    FeatureGroupPlan plan = plan(FeatureStreamsConfig.parse("""
        featureGroups:
          - name: card_activity
            source: transactions
            entityKey: card_id
            features:
              - {name: last_merchant_10m, agg: last, field: merchant, window: 10m}
              - {name: tx_10m, agg: count, window: 10m}
        """).group(GROUP));
    Instance task = new Instance(plan, onlineStore());
    long encodedTotal = 0;
    List<Long> cachedBytes = new ArrayList<>();
    List<Long> countedBytes = new ArrayList<>();

    // When each card's event is applied
    for (int i = 0; i < 60; i++) {
      String card = "card-" + i;
      task.send(card, T0 + i * 1000L, 10.0, i + "-" + "x".repeat(100_000));
      encodedTotal += state.get(card).length;
      // the encoded size of every state the cache holds, read from the store
      long bytes = 0;
      for (String cached : task.processor.cachedEntities()) {
        bytes += state.get(cached).length;
      }
      cachedBytes.add(bytes);
      countedBytes.add(task.processor.cachedStateBytes());
      // Then the card just updated is cached
      assertThat(task.processor.cachedEntities()).last().isEqualTo(card);
    }

    // and the states cached never took more than the budget, though the states written did
    assertThat(encodedTotal).isGreaterThan(AggregateProcessor.CACHED_STATE_BYTES);
    assertThat(Collections.max(cachedBytes)).as("most bytes of states cached at once")
        .isLessThanOrEqualTo(AggregateProcessor.CACHED_STATE_BYTES);
    // and the cache counts them as they are
    assertThat(countedBytes).isEqualTo(cachedBytes);
  }
}
