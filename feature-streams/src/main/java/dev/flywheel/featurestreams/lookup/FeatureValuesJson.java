package dev.flywheel.featurestreams.lookup;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON form of {@link FeatureValues}, shared by the HTTP routes and {@link FeatureClient}:
 *
 * <pre>{@code
 * {"group": "card_activity", "entity": "card-7", "found": true,
 *  "asOf": "2026-11-23T10:15:30.123Z", "asOfMillis": 1795428930123, "eventId": "tx-991",
 *  "features": {"amount_count_10m": 3.0, "amount_mean_7d": null},
 *  "categoricalFeatures": {}, "servedBy": "10.0.0.7:8080"}
 * }</pre>
 *
 * <p>A feature that is undefined, or not a finite number, is {@code null}.
 */
final class FeatureValuesJson {

  static final ObjectMapper MAPPER = new ObjectMapper();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private FeatureValuesJson() {}

  static ObjectNode write(FeatureValues values) {
    ObjectNode node = NODES.objectNode();
    node.put("group", values.group());
    node.put("entity", values.entity());
    node.put("found", values.found());
    if (values.asOf() == null) {
      node.putNull("asOf");
      node.putNull("asOfMillis");
    } else {
      node.put("asOf", values.asOf().toString());
      node.put("asOfMillis", values.asOf().toEpochMilli());
    }
    node.put("eventId", values.eventId());
    ObjectNode features = node.putObject("features");
    for (Map.Entry<String, Double> e : values.features().entrySet()) {
      Double v = e.getValue();
      if (v == null || v.isNaN() || v.isInfinite()) {
        features.putNull(e.getKey());
      } else {
        features.put(e.getKey(), v.doubleValue());
      }
    }
    ObjectNode categorical = node.putObject("categoricalFeatures");
    for (Map.Entry<String, String> e : values.categoricalFeatures().entrySet()) {
      categorical.put(e.getKey(), e.getValue());
    }
    node.put("servedBy", values.servedBy());
    return node;
  }

  static ObjectNode writeBatch(String group, List<FeatureValues> results) {
    ObjectNode node = NODES.objectNode();
    node.put("group", group);
    ArrayNode array = node.putArray("results");
    for (FeatureValues values : results) {
      array.add(write(values));
    }
    return node;
  }

  /** @throws IllegalArgumentException when {@code node} is not a lookup answer */
  static FeatureValues read(JsonNode node) {
    if (node == null || !node.isObject() || !node.path("group").isTextual()
        || !node.path("entity").isTextual() || !node.path("found").isBoolean()) {
      throw new IllegalArgumentException("not a feature lookup answer: " + node);
    }
    JsonNode asOfMillis = node.path("asOfMillis");
    Instant asOf = asOfMillis.isIntegralNumber() ? Instant.ofEpochMilli(asOfMillis.asLong()) : null;
    Map<String, Double> features = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = node.path("features").fields(); it.hasNext();) {
      Map.Entry<String, JsonNode> e = it.next();
      features.put(e.getKey(), e.getValue().isNumber() ? e.getValue().asDouble() : null);
    }
    Map<String, String> categorical = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = node.path("categoricalFeatures").fields();
        it.hasNext();) {
      Map.Entry<String, JsonNode> e = it.next();
      categorical.put(e.getKey(), e.getValue().isTextual() ? e.getValue().asText() : null);
    }
    return new FeatureValues(node.get("group").asText(), node.get("entity").asText(),
        node.get("found").asBoolean(), asOf, text(node.path("eventId")), features, categorical,
        text(node.path("servedBy")));
  }

  /** @throws IllegalArgumentException when {@code node} is not a batch answer */
  static List<FeatureValues> readBatch(JsonNode node) {
    JsonNode results = node == null ? null : node.get("results");
    if (results == null || !results.isArray()) {
      throw new IllegalArgumentException("not a feature batch answer: " + node);
    }
    List<FeatureValues> list = new ArrayList<>(results.size());
    for (JsonNode r : results) {
      list.add(read(r));
    }
    return list;
  }

  static ObjectNode batchRequest(List<String> entities) {
    ObjectNode node = NODES.objectNode();
    ArrayNode array = node.putArray("entities");
    entities.forEach(array::add);
    return node;
  }

  private static String text(JsonNode node) {
    return node.isTextual() ? node.asText() : null;
  }
}
