package dev.flywheel.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;

class StreamsPropsTest {

  @Test
  void shouldRunExactlyOnceWithBoundedRocksDbAndDeadLetterHandlers() {
    // Given the properties of a processor with only the required settings
    Properties props = StreamsProps.builder("flywheel-test").bootstrapServers("b:9092").build();

    // When Kafka Streams reads them
    StreamsConfig config = new StreamsConfig(props);

    // Then they ask for exactly-once, the shared RocksDB budget and the dead-letter handlers
    assertThat(config.getString(StreamsConfig.PROCESSING_GUARANTEE_CONFIG))
        .isEqualTo(StreamsConfig.EXACTLY_ONCE_V2);
    assertThat(config.getClass(StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG))
        .isEqualTo(BoundedMemoryRocksDBConfig.class);
    assertThat(config.getClass(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG))
        .isEqualTo(DeadLetterDeserializationHandler.class);
    assertThat(config.getClass(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG))
        .isEqualTo(DeadLetterProcessingHandler.class);
    assertThat(props.get(BoundedMemoryRocksDBConfig.MEMORY_BYTES_CONFIG))
        .isEqualTo(StreamsProps.DEFAULT_ROCKSDB_MEMORY_BYTES);
    // and producers that keep one request in flight, so a retried first batch stays in order
    assertThat(config.getProducerConfigs("c"))
        .containsEntry(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1)
        .containsEntry(ProducerConfig.ACKS_CONFIG, "all");
  }

  @Test
  void shouldLetOverridesWinOverEveryDefault() {
    // Given a processor that passes a TLS setting and its own guarantee
    Properties props = StreamsProps.builder("flywheel-test").bootstrapServers("b:9092")
        .stateDir(Path.of("state")).standbyReplicas(1).applicationServer("h:8080")
        .overrides(Map.of("security.protocol", "SSL",
            StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, 2,
            StreamsConfig.producerPrefix(ProducerConfig.COMPRESSION_TYPE_CONFIG), "zstd"))
        .build();

    // Then the overrides are applied last, and the typed settings are kept otherwise
    assertThat(props).containsEntry("security.protocol", "SSL")
        .containsEntry(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, 2)
        .containsEntry(StreamsConfig.producerPrefix(ProducerConfig.COMPRESSION_TYPE_CONFIG),
            "zstd")
        .containsEntry(StreamsConfig.APPLICATION_SERVER_CONFIG, "h:8080")
        .containsEntry(StreamsConfig.STATE_DIR_CONFIG, Path.of("state").toAbsolutePath().toString());
  }

  @Test
  void shouldRefuseToBuildWithoutBrokers() {
    assertThatThrownBy(() -> StreamsProps.builder("flywheel-test").build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("bootstrapServers is required for flywheel-test");
  }

  @Test
  void shouldRefuseANegativeStandbyCount() {
    assertThatThrownBy(() -> StreamsProps.builder("a").standbyReplicas(-1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("got -1");
  }

  @Test
  void shouldReadTheRocksDbBudgetAndRefuseNonsense() {
    assertThat(BoundedMemoryRocksDBConfig.budget(Map.of())).isEqualTo(128L * 1024 * 1024);
    assertThat(BoundedMemoryRocksDBConfig.budget(
        Map.of(BoundedMemoryRocksDBConfig.MEMORY_BYTES_CONFIG, "33554432"))).isEqualTo(33554432L);
    assertThatThrownBy(() -> BoundedMemoryRocksDBConfig.budget(
        Map.of(BoundedMemoryRocksDBConfig.MEMORY_BYTES_CONFIG, "lots")))
        .hasMessageContaining("must be a number of bytes, got 'lots'");
    assertThatThrownBy(() -> BoundedMemoryRocksDBConfig.budget(
        Map.of(BoundedMemoryRocksDBConfig.MEMORY_BYTES_CONFIG, 10)))
        .hasMessageContaining("at least 1048576");
  }

  @Test
  void shouldReplicateInternalTopicsAsTheReplicationFactorSays() {
    // Given a processor of a platform whose kafka.replicationFactor is 3
    Properties props = StreamsProps.builder("flywheel-test").bootstrapServers("b:9092")
        .replicationFactor(3).build();

    // Then Kafka Streams creates its changelog and repartition topics with 3 replicas
    assertThat(new StreamsConfig(props).getInt(StreamsConfig.REPLICATION_FACTOR_CONFIG))
        .isEqualTo(3);
  }

  @Test
  void shouldLeaveInternalTopicsToTheBrokersDefaultReplicationWhenNoFactorIsGiven() {
    Properties props = StreamsProps.builder("flywheel-test").bootstrapServers("b:9092").build();

    assertThat(new StreamsConfig(props).getInt(StreamsConfig.REPLICATION_FACTOR_CONFIG))
        .isEqualTo(-1);
  }

  @Test
  void shouldLetAUsersOwnReplicationFactorWin() {
    // Given kafka.replicationFactor 3 and replication.factor 2 in the user's kafka.properties
    Properties props = StreamsProps.builder("flywheel-test").bootstrapServers("b:9092")
        .replicationFactor(3)
        .overrides(Map.of(StreamsConfig.REPLICATION_FACTOR_CONFIG, "2"))
        .build();

    // Then the user's setting is the one Kafka Streams uses
    assertThat(new StreamsConfig(props).getInt(StreamsConfig.REPLICATION_FACTOR_CONFIG))
        .isEqualTo(2);
  }

  @Test
  void shouldRefuseAReplicationFactorBelowOne() {
    assertThatThrownBy(() -> StreamsProps.builder("a").replicationFactor(0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("got 0");
  }

  @Test
  void shouldRefuseAtBuildARocksDbBudgetThatIsNotANumberOfBytes() {
    // Given a user who writes the RocksDB budget with a unit in kafka.properties
    StreamsProps.Builder builder = StreamsProps.builder("flywheel-test").bootstrapServers("b:9092")
        .overrides(Map.of(BoundedMemoryRocksDBConfig.MEMORY_BYTES_CONFIG, "128MB"));

    // Then the properties are refused when built, saying what to write instead
    assertThatThrownBy(builder::build).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("flywheel.rocksdb.memory.bytes must be a number of bytes,"
            + " got '128MB'")
        .hasMessageContaining("e.g. 134217728 for 128 MiB");
  }

  @Test
  void shouldRefuseAtBuildARocksDbBudgetBelowOneMebibyte() {
    StreamsProps.Builder builder = StreamsProps.builder("flywheel-test").bootstrapServers("b:9092")
        .rocksDbMemoryBytes(1000);

    assertThatThrownBy(builder::build).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must be at least 1048576 (1 MiB), got 1000");
  }

  @Test
  void shouldReadTheRecordLimitFromTheProducersMaxRequestSize() {
    assertThat(StreamsProps.maxRequestSize(Map.of())).isEqualTo(1024 * 1024);
    assertThat(StreamsProps.maxRequestSize(Map.of("max.request.size", "2097152")))
        .isEqualTo(2 * 1024 * 1024);
    assertThat(StreamsProps.maxRequestSize(Map.of("max.request.size", 1000,
        "producer.max.request.size", 3000))).isEqualTo(3000);
  }
}
