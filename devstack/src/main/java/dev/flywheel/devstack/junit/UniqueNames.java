package dev.flywheel.devstack.junit;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Names no other test in this JVM uses, so tests sharing one broker never read each other's
 * records, consumer-group offsets or Kafka Streams state.
 *
 * <p>Each name starts with a {@link #prefix()} made of a number unique in this JVM and the test's
 * method (or class) name, for example {@code t12-shouldRouteLookupToOwningInstance}: unique, and
 * readable in broker logs and Kafka UI. Every name only uses characters Kafka accepts in topic
 * names, group ids and Streams application ids ({@code [a-zA-Z0-9._-]}).
 *
 * <p>{@code @WithDevstack} injects one per test method: the same instance in its
 * {@code @BeforeEach}, test and {@code @AfterEach} methods, a new one for the next test.
 */
public final class UniqueNames {

  private static final AtomicInteger SEQUENCE = new AtomicInteger();
  private static final int MAX_LABEL_LENGTH = 60;

  private final String prefix;

  private UniqueNames(String prefix) {
    this.prefix = prefix;
  }

  /**
   * A fresh set of names labelled with {@code label} (typically the test's name); characters
   * Kafka does not accept are dropped and long labels are shortened.
   */
  public static UniqueNames of(String label) {
    Objects.requireNonNull(label, "label");
    StringBuilder safe = new StringBuilder();
    for (int i = 0; i < label.length() && safe.length() < MAX_LABEL_LENGTH; i++) {
      char c = label.charAt(i);
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
          || c == '_') {
        safe.append(c);
      }
    }
    String number = "t" + SEQUENCE.incrementAndGet();
    return new UniqueNames(safe.length() == 0 ? number : number + "-" + safe);
  }

  /**
   * The unique prefix, such as {@code t12-shouldEnrich}, without a trailing separator; use it as
   * the topic-name prefix of the topic catalogue, which puts a dot after it.
   */
  public String prefix() {
    return prefix;
  }

  /** {@code <prefix>.<name>}: a topic only this test uses. */
  public String topic(String name) {
    return qualify(name);
  }

  /** {@code <prefix>.<name>}: a consumer group id only this test uses. */
  public String groupId(String name) {
    return qualify(name);
  }

  /** {@code <prefix>.<name>}: a Kafka Streams {@code application.id} only this test uses. */
  public String applicationId(String name) {
    return qualify(name);
  }

  /** {@code <prefix>.<name>}: a schema-registry subject only this test uses. */
  public String subject(String name) {
    return qualify(name);
  }

  @Override
  public String toString() {
    return prefix;
  }

  private String qualify(String name) {
    Objects.requireNonNull(name, "name");
    if (name.isEmpty()) {
      throw new IllegalArgumentException("name must not be empty");
    }
    return prefix + "." + name;
  }
}
