package dev.flywheel.ingest.dlq;

import dev.flywheel.topics.DeadLetterHeaders;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One rejected record on its way to a dead-letter topic: the original key and value bytes (or
 * text), what was wrong, and where it came from.
 *
 * <pre>{@code
 * DeadLetter letter = DeadLetter.of(topics.data("card-tx").name(), lineText)
 *     .error("amount: expected a number, got a string \"12,5\"")
 *     .source("card-tx")
 *     .origin(DeadLetterHeaders.origin("events.jsonl", 42))
 *     .header(DeadLetterHeaders.FILE, "events.jsonl")
 *     .header(DeadLetterHeaders.LINE, "42")
 *     .build();
 * }</pre>
 *
 * @param topic the full name of the topic the record was meant for (its DLQ is {@code
 *     <topic>.dlq}); never null
 * @param key the original key bytes; null when there was none
 * @param value the original value bytes; null when there was none
 * @param error what was wrong, in words that say what to fix; never null
 * @param errorClass fully qualified class of the exception that rejected the record; null if none
 * @param source the ingest source, e.g. {@code card-tx}; null when there is none
 * @param origin where the record came from (see {@link DeadLetterHeaders#ORIGIN}); never null
 * @param extraHeaders further {@link DeadLetterHeaders} (file, line, lsn, partition, …) by name;
 *     never null, values never null
 */
public record DeadLetter(String topic, byte[] key, byte[] value, String error, String errorClass,
    String source, String origin, Map<String, String> extraHeaders) {

  /** @throws NullPointerException when topic, error, origin or extraHeaders is null */
  public DeadLetter {
    Objects.requireNonNull(topic, "topic");
    Objects.requireNonNull(error, "error");
    Objects.requireNonNull(origin, "origin");
    extraHeaders = Map.copyOf(extraHeaders);
  }

  /** A builder for a rejected value of {@code topic}, given as its original bytes. */
  public static Builder of(String topic, byte[] value) {
    return new Builder(topic, value);
  }

  /** A builder for a rejected value of {@code topic}, given as its original text (UTF-8). */
  public static Builder of(String topic, String text) {
    return new Builder(topic, text == null ? null : text.getBytes(StandardCharsets.UTF_8));
  }

  /** Builds a {@link DeadLetter}; {@link #error} and {@link #origin} are required. */
  public static final class Builder {
    private final String topic;
    private final byte[] value;
    private byte[] key;
    private String error;
    private String errorClass;
    private String source;
    private String origin;
    private final Map<String, String> extra = new LinkedHashMap<>();

    private Builder(String topic, byte[] value) {
      this.topic = topic;
      this.value = value;
    }

    /** The original key bytes; optional. */
    public Builder key(byte[] key) {
      this.key = key;
      return this;
    }

    /** The original key as text (UTF-8); optional. */
    public Builder key(String key) {
      this.key = key == null ? null : key.getBytes(StandardCharsets.UTF_8);
      return this;
    }

    /** What was wrong; required. */
    public Builder error(String error) {
      this.error = error;
      return this;
    }

    /** The exception that rejected the record: sets the error class, and the error if unset. */
    public Builder cause(Throwable cause) {
      this.errorClass = cause.getClass().getName();
      if (error == null) {
        error = String.valueOf(cause.getMessage());
      }
      return this;
    }

    /** The ingest source; optional. */
    public Builder source(String source) {
      this.source = source;
      return this;
    }

    /** Where the record came from (see {@link DeadLetterHeaders#origin}); required. */
    public Builder origin(String origin) {
      this.origin = origin;
      return this;
    }

    /** A further header, e.g. {@link DeadLetterHeaders#LINE}; a later value replaces earlier. */
    public Builder header(String name, String value) {
      extra.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
      return this;
    }

    /** @throws NullPointerException when the error or origin is missing */
    public DeadLetter build() {
      return new DeadLetter(topic, key, value, error, errorClass, source, origin, extra);
    }
  }
}
