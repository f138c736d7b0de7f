package dev.flywheel.errors;

import java.util.function.Predicate;

/**
 * Questions about an exception and the chain of its causes, asked the same way everywhere: whether
 * a retriable error, a record refused as too large or a registry that did not answer lies
 * anywhere below what a client threw ({@code ExecutionException}, {@code KafkaException}, {@code
 * SerializationException} wrap them).
 */
public final class Causes {

  private Causes() {}

  /** Whether {@code e} or one of its causes satisfies {@code test}; false for null. */
  public static boolean any(Throwable e, Predicate<Throwable> test) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (test.test(t)) {
        return true;
      }
    }
    return false;
  }

  /** Whether {@code e} or one of its causes is an instance of one of {@code types}. */
  @SafeVarargs
  public static boolean anyOf(Throwable e, Class<? extends Throwable>... types) {
    return any(e, t -> {
      for (Class<? extends Throwable> type : types) {
        if (type.isInstance(t)) {
          return true;
        }
      }
      return false;
    });
  }
}
