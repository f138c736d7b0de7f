package dev.flywheel.featurestreams;

import dev.flywheel.events.Transaction;
import java.util.Random;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;

/** The demo source as ingest registers it, and transactions as generic records. */
final class TransactionSource {

  static final String NAME = "transactions";

  /** Transaction's schema with the key and time properties ingest stores with a source. */
  static Schema schema() {
    Schema schema = new Schema.Parser().parse(Transaction.getClassSchema().toString());
    schema.addProp(FeatureGroupPlan.SOURCE_KEY_PROPERTY, "card_id");
    schema.addProp(FeatureGroupPlan.SOURCE_TIME_PROPERTY, "event_time");
    return schema;
  }

  /** One generated transaction. */
  record Tx(String eventId, String card, String merchant, String category, double amount,
      String country, String channel, long timeMs) {

    GenericRecord toRecord(Schema schema) {
      GenericData.Record r = new GenericData.Record(schema);
      r.put("event_id", eventId);
      r.put("card_id", card);
      r.put("merchant", merchant);
      r.put("category", category);
      r.put("amount", amount);
      r.put("currency", "EUR");
      r.put("country", country);
      r.put("channel", new GenericData.EnumSymbol(schema.getField("channel").schema(), channel));
      r.put("event_time", timeMs);
      return r;
    }
  }

  private static final String[] CHANNELS = {"POS", "ECOMMERCE", "ATM", "MOBILE"};
  private static final String[] CATEGORIES = {"grocery", "electronics", "travel", "fuel"};

  /** A random transaction of {@code card} at {@code timeMs}. */
  static Tx random(Random random, int seq, String card, long timeMs, int merchants,
      int countries) {
    return new Tx("e-" + seq, card, "m-" + random.nextInt(merchants),
        CATEGORIES[random.nextInt(CATEGORIES.length)],
        Math.round(random.nextDouble() * 20_000) / 100.0,
        "C" + random.nextInt(countries), CHANNELS[random.nextInt(CHANNELS.length)], timeMs);
  }

  private TransactionSource() {}
}
