package dev.flywheel.ingest.file;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Objects;

/**
 * Strict UTF-8 decoding of a file that goes on past bytes that are not UTF-8, so one bad line
 * does not stop the file. Unlike {@code new InputStreamReader(in, UTF_8)}, which silently turns
 * such bytes into U+FFFD ("M\uFFFDller"), {@link #reader} reports them: each byte that cannot be
 * decoded is read as the lone surrogate {@code U+DC00 + byte} (U+DC80 to U+DCFF), a char no valid
 * UTF-8 decodes to. The readers then make the line holding it invalid with {@link #problem}, and
 * {@link #bytes} gives back the line's original bytes for the dead-letter topic.
 */
final class Utf8Input {

  private static final char ESCAPE_BASE = '\uDC00';

  private Utf8Input() {}

  /** A reader of {@code in} as UTF-8 that escapes undecodable bytes; closing it closes {@code in}. */
  static Reader reader(InputStream in) {
    return new EscapingReader(Objects.requireNonNull(in, "in"));
  }

  /**
   * Why {@code text} (a record starting on line {@code firstLine}) is not UTF-8, naming the line
   * and column of its first undecodable byte and what to fix; null when it is all UTF-8.
   */
  static String problem(long firstLine, String text) {
    long line = firstLine;
    int lineStart = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '\n' || (c == '\r' && (i + 1 == text.length() || text.charAt(i + 1) != '\n'))) {
        line++;
        lineStart = i + 1;
      } else if (isEscape(text, i)) {
        return String.format(Locale.ROOT, "line %d is not UTF-8: byte 0x%02X at column %d cannot"
            + " be decoded; save the file as UTF-8 (for example iconv -f LATIN1 -t UTF-8)",
            line, c - ESCAPE_BASE, i - lineStart + 1);
      }
    }
    return null;
  }

  /** The original bytes of {@code text} as read: UTF-8, with escaped bytes given back as they were. */
  static byte[] bytes(String text) {
    boolean escaped = false;
    for (int i = 0; i < text.length() && !escaped; i++) {
      escaped = isEscape(text, i);
    }
    if (!escaped) {
      return text.getBytes(StandardCharsets.UTF_8);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(text.length() + 16);
    int from = 0;
    for (int i = 0; i < text.length(); i++) {
      if (isEscape(text, i)) {
        out.writeBytes(text.substring(from, i).getBytes(StandardCharsets.UTF_8));
        out.write(text.charAt(i) - ESCAPE_BASE);
        from = i + 1;
      }
    }
    out.writeBytes(text.substring(from).getBytes(StandardCharsets.UTF_8));
    return out.toByteArray();
  }

  /** Whether the char at {@code i} is an escaped byte: a lone low surrogate in U+DC80..U+DCFF. */
  private static boolean isEscape(String text, int i) {
    char c = text.charAt(i);
    return c >= '\uDC80' && c <= '\uDCFF'
        && (i == 0 || !Character.isHighSurrogate(text.charAt(i - 1)));
  }

  private static final class EscapingReader extends Reader {
    private final InputStream in;
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    private final ByteBuffer bytes = ByteBuffer.allocate(FileFormat.BUFFER_CHARS);
    private final CharBuffer chars = CharBuffer.allocate(FileFormat.BUFFER_CHARS);
    private boolean endOfInput;
    private boolean flushed;

    EscapingReader(InputStream in) {
      this.in = in;
      bytes.flip(); // empty, ready to read
      chars.flip();
    }

    @Override
    public int read(char[] target, int offset, int length) throws IOException {
      Objects.checkFromIndexSize(offset, length, target.length);
      if (length == 0) {
        return 0;
      }
      while (!chars.hasRemaining()) {
        if (flushed) {
          return -1;
        }
        decodeMore();
      }
      int n = Math.min(length, chars.remaining());
      chars.get(target, offset, n);
      return n;
    }

    /** Decodes at least one more char into {@code chars}, or reaches the end. */
    private void decodeMore() throws IOException {
      chars.clear();
      try {
        while (chars.position() == 0 && !flushed) {
          CoderResult result = decoder.decode(bytes, chars, endOfInput);
          if (result.isError()) {
            for (int i = 0; i < result.length(); i++) {
              if (!chars.hasRemaining()) {
                break; // the rest of the bad sequence is reported again on the next call
              }
              chars.put((char) (ESCAPE_BASE + (bytes.get() & 0xFF)));
            }
          } else if (result.isUnderflow()) {
            if (endOfInput) {
              decoder.flush(chars);
              flushed = true;
            } else if (chars.position() == 0) {
              fill();
            }
          }
          // overflow: chars is full, hand it over
        }
      } finally {
        chars.flip();
      }
    }

    private void fill() throws IOException {
      bytes.compact();
      int n;
      do {
        n = in.read(bytes.array(), bytes.position(), bytes.remaining());
      } while (n == 0);
      if (n < 0) {
        endOfInput = true;
      } else {
        bytes.position(bytes.position() + n);
      }
      bytes.flip();
    }

    @Override
    public void close() throws IOException {
      in.close();
    }
  }
}
