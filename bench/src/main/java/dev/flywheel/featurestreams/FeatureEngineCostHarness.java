package dev.flywheel.featurestreams;

import dev.flywheel.events.FeatureVector;
import dev.flywheel.events.Transaction;
import dev.flywheel.registry.InMemorySchemaRegistryClient;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topics;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.apache.avro.Schema;
import org.apache.kafka.common.serialization.Serializer;

/**
 * What the {@code card_activity} feature group costs per event with no Kafka at all: the
 * engine's update and evaluation, the state's encoding and decoding, and the {@code
 * FeatureVector}'s Avro encoding, each timed apart. It lives in the engine's package (on the
 * bench's class path) to reach the package-private engine.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.flywheel.featurestreams.FeatureEngineCostHarness \
 *     [events] [cards] [rounds] [spacing ms] [maxEventsInGrace]
 * </pre>
 *
 * <p>Events as {@code FeatureThroughputBenchmark} produces them: {@code events} (default
 * 300,000) transactions of {@code cards} (default 10,000) random cards, {@code spacing} (default
 * 2,000) ms apart in event time; a fresh engine and state per round (default 4; the last rounds
 * are the warm ones). One card with a spacing of a few milliseconds is a hot entity, with
 * thousands of events within the grace period; {@code maxEventsInGrace} (default the group's,
 * 1,000) bounds how many it holds.
 */
public final class FeatureEngineCostHarness {

  private static final String[] COUNTRIES = {"FR", "DE", "US", "GB", "ES", "IT", "NL", "BE"};
  private static final long T0 = Instant.parse("2026-11-16T00:00:00Z").toEpochMilli();

  private FeatureEngineCostHarness() {}

  public static void main(String[] args) {
    int events = args.length > 0 ? Integer.parseInt(args[0]) : 300_000;
    int cards = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 4;
    long spacingMs = args.length > 3 ? Long.parseLong(args[3]) : 2_000;
    FeatureGroupConfig g = FeatureStreamsConfig.cardActivity().featureGroups().get(0);
    if (args.length > 4) {
      g = g.withMaxEventsInGrace(Integer.parseInt(args[4]));
    }
    Schema source = new Schema.Parser().parse(Transaction.getClassSchema().toString());
    source.addProp(FeatureGroupPlan.SOURCE_KEY_PROPERTY, "card_id");
    source.addProp(FeatureGroupPlan.SOURCE_TIME_PROPERTY, "event_time");
    FeatureGroupPlan plan = FeatureGroupPlan.of(g, source, "bench");
    Serializer<FeatureVector> vectors = Topics.builder(
            new AvroSerdes(new InMemorySchemaRegistryClient(), Map.of())).build()
        .features().valueSerde().serializer();
    System.out.printf(Locale.ROOT, "card_activity: %d features over %d windowed columns, %d"
        + " columns of tiles; %,d events of %,d cards, %d ms apart; maxEventsInGrace %,d%n",
        plan.features().size(), plan.windowed().size(), plan.columns().size(), events, cards,
        spacingMs, g.maxEventsInGrace());
    for (int round = 1; round <= rounds; round++) {
      FeatureEngine engine = new FeatureEngine(plan);
      EntityStateSerde serde = new EntityStateSerde(plan);
      Map<String, EntityState> states = new HashMap<>();
      Random random = new Random(7);
      long apply = 0;
      long encode = 0;
      long decode = 0;
      long vector = 0;
      long stateBytes = 0;
      long vectorBytes = 0;
      for (int i = 0; i < events; i++) {
        String card = "card-" + random.nextInt(cards);
        FeatureEvent e = new FeatureEvent(card, "e-" + i, T0 + spacingMs * i,
            values(plan, random), 0, "bench", 0, i, null, null);
        long t0 = System.nanoTime();
        EntityState s = states.computeIfAbsent(card, k -> engine.newState());
        FeatureEngine.Result result = engine.apply(s, e);
        long t1 = System.nanoTime();
        byte[] bytes = serde.write(s);
        long t2 = System.nanoTime();
        serde.read(bytes);
        long t3 = System.nanoTime();
        byte[] v = vectors.serialize("flywheel.features", vector(plan, e, result.log()));
        long t4 = System.nanoTime();
        apply += t1 - t0;
        encode += t2 - t1;
        decode += t3 - t2;
        vector += t4 - t3;
        stateBytes += bytes.length;
        vectorBytes += v.length;
      }
      System.out.printf(Locale.ROOT, "round %d per event: apply %.2f us, state encode %.2f us"
              + " (%d bytes), state decode %.2f us, vector build and encode %.2f us (%d bytes)%n",
          round, apply / 1e3 / events, encode / 1e3 / events, stateBytes / events,
          decode / 1e3 / events, vector / 1e3 / events, vectorBytes / events);
    }
  }

  private static Object[] values(FeatureGroupPlan plan, Random random) {
    List<FeatureGroupPlan.FieldSlot> fields = plan.fields();
    Object[] values = new Object[fields.size()];
    for (int f = 0; f < values.length; f++) {
      values[f] = switch (fields.get(f).name()) {
        case "amount" -> Math.round(random.nextDouble() * 20_000) / 100.0;
        case "merchant" -> "m-" + random.nextInt(5_000);
        case "country" -> COUNTRIES[random.nextInt(COUNTRIES.length)];
        default -> "x";
      };
    }
    return values;
  }

  /** The vector as the aggregate processor builds it for the feature log. */
  private static FeatureVector vector(FeatureGroupPlan plan, FeatureEvent e, Object[] values) {
    Map<String, Double> numeric = new LinkedHashMap<>();
    Map<String, String> categorical = new LinkedHashMap<>();
    for (int k = 0; k < values.length; k++) {
      FeatureGroupPlan.PlannedFeature f = plan.features().get(k);
      if (f.categorical()) {
        categorical.put(f.name(), values[k] == null ? null : values[k].toString());
      } else {
        numeric.put(f.name(), (Double) values[k]);
      }
    }
    Instant t = Instant.ofEpochMilli(e.timeMs());
    return FeatureVector.newBuilder().setEventId(e.eventId()).setEventTime(t)
        .setEntityId(e.entity()).setFeatureGroup(plan.name()).setFeatureGroupVersion("1")
        .setFeatures(numeric).setCategoricalFeatures(categorical).setAsOf(t)
        .setComputedAt(Instant.now()).setSource(null).build();
  }
}
