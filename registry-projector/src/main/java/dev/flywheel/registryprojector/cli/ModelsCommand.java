package dev.flywheel.registryprojector.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flywheel.events.ApproveVersion;
import dev.flywheel.events.ArchiveVersion;
import dev.flywheel.events.PromoteVersion;
import dev.flywheel.events.RejectVersion;
import dev.flywheel.events.RollbackAlias;
import dev.flywheel.events.UnarchiveVersion;
import dev.flywheel.registryprojector.RegistryJson;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code flywheel models list|show|history|promote|approve|rollback|archive}: the model registry
 * from the command line. Queries go to the registry's HTTP API ({@code --url}); changes are sent
 * as {@code RegistryCommand}s to Kafka and the command waits for the registry's decision.
 *
 * <p>Exit status: 0 done (or accepted); {@value #EXIT_REJECTED} the registry rejected the command
 * (the reason says what to do), a change naming a model or version that does not exist included;
 * 3 a query ({@code list}, {@code show}, {@code history}) naming an unknown model, version or
 * alias; 5 no decision within {@code --timeout}; {@value #EXIT_DECISION_UNKNOWN} the command was
 * sent but the registry could not be asked for its decision (see {@code flywheel models history}
 * before sending it again); 1 the registry or Kafka cannot be reached (a change is then not sent);
 * 2 bad usage, such as a {@code --url} that is not an http(s) address.
 */
@Command(name = "models", mixinStandardHelpOptions = true,
    description = "The model registry: versions, aliases, approvals, history and model cards.",
    subcommands = {ModelsCommand.ListModels.class, ModelsCommand.Show.class,
        ModelsCommand.History.class, ModelsCommand.Promote.class, ModelsCommand.Approve.class,
        ModelsCommand.Rollback.class, ModelsCommand.Archive.class})
public final class ModelsCommand implements Runnable {

  /** Exit status when the registry rejected the command. */
  public static final int EXIT_REJECTED = 4;

  /** Exit status when no decision arrived in time. */
  public static final int EXIT_NO_DECISION = 5;

  /**
   * Exit status when the command was sent but its decision could not be learnt (the registry
   * stopped answering): it may have been applied, so it must not simply be sent again.
   */
  public static final int EXIT_DECISION_UNKNOWN = 6;

  @Spec private CommandSpec spec;

  /** Used by picocli. */
  public ModelsCommand() {}

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** Base of the subcommands: connection options, output, error handling. */
  abstract static class Base implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ConnectionOptions connection;
    /** Makes the command's client; tests replace it. */
    java.util.function.Function<ConnectionOptions, RegistryClient> clients = RegistryClient::new;

    @Option(names = "--json", description = "Print the API's JSON instead of text.")
    boolean json;

    @Override
    public final Integer call() {
      try {
        return run(clients.apply(connection), spec.commandLine().getOut());
      } catch (CliException e) {
        spec.commandLine().getErr().println("flywheel models " + spec.name() + ": "
            + e.getMessage());
        return e.exitCode;
      }
    }

    abstract int run(RegistryClient client, PrintWriter out);

    void printJson(PrintWriter out, JsonNode node) {
      try {
        out.println(RegistryJson.MAPPER.writerWithDefaultPrettyPrinter()
            .writeValueAsString(node));
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  /** Base of the commands that change the registry. */
  abstract static class Mutation extends Base {
    @Option(names = "--actor", paramLabel = "<name>",
        description = "Who you are, recorded in the audit history (default: the OS user).")
    String actor = System.getProperty("user.name", "unknown");

    @Option(names = "--role", paramLabel = "<role>",
        description = "A role you hold, checked by approval policies; repeatable.")
    List<String> roles = new ArrayList<>();

    @Option(names = "--reason", paramLabel = "<text>", description = "Why, for the audit history.")
    String reason;

    @Option(names = "--timeout", paramLabel = "<seconds>",
        description = "How long to wait for the registry's decision (default: ${DEFAULT-VALUE}).")
    int timeoutSeconds = 30;

    int sendAndReport(RegistryClient client, PrintWriter out, String model, Object body) {
      // the decision is learnt from the registry: a command it cannot report on is not sent,
      // since a user who retries after an unknown outcome would send it twice
      try {
        client.checkAnswers();
      } catch (CliException e) {
        throw new CliException(e.exitCode, e.getMessage() + "; the command was not sent");
      }
      String id = client.send(model, actor, roles, reason, body);
      JsonNode events;
      try {
        events = client.awaitDecision(model, id, Duration.ofSeconds(timeoutSeconds));
      } catch (CliException e) {
        throw new CliException(e.exitCode == 130 ? 130 : EXIT_DECISION_UNKNOWN,
            decisionUnknown(id, model, e.getMessage()));
      } catch (RuntimeException e) {
        throw new CliException(EXIT_DECISION_UNKNOWN,
            decisionUnknown(id, model, RegistryClient.describe(e)));
      }
      if (events.isEmpty()) {
        throw new CliException(EXIT_NO_DECISION, "command " + id + " was sent but the registry"
            + " decided nothing within " + timeoutSeconds + " s; is the registry projector"
            + " running? See 'flywheel models history " + model + "'");
      }
      if (json) {
        printJson(out, events);
      }
      int status = 0;
      for (JsonNode e : events) {
        boolean accepted = "ACCEPTED".equals(e.get("outcome").asText());
        if (!json) {
          out.println(line(e));
        }
        if (!accepted && e.get("caused_by").isNull()) {
          status = EXIT_REJECTED;
        }
      }
      return status;
    }

    static String decisionUnknown(String id, String model, String why) {
      return "command " + id + " was sent; its decision is unknown: see 'flywheel models history "
          + model + "' before sending it again (" + why + ")";
    }

    static String line(JsonNode e) {
      StringBuilder s = new StringBuilder();
      s.append(e.get("outcome").asText()).append(' ').append(e.get("command_type").asText());
      if (!e.get("alias").isNull()) {
        s.append(' ').append(e.get("alias").asText());
      }
      if (!e.get("version").isNull()) {
        s.append(" v").append(e.get("version").asInt());
      }
      if (!e.get("previous_version").isNull()) {
        s.append(" (was v").append(e.get("previous_version").asInt()).append(')');
      }
      if (!e.get("caused_by").isNull()) {
        s.append(" [automatic]");
      }
      if (!e.get("reason").isNull()) {
        s.append(": ").append(e.get("reason").asText());
      }
      return s.toString();
    }
  }

  /** {@code flywheel models list}. */
  @Command(name = "list", mixinStandardHelpOptions = true,
      description = "List the models with their versions and aliases.")
  static final class ListModels extends Base {
    @Option(names = "--as-of", paramLabel = "<time>",
        description = "As the registry was at this time (ISO-8601 or epoch ms).")
    String asOf;

    @Override
    int run(RegistryClient client, PrintWriter out) {
      JsonNode models = client.getJson("/models", query("asOf", asOf));
      if (json) {
        printJson(out, models);
        return 0;
      }
      out.printf("%-32s %8s %7s  %s%n", "MODEL", "VERSIONS", "LATEST", "ALIASES");
      for (JsonNode m : models) {
        out.printf("%-32s %8d %7s  %s%n", m.get("model").asText(), m.get("versions").asInt(),
            m.get("latest_version").asInt() == 0 ? "-" : "v" + m.get("latest_version").asInt(),
            aliases(m.get("aliases")));
      }
      return 0;
    }
  }

  /**
   * {@code flywheel models show <model> [<version>]}: a model as a table, or one version's model
   * card as the registry renders it in Markdown (readable as text); {@code --json} for the API's
   * JSON of either.
   */
  @Command(name = "show", mixinStandardHelpOptions = true,
      description = {"Show a model (versions, aliases, tags), or one version's model card.",
          "With a version it prints the model card as text (Markdown); --json prints the API's"
              + " JSON instead."})
  static final class Show extends Base {
    @Parameters(index = "0", paramLabel = "<model>") String model;

    @Parameters(index = "1", arity = "0..1", paramLabel = "<version>",
        description = "Show this version's model card.")
    Integer version;

    @Option(names = "--markdown", description = "The model card as Markdown (the default"
        + " with a version); needs a version.")
    boolean markdown;

    @Option(names = "--as-of", paramLabel = "<time>",
        description = "As the registry was at this time (ISO-8601 or epoch ms).")
    String asOf;

    @Override
    int run(RegistryClient client, PrintWriter out) {
      String base = "/models/" + RegistryClient.encode(model);
      if (markdown && version == null) {
        throw new CliException(2, "--markdown prints a version's model card: give the version,"
            + " e.g. 'flywheel models show " + model + " 1 --markdown'");
      }
      if (markdown && json) {
        throw new CliException(2, "--markdown and --json exclude each other: pick one");
      }
      if (version != null) {
        if (json) {
          printJson(out, client.getJson(base + "/versions/" + version + "/card",
              query("asOf", asOf)));
          return 0;
        }
        RegistryClient.Answer a = client.get(base + "/versions/" + version + "/card",
            query("asOf", asOf, "format", "markdown"), "text/markdown");
        if (a.status() != 200) {
          throw new CliException(a.status() == 404 ? 3 : 1, a.error());
        }
        out.print(a.body());
        if (!a.body().endsWith("\n")) {
          out.println();
        }
        out.flush();
        return 0;
      }
      JsonNode m = client.getJson(base, query("asOf", asOf));
      if (json) {
        printJson(out, m);
        return 0;
      }
      out.println(m.get("model").asText() + " (history position " + m.get("sequence").asLong()
          + ", " + m.get("event_time").asText() + ")");
      out.println("aliases: " + (m.get("aliases").isEmpty() ? "none" : ""));
      for (JsonNode a : m.get("aliases")) {
        out.println("  " + a.get("alias").asText() + " -> v" + a.get("version").asInt()
            + " (since " + a.get("assigned_at").asText() + " by "
            + a.get("assigned_by").get("name").asText() + "; before: "
            + a.get("previous_versions") + ")");
      }
      out.printf("%-8s %-9s %-25s %-24s %s%n", "VERSION", "STATUS", "REGISTERED", "RUN",
          "METRICS");
      for (JsonNode v : m.get("versions")) {
        JsonNode lineage = v.get("lineage");
        out.printf("%-8s %-9s %-25s %-24s %s%n", "v" + v.get("version").asInt(),
            v.get("status").asText(), v.get("registered_at").asText(),
            lineage.isNull() || lineage.get("run_id").isNull() ? "-"
                : lineage.get("run_id").asText(), v.get("metrics"));
      }
      if (!m.get("tags").isEmpty()) {
        out.println("tags: " + m.get("tags"));
      }
      return 0;
    }
  }

  /** {@code flywheel models history <model>}. */
  @Command(name = "history", mixinStandardHelpOptions = true,
      description = "The model's audit history: every command, accepted or rejected.")
  static final class History extends Base {
    @Parameters(index = "0", paramLabel = "<model>") String model;

    @Option(names = "--as-of", paramLabel = "<time>",
        description = "Only events up to this time (ISO-8601 or epoch ms).")
    String asOf;

    @Override
    int run(RegistryClient client, PrintWriter out) {
      JsonNode events = client.getJson("/models/" + RegistryClient.encode(model) + "/history",
          query("asOf", asOf));
      if (json) {
        printJson(out, events);
        return 0;
      }
      for (JsonNode e : events) {
        out.printf("%5d %s %-24s %s%n", e.get("sequence").asLong(), e.get("event_time").asText(),
            e.get("actor").get("name").asText(), Mutation.line(e));
      }
      return 0;
    }
  }

  /** {@code flywheel models promote <model> <version> [--alias champion]}. */
  @Command(name = "promote", mixinStandardHelpOptions = true,
      description = "Promote a version to a promotion alias, through the model's policy gates.")
  static final class Promote extends Mutation {
    @Parameters(index = "0", paramLabel = "<model>") String model;
    @Parameters(index = "1", paramLabel = "<version>") int version;

    @Option(names = "--alias", paramLabel = "<alias>",
        description = "The promotion alias (default: ${DEFAULT-VALUE}).")
    String alias = "champion";

    @Override
    int run(RegistryClient client, PrintWriter out) {
      return sendAndReport(client, out, model,
          PromoteVersion.newBuilder().setAlias(alias).setVersion(version).build());
    }
  }

  /** {@code flywheel models approve <model> <version> --alias <alias> [--reject]}. */
  @Command(name = "approve", mixinStandardHelpOptions = true,
      description = "Approve (or, with --reject, reject) a version for an alias that needs it.")
  static final class Approve extends Mutation {
    @Parameters(index = "0", paramLabel = "<model>") String model;
    @Parameters(index = "1", paramLabel = "<version>") int version;

    @Option(names = "--alias", required = true, paramLabel = "<alias>",
        description = "The alias the decision is for.")
    String alias;

    @Option(names = "--comment", paramLabel = "<text>", description = "Your note for the card.")
    String comment;

    @Option(names = "--reject", description = "Reject the version for the alias instead.")
    boolean reject;

    @Override
    int run(RegistryClient client, PrintWriter out) {
      Object body = reject
          ? RejectVersion.newBuilder().setAlias(alias).setVersion(version).setComment(comment)
              .build()
          : ApproveVersion.newBuilder().setAlias(alias).setVersion(version).setComment(comment)
              .build();
      return sendAndReport(client, out, model, body);
    }
  }

  /** {@code flywheel models rollback <model> [--alias champion] [--to <version>]}. */
  @Command(name = "rollback", mixinStandardHelpOptions = true,
      description = "Move an alias back to the version it pointed at before (no policy gates).")
  static final class Rollback extends Mutation {
    @Parameters(index = "0", paramLabel = "<model>") String model;

    @Option(names = "--alias", paramLabel = "<alias>",
        description = "The alias to roll back (default: ${DEFAULT-VALUE}).")
    String alias = "champion";

    @Option(names = "--to", paramLabel = "<version>",
        description = "An earlier version of the alias (default: the one just before).")
    Integer to;

    @Override
    int run(RegistryClient client, PrintWriter out) {
      return sendAndReport(client, out, model,
          RollbackAlias.newBuilder().setAlias(alias).setToVersion(to).build());
    }
  }

  /** {@code flywheel models archive <model> <version> [--undo]}. */
  @Command(name = "archive", mixinStandardHelpOptions = true,
      description = "Archive a version (it keeps its history, receives no alias), or --undo.")
  static final class Archive extends Mutation {
    @Parameters(index = "0", paramLabel = "<model>") String model;
    @Parameters(index = "1", paramLabel = "<version>") int version;

    @Option(names = "--undo", description = "Unarchive the version instead.")
    boolean undo;

    @Override
    int run(RegistryClient client, PrintWriter out) {
      Object body = undo ? UnarchiveVersion.newBuilder().setVersion(version).build()
          : ArchiveVersion.newBuilder().setVersion(version).build();
      return sendAndReport(client, out, model, body);
    }
  }

  static Map<String, String> query(String... kv) {
    Map<String, String> q = new HashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      q.put(kv[i], kv[i + 1]);
    }
    return q;
  }

  static String aliases(JsonNode aliases) {
    List<String> parts = new ArrayList<>();
    Iterator<Map.Entry<String, JsonNode>> it = aliases.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      parts.add(e.getKey() + "=v" + e.getValue().asInt());
    }
    return parts.isEmpty() ? "-" : String.join(", ", parts);
  }
}
