package dev.flywheel.bench;

import dev.flywheel.devstack.Devstack;
import dev.flywheel.events.FeatureVector;
import dev.flywheel.events.RecordOrigin;
import dev.flywheel.registry.SchemaRegistryClient;
import dev.flywheel.serde.SpecificAvroSerde;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serializer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Round trip (serialize, then deserialize) of one {@code FeatureVector} of 24 features: Flywheel's
 * Confluent wire-format serde, talking to the embedded schema registry over HTTP, against plain
 * Avro binary encoding of the same record with reused encoder and decoder. The ratio of the two
 * shows what the wire format and registry lookups cost once the ids and schemas are cached.
 *
 * <pre>
 * java -jar bench/target/benchmarks.jar SerdeBenchmark
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class SerdeBenchmark {

  private static final String TOPIC = "flywheel.features";

  private Devstack devstack;
  private SchemaRegistryClient registry;
  private Serializer<FeatureVector> serializer;
  private Deserializer<FeatureVector> deserializer;
  private FeatureVector vector;

  private final SpecificDatumWriter<FeatureVector> plainWriter =
      new SpecificDatumWriter<>(FeatureVector.getClassSchema());
  private final SpecificDatumReader<FeatureVector> plainReader =
      new SpecificDatumReader<>(FeatureVector.getClassSchema());
  private final ByteArrayOutputStream plainOut = new ByteArrayOutputStream(1024);
  private BinaryEncoder plainEncoder;
  private BinaryDecoder plainDecoder;

  @Setup(Level.Trial)
  public void setUp() {
    devstack = Devstack.builder().build().start();
    registry = SchemaRegistryClient.builder().url(devstack.schemaRegistryUrl()).build();
    SpecificAvroSerde<FeatureVector> serde = new SpecificAvroSerde<>(registry, FeatureVector.class);
    serde.configure(Map.of("schema.registry.url", devstack.schemaRegistryUrl()), false);
    serializer = serde.serializer();
    deserializer = serde.deserializer();
    vector = sampleVector();
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    devstack.close();
  }

  /** Flywheel's serde: magic byte, schema id, Avro body; ids and schemas cached after the first. */
  @Benchmark
  public FeatureVector flywheelSerdeRoundTrip() {
    byte[] bytes = serializer.serialize(TOPIC, vector);
    return deserializer.deserialize(TOPIC, bytes);
  }

  /** Plain Avro binary encoding of the same record: the ceiling. */
  @Benchmark
  public FeatureVector plainAvroRoundTrip() throws IOException {
    plainOut.reset();
    plainEncoder = EncoderFactory.get().binaryEncoder(plainOut, plainEncoder);
    plainWriter.write(vector, plainEncoder);
    plainEncoder.flush();
    byte[] bytes = plainOut.toByteArray();
    plainDecoder = DecoderFactory.get().binaryDecoder(bytes, plainDecoder);
    return plainReader.read(null, plainDecoder);
  }

  static FeatureVector sampleVector() {
    Map<String, Double> features = new LinkedHashMap<>();
    String[] windows = {"10m", "1h", "24h", "7d"};
    String[] aggregations = {"count", "sum", "mean", "min", "max", "stddev"};
    double value = 1.5;
    for (String window : windows) {
      for (String aggregation : aggregations) {
        features.put("amount_" + aggregation + "_" + window, value);
        value = value * 1.7 + 3.1;
      }
    }
    Map<String, String> categorical = new LinkedHashMap<>();
    categorical.put("last_merchant_category", "groceries");
    categorical.put("last_country", "NL");
    Instant now = Instant.parse("2026-11-23T10:00:00.123Z");
    return FeatureVector.newBuilder()
        .setEventId("evt-000000000042")
        .setEventTime(now)
        .setEntityId("card-1234567890")
        .setFeatureGroup("card_activity")
        .setFeatureGroupVersion("sha256:4f1c")
        .setFeatures(features)
        .setCategoricalFeatures(categorical)
        .setAsOf(now)
        .setComputedAt(now.plusMillis(3))
        .setSource(RecordOrigin.newBuilder().setTopic("flywheel.data.transactions")
            .setPartition(3).setOffset(1_234_567L).build())
        .build();
  }
}
