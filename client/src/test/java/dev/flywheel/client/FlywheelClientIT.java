package dev.flywheel.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.GroupOffsets;
import dev.flywheel.devstack.junit.LogLines;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.devstack.registry.EmbeddedSchemaRegistry;
import dev.flywheel.events.Actor;
import dev.flywheel.events.ActorKind;
import dev.flywheel.events.DriftAlert;
import dev.flywheel.events.DriftWindow;
import dev.flywheel.events.Label;
import dev.flywheel.events.ModelArtifact;
import dev.flywheel.events.ModelFormat;
import dev.flywheel.events.ModelPromoted;
import dev.flywheel.events.ModelSignature;
import dev.flywheel.events.ModelTask;
import dev.flywheel.events.Prediction;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.TopicBootstrap;
import dev.flywheel.topics.Topics;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The client against the embedded broker and registry: its handlers receive the events written to
 * Flywheel's topics, and what it sends lands on them in the Confluent wire format.
 */
@WithDevstack
class FlywheelClientIT {

  private static final Instant T0 = Instant.parse("2026-11-23T10:00:00Z");
  private static final String TX_SCHEMA = """
      {"type": "record", "name": "CardTx", "namespace": "client.test",
       "flywheel.source.key": "card_id", "flywheel.source.time": "event_time",
       "fields": [
        {"name": "event_id", "type": "string"},
        {"name": "card_id", "type": "string"},
        {"name": "amount", "type": "double"},
        {"name": "country", "type": ["null", "string"], "default": null},
        {"name": "event_time", "type": {"type": "long", "logicalType": "timestamp-millis"}}]}""";

  private Devstack devstack;
  private UniqueNames names;
  private AvroSerdes serdes;
  private Topics topics;
  private FlywheelClient client;

  @BeforeEach
  void setUp(Devstack devstack, UniqueNames names) throws Exception {
    this.devstack = devstack;
    this.names = names;
    serdes = AvroSerdes.fromConfig(Map.of("schema.registry.url", devstack.schemaRegistryUrl()));
    topics = Topics.builder(serdes).prefix(names.prefix()).build();
    List<Topic<?, ?>> all = new ArrayList<>(topics.all());
    all.add(topics.data("transactions"));
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", devstack.bootstrapServers()))) {
      new TopicBootstrap(admin).ensure(all);
    }
    serdes.client().register(topics.data("transactions").name() + "-value",
        new Schema.Parser().parse(TX_SCHEMA));
    client = FlywheelClient.builder().bootstrapServers(devstack.bootstrapServers())
        .schemaRegistryUrl(devstack.schemaRegistryUrl()).topicPrefix(names.prefix()).build();
  }

  @AfterEach
  void tearDown() {
    client.close();
  }

  @Test
  void shouldCallOnPromotedWithEachPromotionWrittenAfterRegistration() {
    // Given a handler
    List<ModelPromoted> seen = new CopyOnWriteArrayList<>();
    List<EventPosition> positions = new CopyOnWriteArrayList<>();
    client.onPromoted((promoted, at) -> {
      seen.add(promoted);
      positions.add(at);
    });

    // When the registry's promotion of fraud-detector v3 is on the topic
    produce(topics.modelPromoted(), "fraud-detector", promoted("fraud-detector", 3));

    // Then the handler has it, with its position
    await().atMost(Duration.ofSeconds(30)).until(() -> seen.size() == 1);
    assertThat(seen.get(0).getVersion()).isEqualTo(3);
    assertThat(seen.get(0).getAlias()).isEqualTo("champion");
    assertThat(positions.get(0).topic()).isEqualTo(topics.modelPromoted().name());
    assertThat(positions.get(0).key()).isEqualTo("fraud-detector");
  }

  @Test
  void shouldCallOnDriftAlertAndOnPredictionWithTheirEvents() {
    List<DriftAlert> alerts = new CopyOnWriteArrayList<>();
    List<Prediction> predictions = new CopyOnWriteArrayList<>();
    client.onDriftAlert((alert, at) -> alerts.add(alert));
    client.onPrediction((prediction, at) -> predictions.add(prediction));

    produce(topics.driftAlerts(), "fraud-detector", alert("alert-1"));
    produce(topics.predictions(), "card-7", prediction("tx-1"));

    await().atMost(Duration.ofSeconds(30))
        .until(() -> alerts.size() == 1 && predictions.size() == 1);
    assertThat(alerts.get(0).getEventId()).isEqualTo("alert-1");
    assertThat(predictions.get(0).getEventId()).isEqualTo("tx-1");
  }

  @Test
  void shouldKeepDeliveringAfterAHandlerThrowsAndSkipWhatDoesNotDecode() throws Exception {
    // Given a handler that throws on its first event
    List<String> seen = new CopyOnWriteArrayList<>();
    Subscription subscription = client.onPrediction((prediction, at) -> {
      seen.add(prediction.getEventId());
      if (seen.size() == 1) {
        throw new IllegalStateException("the application failed on " + at.offset());
      }
    });

    // When two predictions arrive around bytes that are not a prediction
    produce(topics.predictions(), "card-7", prediction("tx-1"));
    try (KafkaProducer<String, byte[]> raw = new KafkaProducer<>(Map.of(
        "bootstrap.servers", devstack.bootstrapServers()), new StringSerializer(),
        new org.apache.kafka.common.serialization.ByteArraySerializer())) {
      raw.send(new ProducerRecord<>(topics.predictions().name(), "card-7",
          "not avro".getBytes())).get();
    }
    produce(topics.predictions(), "card-7", prediction("tx-2"));

    // Then both predictions reached the handler and two failures were counted
    await().atMost(Duration.ofSeconds(30)).until(() -> seen.size() == 2);
    assertThat(seen).containsExactly("tx-1", "tx-2");
    assertThat(subscription.failures()).isEqualTo(2);
  }

  @Test
  void shouldDeliverNotSkipAnEventThatArrivedWhileTheSchemaRegistryWasAway() throws Exception {
    // Given a client whose registry, on the same schema topic, is not answering, and a handler
    int port;
    try (ServerSocket free = new ServerSocket(0)) {
      port = free.getLocalPort();
    }
    List<ModelPromoted> seen = new CopyOnWriteArrayList<>();
    try (LogLines log = LogLines.of(Subscription.class);
        FlywheelClient away = FlywheelClient.builder()
        .bootstrapServers(devstack.bootstrapServers())
        .schemaRegistryUrl("http://127.0.0.1:" + port).topicPrefix(names.prefix()).build()) {
      Subscription subscription = away.onPromoted((promoted, at) -> seen.add(promoted));

      // When a promotion arrives while that registry is away, long enough for several attempts
      // to decode it (counted in the log, so a slow consumer cannot make this pass unread)
      produce(topics.modelPromoted(), "fraud-detector", promoted("fraud-detector", 4));
      await().atMost(Duration.ofSeconds(30)).until(() -> log.count(Level.WARN,
          "while the schema registry does not answer") >= 3);
      assertThat(seen).isEmpty();
      assertThat(subscription.failures()).isZero();

      // Then once the registry answers, the promotion is delivered, not skipped
      try (EmbeddedSchemaRegistry registry = EmbeddedSchemaRegistry.builder()
          .bootstrapServers(devstack.bootstrapServers()).port(port).build().start()) {
        await().atMost(Duration.ofSeconds(30)).until(() -> seen.size() == 1);
        assertThat(seen.get(0).getVersion()).isEqualTo(4);
        assertThat(subscription.failures()).isZero();
      }
    }
  }

  @Test
  void shouldStopTheHandlersConsumerOnClose() {
    Subscription subscription = client.onPromoted((promoted, at) -> { });

    client.close();

    assertThatThrownBy(() -> client.onPromoted((promoted, at) -> { }))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    assertThat(threadAlive("flywheel-client-" + subscription.topic())).isFalse();
  }

  @Test
  void shouldDeliverEveryEventWrittenRightAfterRegistrationToANewGroup() {
    // Given a handler of a consumer group that has no position yet
    List<String> seen = new CopyOnWriteArrayList<>();
    try (FlywheelClient grouped = grouped(names.groupId("app"))) {
      grouped.onPrediction((prediction, at) -> seen.add(prediction.getEventId()));

      // When three predictions are written as soon as the registration returned
      produce(topics.predictions(), "card-7", prediction("tx-1"));
      produce(topics.predictions(), "card-8", prediction("tx-2"));
      produce(topics.predictions(), "card-9", prediction("tx-3"));

      // Then the handler gets all three, though the group joined after they were written
      await().atMost(Duration.ofSeconds(30)).until(() -> seen.size() == 3);
      assertThat(seen).containsExactlyInAnyOrder("tx-1", "tx-2", "tx-3");
    }
  }

  @Test
  void shouldResumeWhereTheGroupLeftOffNotWhereTheTopicEndsAtRegistration() throws Exception {
    // Given a group that handled and committed one prediction, then stopped
    String group = names.groupId("app");
    List<String> seen = new CopyOnWriteArrayList<>();
    try (FlywheelClient first = grouped(group)) {
      first.onPrediction((prediction, at) -> seen.add(prediction.getEventId()));
      produce(topics.predictions(), "card-7", prediction("tx-1"));
      await().atMost(Duration.ofSeconds(30)).until(() -> GroupOffsets.committedSum(
          devstack.bootstrapServers(), group + "." + topics.predictions().name(),
          topics.predictions().name()) == 1);
    }

    // When a prediction is written while it is away, and it registers its handler again
    produce(topics.predictions(), "card-8", prediction("tx-2"));
    try (FlywheelClient second = grouped(group)) {
      second.onPrediction((prediction, at) -> seen.add(prediction.getEventId()));

      // Then it gets that prediction, and not the one it had handled
      await().atMost(Duration.ofSeconds(30)).until(() -> seen.size() == 2);
      assertThat(seen).containsExactly("tx-1", "tx-2");
    }
  }

  @Test
  void shouldRefuseAGroupedHandlerOfATopicThatDoesNotExist() {
    // Given a grouped client whose prefix has no topics
    try (FlywheelClient elsewhere = FlywheelClient.builder()
        .bootstrapServers(devstack.bootstrapServers())
        .schemaRegistryUrl(devstack.schemaRegistryUrl()).topicPrefix(names.prefix() + "-none")
        .groupId(names.groupId("app")).build()) {

      // When a handler is registered, then it is refused, saying what to check
      assertThatThrownBy(() -> elsewhere.onPromoted((promoted, at) -> { }))
          .isInstanceOf(FlywheelClientException.class)
          .hasMessageContaining("topic " + names.prefix() + "-none.flywheel.model.promoted does"
              + " not exist")
          .hasMessageContaining("topicPrefix");
    }
  }

  @Test
  void shouldWriteWhatAHandlerSendsWhileTheClientCloses() throws Exception {
    // Given a handler that labels each prediction, and is at it while the client closes: it
    // sends once close() is waiting for the handler's thread to end
    Thread closer = new Thread(client::close, "closer");
    CountDownLatch handling = new CountDownLatch(1);
    List<CompletableFuture<EventPosition>> labelled = new CopyOnWriteArrayList<>();
    client.onPrediction((prediction, at) -> {
      handling.countDown();
      await().atMost(Duration.ofSeconds(30))
          .until(() -> closer.getState() == Thread.State.TIMED_WAITING);
      labelled.add(client.labels().send(prediction.getEventId(), 1.0));
    });
    produce(topics.predictions(), "card-7", prediction("tx-1"));
    assertThat(handling.await(30, TimeUnit.SECONDS)).as("the handler got the prediction").isTrue();

    // When the client closes
    closer.start();
    closer.join();

    // Then the label the handler sent was written and flushed by close()
    assertThat(labelled).hasSize(1);
    assertThat(labelled.get(0)).isCompleted();
    assertThat(readAt(topics.labels(), labelled.get(0).join()).key()).isEqualTo("tx-1");
  }

  @Test
  void shouldSendWhileAHandlerIsStillBeingRegistered() throws Exception {
    // Given a client registering a handler whose consumer waits for the topic's partitions (as
    // on a slow broker)
    CountDownLatch registering = new CountDownLatch(1);
    CountDownLatch brokerAnswers = new CountDownLatch(1);
    try (FlywheelClient slow = FlywheelClient.builder()
        .bootstrapServers(devstack.bootstrapServers())
        .schemaRegistryUrl(devstack.schemaRegistryUrl()).topicPrefix(names.prefix())
        .consumers(props -> new KafkaConsumer<>(props, new StringDeserializer(),
            new ByteArrayDeserializer()) {
          @Override
          public List<PartitionInfo> partitionsFor(String topic) {
            waitFor(brokerAnswers);
            return super.partitionsFor(topic);
          }

          @Override
          public List<PartitionInfo> partitionsFor(String topic, Duration timeout) {
            waitFor(brokerAnswers);
            return super.partitionsFor(topic, timeout);
          }

          private void waitFor(CountDownLatch latch) {
            registering.countDown();
            try {
              latch.await();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
        }).build()) {
      CompletableFuture<Subscription> registration =
          CompletableFuture.supplyAsync(() -> slow.onPrediction((prediction, at) -> { }));
      assertThat(registering.await(30, TimeUnit.SECONDS)).isTrue();

      // When it sends a label meanwhile
      CompletableFuture<CompletableFuture<EventPosition>> sending =
          CompletableFuture.supplyAsync(() -> slow.labels().send("tx-1", 1.0));

      // Then the label is written while the registration still waits
      try {
        await().atMost(Duration.ofSeconds(30))
            .until(() -> sending.isDone() && sending.join().isDone());
        assertThat(registration).isNotDone();
      } finally {
        brokerAnswers.countDown();
      }
      assertThat(sending.join()).isCompleted();
      assertThat(readAt(topics.labels(), sending.join().join()).key()).isEqualTo("tx-1");
      assertThat(registration.get(30, TimeUnit.SECONDS).isRunning()).isTrue();
    }
  }

  @Test
  void shouldSendJsonAsARecordOfTheRegisteredSchemaKeyedByItsKeyField() throws Exception {
    EventPosition at = client.source("transactions").sendJson("""
        {"event_id": "tx-9", "card_id": "card-7", "amount": 12.5,
         "event_time": "2026-11-23T10:00:00Z"}""").get(30, TimeUnit.SECONDS);

    ConsumerRecord<String, GenericRecord> record = readAt(topics.data("transactions"), at);
    assertThat(record.key()).isEqualTo("card-7");
    assertThat(record.value().get("event_id").toString()).isEqualTo("tx-9");
    assertThat(record.value().get("amount")).isEqualTo(12.5);
    assertThat(record.value().get("country")).isNull();
    assertThat(record.value().get("event_time")).isEqualTo(T0.toEpochMilli());
  }

  @Test
  void shouldNameTheFieldWhenJsonDoesNotFitTheSchema() {
    assertThatThrownBy(() -> client.source("transactions").sendJson("""
        {"event_id": "tx-9", "card_id": "card-7", "amount": "twelve", "event_time": 0}"""))
        .isInstanceOf(FlywheelClientException.class)
        .hasMessageContaining("source 'transactions': field 'amount' must be a number");
  }

  @Test
  void shouldSayHowToAddASourceThatIsNotRegistered() {
    assertThatThrownBy(() -> client.source("payments"))
        .isInstanceOf(FlywheelClientException.class)
        .hasMessageContaining("source 'payments' has no schema under subject "
            + names.prefix() + ".flywheel.data.payments-value")
        .hasMessageContaining("flywheel sources add payments");
  }

  @Test
  void shouldSendLabelsKeyedByTheLabelledEventsId() throws Exception {
    EventPosition at = client.labels().send("tx-9", "is_fraud", 1.0, "chargebacks")
        .get(30, TimeUnit.SECONDS);

    ConsumerRecord<String, Label> record = readAt(topics.labels(), at);
    assertThat(record.key()).isEqualTo("tx-9");
    assertThat(record.value().getTarget()).isEqualTo("is_fraud");
    assertThat(record.value().getValue()).isEqualTo(1.0);
    assertThat(record.value().getSource()).isEqualTo("chargebacks");
  }

  // ------------------------------------------------------------------------------ helpers

  private FlywheelClient grouped(String groupId) {
    return FlywheelClient.builder().bootstrapServers(devstack.bootstrapServers())
        .schemaRegistryUrl(devstack.schemaRegistryUrl()).topicPrefix(names.prefix())
        .groupId(groupId).build();
  }

  private static boolean threadAlive(String name) {
    return Thread.getAllStackTraces().keySet().stream()
        .anyMatch(t -> t.getName().equals(name) && t.isAlive());
  }

  private <V> void produce(Topic<String, V> topic, String key, V value) {
    try (KafkaProducer<String, V> producer = new KafkaProducer<>(Map.of(
        "bootstrap.servers", devstack.bootstrapServers(), "acks", "all"),
        new StringSerializer(), topic.valueSerde().serializer())) {
      producer.send(new ProducerRecord<>(topic.name(), key, value)).get();
    } catch (Exception e) {
      throw new IllegalStateException("producing to " + topic.name() + " failed", e);
    }
  }

  private <V> ConsumerRecord<String, V> readAt(Topic<String, V> topic, EventPosition at) {
    try (KafkaConsumer<String, V> consumer = new KafkaConsumer<>(Map.of(
        "bootstrap.servers", devstack.bootstrapServers()), new StringDeserializer(),
        topic.valueSerde().deserializer())) {
      TopicPartition tp = new TopicPartition(at.topic(), at.partition());
      consumer.assign(List.of(tp));
      consumer.seek(tp, at.offset());
      List<ConsumerRecord<String, V>> records = new ArrayList<>();
      await().atMost(Duration.ofSeconds(30)).until(() -> {
        consumer.poll(Duration.ofMillis(200)).forEach(records::add);
        return !records.isEmpty();
      });
      return records.get(0);
    }
  }

  static ModelPromoted promoted(String model, int version) {
    return ModelPromoted.newBuilder().setEventId("promo-" + version).setEventTime(T0)
        .setModel(model).setAlias("champion").setVersion(version)
        .setArtifact(ModelArtifact.newBuilder().setUri("file:///artifacts/v" + version + ".json")
            .setSha256("0".repeat(64)).setFormat(ModelFormat.XGBOOST).build())
        .setSignature(ModelSignature.newBuilder().setFeatureNames(List.of("amount_sum_24h"))
            .setTask(ModelTask.BINARY_CLASSIFICATION).build())
        .setActor(Actor.newBuilder().setName("registry").setKind(ActorKind.SERVICE)
            .setRoles(List.of()).build())
        .setCommandId("cmd-" + version).build();
  }

  private static DriftAlert alert(String id) {
    return DriftAlert.newBuilder().setEventId(id).setEventTime(T0).setModel("fraud-detector")
        .setBaselineVersion(3).setWindow(DriftWindow.newBuilder().setSequence(1)
            .setStartTime(T0).setEndTime(T0.plusSeconds(3600)).setCount(1000).build())
        .setOnset(T0).setConsecutiveDrifted(3).setDriftedShare(0.5)
        .setTopFeatures(List.of()).setReportId("report-1").build();
  }

  private static Prediction prediction(String eventId) {
    return Prediction.newBuilder().setEventId(eventId).setPredictionId("p-" + eventId)
        .setEventTime(T0).setScoredAt(T0).setEntityId("card-7").setModel("fraud-detector")
        .setVersion(3).setScore(0.2).setFeatures(Map.of("amount_sum_24h", 12.5))
        .setLatencyMicros(90).build();
  }
}
