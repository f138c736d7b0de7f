package dev.flywheel.bench;

import dev.flywheel.events.ModelRegistryState;
import dev.flywheel.events.ModelVersion;
import dev.flywheel.serde.AvroSize;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the registry projector's size check of a model's state costs on every command: measuring
 * the state with {@link AvroSize} against encoding it with Avro, for a model of {@code versions}
 * versions as training runs register them (21 features, 8 metrics, 10 params, lineage with 6
 * offset ranges and a drift reason).
 *
 * <pre>
 * java -jar bench/target/benchmarks.jar RegistryStateSizeBenchmark
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class RegistryStateSizeBenchmark {

  @Param({"100", "800"})
  public int versions;

  private ModelRegistryState state;

  @Setup
  public void setUp() {
    List<ModelVersion> all = new ArrayList<>();
    for (int v = 1; v <= versions; v++) {
      all.add(RealisticVersions.version(v));
    }
    state = ModelRegistryState.newBuilder().setEventId("e").setEventTime(RealisticVersions.T0)
        .setModel("fraud-detector").setSequence(versions).setVersions(all).build();
  }

  /** The exact binary length by walking the state, as the registry's size check does. */
  @Benchmark
  public long measure() {
    return AvroSize.of(state);
  }

  /** The binary length by encoding the state, as a size check without AvroSize would. */
  @Benchmark
  public int encode() throws IOException {
    return state.toByteBuffer().remaining();
  }
}
