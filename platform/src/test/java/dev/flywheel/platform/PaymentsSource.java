package dev.flywheel.platform;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine;

/**
 * The payments source that {@code ServiceCatalogFixtures.PAYMENTS_AND_CARD_SPEND} declares, added
 * to the shared test cluster with {@code flywheel sources add}, as a user does before {@code
 * flywheel run features}.
 */
final class PaymentsSource {

  private PaymentsSource() {}

  /** Writes the schema to {@code dir/payment.avsc} and adds the source under the test's prefix. */
  static void add(Path dir, Devstack devstack, UniqueNames names) throws IOException {
    Path schema = dir.resolve("payment.avsc");
    Files.writeString(schema, """
        {"type": "record", "name": "Payment", "namespace": "dev.flywheel.test", "fields": [
          {"name": "event_id", "type": "string"},
          {"name": "card_id", "type": "string"},
          {"name": "amount", "type": "double"},
          {"name": "event_time", "type": {"type": "long", "logicalType": "timestamp-millis"}}]}
        """);
    StringWriter err = new StringWriter();
    int added = new CommandLine(new FlywheelCli()).setErr(new PrintWriter(err, true)).execute(
        "sources", "add", "payments", "--schema", schema.toString(), "--key", "card_id",
        "--time", "event_time", "--bootstrap-servers", devstack.bootstrapServers(),
        "--schema-registry-url", devstack.schemaRegistryUrl(), "--prefix", names.prefix());
    assertThat(added).as(err.toString()).isZero();
  }
}
