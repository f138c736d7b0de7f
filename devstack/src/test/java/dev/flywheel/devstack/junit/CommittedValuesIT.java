package dev.flywheel.devstack.junit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.topics.Topic;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@WithDevstack
class CommittedValuesIT {

  private Devstack devstack;
  private Topic<String, String> topic;

  @BeforeEach
  void writeACommittedAndAnAbortedTransaction(Devstack devstack, UniqueNames names)
      throws Exception {
    this.devstack = devstack;
    topic = new Topic<>(names.topic("committed-values"), Serdes.String(), Serdes.String(), 2,
        (short) 1, Map.of());
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", devstack.bootstrapServers()))) {
      admin.createTopics(List.of(topic.toNewTopic())).all().get();
    }
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, devstack.bootstrapServers(),
        ProducerConfig.TRANSACTIONAL_ID_CONFIG, names.prefix() + "-tx"),
        new StringSerializer(), new StringSerializer())) {
      producer.initTransactions();
      producer.beginTransaction();
      // Written to the log before the abort: an abort drops records the producer has not sent
      producer.send(record(1, "b", "aborted")).get();
      producer.abortTransaction();
      producer.beginTransaction();
      ProducerRecord<String, String> withHeader = record(0, "a", "one");
      withHeader.headers().add("origin", "test".getBytes(StandardCharsets.UTF_8));
      producer.send(withHeader);
      producer.send(record(1, "b", "two"));
      producer.send(record(0, "a", "three"));
      producer.commitTransaction();
    }
  }

  @Test
  void shouldReadOnlyCommittedValuesInPartitionThenOffsetOrder() {
    assertThat(CommittedValues.of(devstack.bootstrapServers(), topic))
        .containsExactly("one", "three", "two");
  }

  @Test
  void shouldReadWholeRecordsWithTheirKeysAndHeaders() {
    List<ConsumerRecord<String, String>> records =
        CommittedValues.records(devstack.bootstrapServers(), topic);

    assertThat(records).extracting(r -> r.partition() + ":" + r.key() + "=" + r.value())
        .containsExactly("0:a=one", "0:a=three", "1:b=two");
    assertThat(records.get(0).headers().lastHeader("origin").value())
        .asString(StandardCharsets.UTF_8).isEqualTo("test");
  }

  @Test
  void shouldReadRawBytesOfATopicByName() {
    assertThat(CommittedValues.bytes(devstack.bootstrapServers(), topic.name()))
        .extracting(r -> new String(r.value(), StandardCharsets.UTF_8))
        .containsExactly("one", "three", "two");
  }

  @Test
  void shouldIncludeTheAbortedRecordOnlyWhenAskedForUncommittedOnes() {
    assertThat(CommittedValues.includingUncommitted(devstack.bootstrapServers(), topic.name(),
        new StringDeserializer(), new StringDeserializer()))
        .extracting(ConsumerRecord::value)
        .containsExactly("one", "three", "aborted", "two");
  }

  private ProducerRecord<String, String> record(int partition, String key, String value) {
    return new ProducerRecord<>(topic.name(), partition, key, value);
  }
}
