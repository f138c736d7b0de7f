package dev.flywheel.registryprojector;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flywheel.events.AliasState;
import dev.flywheel.events.BaselineProfile;
import dev.flywheel.events.ModelEvent;
import dev.flywheel.events.ModelRegistryState;
import dev.flywheel.events.ModelVersion;
import java.time.Instant;
import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;

/**
 * The JSON of the query API: registry records as JSON objects with their Avro field names
 * (snake_case, as in the schemas), times as ISO-8601 instants, map entries sorted by key, so the
 * same state always renders to the same bytes. Baseline profiles are summarised (sample count,
 * feature count) rather than repeated.
 */
public final class RegistryJson {

  /** The mapper the API writes with: map entries sorted, no indentation. */
  public static final ObjectMapper MAPPER = new ObjectMapper()
      .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);

  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  private RegistryJson() {}

  /** Any generated record, list, map or scalar as JSON. */
  public static JsonNode of(Object value) {
    if (value == null) {
      return F.nullNode();
    }
    if (value instanceof BaselineProfile b) {
      ObjectNode o = F.objectNode();
      o.put("sample_count", b.getSampleCount());
      o.put("computed_at", b.getComputedAt().toString());
      o.put("feature_count", b.getFeatures().size());
      o.put("has_score", b.getScore() != null);
      return o;
    }
    if (value instanceof SpecificRecord r) {
      ObjectNode o = F.objectNode();
      for (Schema.Field f : r.getSchema().getFields()) {
        o.set(f.name(), of(r.get(f.pos())));
      }
      return o;
    }
    if (value instanceof Map<?, ?> m) {
      ObjectNode o = F.objectNode();
      new TreeMap<>(toStringKeys(m)).forEach((k, v) -> o.set(k, of(v)));
      return o;
    }
    if (value instanceof Collection<?> c) {
      ArrayNode a = F.arrayNode();
      c.forEach(v -> a.add(of(v)));
      return a;
    }
    if (value instanceof Instant i) {
      return F.textNode(i.toString());
    }
    if (value instanceof Enum<?> e) {
      return F.textNode(e.name());
    }
    if (value instanceof Integer i) {
      return F.numberNode(i);
    }
    if (value instanceof Long l) {
      return F.numberNode(l);
    }
    if (value instanceof Double d) {
      return F.numberNode(d);
    }
    if (value instanceof Float fl) {
      return F.numberNode(fl);
    }
    if (value instanceof Boolean b) {
      return F.booleanNode(b);
    }
    return F.textNode(value.toString());
  }

  private static Map<String, Object> toStringKeys(Map<?, ?> m) {
    Map<String, Object> out = new TreeMap<>();
    m.forEach((k, v) -> out.put(String.valueOf(k), v));
    return out;
  }

  /** One line of {@code GET /models}: name, position in history, versions, aliases, tags. */
  public static ObjectNode summary(ModelRegistryState state) {
    ObjectNode o = F.objectNode();
    o.put("model", state.getModel());
    o.put("sequence", state.getSequence());
    o.put("updated_at", state.getEventTime().toString());
    o.put("versions", VersionSpill.count(state));
    o.put("latest_version", RegistryFold.latestVersion(state));
    ObjectNode aliases = o.putObject("aliases");
    for (AliasState a : state.getAliases()) {
      aliases.put(a.getAlias(), a.getVersion());
    }
    o.set("tags", of(state.getTags()));
    return o;
  }

  /** A whole model: versions, aliases with their past versions, tags. */
  public static ObjectNode model(ModelRegistryState state) {
    return (ObjectNode) of(state);
  }

  /** One version, with the aliases pointing at it. */
  public static ObjectNode version(ModelRegistryState state, ModelVersion v) {
    ObjectNode o = (ObjectNode) of(v);
    ArrayNode aliases = o.putArray("aliases");
    for (AliasState a : state.getAliases()) {
      if (a.getVersion() == v.getVersion()) {
        aliases.add(a.getAlias());
      }
    }
    return o;
  }

  /** One audit event, with the command's type named. */
  public static ObjectNode event(ModelEvent e) {
    ObjectNode o = (ObjectNode) of(e);
    o.put("command_type", e.getCommand().getClass().getSimpleName());
    return o;
  }

  /** Compact JSON text. */
  public static String write(JsonNode node) {
    try {
      return MAPPER.writeValueAsString(node);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
