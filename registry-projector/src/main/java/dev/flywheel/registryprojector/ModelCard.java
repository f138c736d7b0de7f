package dev.flywheel.registryprojector;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flywheel.events.AliasState;
import dev.flywheel.events.Approval;
import dev.flywheel.events.CommandOutcome;
import dev.flywheel.events.DatasetLineage;
import dev.flywheel.events.ModelEvent;
import dev.flywheel.events.ModelLineage;
import dev.flywheel.events.ModelRegistryState;
import dev.flywheel.events.ModelSignature;
import dev.flywheel.events.ModelVersion;
import dev.flywheel.events.PromoteVersion;
import dev.flywheel.events.RollbackAlias;
import dev.flywheel.events.SetAlias;
import dev.flywheel.events.TrainingReason;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The model card of one version: purpose, data and features, metrics, lineage, approvals, where
 * its aliases moved, and the policy it is held to; as JSON and as Markdown, both from the same
 * registry state and audit history (so a card {@code asOf} a past time is the card as it was).
 */
public final class ModelCard {

  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  private ModelCard() {}

  /**
   * The card as JSON.
   *
   * @param state the model's state
   * @param v the version
   * @param history the model's audit events up to the same time
   * @param policy the model's policy
   */
  public static ObjectNode json(ModelRegistryState state, ModelVersion v, List<ModelEvent> history,
      ModelPolicy policy) {
    ObjectNode card = F.objectNode();
    card.put("model", state.getModel());
    card.put("version", v.getVersion());
    card.put("status", v.getStatus().name());
    ArrayNode aliases = card.putArray("aliases");
    for (AliasState a : state.getAliases()) {
      if (a.getVersion() == v.getVersion()) {
        aliases.add(a.getAlias());
      }
    }
    card.put("purpose", v.getDescription());
    ModelSignature sig = v.getSignature();
    ObjectNode data = card.putObject("data");
    data.put("feature_group", sig.getFeatureGroup());
    data.put("feature_group_version", sig.getFeatureGroupVersion());
    data.put("label_target", sig.getLabelTarget());
    ModelLineage lineage = v.getLineage();
    DatasetLineage dataset = lineage == null ? null : lineage.getDataset();
    data.set("dataset", RegistryJson.of(dataset));
    ArrayNode features = card.putArray("features");
    for (String f : sig.getFeatureNames()) {
      features.addObject().put("name", f)
          .put("kind", sig.getCategoricalFeatures().contains(f) ? "categorical" : "numeric");
    }
    card.put("task", sig.getTask().name());
    if (sig.getDecisionThreshold() == null) {
      card.putNull("decision_threshold");
    } else {
      card.put("decision_threshold", sig.getDecisionThreshold());
    }
    card.set("metrics", RegistryJson.of(v.getMetrics()));
    card.set("params", RegistryJson.of(v.getParams()));
    ObjectNode lin = card.putObject("lineage");
    lin.put("run_id", lineage == null ? null : lineage.getRunId());
    lin.set("reasons", RegistryJson.of(lineage == null ? List.of() : lineage.getReasons()));
    lin.put("trainer", lineage == null ? null : lineage.getTrainer());
    lin.put("trainer_version", lineage == null ? null : lineage.getTrainerVersion());
    lin.put("executor", lineage == null || lineage.getExecutor() == null ? null
        : lineage.getExecutor().name());
    card.set("artifact", RegistryJson.of(v.getArtifact()));
    card.put("has_baseline", v.getHasBaseline());
    card.set("approvals", RegistryJson.of(v.getApprovals()));
    ArrayNode moves = card.putArray("alias_history");
    for (ModelEvent e : history) {
      boolean aliasMove = e.getCommand() instanceof SetAlias
          || e.getCommand() instanceof PromoteVersion || e.getCommand() instanceof RollbackAlias;
      boolean concerns = e.getVersion() != null && e.getVersion() == v.getVersion()
          || e.getPreviousVersion() != null && e.getPreviousVersion() == v.getVersion();
      if (aliasMove && concerns && e.getOutcome() == CommandOutcome.ACCEPTED) {
        ObjectNode m = moves.addObject();
        m.put("time", e.getEventTime().toString());
        m.put("alias", e.getAlias());
        if (e.getPreviousVersion() == null) {
          m.putNull("from");
        } else {
          m.put("from", e.getPreviousVersion());
        }
        m.put("to", e.getVersion());
        m.put("actor", e.getActor().getName());
        m.put("command_id", e.getCommandId());
      }
    }
    ArrayNode gates = card.putArray("policy");
    policy.describe().forEach(gates::add);
    card.put("registered_at", v.getRegisteredAt().toString());
    card.set("registered_by", RegistryJson.of(v.getRegisteredBy()));
    card.set("tags", RegistryJson.of(v.getTags()));
    card.put("as_of_sequence", state.getSequence());
    return card;
  }

  /** The same card as Markdown. */
  public static String markdown(ModelRegistryState state, ModelVersion v,
      List<ModelEvent> history, ModelPolicy policy) {
    JsonNode card = json(state, v, history, policy);
    StringBuilder md = new StringBuilder();
    md.append("# ").append(state.getModel()).append(" v").append(v.getVersion()).append("\n\n");
    md.append("Status: ").append(v.getStatus()).append(" · aliases: ")
        .append(card.get("aliases").isEmpty() ? "none" : join(card.get("aliases"))).append('\n');
    md.append("Registered ").append(v.getRegisteredAt()).append(" by ")
        .append(v.getRegisteredBy().getName()).append("\n\n");
    md.append("## Purpose\n\n").append(v.getDescription() == null ? "_Not given._"
        : v.getDescription()).append("\n\n");
    ModelSignature sig = v.getSignature();
    md.append("## Data and features\n\n");
    md.append("- Task: ").append(sig.getTask());
    if (sig.getDecisionThreshold() != null) {
      md.append(", decision threshold ").append(RegistryDecider.num(sig.getDecisionThreshold()));
    }
    md.append('\n');
    md.append("- Feature group: ").append(orNone(sig.getFeatureGroup()));
    if (sig.getFeatureGroupVersion() != null) {
      md.append(" (").append(sig.getFeatureGroupVersion()).append(')');
    }
    md.append('\n');
    md.append("- Label target: ").append(orNone(sig.getLabelTarget())).append('\n');
    DatasetLineage ds = v.getLineage() == null ? null : v.getLineage().getDataset();
    if (ds != null) {
      md.append("- Dataset: sha256 `").append(ds.getSha256()).append("`, ")
          .append(ds.getTrainRows()).append(" training rows (").append(ds.getTrainStart())
          .append(" – ").append(ds.getTrainEnd()).append("), ").append(ds.getHoldoutRows())
          .append(" holdout rows (").append(ds.getHoldoutStart()).append(" – ")
          .append(ds.getHoldoutEnd()).append(")\n");
    }
    md.append("\n| # | feature | kind |\n|---|---|---|\n");
    int i = 1;
    for (String f : sig.getFeatureNames()) {
      md.append("| ").append(i++).append(" | ").append(f).append(" | ")
          .append(sig.getCategoricalFeatures().contains(f) ? "categorical" : "numeric")
          .append(" |\n");
    }
    md.append("\n## Metrics\n\n");
    table(md, v.getMetrics(), "metric");
    md.append("\n## Parameters\n\n");
    table(md, v.getParams(), "parameter");
    md.append("\n## Lineage\n\n");
    ModelLineage l = v.getLineage();
    if (l == null) {
      md.append("_Registered by hand, without lineage._\n");
    } else {
      md.append("- Run: ").append(orNone(l.getRunId())).append('\n');
      md.append("- Trainer: ").append(orNone(l.getTrainer()));
      if (l.getTrainerVersion() != null) {
        md.append(' ').append(l.getTrainerVersion());
      }
      md.append(", executor ").append(l.getExecutor() == null ? "none" : l.getExecutor())
          .append('\n');
      for (TrainingReason r : l.getReasons()) {
        md.append("- Reason: ").append(r.getKind()).append(" at ").append(r.getTriggeredAt());
        if (r.getDetail() != null) {
          md.append(" — ").append(r.getDetail());
        }
        md.append('\n');
      }
    }
    md.append("- Artifact: `").append(v.getArtifact().getUri()).append("` (")
        .append(v.getArtifact().getFormat()).append(", sha256 `")
        .append(v.getArtifact().getSha256()).append("`)\n");
    md.append("- Baseline profile: ").append(v.getHasBaseline() ? "yes" : "no").append('\n');
    md.append("\n## Approvals\n\n");
    if (v.getApprovals().isEmpty()) {
      md.append("_None._\n");
    } else {
      md.append("| alias | decision | by | roles | at | comment |\n|---|---|---|---|---|---|\n");
      for (Approval a : v.getApprovals()) {
        md.append("| ").append(a.getAlias()).append(" | ")
            .append(a.getApproved() ? "approved" : "rejected").append(" | ")
            .append(a.getActor().getName()).append(" | ")
            .append(String.join(", ", a.getActor().getRoles())).append(" | ")
            .append(a.getDecidedAt()).append(" | ").append(orNone(a.getComment())).append(" |\n");
      }
    }
    md.append("\n## Alias history\n\n");
    JsonNode moves = card.get("alias_history");
    if (moves.isEmpty()) {
      md.append("_No alias has pointed at this version._\n");
    } else {
      md.append("| time | alias | from | to | by |\n|---|---|---|---|---|\n");
      for (JsonNode m : moves) {
        md.append("| ").append(m.get("time").asText()).append(" | ")
            .append(m.get("alias").asText()).append(" | ")
            .append(m.get("from").isNull() ? "—" : m.get("from").asText()).append(" | ")
            .append(m.get("to").asText()).append(" | ").append(m.get("actor").asText())
            .append(" |\n");
      }
    }
    md.append("\n## Policy\n\n");
    List<String> gates = policy.describe();
    if (gates.isEmpty()) {
      md.append("_No gates: any version may be promoted._\n");
    } else {
      gates.forEach(g -> md.append("- ").append(g).append('\n'));
    }
    if (!v.getTags().isEmpty()) {
      md.append("\n## Tags\n\n");
      table(md, v.getTags(), "tag");
    }
    return md.toString();
  }

  private static void table(StringBuilder md, Map<String, ?> values, String what) {
    if (values.isEmpty()) {
      md.append("_None._\n");
      return;
    }
    md.append("| ").append(what).append(" | value |\n|---|---|\n");
    new TreeMap<>(values).forEach((k, val) -> md.append("| ").append(k).append(" | ")
        .append(val instanceof Double d ? RegistryDecider.num(d) : String.valueOf(val))
        .append(" |\n"));
  }

  private static String join(JsonNode array) {
    StringBuilder s = new StringBuilder();
    for (JsonNode n : array) {
      if (s.length() > 0) {
        s.append(", ");
      }
      s.append(n.asText());
    }
    return s.toString();
  }

  private static String orNone(String s) {
    return s == null ? "none" : s;
  }
}
