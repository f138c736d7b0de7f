package dev.flywheel.servingsink.stream;

import dev.flywheel.events.FeatureVector;
import dev.flywheel.events.Prediction;
import dev.flywheel.events.ScoringMode;
import dev.flywheel.registry.SchemaRegistryException;
import dev.flywheel.servingsink.Predictions;
import dev.flywheel.servingsink.ServingMetrics;
import dev.flywheel.servingsink.model.ServedModel;
import dev.flywheel.servingsink.model.ServedModels;
import dev.flywheel.topics.DeadLetterHeaders;
import dev.flywheel.topics.ProducerSettings;
import dev.flywheel.topics.RecordSize;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scores {@code flywheel.features} into {@code flywheel.predictions}, exactly once, in
 * micro-batches: a transactional consume-transform-produce loop.
 *
 * <p>Each poll is one micro-batch and one transaction: the vectors are grouped by feature group,
 * each served model of the group scores all of its group's rows in one runtime call (with one
 * reference to every served version taken for the whole batch, so a batch is scored by one
 * consistent set of versions and a swap never affects a batch in flight), the predictions —
 * champion, and challenger marked {@code shadow} — and any dead letters are written, and the
 * consumed offsets are committed in the same transaction ({@code sendOffsetsToTransaction} with
 * the group's metadata, so a fenced zombie cannot commit). A crash before the commit aborts the
 * transaction; the batch is read and scored again by whoever owns the partitions next.
 *
 * <p>A vector that cannot be read, or that the champion fails to score, goes to {@code
 * flywheel.features.dlq} (in the same transaction) with {@link DeadLetterHeaders}. A vector of a
 * group no served model scores is counted ({@code flywheel.serving.unscored}) and committed.
 */
public final class StreamScorer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(StreamScorer.class);

  private static final Header[] NO_HEADERS = new Header[0];

  /** The {@code flywheel.processor} header of the dead letters written here. */
  public static final String PROCESSOR = "flywheel-serving-sink";

  private final KafkaConsumer<byte[], byte[]> consumer;
  /** Replaced, only by the scoring thread, when the broker aborted a timed-out transaction. */
  private volatile KafkaProducer<byte[], byte[]> producer;
  private final Map<String, Object> producerProps;
  /** The producer's {@code transaction.timeout.ms}. */
  private final long transactionTimeoutMs;
  /** When the batch's transaction began (System.nanoTime). */
  private long transactionBegan;
  /** Whether a fenced producer is renewed or the scorer stops. */
  private final FenceJudge fences;
  /** Guards the metric binders, which the scoring thread rebinds when it renews the producer. */
  private final Object metricsLock = new Object();
  private MeterRegistry metricsRegistry;
  private Iterable<Tag> metricsTags;
  private KafkaClientMetrics consumerMetrics;
  private KafkaClientMetrics producerMetrics;
  private final String featuresTopic;
  private final String predictionsTopic;
  private final String dlqTopic;
  private final Deserializer<FeatureVector> vectors;
  private final Serializer<Prediction> predictions;
  private final StringSerializer keys = new StringSerializer();
  private final ServedModels served;
  private final ServingMetrics metrics;
  /** What the batch in flight counts, added to {@link #metrics} once its transaction commits. */
  private final BatchCounts counts = new BatchCounts();
  /** The producer's {@code max.request.size}: no record sent here may be larger. */
  private final int maxRequestSize;
  private final Thread thread;
  private volatile boolean stopping;
  private volatile String problem;
  private volatile boolean fenced;

  /**
   * @param kafka client properties (bootstrap servers, security)
   * @param groupId consumer group, shared by every instance
   * @param transactionalId this instance's transactional id, stable across its restarts
   * @param startFrom {@code latest} or {@code earliest}: where a new group starts
   * @param maxBatch most vectors per micro-batch
   */
  public StreamScorer(Map<String, Object> kafka, String groupId, String transactionalId,
      String startFrom, int maxBatch, Topic<String, FeatureVector> features,
      Topic<String, Prediction> predictionsTopic, Topics topics, ServedModels served,
      ServingMetrics metrics) {
    this.featuresTopic = features.name();
    this.predictionsTopic = predictionsTopic.name();
    this.dlqTopic = topics.dlq(features).name();
    this.vectors = features.valueSerde().deserializer();
    this.predictions = predictionsTopic.valueSerde().serializer();
    this.served = Objects.requireNonNull(served, "served");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    Map<String, Object> c = new HashMap<>(kafka);
    c.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false); // offsets commit in the transaction
    // Read only committed feature vectors: an aborted upstream write is never scored.
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, startFrom);
    c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, maxBatch);
    c.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, transactionalId + "-consumer");
    // A dynamic member of the group, not a static one (group.instance.id): a lone static
    // member whose rejoin is cut short by a stalled coordinator (a broker restart) can be fenced
    // by its own second join, which stops it for good (KAFKA-20985). A takeover by another
    // instance with this transactional id is told by the producer's fencing instead (see run).
    this.consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(),
        new ByteArrayDeserializer());
    // one request in flight, as in every Streams processor (StreamsProps)
    Map<String, Object> p = ProducerSettings.delivery(kafka);
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    p.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 5);
    p.putIfAbsent(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    p.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, transactionalId + "-producer");
    this.maxRequestSize = RecordSize.maxRequestSize(p);
    this.transactionTimeoutMs = (Integer) ConfigDef.parseType(
        ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, p.getOrDefault(
            ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, ProducerConfig.configDef().defaultValues()
                .get(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG)), ConfigDef.Type.INT);
    this.fences = new FenceJudge(transactionTimeoutMs);
    this.producerProps = p;
    this.producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    this.thread = new Thread(this::run, "flywheel-serving-sink-scorer");
    this.thread.setDaemon(true);
  }

  /** Fences any earlier incarnation of this instance and starts scoring on a background thread. */
  public void start() {
    producer.initTransactions();
    consumer.subscribe(List.of(featuresTopic));
    thread.start();
  }

  private void run() {
    boolean failing = false;
    while (!stopping) {
      ConsumerRecords<byte[], byte[]> records;
      try {
        records = consumer.poll(Duration.ofMillis(100));
      } catch (WakeupException e) {
        break;
      } catch (FencedInstanceIdException e) {
        // only with a group.instance.id set in the scorer's Kafka properties: another consumer
        // with that id took this one's place in the group
        problem = "stopped scoring: " + e.getMessage() + " (another instance with the same"
            + " servingSink.instanceId took over)";
        fenced = true; // after the problem: whoever sees fenced reads why
        log.error("stream scoring stopped", e);
        break;
      } catch (KafkaException e) {
        problem = "polling " + featuresTopic + " failed: " + e.getMessage();
        if (!failing) {
          log.warn("polling {} failed; retrying", featuresTopic, e);
          failing = true;
        } else {
          log.debug("polling {} failed again", featuresTopic, e);
        }
        pause(); // a poll that fails at once (a missing ACL) would otherwise spin
        continue;
      }
      if (records.isEmpty()) {
        continue;
      }
      Map<TopicPartition, Long> first = new HashMap<>();
      Map<TopicPartition, OffsetAndMetadata> next = new HashMap<>();
      for (TopicPartition tp : records.partitions()) {
        List<ConsumerRecord<byte[], byte[]>> part = records.records(tp);
        first.put(tp, part.get(0).offset());
        // the position, not last offset + 1: it is past any transaction markers that follow,
        // so an idle group shows no lag on a transactional input
        next.put(tp, new OffsetAndMetadata(Math.max(consumer.position(tp),
            part.get(part.size() - 1).offset() + 1)));
      }
      try {
        producer.beginTransaction();
        transactionBegan = System.nanoTime();
        process(records);
        producer.sendOffsetsToTransaction(next, consumer.groupMetadata());
        commit();
        counts.addTo(metrics);
        if (failing) {
          log.info("scoring {} again", featuresTopic);
          failing = false;
        }
        problem = null;
      } catch (ProducerFencedException | AuthorizationException e) {
        if (stopping) {
          break;
        }
        long now = System.nanoTime();
        long open = now - transactionBegan;
        if (e instanceof ProducerFencedException && !fences.stopOnFence(now, open)) {
          // Either the broker aborted a transaction that outlived transaction.timeout.ms (a
          // long pause in it) and bumped the producer's epoch, which transactions v2 report as
          // fenced; or another instance with the same transactional id started. A new producer
          // scores the batch again. After a takeover the two renew in turn, each fencing the
          // other, until the older is fenced twice and stops below (FenceJudge), leaving the
          // group. Their offsets commit with their own group generation, so neither can commit a
          // batch of a partition it no longer owns.
          problem = "the producer was fenced; scoring the batch again with a new one";
          log.warn("the producer of {} was fenced after its transaction was open {} ms"
              + " (transaction.timeout.ms {} ms): {}. Starting a new producer and scoring the"
              + " batch again", featuresTopic, open / 1_000_000, transactionTimeoutMs,
              fences.certain(open)
                  ? "another instance with the same servingSink.instanceId started"
                  : "the broker aborted a transaction that outlived it, or another instance with"
                      + " the same servingSink.instanceId started");
          failing = true;
          try {
            renewProducer();
          } catch (RuntimeException renewal) {
            if (stopping) {
              break;
            }
            problem = "stopped scoring: no new producer could start after the producer was"
                + " fenced: " + renewal.getMessage();
            fenced = true; // after the problem: whoever sees fenced reads why
            log.error("stream scoring stopped", renewal);
            leaveGroup();
            break;
          }
          rewind(first);
          continue;
        }
        problem = "stopped scoring: " + e.getMessage() + " (another instance with the same"
            + " servingSink.instanceId is running: fenced again within "
            + FenceJudge.WINDOW.toMinutes() + " min, once while a transaction was younger than"
            + " transaction.timeout.ms; or the principal lacks rights)";
        fenced = true; // after the problem: whoever sees fenced reads why
        log.error("stream scoring stopped", e);
        leaveGroup();
        break;
      } catch (RuntimeException e) {
        // With a group.instance.id set, FencedInstanceIdException from the offsets lands here:
        // the producer makes it abortable, and whether another consumer took this one's place is
        // for the consumer's next poll to say (which stops the scorer if so).
        // InvalidProducerEpochException lands here too: the coordinator aborted a transaction
        // that outlived transaction.timeout.ms (a long pause) and bumped the epoch. Unlike
        // fencing it is abortable (KIP-588): the abort below bumps the epoch again and the batch
        // is scored in a new transaction.
        if (stopping) {
          // close() may already be closing the consumer, which rewinding would use; closing
          // the producer aborts the open transaction
          break;
        }
        problem = "scoring a batch failed: " + e.getMessage();
        if (!failing) {
          log.error("scoring a batch of {} failed; it is aborted and read again", featuresTopic,
              e);
          failing = true;
        }
        abortAndRewind(first);
      }
    }
  }

  /** Leaves the group, so that the scorer's partitions move to the other instances at once. */
  private void leaveGroup() {
    try {
      consumer.unsubscribe();
    } catch (RuntimeException e) {
      log.warn("leaving the group of {} failed", featuresTopic, e);
    }
  }

  private void commit() {
    callAgainWhileTimingOut(producer::commitTransaction, "committing a batch of " + featuresTopic);
  }

  /**
   * Closes the fenced producer and starts another with the same transactional id, whose {@code
   * initTransactions} fences any other producer with that id. Its metrics replace the old one's.
   */
  private void renewProducer() {
    try {
      producer.close(Duration.ZERO);
    } catch (RuntimeException e) {
      log.warn("closing the aborted producer failed", e);
    }
    KafkaProducer<byte[], byte[]> next = new KafkaProducer<>(producerProps,
        new ByteArraySerializer(), new ByteArraySerializer());
    producer = next; // closed by close() should initTransactions fail
    callAgainWhileTimingOut(next::initTransactions, "starting a new producer for "
        + featuresTopic);
    synchronized (metricsLock) {
      if (producerMetrics != null && !stopping) {
        producerMetrics.close();
        producerMetrics = new KafkaClientMetrics(next, metricsTags);
        producerMetrics.bindTo(metricsRegistry);
      }
    }
  }

  private void abortAndRewind(Map<TopicPartition, Long> first) {
    try {
      callAgainWhileTimingOut(producer::abortTransaction,
          "aborting the transaction of " + featuresTopic);
    } catch (RuntimeException e) {
      log.warn("aborting the transaction failed", e);
    }
    rewind(first);
  }

  /** Reads the batch again from its first offsets, after a pause. */
  private void rewind(Map<TopicPartition, Long> first) {
    Set<TopicPartition> assigned = consumer.assignment();
    first.forEach((tp, offset) -> {
      if (assigned.contains(tp)) {
        consumer.seek(tp, offset);
      }
    });
    pause(); // back off before reading the batch again
  }

  private static void pause() {
    try {
      Thread.sleep(200);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Calls {@code call} (a commit or an abort) again while it times out ({@code max.block.ms}: the
   * broker away longer than that). A timed-out commit or abort stays pending in the producer,
   * which refuses to abort it or to begin another transaction until the same call is made again.
   * Once the scorer is stopping, the timeout is thrown.
   */
  private void callAgainWhileTimingOut(Runnable call, String what) {
    while (true) {
      try {
        call.run();
        return;
      } catch (TimeoutException e) {
        if (stopping) {
          throw e;
        }
        problem = what + " timed out, trying again: " + e.getMessage();
        log.warn("{} timed out; trying the same call again: {}", what, e.getMessage());
      }
    }
  }

  /** One record with its decoded vector (null when unreadable). */
  private record Input(ConsumerRecord<byte[], byte[]> record, FeatureVector vector) {}

  private void process(ConsumerRecords<byte[], byte[]> records) {
    counts.clear(); // an aborted batch's counts: it is scored again
    List<Input> inputs = new ArrayList<>(records.count());
    Map<String, List<Integer>> byGroup = new LinkedHashMap<>();
    for (ConsumerRecord<byte[], byte[]> r : records) {
      FeatureVector v;
      try {
        v = vectors.deserialize(r.topic(), r.headers(), r.value());
        if (v == null) {
          throw new IllegalArgumentException("the record has no value (a tombstone)");
        }
      } catch (RuntimeException e) {
        if (SchemaRegistryException.isRetriableCause(e)) {
          throw e; // the registry did not answer: the batch is aborted and read again
        }
        deadLetter(r, "cannot read the feature vector: " + describe(e), e, "unreadable");
        continue;
      }
      byGroup.computeIfAbsent(v.getFeatureGroup(), g -> new ArrayList<>()).add(inputs.size());
      inputs.add(new Input(r, v));
    }
    Prediction[][] out = new Prediction[inputs.size()][];
    // rows a champion failed, per model: that model's challenger does not score them either
    Map<String, boolean[]> championFailed = new HashMap<>();
    boolean[] deadLettered = new boolean[inputs.size()];
    List<ServedModel> models = served.acquireAll();
    try {
      for (Map.Entry<String, List<Integer>> group : byGroup.entrySet()) {
        List<ServedModel> groupModels = models.stream()
            .filter(m -> group.getKey().equals(m.featureGroup()))
            // champion first, so a vector's predictions come out champion then shadow
            .sorted((a, b) -> Boolean.compare(!Predictions.CHAMPION.equals(a.alias()),
                !Predictions.CHAMPION.equals(b.alias())))
            .toList();
        if (groupModels.isEmpty()) {
          counts.unscored("no_model", group.getValue().size());
          continue;
        }
        for (ServedModel model : groupModels) {
          score(model, group.getValue(), inputs, out,
              championFailed.computeIfAbsent(model.model(), m -> new boolean[inputs.size()]),
              deadLettered);
        }
      }
    } finally {
      models.forEach(ServedModel::release);
    }
    for (int i = 0; i < inputs.size(); i++) {
      if (out[i] == null) {
        continue;
      }
      List<ProducerRecord<byte[], byte[]>> writes = new ArrayList<>(out[i].length);
      String tooLarge = null;
      for (Prediction p : out[i]) {
        if (p == null) {
          continue;
        }
        byte[] key = keys.serialize(predictionsTopic, p.getEntityId());
        byte[] value = predictions.serialize(predictionsTopic, p);
        int bytes = RecordSize.upperBound(key, value, NO_HEADERS);
        if (bytes > maxRequestSize) {
          tooLarge = tooLarge(p, bytes);
          break;
        }
        writes.add(new ProducerRecord<>(predictionsTopic, null,
            inputs.get(i).record().timestamp(), key, value));
      }
      if (tooLarge != null) {
        // a record the producer refuses would fail every transaction that carries it, and so
        // stop scoring for good: the vector goes to the dead-letter topic instead, with none of
        // its predictions, so that its champion and shadow predictions stay all or nothing
        if (!deadLettered[i]) { // once, even if a champion already failed it
          deadLettered[i] = true;
          deadLetter(inputs.get(i).record(), tooLarge,
              new RecordTooLargeException(tooLarge), "prediction_too_large");
        }
        continue;
      }
      writes.forEach(producer::send);
      for (Prediction p : out[i]) {
        if (p != null) {
          counts.prediction(p);
        }
      }
    }
  }

  /** Why prediction {@code p} of {@code bytes} cannot be written, and what to do. */
  private String tooLarge(Prediction p, int bytes) {
    String longest = null;
    int longestLength = 0;
    for (Map.Entry<String, String> c : p.getCategoricalFeatures().entrySet()) {
      if (c.getValue() != null && c.getValue().length() > longestLength) {
        longest = c.getKey();
        longestLength = c.getValue().length();
      }
    }
    return "the prediction of " + p.getModel() + " v" + p.getVersion() + " for entity of "
        + p.getEntityId().length() + " characters would take up to " + bytes + " bytes, more"
        + " than the producer's max.request.size of " + maxRequestSize
        + (longest == null ? "" : "; its longest categorical feature is '" + longest + "' of "
            + longestLength + " characters")
        + ". Shorten the entity id or the text features upstream, or raise max.request.size"
        + " (kafka.properties in flywheel.yaml) together with max.message.bytes of "
        + predictionsTopic;
  }

  /**
   * Scores {@code rows} with {@code model}, appending its predictions to {@code out}. A row its
   * champion fails goes to the dead-letter topic once per batch, however many models fail it, and
   * is marked in {@code failedByChampion} so that the same model's challenger skips it; the other
   * models of the group still score it.
   */
  private void score(ServedModel model, List<Integer> rows, List<Input> inputs,
      Prediction[][] out, boolean[] failedByChampion, boolean[] deadLettered) {
    List<Map<String, Double>> features = new ArrayList<>(rows.size());
    for (int i : rows) {
      features.add(inputs.get(i).vector().getFeatures());
    }
    long begin = System.nanoTime();
    double[] scores;
    try {
      scores = model.score(features);
    } catch (RuntimeException batchFailure) {
      scores = null;
    }
    long nanos = System.nanoTime() - begin;
    boolean champion = Predictions.CHAMPION.equals(model.alias());
    for (int k = 0; k < rows.size(); k++) {
      int i = rows.get(k);
      double score;
      long micros;
      if (scores != null) {
        score = scores[k];
        micros = nanos / rows.size() / 1_000;
      } else {
        // the batch failed: score row by row, so one bad row does not fail its neighbours
        long one = System.nanoTime();
        try {
          score = model.score(List.of(features.get(k)))[0];
        } catch (RuntimeException e) {
          if (champion) {
            failedByChampion[i] = true;
            if (!deadLettered[i]) {
              deadLettered[i] = true;
              deadLetter(inputs.get(i).record(), model + " failed to score the vector: "
                  + describe(e), e, "scoring_failed");
            } else {
              log.warn("{} also failed to score {}, already dead-lettered: {}", model,
                  inputs.get(i).vector().getEventId(), describe(e));
            }
          } else {
            log.debug("{} failed to score {}", model, inputs.get(i).vector().getEventId(), e);
          }
          continue;
        }
        micros = (System.nanoTime() - one) / 1_000;
      }
      if (failedByChampion[i]) {
        continue; // this model's champion could not score it: no shadow prediction alone
      }
      FeatureVector v = inputs.get(i).vector();
      Prediction p = Predictions.of(model, v.getEventId(), v.getEventTime(), v.getEntityId(),
          v.getFeatureGroup(), v.getFeatures(), v.getCategoricalFeatures(), score, micros,
          ScoringMode.STREAM, v.getSource());
      out[i] = append(out[i], p);
    }
    metrics.latency(model, "stream", nanos, rows.size());
  }

  private static Prediction[] append(Prediction[] existing, Prediction p) {
    if (existing == null) {
      return new Prediction[] {p};
    }
    Prediction[] grown = java.util.Arrays.copyOf(existing, existing.length + 1);
    grown[existing.length] = p;
    return grown;
  }

  private void deadLetter(ConsumerRecord<byte[], byte[]> r, String error, Exception cause,
      String reason) {
    Headers headers = new RecordHeaders();
    r.headers().forEach(headers::add);
    put(headers, DeadLetterHeaders.ERROR, error);
    put(headers, DeadLetterHeaders.ERROR_CLASS, cause.getClass().getName());
    put(headers, DeadLetterHeaders.PROCESSOR, PROCESSOR);
    put(headers, DeadLetterHeaders.TOPIC, r.topic());
    put(headers, DeadLetterHeaders.PARTITION, Integer.toString(r.partition()));
    put(headers, DeadLetterHeaders.OFFSET, Long.toString(r.offset()));
    put(headers, DeadLetterHeaders.ORIGIN, DeadLetterHeaders.origin(r.topic(), r.partition(),
        r.offset()));
    put(headers, DeadLetterHeaders.TIMESTAMP, Long.toString(r.timestamp()));
    put(headers, DeadLetterHeaders.FAILED_AT, Long.toString(System.currentTimeMillis()));
    // cut to fit: a dead letter the producer refused would fail the batch on every retry
    DeadLetterHeaders.Fitted fitted =
        DeadLetterHeaders.fit(r.key(), r.value(), headers, maxRequestSize);
    // in the batch's transaction: the dead letter is written exactly when the batch commits
    producer.send(new ProducerRecord<>(dlqTopic, null, r.timestamp() < 0 ? null : r.timestamp(),
        fitted.key(), fitted.value(), headers));
    counts.deadLetter(reason);
  }

  private static void put(Headers headers, String name, String value) {
    headers.remove(name);
    headers.add(name, value.getBytes(StandardCharsets.UTF_8));
  }

  private static String describe(Throwable e) {
    StringBuilder text = new StringBuilder();
    for (Throwable t = e; t != null && text.length() < 1000; t = t.getCause()) {
      if (!text.isEmpty()) {
        text.append(": ");
      }
      text.append(t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage());
    }
    return text.toString();
  }

  /** Why scoring does not run now, if it does not. */
  public Optional<String> problem() {
    return Optional.ofNullable(problem);
  }

  /**
   * Binds this scorer's consumer and producer metrics ({@code kafka.consumer.*}, {@code
   * kafka.producer.*}, with {@code tags}) to {@code registry}, the producer's again whenever it
   * is replaced; {@link #close()} unbinds them.
   */
  public void bindClientMetrics(MeterRegistry registry, Iterable<Tag> tags) {
    synchronized (metricsLock) {
      metricsRegistry = registry;
      metricsTags = tags;
      consumerMetrics = new KafkaClientMetrics(consumer, tags);
      consumerMetrics.bindTo(registry);
      producerMetrics = new KafkaClientMetrics(producer, tags);
      producerMetrics.bindTo(registry);
    }
  }

  /** Whether another incarnation fenced this one; it then scores no more. */
  public boolean fenced() {
    return fenced;
  }

  /** Finishes the batch in flight, then closes the clients. Idempotent. */
  @Override
  public synchronized void close() {
    if (stopping) {
      return;
    }
    stopping = true;
    synchronized (metricsLock) {
      if (consumerMetrics != null) {
        consumerMetrics.close();
        producerMetrics.close();
      }
    }
    consumer.wakeup();
    if (thread.isAlive()) {
      try {
        thread.join(30_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    try {
      // leave the group even with a group.instance.id set: the partitions move at once
      consumer.close(CloseOptions.groupMembershipOperation(
          CloseOptions.GroupMembershipOperation.LEAVE_GROUP).withTimeout(Duration.ofSeconds(5)));
    } catch (RuntimeException e) {
      log.warn("closing the feature consumer failed", e);
    }
    try {
      producer.close(Duration.ofSeconds(5));
    } catch (RuntimeException e) {
      log.warn("closing the prediction producer failed", e);
    }
  }

  /**
   * The predictions, unscored vectors and dead letters of the batch in flight. They reach the
   * metrics only once its transaction commits: an aborted batch is scored again, and a vector
   * whose prediction is too large to write is dead-lettered instead, so counting them as they are
   * made would count some twice and some never written.
   */
  private static final class BatchCounts {
    private record Made(String model, int version, String alias, boolean shadow) {}

    private final Map<Made, Integer> predictions = new HashMap<>();
    private final Map<String, Integer> unscored = new HashMap<>();
    private final Map<String, Integer> deadLetters = new HashMap<>();

    void prediction(Prediction p) {
      predictions.merge(new Made(p.getModel(), p.getVersion(), p.getAlias(), p.getShadow()), 1,
          Integer::sum);
    }

    void unscored(String reason, int n) {
      unscored.merge(reason, n, Integer::sum);
    }

    void deadLetter(String reason) {
      deadLetters.merge(reason, 1, Integer::sum);
    }

    void addTo(ServingMetrics metrics) {
      predictions.forEach((m, n) ->
          metrics.predictions(m.model(), m.version(), m.alias(), "stream", m.shadow(), n));
      unscored.forEach(metrics::unscored);
      deadLetters.forEach(metrics::deadLetters);
      clear();
    }

    void clear() {
      predictions.clear();
      unscored.clear();
      deadLetters.clear();
    }
  }
}
