package dev.flywheel.platform.runtime;

import dev.flywheel.featurestreams.lookup.FeatureLookup;
import dev.flywheel.featurestreams.lookup.FeatureLookupException;
import dev.flywheel.featurestreams.lookup.FeatureValues;
import dev.flywheel.servingsink.http.HttpOnlineFeatures;
import dev.flywheel.servingsink.http.OnlineFeatures;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The serving sink's {@link OnlineFeatures} read from the feature engine running in the same
 * process: a key this instance owns is read from its store without HTTP; a key another instance
 * owns is asked of that instance's lookup API, over one pooled client per instance (closed with
 * this).
 */
public final class LocalOnlineFeatures implements OnlineFeatures, AutoCloseable {

  private final Supplier<FeatureLookup> lookup;
  private final Duration forwardTimeout;
  private final Map<String, HttpOnlineFeatures> owners = new ConcurrentHashMap<>();
  private volatile boolean closed;

  /**
   * @param lookup the lookup of the local engine; null until it has started
   * @param forwardTimeout per request to another instance
   */
  public LocalOnlineFeatures(Supplier<FeatureLookup> lookup, Duration forwardTimeout) {
    this.lookup = Objects.requireNonNull(lookup, "lookup");
    this.forwardTimeout = Objects.requireNonNull(forwardTimeout, "forwardTimeout");
  }

  @Override
  public List<Row> fetch(String group, List<String> entities) {
    FeatureLookup local = running();
    List<Row> rows = new ArrayList<>(entities.size());
    for (String entity : entities) {
      try {
        rows.add(row(local.get(group, entity)));
      } catch (FeatureLookup.NotOwnerException e) {
        rows.add(owner(e.owner()).fetch(group, List.of(entity)).get(0));
      } catch (dev.flywheel.featurestreams.lookup.UnknownGroupException e) {
        throw new UnknownGroupException(e.getMessage());
      } catch (FeatureLookupException e) {
        throw new FeaturesUnavailableException(e.getMessage(), e);
      }
    }
    return rows;
  }

  @Override
  public Optional<Set<String>> featureNames(String group) {
    FeatureLookup local = running();
    try {
      var declared = local.group(group);
      Set<String> names = new LinkedHashSet<>(declared.features());
      names.addAll(declared.categoricalDefaults().keySet());
      return Optional.of(names);
    } catch (dev.flywheel.featurestreams.lookup.UnknownGroupException e) {
      return Optional.empty();
    }
  }

  private HttpOnlineFeatures owner(FeatureLookup.Owner owner) {
    if (closed) {
      throw new FeaturesUnavailableException("the serving sink is closing", null);
    }
    return owners.computeIfAbsent("http://" + owner.host().host() + ":" + owner.host().port(),
        url -> new HttpOnlineFeatures(url, forwardTimeout));
  }

  /** Closes the clients of the other instances. */
  @Override
  public void close() {
    closed = true;
    owners.values().forEach(HttpOnlineFeatures::close);
    owners.clear();
  }

  private FeatureLookup running() {
    FeatureLookup local = lookup.get();
    if (local == null) {
      throw new FeaturesUnavailableException("the feature engine has not started yet", null);
    }
    return local;
  }

  private static Row row(FeatureValues values) {
    return new Row(values.entity(), values.found(), values.eventId(),
        values.asOf() == null ? null : values.asOf().toEpochMilli(), values.features(),
        values.categoricalFeatures());
  }
}
