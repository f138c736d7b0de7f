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
    // set on the root before executing, so every subcommand shares these two writers
    CommandLine cli = new CommandLine(new FlywheelCli()).setOut(stdout).setErr(stderr);
    try {
      return cli.execute(args);
    } finally {
      stdout.flush();
      stderr.flush();
    }
  }
}
