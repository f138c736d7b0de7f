package dev.flywheel.featurestreams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flywheel.registry.InMemorySchemaRegistryClient;
import dev.flywheel.registry.RestSchemaRegistryClient;
import dev.flywheel.registry.SchemaRegistryClient;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topics;
import java.net.ServerSocket;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Feature groups checked against the source schema at start. */
class FeatureGroupPlanTest {

  private static final String SCHEMA = "flywheel.data.transactions-value v1";

  private static FeatureGroupPlan plan(String features) {
    FeatureStreamsConfig config = FeatureStreamsConfig.parse("""
        featureGroups:
          - name: card
            source: transactions
            entityKey: card_id
            features:
        """ + features.indent(6));
    return FeatureGroupPlan.of(config.group("card"), TransactionSource.schema(), SCHEMA);
  }

  @Test
  void shouldRefuseAFieldTheSourceSchemaLacksNamingFieldAndSchema() {
    assertThatThrownBy(() -> plan("- {name: s, agg: sum, field: amt, window: 1h}"))
        .isInstanceOf(InvalidFeatureGroupException.class)
        .hasMessageContaining("feature group 'card'")
        .hasMessageContaining("feature 's' references field 'amt' which schema "
            + "flywheel.data.transactions-value v1 does not have");
  }

  @Test
  void shouldRefuseAnAggregationTheFieldTypeCannotTakeNamingBoth() {
    assertThatThrownBy(() -> plan("- {name: s, agg: mean, field: merchant, window: 1h}"))
        .isInstanceOf(InvalidFeatureGroupException.class)
        .hasMessageContaining("feature 's' takes mean of field 'merchant', a string in "
            + SCHEMA + "; mean needs an int, long, float or double field");
  }

  @Test
  void shouldListEveryProblemAtOnce() {
    assertThatThrownBy(() -> plan("""
        - {name: a, agg: max, field: country}
        - {name: b, agg: count, filter: colour == red}
        - {name: c, agg: count, filter: merchant > 3}
        """))
        .isInstanceOfSatisfying(InvalidFeatureGroupException.class, e -> assertThat(e.problems())
            .hasSize(3)
            .anySatisfy(p -> assertThat(p).contains("'a' takes max of field 'country'"))
            .anySatisfy(p -> assertThat(p).contains("filters on field 'colour' which schema"))
            .anySatisfy(p -> assertThat(p).contains("only == and != compare non-numeric")));
  }

  @Test
  void shouldRefuseAnEnumFilterOnAnUnknownSymbol() {
    assertThatThrownBy(() -> plan("- {name: a, agg: count, filter: channel == PHONE}"))
        .hasMessageContaining("'PHONE', which is not one of its symbols [POS, ECOMMERCE, ATM,"
            + " MOBILE, UNKNOWN]");
  }

  @Test
  void shouldRefuseAMissingEntityKeyField() {
    FeatureStreamsConfig config = FeatureStreamsConfig.parse("""
        featureGroups:
          - name: card
            source: transactions
            entityKey: card
            features: [{name: n, agg: count}]
        """);
    assertThatThrownBy(() -> FeatureGroupPlan.of(config.group("card"), TransactionSource.schema(),
        SCHEMA)).hasMessageContaining("entityKey 'card' is a field which schema " + SCHEMA
            + " does not have");
  }

  @Test
  void shouldTakeTheEventTimeFieldTheSourceDeclares() {
    FeatureGroupPlan plan = plan("- {name: n, agg: count}");
    assertThat(plan.timeField()).isEqualTo("event_time");
    assertThat(plan.eventIdField()).isEqualTo("event_id");
    assertThat(plan.entityKeyIsSourceKey()).isTrue();
  }

  @Test
  void shouldShareTilesBetweenFeaturesOfTheSameFieldFilterAndTileSize() {
    FeatureGroupPlan plan = plan("""
        - {name: a, agg: sum, field: amount, window: 10m}
        - {name: b, agg: max, field: amount, window: 1h}
        - {name: c, agg: mean, field: amount, window: 24h}
        - {name: d, agg: mean, field: amount, window: 7d}
        - {name: e, agg: last, field: merchant, window: 1h}
        """);
    assertThat(plan.columns()).hasSize(3);
    assertThat(plan.categoricalFeatureNames()).containsExactly("e");
    assertThat(plan.numericFeatureNames()).containsExactly("a", "b", "c", "d");
  }

  @Test
  void shouldRefuseAGroupWhoseSourceHasNoRegisteredSchema() {
    InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
    Topics topics = Topics.builder(new AvroSerdes(registry, Map.of())).build();
    assertThatThrownBy(() -> FeatureTopology.plans(FeatureStreamsConfig.cardActivity(), topics,
        registry))
        .isInstanceOf(InvalidFeatureGroupException.class)
        .hasMessageContaining("source 'transactions' has no schema under subject "
            + "flywheel.data.transactions-value")
        .hasMessageContaining("flywheel sources add transactions");
  }

  @Test
  void shouldSayTheRegistryDidNotAnswerRatherThanThatTheSourceHasNoSchema() throws Exception {
    // Given a registry that does not answer (a port nothing listens on)
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    SchemaRegistryClient registry = RestSchemaRegistryClient.builder()
        .url("http://127.0.0.1:" + port).maxRetries(0).build();
    Topics topics = Topics.builder(new AvroSerdes(registry, Map.of())).build();

    // When the groups are checked at start, Then the error names the registry, not the source
    assertThatThrownBy(() -> FeatureTopology.plans(FeatureStreamsConfig.cardActivity(), topics,
        registry))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("cannot check feature group 'card_activity'")
        .hasMessageContaining("start it again once the schema registry answers")
        .hasMessageNotContaining("flywheel sources add");
  }

  @Test
  void shouldRefuseAGroupWhoseEntityStateCouldOutgrowWhatItsChangelogAccepts() {
    // Given three distinct counts over 7 days, each of which may keep 168 one-hour sketches, the
    // first sharing its tiles with a feature declared before it
    String features = """
        - {name: last_merchant_24h, agg: last, field: merchant, window: 24h}
        - {name: merchants_7d, agg: distinct_count, field: merchant, window: 7d}
        - {name: countries_7d, agg: distinct_count, field: country, window: 7d}
        - {name: categories_7d, agg: distinct_count, field: category, window: 7d}
        """;

    // Then the group is refused at start, naming what takes the room and what to change
    assertThatThrownBy(() -> plan(features))
        .isInstanceOf(InvalidFeatureGroupException.class)
        .hasMessageContaining("an entity's state may take up to")
        .hasMessageContaining("more than the 768 KiB it may take")
        .hasMessageContaining("'merchants_7d' and the features sharing its tiles")
        .hasMessageContaining("in 168 tiles")
        .hasMessageContaining("shorten the longest windows of distinct_count");
    // while two of them fit
    assertThat(plan(features.lines().limit(3).reduce("", (a, b) -> a + b + "\n")))
        .isNotNull();
  }

  @Test
  void shouldAcceptDistinctCountsOverSecondTilesWithTheDefaultGrace() {
    // Given distinct counts over 1-second tiles, with the default 5-minute grace period (their
    // tiles are bounded by the window, not by the grace period)
    FeatureGroupPlan plan = plan("""
        - {name: merchants_30s, agg: distinct_count, field: merchant, window: 30s}
        - {name: countries_20s, agg: distinct_count, field: country, window: 20s}
        - {name: cards_10s, agg: distinct_count, field: card_id, window: 10s}
        """);

    // Then the group is accepted, each column holding at most its window's tiles
    assertThat(plan.columns()).extracting(FeatureGroupPlan.Column::maxTiles)
        .containsExactlyInAnyOrder(30L, 20L, 10L);
  }

  @Test
  void shouldNameTheHeldEventsWhenTheyTakeTheRoom() {
    // Given the demo group holding up to 20,000 events per entity within its grace period
    FeatureGroupConfig g = FeatureStreamsConfig.cardActivity().group("card_activity");
    FeatureGroupConfig hot = g.withMaxEventsInGrace(20_000);

    // Then it is refused, naming that setting first
    assertThatThrownBy(() -> FeatureGroupPlan.of(hot, TransactionSource.schema(), SCHEMA))
        .isInstanceOf(InvalidFeatureGroupException.class)
        .hasMessageContaining("(maxEventsInGrace 20000 held events: ");
  }

  @Test
  void shouldEstimateEveryShippedGroupWithinTheStateLimit() {
    // Given the demo group and the randomized test's groups, with their default limits
    FeatureStreamsConfig config = RandomizedCorrectnessTest.config();

    for (FeatureGroupConfig g : config.featureGroups()) {
      // When each is compiled
      FeatureGroupPlan plan = FeatureGroupPlan.of(g, TransactionSource.schema(), SCHEMA);

      // Then its worst case fits, and a distinct count over 24 one-hour tiles keeps 341 values
      // per tile exactly (64 KiB over the column)
      assertThat(FeatureGroupPlan.estimateMaxStateBytes(g, plan.fields(), plan.columns()))
          .as(g.name()).isLessThanOrEqualTo(FeatureGroupPlan.MAX_STATE_BYTES);
    }
    FeatureGroupPlan card = FeatureGroupPlan.of(config.group("card_activity"),
        TransactionSource.schema(), SCHEMA);
    assertThat(card.columns()).filteredOn(FeatureGroupPlan.Column::distinct)
        .allSatisfy(c -> assertThat(c.distinctExactPerTile(1000)).isEqualTo(341));
  }
}
