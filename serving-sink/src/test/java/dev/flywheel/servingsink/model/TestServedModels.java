package dev.flywheel.servingsink.model;

/** Served models around a test's own {@link Scorer}, for scoring paths no real runtime fails on. */
public final class TestServedModels {

  private TestServedModels() {}

  /** {@code spec} served by {@code scorer}, without loading or checking anything. */
  public static ServedModel of(ModelSpec spec, Scorer scorer) {
    return new ServedModel(spec, scorer);
  }
}
