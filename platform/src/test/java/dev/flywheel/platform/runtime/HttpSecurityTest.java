package dev.flywheel.platform.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HttpSecurityTest {

  private static final String PIPELINE = "pipeline-token-0123456789abcdef";
  private static final String OPERATOR = "operator-token-fedcba9876543210";

  private static final String YAML = """
      kafka:
        bootstrapServers: broker:9092
        schemaRegistryUrl: http://registry:8081
      security:
        tokens:
          - name: pipeline
            env: FLYWHEEL_PIPELINE_TOKEN
            roles: [ingest, labels]
          - name: operator
            file: operator.token
            roles: [admin]
        routes:
          - path: /predict/*
            role: predict
      """;

  @TempDir Path dir;

  private HttpSecurity security() throws Exception {
    Files.writeString(dir.resolve("operator.token"), OPERATOR + "\n");
    return HttpSecurity.parse(YAML, Map.of("FLYWHEEL_PIPELINE_TOKEN", PIPELINE), dir);
  }

  @Test
  void shouldBeOffWithoutASecuritySection() {
    // When a flywheel.yaml has no security section
    HttpSecurity security = HttpSecurity.parse("kafka: {}\n", Map.of(), dir);

    // Then every request passes
    assertThat(security.enabled()).isFalse();
    assertThat(security.decide("POST", "/sources", null).allowed()).isTrue();
  }

  @Test
  void shouldLetReadsThroughWithoutAToken() throws Exception {
    HttpSecurity security = security();

    assertThat(security.decide("GET", "/models/fraud", null).allowed()).isTrue();
    assertThat(security.decide("GET", "/health", null).allowed()).isTrue();
    assertThat(security.decide("HEAD", "/metrics", null).allowed()).isTrue();
  }

  @Test
  void shouldAnswer401NamingTheHeaderWhenNoTokenIsSent() throws Exception {
    // When a mutating request arrives without Authorization
    HttpSecurity.Decision d = security().decide("POST", "/ingest/transactions", null);

    // Then it is refused with 401 saying what to send
    assertThat(d.status()).isEqualTo(401);
    assertThat(d.message()).contains("POST /ingest/transactions needs a bearer token")
        .contains("Authorization: Bearer <token>").contains("role 'ingest'");
  }

  @Test
  void shouldAnswer401ForAnUnknownTokenOrAnotherScheme() throws Exception {
    HttpSecurity security = security();

    HttpSecurity.Decision unknown = security.decide("POST", "/labels",
        "Bearer not-a-configured-token-at-all");
    HttpSecurity.Decision basic = security.decide("POST", "/labels", "Basic dXNlcjpwYXNz");

    assertThat(unknown.status()).isEqualTo(401);
    assertThat(unknown.message()).contains("not one of the configured tokens")
        .doesNotContain("not-a-configured-token-at-all");
    assertThat(basic.status()).isEqualTo(401);
    assertThat(basic.message()).contains("not a bearer token");
  }

  @Test
  void shouldAnswer403WhenTheTokenLacksTheRole() throws Exception {
    // When the pipeline token (ingest, labels) asks for a training run
    HttpSecurity.Decision d = security().decide("POST", "/models/fraud/train",
        "Bearer " + PIPELINE);

    // Then 403 names the role needed, the token and what to change
    assertThat(d.status()).isEqualTo(403);
    assertThat(d.message()).contains("needs role 'train'").contains("token 'pipeline'")
        .contains("add the role to 'pipeline' in security.tokens").doesNotContain(PIPELINE);
  }

  @Test
  void shouldAllowATokenWithTheRoleAndAdminEverywhere() throws Exception {
    HttpSecurity security = security();

    assertThat(security.decide("POST", "/ingest/transactions", "Bearer " + PIPELINE).allowed())
        .isTrue();
    assertThat(security.decide("post", "/labels", "bearer " + PIPELINE).allowed()).isTrue();
    assertThat(security.decide("POST", "/sources", "Bearer " + OPERATOR).allowed()).isTrue();
    assertThat(security.decide("DELETE", "/anything/else", "Bearer " + OPERATOR).token())
        .isEqualTo("operator");
  }

  @Test
  void shouldMapRoutesToRolesConfiguredFirstThenDefaultsThenAdmin() throws Exception {
    HttpSecurity security = security();

    assertThat(security.roleOf("POST", "/predict/fraud")).isEqualTo("predict");
    assertThat(security.roleOf("POST", "/ingest/transactions")).isEqualTo(HttpSecurity.INGEST);
    assertThat(security.roleOf("POST", "/ingest/")).isEqualTo(HttpSecurity.ADMIN);
    assertThat(security.roleOf("POST", "/labels")).isEqualTo(HttpSecurity.LABELS);
    assertThat(security.roleOf("POST", "/sources")).isEqualTo(HttpSecurity.ADMIN);
    assertThat(security.roleOf("POST", "/models/fraud/train")).isEqualTo(HttpSecurity.TRAIN);
    assertThat(security.roleOf("PUT", "/models/fraud/aliases/champion"))
        .isEqualTo(HttpSecurity.REGISTRY);
    assertThat(security.roleOf("POST", "/features/card/batch")).isEqualTo(HttpSecurity.PUBLIC);
    assertThat(security.roleOf("POST", "/something/new")).isEqualTo(HttpSecurity.ADMIN);
  }

  @Test
  void shouldLetPublicRoutesThroughWithoutAToken() throws Exception {
    HttpSecurity security = HttpSecurity.parse("""
        security:
          tokens:
            - {name: ci, env: CI_TOKEN, roles: [ingest]}
        """, Map.of("CI_TOKEN", PIPELINE), dir);

    assertThat(security.decide("POST", "/predict/fraud", null).allowed()).isTrue();
    assertThat(security.decide("POST", "/features/card/batch", null).allowed()).isTrue();
  }

  @Test
  void shouldNeverShowATokenValue() throws Exception {
    HttpSecurity security = security();

    assertThat(security.toString()).doesNotContain(PIPELINE).doesNotContain(OPERATOR)
        .contains("pipeline").contains("env FLYWHEEL_PIPELINE_TOKEN").contains("****");
    assertThat(security.tokens()).allSatisfy(t -> assertThat(t.toString())
        .doesNotContain(PIPELINE).doesNotContain(OPERATOR));
    assertThat(security.environmentVariables()).containsExactly("FLYWHEEL_PIPELINE_TOKEN");
  }

  @Test
  void shouldSayWhichVariableToSetWhenATokenIsMissing() {
    assertThatThrownBy(() -> HttpSecurity.parse(YAML, Map.of(), dir))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("security.tokens 'pipeline' comes from the environment variable"
            + " FLYWHEEL_PIPELINE_TOKEN, which is not set");
  }

  @Test
  void shouldSayWhichFileToCreateWhenATokenFileIsMissing() {
    assertThatThrownBy(() -> HttpSecurity.parse(YAML,
        Map.of("FLYWHEEL_PIPELINE_TOKEN", PIPELINE), dir))
        .hasMessageContaining("security.tokens 'operator' comes from the file "
            + dir.resolve("operator.token"))
        .hasMessageContaining("create it");
  }

  @Test
  void shouldRefuseShortSharedAndRolelessTokens() {
    assertThatThrownBy(() -> HttpSecurity.parse("""
        security:
          tokens: [{name: a, env: A, roles: [ingest]}]
        """, Map.of("A", "short"), dir))
        .hasMessageContaining("is 5 characters long; use at least 16")
        .hasMessageNotContaining("short");
    assertThatThrownBy(() -> HttpSecurity.parse("""
        security:
          tokens:
            - {name: a, env: A, roles: [ingest]}
            - {name: b, env: B, roles: [train]}
        """, Map.of("A", PIPELINE, "B", PIPELINE), dir))
        .hasMessageContaining("tokens 'a' and 'b' have the same value");
    assertThatThrownBy(() -> HttpSecurity.parse("""
        security:
          tokens: [{name: a, env: A}]
        """, Map.of("A", PIPELINE), dir))
        .hasMessageContaining("'a' has no roles");
  }

  @Test
  void shouldNameAMisspeltSetting() {
    assertThatThrownBy(() -> HttpSecurity.parse("""
        security:
          tokens: [{name: a, environment: A, roles: [ingest]}]
        """, Map.of(), dir))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("environment");
  }
}
