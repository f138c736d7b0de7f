package dev.flywheel.serde;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.events.Actor;
import dev.flywheel.events.ActorKind;
import dev.flywheel.events.AliasState;
import dev.flywheel.events.FeatureVector;
import dev.flywheel.events.ModelArtifact;
import dev.flywheel.events.ModelFormat;
import dev.flywheel.events.ModelRegistryState;
import dev.flywheel.events.ModelSignature;
import dev.flywheel.events.ModelTask;
import dev.flywheel.events.ModelVersion;
import dev.flywheel.events.VersionStatus;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.util.Utf8;
import org.junit.jupiter.api.Test;

/** {@link AvroSize} against the length of Avro's own encoding of the same datum. */
class AvroSizeTest {

  /** The length of a generated record's binary body: its single-object encoding less the header. */
  private static long body(ByteBuffer singleObject) {
    return singleObject.remaining() - 10;
  }

  @Test
  void shouldMeasureEveryAvroTypeAsAvroEncodesIt() {
    // Given a generic record with every type, multi-byte text and negative and extreme numbers
    GenericRecord all = TestSchemas.allTypes();

    // When it is measured
    long size = AvroSize.of(all, TestSchemas.ALL_TYPES, GenericData.get());

    // Then it is the length of Avro's encoding
    assertThat(size).isEqualTo(TestSchemas.avroBinary(TestSchemas.ALL_TYPES, all).length);
  }

  @Test
  void shouldMeasureGeneratedRecordsWithLogicalTypesNullsAndNestedRecords() throws Exception {
    // Given a feature vector (timestamps as Instants, map values that are null, a nested origin)
    FeatureVector vector = WireFormatTest.featureVector();
    FeatureVector empty = FeatureVector.newBuilder(vector).setFeatures(Map.of())
        .setCategoricalFeatures(Map.of()).setComputedAt(null).setSource(null)
        .setEventTime(Instant.ofEpochMilli(-1)).build();

    // When they are measured, Then each is the length of its encoding
    assertThat(AvroSize.of(vector)).isEqualTo(body(vector.toByteBuffer()));
    assertThat(AvroSize.of(empty)).isEqualTo(body(empty.toByteBuffer()));
  }

  @Test
  void shouldMeasureALargeRegistryStateExactly() throws Exception {
    // Given a model's registry state with 300 versions, aliases and non-ASCII text
    Actor actor = Actor.newBuilder().setName("zoë@example.com").setKind(ActorKind.HUMAN)
        .setRoles(List.of("ml-engineer")).build();
    List<ModelVersion> versions = new ArrayList<>();
    for (int v = 1; v <= 300; v++) {
      Map<String, Double> metrics = new LinkedHashMap<>();
      metrics.put("auc", 0.5 + v / 1000.0);
      metrics.put("logloss", 0.2);
      versions.add(ModelVersion.newBuilder().setVersion(v)
          .setStatus(v % 7 == 0 ? VersionStatus.ARCHIVED : VersionStatus.ACTIVE)
          .setArtifact(ModelArtifact.newBuilder().setUri("file:///artifacts/v" + v + ".json")
              .setSha256("ab".repeat(32)).setFormat(ModelFormat.XGBOOST).build())
          .setSignature(ModelSignature.newBuilder()
              .setFeatureNames(List.of("amount_mean_7d", "tx_count_10m", "country"))
              .setCategoricalFeatures(List.of("country")).setFeatureGroup("card_activity")
              .setTask(ModelTask.BINARY_CLASSIFICATION).setDecisionThreshold(0.5).build())
          .setMetrics(metrics).setParams(Map.of("max_depth", "6"))
          .setDescription(v % 2 == 0 ? null : "modèle n°" + v + " — 🚀")
          .setRegisteredAt(Instant.ofEpochMilli(1_790_000_000_000L + v * 3_600_000L))
          .setRegisteredBy(actor).build());
    }
    ModelRegistryState state = ModelRegistryState.newBuilder().setEventId("e")
        .setEventTime(Instant.ofEpochMilli(1_790_000_000_000L)).setModel("fraud")
        .setSequence(123_456_789_012L).setVersions(versions)
        .setAliases(List.of(AliasState.newBuilder().setAlias("champion").setVersion(299)
            .setAssignedAt(Instant.ofEpochMilli(1_790_000_000_000L)).setAssignedBy(actor)
            .setPreviousVersions(List.of(298, 250, 1)).build()))
        .setTags(Map.of("team", "risk")).build();

    // When it is measured, Then it is the length of its encoding
    assertThat(AvroSize.of(state)).isEqualTo(body(state.toByteBuffer())).isGreaterThan(80_000);
  }

  @Test
  void shouldCountUtf8LengthsAsJavaEncodesThem() {
    for (String s : List.of("", "ascii", "ï", "€uro", "🚀 rocket", "naïve café — ünïcödé")) {
      assertThat(AvroSize.utf8Length(s)).as(s)
          .isEqualTo(s.getBytes(StandardCharsets.UTF_8).length)
          .isEqualTo(new Utf8(s).getByteLength());
    }
  }

}
