package dev.flywheel.platform;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The {@code flywheel} entry point: its output, and how its commands describe themselves. */
class FlywheelCliTest {

  @Test
  void shouldPrintTheMarkdownCardEvenWhenItDoesNotEndWithALineBreak() throws Exception {
    // Given a registry whose Markdown card of fraud v1 ends without a line break
    String card = "# fraud v1\n\n| metric | value |\n|---|---|\n| auc | 0.91 |";
    AtomicReference<String> asked = new AtomicReference<>();
    HttpServer registry = HttpServer.create(
        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    registry.createContext("/models/fraud/versions/1/card", exchange -> {
      asked.set(exchange.getRequestURI().getQuery());
      byte[] body = card.getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("Content-Type", "text/markdown");
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    registry.start();
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();

      // When 'flywheel models show fraud 1 --markdown' runs through the entry point
      int exit = FlywheelCli.execute(new String[] {"models", "show", "fraud", "1", "--markdown",
          "--url", "http://127.0.0.1:" + registry.getAddress().getPort()}, out, err);

      // Then the whole card reaches the output, ending its last line, and the command exits
      // with 0
      assertThat(err.toString(StandardCharsets.UTF_8)).isEmpty();
      assertThat(exit).isZero();
      assertThat(asked.get()).contains("format=markdown");
      assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo(card + System.lineSeparator());
    } finally {
      registry.stop(0);
    }
  }

  @Test
  void shouldSummarizeEveryCommandInOneShortCompleteSentence() {
    // Given every command and subcommand of 'flywheel'
    List<CommandLine> commands = new ArrayList<>();
    collect(new CommandLine(new FlywheelCli()), commands);

    // Then each one's summary (what 'flywheel --help' lists) is one short, whole sentence, and
    // each paragraph of its description ends a sentence (none is cut mid-sentence)
    assertThat(commands).hasSizeGreaterThan(12);
    for (CommandLine command : commands) {
      String name = command.getCommandSpec().qualifiedName();
      String[] description = command.getCommandSpec().usageMessage().description();
      assertThat(description).as(name + " has no description").isNotEmpty();
      assertThat(description[0]).as(name + "'s summary: a short sentence (80 characters at"
          + " most) that 'flywheel --help' shows whole").hasSizeLessThanOrEqualTo(80);
      for (String paragraph : description) {
        assertThat(paragraph).as(name + ": every description line is a whole sentence or"
            + " paragraph (picocli wraps it); do not split a sentence over two lines")
            .matches("(?s)[A-Z'].*[.!?]");
      }
    }
  }

  @Test
  void shouldListEveryCommandWithItsWholeSummaryInTheTopLevelHelp() {
    // When 'flywheel --help' prints the commands
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    FlywheelCli.execute(new String[] {"--help"}, out, new ByteArrayOutputStream());

    // Then the summaries that used to be cut off are whole sentences
    String help = out.toString(StandardCharsets.UTF_8).replaceAll("\\s+", " ");
    assertThat(help)
        .contains("up Start the embedded stack and every service of flywheel.yaml, until Ctrl-C.")
        .contains("produce Produce a JSON Lines or CSV file to a source's topic or the labels"
            + " topic.")
        .contains("lineage Trace a prediction back to the source event it scored.")
        .contains("demo Run the fraud-detection example end to end and watch the loop close.");
  }

  private static void collect(CommandLine command, List<CommandLine> into) {
    into.add(command);
    for (CommandLine sub : command.getSubcommands().values()) {
      collect(sub, into);
    }
  }
}
