package dev.flywheel.servingsink.model;

import dev.flywheel.events.ModelFormat;
import dev.flywheel.events.ModelSignature;
import dev.flywheel.events.ModelTask;
import dev.flywheel.events.ServingCheck;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Turns a {@link ModelSpec} into a {@link ServedModel}, or refuses it. The checks, in order:
 *
 * <ol>
 *   <li>the artifact can be read ({@code LOAD_FAILED} otherwise);
 *   <li>its sha256 is the one the registry holds ({@code DIGEST_MISMATCH});
 *   <li>its format's runtime loads it ({@code LOAD_FAILED});
 *   <li>the signature names a feature group that provides every input, the inputs are numeric
 *       and distinct, and the runtime's own input count matches ({@code SIGNATURE_MISMATCH});
 *   <li>a warm-up batch scores to finite values, within [0, 1] for a binary classifier
 *       ({@code WARMUP_FAILED}).
 * </ol>
 *
 * <p>Artifacts are read from {@code file:} URIs or plain paths (the training trigger's
 * content-addressed store writes {@code file://} URIs).
 */
public final class ModelLoader {

  /** Rows scored to warm a model up before it serves. */
  public static final int DEFAULT_WARMUP_ROWS = 16;

  private final FeatureGroups groups;
  private final int warmupRows;

  public ModelLoader(FeatureGroups groups, int warmupRows) {
    this.groups = Objects.requireNonNull(groups, "groups");
    if (warmupRows < 1) {
      throw new IllegalArgumentException("warmupRows must be >= 1, got " + warmupRows);
    }
    this.warmupRows = warmupRows;
  }

  public ModelLoader(FeatureGroups groups) {
    this(groups, DEFAULT_WARMUP_ROWS);
  }

  /**
   * Loads, verifies and warms up the version.
   *
   * @throws Refusal naming the failed check and what to fix
   */
  public ServedModel load(ModelSpec spec) throws Refusal {
    byte[] bytes = read(spec);
    String actual = sha256(bytes);
    String expected = spec.artifact().getSha256().toLowerCase(Locale.ROOT);
    if (!actual.equals(expected)) {
      throw new Refusal(ServingCheck.DIGEST_MISMATCH, spec.describe() + ": artifact "
          + spec.artifact().getUri() + " has sha256 " + actual + " but the registry expects "
          + expected + "; the file changed after registration — restore it or register a new"
          + " version with the file's digest");
    }
    List<String> inputs = checkSignature(spec);
    Scorer scorer = open(spec, bytes);
    try {
      if (scorer.inputCount() >= 0 && scorer.inputCount() != inputs.size()) {
        throw new Refusal(ServingCheck.SIGNATURE_MISMATCH, spec.describe() + ": the "
            + spec.artifact().getFormat() + " model takes " + scorer.inputCount()
            + " input(s) but its signature names " + inputs.size() + " " + inputs
            + "; register the version with the signature it was trained with");
      }
      ServedModel model = new ServedModel(spec, scorer);
      warmUp(model);
      return model;
    } catch (Refusal | RuntimeException e) {
      scorer.close();
      throw e;
    }
  }

  private static byte[] read(ModelSpec spec) throws Refusal {
    String uri = spec.artifact().getUri();
    Path path;
    try {
      URI parsed = new URI(uri);
      if (parsed.getScheme() == null) {
        path = Path.of(uri);
      } else if ("file".equalsIgnoreCase(parsed.getScheme())) {
        path = Path.of(parsed);
      } else {
        throw new Refusal(ServingCheck.LOAD_FAILED, spec.describe() + ": artifact " + uri
            + " uses scheme '" + parsed.getScheme() + "', which serving cannot read; store"
            + " artifacts under a file: URI the serving hosts can read");
      }
    } catch (URISyntaxException | IllegalArgumentException e) {
      path = Path.of(uri);
    }
    try {
      return Files.readAllBytes(path);
    } catch (NoSuchFileException e) {
      throw new Refusal(ServingCheck.LOAD_FAILED, spec.describe() + ": artifact " + uri
          + " does not exist on this host (" + path + "); make the artifact store readable"
          + " here", e);
    } catch (IOException e) {
      throw new Refusal(ServingCheck.LOAD_FAILED, spec.describe() + ": cannot read artifact "
          + uri + ": " + e, e);
    }
  }

  private List<String> checkSignature(ModelSpec spec) throws Refusal {
    ModelSignature sig = spec.signature();
    List<String> inputs = new ArrayList<>(sig.getFeatureNames());
    if (inputs.isEmpty()) {
      throw new Refusal(ServingCheck.SIGNATURE_MISMATCH, spec.describe()
          + ": the signature names no input features");
    }
    Set<String> seen = new HashSet<>();
    for (String name : inputs) {
      if (!seen.add(name)) {
        throw new Refusal(ServingCheck.SIGNATURE_MISMATCH, spec.describe()
            + ": the signature names input '" + name + "' twice; inputs are mapped by name");
      }
    }
    if (!sig.getCategoricalFeatures().isEmpty()) {
      throw new Refusal(ServingCheck.SIGNATURE_MISMATCH, spec.describe()
          + ": categorical inputs " + sig.getCategoricalFeatures() + " are not supported by"
          + " serving; encode them as numeric features of the feature group");
    }
    if (sig.getTask() != ModelTask.BINARY_CLASSIFICATION && sig.getTask() != ModelTask.REGRESSION) {
      throw new Refusal(ServingCheck.SIGNATURE_MISMATCH, spec.describe() + ": task "
          + sig.getTask() + " is not one serving knows (BINARY_CLASSIFICATION, REGRESSION)");
    }
    String group = sig.getFeatureGroup();
    if (group == null || group.isBlank()) {
      throw new Refusal(ServingCheck.SIGNATURE_MISMATCH, spec.describe()
          + ": the signature names no feature_group, so serving cannot tell which feature"
          + " vectors it scores; register the version with its feature group");
    }
    Optional<Set<String>> provided;
    try {
      provided = groups.features(group);
    } catch (FeatureGroups.UnavailableException e) {
      throw Refusal.notYet(ServingCheck.SIGNATURE_MISMATCH, spec.describe()
          + ": cannot learn the features of group '" + group + "' now (" + e.getMessage()
          + "); trying again", e);
    } catch (RuntimeException e) {
      throw new Refusal(ServingCheck.SIGNATURE_MISMATCH, spec.describe()
          + ": cannot learn the features of group '" + group + "': " + e.getMessage()
          + "; asking again will not change that. Fix the feature lookup (or declare the group"
          + " under servingSink.featureGroups in flywheel.yaml); serving tries the version again"
          + " when it restarts or the version is promoted again", e);
    }
    if (provided.isEmpty()) {
      throw new Refusal(ServingCheck.SIGNATURE_MISMATCH, spec.describe() + ": feature group '"
          + group + "' is unknown to serving; declare it under servingSink.featureGroups in"
          + " flywheel.yaml or point servingSink.featureLookupUrl at feature-streams");
    }
    Set<String> missing = new TreeSet<>(inputs);
    missing.removeAll(provided.get());
    if (!missing.isEmpty()) {
      throw new Refusal(ServingCheck.SIGNATURE_MISMATCH, spec.describe() + ": feature group '"
          + group + "' lacks input(s) " + missing + " the model needs (the group provides "
          + new TreeSet<>(provided.get()) + "); add them to the group or retrain without them");
    }
    return inputs;
  }

  private static Scorer open(ModelSpec spec, byte[] bytes) throws Refusal {
    ModelFormat format = spec.artifact().getFormat();
    try {
      if (format == ModelFormat.XGBOOST) {
        return XgboostScorer.load(bytes);
      }
      if (format == ModelFormat.ONNX) {
        return OnnxScorer.load(bytes);
      }
    } catch (ModelLoadException e) {
      throw new Refusal(ServingCheck.LOAD_FAILED, spec.describe() + ": " + e.getMessage(), e);
    }
    throw new Refusal(ServingCheck.LOAD_FAILED, spec.describe() + ": format " + format
        + " is not one serving can load (XGBOOST, ONNX)");
  }

  private void warmUp(ServedModel model) throws Refusal {
    int columns = model.inputs().size();
    float[] values = new float[warmupRows * columns];
    for (int i = 0; i < values.length; i++) {
      // zeros, small positives and negatives (not NaN: an ONNX graph need not handle missing)
      int kind = (i / columns) % 3;
      values[i] = kind == 0 ? 0f : kind == 1 ? 1f + i % 7 : -0.5f * (i % 5);
    }
    double[] scores;
    try {
      scores = model.scoreColumns(values, warmupRows);
    } catch (RuntimeException e) {
      throw new Refusal(ServingCheck.WARMUP_FAILED, model + ": scoring a warm-up batch failed: "
          + e.getMessage(), e);
    }
    boolean binary = model.spec().signature().getTask() == ModelTask.BINARY_CLASSIFICATION;
    for (double s : scores) {
      if (Double.isNaN(s) || Double.isInfinite(s) || (binary && (s < 0 || s > 1))) {
        throw new Refusal(ServingCheck.WARMUP_FAILED, model + ": a warm-up row scored " + s
            + (binary ? "; a binary classifier must output a probability in [0, 1] (export it"
                + " with its sigmoid or probability output)" : "; scores must be finite"));
      }
    }
  }

  /** The sha256 of {@code bytes} as 64 lowercase hex characters. */
  public static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JVM has no SHA-256", e);
    }
  }
}
