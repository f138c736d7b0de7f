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
}
