package dev.flywheel.featurestreams.lookup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flywheel.featurestreams.FeatureStreamsConfig;
import dev.flywheel.featurestreams.FeatureTopology;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LookupGroupTest {

  @Test
  void shouldAnswerUnknownEntitiesWithEveryDeclaredFeatureInOrder() {
    // Given a group declaring three features and a default for one of them
    LookupGroup group = new LookupGroup("g", "store", List.of("c", "a", "b"), Map.of("a", 0.0),
        Map.of());

    // When the defaults are asked for
    Map<String, Double> defaults = group.defaultFeatures();

    // Then every declared feature is there in declared order, undeclared defaults null
    assertThat(defaults.keySet()).containsExactly("c", "a", "b");
    assertThat(defaults.get("a")).isEqualTo(0.0);
    assertThat(defaults.get("b")).isNull();
  }

  @Test
  void shouldOrderStoredValuesByDeclaration() {
    // Given stored values in another order, one of them not declared
    LookupGroup group = new LookupGroup("g", "store", List.of("b", "a"), null, null);
    Map<String, Double> stored = new LinkedHashMap<>();
    stored.put("extra", 3.0);
    stored.put("a", 1.0);
    stored.put("b", 2.0);

    // When ordered / Then declared features come first, then the rest
    assertThat(group.inDeclaredOrder(stored).keySet()).containsExactly("b", "a", "extra");
  }

  @Test
  void shouldTakeStoreFeaturesAndDefaultsFromTheDeclaredGroup() {
    // Given the card_activity demo group
    FeatureStreamsConfig config = FeatureStreamsConfig.cardActivity();

    // When it is turned into lookup groups
    List<LookupGroup> groups = LookupGroup.of(config);

    // Then the store is the topology's online store and the defaults are the declared ones
    assertThat(groups).singleElement().satisfies(g -> {
      assertThat(g.name()).isEqualTo("card_activity");
      assertThat(g.storeName()).isEqualTo(FeatureTopology.onlineStoreName("card_activity"));
      assertThat(g.features()).isEqualTo(config.group("card_activity").featureNames());
      assertThat(g.defaultFeatures()).containsEntry("tx_count_24h", 0.0)
          .containsEntry("amount_mean_7d", null);
    });
  }

  @Test
  void shouldRefuseAGroupNameThatCannotBeAPathSegment() {
    assertThatThrownBy(() -> new LookupGroup("a/b", "store", List.of(), null, null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'a/b'");
  }
}
