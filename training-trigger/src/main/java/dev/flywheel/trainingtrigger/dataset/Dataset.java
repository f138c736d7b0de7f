package dev.flywheel.trainingtrigger.dataset;

import dev.flywheel.events.DatasetLineage;
import java.nio.file.Path;
import java.util.List;

/**
 * A point-in-time correct dataset: feature vectors joined with labels by event id, split by event
 * time into a training set and a later holdout.
 *
 * @param featureNames numeric feature names, in column order
 * @param categoricalNames categorical feature names, in column order
 * @param train the earlier rows
 * @param holdout the later rows, every one strictly after the last training row
 * @param lineage digest, offset ranges, split bounds
 * @param file the stored dataset file (Avro container) on local disk
 * @param created whether building it stored the file in the artifact store ({@link
 *     dev.flywheel.trainingtrigger.artifact.ArtifactStore.StoredObject#created}): false when the
 *     store held those bytes already, which another event may name
 */
public record Dataset(List<String> featureNames, List<String> categoricalNames, Split train,
    Split holdout, DatasetLineage lineage, Path file, boolean created) {

  /** A dataset whose file was not stored by this build (kept, whatever becomes of its attempt). */
  public Dataset(List<String> featureNames, List<String> categoricalNames, Split train,
      Split holdout, DatasetLineage lineage, Path file) {
    this(featureNames, categoricalNames, train, holdout, lineage, file, false);
  }
}
