package dev.flywheel.streams;

import java.util.Map;
import org.apache.kafka.streams.state.RocksDBConfigSetter;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Cache;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.WriteBufferManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounds the off-heap memory of every RocksDB store in the JVM by one budget: all stores of all
 * Flywheel processors running in the process share one block cache, and their memtables are
 * charged to that same cache through one {@link WriteBufferManager}. Index and filter blocks live
 * in the cache too, so the budget covers reads, writes and indexes.
 *
 * <p>The budget is read from {@link #MEMORY_BYTES_CONFIG} the first time any store opens; later
 * processors in the same JVM share the budget already set (a different value is logged and
 * ignored), which is what keeps several processors in one JVM bounded together. This follows
 * Kafka Streams' documented recipe for bounded memory.
 */
public final class BoundedMemoryRocksDBConfig implements RocksDBConfigSetter {

  /** Streams property: bytes of off-heap memory all RocksDB stores in this JVM share. */
  public static final String MEMORY_BYTES_CONFIG = "flywheel.rocksdb.memory.bytes";

  /** Budget when {@link #MEMORY_BYTES_CONFIG} is not set: 128 MiB. */
  public static final long DEFAULT_MEMORY_BYTES = 128L * 1024 * 1024;

  /** Share of the budget memtables may take before they are flushed. */
  static final double MEMTABLE_SHARE = 0.25;

  /** Share of the cache kept for index and filter blocks (high priority). */
  static final double INDEX_FILTER_SHARE = 0.1;

  private static final long BLOCK_SIZE_BYTES = 16 * 1024;
  private static final long MEMTABLE_BYTES = 8L * 1024 * 1024;
  private static final int MEMTABLES = 3;

  private static final Logger LOG = LoggerFactory.getLogger(BoundedMemoryRocksDBConfig.class);

  private static Shared shared;

  private record Shared(long budgetBytes, Cache cache, WriteBufferManager writeBuffers) {}

  /** The budget the stores of this JVM share; 0 before the first store opened. */
  public static synchronized long budgetBytes() {
    return shared == null ? 0 : shared.budgetBytes();
  }

  private static synchronized Shared shared(Map<String, Object> configs) {
    long wanted = budget(configs);
    if (shared == null) {
      Cache cache = new LRUCache(wanted, -1, false, INDEX_FILTER_SHARE);
      WriteBufferManager writeBuffers =
          new WriteBufferManager((long) (wanted * MEMTABLE_SHARE), cache);
      shared = new Shared(wanted, cache, writeBuffers);
      LOG.info("RocksDB stores in this JVM share {} bytes of block cache and memtables", wanted);
    } else if (wanted != shared.budgetBytes()) {
      LOG.warn("{}={} ignored: the RocksDB stores in this JVM already share {} bytes",
          MEMORY_BYTES_CONFIG, wanted, shared.budgetBytes());
    }
    return shared;
  }

  static long budget(Map<String, Object> configs) {
    Object value = configs.get(MEMORY_BYTES_CONFIG);
    if (value == null) {
      return DEFAULT_MEMORY_BYTES;
    }
    long bytes;
    try {
      bytes = value instanceof Number n ? n.longValue() : Long.parseLong(value.toString().trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          MEMORY_BYTES_CONFIG + " must be a number of bytes, got '" + value + "'; write the"
          + " bytes alone, e.g. 134217728 for 128 MiB", e);
    }
    if (bytes < 1024 * 1024) {
      throw new IllegalArgumentException(
          MEMORY_BYTES_CONFIG + " must be at least 1048576 (1 MiB), got " + bytes + "; write"
          + " the bytes, e.g. 134217728 for 128 MiB");
    }
    return bytes;
  }

  @Override
  public void setConfig(String storeName, Options options, Map<String, Object> configs) {
    Shared memory = shared(configs);
    BlockBasedTableConfig table = (BlockBasedTableConfig) options.tableFormatConfig();
    table.setBlockCache(memory.cache());
    table.setCacheIndexAndFilterBlocks(true);
    table.setCacheIndexAndFilterBlocksWithHighPriority(true);
    table.setPinTopLevelIndexAndFilter(true);
    table.setBlockSize(BLOCK_SIZE_BYTES);
    options.setWriteBufferManager(memory.writeBuffers());
    options.setMaxWriteBufferNumber(MEMTABLES);
    options.setWriteBufferSize(MEMTABLE_BYTES);
    options.setTableFormatConfig(table);
  }

  @Override
  public void close(String storeName, Options options) {
    // The cache and write-buffer manager are shared by every store in the JVM: never closed here.
  }
}
