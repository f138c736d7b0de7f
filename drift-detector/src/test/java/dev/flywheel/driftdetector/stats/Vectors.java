package dev.flywheel.driftdetector.stats;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/** The SciPy reference vectors of {@code src/test/python/make_vectors.py}. */
final class Vectors {

  private static final JsonNode ROOT = load();

  private Vectors() {}

  static List<JsonNode> cases(String group) {
    List<JsonNode> out = new ArrayList<>();
    ROOT.get(group).forEach(out::add);
    return out;
  }

  static long[] longs(JsonNode node) {
    long[] out = new long[node.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = node.get(i).asLong();
    }
    return out;
  }

  static double[] doubles(JsonNode node) {
    double[] out = new double[node.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = node.get(i).asDouble();
    }
    return out;
  }

  private static JsonNode load() {
    try (InputStream in = Vectors.class.getResourceAsStream("/drift-vectors.json")) {
      return new ObjectMapper().readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
