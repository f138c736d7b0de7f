package dev.flywheel.devstack.junit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The code a test compiles and runs between {@code // README:BEGIN} and {@code // README:END},
 * as the README shows it, so a test can check the README still carries exactly that code.
 *
 * <pre>{@code
 * assertThat(Files.readString(Path.of("README.md")))
 *     .contains(ReadmeSnippet.of(Path.of("src/test/java/.../ReadmeSnippetTest.java")));
 * }</pre>
 */
public final class ReadmeSnippet {

  private static final String BEGIN = "// README:BEGIN\n";
  private static final String END = "    // README:END";

  private ReadmeSnippet() {}

  /**
   * The lines between the markers of {@code source}, each with the method body's four spaces of
   * indentation taken off.
   *
   * @throws IllegalArgumentException when {@code source} lacks either marker
   */
  public static String of(Path source) throws IOException {
    String text = Files.readString(source);
    int begin = text.indexOf(BEGIN);
    int end = text.indexOf(END);
    if (begin < 0 || end < begin) {
      throw new IllegalArgumentException(source + " has no '// README:BEGIN' ... '// README:END'"
          + " block; mark the code the README shows with them");
    }
    StringBuilder unindented = new StringBuilder();
    text.substring(begin + BEGIN.length(), end).lines()
        .forEach(l -> unindented.append(l.length() >= 4 ? l.substring(4) : l).append('\n'));
    return unindented.toString();
  }
}
