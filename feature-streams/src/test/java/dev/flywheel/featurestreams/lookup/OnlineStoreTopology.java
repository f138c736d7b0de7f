package dev.flywheel.featurestreams.lookup;

import dev.flywheel.events.FeatureVector;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * A test topology with the online store's shape: the latest {@code FeatureVector} per entity id
 * of a topic, in a persistent key-value store. The lookup is tested against it on a real broker;
 * the feature topology fills a store of the same shape from source events.
 */
final class OnlineStoreTopology {

  static final String SOURCE = "vectors-source";
  static final String TO_TABLE = "vectors-latest";

  private OnlineStoreTopology() {}

  static Topology build(String vectorsTopic, String storeName, Serde<FeatureVector> vectors) {
    StreamsBuilder builder = new StreamsBuilder();
    builder.stream(vectorsTopic, Consumed.with(Serdes.String(), vectors).withName(SOURCE))
        .toTable(Named.as(TO_TABLE),
            Materialized.<String, FeatureVector, KeyValueStore<Bytes, byte[]>>as(storeName)
                .withKeySerde(Serdes.String()).withValueSerde(vectors));
    return builder.build();
  }
}
