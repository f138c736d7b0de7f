package dev.flywheel.topics;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.List;
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
}
