package dev.flywheel.trainingtrigger.dataset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flywheel.events.FeatureVector;
import dev.flywheel.events.Label;
import dev.flywheel.events.ModelTask;
import dev.flywheel.trainingtrigger.SyntheticData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetAssemblerTest {

  private static final long NO_CUTOFF = Long.MAX_VALUE;

  @TempDir Path dir;

  private static DatasetAssembler assembler(List<String> features, long cutoff) {
    return new DatasetAssembler("fraud", SyntheticData.GROUP, SyntheticData.TARGET,
        ModelTask.BINARY_CLASSIFICATION, features, cutoff);
  }

  private static DatasetAssembler.Assembled assemble(SyntheticData data, double holdout) {
    DatasetAssembler a = assembler(List.of(), NO_CUTOFF);
    data.labels.forEach(a::addLabel);
    data.vectors.forEach(a::addVector);
    return a.assemble(holdout);
  }

  @Test
  void shouldHoldOutTheLatestSliceStrictlyAfterTheTrainingSetWithNoSharedEventId() {
    // Given 1000 labelled events, one per second
    SyntheticData data = new SyntheticData(1000, 4, true, 1);
    // When assembled with a 20% holdout
    DatasetAssembler.Assembled a = assemble(data, 0.2);
    // Then the holdout is the latest 200 rows, strictly later, and disjoint
    assertThat(a.holdout().rows()).isEqualTo(200);
    assertThat(a.train().rows()).isEqualTo(800);
    assertThat(a.holdout().startMs()).isGreaterThan(a.train().endMs());
    Set<String> train = new HashSet<>(Arrays.asList(a.train().eventIds()));
    assertThat(a.holdout().eventIds()).noneMatch(train::contains);
    assertThat(a.train().eventTimesMs()).isSorted();
    assertThat(a.holdout().eventTimesMs()).isSorted();
  }

  @Test
  void shouldKeepEventsOfTheBoundaryInstantOnOneSide() {
    // Given 10 events of which the 8th, 9th and 10th share one event time
    DatasetAssembler a = assembler(List.of(), NO_CUTOFF);
    Instant t = Instant.parse("2026-11-01T00:00:00Z");
    for (int i = 0; i < 10; i++) {
      Instant at = t.plusSeconds(Math.min(i, 7));
      a.addLabel(label("e" + i, 1, at));
    }
    for (int i = 0; i < 10; i++) {
      a.addVector(vector("e" + i, t.plusSeconds(Math.min(i, 7)), Map.of("x", (double) i)));
    }
    // When a 20% holdout would cut inside that instant
    DatasetAssembler.Assembled s = a.assemble(0.2);
    // Then the whole instant goes to the holdout
    assertThat(s.holdout().rows()).isEqualTo(3);
    assertThat(s.holdout().startMs()).isGreaterThan(s.train().endMs());
  }

  @Test
  void shouldJoinOnlyEventsWithBothAVectorAndALabelOfTheTarget() {
    // Given
    DatasetAssembler a = assembler(List.of(), NO_CUTOFF);
    Instant t = Instant.parse("2026-11-01T00:00:00Z");
    a.addLabel(label("a", 1, t));
    a.addLabel(label("b", 0, t.plusSeconds(1)));
    a.addLabel(Label.newBuilder(label("c", 1, t)).setTarget("chargeback").build());
    a.addVector(vector("a", t, Map.of("x", 1.0)));
    a.addVector(vector("b", t.plusSeconds(1), Map.of("x", 2.0)));
    a.addVector(vector("c", t.plusSeconds(2), Map.of("x", 3.0)));
    a.addVector(vector("d", t.plusSeconds(3), Map.of("x", 4.0)));
    // When
    DatasetAssembler.Assembled s = a.assemble(0.5);
    // Then only a and b, whose labels have the target
    assertThat(s.train().eventIds()).containsExactly("a");
    assertThat(s.holdout().eventIds()).containsExactly("b");
  }

  @Test
  void shouldUseTheLatestLabelOfAnEventAndLeaveOutLabelsKnownAfterTheCutoff() {
    // Given a label corrected later, and one known only after the cutoff
    Instant t = Instant.parse("2026-11-01T00:00:00Z");
    DatasetAssembler a = assembler(List.of(), t.plusSeconds(100).toEpochMilli());
    a.addLabel(label("a", 0, t));
    a.addLabel(label("a", 1, t.plusSeconds(50)));
    a.addLabel(label("b", 0, t.plusSeconds(1)));
    a.addLabel(label("c", 1, t.plusSeconds(500)));
    a.addVector(vector("a", t, Map.of("x", 1.0)));
    a.addVector(vector("b", t.plusSeconds(1), Map.of("x", 2.0)));
    a.addVector(vector("c", t.plusSeconds(2), Map.of("x", 3.0)));
    // When
    DatasetAssembler.Assembled s = a.assemble(0.5);
    // Then
    assertThat(s.train().eventIds()).containsExactly("a");
    assertThat(s.train().labels()).containsExactly(1f);
    assertThat(s.holdout().eventIds()).containsExactly("b");
  }

  @Test
  void shouldUseTheVectorAsOfTheLabelsTimeWhenAnEventHasSeveral() {
    // Given events of a CDC source keyed by the row: tx1 charged back on day 10 and refunded on
    // day 12 (an UPDATE after the label), tx2 updated on day 3 and labelled on day 5, tx3 whose
    // only vectors are after its label (its clock is ahead)
    Instant t = Instant.parse("2026-11-01T00:00:00Z");
    DatasetAssembler a = assembler(List.of(), NO_CUTOFF);
    a.addLabel(label("tx1", 1, t.plus(Duration.ofDays(10))));
    a.addLabel(label("tx2", 0, t.plus(Duration.ofDays(5))));
    a.addLabel(label("tx3", 0, t.plus(Duration.ofDays(2))));
    a.addVector(vector("tx1", t, Map.of("refunded", 0.0)));
    a.addVector(vector("tx2", t.plus(Duration.ofDays(1)), Map.of("refunded", 0.0)));
    a.addVector(vector("tx2", t.plus(Duration.ofDays(3)), Map.of("refunded", 1.0)));
    a.addVector(vector("tx3", t.plus(Duration.ofDays(4)), Map.of("refunded", 2.0)));
    a.addVector(vector("tx1", t.plus(Duration.ofDays(12)), Map.of("refunded", 1.0)));
    a.addVector(vector("tx3", t.plus(Duration.ofDays(6)), Map.of("refunded", 3.0)));
    a.addVector(vector("tx2", t.plus(Duration.ofDays(7)), Map.of("refunded", 4.0)));
    // When
    DatasetAssembler.Assembled s = a.assemble(0.3);
    // Then each event's row is its latest vector at or before its label's time (the earliest
    // for tx3), at that vector's time
    assertThat(s.train().eventIds()).containsExactly("tx1", "tx2");
    assertThat(s.train().eventTimesMs()).containsExactly(t.toEpochMilli(),
        t.plus(Duration.ofDays(3)).toEpochMilli());
    assertThat(s.train().value(0, 0)).as("tx1 as of its chargeback").isEqualTo(0f);
    assertThat(s.train().value(1, 0)).as("tx2 as of its label").isEqualTo(1f);
    assertThat(s.holdout().eventIds()).containsExactly("tx3");
    assertThat(s.holdout().value(0, 0)).as("tx3, earliest after its label").isEqualTo(2f);
  }

  @Test
  void shouldLeaveOutEventsWhoseLatestLabelABinaryClassifierCannotLearnUntilCorrected() {
    // Given a binary classifier's labels: 7 for a, 0.5 for b later corrected to 1, and 1 for c
    // later overwritten with NaN, and good ones for d and e
    Instant t = Instant.parse("2026-11-01T00:00:00Z");
    DatasetAssembler a = assembler(List.of(), NO_CUTOFF);
    a.addLabel(label("a", 7, t));
    a.addLabel(label("b", 0.5, t));
    a.addLabel(label("b", 1, t.plusSeconds(10)));
    a.addLabel(label("c", 1, t));
    a.addLabel(label("c", Double.NaN, t.plusSeconds(10)));
    a.addLabel(label("d", 0, t));
    a.addLabel(label("e", 1, t));
    for (String id : List.of("a", "b", "c", "d", "e")) {
      a.addVector(vector(id, t.plusSeconds(id.charAt(0) - 'a'), Map.of("x", 1.0)));
    }

    // When the dataset is assembled
    DatasetAssembler.Assembled s = a.assemble(0.4);

    // Then a and c are left out and named with their labels, and b, d, e are used
    assertThat(a.unusableLabels()).containsOnlyKeys("a", "c").containsEntry("a", 7.0);
    assertThat(a.usableLabels()).contains("0 or 1");
    assertThat(s.train().eventIds()).containsExactly("b");
    assertThat(s.holdout().eventIds()).containsExactly("d", "e");
  }

  @Test
  void shouldTakeAnyFiniteLabelForARegression() {
    // Given a regression's labels 7 and -2.5, an infinite one, and one too large for a float
    Instant t = Instant.parse("2026-11-01T00:00:00Z");
    DatasetAssembler a = new DatasetAssembler("price", SyntheticData.GROUP,
        SyntheticData.TARGET, ModelTask.REGRESSION, List.of(), NO_CUTOFF);
    a.addLabel(label("a", 7, t));
    a.addLabel(label("b", -2.5, t));
    a.addLabel(label("c", Double.POSITIVE_INFINITY, t));
    a.addLabel(label("d", 1e39, t)); // finite as a double, infinite as the float it is kept as
    for (String id : List.of("a", "b", "c", "d")) {
      a.addVector(vector(id, t.plusSeconds(id.charAt(0) - 'a'), Map.of("x", 1.0)));
    }

    // When assembled, Then the finite ones are used and the infinite one left out
    DatasetAssembler.Assembled s = a.assemble(0.5);
    assertThat(s.train().labels()).containsExactly(7f);
    assertThat(s.holdout().labels()).containsExactly(-2.5f);
    assertThat(a.unusableLabels()).containsOnlyKeys("c", "d");
  }

  @Test
  void shouldMarkFeaturesMissingFromAVectorAsNaNInSortedColumns() {
    // Given vectors with different feature sets
    Instant t = Instant.parse("2026-11-01T00:00:00Z");
    DatasetAssembler a = assembler(List.of(), NO_CUTOFF);
    a.addLabel(label("a", 1, t));
    a.addLabel(label("b", 0, t.plusSeconds(1)));
    a.addVector(vector("a", t, Map.of("z", 1.0)));
    a.addVector(vector("b", t.plusSeconds(1), Map.of("y", 2.0, "z", 3.0)));
    // When
    DatasetAssembler.Assembled s = a.assemble(0.5);
    // Then
    assertThat(s.featureNames()).containsExactly("y", "z");
    assertThat(s.train().value(0, 0)).isNaN();
    assertThat(s.train().value(0, 1)).isEqualTo(1f);
    assertThat(s.holdout().value(0, 0)).isEqualTo(2f);
  }

  @Test
  void shouldSayWhatToCheckWhenNoEventIdJoins() {
    // Given labels of another target only
    DatasetAssembler a = assembler(List.of(), NO_CUTOFF);
    Instant t = Instant.parse("2026-11-01T00:00:00Z");
    a.addLabel(Label.newBuilder(label("a", 1, t)).setTarget("other").build());
    a.addVector(vector("a", t, Map.of("x", 1.0)));
    // Then
    assertThatThrownBy(() -> a.assemble(0.2)).isInstanceOf(DatasetException.class)
        .hasMessageContaining("no labelled rows").hasMessageContaining("target 'is_fraud'")
        .hasMessageContaining("featureGroup");
  }

  @Test
  void shouldShowAnEventIdOfEachSideWhenNoEventIdJoins() {
    // Given labels and vectors of the model whose event ids differ
    DatasetAssembler a = assembler(List.of(), NO_CUTOFF);
    Instant t = Instant.parse("2026-11-01T00:00:00Z");
    a.addLabel(label("tx-1", 1, t));
    a.addVector(vector("evt-1", t, Map.of("x", 1.0)));
    // Then the message shows both, and says nothing of the eventId setting
    assertThatThrownBy(() -> a.assemble(0.2)).isInstanceOf(DatasetException.class)
        .hasMessageContaining("feature vectors have event ids like 'evt-1', labels like 'tx-1'")
        .hasMessageNotContaining("eventId:");
  }

  @Test
  void shouldSayToSetTheFeatureGroupsEventIdWhenVectorsCarryTopicPartitionOffsetIds() {
    // Given vectors whose source had no event_id, so they carry <topic>/<partition>/<offset>
    DatasetAssembler a = assembler(List.of(), NO_CUTOFF);
    Instant t = Instant.parse("2026-11-01T00:00:00Z");
    a.addLabel(label("r-0", 1, t));
    a.addVector(vector("flywheel.data.rides/1/1474", t, Map.of("x", 1.0)));
    // Then the message shows both ids and says to set eventId on the feature group
    assertThatThrownBy(() -> a.assemble(0.2)).isInstanceOf(DatasetException.class)
        .hasMessageContaining("feature vectors have event ids like 'flywheel.data.rides/1/1474',"
            + " labels like 'r-0'")
        .hasMessageContaining("has no 'event_id' field")
        .hasMessageContaining("Set 'eventId: <the source's id field>' on feature group '"
            + SyntheticData.GROUP + "' in flywheel.yaml");
  }

  @Test
  void shouldWriteTheSameBytesForTheSameRows() throws Exception {
    // Given the same data assembled twice
    SyntheticData data = new SyntheticData(300, 4, true, 7);
    Path first = dir.resolve("one.avro");
    Path second = dir.resolve("two.avro");
    // When both are written
    DatasetFile.write(assemble(data, 0.2), first);
    DatasetFile.write(assemble(data, 0.2), second);
    // Then the files, and so their digests, are identical
    assertThat(Files.readAllBytes(first)).isEqualTo(Files.readAllBytes(second));
    assertThat(Files.size(first)).isGreaterThan(300L * 16);
  }

  static Label label(String id, double value, Instant knownAt) {
    return Label.newBuilder().setEventId(id).setEventTime(knownAt)
        .setTarget(SyntheticData.TARGET).setValue(value).build();
  }

  static FeatureVector vector(String id, Instant at, Map<String, Double> features) {
    return FeatureVector.newBuilder().setEventId(id).setEventTime(at).setEntityId("card-1")
        .setFeatureGroup(SyntheticData.GROUP).setFeatures(features).setAsOf(at).build();
  }
}
