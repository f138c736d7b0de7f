package dev.flywheel.devstack.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.events.Channel;
import dev.flywheel.events.FeatureVector;
import dev.flywheel.events.Label;
import dev.flywheel.events.RecordOrigin;
import dev.flywheel.events.Transaction;
import dev.flywheel.registry.SchemaRegistryClient;
import dev.flywheel.serde.GenericAvroSerde;
import dev.flywheel.serde.SpecificAvroSerde;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.FileRecords;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Flywheel's Avro serde and embedded registry against a third-party Confluent-compatible client:
 * kafkajs 2.2.4 with {@code @kafkajs/confluent-schema-registry} (and its Avro library, avsc), run
 * by node from {@code src/test/js}. Records go both ways, and the bytes each side writes for the
 * same value are compared: magic byte, schema id and Avro body.
 *
 * <p>Skips (an assumption) when {@code node} or {@code npm} is not on the PATH, or when {@code npm
 * ci} cannot install the pinned packages (no registry). The installed {@code node_modules} is kept
 * in {@code ${java.io.tmpdir}/flywheel-kafkajs-<hash of package-lock.json>} across runs.
 */
@WithDevstack
class KafkajsInteropIT {

  private static final Duration NODE_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration NPM_TIMEOUT = Duration.ofSeconds(180);
  private static final Path JS_SOURCES = Path.of("src", "test", "js");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HexFormat HEX = HexFormat.of();

  /** The cache dir holding node_modules, or null when the test must skip; see skipReason. */
  private static Path modules;
  private static String skipReason;

  private Devstack devstack;
  private UniqueNames names;
  private SchemaRegistryClient registry;
  private Path runDir;

  @BeforeAll
  static void installKafkajs() throws Exception {
    Optional<String> missing = missingTool("node").or(() -> missingTool("npm"));
    if (missing.isPresent()) {
      skipReason = missing.get();
      return;
    }
    byte[] lock = Files.readAllBytes(JS_SOURCES.resolve("package-lock.json"));
    byte[] pkg = Files.readAllBytes(JS_SOURCES.resolve("package.json"));
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    sha.update(pkg);
    String hash = HEX.formatHex(sha.digest(lock)).substring(0, 16);
    Path cache = Path.of(System.getProperty("java.io.tmpdir"), "flywheel-kafkajs-" + hash);
    if (Files.isRegularFile(cache.resolve(".installed"))) {
      modules = cache;
      return;
    }
    Path staging = Files.createTempDirectory("flywheel-kafkajs-staging-");
    Files.write(staging.resolve("package.json"), pkg);
    Files.write(staging.resolve("package-lock.json"), lock);
    Run npm = run(staging, NPM_TIMEOUT,
        List.of("npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"), Map.of());
    if (npm.exitCode() != 0) {
      deleteTree(staging);
      skipReason = "npm ci could not install kafkajs 2.2.4 and @kafkajs/confluent-schema-registry "
          + "(no npm registry reachable?): " + npm.describe();
      return;
    }
    Files.writeString(staging.resolve(".installed"), Instant.now().toString());
    try {
      Files.move(staging, cache, StandardCopyOption.ATOMIC_MOVE);
    } catch (FileAlreadyExistsException | DirectoryNotEmptyException raced) {
      deleteTree(staging); // another build installed the same lock meanwhile
    }
    modules = cache;
  }

  @BeforeEach
  void prepare(Devstack devstack, UniqueNames names) throws IOException {
    assumeTrue(skipReason == null, () -> "kafkajs interop skipped: " + skipReason);
    this.devstack = devstack;
    this.names = names;
    this.registry = SchemaRegistryClient.builder().url(devstack.schemaRegistryUrl()).build();
    // A fresh dir per test: this checkout's interop.js, the cached node_modules linked in
    runDir = Files.createTempDirectory("flywheel-kafkajs-run-");
    Files.copy(JS_SOURCES.resolve("interop.js"), runDir.resolve("interop.js"));
    Files.copy(JS_SOURCES.resolve("package.json"), runDir.resolve("package.json"));
    Files.createSymbolicLink(runDir.resolve("node_modules"), modules.resolve("node_modules"));
  }

  @AfterEach
  void deleteRunDir() {
    if (runDir != null) {
      deleteTree(runDir); // the node_modules link goes, not what it points to
    }
  }

  @Test
  void shouldDecodeWithFlywheelTheLabelsKafkajsRegisteredAndProduced() throws Exception {
    // Given a topic and Label's own schema text, and labels with every optional field set or not
    String topic = createTopic("labels-from-kafkajs");
    String subject = topic + "-value";
    List<Label> labels = List.of(
        label("ev-1", 1_700_000_000_123L, null, null, "is_fraud", 1.0, null),
        label("ev-2", 1_700_000_100_456L, 1_699_999_000_001L, "card-7", "is_fraud", 0.0,
            "chargebacks"),
        label("ev-3", 1_700_000_200_789L, null, "card-ü€", "label", 0.875, "manual-review"));
    Path schemaFile = runDir.resolve("label.avsc");
    Files.writeString(schemaFile, Label.getClassSchema().toString());
    Path recordsFile = runDir.resolve("labels.jsonl");
    Files.write(recordsFile, labels.stream().map(l -> labelJson(l).toString()).toList());

    // When kafkajs registers the schema under the topic's subject and produces the labels
    List<JsonNode> out = node("--mode=produce", "--topic=" + topic, "--subject=" + subject,
        "--schema-file=" + schemaFile, "--records-file=" + recordsFile,
        "--count=" + labels.size());

    // Then Flywheel's client sees the id kafkajs got, under that subject
    int kafkajsId = events(out, "registered").get(0).get("id").asInt();
    assertThat(registry.getLatest(subject).id()).isEqualTo(kafkajsId);
    assertThat(registry.lookup(subject, Label.getClassSchema()).id()).isEqualTo(kafkajsId);
    assertThat(registry.getSchemaById(kafkajsId)).isEqualTo(Label.getClassSchema());
    List<JsonNode> produced = events(out, "produced");
    assertThat(produced).hasSize(labels.size());

    // And the topic holds Confluent wire-format records carrying that id
    List<ConsumerRecord<byte[], byte[]>> records = readRaw(topic, labels.size());
    try (GenericAvroSerde generic = new GenericAvroSerde(registry);
        SpecificAvroSerde<Label> specific = new SpecificAvroSerde<>(registry, Label.class)) {
      for (int i = 0; i < labels.size(); i++) {
        byte[] bytes = records.get(i).value();
        Label expected = labels.get(i);
        assertThat(bytes[0]).as("magic byte").isZero();
        assertThat(ByteBuffer.wrap(bytes, 1, 4).getInt()).as("schema id").isEqualTo(kafkajsId);
        assertThat(HEX.formatHex(bytes)).isEqualTo(produced.get(i).get("hex").asText());
        assertThat(new String(records.get(i).key(), StandardCharsets.UTF_8))
            .isEqualTo(expected.getEventId());

        // And Flywheel's generic and specific deserializers read the same values
        GenericRecord read = generic.deserializer().deserialize(topic, bytes);
        assertThat(read.getSchema()).isEqualTo(Label.getClassSchema());
        assertThat(String.valueOf(read.get("event_id"))).isEqualTo(expected.getEventId());
        assertThat(read.get("event_time")).isEqualTo(expected.getEventTime().toEpochMilli());
        assertThat(read.get("labelled_event_time")).isEqualTo(
            expected.getLabelledEventTime() == null ? null
                : expected.getLabelledEventTime().toEpochMilli());
        assertThat(read.get("entity_id") == null ? null : read.get("entity_id").toString())
            .isEqualTo(expected.getEntityId());
        assertThat(String.valueOf(read.get("target"))).isEqualTo(expected.getTarget());
        assertThat(read.get("value")).isEqualTo(expected.getValue());
        assertThat(read.get("source") == null ? null : read.get("source").toString())
            .isEqualTo(expected.getSource());
        assertThat(specific.deserializer().deserialize(topic, bytes)).isEqualTo(expected);

        // And Flywheel's serializer writes exactly the bytes kafkajs wrote for the same label
        assertThat(HEX.formatHex(specific.serializer().serialize(topic, expected)))
            .isEqualTo(HEX.formatHex(bytes));
      }
    }
  }

  @Test
  void shouldDecodeWithKafkajsTheLabelsAndTransactionsFlywheelProduced() throws Exception {
    // Given Labels and Transactions produced with Flywheel's serializer, which registers them
    String labelTopic = createTopic("labels-from-flywheel");
    String txTopic = createTopic("transactions-from-flywheel");
    List<Label> labels = List.of(
        label("ev-10", 1_700_000_300_000L, 1_700_000_000_000L, "card-1", "is_fraud", 1.0, "http"),
        label("ev-11", 1_700_000_400_001L, null, null, "label", -2.5, null));
    List<Transaction> transactions = List.of(
        transaction("tx-1", "card-1", "m-ö", "grocery", 12.5, "EUR", "DE", Channel.POS,
            1_700_000_000_010L),
        transaction("tx-2", "card-2", "m-2", "travel", 1234.56, "USD", "US", Channel.ECOMMERCE,
            1_700_000_000_020L),
        transaction("tx-3", "card-1", "m-3", "atm", 0.0, "EUR", "FR", Channel.UNKNOWN,
            1_700_000_000_030L));
    List<byte[]> labelBytes = produceWithFlywheel(labelTopic, Label.class, labels,
        Label::getEventId);
    List<byte[]> txBytes = produceWithFlywheel(txTopic, Transaction.class, transactions,
        Transaction::getCardId);
    int labelId = registry.getLatest(labelTopic + "-value").id();
    int txId = registry.getLatest(txTopic + "-value").id();

    // When kafkajs consumes both topics and decodes with its registry client
    List<JsonNode> labelsRead = events(node("--mode=consume", "--topic=" + labelTopic,
        "--count=" + labels.size()), "consumed");
    List<JsonNode> txRead = events(node("--mode=consume", "--topic=" + txTopic,
        "--count=" + transactions.size()), "consumed");

    // Then it read Flywheel's schema ids, and the same field values (millis as numbers)
    assertThat(labelsRead).hasSize(labels.size());
    for (int i = 0; i < labels.size(); i++) {
      JsonNode read = labelsRead.get(i);
      assertThat(read.get("schemaId").asInt()).isEqualTo(labelId);
      assertSameJson(read.get("value"), labelJson(labels.get(i)));
      // And its own encoding of what it read is byte for byte what Flywheel wrote
      assertThat(read.get("hex").asText()).isEqualTo(HEX.formatHex(labelBytes.get(i)));
      assertThat(read.get("reencodedHex").asText()).isEqualTo(HEX.formatHex(labelBytes.get(i)));
    }
    assertThat(txRead).hasSize(transactions.size());
    for (int i = 0; i < transactions.size(); i++) {
      JsonNode read = txRead.get(i);
      assertThat(read.get("schemaId").asInt()).isEqualTo(txId);
      assertThat(read.get("key").asText()).isEqualTo(transactions.get(i).getCardId());
      assertSameJson(read.get("value"), transactionJson(transactions.get(i)));
      assertThat(read.get("hex").asText()).isEqualTo(HEX.formatHex(txBytes.get(i)));
      assertThat(read.get("reencodedHex").asText()).isEqualTo(HEX.formatHex(txBytes.get(i)));
    }
  }

  @Test
  void shouldFindUnderRecordNameStrategyTheSubjectKafkajsNamedAfterTheRecord() throws Exception {
    // Given Transaction's schema in a namespace only this test uses, and kafkajs's default
    // subject for it: the record's full name, as Confluent's RecordNameStrategy names it
    String namespace = "interop." + names.prefix().replaceAll("[^A-Za-z0-9_]", "_");
    ObjectNode schemaJson = (ObjectNode) JSON.readTree(Transaction.getClassSchema().toString());
    schemaJson.put("namespace", namespace);
    org.apache.avro.Schema schema = new org.apache.avro.Schema.Parser().parse(
        schemaJson.toString());
    Path schemaFile = runDir.resolve("transaction.avsc");
    Files.writeString(schemaFile, schema.toString());
    Transaction tx = transaction("tx-9", "card-9", "m-9", "electronics", 99.99, "EUR", "NL",
        Channel.MOBILE, 1_700_000_000_999L);
    Path recordsFile = runDir.resolve("transactions.jsonl");
    Files.writeString(recordsFile, transactionJson(tx).toString() + "\n");
    String topic = createTopic("transactions-record-named");

    // When kafkajs registers it without naming a subject and produces one transaction
    List<JsonNode> out = node("--mode=produce", "--topic=" + topic,
        "--schema-file=" + schemaFile, "--records-file=" + recordsFile, "--count=1");

    // Then the subject is the record's full name, with kafkajs's id
    int kafkajsId = events(out, "registered").get(0).get("id").asInt();
    String subject = namespace + ".Transaction";
    assertThat(registry.listSubjects()).contains(subject);
    assertThat(registry.getLatest(subject).id()).isEqualTo(kafkajsId);

    // And Flywheel's generic serde under RecordNameStrategy, not registering, finds that id and
    // writes the same bytes, and reads them back
    byte[] kafkajsBytes = readRaw(topic, 1).get(0).value();
    org.apache.avro.generic.GenericData.Record record =
        new org.apache.avro.generic.GenericData.Record(schema);
    record.put("event_id", tx.getEventId());
    record.put("card_id", tx.getCardId());
    record.put("merchant", tx.getMerchant());
    record.put("category", tx.getCategory());
    record.put("amount", tx.getAmount());
    record.put("currency", tx.getCurrency());
    record.put("country", tx.getCountry());
    record.put("channel", new org.apache.avro.generic.GenericData.EnumSymbol(
        schema.getField("channel").schema(), tx.getChannel().name()));
    record.put("event_time", tx.getEventTime().toEpochMilli());
    try (GenericAvroSerde generic = new GenericAvroSerde(registry)) {
      generic.configure(Map.of(
          dev.flywheel.serde.AvroSerdeConfig.VALUE_SUBJECT_NAME_STRATEGY,
          dev.flywheel.serde.RecordNameStrategy.class,
          dev.flywheel.serde.AvroSerdeConfig.AUTO_REGISTER_SCHEMAS, false), false);
      byte[] flywheelBytes = generic.serializer().serialize(topic, record);
      assertThat(HEX.formatHex(flywheelBytes)).isEqualTo(HEX.formatHex(kafkajsBytes));
      assertThat(ByteBuffer.wrap(flywheelBytes, 1, 4).getInt()).isEqualTo(kafkajsId);
      GenericRecord read = generic.deserializer().deserialize(topic, kafkajsBytes);
      assertThat(read.get("amount")).isEqualTo(99.99);
      assertThat(read.get("channel").toString()).isEqualTo("MOBILE");
      assertThat(read.get("event_time")).isEqualTo(1_700_000_000_999L);
    }
  }

  @Test
  void shouldDecodeWithKafkajsAndItsLz4CodecTheLz4BatchesAJavaProducerWrote() throws Exception {
    // Given feature vectors written as feature-streams writes its log: lz4, many to a batch
    String topic = createTopic("features-lz4-from-flywheel");
    List<FeatureVector> vectors = featureVectors(new Random(42), 400);
    List<byte[]> written = produceWithFlywheel(topic, FeatureVector.class, vectors,
        FeatureVector::getEntityId, Map.of(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4",
            ProducerConfig.LINGER_MS_CONFIG, 50));
    assertThat(batchCodecs(topic)).as("codecs of the batches on the broker")
        .containsExactly(CompressionType.LZ4);
    int id = registry.getLatest(topic + "-value").id();

    // When kafkajs consumes them with lz4js registered as its lz4 codec
    List<JsonNode> read = events(node("--mode=consume", "--topic=" + topic,
        "--count=" + vectors.size()), "consumed");

    // Then it read every vector, with the same values and the bytes Flywheel wrote
    assertThat(read).hasSize(vectors.size());
    for (int i = 0; i < vectors.size(); i++) {
      JsonNode vector = read.get(i);
      assertThat(vector.get("schemaId").asInt()).isEqualTo(id);
      assertThat(vector.get("key").asText()).isEqualTo(vectors.get(i).getEntityId());
      assertSameJson(vector.get("value"), featureVectorJson(vectors.get(i)));
      assertThat(vector.get("hex").asText()).isEqualTo(HEX.formatHex(written.get(i)));
      assertThat(vector.get("reencodedHex").asText()).isEqualTo(HEX.formatHex(written.get(i)));
    }

    // And without a codec kafkajs stops at the first batch with its own error, the one a user
    // of kafkajs meets before registering one
    Run plain = nodeRun("--mode=consume", "--topic=" + topic, "--count=1", "--lz4-codec=none",
        "--timeout-ms=30000");
    assertThat(plain.exitCode()).as("kafkajs without a codec: %s", plain.describe()).isOne();
    assertThat(plain.stderr()).contains("LZ4 compression not implemented");
  }

  @Test
  void shouldDecodeWithFlywheelTheLz4BatchesKafkajsWroteWithItsLz4Codec() throws Exception {
    // Given Transactions, and kafkajs producing them with lz4 through lz4js
    String topic = createTopic("transactions-lz4-from-kafkajs");
    List<Transaction> transactions = List.of(
        transaction("tx-21", "card-1", "m-1", "grocery", 12.5, "EUR", "DE", Channel.POS,
            1_700_000_001_000L),
        transaction("tx-22", "card-2", "m-ü", "travel", 999.99, "USD", "US", Channel.ECOMMERCE,
            1_700_000_002_000L),
        transaction("tx-23", "card-1", "m-1", "grocery", 12.5, "EUR", "DE", Channel.POS,
            1_700_000_003_000L));
    Path schemaFile = runDir.resolve("transaction.avsc");
    Files.writeString(schemaFile, Transaction.getClassSchema().toString());
    Path recordsFile = runDir.resolve("transactions.jsonl");
    Files.write(recordsFile, transactions.stream().map(t -> transactionJson(t).toString())
        .toList());

    // When kafkajs registers the schema and produces them, one lz4 batch per send
    node("--mode=produce", "--topic=" + topic, "--subject=" + topic + "-value",
        "--schema-file=" + schemaFile, "--records-file=" + recordsFile,
        "--count=" + transactions.size(), "--compression=lz4");

    // Then the broker holds lz4 batches, and Flywheel's consumer and serde read every record
    assertThat(batchCodecs(topic)).containsExactly(CompressionType.LZ4);
    List<ConsumerRecord<byte[], byte[]>> records = readRaw(topic, transactions.size());
    try (SpecificAvroSerde<Transaction> serde =
        new SpecificAvroSerde<>(registry, Transaction.class)) {
      for (int i = 0; i < transactions.size(); i++) {
        assertThat(serde.deserializer().deserialize(topic, records.get(i).value()))
            .isEqualTo(transactions.get(i));
      }
    }
  }

  // ---- records and their JSON as avsc reads them (unions of null and one type unwrapped) ----

  private static Label label(String eventId, long eventTime, Long labelledEventTime,
      String entityId, String target, double value, String source) {
    return Label.newBuilder()
        .setEventId(eventId)
        .setEventTime(Instant.ofEpochMilli(eventTime))
        .setLabelledEventTime(labelledEventTime == null ? null
            : Instant.ofEpochMilli(labelledEventTime))
        .setEntityId(entityId)
        .setTarget(target)
        .setValue(value)
        .setSource(source)
        .build();
  }

  private static Transaction transaction(String eventId, String cardId, String merchant,
      String category, double amount, String currency, String country, Channel channel,
      long eventTime) {
    return Transaction.newBuilder()
        .setEventId(eventId).setCardId(cardId).setMerchant(merchant).setCategory(category)
        .setAmount(amount).setCurrency(currency).setCountry(country).setChannel(channel)
        .setEventTime(Instant.ofEpochMilli(eventTime))
        .build();
  }

  private static ObjectNode labelJson(Label label) {
    ObjectNode json = JSON.createObjectNode();
    json.put("event_id", label.getEventId());
    json.put("event_time", label.getEventTime().toEpochMilli());
    if (label.getLabelledEventTime() == null) {
      json.putNull("labelled_event_time");
    } else {
      json.put("labelled_event_time", label.getLabelledEventTime().toEpochMilli());
    }
    json.put("entity_id", label.getEntityId());
    json.put("target", label.getTarget());
    json.put("value", label.getValue());
    json.put("source", label.getSource());
    return json;
  }

  private static ObjectNode transactionJson(Transaction tx) {
    ObjectNode json = JSON.createObjectNode();
    json.put("event_id", tx.getEventId());
    json.put("card_id", tx.getCardId());
    json.put("merchant", tx.getMerchant());
    json.put("category", tx.getCategory());
    json.put("amount", tx.getAmount());
    json.put("currency", tx.getCurrency());
    json.put("country", tx.getCountry());
    json.put("channel", tx.getChannel().name());
    json.put("event_time", tx.getEventTime().toEpochMilli());
    return json;
  }

  /** Vectors shaped like card_activity's: 21 numeric features, some undefined, one categorical. */
  private static List<FeatureVector> featureVectors(Random random, int count) {
    List<FeatureVector> vectors = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      Map<String, Double> numeric = new LinkedHashMap<>();
      for (int f = 0; f < 21; f++) {
        numeric.put("feature_" + f + "_over_" + (f % 4 == 0 ? "7d" : "24h"),
            random.nextInt(10) == 0 ? null : Math.round(random.nextDouble() * 1e6) / 100.0);
      }
      Map<String, String> categorical = new LinkedHashMap<>();
      categorical.put("last_category", random.nextBoolean() ? null : "category-" + (i % 7));
      Instant time = Instant.ofEpochMilli(1_700_000_000_000L + 1_000L * i);
      vectors.add(FeatureVector.newBuilder()
          .setEventId("tx-" + i)
          .setEventTime(time)
          .setEntityId("card-" + random.nextInt(50))
          .setFeatureGroup("card_activity")
          .setFeatureGroupVersion(i % 2 == 0 ? "v-1" : null)
          .setFeatures(numeric)
          .setCategoricalFeatures(categorical)
          .setAsOf(time)
          .setComputedAt(i % 3 == 0 ? null : time.plusMillis(7))
          .setSource(i % 5 == 0 ? null : new RecordOrigin("transactions", i % 3, (long) i))
          .build());
    }
    return vectors;
  }

  private static ObjectNode featureVectorJson(FeatureVector v) {
    ObjectNode json = JSON.createObjectNode();
    json.put("event_id", v.getEventId());
    json.put("event_time", v.getEventTime().toEpochMilli());
    json.put("entity_id", v.getEntityId());
    json.put("feature_group", v.getFeatureGroup());
    json.put("feature_group_version", v.getFeatureGroupVersion());
    ObjectNode numeric = json.putObject("features");
    v.getFeatures().forEach(numeric::put);
    ObjectNode categorical = json.putObject("categorical_features");
    v.getCategoricalFeatures().forEach(categorical::put);
    json.put("as_of", v.getAsOf().toEpochMilli());
    if (v.getComputedAt() == null) {
      json.putNull("computed_at");
    } else {
      json.put("computed_at", v.getComputedAt().toEpochMilli());
    }
    if (v.getSource() == null) {
      json.putNull("source");
    } else {
      ObjectNode source = json.putObject("source");
      source.put("topic", v.getSource().getTopic());
      source.put("partition", v.getSource().getPartition());
      source.put("offset", v.getSource().getOffset());
    }
    return json;
  }

  /**
   * JSON equality where numbers compare by value: JavaScript prints the double 1.0 as {@code 1},
   * which Jackson reads as an int.
   */
  private static void assertSameJson(JsonNode actual, JsonNode expected) {
    Comparator<JsonNode> numeric = (a, b) -> a.isNumber() && b.isNumber()
        ? Double.compare(a.doubleValue(), b.doubleValue())
        : (a.equals(b) ? 0 : 1);
    assertThat(actual.equals(numeric, expected)).as("%s equals %s", actual, expected).isTrue();
  }

  // ---- Kafka on the Flywheel side ----

  private String createTopic(String name) throws Exception {
    String topic = names.topic(name);
    try (Admin admin = Admin.create(Map.of(
        AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, devstack.bootstrapServers()))) {
      // One partition: both sides see the records in the order they were written
      admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all()
          .get(30, TimeUnit.SECONDS);
    }
    return topic;
  }

  private <T extends org.apache.avro.specific.SpecificRecord> List<byte[]> produceWithFlywheel(
      String topic, Class<T> type, List<T> values, java.util.function.Function<T, String> key)
      throws Exception {
    return produceWithFlywheel(topic, type, values, key, Map.of());
  }

  /**
   * Sends every value, then waits for them all: with a linger in {@code settings}, many go to a
   * batch. Returns the bytes of each value as the serde wrote it.
   */
  private <T extends org.apache.avro.specific.SpecificRecord> List<byte[]> produceWithFlywheel(
      String topic, Class<T> type, List<T> values, java.util.function.Function<T, String> key,
      Map<String, Object> settings) throws Exception {
    Map<String, Object> config = new HashMap<>(settings);
    config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, devstack.bootstrapServers());
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    List<byte[]> written = new ArrayList<>();
    try (SpecificAvroSerde<T> serde = new SpecificAvroSerde<>(registry, type);
        KafkaProducer<String, T> producer = new KafkaProducer<>(config, new StringSerializer(),
            serde.serializer())) {
      List<Future<RecordMetadata>> sends = new ArrayList<>();
      for (T value : values) {
        sends.add(producer.send(new ProducerRecord<>(topic, key.apply(value), value)));
        written.add(serde.serializer().serialize(topic, value));
      }
      for (Future<RecordMetadata> send : sends) {
        send.get(30, TimeUnit.SECONDS);
      }
    }
    return written;
  }

  /** The codecs of the record batches the broker holds for partition 0 of {@code topic}. */
  private Set<CompressionType> batchCodecs(String topic) throws IOException {
    Set<CompressionType> codecs = EnumSet.noneOf(CompressionType.class);
    List<Path> segments;
    try (Stream<Path> files = Files.list(devstack.kafka().logDir().resolve(topic + "-0"))) {
      segments = files.filter(file -> file.toString().endsWith(".log")).toList();
    }
    for (Path segment : segments) {
      FileRecords records = FileRecords.open(segment.toFile(), false);
      try {
        records.batches().forEach(batch -> codecs.add(batch.compressionType()));
      } finally {
        records.closeHandlers();
      }
    }
    return codecs;
  }

  private List<ConsumerRecord<byte[], byte[]>> readRaw(String topic, int count) {
    List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, devstack.bootstrapServers(),
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false), new ByteArrayDeserializer(),
        new ByteArrayDeserializer())) {
      TopicPartition partition = new TopicPartition(topic, 0);
      consumer.assign(List.of(partition));
      consumer.seekToBeginning(List.of(partition));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (records.size() < count && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(records::add);
      }
    }
    assertThat(records).as("records on %s", topic).hasSize(count);
    return records;
  }

  // ---- node ----

  private List<JsonNode> node(String... args) throws Exception {
    Run run = nodeRun(args);
    assertThat(run.exitCode()).as("interop.js %s", run.describe()).isZero();
    List<JsonNode> lines = new ArrayList<>();
    for (String line : run.stdout().split("\n")) {
      if (!line.isBlank()) {
        lines.add(JSON.readTree(line));
      }
    }
    assertThat(lines).as("interop.js output").isNotEmpty();
    assertThat(lines.get(lines.size() - 1).get("event").asText()).isEqualTo("done");
    return lines;
  }

  private Run nodeRun(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("node", "interop.js",
        "--bootstrap=" + devstack.bootstrapServers(),
        "--registry=" + devstack.schemaRegistryUrl()));
    command.addAll(List.of(args));
    return run(runDir, NODE_TIMEOUT, command, Map.of());
  }

  private static List<JsonNode> events(List<JsonNode> lines, String event) {
    return lines.stream().filter(line -> event.equals(line.path("event").asText())).toList();
  }

  private record Run(List<String> command, int exitCode, String stdout, String stderr) {
    String describe() {
      String tail = stderr.length() > 4000 ? stderr.substring(stderr.length() - 4000) : stderr;
      return String.join(" ", command) + " exited " + exitCode + "\nstdout:\n" + stdout
          + "\nstderr:\n" + tail;
    }
  }

  /** Runs a process to its end, killing it (exit code -1) when it outlives the timeout. */
  private static Run run(Path dir, Duration timeout, List<String> command, Map<String, String> env)
      throws IOException, InterruptedException {
    Path stdout = Files.createTempFile("flywheel-kafkajs-out-", ".txt");
    Path stderr = Files.createTempFile("flywheel-kafkajs-err-", ".txt");
    try {
      ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile())
          .redirectInput(ProcessBuilder.Redirect.from(nullDevice()))
          .redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
      builder.environment().putAll(env);
      Process process = builder.start();
      int exit;
      if (process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        exit = process.exitValue();
      } else {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        exit = -1;
        Files.writeString(stderr, "\n[killed after " + timeout + "]",
            java.nio.file.StandardOpenOption.APPEND);
      }
      return new Run(command, exit, Files.readString(stdout), Files.readString(stderr));
    } finally {
      Files.deleteIfExists(stdout);
      Files.deleteIfExists(stderr);
    }
  }

  private static java.io.File nullDevice() {
    return new java.io.File(System.getProperty("os.name").startsWith("Windows") ? "NUL"
        : "/dev/null");
  }

  /** Why {@code tool} cannot run, or empty when {@code tool --version} works. */
  private static Optional<String> missingTool(String tool) {
    try {
      Run version = run(Path.of("."), Duration.ofSeconds(30), List.of(tool, "--version"),
          Map.of());
      return version.exitCode() == 0 ? Optional.empty()
          : Optional.of(tool + " --version failed: " + version.describe());
    } catch (IOException e) {
      return Optional.of(tool + " is not on the PATH (" + e.getMessage() + ")");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.of("interrupted while looking for " + tool);
    }
  }

  private static void deleteTree(Path root) {
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(path -> {
        try {
          Files.deleteIfExists(path);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    } catch (IOException | UncheckedIOException e) {
      // best effort: a temp dir
    }
  }
}
