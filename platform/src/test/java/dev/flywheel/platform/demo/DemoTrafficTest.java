package dev.flywheel.platform.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DemoTrafficTest {

  private static final long MINUTE = 60_000;

  private static List<DemoTraffic.Payment> minutes(DemoTraffic traffic, long startMs, int minutes,
      int perMinute) {
    List<DemoTraffic.Payment> all = new ArrayList<>();
    for (int m = 0; m < minutes; m++) {
      all.addAll(traffic.payments(startMs + m * MINUTE, startMs + (m + 1) * MINUTE, perMinute));
    }
    return all;
  }

  @Test
  void shouldProduceTheSameTrafficForTheSameSeed() {
    // Given two generators with one seed
    DemoTraffic a = new DemoTraffic(7, 200);
    DemoTraffic b = new DemoTraffic(7, 200);

    // When both produce an hour of payments
    List<DemoTraffic.Payment> first = minutes(a, 0, 60, 50);
    List<DemoTraffic.Payment> second = minutes(b, 0, 60, 50);

    // Then the payments and labels are identical
    assertThat(first).isEqualTo(second);
    assertThat(a.labelsUntil(Long.MAX_VALUE)).isEqualTo(b.labelsUntil(Long.MAX_VALUE));
  }

  @Test
  void shouldEmitPaymentsInEventTimeOrderWithinTheirInterval() {
    // Given a generator
    DemoTraffic traffic = new DemoTraffic(1, 100);

    // When it produces two hours of payments minute by minute
    List<DemoTraffic.Payment> payments = minutes(traffic, 1_000_000, 120, 40);

    // Then event times never go backwards, and ids are unique
    for (int i = 1; i < payments.size(); i++) {
      assertThat(payments.get(i).eventTimeMs()).isGreaterThanOrEqualTo(
          payments.get(i - 1).eventTimeMs());
    }
    assertThat(payments.stream().map(DemoTraffic.Payment::eventId).distinct().count())
        .isEqualTo(payments.size());
  }

  @Test
  void shouldMakeFraudRareBurstyAndExpensiveRelativeToTheCard() {
    // Given a day of traffic
    DemoTraffic traffic = new DemoTraffic(3, 500);
    List<DemoTraffic.Payment> payments = minutes(traffic, 0, 24 * 60, 20);

    // Then a few percent are fraud
    double fraudRate = payments.stream().filter(DemoTraffic.Payment::fraud).count()
        / (double) payments.size();
    assertThat(fraudRate).isBetween(0.02, 0.08);

    // And fraud is far above the card's usual amount, legitimate payments close to it
    Map<String, List<Double>> legitByCard = new HashMap<>();
    payments.stream().filter(p -> !p.fraud())
        .forEach(p -> legitByCard.computeIfAbsent(p.cardId(), c -> new ArrayList<>())
            .add(p.amount()));
    double fraudRatio = payments.stream().filter(DemoTraffic.Payment::fraud)
        .filter(p -> legitByCard.containsKey(p.cardId()))
        .mapToDouble(p -> p.amount() / median(legitByCard.get(p.cardId())))
        .average().orElseThrow();
    assertThat(fraudRatio).isGreaterThan(3);

    // And fraud happens abroad far more often than legitimate payments do
    double fraudAbroad = share(payments, true, p -> !isHome(p.country()));
    double legitAbroad = share(payments, false, p -> !isHome(p.country()));
    assertThat(fraudAbroad).isGreaterThan(5 * legitAbroad);
  }

  @Test
  void shouldLabelPaymentsLateAndLeaveSomeUnlabelled() {
    // Given an hour of payments
    DemoTraffic traffic = new DemoTraffic(5, 300);
    List<DemoTraffic.Payment> payments = minutes(traffic, 0, 60, 100);
    Map<String, DemoTraffic.Payment> byId = new HashMap<>();
    payments.forEach(p -> byId.put(p.eventId(), p));

    // When every label up to the end of the hour is collected, then the rest
    List<DemoTraffic.Outcome> early = traffic.labelsUntil(60 * MINUTE);
    List<DemoTraffic.Outcome> late = traffic.labelsUntil(Long.MAX_VALUE);

    // Then each label is 2 to 15 minutes after its payment and tells the truth
    List<DemoTraffic.Outcome> all = new ArrayList<>(early);
    all.addAll(late);
    for (DemoTraffic.Outcome o : all) {
      DemoTraffic.Payment p = byId.get(o.eventId());
      assertThat(o.eventTimeMs() - p.eventTimeMs()).isBetween(2 * MINUTE, 15 * MINUTE);
      assertThat(o.value()).isEqualTo(p.fraud() ? 1.0 : 0.0);
      assertThat(o.labelledEventTimeMs()).isEqualTo(p.eventTimeMs());
    }
    // And some labels arrive after the hour, and about a tenth never arrive
    assertThat(late).isNotEmpty();
    assertThat(1 - all.size() / (double) payments.size())
        .isCloseTo(DemoTraffic.LABEL_MISSING_RATE, within(0.03));
  }

  @Test
  void shouldInflateAmountsAndMoveTheMerchantMixAfterTheShift() {
    // Given the same cards before and after the shift
    DemoTraffic traffic = new DemoTraffic(11, 300);
    List<DemoTraffic.Payment> before = minutes(traffic, 0, 120, 50);

    // When the traffic shifts
    traffic.shift();
    List<DemoTraffic.Payment> after = minutes(traffic, 120 * MINUTE, 120, 50);

    // Then legitimate amounts are higher and new categories appear
    assertThat(medianLegit(after)).isGreaterThan(1.4 * medianLegit(before));
    assertThat(before).noneMatch(p -> p.category().equals("subscriptions"));
    assertThat(after).anyMatch(p -> p.category().equals("subscriptions"));
    assertThat(share(after, false, p -> p.channel().equals("ECOMMERCE")))
        .isGreaterThan(share(before, false, p -> p.channel().equals("ECOMMERCE")));
  }

  private static boolean isHome(String country) {
    return List.of("DE", "FR", "NL", "ES", "IT", "PL", "SE").contains(country);
  }

  private static double share(List<DemoTraffic.Payment> payments, boolean fraud,
      java.util.function.Predicate<DemoTraffic.Payment> test) {
    List<DemoTraffic.Payment> of = payments.stream().filter(p -> p.fraud() == fraud).toList();
    return of.stream().filter(test).count() / (double) of.size();
  }

  private static double medianLegit(List<DemoTraffic.Payment> payments) {
    return median(payments.stream().filter(p -> !p.fraud()).map(DemoTraffic.Payment::amount)
        .toList());
  }

  private static double median(List<Double> values) {
    List<Double> sorted = values.stream().sorted().toList();
    return sorted.get(sorted.size() / 2);
  }
}
