package dev.flywheel.platform;

import dev.flywheel.registryprojector.cli.ModelsCommand;
import dev.flywheel.trainingtrigger.TrainCommand;
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
    System.exit(new CommandLine(new FlywheelCli()).execute(args));
  }
}
