package dev.flywheel.platform.demo;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends {@link DemoTraffic} through Flywheel's real ingest path at a steady rate: every tick, the
 * payments of the tick's event-time interval as one {@code POST /ingest/transactions} batch and the
 * labels that became known as one {@code POST /labels} batch (each batch one Kafka transaction).
 * It remembers when each payment was sent, so the demo can measure the time from a payment to its
 * prediction.
 *
 * <p>With {@link #throttle}, it holds new payments back while the pipeline is more than a given
 * number of payments behind (a busy machine), so the feature log stays close to real time; its
 * event time stands still meanwhile, so the cards' activity has no gap.
 */
public final class TrafficPump implements AutoCloseable {

  /** How often a batch is sent. */
  public static final Duration TICK = Duration.ofMillis(100);

  private static final Logger log = LoggerFactory.getLogger(TrafficPump.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final DemoTraffic traffic;
  private final DemoClock clock;
  private final URI ingestUri;
  private final URI labelsUri;
  private final double ratePerSecond;
  private final HttpClient http = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(5)).build();
  private final Map<String, Long> sentAtMs = new ConcurrentHashMap<>();
  private final AtomicLong paymentsSent = new AtomicLong();
  private final AtomicLong labelsSent = new AtomicLong();
  private final AtomicLong failedBatches = new AtomicLong();
  private final AtomicReference<String> lastError = new AtomicReference<>();
  private final Thread thread;
  private final AtomicLong heldBackMs = new AtomicLong();
  private volatile LongSupplier processed;
  private volatile long maxBacklog = Long.MAX_VALUE;
  private volatile boolean running = true;
  private double carry;

  /**
   * @param httpBase the runtime's HTTP address, e.g. {@code http://127.0.0.1:8080}
   * @param source the source the payments are posted to
   * @param ratePerSecond new payments per wall-clock second (fraud bursts add a few)
   */
  public TrafficPump(DemoTraffic traffic, DemoClock clock, String httpBase, String source,
      double ratePerSecond) {
    this.traffic = Objects.requireNonNull(traffic, "traffic");
    this.clock = Objects.requireNonNull(clock, "clock");
    if (!(ratePerSecond > 0)) {
      throw new IllegalArgumentException("rate must be positive, got " + ratePerSecond);
    }
    this.ratePerSecond = ratePerSecond;
    this.ingestUri = URI.create(httpBase + "/ingest/" + source);
    this.labelsUri = URI.create(httpBase + "/labels");
    this.thread = new Thread(this::run, "flywheel-demo-traffic");
    this.thread.setDaemon(true);
  }

  /**
   * Holds new payments back while more than {@code maxBacklog} sent payments are not yet
   * {@code processed} (e.g. feature vectors seen on the feature log).
   */
  public TrafficPump throttle(LongSupplier processed, long maxBacklog) {
    this.processed = Objects.requireNonNull(processed, "processed");
    this.maxBacklog = maxBacklog;
    return this;
  }

  /** Wall-clock milliseconds new payments were held back by {@link #throttle}. */
  public long heldBackMs() {
    return heldBackMs.get();
  }

  /** Starts sending. */
  public TrafficPump start() {
    thread.start();
    return this;
  }

  /** Payments accepted by ingest so far. */
  public long paymentsSent() {
    return paymentsSent.get();
  }

  /** Labels accepted by ingest so far. */
  public long labelsSent() {
    return labelsSent.get();
  }

  /** Batches ingest did not accept (each is logged once, the latest kept). */
  public long failedBatches() {
    return failedBatches.get();
  }

  /** The latest refusal or failure of a batch, or null. */
  public String lastError() {
    return lastError.get();
  }

  /**
   * When the payment {@code eventId} was sent (wall-clock ms), forgetting it; null when unknown.
   */
  public Long takeSentAt(String eventId) {
    return sentAtMs.remove(eventId);
  }

  private void run() {
    long tickMs = TICK.toMillis();
    long wall = System.currentTimeMillis();
    long eventFrom = clock.eventTimeAt(wall);
    long next = wall + tickMs;
    while (running) {
      try {
        long sleep = next - System.currentTimeMillis();
        if (sleep > 0) {
          Thread.sleep(sleep);
        }
        long now = System.currentTimeMillis();
        next += tickMs;
        if (next < now) {
          next = now + tickMs; // fell behind: do not try to catch up in a burst
        }
        LongSupplier done = processed;
        boolean hold = done != null && paymentsSent.get() - done.getAsLong() > maxBacklog;
        long eventTo = eventFrom;
        if (hold) {
          heldBackMs.addAndGet(now - wall);
        } else {
          eventTo = clock.advance(eventFrom, now - wall, now);
          carry += ratePerSecond * (now - wall) / 1000.0;
        }
        int count = (int) carry;
        carry -= count;
        wall = now;
        List<DemoTraffic.Payment> payments = traffic.payments(eventFrom, eventTo, count);
        eventFrom = eventTo;
        if (!payments.isEmpty()) {
          long sent = System.currentTimeMillis();
          for (DemoTraffic.Payment p : payments) {
            sentAtMs.put(p.eventId(), sent);
          }
          if (post(ingestUri, payments.stream().map(DemoTraffic.Payment::toJson).toList())) {
            paymentsSent.addAndGet(payments.size());
          } else {
            payments.forEach(p -> sentAtMs.remove(p.eventId()));
          }
        }
        List<DemoTraffic.Outcome> labels = traffic.labelsUntil(eventTo);
        if (!labels.isEmpty()
            && post(labelsUri, labels.stream().map(DemoTraffic.Outcome::toJson).toList())) {
          labelsSent.addAndGet(labels.size());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        fail("demo traffic: " + e);
      }
    }
  }

  private boolean post(URI uri, List<Map<String, Object>> body) throws InterruptedException {
    try {
      HttpRequest request = HttpRequest.newBuilder(uri)
          .timeout(Duration.ofSeconds(30))
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)))
          .build();
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() == 202) {
        return true;
      }
      fail("POST " + uri.getPath() + " answered " + response.statusCode() + ": "
          + abbreviate(response.body()));
      return false;
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("demo payments are not JSON", e);
    } catch (IOException e) {
      fail("POST " + uri.getPath() + " failed: " + e);
      return false;
    }
  }

  private void fail(String message) {
    if (failedBatches.incrementAndGet() == 1) {
      log.warn("{} (further failures are counted, not logged)", message);
    }
    lastError.set(message);
  }

  private static String abbreviate(String s) {
    return s == null ? "" : s.length() <= 300 ? s : s.substring(0, 300) + "...";
  }

  /** Stops sending; a batch in flight completes. Idempotent. */
  @Override
  public void close() {
    running = false;
    thread.interrupt();
    try {
      thread.join(35_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
