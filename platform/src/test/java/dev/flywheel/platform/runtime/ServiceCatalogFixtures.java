package dev.flywheel.platform.runtime;

/** flywheel.yaml texts the catalogue and command tests share. */
public final class ServiceCatalogFixtures {

  /** The payments source and the card_spend feature group (two features over 1 h). */
  public static final String PAYMENTS_AND_CARD_SPEND = """
      sources:
        - name: payments
          schema:
            type: record
            name: Payment
            namespace: dev.flywheel.test
            fields:
              - {name: event_id, type: string}
              - {name: card_id, type: string}
              - {name: amount, type: double}
              - {name: event_time, type: {type: long, logicalType: timestamp-millis}}
          key: card_id
          time: event_time
      featureGroups:
        - name: card_spend
          source: payments
          entityKey: card_id
          eventTime: event_time
          eventId: event_id
          features:
            - {name: tx_count_1h, agg: count, window: 1h}
            - {name: amount_sum_1h, agg: sum, field: amount, window: 1h}
      """;

  /** One source, one feature group, one model with policy, training, triggers and drift. */
  public static final String EVERY_SERVICE = PAYMENTS_AND_CARD_SPEND + """
      models:
        - name: fraud
          featureGroup: card_spend
          target: is_fraud
          task: binary_classification
          policy:
            gates: ["auc >= 0.7"]
            autoPromote: [champion]
          training:
            trainer: xgboost
            params: {num_round: 10}
            executor: {kind: local}
          triggers:
            drift: true
          drift:
            window: {count: 100}
      servingSink:
        startFrom: earliest
      """;

  private ServiceCatalogFixtures() {}
}
