package dev.flywheel.servingsink.stream;

import java.time.Duration;

/**
 * Decides, each time the scorer's producer is fenced, whether to start a new producer with the
 * same transactional id or to stop scoring.
 *
 * <p>A producer is fenced for one of two reasons, which Kafka reports alike:
 *
 * <ul>
 *   <li>the broker aborted a transaction that outlived {@code transaction.timeout.ms} (a long
 *       pause in it) and bumped the epoch. The transaction was then open at least that long, as
 *       the scorer counts from its {@code beginTransaction}, which precedes the broker's start;
 *   <li>another instance with the same transactional id started a producer. The fence is then
 *       <em>certain</em> when the transaction was open less than the timeout: the broker cannot
 *       have aborted it yet.
 * </ul>
 *
 * <p>The rule: a scorer fenced again within {@link #WINDOW} of its last fence stops if either
 * fence was certain; otherwise it starts a new producer. So a lone scorer never stops because its
 * model stalled, however often; and of two instances sharing an id, whose renewals fence each
 * other in turn, the first one fenced is the first fenced twice, and stops. That one is the older:
 * a newly started instance fences a running one, and a paused one (a zombie) is fenced first when
 * it wakes.
 */
final class FenceJudge {

  /** How long a fence is remembered: longer than the gaps between batches of a quiet stream. */
  static final Duration WINDOW = Duration.ofMinutes(10);

  private final long transactionTimeoutNanos;
  private long lastFenceAt;
  private boolean lastFenceCertain;
  private boolean fencedBefore;

  FenceJudge(long transactionTimeoutMs) {
    this.transactionTimeoutNanos = Duration.ofMillis(transactionTimeoutMs).toNanos();
  }

  /**
   * Records a fence at {@code now} (System.nanoTime) of a transaction open {@code openNanos}, and
   * says whether the scorer must stop (true) or start a new producer (false).
   */
  boolean stopOnFence(long now, long openNanos) {
    boolean certain = certain(openNanos);
    boolean stop = fencedBefore && now - lastFenceAt < WINDOW.toNanos()
        && (certain || lastFenceCertain);
    fencedBefore = true;
    lastFenceAt = now;
    lastFenceCertain = certain;
    return stop;
  }

  /** Whether a fence at {@code openNanos} into a transaction proves another instance is running. */
  boolean certain(long openNanos) {
    return openNanos < transactionTimeoutNanos;
  }
}
