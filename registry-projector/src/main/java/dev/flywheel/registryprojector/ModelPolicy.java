package dev.flywheel.registryprojector;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The lifecycle policy of one model, from the {@code policy} key of its entry under {@code
 * models:} in {@code flywheel.yaml}.
 *
 * @param promotionAliases aliases whose moves are promotions: they pass the gates and emit
 *     {@code ModelPromoted}; never empty
 * @param gates metric gates a version must pass to move to a promotion alias
 * @param beatChampion the champion comparison; null for none
 * @param approvals for each alias that needs a human approval, the roles allowed to approve
 * @param autoPromote promotion aliases the registry moves by itself to a newly registered (or newly
 *     approved) version when every gate passes
 */
public record ModelPolicy(List<String> promotionAliases, List<MetricGate> gates,
    ChampionGate beatChampion, Map<String, Set<String>> approvals, List<String> autoPromote) {

  /** Promotion aliases unless configured. */
  public static final List<String> DEFAULT_PROMOTION_ALIASES = List.of("champion", "production");

  /**
   * Copies everything.
   *
   * @throws IllegalArgumentException when an auto-promoted alias is not a promotion alias, or an
   *     approval lists no role
   */
  public ModelPolicy {
    promotionAliases = List.copyOf(promotionAliases);
    if (promotionAliases.isEmpty()) {
      throw new IllegalArgumentException("promotionAliases must name at least one alias");
    }
    gates = List.copyOf(gates);
    Map<String, Set<String>> copy = new LinkedHashMap<>();
    approvals.forEach((alias, roles) -> {
      if (roles == null || roles.isEmpty()) {
        throw new IllegalArgumentException("approvals." + alias + " lists no role; name the roles"
            + " allowed to approve versions for " + alias + " (e.g. [risk-approver])");
      }
      copy.put(alias, Set.copyOf(new TreeSet<>(roles)));
    });
    approvals = Map.copyOf(copy);
    autoPromote = List.copyOf(autoPromote);
    for (String alias : autoPromote) {
      if (!promotionAliases.contains(alias)) {
        throw new IllegalArgumentException("autoPromote names '" + alias + "', which is not a"
            + " promotion alias " + promotionAliases + "; add it to promotionAliases or remove it");
      }
    }
  }

  /** No gates, no approvals, no automatic promotion, the given promotion aliases. */
  public static ModelPolicy open(List<String> promotionAliases) {
    return new ModelPolicy(promotionAliases, List.of(), null, Map.of(), List.of());
  }

  /** Whether moving {@code alias} is a promotion. */
  public boolean isPromotionAlias(String alias) {
    return promotionAliases.contains(alias);
  }

  /** The roles allowed to approve versions for {@code alias}; empty when it needs no approval. */
  public Set<String> approverRoles(String alias) {
    return approvals.getOrDefault(alias, Set.of());
  }

  /** The policy with other promotion aliases. */
  public ModelPolicy withPromotionAliases(List<String> aliases) {
    return new ModelPolicy(aliases, gates, beatChampion, approvals, autoPromote);
  }

  /** The gates in words, for a model card. */
  public List<String> describe() {
    List<String> out = new ArrayList<>();
    gates.forEach(g -> out.add(g.toString()));
    if (beatChampion != null) {
      out.add("beats " + Objects.requireNonNullElse(beatChampion.alias(), "the incumbent")
          + " by " + MetricGate.format(beatChampion.margin()) + " on " + beatChampion.metric());
    }
    new TreeSet<>(approvals.keySet()).forEach(a ->
        out.add("approval for " + a + " by " + String.join(" or ", new TreeSet<>(approvals.get(a)))));
    autoPromote.forEach(a -> out.add("automatic promotion to " + a));
    return out;
  }
}
