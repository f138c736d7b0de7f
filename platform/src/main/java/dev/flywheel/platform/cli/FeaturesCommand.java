package dev.flywheel.platform.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flywheel.featurestreams.lookup.FeatureClient;
import dev.flywheel.featurestreams.lookup.FeatureLookupException;
import dev.flywheel.featurestreams.lookup.FeatureValues;
import dev.flywheel.featurestreams.lookup.UnknownGroupException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code flywheel features get <group> <entity>}: one entity's online features. */
@Command(name = "features", mixinStandardHelpOptions = true,
    description = "Read online features from the running platform's lookup.",
    subcommands = {FeaturesCommand.Get.class})
public final class FeaturesCommand implements Runnable {

  /** Exit status when the feature group is unknown to the lookup. */
  public static final int EXIT_UNKNOWN_GROUP = 2;

  /** Exit status when an option is wrong, such as a {@code --url} that is not http(s). */
  public static final int EXIT_USAGE = 2;

  /** Exit status when the lookup cannot answer. */
  public static final int EXIT_UNAVAILABLE = 1;

  @Spec private CommandSpec spec;

  /** Used by picocli. */
  public FeaturesCommand() {}

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /**
   * {@code flywheel features get <group> <entity>} through the lookup HTTP API ({@code GET
   * /features/{group}/{entity}}) with {@link FeatureClient}.
   *
   * <p>Exit status: 0 with the features (found or the group's defaults); {@value
   * #EXIT_UNKNOWN_GROUP} when the group is unknown (the known groups are listed), or {@code --url}
   * is not an http(s) address (saying what to write); {@value
   * #EXIT_UNAVAILABLE} when the lookup cannot be reached or answers an error.
   */
  @Command(name = "get", mixinStandardHelpOptions = true,
      description = "The current features of one entity of one feature group.")
  public static final class Get implements Callable<Integer> {

    @Spec private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "<group>", description = "The feature group.")
    private String group;

    @Parameters(index = "1", paramLabel = "<entity>", description = "The entity id.")
    private String entity;

    @Option(names = "--url", paramLabel = "<url>",
        description = "The lookup's HTTP address (default: ${DEFAULT-VALUE}).")
    private String url = "http://127.0.0.1:8080";

    @Option(names = "--json", description = "Print the answer as JSON.")
    private boolean json;

    @Option(names = "--wait", paramLabel = "<seconds>", defaultValue = "10",
        description = "How long to retry while the lookup is starting or rebalancing"
            + " (default: ${DEFAULT-VALUE}).")
    private long waitSeconds;

    /** Used by picocli. */
    public Get() {}

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      FeatureClient client;
      try {
        client = FeatureClient.builder().url(url)
            .retryUnavailableFor(Duration.ofSeconds(waitSeconds)).build();
      } catch (IllegalArgumentException e) {
        err.println("flywheel features get: --" + e.getMessage() + "; write e.g. --url "
            + (url.contains("://") ? "http://127.0.0.1:8080" : "http://" + url));
        return EXIT_USAGE;
      }
      FeatureValues values;
      try {
        values = client.get(group, entity);
      } catch (UnknownGroupException e) {
        err.println("flywheel features get: " + e.getMessage());
        return EXIT_UNKNOWN_GROUP;
      } catch (FeatureLookupException e) {
        err.println("flywheel features get: " + e.getMessage()
            + "; is the platform running (flywheel up), and is --url its address?");
        return EXIT_UNAVAILABLE;
      }
      if (json) {
        ObjectNode node = RecordDecoder.JSON.createObjectNode();
        node.put("group", values.group());
        node.put("entity", values.entity());
        node.put("found", values.found());
        node.put("asOf", values.asOf() == null ? null : values.asOf().toString());
        node.put("eventId", values.eventId());
        ObjectNode features = node.putObject("features");
        values.features().forEach(features::put);
        ObjectNode categorical = node.putObject("categoricalFeatures");
        values.categoricalFeatures().forEach(categorical::put);
        out.println(node);
        out.flush();
        return 0;
      }
      out.println(values.group() + " / " + values.entity() + ": " + (values.found()
          ? "as of " + values.asOf() + " (event " + values.eventId() + ")"
          : "not in the online store; the group's defaults"));
      int width = 1;
      for (String name : values.features().keySet()) {
        width = Math.max(width, name.length());
      }
      for (String name : values.categoricalFeatures().keySet()) {
        width = Math.max(width, name.length());
      }
      for (Map.Entry<String, Double> f : values.features().entrySet()) {
        out.printf("  %-" + width + "s  %s%n", f.getKey(),
            f.getValue() == null ? "undefined" : number(f.getValue()));
      }
      for (Map.Entry<String, String> f : values.categoricalFeatures().entrySet()) {
        out.printf("  %-" + width + "s  %s%n", f.getKey(),
            f.getValue() == null ? "undefined" : f.getValue());
      }
      out.flush();
      return 0;
    }
  }

  /** A feature value as people read it: a count as {@code 2}, an amount as {@code 12.5}. */
  static String number(double value) {
    if (value == Math.rint(value) && Math.abs(value) < 1e15) {
      return Long.toString((long) value);
    }
    return Double.toString(value);
  }
}
