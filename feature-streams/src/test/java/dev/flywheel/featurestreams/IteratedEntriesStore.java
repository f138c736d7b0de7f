package dev.flywheel.featurestreams;

import java.util.List;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * A key-value store that counts the entries its iterators ({@code range}, {@code all}) hand out,
 * delegating everything to another store: what a scan of the store costs, seen from outside the
 * processor that scans it.
 */
final class IteratedEntriesStore<V> implements KeyValueStore<String, V> {

  private final KeyValueStore<String, V> store;
  private long iterated;

  IteratedEntriesStore(KeyValueStore<String, V> store) {
    this.store = store;
  }

  /** Entries handed out by iterators since the last call, and starts counting again. */
  long takeIterated() {
    long n = iterated;
    iterated = 0;
    return n;
  }

  private KeyValueIterator<String, V> counted(KeyValueIterator<String, V> it) {
    return new KeyValueIterator<>() {
      @Override
      public boolean hasNext() {
        return it.hasNext();
      }

      @Override
      public KeyValue<String, V> next() {
        iterated++;
        return it.next();
      }

      @Override
      public String peekNextKey() {
        return it.peekNextKey();
      }

      @Override
      public void close() {
        it.close();
      }
    };
  }

  @Override
  public KeyValueIterator<String, V> range(String from, String to) {
    return counted(store.range(from, to));
  }

  @Override
  public KeyValueIterator<String, V> reverseRange(String from, String to) {
    return counted(store.reverseRange(from, to));
  }

  @Override
  public KeyValueIterator<String, V> all() {
    return counted(store.all());
  }

  @Override
  public KeyValueIterator<String, V> reverseAll() {
    return counted(store.reverseAll());
  }

  @Override
  public V get(String key) {
    return store.get(key);
  }

  @Override
  public void put(String key, V value) {
    store.put(key, value);
  }

  @Override
  public V putIfAbsent(String key, V value) {
    return store.putIfAbsent(key, value);
  }

  @Override
  public void putAll(List<KeyValue<String, V>> entries) {
    store.putAll(entries);
  }

  @Override
  public V delete(String key) {
    return store.delete(key);
  }

  @Override
  public long approximateNumEntries() {
    return store.approximateNumEntries();
  }

  @Override
  public String name() {
    return store.name();
  }

  @Override
  public void init(StateStoreContext context, StateStore root) {
    store.init(context, root);
  }

  @Override
  public void flush() {
    store.flush();
  }

  @Override
  public void close() {
    store.close();
  }

  @Override
  public boolean persistent() {
    return store.persistent();
  }

  @Override
  public boolean isOpen() {
    return store.isOpen();
  }
}
