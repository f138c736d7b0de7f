package dev.flywheel.featurestreams.lookup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FeatureValuesJsonTest {

  @Test
  void shouldReadBackWhatItWritesKeepingOrderAndNulls() {
    // Given an answer with an undefined feature
    Map<String, Double> features = new LinkedHashMap<>();
    features.put("z_count", 3.0);
    features.put("a_mean", null);
    FeatureValues values = new FeatureValues("g", "card 7/x", true,
        Instant.parse("2026-11-23T10:15:30.123Z"), "tx-1", features, Map.of("country", "FR"),
        "10.0.0.7:8080");

    // When written and read back
    JsonNode json = FeatureValuesJson.write(values);
    FeatureValues read = FeatureValuesJson.read(json);

    // Then it is the same answer, with the as-of time in both forms
    assertThat(read).isEqualTo(values);
    assertThat(read.features().keySet()).containsExactly("z_count", "a_mean");
    assertThat(json.get("asOf").asText()).isEqualTo("2026-11-23T10:15:30.123Z");
    assertThat(json.get("asOfMillis").asLong()).isEqualTo(values.asOf().toEpochMilli());
  }

  @Test
  void shouldWriteNonFiniteValuesAsNull() {
    // Given a ratio over a zero mean
    FeatureValues values = new FeatureValues("g", "e", true, Instant.EPOCH, "x",
        Map.of("ratio", Double.POSITIVE_INFINITY), Map.of(), null);

    // When written / Then the JSON stays valid and the value is undefined
    assertThat(FeatureValuesJson.write(values).get("features").get("ratio").isNull()).isTrue();
  }

  @Test
  void shouldParseOnlyBatchBodiesOfStringIds() {
    assertThat(FeatureLookupHttpApi.parseBatch(bytes("{\"entities\": [\"a\", \"b\"]}")))
        .containsExactly("a", "b");
    assertThat(FeatureLookupHttpApi.parseBatch(bytes("{\"entities\": []}"))).isEmpty();
    assertThat(FeatureLookupHttpApi.parseBatch(bytes("[\"a\"]"))).isNull();
    assertThat(FeatureLookupHttpApi.parseBatch(bytes("{\"entities\": [1]}"))).isNull();
    assertThat(FeatureLookupHttpApi.parseBatch(bytes("{\"entities\": "))).isNull();
  }

  @Test
  void shouldRefuseJsonThatIsNotAnAnswer() {
    assertThatThrownBy(() -> FeatureValuesJson.readBatch(FeatureValuesJson.MAPPER
        .valueToTree(Map.of("error", "x")))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> FeatureValuesJson.read(FeatureValuesJson.MAPPER
        .valueToTree(List.of()))).isInstanceOf(IllegalArgumentException.class);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
