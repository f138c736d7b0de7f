package dev.flywheel.platform;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * How {@code flywheel} reports a command that fails: one line naming the command and what went
 * wrong, exit 2 when the user gave a wrong value (so a supervisor does not retry a typo), 1 when
 * the command could not run; no stack trace.
 */
class CliFailureMessagesTest {

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @Test
  void shouldReportAnUnexpectedFailureAsOneLineWithItsRootCauseAndExitOne() {
    // Given a command that fails with an exception no one catches
    CommandLine cli = withCommand(new Exploding(new IllegalStateException("cannot do it",
        new java.io.IOException("disk full"))));

    // When it runs
    int exit = cli.execute("explode");

    // Then it says which command failed, why and the root cause, without a stack trace
    assertThat(exit).isEqualTo(1);
    assertThat(err.toString().trim()).isEqualTo("flywheel explode: cannot do it (disk full)");
  }

  @Test
  void shouldReportAnIllegalArgumentThrownWhileRunningAsAFailureWithExitOne() {
    // Given a command that fails with an IllegalArgumentException while it runs (after it may
    // have written something: only a refusal before anything starts is a usage error)
    CommandLine cli = withCommand(new Exploding(new IllegalArgumentException("--x must be 1")));

    // When it runs
    int exit = cli.execute("explode");

    // Then it exits with 1, so that a script does not take it for input refused before any effect
    assertThat(exit).isEqualTo(1);
    assertThat(err.toString().trim()).isEqualTo("flywheel explode: --x must be 1");
  }

  @Test
  void shouldNameTheClassOfAFailureWithoutMessage() {
    // Given a command that fails with an exception without message
    CommandLine cli = withCommand(new Exploding(new java.net.ConnectException()));

    // When it runs
    int exit = cli.execute("explode");

    // Then the class stands in for the message
    assertThat(exit).isEqualTo(1);
    assertThat(err.toString().trim()).isEqualTo("flywheel explode: java.net.ConnectException");
  }

  @Test
  void shouldSayWhatToWriteWhenTopicsIsGivenBootstrapServersThatDoNotResolve() {
    // When 'flywheel topics' is given a broker address that does not resolve
    int exit = flywheel("topics", "--bootstrap-servers", "no-such-host.invalid:9092");

    // Then it exits with 2 naming the value and what to write, without a stack trace
    assertThat(exit).isEqualTo(2);
    assertThat(err.toString()).startsWith("flywheel topics: cannot use --bootstrap-servers"
            + " 'no-such-host.invalid:9092'")
        .contains("--bootstrap-servers 127.0.0.1:9092")
        .doesNotContain("\tat ");
  }

  @Test
  void shouldSayWhatToWriteWhenFeaturesGetIsGivenAUrlWithoutScheme() {
    // When 'flywheel features get' is given an address without http://
    int exit = flywheel("features", "get", "card_activity", "card-7", "--url", "127.0.0.1:8080");

    // Then it exits with 2 saying what to write, without a stack trace
    assertThat(exit).isEqualTo(2);
    assertThat(err.toString()).startsWith("flywheel features get: --url must be")
        .contains("write e.g. --url http://127.0.0.1:8080")
        .doesNotContain("\tat ");
  }

  /** The flywheel command line with {@code command} added as 'explode', writing to out and err. */
  private CommandLine withCommand(Exploding command) {
    CommandLine cli = FlywheelCli.commandLine(new PrintWriter(out, true),
        new PrintWriter(err, true));
    cli.addSubcommand("explode", command);
    // writers set on the root reach the subcommands it has at the time
    return cli.setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true));
  }

  private int flywheel(String... args) {
    return FlywheelCli.commandLine(new PrintWriter(out, true), new PrintWriter(err, true))
        .execute(args);
  }

  @Command(name = "explode", description = "Fails.")
  static final class Exploding implements Callable<Integer> {
    private final Exception failure;

    Exploding(Exception failure) {
      this.failure = failure;
    }

    @Override
    public Integer call() throws Exception {
      throw failure;
    }
  }
}
