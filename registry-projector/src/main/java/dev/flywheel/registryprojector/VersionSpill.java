package dev.flywheel.registryprojector;

import dev.flywheel.events.AliasState;
import dev.flywheel.events.ApproveVersion;
import dev.flywheel.events.ArchiveVersion;
import dev.flywheel.events.ModelRegistryState;
import dev.flywheel.events.ModelVersion;
import dev.flywheel.events.PromoteVersion;
import dev.flywheel.events.RegistryCommand;
import dev.flywheel.events.RejectVersion;
import dev.flywheel.events.ReportServingFailure;
import dev.flywheel.events.RollbackAlias;
import dev.flywheel.events.SetAlias;
import dev.flywheel.events.SetTags;
import dev.flywheel.events.UnarchiveVersion;
import dev.flywheel.events.VersionSummary;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.function.IntFunction;

/**
 * Keeps a model's state record small however many versions the model registers. A state holds
 * in full only its newest {@code keep} versions and those an alias points at; every other version
 * is listed in {@code older_versions} by number, stage and registration time, and its full entry
 * is kept apart (the registry's {@link RegistryTopology#VERSIONS_STORE}).
 *
 * <p>The decider and the fold never see the split: before a command is decided, the version it
 * names is {@link #restore restored} into the state's full entries, and after it the state is
 * {@link #spill spilled} again. A version entry is 1 to 2 KB and a summary about 11 bytes, so
 * a model of about 80,000 versions still fits a 1 MiB record with 100 held in full.
 */
final class VersionSpill {

  /** Receives the full entry of each version moved out of a state. */
  @FunctionalInterface
  interface Sink {
    void spilled(ModelVersion version);
  }

  private VersionSpill() {}

  /**
   * The version {@code command} acts on that {@code state} may hold only as a summary: the
   * version it names, or for a rollback the version it rolls back to. Empty for a command that
   * names none (a registration, a model's tags, an alias removal).
   */
  static OptionalInt target(ModelRegistryState state, RegistryCommand command) {
    Object c = command.getCommand();
    if (c instanceof SetAlias s) {
      return OptionalInt.of(s.getVersion());
    } else if (c instanceof PromoteVersion p) {
      return OptionalInt.of(p.getVersion());
    } else if (c instanceof ApproveVersion a) {
      return OptionalInt.of(a.getVersion());
    } else if (c instanceof RejectVersion r) {
      return OptionalInt.of(r.getVersion());
    } else if (c instanceof ArchiveVersion a) {
      return OptionalInt.of(a.getVersion());
    } else if (c instanceof UnarchiveVersion u) {
      return OptionalInt.of(u.getVersion());
    } else if (c instanceof ReportServingFailure f) {
      return OptionalInt.of(f.getVersion());
    } else if (c instanceof SetTags t && t.getVersion() != null) {
      return OptionalInt.of(t.getVersion());
    } else if (c instanceof RollbackAlias r) {
      if (r.getToVersion() != null) {
        return OptionalInt.of(r.getToVersion());
      }
      return RegistryFold.alias(state, r.getAlias())
          .filter(a -> !a.getPreviousVersions().isEmpty())
          .map(a -> OptionalInt.of(a.getPreviousVersions().get(0)))
          .orElse(OptionalInt.empty());
    }
    return OptionalInt.empty();
  }

  /**
   * Moves {@code version} from the state's summaries back into its full entries, in order; a
   * version the state holds in full, or does not have at all, leaves it unchanged.
   *
   * @param load the full entry of a summarised version
   * @throws IllegalStateException when the state lists the version but {@code load} has no entry
   *     for it (a store out of step with the state)
   */
  static void restore(ModelRegistryState state, int version, IntFunction<ModelVersion> load) {
    Optional<VersionSummary> summary = state.getOlderVersions().stream()
        .filter(s -> s.getVersion() == version).findFirst();
    if (summary.isEmpty()) {
      return;
    }
    ModelVersion full = loadListed(state, version, load);
    List<VersionSummary> older = new ArrayList<>(state.getOlderVersions());
    older.remove(summary.get());
    state.setOlderVersions(older);
    List<ModelVersion> versions = new ArrayList<>(state.getVersions());
    versions.add(full);
    versions.sort(Comparator.comparingInt(ModelVersion::getVersion));
    state.setVersions(versions);
  }

  /** The full entry of a version {@code state} lists, which {@code load} must have. */
  private static ModelVersion loadListed(ModelRegistryState state, int version,
      IntFunction<ModelVersion> load) {
    ModelVersion full = load.apply(version);
    if (full == null) {
      throw new IllegalStateException("model '" + state.getModel() + "' lists version " + version
          + " among its older versions, but the registry holds no entry for it");
    }
    return full;
  }

  /**
   * Every version of the state restored in full, in one pass: for readers that show them all.
   *
   * @throws IllegalStateException as {@link #restore} does
   */
  static void restoreAll(ModelRegistryState state, IntFunction<ModelVersion> load) {
    if (state.getOlderVersions().isEmpty()) {
      return;
    }
    List<ModelVersion> versions = new ArrayList<>(
        state.getVersions().size() + state.getOlderVersions().size());
    versions.addAll(state.getVersions());
    for (VersionSummary s : state.getOlderVersions()) {
      versions.add(loadListed(state, s.getVersion(), load));
    }
    versions.sort(Comparator.comparingInt(ModelVersion::getVersion));
    state.setVersions(versions);
    state.setOlderVersions(new ArrayList<>());
  }

  /**
   * Moves out of the state's full entries every version that is neither among its newest {@code
   * keep} nor pointed at by an alias, handing each to {@code sink} and listing it as a summary.
   *
   * @return how many versions were moved
   */
  static int spill(ModelRegistryState state, int keep, Sink sink) {
    if (state.getVersions().size() <= keep) {
      return 0;
    }
    Set<Integer> pinned = new HashSet<>();
    for (AliasState a : state.getAliases()) {
      pinned.add(a.getVersion());
    }
    List<ModelVersion> versions = new ArrayList<>(state.getVersions());
    versions.sort(Comparator.comparingInt(ModelVersion::getVersion));
    int newestFrom = versions.size() - keep;
    List<VersionSummary> older = new ArrayList<>(state.getOlderVersions());
    int moved = 0;
    Iterator<ModelVersion> it = versions.iterator();
    for (int i = 0; it.hasNext(); i++) {
      ModelVersion v = it.next();
      if (i >= newestFrom || pinned.contains(v.getVersion())) {
        continue;
      }
      sink.spilled(v);
      older.add(VersionSummary.newBuilder().setVersion(v.getVersion()).setStatus(v.getStatus())
          .setRegisteredAt(v.getRegisteredAt()).build());
      it.remove();
      moved++;
    }
    if (moved > 0) {
      older.sort(Comparator.comparingInt(VersionSummary::getVersion));
      state.setOlderVersions(older);
      state.setVersions(versions);
    }
    return moved;
  }

  /** How many versions the state has, in full and summarised. */
  static int count(ModelRegistryState state) {
    return state.getVersions().size() + state.getOlderVersions().size();
  }
}
