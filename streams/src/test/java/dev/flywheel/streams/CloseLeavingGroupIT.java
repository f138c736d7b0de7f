package dev.flywheel.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A processor built with {@link StreamsProps} leaves its consumer group when it closes, so its
 * partitions are not held until the session times out (45 s) and a restart processes at once.
 */
@WithDevstack
class CloseLeavingGroupIT {

  @TempDir Path state;

  @Test
  void shouldLeaveTheConsumerGroupWhenClosed(Devstack devstack, UniqueNames names)
      throws Exception {
    // Given a running processor with two stream threads
    String in = names.topic("in");
    String applicationId = names.applicationId("leave");
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", devstack.bootstrapServers()))) {
      admin.createTopics(List.of(new NewTopic(in, 2, (short) 1),
          new NewTopic(names.topic("out"), 2, (short) 1))).all().get();
      StreamsBuilder builder = new StreamsBuilder();
      builder.stream(in, Consumed.with(Serdes.String(), Serdes.String()))
          .to(names.topic("out"), Produced.with(Serdes.String(), Serdes.String()));
      Properties props = StreamsProps.builder(applicationId)
          .bootstrapServers(devstack.bootstrapServers()).stateDir(Files.createDirectories(state))
          .overrides(Map.of("num.stream.threads", 2)).build();
      KafkaStreams streams = new KafkaStreams(builder.build(), props);
      streams.start();
      await().atMost(Duration.ofSeconds(60))
          .until(() -> streams.state() == KafkaStreams.State.RUNNING);
      assertThat(members(admin, applicationId)).isEqualTo(2);

      // When it is closed
      boolean stopped = streams.close(Duration.ofSeconds(30));

      // Then both members have left the group: none holds a partition until its session ends
      // (45 s; the wait is well below that)
      assertThat(stopped).isTrue();
      await().atMost(Duration.ofSeconds(10)).until(() -> members(admin, applicationId) == 0);
    }
  }

  private static int members(Admin admin, String group) throws Exception {
    ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group)).all().get()
        .get(group);
    return d.members().size();
  }
}
