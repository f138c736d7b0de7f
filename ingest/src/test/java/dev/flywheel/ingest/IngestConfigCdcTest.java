package dev.flywheel.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flywheel.ingest.cdc.CdcTable;
import dev.flywheel.ingest.cdc.DeleteMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class IngestConfigCdcTest {

  private static final String FULL = """
      cdc:
        host: db.internal
        port: 6543
        database: shop
        user: flywheel
        password: from-yaml
        name: shop-cdc
        slot: shop_slot
        publication: shop_pub
        deleteMode: delete-event
        snapshotMode: no_data
        tables:
          - table: public.orders
            source: orders
          - table: customers
            source: customers
        debezium:
          heartbeat.interval.ms: 10000
          max.batch.size: "512"
      """;

  @Test
  void shouldReadEveryCdcSetting() {
    // When a full cdc section is parsed
    IngestConfig.Cdc cdc = IngestConfig.parse(FULL).cdcConfig().orElseThrow();

    // Then every setting is read, table names qualified and Debezium properties kept as text
    assertThat(cdc.host()).isEqualTo("db.internal");
    assertThat(cdc.port()).isEqualTo(6543);
    assertThat(cdc.database()).isEqualTo("shop");
    assertThat(cdc.user()).isEqualTo("flywheel");
    assertThat(cdc.name()).isEqualTo("shop-cdc");
    assertThat(cdc.slot()).isEqualTo("shop_slot");
    assertThat(cdc.publication()).isEqualTo("shop_pub");
    assertThat(cdc.deleteMode()).isEqualTo(DeleteMode.DELETE_EVENT);
    assertThat(cdc.snapshotMode()).isEqualTo("no_data");
    assertThat(cdc.tables()).extracting(IngestConfig.Table::cdcTable).containsExactly(
        new CdcTable("public", "orders", "orders"), new CdcTable("public", "customers",
            "customers"));
    assertThat(cdc.debezium()).containsExactlyInAnyOrderEntriesOf(Map.of(
        "heartbeat.interval.ms", "10000", "max.batch.size", "512"));
  }

  @Test
  void shouldFillInDefaults() {
    // When only the required settings are given
    IngestConfig.Cdc cdc = IngestConfig.parse("""
        cdc:
          database: shop
          user: flywheel
          tables: [{table: orders, source: orders}]
        """).cdcConfig().orElseThrow();

    // Then the rest takes the documented defaults
    assertThat(cdc.host()).isEqualTo("127.0.0.1");
    assertThat(cdc.port()).isEqualTo(5432);
    assertThat(cdc.slot()).isEqualTo("flywheel_cdc");
    assertThat(cdc.publication()).isEqualTo("flywheel_cdc");
    assertThat(cdc.name()).isEqualTo("flywheel-cdc");
    assertThat(cdc.deleteMode()).isEqualTo(DeleteMode.TOMBSTONE);
    assertThat(cdc.snapshotMode()).isEqualTo("initial");
    assertThat(cdc.debezium()).isEmpty();
  }

  @Test
  void shouldHaveNoCdcWithoutTheSection() {
    assertThat(IngestConfig.parse("ingest: {port: 0}\n").cdcConfig()).isEmpty();
  }

  @Test
  void shouldPreferThePasswordFromTheEnvironment() {
    IngestConfig.Cdc cdc = IngestConfig.parse(FULL).cdc();

    assertThat(cdc.password(Map.of(IngestConfig.Cdc.PASSWORD_ENV, "from-env")))
        .isEqualTo("from-env");
    assertThat(cdc.password(Map.of())).isEqualTo("from-yaml");
  }

  @Test
  void shouldSayWhereToPutAMissingPassword() {
    IngestConfig.Cdc cdc = IngestConfig.parse("""
        cdc: {database: shop, user: flywheel, tables: [{table: orders, source: orders}]}
        """).cdc();

    assertThatThrownBy(() -> cdc.password(Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("set the environment variable FLYWHEEL_CDC_PASSWORD");
  }

  @Test
  void shouldNeverShowThePassword() {
    IngestConfig config = IngestConfig.parse(FULL);

    assertThat(config.cdc().toString()).doesNotContain("from-yaml").contains("password=***");
    assertThat(config.toString()).doesNotContain("from-yaml");
  }

  @Test
  void shouldRefuseCdcWithoutTables() {
    assertThatThrownBy(() -> IngestConfig.parse("cdc: {database: shop, user: u}\n"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cdc.tables is empty");
  }

  @Test
  void shouldRefuseAnUnknownDeleteMode() {
    assertThatThrownBy(() -> IngestConfig.parse("""
        cdc: {database: shop, user: u, deleteMode: drop, tables: [{table: t, source: s}]}
        """))
        .hasMessageContaining("cdc.deleteMode 'drop' is not one of: tombstone, delete-event");
  }

  @Test
  void shouldRefuseAMisspeltCdcSetting() {
    assertThatThrownBy(() -> IngestConfig.parse("""
        cdc: {database: shop, user: u, slott: x, tables: [{table: t, source: s}]}
        """))
        .hasMessageContaining("unknown setting 'slott' (cdc.slott)");
  }

  @Test
  void shouldRefuseATableWithoutASource() {
    assertThatThrownBy(() -> IngestConfig.parse("""
        cdc: {database: shop, user: u, tables: [{table: orders}]}
        """))
        .hasMessageContaining("cdc.tables entry 'orders' has no 'source'");
  }

  @Test
  void shouldRefuseTheSameTableTwice() {
    assertThatThrownBy(() -> IngestConfig.parse("""
        cdc:
          database: shop
          user: u
          tables: [{table: orders, source: a}, {table: public.orders, source: b}]
        """))
        .hasMessageContaining("cdc.tables lists table public.orders twice");
  }

  @Test
  void shouldParseTheReadmeExample() throws Exception {
    // Given the README's cdc example (the yaml block that holds "cdc:")
    String readme = Files.readString(Path.of("README.md"));
    String example = null;
    for (String block : readme.split("```yaml\n")) {
      String yaml = block.substring(0, Math.max(0, block.indexOf("```")));
      if (yaml.startsWith("cdc:")) {
        example = yaml;
      }
    }
    assertThat(example).as("a ```yaml block in README.md starting with cdc:").isNotNull();

    // When it is parsed
    IngestConfig.Cdc cdc = IngestConfig.parse(example).cdc();

    // Then it declares tables to capture and takes its password from the environment
    assertThat(cdc.tables()).isNotEmpty();
    assertThat(cdc.password(Map.of(IngestConfig.Cdc.PASSWORD_ENV, "x"))).isEqualTo("x");
  }
}
