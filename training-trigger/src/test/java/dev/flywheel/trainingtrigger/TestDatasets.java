package dev.flywheel.trainingtrigger;

import dev.flywheel.events.DatasetLineage;
import dev.flywheel.trainingtrigger.artifact.ArtifactStore;
import dev.flywheel.trainingtrigger.config.ModelSpec;
import dev.flywheel.trainingtrigger.dataset.Dataset;
import dev.flywheel.trainingtrigger.dataset.DatasetAssembler;
import dev.flywheel.trainingtrigger.dataset.DatasetFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

/** Builds and stores datasets from {@link SyntheticData} without Kafka, for executor tests. */
public final class TestDatasets {

  private TestDatasets() {}

  /** Assembles {@code data} for {@code spec}, writes it under {@code dir} and stores it. */
  public static Dataset stored(SyntheticData data, ModelSpec spec, ArtifactStore store, Path dir)
      throws IOException {
    DatasetAssembler a = new DatasetAssembler(spec.name(), spec.featureGroup(), spec.target(),
        spec.task(), spec.features(), Long.MAX_VALUE);
    data.labels.forEach(a::addLabel);
    data.vectors.forEach(a::addVector);
    DatasetAssembler.Assembled s = a.assemble(spec.training().holdoutFraction());
    Files.createDirectories(dir);
    Path file = dir.resolve("dataset.avro");
    DatasetFile.write(s, file);
    ArtifactStore.StoredObject stored = store.put(file);
    DatasetLineage lineage = DatasetLineage.newBuilder().setUri(stored.uri())
        .setSha256(stored.sha256()).setRanges(List.of()).setFeatureGroup(spec.featureGroup())
        .setFeatureGroupVersion(a.featureGroupVersion()).setLabelTarget(spec.target())
        .setTrainRows(s.train().rows()).setHoldoutRows(s.holdout().rows())
        .setTrainStart(Instant.ofEpochMilli(s.train().startMs()))
        .setTrainEnd(Instant.ofEpochMilli(s.train().endMs()))
        .setHoldoutStart(Instant.ofEpochMilli(s.holdout().startMs()))
        .setHoldoutEnd(Instant.ofEpochMilli(s.holdout().endMs())).build();
    return new Dataset(s.featureNames(), s.categoricalNames(), s.train(), s.holdout(), lineage,
        file);
  }
}
