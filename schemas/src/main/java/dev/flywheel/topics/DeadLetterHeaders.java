package dev.flywheel.topics;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Names of the headers a record carries on a dead-letter topic ({@code <topic>.dlq}), and the
 * format of the {@link #ORIGIN} header. Every value is a UTF-8 string; numbers are in decimal and
 * times in epoch milliseconds.
 *
 * <p>A dead-letter record keeps the original key and value bytes (or the original text, for a bad
 * line of a file) and says in its headers what was wrong and where it came from, so an operator
 * can fix and replay it:
 *
 * <pre>{@code
 * headers.add(DeadLetterHeaders.ERROR, message.getBytes(StandardCharsets.UTF_8));
 * headers.add(DeadLetterHeaders.ORIGIN,
 *     DeadLetterHeaders.origin(topic, partition, offset).getBytes(StandardCharsets.UTF_8));
 * }</pre>
 *
 * <p>Writers set {@link #ERROR}, {@link #ERROR_CLASS}, {@link #ORIGIN} and {@link #FAILED_AT}
 * always, and the structured headers that apply to where the record came from.
 */
public final class DeadLetterHeaders {

  /** What was wrong, in words that say what to fix. */
  public static final String ERROR = "flywheel.error";

  /** Fully qualified class name of the exception that rejected the record, if one did. */
  public static final String ERROR_CLASS = "flywheel.error.class";

  /** The ingest source the record was meant for (e.g. {@code transactions}), if any. */
  public static final String SOURCE = "flywheel.source";

  /**
   * Where the record came from, in one readable string: {@code <topic>/<partition>/<offset>} for a
   * Kafka record, {@code <file>:<line>} for a line of a file, {@code lsn:<lsn>} for a change
   * captured from PostgreSQL. See {@link #origin(String, int, long)}, {@link #origin(String,
   * long)} and {@link #lsnOrigin(String)}.
   */
  public static final String ORIGIN = "flywheel.origin";

  /** The processor that rejected the record: a Kafka Streams application id or a service name. */
  public static final String PROCESSOR = "flywheel.processor";

  /** Topic the record was read from. */
  public static final String TOPIC = "flywheel.topic";

  /** Partition the record was read from. */
  public static final String PARTITION = "flywheel.partition";

  /** Offset the record was read from. */
  public static final String OFFSET = "flywheel.offset";

  /** Timestamp of the original record, epoch milliseconds. */
  public static final String TIMESTAMP = "flywheel.timestamp";

  /** File the record was read from (the file producer). */
  public static final String FILE = "flywheel.file";

  /** Line number, from 1, of the record in {@link #FILE}. */
  public static final String LINE = "flywheel.line";

  /** PostgreSQL log sequence number of a captured change (CDC). */
  public static final String LSN = "flywheel.lsn";

  /** When the record was rejected, epoch milliseconds. */
  public static final String FAILED_AT = "flywheel.failed.at";

  /** {@code true} on a dead letter whose value was cut to fit the producer's max.request.size. */
  public static final String VALUE_TRUNCATED = "flywheel.value.truncated";

  /** The size in bytes of a truncated dead letter's original value. */
  public static final String VALUE_SIZE = "flywheel.value.size";

  /**
   * {@code true} on a dead letter whose key was cut as well as its value, to fit the producer's
   * max.request.size: the original key took nearly all of it.
   */
  public static final String KEY_TRUNCATED = "flywheel.key.truncated";

  /** The size in bytes of a truncated dead letter's original key. */
  public static final String KEY_SIZE = "flywheel.key.size";

  /**
   * {@code true} on a dead letter from which headers copied from the original record were
   * dropped, largest first, to fit the producer's max.request.size: even with an empty key and
   * value they left it too large. The headers of {@link #ALL}, Flywheel's own, are never dropped.
   */
  public static final String HEADERS_TRUNCATED = "flywheel.headers.truncated";

  /** How many headers of the original record a dead letter with {@link #HEADERS_TRUNCATED} lost. */
  public static final String HEADERS_DROPPED = "flywheel.headers.dropped";

  /**
   * How many bytes the headers a dead letter with {@link #HEADERS_TRUNCATED} lost took in the
   * record, as the producer counts them (names, values and their lengths).
   */
  public static final String HEADERS_DROPPED_SIZE = "flywheel.headers.dropped.size";

  /** Every header above, in that order: for tools that show a dead letter's headers. */
  public static final List<String> ALL = List.of(ERROR, ERROR_CLASS, SOURCE, ORIGIN, PROCESSOR,
      TOPIC, PARTITION, OFFSET, TIMESTAMP, FILE, LINE, LSN, FAILED_AT, VALUE_TRUNCATED, VALUE_SIZE,
      KEY_TRUNCATED, KEY_SIZE, HEADERS_TRUNCATED, HEADERS_DROPPED, HEADERS_DROPPED_SIZE);

  private static final Set<String> OWN = Set.copyOf(ALL);

  /** The most bytes of {@link #ERROR} a dead letter carries; {@link #fit} cuts a longer one. */
  public static final int MAX_ERROR_BYTES = 16 * 1024;

  private static final byte[] ERROR_CUT_MARK = " [cut]".getBytes(StandardCharsets.UTF_8);

  private DeadLetterHeaders() {}

  /**
   * The headers of a dead letter read from Kafka at {@code topic/partition/offset}: {@link #ERROR},
   * {@link #ERROR_CLASS} and {@link #SOURCE} when given (not null), {@link #ORIGIN}, {@link
   * #FAILED_AT} (now), {@link #PROCESSOR}, {@link #TOPIC}, {@link #PARTITION}, {@link #OFFSET}
   * and {@link #TIMESTAMP}; for a processor that sends the dead letter down its own topology, in
   * its own transaction.
   */
  public static Headers ofRecord(String error, String errorClass, String processor,
      String source, String topic, int partition, long offset, long timestamp) {
    Headers h = new RecordHeaders();
    add(h, ERROR, error);
    if (errorClass != null) {
      add(h, ERROR_CLASS, errorClass);
    }
    add(h, ORIGIN, origin(topic, partition, offset));
    add(h, FAILED_AT, Long.toString(System.currentTimeMillis()));
    add(h, PROCESSOR, processor);
    if (source != null) {
      add(h, SOURCE, source);
    }
    add(h, TOPIC, topic);
    add(h, PARTITION, Integer.toString(partition));
    add(h, OFFSET, Long.toString(offset));
    add(h, TIMESTAMP, Long.toString(timestamp));
    return h;
  }

  /**
   * The key and value a dead letter of {@code key}, {@code value} and {@code headers} can be sent
   * with by a producer whose {@code max.request.size} is {@code maxRequestSize}: both themselves
   * when the record fits; else the value's first bytes, as many as fit, with {@link
   * #VALUE_TRUNCATED} {@code = true} and {@link #VALUE_SIZE} (the original size) added to {@code
   * headers}; and when even an empty value leaves it too large (a key near the limit, which the
   * headers then push over), the key's first bytes as well, with {@link #KEY_TRUNCATED} and {@link
   * #KEY_SIZE}. When even an empty key and value leave it too large (headers copied from the
   * original record, which take nearly all of it), those headers are dropped from {@code
   * headers}, largest first, until it fits with an empty key and value, and {@link
   * #HEADERS_TRUNCATED}, {@link #HEADERS_DROPPED} and {@link #HEADERS_DROPPED_SIZE} are added;
   * the key and value are then cut, as above, only as far as the room left needs. A header named
   * in {@link #ALL} is never dropped. The {@link #ERROR} header is kept to its first {@value
   * #MAX_ERROR_BYTES} bytes; the other headers are kept whole unless dropped. A dead letter the
   * producer refused would fail its writer on every retry, so every writer of dead letters fits
   * them.
   */
  public static Fitted fit(byte[] key, byte[] value, Headers headers, int maxRequestSize) {
    capError(headers);
    int excess = RecordSize.upperBound(key, value, headers.toArray()) - maxRequestSize;
    if (excess <= 0) {
      return new Fitted(key, value);
    }
    if (dropCopiedHeaders(key, value, headers, maxRequestSize)) {
      excess = RecordSize.upperBound(key, value, headers.toArray()) - maxRequestSize;
      if (excess <= 0) {
        return new Fitted(key, value);
      }
    }
    if (value != null && value.length > 0) {
      if (headers.lastHeader(VALUE_TRUNCATED) == null) {
        add(headers, VALUE_TRUNCATED, "true");
        add(headers, VALUE_SIZE, Integer.toString(value.length));
      }
      // cut by the excess and by what the two headers add; a shorter value never takes more
      // bytes of length prefix, so the record then fits if an empty value does
      excess = RecordSize.upperBound(key, value, headers.toArray()) - maxRequestSize;
      value = Arrays.copyOf(value, Math.max(0, value.length - excess));
      excess = RecordSize.upperBound(key, value, headers.toArray()) - maxRequestSize;
    }
    if (excess > 0 && key != null && key.length > 0) {
      if (headers.lastHeader(KEY_TRUNCATED) == null) {
        add(headers, KEY_TRUNCATED, "true");
        add(headers, KEY_SIZE, Integer.toString(key.length));
      }
      excess = RecordSize.upperBound(key, value, headers.toArray()) - maxRequestSize;
      key = Arrays.copyOf(key, Math.max(0, key.length - excess));
    }
    return new Fitted(key, value);
  }

  /** A dead letter's key and value as {@link #fit} leaves them; either may be null. */
  public record Fitted(byte[] key, byte[] value) {}

  /**
   * Drops the headers not named in {@link #ALL} (those copied from the original record), largest
   * first, while the dead letter would not fit {@code maxRequestSize} with an empty key and value
   * and the headers {@link #fit} adds when it cuts them, and says so in {@code headers}.
   *
   * @return whether any header was dropped
   */
  private static boolean dropCopiedHeaders(byte[] key, byte[] value, Headers headers,
      int maxRequestSize) {
    byte[] noKey = key == null ? null : new byte[0];
    byte[] noValue = value == null ? null : new byte[0];
    List<Header> cutMarks = new ArrayList<>();
    if (value != null && value.length > 0 && headers.lastHeader(VALUE_TRUNCATED) == null) {
      cutMarks.add(header(VALUE_TRUNCATED, "true"));
      cutMarks.add(header(VALUE_SIZE, Integer.toString(value.length)));
    }
    if (key != null && key.length > 0 && headers.lastHeader(KEY_TRUNCATED) == null) {
      cutMarks.add(header(KEY_TRUNCATED, "true"));
      cutMarks.add(header(KEY_SIZE, Integer.toString(key.length)));
    }
    List<Header> all = Arrays.asList(headers.toArray());
    if (RecordSize.upperBound(noKey, noValue, with(all, cutMarks)) <= maxRequestSize) {
      return false; // cutting the value, and the key if need be, is enough
    }
    List<Header> copied = new ArrayList<>();
    for (Header h : all) {
      if (!OWN.contains(h.key())) {
        copied.add(h);
      }
    }
    if (copied.isEmpty()) {
      return false;
    }
    // room for the marks of the drop, at their longest: every copied header, all their bytes
    List<Header> marks = new ArrayList<>(cutMarks);
    marks.addAll(dropMarks(copied.size(), RecordSize.upperBound(noKey, noValue, all.toArray(
        new Header[0])) - RecordSize.upperBound(noKey, noValue, without(all, copied))));
    long excess = RecordSize.upperBound(noKey, noValue, with(all, marks)) - (long) maxRequestSize;
    List<Header> largestFirst = new ArrayList<>(copied);
    largestFirst.sort(Comparator.comparingLong(DeadLetterHeaders::bytes).reversed());
    Set<Header> dropped = Collections.newSetFromMap(new IdentityHashMap<>());
    long freed = 0; // dropping a header frees at least its name and value bytes
    for (Header h : largestFirst) {
      if (freed >= excess) {
        break;
      }
      dropped.add(h);
      freed += bytes(h);
    }
    int droppedSize = RecordSize.upperBound(noKey, noValue, all.toArray(new Header[0]))
        - RecordSize.upperBound(noKey, noValue, without(all, dropped));
    for (Iterator<Header> it = headers.iterator(); it.hasNext(); ) {
      if (dropped.contains(it.next())) {
        it.remove();
      }
    }
    for (Header mark : dropMarks(dropped.size(), droppedSize)) {
      headers.remove(mark.key());
      headers.add(mark);
    }
    return true;
  }

  private static List<Header> dropMarks(int count, int size) {
    return List.of(header(HEADERS_TRUNCATED, "true"),
        header(HEADERS_DROPPED, Integer.toString(count)),
        header(HEADERS_DROPPED_SIZE, Integer.toString(size)));
  }

  /** The bytes of a header's name and value: what dropping it frees, at least. */
  private static long bytes(Header h) {
    return h.key().getBytes(StandardCharsets.UTF_8).length
        + (h.value() == null ? 0 : (long) h.value().length);
  }

  private static Header[] with(List<Header> headers, List<Header> more) {
    List<Header> all = new ArrayList<>(headers);
    all.addAll(more);
    return all.toArray(new Header[0]);
  }

  private static Header[] without(List<Header> headers, Collection<Header> dropped) {
    Set<Header> out = Collections.newSetFromMap(new IdentityHashMap<>());
    out.addAll(dropped);
    return headers.stream().filter(h -> !out.contains(h)).toArray(Header[]::new);
  }

  private static Header header(String name, String value) {
    return new RecordHeader(name, value.getBytes(StandardCharsets.UTF_8));
  }

  /** Cuts the last {@link #ERROR} header to {@value #MAX_ERROR_BYTES} bytes, on a UTF-8 boundary. */
  private static void capError(Headers headers) {
    Header error = headers.lastHeader(ERROR);
    if (error == null || error.value() == null || error.value().length <= MAX_ERROR_BYTES) {
      return;
    }
    byte[] bytes = error.value();
    int end = MAX_ERROR_BYTES - ERROR_CUT_MARK.length;
    while (end > 0 && (bytes[end] & 0xC0) == 0x80) {
      end--; // not inside a UTF-8 sequence
    }
    byte[] cut = Arrays.copyOf(bytes, end + ERROR_CUT_MARK.length);
    System.arraycopy(ERROR_CUT_MARK, 0, cut, end, ERROR_CUT_MARK.length);
    headers.remove(ERROR);
    headers.add(ERROR, cut);
  }

  private static void add(Headers headers, String name, String value) {
    headers.add(name, value.getBytes(StandardCharsets.UTF_8));
  }

  /** The {@link #ORIGIN} of a Kafka record: {@code <topic>/<partition>/<offset>}. */
  public static String origin(String topic, int partition, long offset) {
    Objects.requireNonNull(topic, "topic");
    return topic + "/" + partition + "/" + offset;
  }

  /** The {@link #ORIGIN} of a line of a file: {@code <file>:<line>}. */
  public static String origin(String file, long line) {
    Objects.requireNonNull(file, "file");
    return file + ":" + line;
  }

  /** The {@link #ORIGIN} of a change captured from PostgreSQL: {@code lsn:<lsn>}. */
  public static String lsnOrigin(String lsn) {
    Objects.requireNonNull(lsn, "lsn");
    return "lsn:" + lsn;
  }
}
