package dev.flywheel.devstack.junit;

import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * The offsets a consumer group (a Streams application id) has committed, for tests that wait
 * until a processor has taken a given number of records.
 */
public final class GroupOffsets {

  private GroupOffsets() {}

  /**
   * The offsets {@code group} has committed on {@code topic}, summed over its partitions; 0 when
   * it has committed none. On a topic written without transactions that is the number of
   * records the group has consumed.
   */
  public static long committedSum(String bootstrapServers, String group, String topic)
      throws InterruptedException, ExecutionException {
    try (Admin admin = Admin.create(
        Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
      Map<TopicPartition, OffsetAndMetadata> offsets = admin
          .listConsumerGroupOffsets(Map.of(group, new ListConsumerGroupOffsetsSpec()))
          .partitionsToOffsetAndMetadata(group).get();
      return offsets.entrySet().stream().filter(e -> e.getKey().topic().equals(topic))
          .filter(e -> e.getValue() != null).mapToLong(e -> e.getValue().offset()).sum();
    }
  }
}
