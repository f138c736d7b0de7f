package dev.flywheel.registryprojector;

import dev.flywheel.events.AliasState;
import dev.flywheel.events.Approval;
import dev.flywheel.events.ApproveVersion;
import dev.flywheel.events.ArchiveVersion;
import dev.flywheel.events.CommandOutcome;
import dev.flywheel.events.ModelArtifact;
import dev.flywheel.events.ModelEvent;
import dev.flywheel.events.ModelLineage;
import dev.flywheel.events.ModelRegistryState;
import dev.flywheel.events.ModelSignature;
import dev.flywheel.events.ModelVersion;
import dev.flywheel.events.PromoteVersion;
import dev.flywheel.events.RegisterVersion;
import dev.flywheel.events.RejectVersion;
import dev.flywheel.events.RemoveAlias;
import dev.flywheel.events.RollbackAlias;
import dev.flywheel.events.SetAlias;
import dev.flywheel.events.SetTags;
import dev.flywheel.events.UnarchiveVersion;
import dev.flywheel.events.VersionStatus;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The one definition of how a {@link ModelEvent} changes a model's {@link ModelRegistryState}: the
 * projection applies it to every event it emits, and the history index applies it to replay the
 * audit log up to a past time, so both always agree.
 *
 * <p>Every event, accepted or rejected, advances the state's {@code sequence}, {@code event_id}
 * and {@code event_time} (so the state says which position in the history it reflects); only an
 * accepted event changes versions, aliases, approvals or tags. Events are applied in sequence
 * order; the decisions were made by {@link RegistryDecider}, so applying never fails on a
 * well-formed history.
 */
public final class RegistryFold {

  private RegistryFold() {}

  /** An empty state of {@code model}, before its first event. */
  public static ModelRegistryState empty(String model) {
    return ModelRegistryState.newBuilder().setEventId("").setEventTime(java.time.Instant.EPOCH)
        .setModel(model).setSequence(0).setVersions(new ArrayList<>())
        .setAliases(new ArrayList<>()).setTags(new HashMap<>()).build();
  }

  /**
   * Whether {@code state} holds nothing to list: no version, no alias and no model tag. That is
   * the state of a model none of whose commands was accepted (only rejections, which advance its
   * position in the history and nothing else). The registry lists only models that are not empty:
   * the projection keeps an empty state out of {@link RegistryTopology#STATE_STORE} and {@code
   * flywheel.registry.state}, and {@link ModelHistory} does not answer one.
   */
  public static boolean isEmpty(ModelRegistryState state) {
    return state.getVersions().isEmpty() && state.getAliases().isEmpty()
        && state.getTags().isEmpty();
  }

  /** A deep copy, safe to change without touching {@code state}. */
  public static ModelRegistryState copy(ModelRegistryState state) {
    return ModelRegistryState.newBuilder(state).build();
  }

  /**
   * Applies {@code event} to {@code state} in place and returns it.
   *
   * @throws IllegalArgumentException when the event is not the next in sequence
   */
  public static ModelRegistryState apply(ModelRegistryState state, ModelEvent event) {
    if (event.getSequence() != state.getSequence() + 1) {
      throw new IllegalArgumentException("event " + event.getEventId() + " of model "
          + event.getModel() + " has sequence " + event.getSequence() + " but the state is at "
          + state.getSequence());
    }
    state.setEventId(event.getEventId());
    state.setEventTime(event.getEventTime());
    state.setSequence(event.getSequence());
    if (event.getOutcome() != CommandOutcome.ACCEPTED) {
      return state;
    }
    // Lists read by Avro do not all support removal; work on plain lists.
    if (!(state.getVersions() instanceof ArrayList)) {
      state.setVersions(new ArrayList<>(state.getVersions()));
    }
    if (!(state.getAliases() instanceof ArrayList)) {
      state.setAliases(new ArrayList<>(state.getAliases()));
    }
    Object command = event.getCommand();
    if (command instanceof RegisterVersion r) {
      state.getVersions().add(ModelVersion.newBuilder()
          .setVersion(event.getVersion())
          .setStatus(VersionStatus.ACTIVE)
          .setArtifact(ModelArtifact.newBuilder(r.getArtifact()).build())
          .setSignature(ModelSignature.newBuilder(r.getSignature()).build())
          .setMetrics(new HashMap<>(r.getMetrics()))
          .setParams(new HashMap<>(r.getParams()))
          .setLineage(r.getLineage() == null ? null
              : ModelLineage.newBuilder(r.getLineage()).build())
          .setTags(new HashMap<>(r.getTags()))
          .setDescription(r.getDescription())
          .setRegisteredAt(event.getEventTime())
          .setRegisteredBy(dev.flywheel.events.Actor.newBuilder(event.getActor()).build())
          .setHasBaseline(r.getBaseline() != null)
          .setApprovals(new ArrayList<>())
          .build());
      state.getVersions().sort(Comparator.comparingInt(ModelVersion::getVersion));
    } else if (command instanceof SetAlias || command instanceof PromoteVersion) {
      moveAlias(state, event.getAlias(), event.getVersion(), event);
    } else if (command instanceof RollbackAlias) {
      AliasState alias = alias(state, event.getAlias()).orElseThrow();
      List<Integer> previous = new ArrayList<>(alias.getPreviousVersions());
      int index = previous.indexOf(event.getVersion());
      alias.setPreviousVersions(new ArrayList<>(previous.subList(index + 1, previous.size())));
      alias.setVersion(event.getVersion());
      alias.setAssignedAt(event.getEventTime());
      alias.setAssignedBy(dev.flywheel.events.Actor.newBuilder(event.getActor()).build());
    } else if (command instanceof RemoveAlias) {
      state.getAliases().removeIf(a -> a.getAlias().equals(event.getAlias()));
    } else if (command instanceof ApproveVersion a) {
      addApproval(state, event, a.getAlias(), true, a.getComment());
    } else if (command instanceof RejectVersion r) {
      addApproval(state, event, r.getAlias(), false, r.getComment());
    } else if (command instanceof ArchiveVersion) {
      version(state, event.getVersion()).orElseThrow().setStatus(VersionStatus.ARCHIVED);
    } else if (command instanceof UnarchiveVersion) {
      version(state, event.getVersion()).orElseThrow().setStatus(VersionStatus.ACTIVE);
    } else if (command instanceof SetTags t) {
      Map<String, String> tags = t.getVersion() == null ? state.getTags()
          : version(state, t.getVersion()).orElseThrow().getTags();
      tags.putAll(t.getTags());
      t.getRemoveKeys().forEach(tags::remove);
    }
    // ReportServingFailure is recorded in the history and changes nothing.
    return state;
  }

  /** The version numbered {@code version}, if registered. */
  public static Optional<ModelVersion> version(ModelRegistryState state, int version) {
    for (ModelVersion v : state.getVersions()) {
      if (v.getVersion() == version) {
        return Optional.of(v);
      }
    }
    return Optional.empty();
  }

  /** The alias named {@code alias}, if set. */
  public static Optional<AliasState> alias(ModelRegistryState state, String alias) {
    for (AliasState a : state.getAliases()) {
      if (a.getAlias().equals(alias)) {
        return Optional.of(a);
      }
    }
    return Optional.empty();
  }

  /** The highest version number registered, 0 when none. */
  public static int latestVersion(ModelRegistryState state) {
    int max = 0;
    for (ModelVersion v : state.getVersions()) {
      max = Math.max(max, v.getVersion());
    }
    return max;
  }

  private static void moveAlias(ModelRegistryState state, String name, int version,
      ModelEvent event) {
    Optional<AliasState> existing = alias(state, name);
    if (existing.isPresent()) {
      AliasState a = existing.get();
      List<Integer> previous = new ArrayList<>(a.getPreviousVersions());
      if (a.getVersion() != version) {
        previous.add(0, a.getVersion());
      }
      a.setPreviousVersions(previous);
      a.setVersion(version);
      a.setAssignedAt(event.getEventTime());
      a.setAssignedBy(dev.flywheel.events.Actor.newBuilder(event.getActor()).build());
    } else {
      state.getAliases().add(AliasState.newBuilder().setAlias(name).setVersion(version)
          .setAssignedAt(event.getEventTime())
          .setAssignedBy(dev.flywheel.events.Actor.newBuilder(event.getActor()).build())
          .setPreviousVersions(new ArrayList<>()).build());
      state.getAliases().sort(Comparator.comparing(AliasState::getAlias));
    }
  }

  private static void addApproval(ModelRegistryState state, ModelEvent event, String alias,
      boolean approved, String comment) {
    ModelVersion v = version(state, event.getVersion()).orElseThrow();
    List<Approval> approvals = new ArrayList<>(v.getApprovals());
    approvals.add(Approval.newBuilder().setAlias(alias).setApproved(approved)
        .setActor(dev.flywheel.events.Actor.newBuilder(event.getActor()).build())
        .setDecidedAt(event.getEventTime()).setComment(comment)
        .setCommandId(event.getCommandId()).build());
    v.setApprovals(approvals);
  }
}
