package dev.flywheel.registryprojector;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The registry projector's part of {@code flywheel.yaml}: the {@code registry} section and the
 * {@code policy} of each entry under {@code models}. Other sections, and other keys of a model
 * entry (such as training-trigger's {@code training} and {@code triggers}), belong to other
 * services and are ignored; unknown keys inside {@code registry} and {@code policy} are refused, so
 * a misspelt gate is never silently ignored.
 *
 * <pre>{@code
 * registry:
 *   promotionAliases: [champion, production]   # default; moving one emits ModelPromoted
 *   applicationId: flywheel-registry-projector # default; the Kafka Streams application id
 *   port: 8080                                 # RegistryProjectorMain's own HTTP port; 0 = free
 *   stateVersions: 100                         # default; newest versions a state holds in full
 * models:
 *   - name: fraud-detector
 *     description: Scores card payments for fraud before authorisation
 *     policy:
 *       gates: ["auc >= 0.75", "log_loss <= 0.45"]
 *       beatChampion: {metric: auc, margin: 0.01}   # lowerIsBetter: false, alias: champion
 *       approvals: {production: [risk-approver]}     # alias -> roles allowed to approve
 *       autoPromote: [champion]
 *       promotionAliases: [champion, production]    # optional, overrides registry's
 * }</pre>
 *
 * @param promotionAliases the promotion aliases of models whose policy does not set its own
 * @param applicationId the Kafka Streams application id
 * @param port the HTTP port {@link RegistryProjectorMain} listens on
 * @param policies each configured model's policy, by model name
 * @param descriptions each configured model's {@code description} (what it is for, the "Purpose"
 *     of its model cards), by model name; training runs register their versions with it
 * @param stateVersions how many of a model's newest versions its state holds in full, besides
 *     those an alias points at now; the others are listed by number and stage
 *     only ({@link VersionSpill}), so that a model's state record stays small however many
 *     versions it registers
 */
public record RegistryConfig(List<String> promotionAliases, String applicationId, int port,
    Map<String, ModelPolicy> policies, Map<String, String> descriptions, int stateVersions) {

  /** Kafka Streams application id unless configured. */
  public static final String DEFAULT_APPLICATION_ID = "flywheel-registry-projector";

  /** HTTP port unless configured. */
  public static final int DEFAULT_PORT = 8080;

  /**
   * Newest versions a model's state holds in full unless configured: at about 1.2 KB each (21
   * inputs, 8 metrics, 10 params and lineage), about 120 KB, an eighth of a record's 1 MiB.
   */
  public static final int DEFAULT_STATE_VERSIONS = 100;

  /**
   * The top-level sections this service reads; {@link #parse} sees no other, so a key read must be
   * listed here.
   */
  public static final Set<String> SECTIONS = Set.of("registry", "models");

  /**
   * The keys of a {@code models:} entry this service reads; {@link #parse} sees no other (the keys
   * inside {@code policy} it checks itself).
   */
  public static final Set<String> MODEL_KEYS = Set.of("name", "policy", "description");

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Set<String> REGISTRY_KEYS = Set.of("promotionAliases", "applicationId",
      "port", "stateVersions");
  private static final Set<String> POLICY_KEYS = Set.of("gates", "beatChampion", "approvals",
      "autoPromote", "promotionAliases");
  private static final Set<String> CHAMPION_KEYS = Set.of("metric", "margin", "lowerIsBetter",
      "alias");

  /** Copies everything. */
  public RegistryConfig {
    promotionAliases = List.copyOf(promotionAliases);
    Objects.requireNonNull(applicationId, "applicationId");
    policies = Map.copyOf(policies);
    descriptions = Map.copyOf(descriptions);
    if (stateVersions < 1) {
      throw new IllegalArgumentException("registry.stateVersions must be at least 1, got "
          + stateVersions);
    }
  }

  /** These settings, with no model descriptions and the default {@code stateVersions}. */
  public RegistryConfig(List<String> promotionAliases, String applicationId, int port,
      Map<String, ModelPolicy> policies) {
    this(promotionAliases, applicationId, port, policies, Map.of(), DEFAULT_STATE_VERSIONS);
  }

  /** This config with another application id. */
  public RegistryConfig withApplicationId(String applicationId) {
    return new RegistryConfig(promotionAliases, applicationId, port, policies, descriptions,
        stateVersions);
  }

  /** This config with another {@code stateVersions}. */
  public RegistryConfig withStateVersions(int stateVersions) {
    return new RegistryConfig(promotionAliases, applicationId, port, policies, descriptions,
        stateVersions);
  }

  /** The {@code description} configured for {@code model}, or null. */
  public String description(String model) {
    return descriptions.get(model);
  }

  /** No models configured, default aliases and application id. */
  public static RegistryConfig defaults() {
    return new RegistryConfig(ModelPolicy.DEFAULT_PROMOTION_ALIASES, DEFAULT_APPLICATION_ID,
        DEFAULT_PORT, Map.of());
  }

  /** The policy of {@code model}: its configured one, or an open policy with no gates. */
  public ModelPolicy policy(String model) {
    ModelPolicy p = policies.get(model);
    return p != null ? p : ModelPolicy.open(promotionAliases);
  }

  /** This config with the policy of {@code model} replaced. */
  public RegistryConfig withPolicy(String model, ModelPolicy policy) {
    Map<String, ModelPolicy> copy = new LinkedHashMap<>(policies);
    copy.put(model, policy);
    return new RegistryConfig(promotionAliases, applicationId, port, copy, descriptions,
        stateVersions);
  }

  /**
   * Reads a {@code flywheel.yaml}.
   *
   * @throws IllegalArgumentException naming the file and what to fix
   */
  public static RegistryConfig load(Path file) {
    Objects.requireNonNull(file, "file");
    String text;
    try {
      text = Files.readString(file);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
    }
    try {
      return parse(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Parses YAML text.
   *
   * @throws IllegalArgumentException saying what is wrong and where
   */
  public static RegistryConfig parse(String yaml) {
    JsonNode root;
    try {
      root = YAML.readTree(yaml);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not valid YAML: " + e.getOriginalMessage()
          + (e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr()), e);
    }
    if (root == null || root.isMissingNode() || root.isNull()) {
      return defaults();
    }
    if (!root.isObject()) {
      throw new IllegalArgumentException("the top level must be a mapping of sections");
    }
    root = ((ObjectNode) root).deepCopy().retain(SECTIONS);
    JsonNode registry = root.path("registry");
    List<String> aliases = ModelPolicy.DEFAULT_PROMOTION_ALIASES;
    String applicationId = DEFAULT_APPLICATION_ID;
    int port = DEFAULT_PORT;
    int stateVersions = DEFAULT_STATE_VERSIONS;
    if (!registry.isMissingNode() && !registry.isNull()) {
      requireObject(registry, "registry");
      refuseUnknown(registry, REGISTRY_KEYS, "registry");
      if (registry.has("promotionAliases")) {
        aliases = strings(registry.get("promotionAliases"), "registry.promotionAliases");
        if (aliases.isEmpty()) {
          throw new IllegalArgumentException("registry.promotionAliases is empty; name at least"
              + " one alias (default [champion, production])");
        }
      }
      if (registry.has("applicationId")) {
        applicationId = text(registry.get("applicationId"), "registry.applicationId");
      }
      if (registry.has("port")) {
        JsonNode p = registry.get("port");
        if (!p.canConvertToInt() || !p.isIntegralNumber() || p.asInt() < 0 || p.asInt() > 65535) {
          throw new IllegalArgumentException("registry.port must be 0..65535, got " + p);
        }
        port = p.asInt();
      }
      if (registry.has("stateVersions")) {
        JsonNode n = registry.get("stateVersions");
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.asInt() < 1) {
          throw new IllegalArgumentException("registry.stateVersions must be a whole number of at"
              + " least 1 (default " + DEFAULT_STATE_VERSIONS + "), got " + n);
        }
        stateVersions = n.asInt();
      }
    }
    Map<String, ModelPolicy> policies = new LinkedHashMap<>();
    Map<String, String> descriptions = new LinkedHashMap<>();
    JsonNode models = root.path("models");
    if (!models.isMissingNode() && !models.isNull()) {
      if (!models.isArray()) {
        throw new IllegalArgumentException("models must be a list of {name, policy} entries");
      }
      int index = 0;
      for (JsonNode raw : models) {
        String where = "models[" + index++ + "]";
        requireObject(raw, where);
        JsonNode entry = ((ObjectNode) raw).deepCopy().retain(MODEL_KEYS);
        String name = text(entry.get("name"), where + ".name");
        where = "models[" + name + "]";
        if (policies.containsKey(name)) {
          throw new IllegalArgumentException(where + " is declared twice; merge the entries");
        }
        JsonNode description = entry.get("description");
        if (description != null && !description.isNull()) {
          if (!description.isTextual() || description.asText().isBlank()) {
            throw new IllegalArgumentException(where + ".description must be text: what the model"
                + " is for, shown as the Purpose of its model cards");
          }
          descriptions.put(name, description.asText().strip());
        }
        JsonNode policy = entry.get("policy");
        if (policy == null || policy.isNull()) {
          policies.put(name, ModelPolicy.open(aliases));
        } else {
          policies.put(name, policy(policy, where + ".policy", aliases));
        }
      }
    }
    return new RegistryConfig(aliases, applicationId, port, policies, descriptions,
        stateVersions);
  }

  private static ModelPolicy policy(JsonNode node, String where, List<String> defaultAliases) {
    requireObject(node, where);
    refuseUnknown(node, POLICY_KEYS, where);
    List<String> aliases = node.has("promotionAliases")
        ? strings(node.get("promotionAliases"), where + ".promotionAliases") : defaultAliases;
    List<MetricGate> gates = new ArrayList<>();
    for (String g : node.has("gates") ? strings(node.get("gates"), where + ".gates")
        : List.<String>of()) {
      try {
        gates.add(MetricGate.parse(g));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(where + ".gates: " + e.getMessage(), e);
      }
    }
    ChampionGate champion = null;
    JsonNode c = node.get("beatChampion");
    if (c != null && !c.isNull()) {
      requireObject(c, where + ".beatChampion");
      refuseUnknown(c, CHAMPION_KEYS, where + ".beatChampion");
      String metric = text(c.get("metric"), where + ".beatChampion.metric");
      JsonNode margin = c.get("margin");
      if (margin != null && !margin.isNumber()) {
        throw new IllegalArgumentException(where + ".beatChampion.margin must be a number, got "
            + margin);
      }
      JsonNode lower = c.get("lowerIsBetter");
      if (lower != null && !lower.isBoolean()) {
        throw new IllegalArgumentException(where + ".beatChampion.lowerIsBetter must be true or"
            + " false, got " + lower);
      }
      String alias = c.has("alias") ? text(c.get("alias"), where + ".beatChampion.alias") : null;
      try {
        champion = new ChampionGate(metric, margin == null ? 0 : margin.asDouble(),
            lower != null && lower.asBoolean(), alias);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
      }
    }
    Map<String, Set<String>> approvals = new LinkedHashMap<>();
    JsonNode a = node.get("approvals");
    if (a != null && !a.isNull()) {
      if (!a.isObject()) {
        throw new IllegalArgumentException(where + ".approvals must map aliases to the roles"
            + " allowed to approve, e.g. {production: [risk-approver]}");
      }
      Iterator<Map.Entry<String, JsonNode>> it = a.fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        approvals.put(e.getKey(), new LinkedHashSet<>(strings(e.getValue(),
            where + ".approvals." + e.getKey())));
      }
    }
    List<String> auto = node.has("autoPromote")
        ? strings(node.get("autoPromote"), where + ".autoPromote") : List.of();
    try {
      return new ModelPolicy(aliases, gates, champion, approvals, auto);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
    }
  }

  private static void requireObject(JsonNode node, String where) {
    if (node == null || !node.isObject()) {
      throw new IllegalArgumentException(where + " must be a mapping, got "
          + (node == null ? "nothing" : node.getNodeType().toString().toLowerCase()));
    }
  }

  private static void refuseUnknown(JsonNode node, Set<String> known, String where) {
    Iterator<String> names = node.fieldNames();
    while (names.hasNext()) {
      String name = names.next();
      if (!known.contains(name)) {
        throw new IllegalArgumentException(where + " has an unknown key '" + name
            + "'; the known keys are " + new java.util.TreeSet<>(known));
      }
    }
  }

  private static String text(JsonNode node, String where) {
    if (node == null || !node.isTextual() || node.asText().isBlank()) {
      throw new IllegalArgumentException(where + " must be a non-empty string");
    }
    return node.asText().trim();
  }

  private static List<String> strings(JsonNode node, String where) {
    if (node == null || !node.isArray()) {
      throw new IllegalArgumentException(where + " must be a list of strings");
    }
    List<String> out = new ArrayList<>();
    for (JsonNode n : node) {
      out.add(text(n, where + "[]"));
    }
    return out;
  }
}
