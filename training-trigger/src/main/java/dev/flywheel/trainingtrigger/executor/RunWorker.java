package dev.flywheel.trainingtrigger.executor;

import dev.flywheel.errors.Causes;
import dev.flywheel.events.ExecutorKind;
import dev.flywheel.events.RunStatus;
import dev.flywheel.events.TrainingRun;
import dev.flywheel.registry.SchemaRegistryException;
import dev.flywheel.topics.ProducerSettings;
import dev.flywheel.topics.Topic;
import dev.flywheel.trainingtrigger.artifact.ArtifactStore;
import dev.flywheel.trainingtrigger.config.ExecutorSpec;
import dev.flywheel.trainingtrigger.config.ModelSpec;
import dev.flywheel.trainingtrigger.config.TrainingTriggerConfig;
import dev.flywheel.trainingtrigger.dataset.Dataset;
import dev.flywheel.trainingtrigger.dataset.DatasetBuilder;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.utils.ExponentialBackoff;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Executes the runs the coordinator starts: follows {@code flywheel.training.runs} (committed
 * records only), and for each STARTED attempt builds the dataset, runs the model's executor on a
 * pool of {@code trainingTrigger.concurrency} threads and writes the COMPLETED or FAILED event
 * (idempotent producer, {@code acks=all}).
 *
 * <p>Crash safety: the consumer's committed offset of a partition never passes a STARTED record
 * whose attempt has not written its outcome, so after a crash that attempt is read again. Before
 * launching anything after (re)assignment, the worker reads each partition up to its end offset and
 * drops every attempt whose COMPLETED or FAILED event is already there: an outcome written just
 * before the crash is not produced twice. An outcome is the attempt's when it has the attempt's
 * run id, attempt and {@code started_at} ({@link #attemptKey}), so the outcome of an earlier run
 * with the same id (before the coordinator's state was reset) does not drop a later attempt. A
 * re-executed attempt keeps its run id and attempt; the executors are idempotent per run id (a
 * command's manifest or a Kubernetes Job is reused).
 *
 * <p>The consume loop does not stop on a consumer error. A retriable one (the broker or the group
 * coordinator unreachable, a commit failed by a rebalance) is logged once and retried after a
 * back-off; offsets it left uncommitted are committed later (records read again are dropped as
 * known or finished). Any other error closes the consumer and subscribes a new one, which reads
 * again from the committed offsets. {@link #healthy()} is false until an iteration succeeds again.
 *
 * <p>An outcome event is written again after a transient error (the broker or the schema
 * registry away, a timeout) until it is acknowledged. One that can never be written as it is
 * (too large for {@code max.request.size} or the topic, not serializable, or refused by any other
 * error that is not retriable) is replaced by a FAILED event of the same attempt, with the
 * attempt's deterministic FAILED event id, whose error says what was refused and what to do: the
 * coordinator then retries the run under the model's policy instead of waiting for an outcome that
 * never comes. Once a FAILED replaces a COMPLETED, the model and dataset files the attempt
 * stored are deleted from the artifact store, as no event names them.
 * If that FAILED cannot be written either, the attempt is given up with an ERROR log and {@link
 * #healthy()} stays false; its STARTED offset stays uncommitted, so the attempt runs again after a
 * restart.
 */
public final class RunWorker implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(RunWorker.class);
  private static final Duration POLL = Duration.ofMillis(200);
  private static final Duration SEND_RETRY = Duration.ofSeconds(2);
  /** The longest part of an error that a FAILED event written in place of an outcome quotes. */
  private static final int QUOTED = 500;
  /** The back-off after a consumer error: 1 s, doubling up to 30 s, ±20%. */
  private static final ExponentialBackoff FAILURE_BACKOFF =
      new ExponentialBackoff(1_000, 2, 30_000, 0.2);
  /**
   * How long one offset commit may take. A reachable group coordinator answers a commit in
   * milliseconds; one that has not answered in 5 s is away, and the loop should back off and
   * report it ({@link #healthy()}) rather than block for the client's default.api.timeout.ms (60 s)
   * while finished attempts wait to be recorded and waiting ones to be launched. It also keeps
   * the last commit on {@link #close()} well within close's 10 s wait. A commit that times out
   * throws a {@code TimeoutException}, handled as every retriable error: its offsets are not
   * marked committed, so the next iteration commits them again.
   */
  static final Duration COMMIT_TIMEOUT = Duration.ofSeconds(5);
  /** In {@code catchUpEnd}: a partition whose end offset could not be read at assignment yet. */
  private static final long END_UNKNOWN = -1L;

  private final TrainingTriggerConfig config;
  private final Topic<String, TrainingRun> runs;
  private final Map<ExecutorSpec.Kind, TrainingExecutor> executors;
  /** In an attempt's work directory: the STARTED event it belongs to. */
  static final String ATTEMPT_FILE = "attempt";

  private final DatasetBuilder datasets;
  private final ArtifactStore store;
  private final Clock clock;
  private final Supplier<Consumer<String, byte[]>> consumers;
  /** The current consumer; after an error that is not retriable, null until the next is made. */
  private volatile Consumer<String, byte[]> consumer;
  private final ConsumerRebalanceListener rebalance = new Rebalance();
  private final Producer<String, TrainingRun> producer;
  private final ExecutorService pool;
  private final Thread loop;
  private final Deserializer<TrainingRun> values;
  private MeterRegistry meters = new SimpleMeterRegistry();

  private final Map<TopicPartition, TreeMap<Long, String>> outstanding = new HashMap<>();
  private final Map<TopicPartition, Long> catchUpEnd = new HashMap<>();
  private final Map<String, Pending> waiting = new LinkedHashMap<>();
  /** Attempts seen STARTED on each partition since it was assigned. */
  private final Map<TopicPartition, Set<String>> known = new HashMap<>();
  /** Attempts this instance launched whose outcome is not sent yet; the loop thread's only. */
  private final Set<String> inFlight = new HashSet<>();
  private final Set<String> terminal = new HashSet<>();
  private final Map<TopicPartition, Long> committed = new HashMap<>();
  private final ConcurrentLinkedQueue<Pending> finished = new ConcurrentLinkedQueue<>();
  private final AtomicInteger running = new AtomicInteger();
  private volatile boolean stopping;
  private final CountDownLatch stopped = new CountDownLatch(1);
  /** The consumer error of the last loop iteration; null once an iteration succeeds. */
  private volatile Throwable loopFailure;
  /** Attempts whose outcome could not be written at all, with why; kept until a restart. */
  private final Map<String, String> unwritable = new ConcurrentHashMap<>();

  private record Pending(TopicPartition tp, long offset, String key, TrainingRun run) {}

  /**
   * What became of an outcome event: written; refused for good ({@code refused}, the error); or
   * neither, as the worker stops.
   */
  private record Sent(boolean written, Throwable refused) {
    static final Sent WRITTEN = new Sent(true, null);
    static final Sent STOPPED = new Sent(false, null);
  }

  /**
   * @param config the models and the concurrency
   * @param kafka client properties (bootstrap servers, security, overrides)
   * @param groupId the consumer group of the workers
   * @param runs the runs topic
   * @param executors the executor of each kind
   * @param datasets builds datasets
   * @param store stores artifacts
   * @param clock the clock of event times
   */
  public RunWorker(TrainingTriggerConfig config, Map<String, Object> kafka, String groupId,
      Topic<String, TrainingRun> runs, Map<ExecutorSpec.Kind, TrainingExecutor> executors,
      DatasetBuilder datasets, ArtifactStore store, Clock clock) {
    this(config, consumers(kafka, groupId),
        new KafkaProducer<>(producerProps(kafka, groupId), runs.keySerde().serializer(),
            runs.valueSerde().serializer()),
        runs, executors, datasets, store, clock);
  }

  /** With the runs consumer made by {@code consumers} (one more after each failed one). */
  RunWorker(TrainingTriggerConfig config, Supplier<Consumer<String, byte[]>> consumers,
      Producer<String, TrainingRun> producer, Topic<String, TrainingRun> runs,
      Map<ExecutorSpec.Kind, TrainingExecutor> executors, DatasetBuilder datasets,
      ArtifactStore store, Clock clock) {
    this.config = config;
    this.runs = runs;
    this.executors = Map.copyOf(executors);
    this.datasets = datasets;
    this.store = store;
    this.clock = clock;
    this.values = runs.valueSerde().deserializer();
    this.consumers = consumers;
    this.consumer = consumers.get();
    this.producer = producer;
    AtomicInteger n = new AtomicInteger();
    int threads = config.service().concurrency();
    this.pool = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS,
        new LinkedBlockingQueue<>(), r -> {
          Thread t = new Thread(r, "flywheel-training-run-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
    this.loop = new Thread(this::loop, "flywheel-training-worker");
    this.loop.setDaemon(true);
  }

  private static Supplier<Consumer<String, byte[]>> consumers(Map<String, Object> kafka,
      String groupId) {
    Map<String, Object> c = new HashMap<>(kafka);
    c.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    c.putIfAbsent(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 100);
    return () -> new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
  }

  private static Map<String, Object> producerProps(Map<String, Object> kafka, String groupId) {
    Map<String, Object> p = ProducerSettings.delivery(kafka);
    p.keySet().removeIf(k -> k.startsWith("group.") || k.startsWith("session.")
        || k.startsWith("heartbeat.") || k.startsWith("max.poll.") || k.startsWith("isolation."));
    p.put(ProducerConfig.CLIENT_ID_CONFIG, groupId + "-outcomes");
    return p;
  }

  /** Starts following the runs topic. */
  /**
   * Records runs in {@code meters}: {@code flywheel.training.runs} (outcomes by model and status)
   * and {@code flywheel.training.duration} (dataset build plus training, by model and status), and
   * the {@code flywheel.training.running} gauge. Call before {@link #start()}.
   */
  public RunWorker meters(MeterRegistry meters) {
    this.meters = Objects.requireNonNull(meters, "meters");
    Gauge.builder("flywheel.training.running", running, AtomicInteger::get)
        .description("Training runs executing in this instance").register(meters);
    return this;
  }

  public RunWorker start() {
    loop.start();
    return this;
  }

  /** Attempts executing or queued in this instance. */
  public int activeRuns() {
    return running.get();
  }

  /**
   * Whether the consume loop is alive and its last iteration succeeded, and every attempt's outcome
   * could be written: false while a consumer error persists (the loop retries it, see the class
   * comment), and for good once an attempt was given up as neither its outcome nor a FAILED event
   * in its place could be written.
   */
  public boolean healthy() {
    return problem().isEmpty();
  }

  /**
   * What keeps the worker from being {@link #healthy()}, in words an operator can act on; empty
   * when it is. An attempt given up names its run, both errors and what to fix; with several, the
   * first by run id is named and the others counted.
   */
  public Optional<String> problem() {
    if (!unwritable.isEmpty()) {
      List<String> given = unwritable.keySet().stream().sorted().toList();
      String first = unwritable.get(given.get(0));
      return Optional.of(given.size() == 1 ? first
          : first + " (and " + (given.size() - 1) + " more attempt(s) given up alike)");
    }
    Throwable failure = loopFailure;
    if (failure != null) {
      return Optional.of("the training worker cannot follow " + runs.name() + ": " + failure
          + "; retrying");
    }
    if (!loop.isAlive()) {
      return Optional.of("the training worker's thread has stopped; see the log for why, and"
          + " restart training-trigger");
    }
    return Optional.empty();
  }

  private final class Rebalance implements ConsumerRebalanceListener {
    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> parts) {
      try {
        commit();
      } catch (WakeupException e) {
        throw e;
      } catch (RuntimeException e) {
        // uncommitted offsets are safe: the next owner reads those records again and drops the
        // attempts whose outcome is written
        log.warn("cannot commit the offsets of the revoked partitions {}; their next owner reads"
            + " from the last committed offsets: {}", parts, e.toString());
      }
      forget(parts);
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> parts) {
      // nothing launches until the end offsets are known (read again in caughtUp() if this fails)
      parts.forEach(tp -> catchUpEnd.put(tp, END_UNKNOWN));
      try {
        catchUpEnd.putAll(consumer.endOffsets(parts));
      } catch (WakeupException e) {
        throw e;
      } catch (RuntimeException e) {
        log.debug("cannot read the end offsets of {} on assignment; reading them again before"
            + " launching: {}", parts, e.toString());
      }
    }
  }

  /** Drops what was read from {@code parts}: read again from the commit if they come back. */
  private void forget(Collection<TopicPartition> parts) {
    for (TopicPartition tp : parts) {
      outstanding.remove(tp);
      catchUpEnd.remove(tp);
      committed.remove(tp);
      // if the partition comes back, its attempts are read again from the commit, and one
      // still running here must hold the offset again
      known.remove(tp);
    }
    waiting.values().removeIf(p -> parts.contains(p.tp()));
  }

  private void loop() {
    int failures = 0;
    Class<?> lastFailure = null;
    boolean subscribed = false;
    try {
      while (!stopping) {
        try {
          if (consumer == null) {
            consumer = consumers.get();
          }
          if (!subscribed) {
            consumer.subscribe(List.of(runs.name()), rebalance);
            subscribed = true;
          }
          step();
          if (failures > 0) {
            log.info("the training worker follows {} again after {} failed attempt(s)",
                runs.name(), failures);
            failures = 0;
            lastFailure = null;
            loopFailure = null;
          }
        } catch (WakeupException e) {
          if (!stopping) {
            log.debug("consumer woken up while not stopping; carrying on");
          }
        } catch (RuntimeException e) {
          if (stopping) {
            break;
          }
          loopFailure = e;
          boolean retriable = retriable(e);
          long pause = FAILURE_BACKOFF.backoff(failures++);
          boolean loud = !e.getClass().equals(lastFailure);
          lastFailure = e.getClass();
          if (retriable) {
            String msg = "the training worker cannot reach the broker or its group coordinator,"
                + " or a rebalance interrupted it ({}); offsets not committed yet are committed"
                + " later; retrying in {} ms";
            if (loud) {
              log.warn(msg, e.toString(), pause);
            } else {
              log.debug(msg, e.toString(), pause);
            }
          } else {
            String msg = "the training worker's consumer failed; closing it and subscribing a new"
                + " one to {} in {} ms, which reads again from the committed offsets";
            if (loud) {
              log.error(msg, runs.name(), pause, e);
            } else {
              log.debug(msg, runs.name(), pause, e);
            }
            closeConsumer();
            subscribed = false;
          }
          try {
            stopped.await(pause, TimeUnit.MILLISECONDS);
          } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            break;
          }
        }
      }
    } finally {
      if (consumer != null) {
        try {
          commit();
        } catch (RuntimeException e) {
          log.debug("final commit failed", e);
        }
        closeConsumer();
      }
    }
  }

  /** One iteration: poll, record finished attempts, launch once caught up, commit. */
  private void step() {
    for (ConsumerRecord<String, byte[]> r : consumer.poll(POLL)) {
      handle(r);
    }
    Pending done;
    while ((done = finished.poll()) != null) {
      TreeMap<Long, String> o = outstanding.get(done.tp());
      if (o != null) {
        o.remove(done.offset());
      }
      inFlight.remove(done.key());
      terminal.add(done.key());
    }
    if (caughtUp()) {
      for (Pending p : waiting.values()) {
        launch(p);
      }
      waiting.clear();
    }
    commit();
  }

  /**
   * Whether the loop waits and carries on after {@code e}: the broker or the coordinator cannot be
   * reached (a {@link RetriableException} such as a timeout), or a rebalance failed a commit.
   */
  static boolean retriable(Throwable e) {
    return Causes.anyOf(e, RetriableException.class, CommitFailedException.class,
        RebalanceInProgressException.class);
  }

  /** Closes the consumer (its partitions revoked) and forgets what it read. */
  private void closeConsumer() {
    Consumer<String, byte[]> c = consumer;
    try {
      c.close(Duration.ofSeconds(5));
    } catch (RuntimeException e) {
      log.debug("closing the runs consumer failed", e);
    }
    consumer = null;
    outstanding.clear();
    catchUpEnd.clear();
    committed.clear();
    known.clear();
    waiting.clear();
  }

  private void handle(ConsumerRecord<String, byte[]> r) {
    TrainingRun run = r.value() == null ? null : decode(r);
    if (run == null) {
      return;
    }
    String key = attemptKey(run);
    TopicPartition tp = new TopicPartition(r.topic(), r.partition());
    if (run.getStatus() == RunStatus.STARTED) {
      if (terminal.contains(key) || !known.computeIfAbsent(tp, t -> new HashSet<>()).add(key)) {
        return;
      }
      outstanding.computeIfAbsent(tp, t -> new TreeMap<>()).put(r.offset(), key);
      if (inFlight.contains(key)) {
        return; // still running here from before a rebalance: its offset is held again
      }
      waiting.put(key, new Pending(tp, r.offset(), key, run));
    } else if (run.getStatus() == RunStatus.COMPLETED || run.getStatus() == RunStatus.FAILED) {
      terminal.add(key);
      Pending p = waiting.remove(key);
      if (p != null) {
        log.info("run {} attempt {} already {}; not executing it again", run.getRunId(),
            run.getAttempt(), run.getStatus());
        outstanding.get(p.tp()).remove(p.offset());
      }
    }
  }

  /**
   * What tells one attempt from every other, in the worker's books: its run id, attempt and
   * {@code started_at} (epoch ms), which its outcome carries from its STARTED event. The start
   * time keeps the outcome of an attempt started before the coordinator's state was reset (run ids
   * began again) from being taken for the outcome of a later attempt with the same run id and
   * attempt, which would then never be executed.
   */
  static String attemptKey(TrainingRun run) {
    return run.getRunId() + "/" + run.getAttempt()
        + (run.getStartedAt() == null ? "" : "/" + run.getStartedAt().toEpochMilli());
  }

  /**
   * The run the record holds, or null when it cannot be read and is skipped. The worker does not
   * dead-letter a record it skips: the coordinator reads the same topic, and its deserialization
   * handler ({@code DeadLetterDeserializationHandler}) puts the record on {@code <topic>.dlq} with
   * the reason. A record that cannot be read because the schema registry does not answer is not
   * skipped: it is read again every second. If the worker stops meanwhile, the record's offset is
   * held back like an outstanding run's, so that it is read again after the restart.
   */
  private TrainingRun decode(ConsumerRecord<String, byte[]> r) {
    while (true) {
      try {
        return values.deserialize(r.topic(), r.value());
      } catch (RuntimeException e) {
        if (!SchemaRegistryException.isRetriableCause(e)) {
          log.warn("skipping unreadable record {}/{}/{} (the coordinator puts it on {}.dlq): {}",
              r.topic(), r.partition(), r.offset(), r.topic(), e.getMessage());
          return null;
        }
        if (stopping || Thread.currentThread().isInterrupted()) {
          outstanding.computeIfAbsent(new TopicPartition(r.topic(), r.partition()),
              t -> new TreeMap<>()).put(r.offset(), "unread while the registry was away");
          return null;
        }
        log.warn("cannot read {}/{}/{} while the schema registry does not answer; trying again"
            + " in 1 s: {}", r.topic(), r.partition(), r.offset(), e.getMessage());
        try {
          Thread.sleep(1_000);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  private boolean caughtUp() {
    List<TopicPartition> unknown = catchUpEnd.entrySet().stream()
        .filter(e -> e.getValue() == END_UNKNOWN).map(Map.Entry::getKey).toList();
    if (!unknown.isEmpty()) {
      catchUpEnd.putAll(consumer.endOffsets(unknown));
    }
    var it = catchUpEnd.entrySet().iterator();
    while (it.hasNext()) {
      var e = it.next();
      if (consumer.position(e.getKey()) >= e.getValue()) {
        it.remove();
      }
    }
    return catchUpEnd.isEmpty();
  }

  private void commit() {
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    for (TopicPartition tp : consumer.assignment()) {
      TreeMap<Long, String> o = outstanding.get(tp);
      long safe = o == null || o.isEmpty() ? consumer.position(tp) : o.firstKey();
      if (!Objects.equals(committed.get(tp), safe)) {
        offsets.put(tp, new OffsetAndMetadata(safe));
      }
    }
    if (!offsets.isEmpty()) {
      consumer.commitSync(offsets, COMMIT_TIMEOUT);
      offsets.forEach((tp, om) -> committed.put(tp, om.offset()));
    }
  }

  private void launch(Pending p) {
    inFlight.add(p.key());
    running.incrementAndGet();
    pool.execute(() -> {
      try {
        long began = System.nanoTime();
        Executed executed = execute(p.run());
        TrainingRun outcome = executed.outcome();
        if (stopping) {
          // a clean stop interrupts the attempt, whatever it returned: it is not reported and
          // not marked finished, so its STARTED stays the oldest without an outcome and the
          // attempt runs again after the restart
          log.info("not reporting {} of run {} attempt {}: the service is stopping; it runs"
              + " again after restart", outcome.getStatus(), outcome.getRunId(),
              outcome.getAttempt());
          return;
        }
        Sent sent = send(outcome);
        if (sent.refused() != null) {
          TrainingRun instead = failedInstead(p.run(), outcome, sent.refused());
          log.warn("run {} attempt {} of {}: its {} event cannot be written; writing FAILED in its"
              + " place: {}", outcome.getRunId(), outcome.getAttempt(), outcome.getModel(),
              outcome.getStatus(), instead.getError());
          Sent replaced = send(instead);
          if (replaced.refused() != null) {
            giveUp(p, outcome, sent.refused(), replaced.refused());
            // not finished: its STARTED offset stays uncommitted, its model and dataset files
            // kept for the attempt's run after the restart
            return;
          }
          if (replaced.written()) {
            deleteUnnamed(outcome, "model", executed.storedModel());
            deleteUnnamed(outcome, "dataset", executed.storedDataset());
          }
          outcome = instead;
          sent = replaced;
        }
        if (!sent.written()) {
          // the send failed as the service stops: not marked finished, so its STARTED stays
          // uncommitted and the attempt runs again after the restart, as when it stops first
          return;
        }
        String status = outcome.getStatus().name().toLowerCase(Locale.ROOT);
        Timer.builder("flywheel.training.duration")
            .description("Time from dataset build to the trained model, per attempt")
            .tags("model", outcome.getModel(), "status", status).register(meters)
            .record(System.nanoTime() - began, TimeUnit.NANOSECONDS);
        Counter.builder("flywheel.training.runs").description("Training attempts by outcome")
            .tags("model", outcome.getModel(), "status", status).register(meters).increment();
        removeWork(config.service().workDir(), outcome, lastAttempt(outcome));
        finished.add(p);
      } finally {
        running.decrementAndGet();
      }
    });
  }

  /**
   * An attempt's outcome event, and the URIs of the model file and of the dataset file the
   * attempt stored in the artifact store for a COMPLETED event (bytes the store did not hold
   * before), each null otherwise: the files to delete if that COMPLETED is refused and replaced
   * by a FAILED, which names neither.
   */
  record Executed(TrainingRun outcome, String storedModel, String storedDataset) {}

  /** Runs one attempt to its outcome event; never throws. */
  Executed execute(TrainingRun started) {
    ModelSpec spec = config.model(started.getModel()).orElse(null);
    Dataset dataset = null;
    ExecutorKind kind = started.getLineage().getExecutor();
    try {
      if (spec == null && config.isExternal(started.getModel())) {
        // started before the model's featureGroup was removed from flywheel.yaml
        throw new IllegalStateException(TrainingTriggerConfig.externalRefusal(
            started.getModel()));
      }
      if (spec == null) {
        throw new IllegalStateException("model '" + started.getModel() + "' is no longer declared"
            + " under models: in flywheel.yaml");
      }
      kind = ExecutorKind.valueOf(spec.training().executor().kind().name());
      TrainingExecutor executor = executors.get(spec.training().executor().kind());
      if (executor == null) {
        throw new IllegalStateException("the " + spec.training().executor().kind()
            .name().toLowerCase() + " executor is not available in this instance (for"
            + " kubernetes: no cluster configuration was found)");
      }
      Path work = claim(attemptDir(config.service().workDir(), started), started);
      log.info("run {} attempt {} of {}: building the dataset", started.getRunId(),
          started.getAttempt(), started.getModel());
      dataset = datasets.build(spec, work);
      RunContext ctx = new RunContext(started.getRunId(), started.getAttempt(), spec,
          started.getParams(), dataset, work, started.getStartedAt());
      var out = executor.execute(ctx);
      ArtifactStore.StoredObject model = store.put(out.artifact());
      TrainingRun completed = RunReports.completed(started, spec, dataset, out, model, kind,
          clock.instant());
      log.info("run {} attempt {} of {} completed: {}", started.getRunId(), started.getAttempt(),
          started.getModel(), completed.getMetrics());
      return new Executed(completed, model.created() ? model.uri() : null,
          dataset.created() ? dataset.lineage().getUri() : null);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Executed(RunReports.failed(started, dataset, kind, "interrupted: the service"
          + " stopped during the run", clock.instant()), null, null);
    } catch (Exception | LinkageError | OutOfMemoryError e) {
      // a missing native library (XGBoost4J without libgomp/libomp: UnsatisfiedLinkError) or a
      // dataset too large for the heap fails the attempt with its reason, like any other failure,
      // rather than ending the pool thread with no outcome and the run in flight for good
      log.warn("run {} attempt {} of {} failed: {}", started.getRunId(), started.getAttempt(),
          started.getModel(), e.toString());
      String msg = e instanceof Exception && e.getMessage() != null ? e.getMessage()
          : e.toString();
      return new Executed(RunReports.failed(started, dataset, kind, msg, clock.instant()), null,
          null);
    }
  }

  /**
   * Writes an outcome, retrying a transient error ({@link #transientSendError}) until written or
   * stopping; any other error is handed back at once, as sending the record again cannot succeed.
   */
  private Sent send(TrainingRun outcome) {
    while (true) {
      try {
        producer.send(new ProducerRecord<>(runs.name(), outcome.getRunId(), outcome))
            .get(30, TimeUnit.SECONDS);
        return Sent.WRITTEN;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return Sent.STOPPED;
      } catch (Exception e) {
        Throwable error = e instanceof ExecutionException && e.getCause() != null
            ? e.getCause() : e;
        if (stopping) {
          log.warn("not writing {} of run {}: stopping; it runs again after restart",
              outcome.getStatus(), outcome.getRunId());
          return Sent.STOPPED;
        }
        if (!transientSendError(error)) {
          return new Sent(false, error);
        }
        log.warn("cannot write {} of run {} yet, retrying: {}", outcome.getStatus(),
            outcome.getRunId(), error.toString());
        try {
          Thread.sleep(SEND_RETRY.toMillis());
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          return Sent.STOPPED;
        }
      }
    }
  }

  /**
   * Whether writing an outcome failed for a while only, so that sending it again can succeed: a
   * {@link RetriableException} (the broker away, a leader that moved, a timeout), no answer within
   * the wait for the acknowledgement, a schema registry that did not answer ({@link
   * SchemaRegistryException#isRetriableCause}), or no write access to the topic ({@link
   * TopicAuthorizationException}: an operator grants it while the worker waits, and a FAILED in
   * the outcome's place would be refused alike). Any other error refuses the record for good: too
   * large ({@code RecordTooLargeException}), invalid for the topic ({@code
   * InvalidRecordException}), not serializable ({@code SerializationException}, the registry
   * refusing the schema), or a producer Kafka refused for good (no access to the cluster or to a
   * transactional id: every later send fails alike, so the attempt is given up and {@code
   * /health} says so).
   */
  static boolean transientSendError(Throwable e) {
    return SchemaRegistryException.isRetriableCause(e) || Causes.anyOf(e,
        RetriableException.class, TopicAuthorizationException.class,
        java.util.concurrent.TimeoutException.class);
  }

  /**
   * The FAILED event written in place of an outcome Kafka refused for good: the fields of the
   * attempt's STARTED event (which was written, so it fits) and an error saying what was refused,
   * why and what to do. Its event id is the attempt's FAILED one. In place of a COMPLETED it is
   * not {@code retriable}: the model was trained, and another attempt would only train it again
   * to a result refused alike.
   */
  private TrainingRun failedInstead(TrainingRun started, TrainingRun refused, Throwable error) {
    StringBuilder why = new StringBuilder("its ").append(refused.getStatus())
        .append(" event could not be written to ").append(runs.name()).append(" (")
        .append(quote(error.toString())).append(')');
    if (error instanceof RecordTooLargeException
        || error instanceof RecordBatchTooLargeException) {
      int size = serializedSize(refused);
      if (size >= 0) {
        why.append("; the event is ").append(size).append(" bytes serialized");
      }
      why.append(". Raise max.request.size of training-trigger's Kafka clients"
          + " (FLYWHEEL_KAFKA_MAX_REQUEST_SIZE) and max.message.bytes of ").append(runs.name())
          .append(", or make the run's output smaller (fewer metrics, params or features in the"
              + " trainer's result)");
    }
    if (refused.getStatus() == RunStatus.FAILED && refused.getError() != null) {
      why.append("; its error began: ").append(quote(refused.getError()));
    }
    if (refused.getStatus() == RunStatus.COMPLETED) {
      why.append(". Not retried: training again would make a result refused alike; fix the cause,"
          + " then request training again");
    }
    TrainingRun failed = RunReports.failed(started, null, refused.getLineage().getExecutor(),
        why.toString(), clock.instant());
    // a trained model that cannot be reported: another attempt would train it again for nothing
    failed.setRetriable(refused.getStatus() != RunStatus.COMPLETED);
    return failed;
  }

  private static String quote(String s) {
    return s.length() <= QUOTED ? s : s.substring(0, QUOTED) + "…";
  }

  /** The size of the outcome's value as serialized, or -1 when it cannot be serialized. */
  private int serializedSize(TrainingRun outcome) {
    try {
      byte[] value = runs.valueSerde().serializer().serialize(runs.name(), outcome);
      return value == null ? 0 : value.length;
    } catch (RuntimeException e) {
      return -1;
    }
  }

  /**
   * Deletes the model or dataset file ({@code what}) of a COMPLETED event Kafka refused, once the
   * FAILED in its place is written: no event names the file (the FAILED carries neither artifact
   * nor dataset, registry-projector registers only COMPLETED events, the FAILED is not retried,
   * and a retry would build a dataset of its own), so nothing would ever read or delete it. Only a
   * file the attempt stored is passed here ({@code uri} null otherwise): the store keeps objects
   * by content, and bytes it held before may be those of a model or dataset an earlier event
   * names. Never throws: a file that cannot be deleted is logged and left.
   */
  private void deleteUnnamed(TrainingRun refused, String what, String uri) {
    if (uri == null) {
      return;
    }
    try {
      if (store.delete(uri)) {
        log.info("run {} attempt {}: deleted its {} file {}, which no event names as its {}"
            + " was not written", refused.getRunId(), refused.getAttempt(), what, uri,
            refused.getStatus());
      }
    } catch (IOException | RuntimeException e) {
      log.warn("run {} attempt {}: cannot delete its {} file {}, which no event names as its"
          + " {} was not written; delete it by hand: {}", refused.getRunId(),
          refused.getAttempt(), what, uri, refused.getStatus(), e.toString());
    }
  }

  /**
   * Gives up an attempt whose outcome and the FAILED event in its place were both refused: it is
   * not marked finished (its STARTED offset stays uncommitted, so it runs again after a restart),
   * and the worker reports itself unhealthy with an ERROR log saying so.
   */
  private void giveUp(Pending p, TrainingRun outcome, Throwable refused, Throwable failedRefused) {
    String problem = "run " + outcome.getRunId() + " attempt " + outcome.getAttempt() + " of "
        + outcome.getModel() + ": neither its " + outcome.getStatus() + " event (" + refused
        + ") nor a FAILED event in its place (" + failedRefused + ") could be written to "
        + runs.name() + ". The run stays in flight and the model does not train until this is"
        + " fixed (the topic's ACLs, the schema registry's compatibility for its TrainingRun"
        + " subject, max.request.size) and training-trigger restarted, which runs the attempt"
        + " again";
    unwritable.put(p.key(), problem);
    log.error("{}", problem);
  }

  /**
   * The attempt's work directory, created, and marked with the STARTED event it belongs to
   * ({@value #ATTEMPT_FILE}). An attempt run again finds its own mark and keeps what it made (its
   * dataset, its command's pid and outputs). A directory marked by another run of the same id
   * (its numbering began again after the coordinator's state was reset) is moved aside first, so
   * nothing of that run is taken for this one's.
   */
  static Path claim(Path work, TrainingRun started) throws IOException {
    String mark = started.getEventId() + " " + started.getStartedAt().toEpochMilli();
    Path file = work.resolve(ATTEMPT_FILE);
    if (Files.exists(file) && !Files.readString(file).trim().equals(mark)) {
      Path aside = work.resolveSibling(work.getFileName() + ".replaced-"
          + System.currentTimeMillis());
      log.warn("{} belongs to another run {} (it holds '{}'); moving it to {}", work,
          started.getRunId(), Files.readString(file).trim(), aside);
      Files.move(work, aside);
    }
    Files.createDirectories(work);
    if (!Files.exists(file)) {
      Files.writeString(file, mark);
    }
    return work;
  }

  /** {@code <workDir>/<run id>/<attempt>}: the work directory of the attempt {@code started}. */
  static Path attemptDir(Path workDir, TrainingRun started) {
    return workDir.resolve(safe(started.getRunId()))
        .resolve(Integer.toString(started.getAttempt()));
  }

  /** Whether no later attempt of the outcome's run can follow: it completed, or failed its last. */
  private boolean lastAttempt(TrainingRun outcome) {
    return outcome.getStatus() == RunStatus.COMPLETED || config.model(outcome.getModel())
        .map(m -> outcome.getAttempt() >= m.triggers().maxAttempts()).orElse(true);
  }

  /**
   * Deletes an attempt's work directory once its outcome is written (acknowledged): its dataset,
   * CSVs, model, command log and pid file, and any directory of an earlier run with the same id
   * moved aside from it ({@code <attempt>.replaced-*}). Nothing reads them afterwards: an attempt
   * whose outcome is on the runs topic is never executed again (so the dataset is reused only by
   * an attempt run again before its outcome was written), a retry gets a directory of its own,
   * and the dataset and model are in the artifact store. With {@code lastAttempt} (no retry of
   * the run can follow) the run's directory goes too. Never throws: a directory that cannot be
   * deleted is logged and left.
   */
  static void removeWork(Path workDir, TrainingRun outcome, boolean lastAttempt) {
    Path attempt = attemptDir(workDir, outcome);
    Path target = lastAttempt ? attempt.getParent() : attempt;
    try {
      Utils.delete(target.toFile());
      if (!lastAttempt && Files.isDirectory(attempt.getParent())) {
        String aside = attempt.getFileName() + ".replaced-";
        try (var siblings = Files.list(attempt.getParent())) {
          for (Path old : siblings.filter(p -> p.getFileName().toString().startsWith(aside))
              .toList()) {
            Utils.delete(old.toFile());
          }
        }
      }
      log.debug("run {} attempt {}: deleted {}", outcome.getRunId(), outcome.getAttempt(), target);
    } catch (IOException | RuntimeException e) {
      log.warn("run {} attempt {}: cannot delete its work directory {}; delete it by hand: {}",
          outcome.getRunId(), outcome.getAttempt(), target, e.toString());
    }
  }

  private static String safe(String s) {
    return s.replaceAll("[^A-Za-z0-9._-]", "_");
  }

  /** Stops consuming, waits briefly for running attempts, closes the clients. Idempotent. */
  @Override
  public void close() {
    if (stopping) {
      return;
    }
    stopping = true;
    stopped.countDown();
    Consumer<String, byte[]> c = consumer;
    if (c != null) {
      c.wakeup();
    }
    try {
      loop.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    pool.shutdownNow();
    try {
      pool.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    producer.close(Duration.ofSeconds(5));
  }
}
