package dev.flywheel.trainingtrigger.executor;

import dev.flywheel.events.BaselineProfile;
import dev.flywheel.events.DatasetLineage;
import dev.flywheel.events.ExecutorKind;
import dev.flywheel.events.ModelArtifact;
import dev.flywheel.events.ModelLineage;
import dev.flywheel.events.ModelSignature;
import dev.flywheel.events.ModelTask;
import dev.flywheel.events.RunStatus;
import dev.flywheel.events.TrainingRun;
import dev.flywheel.trainingtrigger.artifact.ArtifactStore;
import dev.flywheel.trainingtrigger.config.ModelSpec;
import dev.flywheel.trainingtrigger.coordination.CoordinatorProcessor;
import dev.flywheel.trainingtrigger.dataset.Dataset;
import dev.flywheel.trainingtrigger.training.BaselineProfiler;
import dev.flywheel.trainingtrigger.training.TrainingOutput;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Builds the COMPLETED and FAILED events of a run from its STARTED event. */
public final class RunReports {

  private RunReports() {}

  /**
   * Builds the COMPLETED event: artifact (URI, sha256, format, size, runtime version), signature,
   * holdout metrics, effective params, baseline profile of the holdout (features and scores) and
   * lineage (reasons, dataset, trainer, executor).
   *
   * @param stored the trainer's artifact as stored in the artifact store
   */
  public static TrainingRun completed(TrainingRun started, ModelSpec spec, Dataset dataset,
      TrainingOutput out, ArtifactStore.StoredObject stored, ExecutorKind executor,
      Instant now) {
    List<String> inputs = new ArrayList<>(out.featureNames());
    for (String c : out.categoricalFeatures()) {
      if (!inputs.contains(c)) {
        inputs.add(c);
      }
    }
    BaselineProfile baseline = BaselineProfiler.profile(dataset.holdout(),
        dataset.featureNames(), dataset.categoricalNames(), inputs, out.holdoutScores(), now);
    DatasetLineage d = dataset.lineage();
    ModelSignature signature = ModelSignature.newBuilder().setFeatureNames(inputs)
        .setCategoricalFeatures(out.categoricalFeatures()).setFeatureGroup(spec.featureGroup())
        .setFeatureGroupVersion(d.getFeatureGroupVersion()).setTask(spec.task())
        .setLabelTarget(spec.target())
        .setDecisionThreshold(spec.task() == ModelTask.BINARY_CLASSIFICATION
            ? spec.training().decisionThreshold() : null)
        .build();
    Map<String, Double> metrics = new TreeMap<>();
    out.metrics().forEach((k, v) -> {
      if (v != null && !v.isNaN()) {
        metrics.put(k, v);
      }
    });
    return TrainingRun.newBuilder(started)
        .setEventId(CoordinatorProcessor.eventId(started.getRunId(), started.getAttempt(),
            RunStatus.COMPLETED))
        .setEventTime(now).setStatus(RunStatus.COMPLETED).setFinishedAt(now)
        .setDurationMs(Math.max(0, now.toEpochMilli() - started.getStartedAt().toEpochMilli()))
        .setLineage(lineage(started, d, out.trainer(), out.trainerVersion(), executor))
        .setParams(new TreeMap<>(out.params())).setMetrics(metrics)
        .setArtifact(ModelArtifact.newBuilder().setUri(stored.uri()).setSha256(stored.sha256())
            .setFormat(out.format()).setSizeBytes(stored.sizeBytes())
            .setRuntimeVersion(out.runtimeVersion()).build())
        .setSignature(signature).setBaseline(baseline).setError(null).build();
  }

  /** The FAILED event, with the dataset in the lineage when it was built. */
  public static TrainingRun failed(TrainingRun started, Dataset dataset, ExecutorKind executor,
      String error, Instant now) {
    ModelLineage l = started.getLineage();
    return TrainingRun.newBuilder(started)
        .setEventId(CoordinatorProcessor.eventId(started.getRunId(), started.getAttempt(),
            RunStatus.FAILED))
        .setEventTime(now).setStatus(RunStatus.FAILED).setFinishedAt(now)
        .setDurationMs(Math.max(0, now.toEpochMilli() - started.getStartedAt().toEpochMilli()))
        .setLineage(lineage(started, dataset == null ? null : dataset.lineage(), l.getTrainer(),
            l.getTrainerVersion(), executor))
        .setError(error).build();
  }

  private static ModelLineage lineage(TrainingRun started, DatasetLineage dataset,
      String trainer, String trainerVersion, ExecutorKind executor) {
    return ModelLineage.newBuilder(started.getLineage()).setDataset(dataset).setTrainer(trainer)
        .setTrainerVersion(trainerVersion).setExecutor(executor).build();
  }
}
