package dev.flywheel.registryprojector;

import dev.flywheel.events.Actor;
import dev.flywheel.events.ActorKind;
import dev.flywheel.events.AliasState;
import dev.flywheel.events.Approval;
import dev.flywheel.events.ApproveVersion;
import dev.flywheel.events.ArchiveVersion;
import dev.flywheel.events.BaselineProfile;
import dev.flywheel.events.CommandOutcome;
import dev.flywheel.events.ModelEvent;
import dev.flywheel.events.ModelFormat;
import dev.flywheel.events.ModelPromoted;
import dev.flywheel.events.ModelRegistryState;
import dev.flywheel.events.ModelVersion;
import dev.flywheel.events.PromoteVersion;
import dev.flywheel.events.RegisterVersion;
import dev.flywheel.events.RegistryCommand;
import dev.flywheel.events.RejectVersion;
import dev.flywheel.events.RemoveAlias;
import dev.flywheel.events.ReportServingFailure;
import dev.flywheel.events.RollbackAlias;
import dev.flywheel.events.SetAlias;
import dev.flywheel.events.SetTags;
import dev.flywheel.events.UnarchiveVersion;
import dev.flywheel.events.VersionStatus;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.function.IntFunction;
import java.util.regex.Pattern;

/**
 * The registry's state machine: checks a {@link RegistryCommand} against a model's current state
 * and its {@link ModelPolicy}, and decides the {@link ModelEvent}s (accepted, or rejected with a
 * reason that says what to do), the follow-ups the registry makes by itself (automatic promotion)
 * and the {@link ModelPromoted} events of the promotion aliases that moved.
 *
 * <p>Pure and deterministic: the same state, command and time give the same events, with ids
 * derived from the model and sequence, so a replay produces identical records. It keeps no state
 * of its own; idempotency by command id is the caller's (the projection's store).
 */
public final class RegistryDecider {

  /** The actor of the follow-ups the registry makes by itself. */
  public static final String SELF = "registry-projector";

  /** The actor of versions registered from completed training runs. */
  public static final String TRAINING = "training-trigger";

  private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
  private static final Pattern ALIAS = Pattern.compile("[A-Za-z][A-Za-z0-9_-]{0,99}");

  private final RegistryConfig config;

  /** @param config the policies of the models and the default promotion aliases */
  public RegistryDecider(RegistryConfig config) {
    this.config = Objects.requireNonNull(config, "config");
  }

  /** The actor of registry follow-ups: a service without roles. */
  public static Actor self() {
    return Actor.newBuilder().setName(SELF).setKind(ActorKind.SERVICE).setRoles(List.of()).build();
  }

  /**
   * Decides {@code command} against {@code state}.
   *
   * @param state the model's state, changed in place to the state after the decision; {@link
   *     RegistryFold#empty} for a model without history
   * @param command the command; its model must be the state's
   * @param now when the registry decides; the events' time is the later of this and the state's
   *     last event time, so a model's history never goes back in time
   * @param baselines the baseline profile of a registered version, for {@link ModelPromoted}
   *     (baselines are not kept in the state); may return null
   */
  public Decision decide(ModelRegistryState state, RegistryCommand command, Instant now,
      IntFunction<BaselineProfile> baselines) {
    Instant time = now.isBefore(state.getEventTime()) ? state.getEventTime() : now;
    Ctx ctx = new Ctx(state, command, time, baselines, config.policy(command.getModel()));
    Object c = command.getCommand();
    if (c instanceof RegisterVersion r) {
      ctx.register(r);
    } else if (c instanceof SetAlias s) {
      ctx.setAlias(s);
    } else if (c instanceof PromoteVersion p) {
      ctx.promote(p);
    } else if (c instanceof RemoveAlias r) {
      ctx.removeAlias(r);
    } else if (c instanceof ApproveVersion a) {
      ctx.review(a.getAlias(), a.getVersion(), true);
    } else if (c instanceof RejectVersion r) {
      ctx.review(r.getAlias(), r.getVersion(), false);
    } else if (c instanceof RollbackAlias r) {
      ctx.rollback(r);
    } else if (c instanceof ArchiveVersion a) {
      ctx.archive(a);
    } else if (c instanceof UnarchiveVersion u) {
      ctx.unarchive(u);
    } else if (c instanceof SetTags t) {
      ctx.setTags(t);
    } else if (c instanceof ReportServingFailure f) {
      ctx.servingFailure(f);
    } else {
      ctx.reject(null, null, null, "the registry does not know the command type "
          + (c == null ? "null" : c.getClass().getSimpleName())
          + "; upgrade the registry projector before sending it");
    }
    return new Decision(ctx.events, ctx.promotions, state);
  }

  /**
   * Rejects {@code command} with {@code reason} whatever it asks, as {@link #decide} rejects an
   * invalid one: for a command the registry cannot take for a reason outside the model's rules
   * (its state would be too large to store).
   */
  public Decision refuse(ModelRegistryState state, RegistryCommand command, Instant now,
      String reason) {
    Instant time = now.isBefore(state.getEventTime()) ? state.getEventTime() : now;
    Ctx ctx = new Ctx(state, command, time, version -> null,
        config.policy(command.getModel()));
    ctx.reject(null, null, null, reason);
    return new Decision(ctx.events, ctx.promotions, state);
  }

  /** The deterministic id of the {@code sequence}-th event of {@code model}. */
  public static String eventId(String model, long sequence) {
    return UUID.nameUUIDFromBytes(("model-event\n" + model + "\n" + sequence)
        .getBytes(StandardCharsets.UTF_8)).toString();
  }

  private static String promotedId(String model, long sequence) {
    return UUID.nameUUIDFromBytes(("model-promoted\n" + model + "\n" + sequence)
        .getBytes(StandardCharsets.UTF_8)).toString();
  }

  /** One decision in progress. */
  private static final class Ctx {
    final ModelRegistryState state;
    final RegistryCommand command;
    final Instant time;
    final IntFunction<BaselineProfile> baselines;
    final ModelPolicy policy;
    final String model;
    final List<ModelEvent> events = new ArrayList<>();
    final List<ModelPromoted> promotions = new ArrayList<>();
    final Map<Integer, BaselineProfile> fresh = new HashMap<>();

    Ctx(ModelRegistryState state, RegistryCommand command, Instant time,
        IntFunction<BaselineProfile> baselines, ModelPolicy policy) {
      this.state = state;
      this.command = command;
      this.time = time;
      this.baselines = baselines;
      this.policy = policy;
      this.model = command.getModel();
    }

    // ---- commands ---------------------------------------------------------------------------

    void register(RegisterVersion r) {
      Problems problems = new Problems();
      String uri = r.getArtifact().getUri();
      if (uri == null || uri.isBlank()) {
        problems.add("artifact uri is empty; give where the model file is stored");
      }
      String sha = r.getArtifact().getSha256();
      if (sha == null || !SHA256.matcher(sha).matches()) {
        problems.add("artifact sha256 " + quote(sha) + " is not 64 lowercase hexadecimal"
            + " characters; give the SHA-256 digest of the model file");
      }
      if (r.getArtifact().getFormat() == null
          || r.getArtifact().getFormat() == ModelFormat.UNKNOWN) {
        problems.add("artifact format is UNKNOWN; use XGBOOST or ONNX");
      }
      List<String> features = r.getSignature().getFeatureNames();
      if (features.isEmpty()) {
        problems.add("the signature lists no feature names; give the model's inputs in order");
      }
      Set<String> seen = new HashSet<>();
      Set<String> repeated = new HashSet<>();
      for (String f : features) {
        if (!seen.add(f) && repeated.add(f)) {
          problems.add("the signature lists feature " + quote(f) + " more than once; list each"
              + " input once");
        }
      }
      for (String f : r.getSignature().getCategoricalFeatures()) {
        if (!seen.contains(f)) {
          problems.add("categorical feature " + quote(f) + " is not among the feature names;"
              + " add it to feature_names or drop it from categorical_features");
        }
      }
      for (Map.Entry<String, Double> m : r.getMetrics().entrySet()) {
        if (m.getValue() == null || m.getValue().isNaN() || m.getValue().isInfinite()) {
          problems.add("metric " + quote(m.getKey()) + " is " + m.getValue()
              + "; give a finite number");
        }
      }
      if (problems.isEmpty()) {
        for (ModelVersion v : state.getVersions()) {
          if (v.getArtifact().getSha256().equals(sha)) {
            problems.add("artifact sha256 " + sha.substring(0, 12) + "… is already version "
                + v.getVersion() + "; use version " + v.getVersion()
                + " instead of registering the same file again");
          }
        }
      }
      if (!problems.isEmpty()) {
        reject(null, null, null, problems.reason());
        return;
      }
      int version = RegistryFold.latestVersion(state) + 1;
      if (r.getBaseline() != null) {
        fresh.put(version, r.getBaseline());
      }
      ModelEvent accepted = accept(version, null, null);
      for (String alias : policy.autoPromote()) {
        autoPromote(alias, version, accepted.getCommandId());
      }
    }

    void setAlias(SetAlias s) {
      moveAlias(s.getAlias(), s.getVersion());
    }

    void promote(PromoteVersion p) {
      if (!policy.isPromotionAlias(p.getAlias())) {
        reject(p.getVersion(), p.getAlias(), null, "alias " + quote(p.getAlias())
            + " is not a promotion alias of " + model + " " + policy.promotionAliases()
            + "; promote to one of those, or move it with SetAlias");
        return;
      }
      moveAlias(p.getAlias(), p.getVersion());
    }

    void moveAlias(String alias, int version) {
      if (!validAlias(alias, version)) {
        return;
      }
      Optional<String> problem = versionProblem(version, "point " + alias + " at it");
      if (problem.isPresent()) {
        reject(version, alias, null, problem.get());
        return;
      }
      Optional<AliasState> current = RegistryFold.alias(state, alias);
      if (current.isPresent() && current.get().getVersion() == version) {
        reject(version, alias, null, "alias " + alias + " already points at version " + version
            + "; nothing to change");
        return;
      }
      Optional<Gate> failed = gates(alias, version);
      if (failed.isPresent()) {
        reject(version, alias, failed.get().name(), failed.get().reason());
        return;
      }
      ModelEvent event = accept(version, alias, current.map(AliasState::getVersion).orElse(null));
      if (policy.isPromotionAlias(alias)) {
        promoted(event, false, passedGates(alias, version));
      }
    }

    void removeAlias(RemoveAlias r) {
      Optional<AliasState> current = RegistryFold.alias(state, r.getAlias());
      if (current.isEmpty()) {
        reject(null, r.getAlias(), null, "alias " + r.getAlias() + " is not set on " + model
            + aliasList() + "; nothing to remove");
        return;
      }
      accept(current.get().getVersion(), r.getAlias(), current.get().getVersion());
    }

    void review(String alias, int version, boolean approved) {
      String verb = approved ? "approve" : "reject";
      Set<String> allowed = policy.approverRoles(alias);
      if (allowed.isEmpty()) {
        reject(version, alias, null, "alias " + alias + " of " + model + " needs no approval"
            + " under its policy; move it directly, or add approvals." + alias
            + " to the model's policy in flywheel.yaml");
        return;
      }
      Optional<String> problem = versionProblem(version, verb + " it");
      if (problem.isPresent()) {
        reject(version, alias, null, problem.get());
        return;
      }
      Actor actor = command.getActor();
      boolean holds = actor.getRoles().stream().anyMatch(allowed::contains);
      if (!holds) {
        reject(version, alias, approvalGate(alias), actor.getName() + " holds roles "
            + new TreeSet<>(actor.getRoles()) + " but decisions on " + alias + " for " + model
            + " need one of " + new TreeSet<>(allowed) + "; ask someone with one of those roles");
        return;
      }
      ModelEvent event = accept(version, alias, null);
      if (approved && policy.autoPromote().contains(alias)) {
        Optional<AliasState> current = RegistryFold.alias(state, alias);
        if (current.isEmpty() || current.get().getVersion() < version) {
          autoPromote(alias, version, event.getCommandId());
        }
      }
    }

    void rollback(RollbackAlias r) {
      Optional<AliasState> current = RegistryFold.alias(state, r.getAlias());
      if (current.isEmpty()) {
        reject(r.getToVersion(), r.getAlias(), null, "alias " + r.getAlias() + " is not set on "
            + model + aliasList() + "; there is nothing to roll back");
        return;
      }
      List<Integer> previous = current.get().getPreviousVersions();
      if (previous.isEmpty()) {
        reject(r.getToVersion(), r.getAlias(), null, "alias " + r.getAlias() + " has pointed"
            + " only at version " + current.get().getVersion() + "; there is no earlier version"
            + " to roll back to");
        return;
      }
      int target = r.getToVersion() == null ? previous.get(0) : r.getToVersion();
      if (target == current.get().getVersion()) {
        // a rollback that moves nothing would still cut the alias's history after the target
        reject(target, r.getAlias(), null, "alias " + r.getAlias() + " already points at"
            + " version " + target + "; nothing to change (roll back to one of "
            + earlier(previous, target) + ", or leave out the version to roll back to "
            + previous.get(0) + ")");
        return;
      }
      if (!previous.contains(target)) {
        reject(target, r.getAlias(), null, "alias " + r.getAlias() + " never pointed at version "
            + target + " before; roll back to one of " + previous);
        return;
      }
      ModelVersion v = RegistryFold.version(state, target).orElseThrow();
      if (v.getStatus() == VersionStatus.ARCHIVED) {
        reject(target, r.getAlias(), null, "version " + target + " is archived; unarchive "
            + target + " first, then roll back");
        return;
      }
      ModelEvent event = accept(target, r.getAlias(), current.get().getVersion());
      if (policy.isPromotionAlias(r.getAlias())) {
        promoted(event, true, "rolled back from version " + current.get().getVersion());
      }
    }

    /** The versions of {@code previous} other than {@code current}, in order. */
    static List<Integer> earlier(List<Integer> previous, int current) {
      List<Integer> others = new ArrayList<>();
      for (int v : previous) {
        if (v != current && !others.contains(v)) {
          others.add(v);
        }
      }
      return others;
    }

    void archive(ArchiveVersion a) {
      Optional<ModelVersion> v = RegistryFold.version(state, a.getVersion());
      if (v.isEmpty()) {
        reject(a.getVersion(), null, null, missing(a.getVersion()));
        return;
      }
      if (v.get().getStatus() == VersionStatus.ARCHIVED) {
        reject(a.getVersion(), null, null, "version " + a.getVersion()
            + " is already archived; nothing to change");
        return;
      }
      List<String> holding = new ArrayList<>();
      for (AliasState alias : state.getAliases()) {
        if (alias.getVersion() == a.getVersion()) {
          holding.add(alias.getAlias());
        }
      }
      if (!holding.isEmpty()) {
        reject(a.getVersion(), holding.get(0), null, "version " + a.getVersion() + " is the"
            + " target of alias " + String.join(", ", holding) + "; move or remove "
            + (holding.size() == 1 ? "that alias" : "those aliases") + " first");
        return;
      }
      accept(a.getVersion(), null, null);
    }

    void unarchive(UnarchiveVersion u) {
      Optional<ModelVersion> v = RegistryFold.version(state, u.getVersion());
      if (v.isEmpty()) {
        reject(u.getVersion(), null, null, missing(u.getVersion()));
        return;
      }
      if (v.get().getStatus() != VersionStatus.ARCHIVED) {
        reject(u.getVersion(), null, null, "version " + u.getVersion()
            + " is not archived; nothing to change");
        return;
      }
      accept(u.getVersion(), null, null);
    }

    void setTags(SetTags t) {
      if (t.getVersion() != null && RegistryFold.version(state, t.getVersion()).isEmpty()) {
        reject(t.getVersion(), null, null, missing(t.getVersion()));
        return;
      }
      for (String key : t.getTags().keySet()) {
        if (key.isBlank()) {
          reject(t.getVersion(), null, null, "a tag key is empty; give every tag a name");
          return;
        }
      }
      if (t.getTags().isEmpty() && t.getRemoveKeys().isEmpty()) {
        reject(t.getVersion(), null, null, "the command sets and removes no tag; give tags or"
            + " remove_keys");
        return;
      }
      accept(t.getVersion(), null, null);
    }

    void servingFailure(ReportServingFailure f) {
      if (RegistryFold.version(state, f.getVersion()).isEmpty()) {
        reject(f.getVersion(), f.getAlias(), null, missing(f.getVersion()));
        return;
      }
      accept(f.getVersion(), f.getAlias(), null);
    }

    // ---- policy -----------------------------------------------------------------------------

    void autoPromote(String alias, int version, String causedBy) {
      String commandId = causedBy + "/auto-promote/" + alias;
      Actor self = self();
      PromoteVersion promote = PromoteVersion.newBuilder().setAlias(alias).setVersion(version)
          .build();
      Optional<AliasState> current = RegistryFold.alias(state, alias);
      Optional<Gate> failed = gates(alias, version);
      if (failed.isPresent()) {
        append(event(commandId, time, self, promote, CommandOutcome.REJECTED,
            failed.get().reason(), failed.get().name(), version, alias, null, causedBy));
        return;
      }
      String reason = passedGates(alias, version);
      ModelEvent event = append(event(commandId, time, self, promote, CommandOutcome.ACCEPTED,
          reason, null, version, alias, current.map(AliasState::getVersion).orElse(null),
          causedBy));
      promoted(event, false, reason);
    }

    /** The first gate {@code version} fails for {@code alias}, if any. */
    Optional<Gate> gates(String alias, int version) {
      ModelVersion v = RegistryFold.version(state, version).orElseThrow();
      Map<String, Double> metrics = v.getMetrics();
      if (policy.isPromotionAlias(alias)) {
        for (MetricGate gate : policy.gates()) {
          if (!gate.passes(metrics)) {
            Double value = metrics.get(gate.metric());
            return Optional.of(new Gate(gate.toString(), "promotion of version " + version
                + " to " + alias + " is blocked by the gate '" + gate + "': "
                + (value == null ? "version " + version + " has no metric " + gate.metric()
                    : gate.metric() + " is " + num(value))
                + "; register a version that passes it, or change the policy of " + model
                + " in flywheel.yaml"));
          }
        }
        ChampionGate champion = policy.beatChampion();
        if (champion != null) {
          String against = champion.alias() == null ? alias : champion.alias();
          Optional<AliasState> incumbent = RegistryFold.alias(state, against);
          if (incumbent.isPresent() && incumbent.get().getVersion() != version) {
            int iv = incumbent.get().getVersion();
            Double mine = metrics.get(champion.metric());
            Double theirs = RegistryFold.version(state, iv).orElseThrow().getMetrics()
                .get(champion.metric());
            String name = champion.describe(against, iv);
            if (mine == null) {
              return Optional.of(new Gate(name, "promotion of version " + version + " to "
                  + alias + " is blocked by the gate '" + name + "': version " + version
                  + " has no metric " + champion.metric() + " to compare; register a version"
                  + " with it"));
            }
            if (theirs != null && !champion.beats(mine, theirs)) {
              return Optional.of(new Gate(name, "promotion of version " + version + " to "
                  + alias + " is blocked by the gate '" + name + "': " + champion.metric() + " "
                  + num(mine) + " vs " + num(theirs) + " of " + against + " v" + iv
                  + "; register a version that beats it by " + num(champion.margin())
                  + ", or change the policy of " + model + " in flywheel.yaml"));
            }
          }
        }
      }
      Set<String> roles = policy.approverRoles(alias);
      if (!roles.isEmpty()) {
        Approval last = null;
        for (Approval a : v.getApprovals()) {
          if (a.getAlias().equals(alias)) {
            last = a;
          }
        }
        String name = approvalGate(alias);
        if (last == null) {
          return Optional.of(new Gate(name, "version " + version + " needs an approval for "
              + alias + " by one of " + new TreeSet<>(roles) + " before it can move there; ask"
              + " one to run 'flywheel models approve " + model + " " + version + " --alias "
              + alias + "'"));
        }
        if (!last.getApproved()) {
          return Optional.of(new Gate(name, "version " + version + " was rejected for " + alias
              + " by " + last.getActor().getName()
              + (last.getComment() == null ? "" : " (" + last.getComment() + ")")
              + "; it needs a new approval before it can move there"));
        }
      }
      return Optional.empty();
    }

    String approvalGate(String alias) {
      return "approval for " + alias + " by " + String.join(" or ",
          new TreeSet<>(policy.approverRoles(alias)));
    }

    String passedGates(String alias, int version) {
      ModelVersion v = RegistryFold.version(state, version).orElseThrow();
      List<String> passed = new ArrayList<>();
      if (policy.isPromotionAlias(alias)) {
        for (MetricGate gate : policy.gates()) {
          passed.add(gate.metric() + " " + num(v.getMetrics().get(gate.metric())) + " "
              + gate.operator() + " " + num(gate.threshold()));
        }
        ChampionGate champion = policy.beatChampion();
        if (champion != null) {
          String against = champion.alias() == null ? alias : champion.alias();
          Optional<AliasState> incumbent = RegistryFold.alias(state, against);
          if (incumbent.isEmpty() || incumbent.get().getVersion() == version) {
            passed.add("no " + against + " to beat");
          } else {
            int iv = incumbent.get().getVersion();
            Double mine = v.getMetrics().get(champion.metric());
            Double theirs = RegistryFold.version(state, iv).orElseThrow().getMetrics()
                .get(champion.metric());
            passed.add(theirs == null ? against + " v" + iv + " has no " + champion.metric()
                : "beats " + against + " v" + iv + " by " + num(Math.abs(mine - theirs)) + " on "
                    + champion.metric());
          }
        }
      }
      if (!policy.approverRoles(alias).isEmpty()) {
        passed.add("approved for " + alias);
      }
      return passed.isEmpty() ? "no gates" : "all gates passed: " + String.join(", ", passed);
    }

    // ---- helpers ----------------------------------------------------------------------------

    boolean validAlias(String alias, Integer version) {
      if (alias == null || !ALIAS.matcher(alias).matches()) {
        reject(version, alias, null, "alias " + quote(alias) + " is not a valid name; start"
            + " with a letter and use letters, digits, '-' and '_' (at most 100)");
        return false;
      }
      return true;
    }

    Optional<String> versionProblem(int version, String toDo) {
      Optional<ModelVersion> v = RegistryFold.version(state, version);
      if (v.isEmpty()) {
        return Optional.of(missing(version));
      }
      if (v.get().getStatus() == VersionStatus.ARCHIVED) {
        return Optional.of("version " + version + " is archived; register a new version or"
            + " unarchive " + version + " to " + toDo);
      }
      return Optional.empty();
    }

    String missing(int version) {
      int latest = RegistryFold.latestVersion(state);
      return "version " + version + " of " + model + " does not exist ("
          + (latest == 0 ? "no version is registered" : "the latest is " + latest)
          + "); pick a registered version";
    }

    String aliasList() {
      if (state.getAliases().isEmpty()) {
        return " (it has no aliases)";
      }
      List<String> names = new ArrayList<>();
      state.getAliases().forEach(a -> names.add(a.getAlias()));
      return " (its aliases: " + String.join(", ", names) + ")";
    }

    ModelEvent accept(Integer version, String alias, Integer previous) {
      return append(event(command.getEventId(), time, command.getActor(), command.getCommand(),
          CommandOutcome.ACCEPTED, command.getReason(), null, version, alias, previous, null));
    }

    void reject(Integer version, String alias, String gate, String reason) {
      append(event(command.getEventId(), time, command.getActor(), command.getCommand(),
          CommandOutcome.REJECTED, reason, gate, version, alias, null, null));
    }

    ModelEvent event(String commandId, Instant at, Actor actor, Object cmd,
        CommandOutcome outcome, String reason, String gate, Integer version, String alias,
        Integer previous, String causedBy) {
      long sequence = state.getSequence() + 1;
      return ModelEvent.newBuilder()
          .setEventId(eventId(model, sequence))
          .setEventTime(at)
          .setModel(model)
          .setSequence(sequence)
          .setCommandId(commandId)
          .setCommandTime(causedBy == null ? command.getEventTime() : at)
          .setActor(actor)
          .setCommand(cmd)
          .setOutcome(outcome)
          .setReason(reason)
          .setFailedGate(gate)
          .setVersion(version)
          .setAlias(alias)
          .setPreviousVersion(previous)
          .setCausedBy(causedBy)
          .build();
    }

    ModelEvent append(ModelEvent event) {
      RegistryFold.apply(state, event);
      events.add(event);
      return event;
    }

    void promoted(ModelEvent event, boolean rollback, String why) {
      ModelVersion v = RegistryFold.version(state, event.getVersion()).orElseThrow();
      BaselineProfile baseline = fresh.containsKey(v.getVersion()) ? fresh.get(v.getVersion())
          : v.getHasBaseline() ? baselines.apply(v.getVersion()) : null;
      String actorReason = event.getCausedBy() == null ? command.getReason() : null;
      promotions.add(ModelPromoted.newBuilder()
          .setEventId(promotedId(model, event.getSequence()))
          .setEventTime(event.getEventTime())
          .setModel(model)
          .setAlias(event.getAlias())
          .setVersion(v.getVersion())
          .setPreviousVersion(event.getPreviousVersion())
          .setRollback(rollback)
          .setArtifact(dev.flywheel.events.ModelArtifact.newBuilder(v.getArtifact()).build())
          .setSignature(dev.flywheel.events.ModelSignature.newBuilder(v.getSignature()).build())
          .setMetrics(new HashMap<>(v.getMetrics()))
          .setBaseline(baseline)
          .setLineage(v.getLineage() == null ? null
              : dev.flywheel.events.ModelLineage.newBuilder(v.getLineage()).build())
          .setActor(event.getActor())
          .setReason(actorReason == null ? why : actorReason + " (" + why + ")")
          .setCommandId(event.getCommandId())
          .build());
    }
  }

  private record Gate(String name, String reason) {}

  /** How many problems of a command a rejection names; the rest it counts. */
  static final int MAX_PROBLEMS = 10;

  /** How many characters of a name or value from a command a reason quotes. */
  static final int MAX_QUOTED = 100;

  /**
   * The problems found with a command, joined into one rejection reason that names the first
   * {@link #MAX_PROBLEMS} and counts the others: a reason the size of the command (a signature
   * listing one feature thousands of times) would make an event larger than a record may take.
   */
  private static final class Problems {
    private final List<String> named = new ArrayList<>();
    private int count;

    void add(String problem) {
      if (count++ < MAX_PROBLEMS) {
        named.add(problem);
      }
    }

    boolean isEmpty() {
      return count == 0;
    }

    String reason() {
      String reason = String.join("; ", named);
      return count <= MAX_PROBLEMS ? reason
          : reason + "; and " + (count - MAX_PROBLEMS) + " more problems (fix these, then send"
              + " the command again to see the rest)";
    }
  }

  /**
   * {@code value} from a command, quoted for a reason: at most {@link #MAX_QUOTED} characters, so
   * that a reason stays short however long the value.
   */
  static String quote(String value) {
    if (value == null) {
      return "null";
    }
    return value.length() <= MAX_QUOTED ? "'" + value + "'"
        : "'" + value.substring(0, MAX_QUOTED) + "…' (" + value.length() + " characters)";
  }

  static String num(Double value) {
    if (value == null) {
      return "none";
    }
    String s = String.format(Locale.ROOT, "%.6f", value);
    s = s.replaceAll("0+$", "");
    return s.endsWith(".") ? s + "0" : s;
  }
}
