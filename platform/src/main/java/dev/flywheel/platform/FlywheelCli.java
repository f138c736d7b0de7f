package dev.flywheel.platform;

import dev.flywheel.registryprojector.cli.ModelsCommand;
import dev.flywheel.trainingtrigger.TrainCommand;
import java.io.OutputStream;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code flywheel} command line. */
@Command(name = "flywheel", mixinStandardHelpOptions = true, version = "flywheel 0.1.0-SNAPSHOT",
    description = "An event-driven ML platform on Apache Kafka.",
    subcommands = {
        // one command a line, so commands added side by side merge cleanly
        UpCommand.class,
        RunCommand.class,
        ProduceCommand.class,
        SourcesCommand.class,
        ModelsCommand.class,
        TrainCommand.class,
        dev.flywheel.platform.cli.WatchCommand.class,
        dev.flywheel.platform.cli.TopicsCommand.class,
        dev.flywheel.platform.cli.StatusCommand.class,
        dev.flywheel.platform.cli.FeaturesCommand.class,
        dev.flywheel.platform.cli.LineageCommand.class,
        dev.flywheel.platform.demo.DemoCommand.class,
    })
public final class FlywheelCli implements Runnable {

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }

  public static void main(String[] args) {
    System.exit(execute(args, System.out, System.err));
  }

  /**
   * Runs the command line with its output on {@code out} and {@code err}, both flushed before it
   * returns: a command may print without a line break ({@code models show --markdown} prints the
   * card as the registry wrote it), and what is left in a writer's buffer when the JVM exits is
   * lost.
   *
   * @return the command's exit status
   */
  static int execute(String[] args, OutputStream out, OutputStream err) {
    PrintWriter stdout = new PrintWriter(out, true);
    PrintWriter stderr = new PrintWriter(err, true);
    try {
      return commandLine(stdout, stderr).execute(args);
    } finally {
      stdout.flush();
      stderr.flush();
    }
  }

  /** The command line, writing to {@code out} and {@code err}, reporting failures as messages. */
  static CommandLine commandLine(PrintWriter out, PrintWriter err) {
    // set on the root before executing, so every subcommand shares these writers and handler
    return new CommandLine(new FlywheelCli()).setOut(out).setErr(err)
        .setExecutionExceptionHandler(FlywheelCli::reportFailure);
  }

  /**
   * What a command that threw prints: {@code flywheel <command>: <message> (<root cause>)}, the
   * stack trace only with {@value #DEBUG_ENV} set; exit 2 for a {@link
   * CommandLine.ParameterException} (input refused before anything started), 1 otherwise: an
   * {@link IllegalArgumentException} thrown while a command runs may follow a side effect (a
   * request written), so it is not reported as a usage error a script could retry.
   */
  static int reportFailure(Exception e, CommandLine command, CommandLine.ParseResult parsed) {
    PrintWriter err = command.getErr();
    err.println(command.getCommandSpec().qualifiedName(" ") + ": " + describe(e));
    if (debug()) {
      e.printStackTrace(err);
    }
    err.flush();
    boolean badInput = e instanceof CommandLine.ParameterException;
    return badInput ? command.getCommandSpec().exitCodeOnInvalidInput()
        : command.getCommandSpec().exitCodeOnExecutionException();
  }

  /** The environment variable that, set to anything but {@code 0} or empty, adds stack traces. */
  public static final String DEBUG_ENV = "FLYWHEEL_DEBUG";

  private static boolean debug() {
    String value = System.getenv(DEBUG_ENV);
    return value != null && !value.isBlank() && !"0".equals(value.trim());
  }

  /** A throwable's message (its class when it has none), with its root cause's when different. */
  static String describe(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String text = e.getMessage() != null && !e.getMessage().isBlank() ? e.getMessage()
        : e.getClass().getName();
    if (root != e) {
      String cause = root.getMessage() != null && !root.getMessage().isBlank()
          ? root.getMessage() : root.getClass().getName();
      if (!text.contains(cause)) {
        text += " (" + cause + ")";
      }
    }
    return text;
  }
}
