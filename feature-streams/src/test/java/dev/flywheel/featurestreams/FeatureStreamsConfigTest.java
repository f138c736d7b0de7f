package dev.flywheel.featurestreams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The featureGroups section of flywheel.yaml. */
class FeatureStreamsConfigTest {

  @Test
  void shouldParseGroupsIgnoringOtherSections() {
    FeatureStreamsConfig config = FeatureStreamsConfig.parse("""
        sources:
          - {name: transactions, schema: tx.avsc, key: card_id, time: event_time}
        ingest: {port: 8080}
        featureGroups:
          - name: cards
            source: transactions
            entityKey: card_id
            grace: 2m
            features:
              - {name: n_10m, agg: count, window: 10m}
              - {name: big, agg: max, field: amount, window: 7d, filter: "channel != ATM"}
              - {name: merchant, agg: last, field: merchant}
            defaults: {n_10m: 0, merchant: none}
        """);
    FeatureGroupConfig cards = config.group("cards");
    assertThat(cards.graceMs()).isEqualTo(120_000);
    assertThat(cards.featureNames()).containsExactly("n_10m", "big", "merchant");
    assertThat(cards.feature("big").window().lengthMs()).isEqualTo(7 * 86_400_000L);
    assertThat(cards.feature("big").window().tileMs()).isEqualTo(3_600_000L);
    assertThat(cards.feature("n_10m").window().tileMs()).isEqualTo(60_000L);
    assertThat(cards.feature("merchant").window().lifetime()).isTrue();
    assertThat(cards.feature("big").filter()).hasToString("channel != 'ATM'");
    assertThat(cards.numericDefaults()).containsEntry("n_10m", 0.0).containsEntry("big", null)
        .doesNotContainKey("merchant");
    assertThat(cards.categoricalDefaults()).containsEntry("merchant", "none");
    assertThat(cards.effectivePurgeAfterMs()).isEqualTo(Long.MAX_VALUE);
  }

  @Test
  void shouldReadTheCardActivityDemoGroup() {
    FeatureGroupConfig group = FeatureStreamsConfig.cardActivity().group("card_activity");
    assertThat(group.source()).isEqualTo("transactions");
    assertThat(group.featureNames()).contains("tx_count_10m", "amount_sum_7d", "amount_mean_1h",
        "amount_max_24h", "distinct_merchants_24h", "distinct_countries_24h",
        "seconds_since_last_tx", "amount_to_mean_7d");
    assertThat(group.effectivePurgeAfterMs()).isEqualTo(7 * 86_400_000L + 5 * 60_000L);
    assertThat(group.version()).hasSize(12);
  }

  @Test
  void shouldReadMaxClockSkewDefaultingToOneHourWithoutChangingTheVersion() {
    // Given card_activity, which does not set maxClockSkew
    FeatureGroupConfig group = FeatureStreamsConfig.cardActivity().group("card_activity");

    // Then it allows 1 hour, and its version is the one it had before the setting existed
    assertThat(group.maxClockSkewMs()).isEqualTo(3_600_000L);
    assertThat(group.version()).isEqualTo("a513f08009fa");
    // and a group that sets it reads it, and has another version
    FeatureGroupConfig skewed = FeatureStreamsConfig.parse("""
        featureGroups:
          - name: cards
            source: transactions
            entityKey: card_id
            maxClockSkew: 10m
            features: [{name: n, agg: count, window: 10m}]
        """).group("cards");
    assertThat(skewed.maxClockSkewMs()).isEqualTo(600_000L);
    FeatureGroupConfig unskewed = FeatureStreamsConfig.parse("""
        featureGroups:
          - name: cards
            source: transactions
            entityKey: card_id
            features: [{name: n, agg: count, window: 10m}]
        """).group("cards");
    assertThat(skewed.version()).isNotEqualTo(unskewed.version());
  }

  @Test
  void shouldRefuseAMisspeltKeyNamingIt() {
    assertThatThrownBy(() -> FeatureStreamsConfig.parse("""
        featureGroups:
          - name: cards
            source: transactions
            entityKey: card_id
            features: [{name: n, agg: count, windw: 10m}]
        """)).hasMessageContaining("unknown setting 'windw'");
  }

  @Test
  void shouldRefuseAnUnknownAggregationListingTheKnownOnes() {
    assertThatThrownBy(() -> FeatureStreamsConfig.parse("""
        featureGroups:
          - name: cards
            source: transactions
            entityKey: card_id
            features: [{name: n, agg: median, field: amount}]
        """)).hasMessageContaining("feature 'n': unknown aggregation 'median'; use one of count,"
            + " sum, mean");
  }

  @Test
  void shouldRefuseARatioOfAnUndeclaredFeature() {
    assertThatThrownBy(() -> FeatureStreamsConfig.parse("""
        featureGroups:
          - name: cards
            source: transactions
            entityKey: card_id
            features:
              - {name: r, agg: ratio, numerator: a, denominator: b}
              - {name: a, agg: count}
        """)).hasMessageContaining("ratio 'r' refers to feature 'b', which the group does not"
            + " declare");
  }

  @Test
  void shouldRefuseABadWindow() {
    assertThatThrownBy(() -> FeatureStreamsConfig.parse("""
        featureGroups:
          - name: cards
            source: transactions
            entityKey: card_id
            features: [{name: n, agg: count, window: ten minutes}]
        """)).hasMessageContaining("window 'ten minutes' is not a duration; write e.g.");
  }
}
