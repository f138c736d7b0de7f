package dev.flywheel.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flywheel.ingest.source.InvalidSourceException;
import dev.flywheel.ingest.source.SourceDefinition;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IngestConfigTest {

  @TempDir
  Path dir;

  @Test
  void shouldReadSourcesFromFileAndInlineSchemas() throws IOException {
    Files.writeString(dir.resolve("tx.avsc"), """
        {"type": "record", "name": "Tx", "fields": [
          {"name": "card_id", "type": "string"},
          {"name": "event_time", "type": {"type": "long", "logicalType": "timestamp-millis"}}]}""");
    Path yaml = dir.resolve("flywheel.yaml");
    Files.writeString(yaml, """
        kafka:
          bootstrap: localhost:9092
        sources:
          - name: card-tx
            schema: tx.avsc
            key: card_id
            time: event_time
            token: s3cret
          - name: clicks
            schema:
              type: record
              name: Click
              fields:
                - {name: user, type: string}
                - {name: at, type: long}
            key: user
            time: at
        ingest:
          port: 0
          maxBodyBytes: 2048
        """);

    IngestConfig config = IngestConfig.load(yaml);
    List<SourceDefinition> sources = config.sourceDefinitions(dir);

    assertThat(config.ingest()).isEqualTo(new IngestConfig.Http(0, 2048L));
    assertThat(sources).extracting(SourceDefinition::name).containsExactly("card-tx", "clicks");
    assertThat(sources.get(0).schema().getName()).isEqualTo("Tx");
    assertThat(sources.get(0).bearerToken()).contains("s3cret");
    assertThat(sources.get(1).keyField()).isEqualTo("user");
    assertThat(sources.get(1).bearerToken()).isEmpty();
  }

  @Test
  void shouldUseDefaultsWhenNothingIsDeclared() {
    IngestConfig config = IngestConfig.parse("other: 1\n");

    assertThat(config.sources()).isEmpty();
    assertThat(config.ingest()).isEqualTo(IngestConfig.Http.defaults());
    assertThat(config.ingest().port()).isEqualTo(8080);
    assertThat(config.ingest().maxBodyBytes()).isEqualTo(10L * 1024 * 1024);
  }

  @Test
  void shouldRefuseAMisspeltSetting() {
    assertThatThrownBy(() -> IngestConfig.parse("""
        sources:
          - name: a
            schema: a.avsc
            key: id
            tiem: t
        """))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unknown setting 'tiem' (sources[0].tiem)");
  }

  @Test
  void shouldReadTheEndpointTokensAndNeverShowThem() {
    IngestConfig config = IngestConfig.parse("""
        ingest: {sourcesToken: adm1n, labelsToken: l4bels}
        """);

    assertThat(config.ingest().sourcesToken()).isEqualTo("adm1n");
    assertThat(config.ingest().labelsToken()).isEqualTo("l4bels");
    assertThat(config.ingest().toString()).doesNotContain("adm1n").doesNotContain("l4bels");
    assertThat(IngestConfig.Http.defaults().sourcesToken()).isNull();
  }

  @Test
  void shouldReadTheLabelTargetsOfTheDeclaredModels() {
    // Given models with a target, trained by Flywheel without one (the Label default) and with
    // other services' keys
    String yaml = """
        models:
          - name: fraud-detector
            featureGroup: card_activity
            target: is_fraud
            triggers: {newLabels: 100}
          - name: churn
            featureGroup: card_activity
            training: {trainer: xgboost}
          - name: fraud-shadow
            target: is_fraud
        """;

    // When ingest reads the file
    IngestConfig config = IngestConfig.parse(yaml);

    // Then it knows each target once, sorted
    assertThat(config.labelTargets()).containsExactly("is_fraud", "label");
    assertThat(config.modelsOfUnknownTarget()).isEmpty();
    assertThat(IngestConfig.parse("other: 1\n").labelTargets()).isEmpty();
  }

  @Test
  void shouldAcceptEveryTargetWhenAModelDeclaresNeitherTargetNorTraining() {
    // Given a model trained by Flywheel on is_fraud, and one trained and registered outside
    // Flywheel, declared for its policy and drift only: the target it learns is the one its
    // registered signature names, which flywheel.yaml does not say
    String yaml = """
        models:
          - name: fraud-detector
            featureGroup: card_activity
            target: is_fraud
          - name: vendor-score
            policy: {metric: auc}
            drift: {window: PT1H}
        """;

    // When ingest reads the file
    IngestConfig config = IngestConfig.parse(yaml);

    // Then it cannot know every target, so it accepts every one, and names the model why
    assertThat(config.labelTargets())
        .as("an empty set makes POST /labels accept every target")
        .isEmpty();
    assertThat(config.modelsOfUnknownTarget()).containsExactly("vendor-score");
    assertThat(config.models()).extracting(IngestConfig.Model::labelTarget)
        .containsExactly(java.util.Optional.of("is_fraud"), java.util.Optional.empty());
  }

  @Test
  void shouldTakeTheDefaultTargetOfAModelTrainedWithDefaultTraining() {
    // Given a model with a feature group and neither target nor training: training-trigger trains
    // it, with its default training, on the default target
    IngestConfig config = IngestConfig.parse("""
        models:
          - {name: fraud-detector, featureGroup: card_activity, target: is_fraud}
          - {name: churn, featureGroup: card_activity}
        """);

    // Then its target is known, label, and the check stays on
    assertThat(config.modelsOfUnknownTarget()).isEmpty();
    assertThat(config.labelTargets()).containsExactly("is_fraud", "label");
  }

  @Test
  void shouldTakeTheTargetAsWrittenAsTrainingTriggerDoes() {
    // Given targets training-trigger trains on as written: padded (quoted) and empty, not the
    // default 'label'
    String yaml = """
        models:
          - name: padded
            target: " is_fraud "
          - name: empty
            target: ""
        """;

    // When ingest reads the file
    IngestConfig config = IngestConfig.parse(yaml);

    // Then ingest accepts exactly those targets, so it refuses no label that model learns from
    assertThat(config.labelTargets()).containsExactly("", " is_fraud ");
  }

  @Test
  void shouldRefuseAnOutOfRangePort() {
    assertThatThrownBy(() -> IngestConfig.parse("ingest: {port: 70000}\n"))
        .hasMessageContaining("ingest.port must be 0..65535, got 70000");
  }

  @Test
  void shouldNameAValueOfTheWrongType() {
    assertThatThrownBy(() -> IngestConfig.parse("ingest: {maxBodyBytes: lots}\n"))
        .hasMessageContaining("invalid value of ingest.maxBodyBytes");
  }

  @Test
  void shouldNameAMissingSchemaFile() {
    IngestConfig config = IngestConfig.parse("""
        sources: [{name: a, schema: nope.avsc, key: id, time: t}]
        """);

    assertThatThrownBy(() -> config.sourceDefinitions(dir))
        .isInstanceOf(InvalidSourceException.class)
        .hasMessageContaining("schema file " + dir.resolve("nope.avsc") + " does not exist");
  }

  @Test
  void shouldNameAnUnparsableInlineSchema() {
    IngestConfig config = IngestConfig.parse("""
        sources: [{name: a, schema: '{"type": "record"}', key: id, time: t}]
        """);

    assertThatThrownBy(() -> config.sourceDefinitions(dir))
        .hasMessageContaining("the inline schema is not a valid Avro schema");
  }

  @Test
  void shouldRefuseTheSameSourceTwice() {
    IngestConfig config = IngestConfig.parse("""
        sources:
          - {name: a, schema: '{"type":"record","name":"A","fields":[{"name":"id","type":"string"},{"name":"t","type":"long"}]}', key: id, time: t}
          - {name: a, schema: '{"type":"record","name":"A","fields":[{"name":"id","type":"string"},{"name":"t","type":"long"}]}', key: id, time: t}
        """);

    assertThatThrownBy(() -> config.sourceDefinitions(dir))
        .hasMessage("source 'a' is declared twice");
  }
}
