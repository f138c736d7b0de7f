package dev.flywheel.featurestreams.lookup;

import java.time.Duration;
import java.util.Objects;

/**
 * A lookup cannot be answered correctly right now: the instances are rebalancing, the owning
 * instance is restoring its store or cannot be reached. Retry after {@link #retryAfter()}; over
 * HTTP this is a 503 with a {@code Retry-After} header.
 */
public class LookupUnavailableException extends FeatureLookupException {

  private static final long serialVersionUID = 1L;

  /** The delay suggested when nothing better is known. */
  public static final Duration DEFAULT_RETRY_AFTER = Duration.ofSeconds(1);

  private final Duration retryAfter;

  /**
   * @param message what is happening, e.g. {@code feature-streams is REBALANCING}
   * @param retryAfter when to try again; never null
   */
  public LookupUnavailableException(String message, Duration retryAfter) {
    super(message);
    this.retryAfter = Objects.requireNonNull(retryAfter, "retryAfter");
  }

  /** @param cause the failure that made the lookup unavailable */
  public LookupUnavailableException(String message, Duration retryAfter, Throwable cause) {
    super(message, cause);
    this.retryAfter = Objects.requireNonNull(retryAfter, "retryAfter");
  }

  /** How long to wait before retrying; never null. */
  public Duration retryAfter() {
    return retryAfter;
  }
}
