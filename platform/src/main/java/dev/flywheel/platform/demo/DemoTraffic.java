package dev.flywheel.platform.demo;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * Seeded synthetic card traffic with a learnable fraud signal and late labels: the demo's
 * stand-in for a payment processor and its chargeback feed. The same seed gives the same payments
 * and labels at the same event times.
 *
 * <p>Each card has a home country, a usual amount and a usual channel. Legitimate payments stay
 * close to the card's usual amount, mostly at home. Fraud comes in bursts on one card: two to six
 * payments minutes apart, several times the card's usual amount, often abroad, card-not-present
 * and at electronics or gift-card merchants; a few legitimate payments look like that too (travel,
 * a new laptop), and some thieves first test a card with small payments at home, so the signal
 * is strong but not perfect.
 *
 * <p>Labels arrive late: the outcome of a payment is known 2 to 15 event minutes after it (a
 * chargeback or a confirmed review), and {@link #LABEL_MISSING_RATE} of payments are never
 * labelled.
 *
 * <p>{@link #shift()} changes the traffic from then on the way a new market or a price rise does:
 * amounts are inflated, the merchant mix moves to online marketplaces and subscriptions, more
 * payments are card-not-present, and fraud rings hit harder (longer bursts, larger amounts, fewer
 * small test payments).
 */
public final class DemoTraffic {

  /** Share of payments whose outcome is never reported. */
  public static final double LABEL_MISSING_RATE = 0.1;
  /** The label target the demo model learns. */
  public static final String TARGET = "is_fraud";
  /** The {@code source} of the demo's labels. */
  public static final String LABEL_SOURCE = "demo-chargebacks";

  private static final String[] COUNTRIES = {"DE", "FR", "NL", "ES", "IT", "PL", "SE"};
  private static final String[] FOREIGN = {"US", "BR", "NG", "RU", "TH", "MX", "CN", "AE"};
  private static final String[] NORMAL_CATEGORIES = {"grocery", "restaurants", "fuel",
      "pharmacy", "clothing", "transport", "electronics", "travel"};
  private static final double[] NORMAL_WEIGHTS = {0.30, 0.18, 0.12, 0.08, 0.12, 0.12, 0.04, 0.04};
  private static final String[] SHIFTED_CATEGORIES = {"grocery", "restaurants", "fuel",
      "online_marketplace", "subscriptions", "transport", "electronics", "travel"};
  private static final double[] SHIFTED_WEIGHTS = {0.14, 0.10, 0.06, 0.30, 0.20, 0.06, 0.08,
      0.06};
  private static final String[] FRAUD_CATEGORIES = {"electronics", "gift_cards", "jewelry",
      "online_marketplace"};
  private static final String[] CHANNELS = {"POS", "ECOMMERCE", "MOBILE", "ATM"};
  private static final long MINUTE_MS = 60_000;

  private final SplittableRandom random;
  private final List<Card> cards;
  private final PriorityQueue<Payment> burstQueue =
      new PriorityQueue<>((a, b) -> Long.compare(a.eventTimeMs(), b.eventTimeMs()));
  private final PriorityQueue<Outcome> labelQueue =
      new PriorityQueue<>((a, b) -> Long.compare(a.eventTimeMs(), b.eventTimeMs()));
  private boolean shifted;
  private long sequence;
  private long frauds;
  private long payments;

  /**
   * @param seed the random seed; the same seed gives the same traffic
   * @param cardCount how many cards pay
   */
  public DemoTraffic(long seed, int cardCount) {
    if (cardCount < 1) {
      throw new IllegalArgumentException("cardCount must be at least 1, got " + cardCount);
    }
    this.random = new SplittableRandom(seed);
    this.cards = new ArrayList<>(cardCount);
    Random names = new Random(seed);
    for (int i = 0; i < cardCount; i++) {
      String id = String.format("card-%05d", i);
      String home = COUNTRIES[Math.min(COUNTRIES.length - 1,
          (int) Math.floor(Math.abs(names.nextGaussian()) * 2.2))];
      double usual = Math.exp(3.2 + 0.6 * names.nextGaussian());
      String channel = names.nextDouble() < 0.65 ? "POS" : names.nextDouble() < 0.6 ? "MOBILE"
          : "ECOMMERCE";
      cards.add(new Card(id, home, usual, channel));
    }
  }

  /** From now on, the shifted traffic of phase 2. */
  public synchronized void shift() {
    shifted = true;
  }

  /** Whether {@link #shift()} was called. */
  public synchronized boolean shifted() {
    return shifted;
  }

  /** Payments produced so far, fraud included. */
  public synchronized long payments() {
    return payments;
  }

  /** Fraudulent payments produced so far. */
  public synchronized long frauds() {
    return frauds;
  }

  /**
   * The payments of the event-time interval [{@code fromMs}, {@code toMs}): {@code count} new
   * ones spread evenly over it, plus the burst payments of earlier frauds that fall in it, in
   * event-time order.
   */
  public synchronized List<Payment> payments(long fromMs, long toMs, int count) {
    List<Payment> out = new ArrayList<>(count + 4);
    long span = Math.max(1, toMs - fromMs);
    for (int i = 0; i < count; i++) {
      long t = fromMs + span * i / Math.max(1, count);
      while (!burstQueue.isEmpty() && burstQueue.peek().eventTimeMs() <= t) {
        out.add(record(burstQueue.poll()));
      }
      out.add(record(next(t)));
    }
    while (!burstQueue.isEmpty() && burstQueue.peek().eventTimeMs() < toMs) {
      out.add(record(burstQueue.poll()));
    }
    return out;
  }

  /** The labels whose outcome became known by event time {@code untilMs}, oldest first. */
  public synchronized List<Outcome> labelsUntil(long untilMs) {
    List<Outcome> out = new ArrayList<>();
    while (!labelQueue.isEmpty() && labelQueue.peek().eventTimeMs() <= untilMs) {
      out.add(labelQueue.poll());
    }
    return out;
  }

  private Payment record(Payment p) {
    payments++;
    if (p.fraud()) {
      frauds++;
    }
    if (random.nextDouble() >= LABEL_MISSING_RATE) {
      long delay = 2 * MINUTE_MS + (long) (random.nextDouble() * 13 * MINUTE_MS);
      labelQueue.add(new Outcome(p.eventId(), p.eventTimeMs() + delay, p.cardId(),
          p.eventTimeMs(), p.fraud() ? 1.0 : 0.0));
    }
    return p;
  }

  private Payment next(long t) {
    Card card = cards.get(random.nextInt(cards.size()));
    double fraudStart = shifted ? 0.012 : 0.010;
    if (random.nextDouble() < fraudStart) {
      // a stolen card: this payment and a burst of further ones minutes apart; some thieves
      // first test the card with small payments at home (hard to tell from the owner)
      boolean testing = random.nextDouble() < (shifted ? 0.05 : 0.2);
      int burst = 1 + random.nextInt(shifted ? 3 : 2, shifted ? 6 : 5);
      long at = t;
      Payment first = null;
      for (int i = 0; i < burst; i++) {
        Payment p = testing ? cardTest(card, at) : fraud(card, at);
        if (first == null) {
          first = p;
        } else {
          burstQueue.add(p);
        }
        at += (long) ((0.5 + random.nextDouble() * 3) * MINUTE_MS);
      }
      return first;
    }
    return legit(card, t);
  }

  private Payment legit(Card card, long t) {
    double inflation = shifted ? 1.7 : 1.0;
    double amount = card.usualAmount() * Math.exp(0.45 * gaussian()) * inflation;
    String country = card.home();
    String category = pick(shifted ? SHIFTED_CATEGORIES : NORMAL_CATEGORIES,
        shifted ? SHIFTED_WEIGHTS : NORMAL_WEIGHTS);
    if (random.nextDouble() < 0.02) {
      // travel, or a rare big purchase: looks unusual, is not fraud
      country = FOREIGN[random.nextInt(FOREIGN.length)];
      amount *= 1.5 + random.nextDouble() * 3;
    }
    String channel = card.channel();
    double online = shifted ? 0.35 : 0.12;
    if (random.nextDouble() < online) {
      channel = "ECOMMERCE";
    } else if (random.nextDouble() < 0.03) {
      channel = "ATM";
    }
    return payment(card, t, category, amount, country, channel, false);
  }

  private Payment fraud(Card card, long t) {
    double low = shifted ? 5 : 3;
    double high = shifted ? 14 : 10;
    double amount = card.usualAmount() * (low + random.nextDouble() * (high - low))
        * (shifted ? 1.7 : 1.0);
    String country = random.nextDouble() < 0.6 ? FOREIGN[random.nextInt(FOREIGN.length)]
        : card.home();
    String category = random.nextDouble() < 0.65
        ? FRAUD_CATEGORIES[random.nextInt(FRAUD_CATEGORIES.length)]
        : pick(NORMAL_CATEGORIES, NORMAL_WEIGHTS);
    String channel = random.nextDouble() < 0.7 ? "ECOMMERCE"
        : CHANNELS[random.nextInt(CHANNELS.length)];
    return payment(card, t, category, amount, country, channel, true);
  }

  private Payment cardTest(Card card, long t) {
    double amount = card.usualAmount() * (0.2 + random.nextDouble() * 0.8)
        * (shifted ? 1.7 : 1.0);
    String category = pick(shifted ? SHIFTED_CATEGORIES : NORMAL_CATEGORIES,
        shifted ? SHIFTED_WEIGHTS : NORMAL_WEIGHTS);
    return payment(card, t, category, amount, card.home(), random.nextDouble() < 0.5
        ? "ECOMMERCE" : card.channel(), true);
  }

  private Payment payment(Card card, long t, String category, double amount, String country,
      String channel, boolean fraud) {
    long n = ++sequence;
    String merchant = category + "-" + random.nextInt(fraud ? 400 : 60);
    return new Payment(String.format("tx-%08d", n), card.id(), merchant, category,
        Math.round(amount * 100) / 100.0, "EUR", country, channel, t, fraud);
  }

  private double gaussian() {
    // Box-Muller on the seeded generator
    double u = 1 - random.nextDouble();
    double v = random.nextDouble();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  private String pick(String[] values, double[] weights) {
    double r = random.nextDouble();
    for (int i = 0; i < values.length; i++) {
      r -= weights[i];
      if (r < 0) {
        return values[i];
      }
    }
    return values[values.length - 1];
  }

  private record Card(String id, String home, double usualAmount, String channel) {}

  /**
   * One card payment, a {@code Transaction} of the {@code transactions} source.
   *
   * @param fraud the truth, known to the generator only; it reaches Flywheel as a late label
   */
  public record Payment(String eventId, String cardId, String merchant, String category,
      double amount, String currency, String country, String channel, long eventTimeMs,
      boolean fraud) {

    /** The JSON object {@code POST /ingest/transactions} takes. */
    public Map<String, Object> toJson() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("event_id", eventId);
      m.put("card_id", cardId);
      m.put("merchant", merchant);
      m.put("category", category);
      m.put("amount", amount);
      m.put("currency", currency);
      m.put("country", country);
      m.put("channel", channel);
      m.put("event_time", eventTimeMs);
      return m;
    }
  }

  /**
   * The known outcome of a payment, a {@code Label} of target {@link #TARGET}.
   *
   * @param eventTimeMs when the outcome became known
   * @param labelledEventTimeMs when the payment happened
   * @param value 1 for fraud, 0 for a legitimate payment
   */
  public record Outcome(String eventId, long eventTimeMs, String cardId, long labelledEventTimeMs,
      double value) {

    /** The JSON object {@code POST /labels} takes. */
    public Map<String, Object> toJson() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("event_id", eventId);
      m.put("event_time", eventTimeMs);
      m.put("labelled_event_time", labelledEventTimeMs);
      m.put("entity_id", cardId);
      m.put("target", TARGET);
      m.put("value", value);
      m.put("source", LABEL_SOURCE);
      return m;
    }
  }
}
