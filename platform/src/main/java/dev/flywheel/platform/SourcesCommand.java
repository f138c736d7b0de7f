package dev.flywheel.platform;

import dev.flywheel.ingest.source.IncompatibleSchemaException;
import dev.flywheel.ingest.source.InvalidSourceException;
import dev.flywheel.ingest.source.SourceCatalog;
import dev.flywheel.ingest.source.SourceDefinition;
import dev.flywheel.platform.cli.CommandClients;
import dev.flywheel.registry.SchemaRegistryException;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.ClusterOptions;
import dev.flywheel.topics.Topics;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.KafkaException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code flywheel sources add <name> --schema F --key K --time T}: adds an ingest source or
 * changes its schema, through {@link SourceCatalog#add}: the registry checks compatibility, the
 * schema is registered under {@code flywheel.data.<name>-value} only if compatible, and the topic
 * and its dead-letter topic are created.
 *
 * <p>Exit status: 0 when added (or unchanged); {@value #EXIT_INCOMPATIBLE} when the registry
 * refused the schema change (the fields that broke compatibility are printed); {@value
 * #EXIT_INVALID} when the schema file, key or time field is invalid; 1 when Kafka or the registry
 * cannot be reached.
 */
@Command(name = "sources", mixinStandardHelpOptions = true,
    description = "Manage ingest sources (a named Avro schema with its key and time fields).",
    subcommands = {SourcesCommand.Add.class})
public final class SourcesCommand implements Runnable {

  /** Exit status when the registry refuses the schema as incompatible. */
  public static final int EXIT_INCOMPATIBLE = 4;

  /** Exit status when the schema file, name, key or time field is invalid. */
  public static final int EXIT_INVALID = 2;

  @Spec private CommandSpec spec;

  /** Used by picocli. */
  public SourcesCommand() {}

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** {@code flywheel sources add}. */
  @Command(name = "add", mixinStandardHelpOptions = true,
      description = {"Add a source, or change its schema if the registry accepts it as compatible.",
          "Registers the schema under flywheel.data.<name>-value and creates the topic."})
  public static final class Add implements Callable<Integer> {

    @Spec private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "<name>", description = "The source name, e.g. card-tx.")
    private String name;

    @Option(names = "--schema", required = true, paramLabel = "<file.avsc>",
        description = "The Avro record schema of the source's events.")
    private Path schemaFile;

    @Option(names = "--key", required = true, paramLabel = "<field>",
        description = "The field that keys the records (string, int, long or enum).")
    private String key;

    @Option(names = "--time", required = true, paramLabel = "<field>",
        description = "The event-time field (long timestamp-millis/-micros or epoch millis).")
    private String time;

    @Mixin private ClusterOptions cluster;

    /** Used by picocli. */
    public Add() {}

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      Schema schema;
      try {
        schema = new Schema.Parser().parse(Files.readString(schemaFile));
      } catch (IOException e) {
        err.println("flywheel sources add: cannot read " + schemaFile + ": " + e.getMessage());
        return EXIT_INVALID;
      } catch (AvroRuntimeException e) {
        // SchemaParseException, or AvroTypeException for a default its field's type cannot hold
        err.println("flywheel sources add: " + schemaFile + " is not a valid Avro schema: "
            + e.getMessage());
        return EXIT_INVALID;
      }
      SourceDefinition source;
      try {
        source = SourceDefinition.builder(name).schema(schema).keyField(key).timeField(time)
            .build();
      } catch (InvalidSourceException e) {
        e.problems().forEach(p -> err.println("flywheel sources add: " + p));
        return EXIT_INVALID;
      }
      AvroSerdes serdes = cluster.serdes();
      Topics topics = cluster.topics(serdes);
      try (Admin admin = Admin.create(CommandClients.admin(cluster))) {
        SourceCatalog.Registration added = new SourceCatalog(topics, serdes.client(), admin)
            .add(source);
        out.println("source '" + name + "': " + added.subject() + " version " + added.version()
            + " (schema id " + added.schemaId() + "), topic " + added.topic()
            + (added.topicCreated() ? " created" : "") + ", key " + key + ", time " + time);
        return 0;
      } catch (IncompatibleSchemaException e) {
        err.println("flywheel sources add: the registry refused the new schema of '" + name
            + "': " + (e.fields().isEmpty() ? "it is incompatible"
                : "field(s) " + String.join(", ", e.fields()) + " broke compatibility"));
        e.registryMessages().forEach(m -> err.println("  " + m));
        return EXIT_INCOMPATIBLE;
      } catch (SchemaRegistryException e) {
        err.println("flywheel sources add: the schema registry at " + cluster.schemaRegistryUrl()
            + " failed: " + e.getMessage());
        return 1;
      } catch (KafkaException | IllegalStateException e) {
        err.println("flywheel sources add: cannot create the topics on "
            + cluster.bootstrapServers() + ": " + e.getMessage());
        return 1;
      }
    }
  }
}
