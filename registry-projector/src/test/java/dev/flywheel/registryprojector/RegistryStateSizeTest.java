package dev.flywheel.registryprojector;

import static dev.flywheel.registryprojector.Fixtures.MODEL;
import static dev.flywheel.registryprojector.Fixtures.T0;
import static dev.flywheel.registryprojector.Fixtures.command;
import static dev.flywheel.registryprojector.Fixtures.forModel;
import static dev.flywheel.registryprojector.Fixtures.promote;
import static dev.flywheel.registryprojector.Fixtures.register;
import static dev.flywheel.registryprojector.Fixtures.setAlias;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.flywheel.devstack.junit.LogLines;
import dev.flywheel.events.CommandOutcome;
import dev.flywheel.events.DatasetLineage;
import dev.flywheel.events.ExecutorKind;
import dev.flywheel.events.ModelEvent;
import dev.flywheel.events.ModelLineage;
import dev.flywheel.events.ModelRegistryState;
import dev.flywheel.events.ModelSignature;
import dev.flywheel.events.ModelTask;
import dev.flywheel.events.OffsetRange;
import dev.flywheel.events.RegisterVersion;
import dev.flywheel.events.RegistryCommand;
import dev.flywheel.events.TrainingReason;
import dev.flywheel.events.TriggerKind;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model's state is one record of the state store's changelog and of {@code
 * flywheel.registry.state}, holding its newest versions in full ({@code registry.stateVersions})
 * and the others as summaries ({@link VersionSpillTest}). Should the versions it holds in full
 * outgrow what the producer accepts ({@code max.request.size}), the record would fail the
 * registry's task on every retry, stopping it for every model. The registry instead rejects the
 * command that would make the state too large, saying why and what to do, and goes on.
 */
class RegistryStateSizeTest {

  /** A smaller limit than Kafka's 1 MiB, so that a few dozen versions reach it. */
  private static final int MAX_REQUEST_SIZE = 64 * 1024;

  @TempDir Path stateDir;
  private RegistryDriver driver;

  @AfterEach
  void close() {
    if (driver != null) {
      driver.close();
    }
  }

  /** A registration as a training run of the demo model makes it: 21 features, its lineage. */
  static RegisterVersion realistic(int n) {
    List<String> features = new ArrayList<>();
    for (String agg : List.of("tx_count", "amount_sum", "amount_mean", "amount_max")) {
      for (String window : List.of("10m", "1h", "24h", "7d")) {
        features.add(agg + "_" + window);
      }
    }
    features.addAll(List.of("distinct_merchants_24h", "distinct_countries_24h",
        "seconds_since_last_tx", "amount_vs_mean_7d", "country"));
    Map<String, Double> metrics = new TreeMap<>(Map.of("auc", 0.91, "logloss", 0.21,
        "precision", 0.8, "recall", 0.7, "f1", 0.75, "pr_auc", 0.6, "train_rows", 80_000.0,
        "holdout_rows", 20_000.0));
    Map<String, String> params = new TreeMap<>(Map.of("max_depth", "6", "eta", "0.1",
        "num_round", "200", "objective", "binary:logistic", "eval_metric", "auc",
        "subsample", "0.8", "colsample_bytree", "0.8", "min_child_weight", "1",
        "tree_method", "hist", "seed", "42"));
    List<OffsetRange> ranges = new ArrayList<>();
    for (String topic : List.of("flywheel.features", "flywheel.labels")) {
      for (int p = 0; p < 3; p++) {
        ranges.add(OffsetRange.newBuilder().setTopic(topic).setPartition(p)
            .setStartOffset(0).setEndOffset(100_000L * n).build());
      }
    }
    return RegisterVersion.newBuilder()
        .setArtifact(Fixtures.artifact("v" + n))
        .setSignature(ModelSignature.newBuilder().setFeatureNames(features)
            .setCategoricalFeatures(List.of("country")).setFeatureGroup("card_activity")
            .setTask(ModelTask.BINARY_CLASSIFICATION).setDecisionThreshold(0.5).build())
        .setMetrics(metrics).setParams(params)
        .setLineage(ModelLineage.newBuilder().setRunId("run-" + n)
            .setReasons(List.of(TrainingReason.newBuilder().setKind(TriggerKind.DRIFT_ALERT)
                .setDetail("amount_mean_7d drifted: PSI 0.31 over 5,000 predictions")
                .setTriggeredAt(T0).setAlertId("alert-" + n).build()))
            .setDataset(DatasetLineage.newBuilder().setUri("file:///data/runs/run-" + n
                    + "/dataset.parquet").setSha256(Fixtures.sha256("d" + n)).setRanges(ranges)
                .setFeatureGroup("card_activity").setFeatureGroupVersion("3")
                .setLabelTarget("is_fraud").setTrainRows(80_000).setHoldoutRows(20_000)
                .setTrainStart(T0).setTrainEnd(T0).setHoldoutStart(T0).setHoldoutEnd(T0)
                .build())
            .setTrainer("xgboost").setTrainerVersion("3.1.0").setExecutor(ExecutorKind.LOCAL)
            .build())
        .setDescription("Scores card payments for fraud")
        .build();
  }

  @Test
  void shouldRejectTheRegistrationThatWouldOutgrowARecordAndKeepDecidingAfterIt() {
    // Given a registry whose producer takes records of at most 64 KiB, which holds 100 versions in
    // full (the default: more than fit), and a model with a champion
    driver = new RegistryDriver(RegistryConfig.defaults(), stateDir,
        Map.of(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, MAX_REQUEST_SIZE));
    driver.decide(command(realistic(1)));
    driver.decide(promote("champion", 1));

    // When the loop registers a version after another until one is rejected
    ModelEvent rejected = null;
    RegistryCommand refused = null;
    int registered = 1;
    int registeredAtWarning = -1;
    try (LogLines log = LogLines.of(RegistryProcessor.class)) {
      for (int n = 2; n < 200 && rejected == null; n++) {
        RegistryCommand c = command(realistic(n));
        ModelEvent e = driver.decide(c);
        if (e.getOutcome() == CommandOutcome.REJECTED) {
          rejected = e;
          refused = c;
        } else {
          registered++;
        }
        if (registeredAtWarning < 0
            && log.count(Level.WARN, "Lower registry.stateVersions (now 100)") > 0) {
          registeredAtWarning = registered;
        }
      }
      // Then the operator was warned once, when the state passed half of the limit
      assertThat(log.count(Level.WARN, "model '" + MODEL + "' takes")).isEqualTo(1);
    }
    assertThat(registeredAtWarning).isBetween(registered / 2 - 2, registered / 2 + 2);
    ModelRegistryState state = driver.state(MODEL);
    List<ModelRegistryState> published = driver.states.readValuesToList();

    // And the one that would pass the limit is rejected, saying why and what to do
    assertThat(rejected).as("a rejected registration").isNotNull();
    assertThat(rejected.getReason()).contains("model '" + MODEL + "' would take",
        "it would hold " + (registered + 1) + " versions", "max.request.size",
        "Lower registry.stateVersions (now 100)", "send the command again with the same id");
    // and the state kept every accepted version and fits, on the store and on the state topic
    assertThat(state.getVersions()).hasSize(registered);
    assertThat(state.getSequence()).isEqualTo(rejected.getSequence());
    assertThat(published).allSatisfy(s -> assertThat(encodedBytes(s))
        .isLessThan(MAX_REQUEST_SIZE));
    assertThat(published.get(published.size() - 1).getVersions()).hasSize(registered);
    // and the refused command is decided again when sent again with its id, not skipped as done
    assertThat(driver.decide(refused).getCommandId()).isEqualTo(refused.getEventId());
    // and commands that do not grow it are still decided: an alias moves to the latest
    assertThat(driver.decide(setAlias("challenger", registered)).getOutcome())
        .isEqualTo(CommandOutcome.ACCEPTED);
    System.out.printf("%d realistic versions fit in %d bytes: %d bytes per version%n",
        registered, MAX_REQUEST_SIZE, encodedBytes(state) / registered);
  }

  @Test
  void shouldRejectARegistrationListingAFeatureThousandsOfTimesWithAShortReasonAndGoOn() {
    // Given a registry with Kafka's default max.request.size (1 MiB)
    driver = new RegistryDriver(RegistryConfig.defaults(), stateDir);
    // and a registration of about 40 KB whose signature lists feature "f" 20,000 times and 5,000
    // categorical features that are not among its feature names
    List<String> categorical = new ArrayList<>();
    for (int i = 0; i < 5_000; i++) {
      categorical.add("c" + i);
    }
    RegisterVersion r = Fixtures.registration("huge", 0.8);
    r.setSignature(ModelSignature.newBuilder(r.getSignature())
        .setFeatureNames(new ArrayList<>(Collections.nCopies(20_000, "f")))
        .setCategoricalFeatures(categorical).build());

    RegistryCommand c = command(r);

    // When it is decided
    ModelEvent rejected = driver.decide(c);

    // Then it is rejected naming the first problems and counting the rest, in an event that holds
    // the command and little more, well within a record
    assertThat(rejected.getOutcome()).isEqualTo(CommandOutcome.REJECTED);
    assertThat(rejected.getReason()).contains("the signature lists feature 'f' more than once",
        "categorical feature 'c0' is not among the feature names", "and 4991 more problems");
    assertThat(rejected.getReason()).hasSizeLessThan(2_000);
    assertThat(encodedBytes(rejected)).isLessThan(encodedBytes(c) + 2_000)
        .isLessThan(1024 * 1024);
    // and the next command, of another model on the same partition, is decided
    ModelEvent next = driver.decide(forModel("churn-predictor", register("a", 0.8)));
    assertThat(next.getOutcome()).isEqualTo(CommandOutcome.ACCEPTED);
    assertThat(driver.state("churn-predictor").getVersions()).hasSize(1);
  }

  @Test
  void shouldRejectACommandWhoseEventWouldOutgrowARecordAndKeepDecidingAfterIt() {
    // Given a registry whose producer takes records of at most 64 KiB, and a registered version
    driver = new RegistryDriver(RegistryConfig.defaults(), stateDir,
        Map.of(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, MAX_REQUEST_SIZE));
    driver.decide(register("a", 0.8));
    // and a promotion whose reason alone is larger than that: its event and its ModelPromoted,
    // which carry the reason, would not fit a record
    RegistryCommand huge = RegistryCommand.newBuilder(promote("champion", 1))
        .setReason("x".repeat(MAX_REQUEST_SIZE + 1)).build();

    // When it is decided
    ModelEvent rejected = driver.decide(huge);

    // Then it is rejected, saying why and what to do, in an event that fits, and nothing moved
    assertThat(rejected.getOutcome()).isEqualTo(CommandOutcome.REJECTED);
    assertThat(rejected.getReason()).contains("would take", "more than the",
        "max.request.size", "send the command again with the same id");
    assertThat(encodedBytes(rejected)).isLessThan(MAX_REQUEST_SIZE);
    assertThat(driver.promoted.readValuesToList()).isEmpty();
    assertThat(RegistryFold.alias(driver.state(MODEL), "champion")).isEmpty();
    // and the next command is decided
    assertThat(driver.decide(promote("champion", 1)).getOutcome())
        .isEqualTo(CommandOutcome.ACCEPTED);
    assertThat(driver.promoted.readValuesToList()).hasSize(1);
  }

  private static int encodedBytes(ModelRegistryState state) {
    return encodedBytes(state::toByteBuffer);
  }

  private static int encodedBytes(ModelEvent event) {
    return encodedBytes(event::toByteBuffer);
  }

  private static int encodedBytes(RegistryCommand command) {
    return encodedBytes(command::toByteBuffer);
  }

  private interface Encoding {
    ByteBuffer encode() throws IOException;
  }

  private static int encodedBytes(Encoding encoding) {
    try {
      return encoding.encode().remaining();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
