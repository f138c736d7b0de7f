package dev.flywheel.topics;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.common.header.Headers;
import org.junit.jupiter.api.Test;

class DeadLetterHeadersTest {

  @Test
  void shouldNameEveryHeaderUniquelyInTheFlywheelNamespace() throws IllegalAccessException {
    // Given every header-name constant
    List<String> names = new java.util.ArrayList<>();
    for (Field field : DeadLetterHeaders.class.getFields()) {
      if (Modifier.isStatic(field.getModifiers()) && field.getType() == String.class) {
        names.add((String) field.get(null));
      }
    }

    // Then they are distinct, start with "flywheel." and include the headers issue 3 names
    assertThat(names).hasSizeGreaterThanOrEqualTo(10).doesNotHaveDuplicates()
        .allSatisfy(name -> assertThat(name).startsWith("flywheel."));
    assertThat(names).contains("flywheel.error", "flywheel.source", "flywheel.origin");
    assertThat(Arrays.asList(DeadLetterHeaders.TOPIC, DeadLetterHeaders.PARTITION,
        DeadLetterHeaders.OFFSET)).containsExactly("flywheel.topic", "flywheel.partition",
        "flywheel.offset");
  }

  @Test
  void shouldFormatEachKindOfOrigin() {
    assertThat(DeadLetterHeaders.origin("flywheel.data.transactions", 2, 1041))
        .isEqualTo("flywheel.data.transactions/2/1041");
    assertThat(DeadLetterHeaders.origin("events.jsonl", 17)).isEqualTo("events.jsonl:17");
    assertThat(DeadLetterHeaders.lsnOrigin("0/16B3748")).isEqualTo("lsn:0/16B3748");
  }

  private static final int LIMIT = 1_048_576;

  @Test
  void shouldKeepADeadLetterThatFitsWhole() {
    // Given a small record's dead-letter headers
    byte[] key = bytes('k', 10);
    byte[] value = bytes('v', 100);
    Headers headers = headers("cannot read the value");

    // When it is fitted to the default max.request.size
    DeadLetterHeaders.Fitted fitted = DeadLetterHeaders.fit(key, value, headers, LIMIT);

    // Then key, value and headers are unchanged
    assertThat(fitted.key()).isSameAs(key);
    assertThat(fitted.value()).isSameAs(value);
    assertThat(headers.lastHeader(DeadLetterHeaders.VALUE_TRUNCATED)).isNull();
    assertThat(headers.lastHeader(DeadLetterHeaders.KEY_TRUNCATED)).isNull();
  }

  @Test
  void shouldCutOnlyTheValueWhenThatMakesTheDeadLetterFit() {
    // Given a record as large as a producer may send, most of it value
    byte[] key = bytes('k', 10);
    byte[] value = bytes('v', 1_048_400);
    Headers headers = headers("cannot read the value");

    // When it is fitted
    DeadLetterHeaders.Fitted fitted = DeadLetterHeaders.fit(key, value, headers, LIMIT);

    // Then the value is cut to its first bytes and the key is kept whole
    assertThat(fitted.key()).isSameAs(key);
    assertThat(fitted.value()).hasSizeBetween(1_040_000, 1_048_399).containsOnly((byte) 'v');
    assertThat(header(headers, DeadLetterHeaders.VALUE_SIZE)).isEqualTo("1048400");
    assertThat(headers.lastHeader(DeadLetterHeaders.KEY_TRUNCATED)).isNull();
    assertThat(RecordSize.upperBound(fitted.key(), fitted.value(), headers.toArray()))
        .isLessThanOrEqualTo(LIMIT);
  }

  @Test
  void shouldCutTheKeyWhenAnEmptyValueStillLeavesTheDeadLetterTooLarge() {
    // Given a record a producer accepted, whose key takes nearly all of max.request.size
    byte[] key = bytes('k', 1_048_400);
    byte[] value = bytes('v', 50);
    Headers headers = headers("the champion cannot score this entity");

    // When it is fitted
    DeadLetterHeaders.Fitted fitted = DeadLetterHeaders.fit(key, value, headers, LIMIT);

    // Then the value is emptied, the key cut to its first bytes, and the headers say both
    assertThat(fitted.value()).isEmpty();
    assertThat(fitted.key()).hasSizeBetween(1_040_000, 1_048_399).containsOnly((byte) 'k');
    assertThat(header(headers, DeadLetterHeaders.VALUE_SIZE)).isEqualTo("50");
    assertThat(header(headers, DeadLetterHeaders.KEY_TRUNCATED)).isEqualTo("true");
    assertThat(header(headers, DeadLetterHeaders.KEY_SIZE)).isEqualTo("1048400");
    assertThat(RecordSize.upperBound(fitted.key(), fitted.value(), headers.toArray()))
        .isLessThanOrEqualTo(LIMIT);
  }

  @Test
  void shouldCutALongErrorOnACharacterBoundaryAndSaySo() {
    // Given an error of 20,000 two-byte characters
    Headers headers = headers("\u00e9".repeat(20_000));

    // When a small dead letter is fitted
    DeadLetterHeaders.fit(bytes('k', 1), bytes('v', 1), headers, LIMIT);

    // Then its error keeps its first characters, whole, and ends with the mark
    byte[] error = headers.lastHeader(DeadLetterHeaders.ERROR).value();
    assertThat(error.length).isLessThanOrEqualTo(DeadLetterHeaders.MAX_ERROR_BYTES);
    String text = new String(error, StandardCharsets.UTF_8);
    assertThat(text).endsWith(" [cut]").doesNotContain("\ufffd");
    assertThat(text.replace(" [cut]", "")).hasSizeGreaterThan(8_000).matches("\u00e9+");
    assertThat(headers.headers(DeadLetterHeaders.ERROR)).hasSize(1);
  }

  @Test
  void shouldDropTheCopiedHeadersWhenTheyAloneLeaveTheDeadLetterTooLarge() {
    // Given a record a producer accepted, whose own headers take nearly all of max.request.size
    byte[] key = bytes('k', 10);
    byte[] value = bytes('v', 50);
    Headers headers = headers("cannot read the value");
    headers.add("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        .getBytes(StandardCharsets.UTF_8));
    headers.add("blob", bytes('h', 1_048_400));

    // When it is fitted
    DeadLetterHeaders.Fitted fitted = DeadLetterHeaders.fit(key, value, headers, LIMIT);

    // Then it fits, the large header is dropped and the headers say so and how much
    assertThat(RecordSize.upperBound(fitted.key(), fitted.value(), headers.toArray()))
        .isLessThanOrEqualTo(LIMIT);
    assertThat(headers.lastHeader("blob")).isNull();
    assertThat(header(headers, DeadLetterHeaders.HEADERS_TRUNCATED)).isEqualTo("true");
    assertThat(header(headers, DeadLetterHeaders.HEADERS_DROPPED)).isEqualTo("1");
    assertThat(Integer.parseInt(header(headers, DeadLetterHeaders.HEADERS_DROPPED_SIZE)))
        .isBetween(1_048_404, 1_048_420);
    // And the reason, Flywheel's other headers, the small header, key and value are kept whole
    assertThat(header(headers, DeadLetterHeaders.ERROR)).isEqualTo("cannot read the value");
    assertThat(header(headers, DeadLetterHeaders.ORIGIN)).isEqualTo("flywheel.features/0/41");
    assertThat(header(headers, DeadLetterHeaders.PROCESSOR)).isEqualTo("flywheel-serving");
    assertThat(header(headers, "traceparent")).startsWith("00-4bf92f35");
    assertThat(fitted.key()).isSameAs(key);
    assertThat(fitted.value()).isSameAs(value);
    assertThat(headers.lastHeader(DeadLetterHeaders.VALUE_TRUNCATED)).isNull();
    assertThat(headers.lastHeader(DeadLetterHeaders.KEY_TRUNCATED)).isNull();
  }

  @Test
  void shouldDropTheLargestCopiedHeadersFirstAndNoMoreThanTheDeadLetterNeeds() {
    // Given copied headers of 300, 500 and 400 KB, 1.2 MB together
    Headers headers = headers("cannot read the value");
    headers.add("c", bytes('c', 300_000));
    headers.add("a", bytes('a', 500_000));
    headers.add("b", bytes('b', 400_000));

    // When a dead letter of a small key and value is fitted
    DeadLetterHeaders.Fitted fitted =
        DeadLetterHeaders.fit(bytes('k', 10), bytes('v', 50), headers, LIMIT);

    // Then only the largest one is dropped, and the others keep their order
    assertThat(headers.toArray()).extracting(h -> h.key()).filteredOn(n -> n.length() == 1)
        .containsExactly("c", "b");
    assertThat(header(headers, DeadLetterHeaders.HEADERS_DROPPED)).isEqualTo("1");
    assertThat(fitted.value()).hasSize(50);
    assertThat(RecordSize.upperBound(fitted.key(), fitted.value(), headers.toArray()))
        .isLessThanOrEqualTo(LIMIT);
  }

  @Test
  void shouldKeepTheCopiedHeadersWholeWhenCuttingTheValueIsEnough() {
    // Given a record with 500 KB of its own headers and a 1 MB value
    Headers headers = headers("cannot read the value");
    byte[] blob = bytes('h', 500_000);
    headers.add("blob", blob);

    // When it is fitted
    DeadLetterHeaders.Fitted fitted =
        DeadLetterHeaders.fit(bytes('k', 10), bytes('v', 1_000_000), headers, LIMIT);

    // Then the value is cut and the headers are copied unchanged
    assertThat(headers.lastHeader("blob").value()).isSameAs(blob);
    assertThat(headers.lastHeader(DeadLetterHeaders.HEADERS_TRUNCATED)).isNull();
    assertThat(header(headers, DeadLetterHeaders.VALUE_TRUNCATED)).isEqualTo("true");
    assertThat(fitted.value().length).isBetween(540_000, 1_048_576 - 500_000);
    assertThat(RecordSize.upperBound(fitted.key(), fitted.value(), headers.toArray()))
        .isLessThanOrEqualTo(LIMIT);
  }

  private static Headers headers(String error) {
    return DeadLetterHeaders.ofRecord(error, IllegalArgumentException.class.getName(),
        "flywheel-serving", null, "flywheel.features", 0, 41, 1_700_000_000_000L);
  }

  private static String header(Headers headers, String name) {
    return new String(headers.lastHeader(name).value(), StandardCharsets.UTF_8);
  }

  private static byte[] bytes(char c, int length) {
    byte[] bytes = new byte[length];
    Arrays.fill(bytes, (byte) c);
    return bytes;
  }
}
