package dev.flywheel.platform.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flywheel.events.CommandOutcome;
import dev.flywheel.events.DatasetLineage;
import dev.flywheel.events.DriftAlert;
import dev.flywheel.events.FeatureVector;
import dev.flywheel.events.ModelEvent;
import dev.flywheel.events.ModelLineage;
import dev.flywheel.events.ModelPromoted;
import dev.flywheel.events.OffsetRange;
import dev.flywheel.events.Prediction;
import dev.flywheel.events.RecordOrigin;
import dev.flywheel.events.RegisterVersion;
import dev.flywheel.events.RunStatus;
import dev.flywheel.events.TrainingReason;
import dev.flywheel.events.TrainingRequested;
import dev.flywheel.events.TrainingRun;
import dev.flywheel.platform.cli.LogScanner.Found;
import dev.flywheel.registry.SchemaRegistryException;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.ClusterOptions;
import dev.flywheel.topics.ServiceEnvironment;
import dev.flywheel.topics.Topics;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.config.ConfigException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code flywheel lineage <event-id>}: for the predictions of one event, the model version that
 * made each, the training run and dataset (with its offset ranges) behind that version, the
 * reasons that started the run (with the drift alert or training request named by them), the
 * feature vector of the event and the source event, with topic, partition and offset — by reading
 * the log:
 *
 * <ol>
 *   <li>{@code flywheel.predictions}: predictions whose {@code event_id} is the one given;
 *   <li>{@code flywheel.model.events}: the accepted registration of each prediction's model version,
 *       whose lineage names the run, its reasons and its dataset (else {@code
 *       flywheel.model.promoted} for that version);
 *   <li>{@code flywheel.training.runs}: the run by its id; {@code flywheel.drift.alerts} and
 *       {@code flywheel.training.requests}: what the reasons name;
 *   <li>{@code flywheel.features}: the feature vector with the same {@code event_id};
 *   <li>the source event at the position the prediction (or the vector) records.
 * </ol>
 *
 * <p>Exit status: 0 when a prediction was found (links that are missing are said so); {@value
 * #EXIT_NOT_FOUND} when no prediction has that event id; 1 when Kafka cannot be read, the schema
 * registry does not answer (or refuses the client), or a schema registry setting is invalid.
 *
 * <p>The registry client and serdes take the services' settings ({@link
 * ServiceEnvironment#schemaRegistry()}: {@code FLYWHEEL_SCHEMA_REGISTRY_<NAME>} variables and
 * {@code -Dflywheel.schema.registry.<property>}), on the URL of {@code --schema-registry-url}.
 */
@Command(name = "lineage", mixinStandardHelpOptions = true,
    description = {"Trace a prediction back to the source event it scored.",
        "Follows the links the events carry: the model version, its training run, the dataset"
            + " offsets, the trigger, the feature vector and the source event (topic, partition,"
            + " offset)."})
public final class LineageCommand implements Callable<Integer> {

  /** Exit status when no prediction has the event id. */
  public static final int EXIT_NOT_FOUND = 3;

  @Spec private CommandSpec spec;
  @Mixin private ClusterOptions cluster;

  @Parameters(index = "0", paramLabel = "<event-id>",
      description = "The id of the scored event (a prediction's event_id).")
  private String eventId;

  @Option(names = "--json", description = "Print the lineage as one JSON document.")
  private boolean json;

  /** Used by picocli. */
  public LineageCommand() {}

  /** What one model version was trained from. */
  record VersionLineage(String model, int version, Found<ModelEvent> registration,
      Found<ModelPromoted> promotion, ModelLineage lineage, Found<TrainingRun> run,
      List<Found<DriftAlert>> alerts, List<Found<TrainingRequested>> requests) {}

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    AvroSerdes serdes;
    try {
      // the services' registry settings (FLYWHEEL_SCHEMA_REGISTRY_<NAME>,
      // -Dflywheel.schema.registry.<property>), on the URL of the options
      Map<String, Object> registrySettings = cluster.schemaRegistry();
      serdes = AvroSerdes.fromConfig(registrySettings);
    } catch (ConfigException e) {
      err.println("flywheel lineage: invalid schema registry settings: " + e.getMessage());
      return 1;
    }
    Topics topics = cluster.topics(serdes);
    try (LogScanner log = new LogScanner(CommandClients.consumer(cluster))) {
      List<Found<Prediction>> predictions = log.scan(topics.predictions().name(), null,
          topics.predictions().valueSerde().deserializer(),
          p -> eventId.equals(p.getEventId()));
      if (predictions.isEmpty()) {
        err.println("flywheel lineage: no prediction with event id '" + eventId + "' on "
            + topics.predictions().name() + " (its retention is "
            + Topics.OPERATIONAL_RETENTION.toDays() + " days); check the id, or the --prefix");
        return EXIT_NOT_FOUND;
      }
      Map<String, VersionLineage> versions = new LinkedHashMap<>();
      for (Found<Prediction> p : predictions) {
        String id = p.value().getModel() + " v" + p.value().getVersion();
        if (!versions.containsKey(id)) {
          versions.put(id, version(log, topics, p.value().getModel(), p.value().getVersion()));
        }
      }
      String group = predictions.get(0).value().getFeatureGroup();
      List<Found<FeatureVector>> vectors = log.scan(topics.features().name(), null,
          topics.features().valueSerde().deserializer(),
          v -> eventId.equals(v.getEventId())
              && (group == null || group.equals(v.getFeatureGroup())));
      RecordOrigin origin = predictions.stream().map(p -> p.value().getSource())
          .filter(Objects::nonNull).findFirst()
          .orElse(vectors.isEmpty() ? null : vectors.get(0).value().getSource());
      Optional<ConsumerRecord<byte[], byte[]>> source = origin == null ? Optional.empty()
          : log.readAt(origin.getTopic(), origin.getPartition(), origin.getOffset());
      RecordDecoder decoder = new RecordDecoder(serdes.client());
      if (json) {
        out.println(toJson(predictions, versions.values(), vectors, origin, source, decoder)
            .toPrettyString());
      } else {
        print(out, predictions, versions.values(), vectors, origin, source, decoder);
      }
      out.flush();
      return 0;
    } catch (RuntimeException e) {
      if (SchemaRegistryException.isRetriableCause(e)) {
        // not "no prediction": the records are there, but cannot be read without their schemas
        err.println("flywheel lineage: cannot reach the schema registry at "
            + cluster.schemaRegistryUrl() + ": " + registryMessage(e) + "; is it running, and is"
            + " --schema-registry-url its address?");
        return 1;
      }
      if (!(e instanceof KafkaException)) {
        throw e;
      }
      err.println("flywheel lineage: reading the log on " + cluster.bootstrapServers()
          + " failed: " + e.getMessage() + "; is the platform running (flywheel up)?");
      return 1;
    }
  }

  /** The message of the registry failure in {@code e}'s causes. */
  private static String registryMessage(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof SchemaRegistryException) {
        return t.getMessage();
      }
    }
    return e.getMessage();
  }

  private static VersionLineage version(LogScanner log, Topics topics, String model,
      int version) {
    List<Found<ModelEvent>> registrations = log.scan(topics.modelEvents().name(), model,
        topics.modelEvents().valueSerde().deserializer(),
        e -> model.equals(e.getModel()) && e.getOutcome() == CommandOutcome.ACCEPTED
            && e.getCommand() instanceof RegisterVersion
            && Objects.equals(e.getVersion(), version));
    Found<ModelEvent> registration = registrations.isEmpty() ? null : registrations.get(0);
    ModelLineage lineage = registration == null ? null
        : ((RegisterVersion) registration.value().getCommand()).getLineage();
    List<Found<ModelPromoted>> promotions = log.scan(topics.modelPromoted().name(), model,
        topics.modelPromoted().valueSerde().deserializer(),
        p -> model.equals(p.getModel()) && p.getVersion() == version);
    Found<ModelPromoted> promotion = promotions.isEmpty() ? null : promotions.get(0);
    if (lineage == null && promotion != null) {
      lineage = promotion.value().getLineage();
    }
    Found<TrainingRun> run = null;
    List<Found<DriftAlert>> alerts = new ArrayList<>();
    List<Found<TrainingRequested>> requests = new ArrayList<>();
    if (lineage != null && lineage.getRunId() != null) {
      String runId = lineage.getRunId();
      List<Found<TrainingRun>> runs = log.scan(topics.trainingRuns().name(), runId,
          topics.trainingRuns().valueSerde().deserializer(), r -> runId.equals(r.getRunId()));
      run = runs.stream().filter(r -> r.value().getStatus() == RunStatus.COMPLETED).findFirst()
          .orElse(runs.isEmpty() ? null : runs.get(runs.size() - 1));
      if (lineage.getReasons().isEmpty() && run != null) {
        lineage = run.value().getLineage();
      }
    }
    if (lineage != null) {
      for (TrainingReason reason : lineage.getReasons()) {
        if (reason.getAlertId() != null) {
          alerts.addAll(log.scan(topics.driftAlerts().name(), model,
              topics.driftAlerts().valueSerde().deserializer(),
              a -> reason.getAlertId().equals(a.getEventId())));
        }
        if (reason.getRequestId() != null) {
          requests.addAll(log.scan(topics.trainingRequests().name(), model,
              topics.trainingRequests().valueSerde().deserializer(),
              r -> reason.getRequestId().equals(r.getEventId())));
        }
      }
    }
    return new VersionLineage(model, version, registration, promotion, lineage, run, alerts,
        requests);
  }

  private void print(PrintWriter out, List<Found<Prediction>> predictions,
      Iterable<VersionLineage> versions, List<Found<FeatureVector>> vectors, RecordOrigin origin,
      Optional<ConsumerRecord<byte[], byte[]>> source, RecordDecoder decoder) {
    out.println("event " + eventId);
    for (Found<Prediction> f : predictions) {
      Prediction p = f.value();
      out.println("  prediction " + p.getPredictionId() + " at " + f.position() + ": "
          + p.getModel() + " v" + p.getVersion()
          + (p.getAlias() == null ? "" : " (" + p.getAlias() + ")")
          + (p.getShadow() ? " shadow" : "") + ", score " + p.getScore()
          + (p.getDecision() == null ? "" : ", decision " + p.getDecision())
          + ", entity " + p.getEntityId() + ", scored " + p.getScoredAt());
    }
    for (VersionLineage v : versions) {
      out.println("model " + v.model() + " v" + v.version());
      if (v.registration() != null) {
        out.println("  registered at " + v.registration().position() + " (command "
            + v.registration().value().getCommandId() + " by "
            + v.registration().value().getActor().getName() + ")");
      } else {
        out.println("  registration: not found on the model events");
      }
      if (v.promotion() != null) {
        out.println("  promoted to " + v.promotion().value().getAlias() + " at "
            + v.promotion().position());
      }
      ModelLineage l = v.lineage();
      if (l == null) {
        out.println("  lineage: none (a version registered by hand without lineage)");
        continue;
      }
      if (v.run() != null) {
        TrainingRun r = v.run().value();
        out.println("  training run " + r.getRunId() + ": " + r.getStatus() + " at "
            + v.run().position() + (r.getMetrics().isEmpty() ? "" : ", metrics "
            + new java.util.TreeMap<>(r.getMetrics())));
      } else {
        out.println("  training run " + l.getRunId() + ": not found on the training runs");
      }
      if (l.getTrainer() != null) {
        out.println("  trainer " + l.getTrainer()
            + (l.getTrainerVersion() == null ? "" : " " + l.getTrainerVersion())
            + (l.getExecutor() == null ? "" : " on " + l.getExecutor()));
      }
      DatasetLineage d = l.getDataset();
      if (d != null) {
        out.println("  dataset sha256 " + d.getSha256() + (d.getUri() == null ? ""
            : " (" + d.getUri() + ")") + ": " + d.getTrainRows() + " train rows ["
            + d.getTrainStart() + ", " + d.getTrainEnd() + "), " + d.getHoldoutRows()
            + " holdout rows [" + d.getHoldoutStart() + ", " + d.getHoldoutEnd() + ")");
        for (OffsetRange range : d.getRanges()) {
          out.println("    " + range.getTopic() + "-" + range.getPartition() + " offsets ["
              + range.getStartOffset() + ", " + range.getEndOffset() + ")");
        }
      } else {
        out.println("  dataset: not recorded");
      }
      for (TrainingReason reason : l.getReasons()) {
        out.println("  trigger " + reason.getKind() + " at " + reason.getTriggeredAt()
            + (reason.getDetail() == null ? "" : ": " + reason.getDetail())
            + (reason.getAlertId() == null ? "" : " (drift alert " + reason.getAlertId() + ")")
            + (reason.getRequestId() == null ? ""
                : " (training request " + reason.getRequestId() + ")")
            + (reason.getLabelCount() == null ? "" : " (" + reason.getLabelCount()
                + " new labels)"));
      }
      for (Found<DriftAlert> a : v.alerts()) {
        out.println("    drift alert " + a.value().getEventId() + " at " + a.position()
            + ": onset " + a.value().getOnset() + ", drifted share "
            + a.value().getDriftedShare());
      }
      for (Found<TrainingRequested> r : v.requests()) {
        out.println("    training request " + r.value().getEventId() + " at " + r.position()
            + " by " + r.value().getActor().getName());
      }
    }
    if (vectors.isEmpty()) {
      out.println("feature vector: not found on the feature log");
    }
    for (Found<FeatureVector> f : vectors) {
      FeatureVector v = f.value();
      out.println("feature vector at " + f.position() + ": group " + v.getFeatureGroup()
          + ", entity " + v.getEntityId() + ", as of " + v.getAsOf());
    }
    if (origin == null) {
      out.println("source event: not recorded (features given explicitly over HTTP?)");
    } else {
      String at = origin.getTopic() + "-" + origin.getPartition() + "@" + origin.getOffset();
      if (source.isPresent()) {
        ObjectNode record = RecordDecoder.JSON.createObjectNode();
        decoder.put(record, "value", source.get().value(), false);
        out.println("source event at " + at + ": " + record.get("value"));
      } else {
        out.println("source event at " + at + ": no longer on the topic (retention)");
      }
    }
  }

  private ObjectNode toJson(List<Found<Prediction>> predictions,
      Iterable<VersionLineage> versions, List<Found<FeatureVector>> vectors, RecordOrigin origin,
      Optional<ConsumerRecord<byte[], byte[]>> source, RecordDecoder decoder) {
    ObjectNode root = RecordDecoder.JSON.createObjectNode();
    root.put("eventId", eventId);
    ArrayNode ps = root.putArray("predictions");
    for (Found<Prediction> f : predictions) {
      Prediction p = f.value();
      ObjectNode n = position(ps.addObject(), f);
      n.put("predictionId", p.getPredictionId());
      n.put("model", p.getModel());
      n.put("version", p.getVersion());
      n.put("alias", p.getAlias());
      n.put("shadow", p.getShadow());
      n.put("score", p.getScore());
      n.put("entityId", p.getEntityId());
      n.put("scoredAt", p.getScoredAt().toString());
    }
    ArrayNode vs = root.putArray("models");
    for (VersionLineage v : versions) {
      ObjectNode n = vs.addObject();
      n.put("model", v.model());
      n.put("version", v.version());
      if (v.registration() != null) {
        position(n.putObject("registration"), v.registration())
            .put("commandId", v.registration().value().getCommandId());
      }
      if (v.promotion() != null) {
        position(n.putObject("promotion"), v.promotion())
            .put("alias", v.promotion().value().getAlias());
      }
      ModelLineage l = v.lineage();
      if (l == null) {
        continue;
      }
      ObjectNode run = n.putObject("run");
      run.put("runId", l.getRunId());
      run.put("trainer", l.getTrainer());
      run.put("executor", l.getExecutor() == null ? null : l.getExecutor().toString());
      if (v.run() != null) {
        position(run, v.run()).put("status", v.run().value().getStatus().toString());
        ObjectNode metrics = run.putObject("metrics");
        new java.util.TreeMap<>(v.run().value().getMetrics()).forEach(metrics::put);
      }
      DatasetLineage d = l.getDataset();
      if (d != null) {
        ObjectNode ds = n.putObject("dataset");
        ds.put("sha256", d.getSha256());
        ds.put("uri", d.getUri());
        ds.put("trainRows", d.getTrainRows());
        ds.put("holdoutRows", d.getHoldoutRows());
        ArrayNode ranges = ds.putArray("ranges");
        for (OffsetRange r : d.getRanges()) {
          ranges.addObject().put("topic", r.getTopic()).put("partition", r.getPartition())
              .put("startOffset", r.getStartOffset()).put("endOffset", r.getEndOffset());
        }
      }
      ArrayNode reasons = n.putArray("triggers");
      for (TrainingReason reason : l.getReasons()) {
        reasons.addObject().put("kind", reason.getKind().toString())
            .put("detail", reason.getDetail())
            .put("triggeredAt", reason.getTriggeredAt().toString())
            .put("alertId", reason.getAlertId()).put("requestId", reason.getRequestId());
      }
      ArrayNode alerts = n.putArray("driftAlerts");
      v.alerts().forEach(a -> position(alerts.addObject(), a)
          .put("alertId", a.value().getEventId()));
      ArrayNode requests = n.putArray("trainingRequests");
      v.requests().forEach(r -> position(requests.addObject(), r)
          .put("requestId", r.value().getEventId()));
    }
    ArrayNode fv = root.putArray("featureVectors");
    for (Found<FeatureVector> f : vectors) {
      position(fv.addObject(), f).put("featureGroup", f.value().getFeatureGroup())
          .put("asOf", f.value().getAsOf().toString());
    }
    if (origin != null) {
      ObjectNode s = root.putObject("source");
      s.put("topic", origin.getTopic());
      s.put("partition", origin.getPartition());
      s.put("offset", origin.getOffset());
      if (source.isPresent()) {
        decoder.put(s, "value", source.get().value(), false);
      } else {
        s.putNull("value");
      }
    } else {
      root.putNull("source");
    }
    return root;
  }

  private static ObjectNode position(ObjectNode node, Found<?> found) {
    node.put("topic", found.topic());
    node.put("partition", found.partition());
    node.put("offset", found.offset());
    return node;
  }
}
