package dev.flywheel.featurestreams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.events.FeatureVector;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;

/**
 * Long fields counted and compared exactly: 64-bit ids beyond 2^53, which a double holds only to
 * the nearest multiple of 256 around 2^60, stay apart in distinct counts and in filters, through
 * the held events, the sealed tiles, the repartition topic and the state; arithmetic aggregations
 * still take them as doubles.
 */
class ExactLongValuesTest {

  private static final long BASE = 1L << 60;
  private static final long T0 = 1_790_000_040_000L - 1_790_000_040_000L % 60_000;

  /** Payments with the 64-bit id of the device that made them. */
  private static Schema schema() {
    Schema schema = new Schema.Parser().parse("""
        {"type": "record", "name": "DevicePayment", "namespace": "dev.flywheel.test",
         "fields": [
           {"name": "event_id", "type": "string"},
           {"name": "card_id", "type": "string"},
           {"name": "merchant", "type": "string"},
           {"name": "device_id", "type": "long"},
           {"name": "event_time", "type": "long"}]}
        """);
    schema.addProp(FeatureGroupPlan.SOURCE_KEY_PROPERTY, "card_id");
    schema.addProp(FeatureGroupPlan.SOURCE_TIME_PROPERTY, "event_time");
    return schema;
  }

  private static final FeatureStreamsConfig CONFIG = FeatureStreamsConfig.parse("""
      featureGroups:
        - name: card_devices
          source: transactions
          entityKey: card_id
          features:
            - {name: devices_10m, agg: distinct_count, field: device_id, window: 10m}
            - {name: devices_all, agg: distinct_count, field: device_id}
            - {name: on_device, agg: count, filter: device_id == 1152921504606846977}
            - {name: off_device, agg: count, filter: device_id != 1152921504606846977}
            - {name: above_device, agg: count, filter: device_id > 1152921504606846976}
            - {name: last_device, agg: last, field: device_id}
            - {name: max_device, agg: max, field: device_id}
        - name: merchant_devices
          source: transactions
          entityKey: merchant
          features:
            - {name: devices_all, agg: distinct_count, field: device_id}
            - {name: on_device, agg: count, filter: device_id == 1152921504606846977}
      """);

  @Test
  void shouldTellApartLongIdsADoubleWouldMergeInDistinctCountsAndFilters() {
    // Given payments of card-1 at merchant m-1 from devices 2^60 + 0, 1, 1, 255, 256 and 2 (as
    // doubles: 2^60, 2^60, 2^60, 2^60 + 256, 2^60 + 256, 2^60), the first two 7 minutes before the
    // others (sealed into their tiles by the grace period, the others held)
    long[] devices = {BASE, BASE + 1, BASE + 1, BASE + 255, BASE + 256, BASE + 2};
    long[] times = {T0, T0 + 1_000, T0 + 420_000, T0 + 421_000, T0 + 422_000, T0 + 423_000};
    Schema schema = schema();

    // When they go through the topology, and card-2 pays from device 42
    List<TestRecord<String, FeatureVector>> vectors;
    byte[] card1State;
    byte[] card2State;
    try (FeatureDriver driver = new FeatureDriver(CONFIG, schema)) {
      for (int i = 0; i < devices.length; i++) {
        driver.transactions.pipeInput("card-1", payment(schema, i, "card-1", devices[i], times[i]),
            Instant.ofEpochMilli(times[i]));
      }
      driver.transactions.pipeInput("card-2", payment(schema, 9, "card-2", 42, T0 + 423_000),
          Instant.ofEpochMilli(T0 + 423_000));
      vectors = driver.features.readRecordsToList();
      assertThat(driver.deadLetters.isEmpty()).isTrue();
      card1State = driver.driver.<String, byte[]>getKeyValueStore(
          FeatureTopology.stateStoreName("card_devices")).get("card-1");
      card2State = driver.driver.<String, byte[]>getKeyValueStore(
          FeatureTopology.stateStoreName("card_devices")).get("card-2");
    }

    // Then the 5 devices are counted apart and the filters tell 2^60 + 1 from its neighbours,
    // within the grace period and in sealed tiles alike, while max and last are doubles
    Map<String, Double> card = last(vectors, "card_devices", "e-5").getFeatures();
    assertThat(card).containsEntry("devices_10m", 5.0).containsEntry("devices_all", 5.0)
        .containsEntry("on_device", 2.0).containsEntry("off_device", 4.0)
        .containsEntry("above_device", 5.0).containsEntry("last_device", (double) (BASE + 2))
        .containsEntry("max_device", (double) (BASE + 256));
    // and so through the repartition topic of the group keyed by merchant
    assertThat(last(vectors, "merchant_devices", "e-5").getFeatures())
        .containsEntry("devices_all", 5.0).containsEntry("on_device", 2.0);

    // and the held ids a double cannot hold read back from the state exactly, in the format
    // that says so (4), while state without such ids stays in the format before (3)
    FeatureGroupPlan plan = FeatureGroupPlan.of(CONFIG.group("card_devices"), schema, "test");
    EntityStateSerde serde = new EntityStateSerde(plan);
    assertThat(card1State[0]).isEqualTo((byte) 4);
    assertThat(card2State[0]).isEqualTo((byte) 3);
    EntityState state = serde.read(card1State);
    assertThat(state.recent).extracting(r -> r.values()[0])
        .containsExactly(BASE + 1, BASE + 255, (double) (BASE + 256), BASE + 2);
    assertThat(new FeatureEngine(plan).evaluate(state, state.maxTime, state.maxSeq))
        .containsExactly(5.0, 5.0, 2.0, 4.0, 5.0, (double) (BASE + 2), (double) (BASE + 256));
    // and an id a double holds exactly hashes as that double, as state written before held it
    assertThat(Tile.hash(BASE)).isEqualTo(Tile.hash((double) BASE));
    assertThat(Tile.hash(BASE + 1)).isNotEqualTo(Tile.hash((double) (BASE + 1)));
  }

  private static GenericRecord payment(Schema schema, int seq, String card, long device,
      long timeMs) {
    GenericData.Record r = new GenericData.Record(schema);
    r.put("event_id", "e-" + seq);
    r.put("card_id", card);
    r.put("merchant", "m-1");
    r.put("device_id", device);
    r.put("event_time", timeMs);
    return r;
  }

  private static FeatureVector last(List<TestRecord<String, FeatureVector>> vectors, String group,
      String eventId) {
    return vectors.stream().map(TestRecord::value)
        .filter(v -> v.getFeatureGroup().equals(group) && v.getEventId().equals(eventId))
        .findFirst().orElseThrow();
  }
}
