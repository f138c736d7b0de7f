package dev.flywheel.ingest.http;

import dev.flywheel.ingest.cdc.CdcTableStatus;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What {@code GET /health} answers: {@code UP}, {@code DEGRADED} (HTTP ingest works, but a CDC
 * table stopped capturing) or {@code DOWN} (Kafka does not answer, or the CDC engine stopped).
 *
 * @param status {@link #UP}, {@link #DEGRADED} or {@link #DOWN}
 * @param reason what is wrong, in words that say what to fix; null when up
 * @param cdcRunning whether the CDC engine runs; null when the service captures no tables
 * @param cdcTables the capture status of every table; empty when the service captures none
 */
public record IngestHealth(String status, String reason, Boolean cdcRunning,
    List<CdcTableStatus> cdcTables) {

  /** Everything works. */
  public static final String UP = "UP";

  /** HTTP ingest works; a CDC table stopped capturing ({@code reason} says which and why). */
  public static final String DEGRADED = "DEGRADED";

  /** Kafka does not answer, or the CDC engine stopped. */
  public static final String DOWN = "DOWN";

  /** Copies the list. */
  public IngestHealth {
    Objects.requireNonNull(status, "status");
    cdcTables = List.copyOf(cdcTables);
  }

  /** Why the service is not up; empty when it is. */
  public Optional<String> problem() {
    return Optional.ofNullable(reason);
  }

  /** 200 when up or degraded, 503 when down. */
  public int httpStatus() {
    return DOWN.equals(status) ? 503 : 200;
  }
}
