package dev.flywheel.devstack.registry;

import static dev.flywheel.devstack.registry.Schemas.AMOUNT;
import static dev.flywheel.devstack.registry.Schemas.ID_INT;
import static dev.flywheel.devstack.registry.Schemas.ID_STRING;
import static dev.flywheel.devstack.registry.Schemas.NAME_DEFAULTED;
import static dev.flywheel.devstack.registry.Schemas.record;
import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.devstack.EmbeddedKafka;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Ids, versions and levels survive a restart of the registry and of the broker. */
class SchemaRegistryRestartIT {

  @TempDir Path dataDir;

  @Test
  void shouldKeepIdsVersionsAndLevelsAcrossARestartOfRegistryAndBroker() {
    try (EmbeddedKafka kafka = EmbeddedKafka.builder().logDir(dataDir).build()) {
      // Given schemas across subjects, a soft-deleted version, a subject level and a global level
      kafka.start();
      Map<String, String> before = new LinkedHashMap<>();
      int nextId;
      try (EmbeddedSchemaRegistry registry = start(kafka)) {
        RegistryHttp http = new RegistryHttp(registry.url());
        http.registerOk("orders-value", record("Order", ID_INT));
        http.registerOk("orders-value", record("Order", ID_INT + "," + NAME_DEFAULTED));
        http.registerOk("payments-value", record("Payment", ID_INT + "," + AMOUNT));
        http.registerOk("shared-value", record("Order", ID_INT));
        http.registerOk("refunds-value", record("Refund", ID_INT));
        http.registerOk("refunds-value", record("Refund", ID_INT + "," + NAME_DEFAULTED));
        http.delete("/subjects/refunds-value/versions/2");
        http.setLevel("payments-value", "FULL_TRANSITIVE");
        http.setLevel(null, "FORWARD");
        snapshot(http, before);
        nextId = http.get("/schemas/ids/1?fetchMaxId=true").json().get("maxId").asInt() + 1;
      }

      // When the registry closes, the broker stops and starts on the same data, and a new
      // registry starts
      kafka.stop();
      kafka.start();
      try (EmbeddedSchemaRegistry registry = start(kafka)) {
        RegistryHttp http = new RegistryHttp(registry.url());

        // Then every subject, version, id and level reads as before
        Map<String, String> after = new LinkedHashMap<>();
        snapshot(http, after);
        assertThat(after).isEqualTo(before);
        assertThat(before).containsEntry("GET /config/payments-value",
            "{\"compatibilityLevel\":\"FULL_TRANSITIVE\"}");

        // And the next schema takes the next id and the next version, under the kept levels
        assertThat(http.registerOk("orders-value",
            record("Order", ID_INT + "," + NAME_DEFAULTED + ",{\"name\":\"x\",\"type\":\"int\","
                + "\"default\":0}"))).isEqualTo(nextId);
        assertThat(http.get("/subjects/orders-value/versions").json().toString())
            .isEqualTo("[1,2,3]");
        assertThat(http.get("/subjects/refunds-value/versions?deleted=true").json().toString())
            .isEqualTo("[1,2]");
        assertThat(http.register("payments-value", record("Payment", ID_STRING + "," + AMOUNT))
            .status()).isEqualTo(409);
      }
    }
  }

  private static EmbeddedSchemaRegistry start(EmbeddedKafka kafka) {
    return EmbeddedSchemaRegistry.builder().bootstrapServers(kafka.bootstrapServers()).build()
        .start();
  }

  /** Every read a client can make of the registry's state, by request. */
  private static void snapshot(RegistryHttp http, Map<String, String> out) {
    out.put("GET /subjects?deleted=true", http.get("/subjects?deleted=true").body());
    out.put("GET /config", http.get("/config").body());
    for (String subject : List.of("orders-value", "payments-value", "shared-value",
        "refunds-value")) {
      out.put("GET /config/" + subject, http.get("/config/" + subject).body());
      String versions = http.get("/subjects/" + subject + "/versions?deleted=true").body();
      out.put("GET /subjects/" + subject + "/versions", versions);
      for (int version = 1; version <= 3; version++) {
        String path = "/subjects/" + subject + "/versions/" + version + "?deleted=true";
        out.put("GET " + path, http.get(path).body());
      }
    }
    for (int id = 1; id <= 6; id++) {
      out.put("GET /schemas/ids/" + id, http.get("/schemas/ids/" + id).body());
      out.put("GET /schemas/ids/" + id + "/versions",
          http.get("/schemas/ids/" + id + "/versions?deleted=true").body());
    }
  }
}
