package dev.flywheel.featurestreams.lookup;

import dev.flywheel.events.FeatureVector;
import dev.flywheel.featurestreams.FeatureTopology;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.errors.StreamsNotStartedException;
import org.apache.kafka.streams.state.HostInfo;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * Finds where an entity's features live and reads them from this instance's online store. No
 * HTTP: {@link FeatureLookupHttpApi} forwards to the owner that {@link #owner} names.
 *
 * <p>Only the active copy of a partition answers: a standby or a store that is still restoring
 * is never read, so an answer is never staler than the owning processor. While the instances
 * rebalance (the Kafka Streams state is not {@code RUNNING}), while the owner of the key's
 * partition is unknown, or while the partition's store is restoring, the lookup throws {@link
 * LookupUnavailableException} instead of answering from the wrong place.
 */
public final class FeatureLookup {

  private static final Serializer<String> KEYS = new StringSerializer();

  private final Supplier<KafkaStreams> streams;
  private final HostInfo self;
  private final Map<String, LookupGroup> groups;
  private final List<String> groupNames;
  private final Duration retryAfter;
  private final Map<StoreKey, ReadOnlyKeyValueStore<String, FeatureVector>> stores =
      new ConcurrentHashMap<>();

  /**
   * @param streams the running Kafka Streams instance that holds the online stores; may supply
   *     null before it is created (lookups then answer unavailable)
   * @param self this instance's {@code application.server}, as the other instances see it
   * @param groups the feature groups that can be looked up
   * @param retryAfter how long callers are told to wait when a lookup is unavailable
   */
  public FeatureLookup(Supplier<KafkaStreams> streams, HostInfo self,
      Collection<LookupGroup> groups, Duration retryAfter) {
    this.streams = Objects.requireNonNull(streams, "streams");
    this.self = Objects.requireNonNull(self, "self");
    this.retryAfter = Objects.requireNonNull(retryAfter, "retryAfter");
    Map<String, LookupGroup> byName = new TreeMap<>();
    for (LookupGroup group : groups) {
      if (byName.put(group.name(), group) != null) {
        throw new IllegalArgumentException("feature group '" + group.name()
            + "' is declared twice; give each group its own name");
      }
    }
    this.groups = Map.copyOf(byName);
    this.groupNames = List.copyOf(new ArrayList<>(byName.keySet()));
  }

  /** This instance, as named in {@code application.server}. */
  public HostInfo self() {
    return self;
  }

  /** The declared group names, sorted. */
  public List<String> groupNames() {
    return groupNames;
  }

  /** The group called {@code name}. @throws UnknownGroupException naming the known groups */
  public LookupGroup group(String name) {
    LookupGroup group = groups.get(name);
    if (group == null) {
      throw new UnknownGroupException(name, groupNames);
    }
    return group;
  }

  /**
   * The instance whose active store holds {@code entity} of {@code group}, and its partition.
   *
   * @throws LookupUnavailableException while rebalancing or when no instance owns the partition
   */
  public Owner owner(LookupGroup group, String entity) {
    KafkaStreams running = running();
    KeyQueryMetadata metadata;
    try {
      metadata = running.queryMetadataForKey(group.storeName(), entity, KEYS);
    } catch (StreamsNotStartedException | IllegalStateException e) {
      throw unavailable("feature-streams is not running yet: " + e.getMessage(), e);
    }
    if (metadata == null) {
      throw new FeatureLookupException("feature group '" + group.name() + "' names store '"
          + group.storeName() + "', which the running topology does not have");
    }
    HostInfo active = metadata.activeHost();
    if (metadata == KeyQueryMetadata.NOT_AVAILABLE || active == null
        || active.equals(HostInfo.unavailable()) || metadata.partition() < 0) {
      throw unavailable("no instance owns the partition of entity '" + entity + "' of group '"
          + group.name() + "' yet: the instances are rebalancing", null);
    }
    return new Owner(active, metadata.partition(), active.equals(self));
  }

  /**
   * The entity's features from this instance's active store of {@code partition}: the latest
   * vector, or the group's defaults with {@code found: false} when the store does not hold it.
   *
   * @throws LookupUnavailableException when this instance does not own the partition right now,
   *     or its store is restoring
   */
  public FeatureValues local(LookupGroup group, String entity, int partition) {
    KafkaStreams running = running();
    FeatureVector vector;
    StoreKey key = new StoreKey(running, group.storeName(), partition);
    try {
      // The handle resolves the partition's active store on every get, so it can be kept.
      ReadOnlyKeyValueStore<String, FeatureVector> store = stores.computeIfAbsent(key,
          k -> running.store(StoreQueryParameters.fromNameAndType(k.store(),
              QueryableStoreTypes.<String, FeatureVector>keyValueStore())
              .withPartition(k.partition())));
      // the stores' reserved keys are no entities: answered as never seen
      vector = FeatureTopology.isReservedKey(entity) ? null : store.get(entity);
    } catch (InvalidStateStoreException e) {
      stores.remove(key);
      throw unavailable("partition " + partition + " of store '" + group.storeName()
          + "' is not queryable on " + describe(self) + " right now (migrating or restoring): "
          + e.getMessage(), e);
    }
    String servedBy = describe(self);
    return vector == null ? FeatureValues.defaults(group, entity, servedBy)
        : FeatureValues.of(group, entity, vector, servedBy);
  }

  /**
   * The entity's features when this instance owns them.
   *
   * @throws NotOwnerException when another instance owns the entity (use {@link #owner} to route)
   * @throws LookupUnavailableException while rebalancing or restoring
   */
  public FeatureValues get(String groupName, String entity) {
    LookupGroup group = group(groupName);
    Owner owner = owner(group, entity);
    if (!owner.local()) {
      throw new NotOwnerException(owner);
    }
    return local(group, entity, owner.partition());
  }

  private KafkaStreams running() {
    KafkaStreams current = streams.get();
    if (current == null) {
      throw unavailable("feature-streams has not started yet", null);
    }
    KafkaStreams.State state = current.state();
    if (state != KafkaStreams.State.RUNNING) {
      throw unavailable("feature-streams is " + state + "; lookups resume once the instances"
          + " have settled which partitions each owns", null);
    }
    return current;
  }

  private LookupUnavailableException unavailable(String message, Throwable cause) {
    return cause == null ? new LookupUnavailableException(message, retryAfter)
        : new LookupUnavailableException(message, retryAfter, cause);
  }

  private record StoreKey(KafkaStreams streams, String store, int partition) {}

  /** {@code host:port}. */
  static String describe(HostInfo host) {
    return host.host() + ":" + host.port();
  }

  /**
   * Where one entity lives.
   *
   * @param host the instance with the active store
   * @param partition the partition of the entity's key
   * @param local true when that instance is this one
   */
  public record Owner(HostInfo host, int partition, boolean local) {}

  /** Another instance owns the entity. */
  public static final class NotOwnerException extends FeatureLookupException {
    private static final long serialVersionUID = 1L;
    private final transient Owner owner;

    NotOwnerException(Owner owner) {
      super("entity is owned by " + describe(owner.host()) + " (partition " + owner.partition()
          + "); ask that instance");
      this.owner = owner;
    }

    /** The owning instance and partition. */
    public Owner owner() {
      return owner;
    }
  }
}
