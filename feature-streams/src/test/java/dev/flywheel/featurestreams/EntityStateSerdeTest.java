package dev.flywheel.featurestreams;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The binary form of an entity's state: a round trip keeps every value; another layout is not read. */
class EntityStateSerdeTest {

  private static FeatureGroupPlan plan(String yaml) {
    FeatureStreamsConfig config = FeatureStreamsConfig.parse(yaml);
    return FeatureGroupPlan.of(config.featureGroups().get(0), TransactionSource.schema(), "test");
  }

  private static final String GROUP = """
      featureGroups:
        - name: g
          source: transactions
          entityKey: card_id
          distinctExactUpTo: 20
          features:
            - {name: n_10m, agg: count, window: 10m}
            - {name: sd_1h, agg: stddev, field: amount, window: 1h}
            - {name: max_7d, agg: max, field: amount, window: 7d}
            - {name: first_merchant_24h, agg: first, field: merchant, window: 24h}
            - {name: merchants_7d, agg: distinct_count, field: merchant, window: 7d}
            - {name: since_last, agg: time_since_last, filter: channel != ATM}
      """;

  private static FeatureEvent event(FeatureGroupPlan plan, Random random, int i, long time) {
    Object[] values = new Object[plan.fields().size()];
    for (int f = 0; f < values.length; f++) {
      String name = plan.fields().get(f).name();
      values[f] = switch (name) {
        case "amount" -> random.nextInt(10_000) / 100.0;
        case "merchant" -> "m-" + random.nextInt(60);
        default -> random.nextBoolean() ? "POS" : "ATM";
      };
    }
    long bits = "ATM".equals(values[plan.filterFields().get(0)]) ? 0 : 1;
    return new FeatureEvent("card-1", "e-" + i, time, values, bits, "t", 0, i, null, null);
  }

  @Test
  void shouldEvaluateTheSameAfterARoundTripWithTilesRecentEventsAndSketches() {
    // Given an entity with hundreds of events over days: tiles, recent events, a sketch
    FeatureGroupPlan plan = plan(GROUP);
    FeatureEngine engine = new FeatureEngine(plan);
    EntityStateSerde serde = new EntityStateSerde(plan);
    Random random = new Random(3);
    EntityState state = engine.newState();
    long t = 1_790_000_000_000L;
    for (int i = 0; i < 600; i++) {
      t += random.nextInt(600_000);
      engine.apply(state, event(plan, random, i, t - random.nextInt(200_000)));
    }
    assertThat(state.recent).isNotEmpty();

    // When it is written and read back
    EntityState copy = serde.read(serde.write(state));

    // Then every feature evaluates the same, now and at earlier instants within grace
    for (long at : List.of(state.maxTime, state.maxTime - 60_000, state.maxTime - 299_000)) {
      assertThat(engine.evaluate(copy, at, state.maxSeq))
          .containsExactly(engine.evaluate(state, at, state.maxSeq));
    }
    assertThat(copy.maxEventId).isEqualTo(state.maxEventId);
    assertThat(copy.nextSeq).isEqualTo(state.nextSeq);
    assertThat(serde.latestEventTime(serde.write(state))).isEqualTo(state.maxTime);
  }

  @Test
  void shouldDeriveTheLayoutFromTheDeclarationAloneSoThatEveryRunReadsTheState() {
    // Given the group (with an enum filter) compiled in this JVM
    FeatureGroupPlan plan = plan(GROUP);

    // Then its layout is the value every other JVM computes for the same declaration (a layout
    // from identity hash codes, such as an enum's, would differ from run to run, and a restarted
    // processor would drop every entity's state as foreign)
    assertThat(plan.layout()).isEqualTo(1088490385);
  }

  @Test
  void shouldNotReadStateWrittenForOtherFeatures() {
    // Given state written for the group as declared
    FeatureGroupPlan plan = plan(GROUP);
    FeatureEngine engine = new FeatureEngine(plan);
    EntityState state = engine.newState();
    engine.apply(state, event(plan, new Random(1), 1, 1_790_000_000_000L));
    byte[] bytes = new EntityStateSerde(plan).write(state);

    // When the group's features change
    FeatureGroupPlan changed = plan(GROUP.replace("window: 10m", "window: 30m"));

    // Then the old state is not misread: the entity starts afresh
    assertThat(new EntityStateSerde(changed).read(bytes)).isNull();
    assertThat(new EntityStateSerde(changed).latestEventTime(bytes)).isEqualTo(Long.MIN_VALUE);
  }

  @Test
  void shouldKeepAnEarlySealAcrossARoundTripAndReadStateOfTheFormerFormat() {
    // Given an entity of a group holding at most 8 events within its grace period, with 30
    FeatureGroupPlan plan = plan(GROUP.replace("distinctExactUpTo: 20",
        "distinctExactUpTo: 20\n    maxEventsInGrace: 8"));
    FeatureEngine engine = new FeatureEngine(plan);
    EntityStateSerde serde = new EntityStateSerde(plan);
    Random random = new Random(5);
    EntityState state = engine.newState();
    long t = 1_790_000_000_000L;
    for (int i = 0; i < 30; i++) {
      engine.apply(state, event(plan, random, i, t + i * 1000L));
    }
    assertThat(state.sealedUpTo).isGreaterThan(t);

    // When it is written and read back
    EntityState copy = serde.read(serde.write(state));

    // Then the early seal is still in effect
    assertThat(copy.sealedUpTo).isEqualTo(state.sealedUpTo);
    assertThat(engine.isLate(copy, state.sealedUpTo - 1)).isTrue();
    assertThat(engine.isLate(copy, state.sealedUpTo)).isFalse();

    // and state written in format 2, before early seals existed, still reads, without one
    EntityState unsealed = engine.newState();
    engine.apply(unsealed, event(plan, random, 99, t));
    byte[] current = serde.write(unsealed);
    Bytes.Writer prefix = new Bytes.Writer(64);
    prefix.writeByte((byte) 3);
    prefix.writeInt(plan.layout());
    prefix.writeLong(unsealed.maxTime);
    prefix.writeVarLong(unsealed.maxSeq);
    prefix.writeString(unsealed.maxEventId);
    prefix.writeVarLong(unsealed.nextSeq);
    int at = prefix.toByteArray().length;
    assertThat(current[at]).as("no early seal is written as 0").isZero();
    byte[] former = new byte[current.length - 1];
    System.arraycopy(current, 0, former, 0, at);
    System.arraycopy(current, at + 1, former, at, current.length - at - 1);
    former[0] = 2;
    EntityState read = serde.read(former);
    assertThat(read.sealedUpTo).isEqualTo(Long.MIN_VALUE);
    assertThat(engine.evaluate(read, t, read.maxSeq))
        .containsExactly(engine.evaluate(unsealed, t, unsealed.maxSeq));
    assertThat(serde.latestEventTime(former)).isEqualTo(t);
  }
}
