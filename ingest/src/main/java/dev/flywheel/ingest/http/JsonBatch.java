package dev.flywheel.ingest.http;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits a request body into JSON records: {@code application/json} holds one object or an array
 * of them, {@code application/x-ndjson} one JSON value per line (blank lines skipped). Malformed
 * input raises {@link MalformedBodyException} with the line and column of the problem.
 */
final class JsonBatch {

  /**
   * One record of a batch: its 0-based index, its line (from 1; 0 when the body is one JSON
   * document), its JSON value and its text as received (NDJSON) or as re-serialized (an element
   * of a JSON array), for the dead-letter topic.
   */
  record Item(int index, long line, JsonNode json, String text) {}

  /** The body is not well-formed JSON (or NDJSON); line and column are 1-based. */
  static final class MalformedBodyException extends Exception {
    final long line;
    final long column;

    MalformedBodyException(String message, long line, long column) {
      super(message);
      this.line = line;
      this.column = column;
    }
  }

  /**
   * Keeps JSON numbers exact, as the file producer does: a fraction is read as a BigDecimal, not
   * rounded to a double ({@code 12345678901234567.89} stays that for a decimal(20,2) field).
   * Integers need no switch: Jackson reads them as int, long or BigInteger as they fit.
   */
  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

  private JsonBatch() {}

  static List<Item> parseJson(byte[] body) throws MalformedBodyException {
    String text = utf8(body);
    try (JsonParser parser = JSON.createParser(text)) {
      JsonNode root = JSON.readTree(parser);
      if (root == null) {
        throw new MalformedBodyException("the body is empty", 1, 1);
      }
      JsonToken trailing = parser.nextToken();
      if (trailing != null) {
        JsonLocation at = parser.currentTokenLocation();
        throw new MalformedBodyException("unexpected content after the JSON value; send one object,"
            + " one array, or use application/x-ndjson", at.getLineNr(), at.getColumnNr());
      }
      List<Item> items = new ArrayList<>();
      if (root.isArray()) {
        for (int i = 0; i < root.size(); i++) {
          items.add(new Item(i, 0, root.get(i), root.get(i).toString()));
        }
      } else {
        items.add(new Item(0, 0, root, text));
      }
      return items;
    } catch (JsonProcessingException e) {
      JsonLocation at = e.getLocation();
      throw new MalformedBodyException("malformed JSON: " + e.getOriginalMessage(),
          at == null ? 0 : at.getLineNr(), at == null ? 0 : at.getColumnNr());
    } catch (IOException e) {
      throw new MalformedBodyException("cannot read the body: " + e.getMessage(), 0, 0);
    }
  }

  static List<Item> parseNdjson(byte[] body) throws MalformedBodyException {
    String text = utf8(body);
    List<Item> items = new ArrayList<>();
    long lineNumber = 0;
    int start = 0;
    while (start <= text.length()) {
      int end = text.indexOf('\n', start);
      String line = end < 0 ? text.substring(start) : text.substring(start, end);
      lineNumber++;
      if (!line.isBlank()) {
        try (JsonParser parser = JSON.createParser(line)) {
          JsonNode node = JSON.readTree(parser);
          JsonToken trailing = parser.nextToken();
          if (trailing != null) {
            throw new MalformedBodyException("line " + lineNumber + " holds more than one JSON"
                + " value", lineNumber, parser.currentTokenLocation().getColumnNr());
          }
          items.add(new Item(items.size(), lineNumber, node, line.strip()));
        } catch (JsonProcessingException e) {
          throw new MalformedBodyException("malformed JSON on line " + lineNumber + ": "
              + e.getOriginalMessage(), lineNumber,
              e.getLocation() == null ? 0 : e.getLocation().getColumnNr());
        } catch (IOException e) {
          throw new MalformedBodyException("cannot read line " + lineNumber + ": "
              + e.getMessage(), lineNumber, 0);
        }
      }
      if (end < 0) {
        break;
      }
      start = end + 1;
    }
    if (items.isEmpty()) {
      throw new MalformedBodyException("the body holds no records", 1, 1);
    }
    return items;
  }

  private static String utf8(byte[] body) throws MalformedBodyException {
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(body)).toString();
    } catch (CharacterCodingException e) {
      throw new MalformedBodyException("the body is not UTF-8 text", 0, 0);
    }
  }
}
