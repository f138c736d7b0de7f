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
 *
 * <p>A test may mark several blocks: the README then shows them one after the other, without the
 * test's own lines between them (a wait for a result the README's reader would just print, say).
 */
public final class ReadmeSnippet {

  private static final String BEGIN = "// README:BEGIN";
  private static final String END = "// README:END";

  private ReadmeSnippet() {}

  /**
   * The lines of every marked block of {@code source}, in order, each with the method body's four
   * spaces of indentation taken off.
   *
   * @throws IllegalArgumentException when {@code source} has no complete block
   */
  public static String of(Path source) throws IOException {
    return of(source, 4);
  }

  /**
   * The lines of every marked block of {@code source}, in order, each with {@code indent} spaces
   * of indentation taken off (fewer when the line has fewer).
   *
   * @throws IllegalArgumentException when {@code source} has no block, or a block is not closed
   */
  public static String of(Path source, int indent) throws IOException {
    StringBuilder snippet = new StringBuilder();
    boolean inside = false;
    int blocks = 0;
    for (String line : Files.readAllLines(source)) {
      String marker = line.strip();
      if (marker.equals(BEGIN)) {
        inside = true;
      } else if (marker.equals(END)) {
        inside = false;
        blocks++;
      } else if (inside) {
        int spaces = 0;
        while (spaces < indent && spaces < line.length() && line.charAt(spaces) == ' ') {
          spaces++;
        }
        snippet.append(line, spaces, line.length()).append('\n');
      }
    }
    if (blocks == 0 || inside) {
      throw new IllegalArgumentException(source + " has no complete '// README:BEGIN' ... '//"
          + " README:END' block; mark the code the README shows with them");
    }
    return snippet.toString();
  }
}
