package dev.flywheel.featurestreams.lookup;

import dev.flywheel.events.Transaction;
import dev.flywheel.featurestreams.FeatureGroupPlan;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topic;
import dev.flywheel.topics.TopicBootstrap;
import dev.flywheel.topics.Topics;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/** The demo source {@code transactions} as ingest adds it, and card transactions on it. */
final class CardTransactions {

  static final String SOURCE = "transactions";

  private final String bootstrap;
  private final Topic<String, GenericRecord> topic;
  private final Schema schema;
  private final AvroSerdes serdes;

  private CardTransactions(String bootstrap, Topic<String, GenericRecord> topic, Schema schema,
      AvroSerdes serdes) {
    this.bootstrap = bootstrap;
    this.topic = topic;
    this.schema = schema;
    this.serdes = serdes;
  }

  /** Registers the source's schema (key card_id, time event_time) and creates its topic. */
  static CardTransactions add(String bootstrap, AvroSerdes serdes, Topics topics)
      throws Exception {
    Schema schema = new Schema.Parser().parse(Transaction.getClassSchema().toString());
    schema.addProp(FeatureGroupPlan.SOURCE_KEY_PROPERTY, "card_id");
    schema.addProp(FeatureGroupPlan.SOURCE_TIME_PROPERTY, "event_time");
    Topic<String, GenericRecord> topic = topics.data(SOURCE);
    serdes.client().register(topic.name() + "-value", schema);
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
        bootstrap))) {
      new TopicBootstrap(admin).ensure(List.of(topic));
    }
    return new CardTransactions(bootstrap, topic, schema, serdes);
  }

  /** One transaction of {@code card}. */
  GenericRecord tx(String eventId, String card, double amount, String merchant, Instant time) {
    GenericData.Record r = new GenericData.Record(schema);
    r.put("event_id", eventId);
    r.put("card_id", card);
    r.put("merchant", merchant);
    r.put("category", "grocery");
    r.put("amount", amount);
    r.put("currency", "EUR");
    r.put("country", "FR");
    r.put("channel", new GenericData.EnumSymbol(schema.getField("channel").schema(), "POS"));
    r.put("event_time", time.toEpochMilli());
    return r;
  }

  /** Produces the records keyed by card and stamped with their event time; waits for acks. */
  void produce(List<GenericRecord> records) {
    try (KafkaProducer<String, GenericRecord> producer = new KafkaProducer<>(
        Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ProducerConfig.ACKS_CONFIG,
            "all",
            // one in flight: no batch overtakes a retried first one (KAFKA-15591)
            ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1),
        new StringSerializer(), serdes.generic(false).serializer())) {
      for (GenericRecord r : records) {
        producer.send(new ProducerRecord<>(topic.name(), null, (Long) r.get("event_time"),
            r.get("card_id").toString(), r));
      }
      producer.flush();
    }
  }
}
