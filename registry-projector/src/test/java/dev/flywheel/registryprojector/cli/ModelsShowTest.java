package dev.flywheel.registryprojector.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code flywheel models show <model> <version>}: the card as text, JSON, or Markdown. */
class ModelsShowTest {

  private static final String CARD = "# fraud v1\n\n| metric | value |\n|---|---|\n| auc | 0.91 |";

  private HttpServer registry;
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @BeforeEach
  void startRegistry() throws Exception {
    registry = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    registry.createContext("/models/fraud/versions/1/card", exchange -> {
      String query = exchange.getRequestURI().getQuery();
      boolean markdown = query != null && query.contains("format=markdown");
      byte[] body = (markdown ? CARD : "{\"model\":\"fraud\",\"version\":1}")
          .getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("Content-Type",
          markdown ? "text/markdown" : "application/json");
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream o = exchange.getResponseBody()) {
        o.write(body);
      }
    });
    registry.start();
  }

  @AfterEach
  void stopRegistry() {
    registry.stop(0);
  }

  @Test
  void shouldPrintAVersionsCardAsReadableTextUnlessJsonIsAskedFor() {
    // When a version is shown without --json, then with it
    int text = show("fraud", "1");
    String asText = out.toString();
    out.getBuffer().setLength(0);
    int json = show("fraud", "1", "--json");

    // Then the first is the card as text, ending its last line; the second the API's JSON
    assertThat(text).isZero();
    assertThat(asText).isEqualTo(CARD + System.lineSeparator());
    assertThat(json).isZero();
    assertThat(out.toString()).contains("\"version\" : 1").doesNotContain("# fraud v1");
  }

  @Test
  void shouldRefuseMarkdownWithoutAVersionSayingToGiveOne() {
    // When --markdown is given without a version
    int status = show("fraud", "--markdown");

    // Then it is a usage error that says a version is needed
    assertThat(status).isEqualTo(2);
    assertThat(err.toString()).contains("give the version")
        .contains("flywheel models show fraud 1 --markdown");
  }

  private int show(String... args) {
    String[] all = new String[args.length + 3];
    all[0] = "show";
    System.arraycopy(args, 0, all, 1, args.length);
    all[args.length + 1] = "--url";
    all[args.length + 2] = "http://127.0.0.1:" + registry.getAddress().getPort();
    return new CommandLine(new ModelsCommand()).setOut(new PrintWriter(out, true))
        .setErr(new PrintWriter(err, true)).execute(all);
  }
}
