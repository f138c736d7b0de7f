package dev.flywheel.servingsink.follow;

import dev.flywheel.events.AliasState;
import dev.flywheel.events.ModelPromoted;
import dev.flywheel.events.ModelRegistryState;
import dev.flywheel.events.ModelVersion;
import dev.flywheel.registry.SchemaRegistryException;
import dev.flywheel.servingsink.model.ModelSpec;
import dev.flywheel.servingsink.model.ServedModel;
import dev.flywheel.servingsink.model.ServedModels;
import dev.flywheel.topics.Topic;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows {@code flywheel.model.promoted} and {@code flywheel.registry.state}.
 *
 * <p>{@link #catchUp(Duration)} reads both topics from the beginning to their current end and
 * serves, for every served alias of every model, the version the registry state names (or, with
 * no state, the last promotion), falling back to earlier promoted versions of the alias if that
 * one is refused — so after a start, the current champion serves before anything is scored.
 * {@link #start()} then follows both on a background thread: each {@code ModelPromoted} of a
 * served alias goes through {@link ModelSwapper}, and so does each registry state that moved a
 * served alias — a move that emits no promotion (e.g. {@code SetAlias challenger}, an alias
 * outside the model's promotion aliases) or whose promotion was read before catch-up's snapshot
 * of the state topic; a registry state without a served challenger alias stops its shadow
 * scoring. Of a promotion and a state move of the same alias, only the later move is served
 * (by event time; the two topics are not read in step); of two states, the one read later (the
 * state topic is read in order per model, and two decisions may share an event time).
 *
 * <p>A registry state that drops a served alias other than the shadow alias (after {@code
 * RemoveAlias champion}) does not take prediction traffic down: the version the alias named keeps
 * serving, after a restart too, until the registry sets the alias again. The removal is logged
 * once (WARN) and kept in {@link ServingStatus} for {@code /health}, with the version that still
 * serves.
 *
 * <p>The consumer has no group: every instance reads every partition and serves every model.
 */
public final class PromotionFollower implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(PromotionFollower.class);

  private final KafkaConsumer<String, Object> consumer;
  private final String promotedTopic;
  private final String stateTopic;
  private final Set<String> aliases;
  private final String shadowAlias;
  private final Predicate<String> models;
  private final ModelSwapper swapper;
  private final ServedModels served;
  private final ServingStatus status;
  private Thread thread;
  private volatile boolean stopping;
  private volatile String problem;
  /**
   * Per served key, the candidates still to try, first the one whose load was deferred (the
   * feature lookup did not answer); tried again every {@link #RETRY_DEFERRED}. Only the follower
   * thread (and catchUp before it) touches it.
   */
  private final Map<ServedModels.Key, List<ModelSpec>> deferred = new LinkedHashMap<>();
  private long nextRetryNanos;
  /** The last registry state read per model; only the follower thread (and catchUp) touch it. */
  private final Map<String, ModelRegistryState> states = new HashMap<>();
  /** The last alias move served (or tried) per key, from a promotion or a state; ditto. */
  private final Map<ServedModels.Key, Move> moves = new HashMap<>();

  /**
   * An alias moved to {@code version} at {@code atMillis} (the registry event's time), read from
   * a registry state ({@code fromState}) or a promotion; version {@link #REMOVED} when a state
   * removed the alias. Event times are milliseconds, so two decisions of one model can share one;
   * only the reading order of states tells them apart.
   */
  private record Move(int version, long atMillis, boolean fromState) {

    /** The version of a move that removed the alias (versions start at 1). */
    static final int REMOVED = 0;

    /** Whether both are the same registry decision, whichever topic each was read from. */
    boolean sameDecision(Move other) {
      return other != null && version == other.version && atMillis == other.atMillis;
    }
  }

  /** How often a version whose load was deferred is tried again. */
  static final Duration RETRY_DEFERRED = Duration.ofSeconds(2);

  /**
   * @param kafka consumer properties (bootstrap servers, security)
   * @param aliases the aliases to serve, e.g. champion and challenger
   * @param shadowAlias the alias whose removal from the registry state stops it being served; the
   *     removal of another alias keeps its version serving
   * @param models which models to serve
   * @param status where removed aliases are kept for {@code /health}
   */
  public PromotionFollower(Map<String, Object> kafka, Topic<String, ModelPromoted> promoted,
      Topic<String, ModelRegistryState> state, Set<String> aliases, String shadowAlias,
      Predicate<String> models, ModelSwapper swapper, ServedModels served,
      ServingStatus status) {
    this.promotedTopic = promoted.name();
    this.stateTopic = state.name();
    this.aliases = Set.copyOf(aliases);
    this.shadowAlias = shadowAlias;
    this.models = Objects.requireNonNull(models, "models");
    this.swapper = Objects.requireNonNull(swapper, "swapper");
    this.served = Objects.requireNonNull(served, "served");
    this.status = Objects.requireNonNull(status, "status");
    Map<String, Object> props = new HashMap<>(kafka);
    props.remove(ConsumerConfig.GROUP_ID_CONFIG);
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    // Promotions and states come from a transactional processor: never act on an aborted one.
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, "flywheel-serving-sink-follower");
    Deserializer<Object> values = new TopicValueDeserializer(
        promoted.name(), promoted.valueSerde().deserializer(),
        state.name(), state.valueSerde().deserializer());
    this.consumer = new KafkaConsumer<>(props, new StringDeserializer(), values);
  }

  /**
   * Reads both topics to their end as of now and serves what they name. Blocks until done.
   *
   * @throws TimeoutException when the end is not reached within {@code timeout}
   */
  public void catchUp(Duration timeout) throws TimeoutException {
    List<TopicPartition> partitions = new ArrayList<>();
    for (String topic : List.of(promotedTopic, stateTopic)) {
      consumer.partitionsFor(topic, timeout).forEach(p ->
          partitions.add(new TopicPartition(p.topic(), p.partition())));
    }
    consumer.assign(partitions);
    consumer.seekToBeginning(partitions);
    Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
    Map<ServedModels.Key, List<ModelSpec>> history = new LinkedHashMap<>();
    Map<String, ModelRegistryState> states = new LinkedHashMap<>();
    // per served key, the last state that named its alias, and when a later state removed it
    Map<ServedModels.Key, ModelRegistryState> named = new HashMap<>();
    Map<ServedModels.Key, Instant> removed = new HashMap<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!reached(end)) {
      if (System.nanoTime() > deadline) {
        throw new TimeoutException("serving did not read " + promotedTopic + " and " + stateTopic
            + " to their end within " + timeout + "; is the broker reachable?");
      }
      for (ConsumerRecord<String, Object> r : poll()) {
        TopicPartition tp = new TopicPartition(r.topic(), r.partition());
        if (r.offset() >= end.getOrDefault(tp, Long.MAX_VALUE)) {
          // past the snapshot: folding a promotion here while the other topic is read only to
          // its snapshot could serve an older version and lose the newer one; follow() reads it
          continue;
        }
        if (r.value() instanceof ModelPromoted p && models.test(p.getModel())) {
          history.computeIfAbsent(new ServedModels.Key(p.getModel(), p.getAlias()),
              k -> new ArrayList<>()).add(ModelSpec.of(p));
        } else if (r.value() instanceof ModelRegistryState s) {
          states.put(s.getModel(), s);
          for (String alias : aliases) {
            ServedModels.Key key = new ServedModels.Key(s.getModel(), alias);
            if (s.getAliases().stream().anyMatch(a -> a.getAlias().equals(alias))) {
              named.put(key, s);
              removed.remove(key);
            } else if (named.containsKey(key)) {
              removed.putIfAbsent(key, s.getEventTime());
            }
          }
        }
      }
    }
    // follow() starts at the snapshot, so that what was read past it is applied in order there
    end.forEach(consumer::seek);
    this.states.putAll(states);
    for (Map.Entry<ServedModels.Key, List<ModelSpec>> target : targets(history, states, named)
        .entrySet()) {
      ServedModels.Key key = target.getKey();
      ModelRegistryState state = states.get(key.model());
      boolean aliasRemoved = state != null && state.getAliases().stream()
          .noneMatch(a -> a.getAlias().equals(key.alias()));
      serveFirstOf(key, target.getValue());
      if (aliasRemoved) {
        Instant at = removed.getOrDefault(key, state.getEventTime());
        moves.put(key, new Move(Move.REMOVED, at.toEpochMilli(), true));
        aliasRemoved(key, at);
      }
    }
    nextRetryNanos = System.nanoTime() + RETRY_DEFERRED.toNanos();
    problem = waiting();
    log.info("caught up with {} and {}: serving {}", promotedTopic, stateTopic,
        served.peekAll().values());
  }

  /**
   * Serves the first of {@code candidates} that passes its checks, newest first. A candidate
   * whose load is deferred is kept, with the older ones after it, to be tried again; the older
   * ones are not served meanwhile, since the deferred one may well pass.
   */
  private void serveFirstOf(ServedModels.Key key, List<ModelSpec> candidates) {
    deferred.remove(key);
    for (int i = 0; i < candidates.size(); i++) {
      ModelSwapper.Outcome outcome = swapper.apply(candidates.get(i));
      if (outcome == ModelSwapper.Outcome.DEFERRED) {
        deferred.put(key, List.copyOf(candidates.subList(i, candidates.size())));
        return;
      }
      if (outcome != ModelSwapper.Outcome.REFUSED) {
        return;
      }
    }
    if (served.peek(key.model(), key.alias()).isEmpty()) {
      log.warn("nothing serves {}: every version announced for it was refused", key);
    }
  }

  private void retryDeferred() {
    if (deferred.isEmpty() || System.nanoTime() < nextRetryNanos) {
      return;
    }
    nextRetryNanos = System.nanoTime() + RETRY_DEFERRED.toNanos();
    new LinkedHashMap<>(deferred).forEach(this::serveFirstOf);
  }

  /** Why a served key waits, or null when none does. */
  private String waiting() {
    if (deferred.isEmpty()) {
      return null;
    }
    return "waiting to serve " + deferred.values().stream().map(c -> c.get(0).describe())
        .toList() + ": the feature lookup does not answer; trying again every "
        + RETRY_DEFERRED.toSeconds() + " s";
  }

  /**
   * The candidates of each served key, the one to serve first. Of an alias the registry removed,
   * the shadow alias has none; another alias first the version the last state naming it named
   * ({@code named}), then its promotions.
   */
  private Map<ServedModels.Key, List<ModelSpec>> targets(
      Map<ServedModels.Key, List<ModelSpec>> history, Map<String, ModelRegistryState> states,
      Map<ServedModels.Key, ModelRegistryState> named) {
    Map<ServedModels.Key, List<ModelSpec>> targets = new LinkedHashMap<>();
    Set<ServedModels.Key> keys = new LinkedHashSet<>(history.keySet());
    states.values().forEach(s -> s.getAliases().forEach(a ->
        keys.add(new ServedModels.Key(s.getModel(), a.getAlias()))));
    keys.addAll(named.keySet());
    for (ServedModels.Key key : keys) {
      if (!aliases.contains(key.alias()) || !models.test(key.model())) {
        continue;
      }
      List<ModelSpec> promotions = history.getOrDefault(key, List.of());
      List<ModelSpec> candidates = new ArrayList<>();
      ModelRegistryState state = states.get(key.model());
      if (state != null) {
        Optional<AliasState> alias = state.getAliases().stream()
            .filter(a -> a.getAlias().equals(key.alias())).findFirst();
        ModelRegistryState naming = state;
        if (alias.isEmpty()) {
          if (key.alias().equals(shadowAlias)) {
            continue; // the registry removed the alias since it was promoted: no shadow scoring
          }
          // removed too, but prediction traffic goes on with the version it named last
          naming = named.get(key);
          alias = naming == null ? Optional.empty() : naming.getAliases().stream()
              .filter(a -> a.getAlias().equals(key.alias())).findFirst();
        }
        if (alias.isPresent()) {
          int version = alias.get().getVersion();
          ModelRegistryState from = naming;
          Optional<ModelSpec> announced = newestFirst(promotions).stream()
              .filter(p -> p.version() == version).findFirst();
          if (announced.isPresent()) {
            candidates.add(announced.get());
          } else {
            from.getVersions().stream().filter(v -> v.getVersion() == version).findFirst()
                .map(v -> fromState(key, v, from)).ifPresent(candidates::add);
          }
        }
      }
      Set<Integer> seen = new LinkedHashSet<>();
      candidates.forEach(c -> seen.add(c.version()));
      for (ModelSpec p : newestFirst(promotions)) {
        if (seen.add(p.version())) {
          candidates.add(p);
        }
      }
      if (!candidates.isEmpty()) {
        targets.put(key, candidates);
      }
    }
    return targets;
  }

  private static List<ModelSpec> newestFirst(List<ModelSpec> promotions) {
    List<ModelSpec> copy = new ArrayList<>(promotions);
    java.util.Collections.reverse(copy);
    return copy;
  }

  private static ModelSpec fromState(ServedModels.Key key, ModelVersion v,
      ModelRegistryState state) {
    return new ModelSpec(key.model(), key.alias(), v.getVersion(), v.getArtifact(),
        v.getSignature(), "state:" + state.getEventId());
  }

  /** Follows both topics on a background thread from where {@link #catchUp} stopped. */
  public synchronized void start() {
    if (thread != null) {
      throw new IllegalStateException("the follower runs already");
    }
    thread = new Thread(this::follow, "flywheel-serving-sink-follower");
    thread.setDaemon(true);
    thread.start();
  }

  private void follow() {
    boolean failing = false;
    while (!stopping) {
      try {
        for (ConsumerRecord<String, Object> r : poll()) {
          if (r.value() instanceof ModelPromoted p) {
            if (aliases.contains(p.getAlias()) && models.test(p.getModel())) {
              follow(p);
            }
          } else if (r.value() instanceof ModelRegistryState s && models.test(s.getModel())) {
            follow(s);
            boolean hasShadow = s.getAliases().stream()
                .anyMatch(a -> a.getAlias().equals(shadowAlias));
            if (!hasShadow) {
              // a challenger still waiting to load must not come back either
              deferred.remove(new ServedModels.Key(s.getModel(), shadowAlias));
              status.notWaiting(new ServedModels.Key(s.getModel(), shadowAlias));
              served.remove(s.getModel(), shadowAlias).ifPresent(m ->
                  log.info("stopped shadow scoring with {}: the registry removed alias {}", m,
                      shadowAlias));
            }
          }
        }
        retryDeferred();
        if (failing) {
          log.info("following promotions again");
          failing = false;
        }
        problem = waiting();
      } catch (WakeupException e) {
        // close() asked us to stop
      } catch (RuntimeException e) {
        problem = "following " + promotedTopic + " failed: " + e.getMessage();
        if (!failing) {
          log.error("following promotions failed; retrying", e);
          failing = true;
        } else {
          log.debug("following promotions still fails", e);
        }
        sleepQuietly();
      }
    }
  }

  /** Serves a promotion unless a later move of its alias was read on the state topic. */
  private void follow(ModelPromoted p) {
    ServedModels.Key key = new ServedModels.Key(p.getModel(), p.getAlias());
    Move move = new Move(p.getVersion(), p.getEventTime().toEpochMilli(), false);
    Move last = moves.get(key);
    if (move.sameDecision(last)) {
      return; // its registry state (or this promotion, again) was read first and served it
    }
    if (last != null && last.atMillis() > move.atMillis()) {
      log.debug("not serving {}: the registry moved {} to v{} after it", ModelSpec.of(p)
          .describe(), key, last.version());
      return;
    }
    moves.put(key, move);
    aliasSetAgain(key, move.version());
    // a newer promotion replaces whatever of the key waited
    serveFirstOf(key, List.of(ModelSpec.of(p)));
  }

  /**
   * Serves each served alias the state moved since the model's previous state, unless the last
   * move of that alias read was a promotion later than this move, or the same decision (its own
   * state is still to come, or this is it). Between two states, the one read later wins even at
   * the same event time: the state topic is read in order per model, so it is the newer.
   */
  private void follow(ModelRegistryState s) {
    ModelRegistryState previous = states.put(s.getModel(), s);
    for (String alias : aliases) {
      if (!alias.equals(shadowAlias)
          && s.getAliases().stream().noneMatch(a -> a.getAlias().equals(alias))) {
        removed(new ServedModels.Key(s.getModel(), alias), s);
      }
    }
    for (AliasState alias : s.getAliases()) {
      if (!aliases.contains(alias.getAlias())) {
        continue;
      }
      aliasSetAgain(new ServedModels.Key(s.getModel(), alias.getAlias()), alias.getVersion());
      Move move = new Move(alias.getVersion(), alias.getAssignedAt().toEpochMilli(), true);
      if (previous != null && previous.getAliases().stream().anyMatch(a ->
          a.getAlias().equals(alias.getAlias()) && a.getVersion() == move.version()
              && a.getAssignedAt().toEpochMilli() == move.atMillis())) {
        continue; // the alias did not move (e.g. a refusal report or a tag changed the state)
      }
      ServedModels.Key key = new ServedModels.Key(s.getModel(), alias.getAlias());
      Move last = moves.get(key);
      if (last != null && !last.fromState()
          && (last.atMillis() > move.atMillis() || move.sameDecision(last))) {
        continue; // a later promotion of the alias, or this same one, was read first
      }
      Optional<ModelVersion> version = s.getVersions().stream()
          .filter(v -> v.getVersion() == move.version()).findFirst();
      if (version.isEmpty()) {
        log.warn("registry state {} moves {} to v{}, which it does not list; not serving it",
            s.getEventId(), key, move.version());
        continue;
      }
      moves.put(key, move);
      serveFirstOf(key, List.of(fromState(key, version.get(), s)));
    }
  }

  /**
   * The state {@code s} lacks the alias of {@code key}, which is not the shadow alias: unless it
   * is older than the last promotion of the alias read, or the removal is known already, the
   * version served keeps serving and the removal is recorded and logged.
   */
  private void removed(ServedModels.Key key, ModelRegistryState s) {
    if (status.aliasRemovedAt(key).isPresent()
        || served.peek(key.model(), key.alias()).isEmpty() && !deferred.containsKey(key)) {
      return; // said once already, or nothing of the alias is served here
    }
    long at = s.getEventTime().toEpochMilli();
    Move last = moves.get(key);
    if (last != null && !last.fromState() && last.atMillis() >= at) {
      return; // a promotion of the alias at or after this state was read first
    }
    moves.put(key, new Move(Move.REMOVED, at, true));
    aliasRemoved(key, s.getEventTime());
  }

  /** Records, and logs once (WARN), that the registry removed the alias of {@code key}. */
  private void aliasRemoved(ServedModels.Key key, Instant at) {
    status.aliasRemoved(key, at);
    Optional<ServedModel> serving = served.peek(key.model(), key.alias());
    log.warn("the registry removed alias {} of {} at {}; {} until the registry sets {} again",
        key.alias(), key.model(), at, serving.map(m -> m + " keeps serving")
            .orElse("nothing serves " + key), key.alias());
  }

  /** The registry (or a promotion) set the alias of {@code key} again after removing it. */
  private void aliasSetAgain(ServedModels.Key key, int version) {
    if (status.aliasRemovedAt(key).isPresent()) {
      status.aliasSet(key);
      log.info("the registry set alias {} of {} again, to v{}", key.alias(), key.model(),
          version);
    }
  }

  private List<ConsumerRecord<String, Object>> poll() {
    try {
      List<ConsumerRecord<String, Object>> out = new ArrayList<>();
      consumer.poll(Duration.ofMillis(200)).forEach(out::add);
      return out;
    } catch (RecordDeserializationException e) {
      if (SchemaRegistryException.isRetriableCause(e)) {
        // not a bad record: the position stays on it, and the next poll reads it again
        problem = "cannot read " + e.topicPartition() + "@" + e.offset()
            + " while the schema registry does not answer; retrying: " + e.getMessage();
        log.warn("cannot read {}@{} while the schema registry does not answer; retrying",
            e.topicPartition(), e.offset());
        sleepQuietly();
        return List.of();
      }
      log.error("skipping unreadable record {}-{}@{}: {}", e.topicPartition().topic(),
          e.topicPartition().partition(), e.offset(), e.getMessage());
      consumer.seek(e.topicPartition(), e.offset() + 1);
      return List.of();
    }
  }

  private boolean reached(Map<TopicPartition, Long> end) {
    for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
      if (consumer.position(e.getKey()) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  private static void sleepQuietly() {
    try {
      Thread.sleep(1_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Why following fails now, if it does. */
  public Optional<String> problem() {
    return Optional.ofNullable(problem);
  }

  /** Stops following and closes the consumer. Idempotent. */
  @Override
  public void close() {
    Thread t;
    synchronized (this) {
      if (stopping) {
        return;
      }
      stopping = true;
      t = thread;
    }
    if (t != null) {
      consumer.wakeup();
      try {
        t.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    consumer.close(Duration.ofSeconds(5));
  }

  /** Reads each topic's values with that topic's deserializer. */
  private static final class TopicValueDeserializer implements Deserializer<Object> {
    private final String first;
    private final Deserializer<?> firstDeserializer;
    private final String second;
    private final Deserializer<?> secondDeserializer;

    TopicValueDeserializer(String first, Deserializer<?> firstDeserializer, String second,
        Deserializer<?> secondDeserializer) {
      this.first = first;
      this.firstDeserializer = firstDeserializer;
      this.second = second;
      this.secondDeserializer = secondDeserializer;
    }

    @Override
    public Object deserialize(String topic, byte[] data) {
      if (data == null) {
        return null;
      }
      if (topic.equals(first)) {
        return firstDeserializer.deserialize(topic, data);
      }
      if (topic.equals(second)) {
        return secondDeserializer.deserialize(topic, data);
      }
      throw new IllegalArgumentException("not a followed topic: " + topic);
    }
  }
}
