package dev.flywheel.servingsink.model;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxMap;
import ai.onnxruntime.OnnxSequence;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * An ONNX model scored with ONNX Runtime on the CPU: a graph with one float input of shape
 * {@code [N, k]} (what scikit-learn's and PyTorch's exporters write for tabular models), whose
 * score is read from its first float output — or from the output whose name contains
 * {@code prob} when there is one, as scikit-learn classifiers have ({@code label},
 * {@code probabilities}). A {@code [N, 2]} output gives the probability of class 1; a
 * {@code [N]} or {@code [N, 1]} output is the score itself; a ZipMap output (a sequence of maps
 * from class to probability) gives the value of class 1.
 */
public final class OnnxScorer implements Scorer {

  private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

  private final OrtSession session;
  private final String inputName;
  private final int inputCount;
  private final String outputName;
  private volatile boolean closed;

  private OnnxScorer(OrtSession session, String inputName, int inputCount, String outputName) {
    this.session = session;
    this.inputName = inputName;
    this.inputCount = inputCount;
    this.outputName = outputName;
  }

  /**
   * Loads a model from its bytes.
   *
   * @throws ModelLoadException when ONNX Runtime cannot read it, or its inputs are not one float
   *     tensor of rows
   */
  public static OnnxScorer load(byte[] model) {
    OrtSession session;
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      // Callers score from several threads at once; one op thread each keeps 2 cores unshared.
      options.setIntraOpNumThreads(1);
      options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      session = ENV.createSession(model, options);
    } catch (OrtException | RuntimeException e) {
      throw new ModelLoadException("ONNX Runtime cannot read the artifact: "
          + XgboostScorer.firstLine(e), e);
    }
    try {
      Map<String, NodeInfo> inputs = session.getInputInfo();
      if (inputs.size() != 1) {
        throw new ModelLoadException("the ONNX model has " + inputs.size() + " inputs "
            + inputs.keySet() + "; serving needs one float tensor [N, features]", null);
      }
      NodeInfo input = inputs.values().iterator().next();
      if (!(input.getInfo() instanceof TensorInfo tensor)
          || tensor.type != OnnxJavaType.FLOAT || tensor.getShape().length != 2) {
        throw new ModelLoadException("the ONNX model's input '" + input.getName() + "' is "
            + input.getInfo() + "; serving needs one float tensor [N, features]", null);
      }
      long columns = tensor.getShape()[1];
      String output = null;
      for (NodeInfo info : session.getOutputInfo().values()) {
        boolean floatTensor = info.getInfo() instanceof TensorInfo t && t.type == OnnxJavaType.FLOAT;
        boolean zipMap = !(info.getInfo() instanceof TensorInfo);
        if (info.getName().toLowerCase(Locale.ROOT).contains("prob") && (floatTensor || zipMap)) {
          output = info.getName();
          break;
        }
        if (output == null && floatTensor) {
          output = info.getName();
        }
      }
      if (output == null) {
        throw new ModelLoadException("the ONNX model has no float output to read a score from;"
            + " outputs are " + session.getOutputInfo().keySet(), null);
      }
      return new OnnxScorer(session, input.getName(), columns > 0 ? (int) columns : -1, output);
    } catch (OrtException | RuntimeException e) {
      try {
        session.close();
      } catch (OrtException ignored) {
        // the load failure is what matters
      }
      if (e instanceof ModelLoadException m) {
        throw m;
      }
      throw new ModelLoadException("ONNX Runtime cannot describe the model: "
          + XgboostScorer.firstLine(e), e);
    }
  }

  @Override
  public int inputCount() {
    return inputCount;
  }

  @Override
  public double[] score(float[] values, int rows, int columns) {
    try (OnnxTensor tensor = OnnxTensor.createTensor(ENV, FloatBuffer.wrap(values, 0,
        rows * columns), new long[] {rows, columns});
        OrtSession.Result result = session.run(Map.of(inputName, tensor), java.util.Set.of(
            outputName))) {
      return read(result.get(0), rows);
    } catch (OrtException | RuntimeException e) {
      if (e instanceof ScoringException s) {
        throw s;
      }
      throw new ScoringException("ONNX Runtime failed to score " + rows + " row(s): "
          + XgboostScorer.firstLine(e), e);
    }
  }

  private double[] read(OnnxValue value, int rows) throws OrtException {
    double[] scores = new double[rows];
    if (value instanceof OnnxTensor tensor) {
      long[] shape = tensor.getInfo().getShape();
      FloatBuffer out = tensor.getFloatBuffer();
      int width = shape.length == 1 ? 1 : (int) shape[1];
      int column = width == 1 ? 0 : (width == 2 ? 1 : width - 1);
      for (int i = 0; i < rows; i++) {
        scores[i] = out.get(i * width + column);
      }
      return scores;
    }
    if (value instanceof OnnxSequence sequence) {
      List<? extends OnnxValue> maps = sequence.getValue();
      for (int i = 0; i < rows; i++) {
        Map<? extends Object, ? extends Object> map = ((OnnxMap) maps.get(i)).getValue();
        Object v = map.containsKey(1L) ? map.get(1L) : map.get("1");
        if (v == null) {
          throw new ScoringException("the ONNX model's output '" + outputName
              + "' has no class 1 probability; its classes are " + map.keySet());
        }
        scores[i] = ((Number) v).doubleValue();
      }
      return scores;
    }
    throw new ScoringException("the ONNX model's output '" + outputName + "' is "
        + value.getInfo() + ", not a float tensor or a sequence of maps");
  }

  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      try {
        session.close();
      } catch (OrtException e) {
        throw new IllegalStateException("closing the ONNX session failed", e);
      }
    }
  }
}
