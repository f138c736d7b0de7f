package dev.flywheel.servingsink.model;

import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.XGBoost;
import ml.dmlc.xgboost4j.java.XGBoostError;

/**
 * An XGBoost model (JSON, UBJ or the legacy binary format) scored with XGBoost4J's in-place
 * prediction, which is thread-safe and needs no DMatrix per call. NaN is the missing value, so an
 * undefined feature takes the tree's default branch, as in training.
 */
public final class XgboostScorer implements Scorer {

  private final Booster booster;
  private final int inputCount;
  private volatile boolean closed;

  private XgboostScorer(Booster booster, int inputCount) {
    this.booster = booster;
    this.inputCount = inputCount;
  }

  /**
   * Loads a model from its bytes.
   *
   * @throws ModelLoadException when XGBoost cannot read them
   */
  public static XgboostScorer load(byte[] model) {
    Booster booster;
    try {
      booster = XGBoost.loadModel(model);
    } catch (XGBoostError | java.io.IOException | RuntimeException e) {
      throw new ModelLoadException("XGBoost cannot read the artifact: " + firstLine(e), e);
    }
    try {
      return new XgboostScorer(booster, (int) booster.getNumFeature());
    } catch (XGBoostError e) {
      booster.dispose();
      throw new ModelLoadException("XGBoost read the artifact but cannot tell its number of"
          + " features: " + firstLine(e), e);
    }
  }

  @Override
  public int inputCount() {
    return inputCount;
  }

  @Override
  public double[] score(float[] values, int rows, int columns) {
    float[][] out;
    try {
      out = booster.inplace_predict(values, rows, columns, Float.NaN);
    } catch (XGBoostError | RuntimeException e) {
      throw new ScoringException("XGBoost failed to score " + rows + " row(s): " + firstLine(e), e);
    }
    double[] scores = new double[rows];
    for (int i = 0; i < rows; i++) {
      scores[i] = out[i][out[i].length - 1];
    }
    return scores;
  }

  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      booster.dispose();
    }
  }

  static String firstLine(Throwable e) {
    String m = String.valueOf(e.getMessage());
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }
}
