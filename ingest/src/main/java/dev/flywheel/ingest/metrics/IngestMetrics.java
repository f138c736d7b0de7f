package dev.flywheel.ingest.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.Timer;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * Ingest's Micrometer meters, on the registry given to the builders ({@code meterRegistry(..)}):
 *
 * <table>
 *   <caption>meters</caption>
 *   <tr><th>name</th><th>type</th><th>tags</th><th>what</th></tr>
 *   <tr><td>{@value #ACCEPTED}</td><td>counter</td><td>source, path</td><td>records written to
 *       their topic (acknowledged; for HTTP, committed)</td></tr>
 *   <tr><td>{@value #REJECTED}</td><td>counter</td><td>source, path</td><td>records (or HTTP
 *       bodies) refused as invalid</td></tr>
 *   <tr><td>{@value #DLQ_WRITES}</td><td>counter</td><td>source, path</td><td>records written to a
 *       dead-letter topic</td></tr>
 *   <tr><td>{@value #HTTP_REQUESTS}</td><td>timer</td><td>route, method, status</td><td>HTTP
 *       request latency</td></tr>
 *   <tr><td>{@value #CDC_CAPTURING}</td><td>gauge</td><td>table, source</td><td>1 while the table
 *       is captured, 0 once it stopped</td></tr>
 *   <tr><td>{@value #CDC_LAG}</td><td>gauge</td><td>table, source</td><td>milliseconds from the
 *       commit in PostgreSQL to Kafka's acknowledgement, for the table's last change</td></tr>
 * </table>
 *
 * <p>{@code path} is {@value #HTTP}, {@value #FILE} or {@value #CDC}; {@code source} is the source
 * name, or {@code labels} for labels. The builders default to {@link Metrics#globalRegistry},
 * which records nothing until a registry (such as the platform's Prometheus one) is added to it.
 */
public final class IngestMetrics {

  /** Records written to their topic. */
  public static final String ACCEPTED = "flywheel.ingest.records.accepted";

  /** Records (or HTTP bodies) refused as invalid. */
  public static final String REJECTED = "flywheel.ingest.records.rejected";

  /** Records written to a dead-letter topic. */
  public static final String DLQ_WRITES = "flywheel.ingest.dlq.writes";

  /** HTTP request latency. */
  public static final String HTTP_REQUESTS = "flywheel.ingest.http.requests";

  /** 1 while a CDC table is captured, 0 once it stopped. */
  public static final String CDC_CAPTURING = "flywheel.ingest.cdc.table.capturing";

  /** Milliseconds from commit in PostgreSQL to acknowledgement in Kafka, last change per table. */
  public static final String CDC_LAG = "flywheel.ingest.cdc.table.lag";

  /** The {@code path} of HTTP ingest. */
  public static final String HTTP = "http";

  /** The {@code path} of the file producer. */
  public static final String FILE = "file";

  /** The {@code path} of change data capture. */
  public static final String CDC = "cdc";

  private final MeterRegistry registry;

  /** Meters on {@code registry}. */
  public IngestMetrics(MeterRegistry registry) {
    this.registry = Objects.requireNonNull(registry, "registry");
  }

  /** The registry the meters are on. */
  public MeterRegistry registry() {
    return registry;
  }

  /** The counter of records of {@code source} accepted through {@code path}. */
  public Counter accepted(String source, String path) {
    return counter(ACCEPTED, source, path, "records written to their topic");
  }

  /** The counter of records of {@code source} rejected through {@code path}. */
  public Counter rejected(String source, String path) {
    return counter(REJECTED, source, path, "records or bodies refused as invalid");
  }

  /** The counter of dead letters of {@code source} written through {@code path}. */
  public Counter deadLettered(String source, String path) {
    return counter(DLQ_WRITES, source, path, "records written to a dead-letter topic");
  }

  /** Records one HTTP request's latency. */
  public void httpRequest(String route, String method, int status, long nanos) {
    Timer.builder(HTTP_REQUESTS).description("ingest HTTP request latency")
        .tag("route", route).tag("method", method).tag("status", Integer.toString(status))
        .register(registry).record(nanos, TimeUnit.NANOSECONDS);
  }

  /**
   * Registers a per-table CDC gauge reading {@code value} of {@code state}; {@link #remove} it when
   * the capture stops, so that a restarted capture registers its own.
   */
  public <T> Gauge cdcGauge(String name, String table, String source, T state,
      ToDoubleFunction<T> value) {
    return Gauge.builder(name, state, value).tag("table", table).tag("source", source)
        .strongReference(true).register(registry);
  }

  /** Removes a meter from the registry. */
  public void remove(io.micrometer.core.instrument.Meter meter) {
    registry.remove(meter);
  }

  private Counter counter(String name, String source, String path, String description) {
    return Counter.builder(name).description(description).tag("source", source)
        .tag("path", path).register(registry);
  }
}
