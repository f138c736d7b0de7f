package dev.flywheel.trainingtrigger.executor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.flywheel.trainingtrigger.SyntheticData;
import dev.flywheel.trainingtrigger.TestDatasets;
import dev.flywheel.trainingtrigger.artifact.LocalArtifactStore;
import dev.flywheel.trainingtrigger.config.ExecutorSpec;
import dev.flywheel.trainingtrigger.config.ModelSpec;
import dev.flywheel.trainingtrigger.config.TrainingSpec;
import dev.flywheel.trainingtrigger.config.TrainingTriggerConfig;
import dev.flywheel.trainingtrigger.dataset.Dataset;
import dev.flywheel.trainingtrigger.training.TrainingException;
import dev.flywheel.trainingtrigger.training.TrainingOutput;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobConditionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@EnableKubernetesMockClient(crud = true)
class KubernetesExecutorTest {

  private static final String NS = "ml";
  private static final String IMAGE = "ghcr.io/acme/fraud-train:1.4";
  private static final String OWNER = "flywheel-training-trigger.acme";
  private static final Instant STARTED = Instant.parse("2026-11-24T01:00:00Z");

  KubernetesClient client;
  KubernetesMockServer server;

  @TempDir Path dir;
  private LocalArtifactStore store;
  private Dataset dataset;

  @BeforeEach
  void setUp() throws Exception {
    store = new LocalArtifactStore(dir.resolve("artifacts"));
    dataset = TestDatasets.stored(new SyntheticData(400, 4, true, 5), model(Duration.ofMinutes(1)),
        store, dir.resolve("data"));
  }

  private static ModelSpec model(Duration timeout) {
    return model(timeout, null);
  }

  private static ModelSpec model(Duration timeout, String artifactsVolumeClaim) {
    ExecutorSpec exec = new ExecutorSpec(ExecutorSpec.Kind.KUBERNETES, timeout,
        List.of("python", "-m", "train"), null, Map.of("EPOCHS", "10"), IMAGE, NS, "trainer",
        Map.of("cpu", "4", "memory", "16Gi"), Map.of("nvidia.com/gpu", "1"),
        Map.of("accelerator", "a100"),
        List.of(Map.of("key", "nvidia.com/gpu", "operator", "Exists", "effect", "NoSchedule")),
        artifactsVolumeClaim);
    return ModelSpec.of("fraud", SyntheticData.GROUP).withTarget(SyntheticData.TARGET)
        .withTraining(new TrainingSpec("torch-mlp", Map.of(), 0.2, 0.5, exec));
  }

  private RunContext run(ModelSpec spec) {
    return run(spec, STARTED);
  }

  private RunContext run(ModelSpec spec, Instant startedAt) {
    return new RunContext("fraud-7", 2, spec, Map.of("device", "cuda", "lr", "0.01"), dataset,
        dir.resolve("work"), startedAt);
  }

  private CompletableFuture<TrainingOutput> executeAsync(RunContext ctx) {
    KubernetesExecutor executor = new KubernetesExecutor(client, store, OWNER);
    return CompletableFuture.supplyAsync(() -> {
      try {
        return executor.execute(ctx);
      } catch (Exception e) {
        throw new CompletionException(e);
      }
    });
  }

  private Job awaitJob() {
    String name = KubernetesExecutor.jobName("fraud-7", 2);
    await().atMost(Duration.ofSeconds(20)).until(() ->
        client.batch().v1().jobs().inNamespace(NS).withName(name).get() != null);
    return client.batch().v1().jobs().inNamespace(NS).withName(name).get();
  }

  private void setStatus(Job job, boolean succeeded, String reason) {
    client.batch().v1().jobs().inNamespace(NS).withName(job.getMetadata().getName())
        .editStatus(j -> new JobBuilder(j).withNewStatus()
            .withSucceeded(succeeded ? 1 : 0).withFailed(succeeded ? 0 : 1)
            .withConditions(new JobConditionBuilder().withType(succeeded ? "Complete" : "Failed")
                .withStatus("True").withReason(reason).withMessage(succeeded ? null
                    : "Job has reached the specified backoff limit").build())
            .endStatus().build());
  }

  private void writeOutputs(RunContext ctx) throws Exception {
    store.putNamed(ctx.outputPrefix() + "model.onnx", "onnx-bytes".getBytes(StandardCharsets.UTF_8));
    store.putNamed(ctx.outputPrefix() + "manifest.json", """
        {"artifact": "model.onnx", "format": "ONNX", "metrics": {"auc": 0.91},
         "trainer": "torch-mlp", "trainerVersion": "2.3.1", "runtimeVersion": "17"}
        """.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void shouldCreateAJobWithImageCommandEnvGpuAndScheduling() {
    // Given
    RunContext ctx = run(model(Duration.ofMinutes(30)));
    // When the attempt is executed
    executeAsync(ctx);
    Job job = awaitJob();
    // Then the Job carries the model's image, command, env, resources and scheduling
    assertThat(job.getMetadata().getName()).isEqualTo("flywheel-train-fraud-7-a2");
    assertThat(job.getMetadata().getLabels()).containsEntry(KubernetesExecutor.LABEL_RUN,
        "fraud-7").containsEntry(KubernetesExecutor.LABEL_ATTEMPT, "2");
    assertThat(job.getMetadata().getLabels())
        .containsEntry(KubernetesExecutor.LABEL_OWNER, OWNER)
        .containsEntry(KubernetesExecutor.LABEL_STARTED, Long.toString(STARTED.toEpochMilli()));
    assertThat(job.getSpec().getBackoffLimit()).isZero();
    assertThat(job.getSpec().getTtlSecondsAfterFinished()).isEqualTo(86_400);
    assertThat(job.getSpec().getActiveDeadlineSeconds()).isEqualTo(1800L);
    var pod = job.getSpec().getTemplate().getSpec();
    assertThat(pod.getRestartPolicy()).isEqualTo("Never");
    assertThat(pod.getServiceAccountName()).isEqualTo("trainer");
    assertThat(pod.getNodeSelector()).containsEntry("accelerator", "a100");
    assertThat(pod.getTolerations()).singleElement().satisfies(t -> {
      assertThat(t.getKey()).isEqualTo("nvidia.com/gpu");
      assertThat(t.getEffect()).isEqualTo("NoSchedule");
    });
    Container c = pod.getContainers().get(0);
    assertThat(c.getImage()).isEqualTo(IMAGE);
    assertThat(c.getCommand()).containsExactly("python", "-m", "train");
    assertThat(c.getResources().getLimits()).containsEntry("nvidia.com/gpu", new Quantity("1"));
    assertThat(c.getResources().getRequests()).containsEntry("memory", new Quantity("16Gi"));
    Map<String, String> env = c.getEnv().stream()
        .collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));
    assertThat(env).containsEntry("FLYWHEEL_RUN_ID", "fraud-7")
        .containsEntry("FLYWHEEL_ATTEMPT", "2").containsEntry("EPOCHS", "10")
        .containsEntry("FLYWHEEL_DATASET_URI", dataset.lineage().getUri())
        .containsEntry("FLYWHEEL_DATASET_SHA256", dataset.lineage().getSha256())
        .containsEntry("FLYWHEEL_OUTPUT_URI",
            store.uriOf("runs/fraud-7/2/" + STARTED.toEpochMilli() + "/"));
    assertThat(env.get("FLYWHEEL_PARAMS")).contains("\"device\":\"cuda\"");
  }

  @Test
  void shouldMountTheArtifactsVolumeClaimAtTheStoreRootWhereTheJobsUrisPoint() {
    // Given a model whose Jobs mount the artifact store's volume claim
    RunContext ctx = run(model(Duration.ofMinutes(30), "flywheel-artifacts"));
    // When the attempt is executed
    executeAsync(ctx);
    Job job = awaitJob();
    // Then the pod mounts the claim read-write at the store's root
    var pod = job.getSpec().getTemplate().getSpec();
    assertThat(pod.getVolumes()).singleElement().satisfies(v -> {
      assertThat(v.getName()).isEqualTo(KubernetesExecutor.ARTIFACTS_VOLUME);
      assertThat(v.getPersistentVolumeClaim().getClaimName()).isEqualTo("flywheel-artifacts");
      assertThat(v.getPersistentVolumeClaim().getReadOnly()).isNotEqualTo(Boolean.TRUE);
    });
    Container c = pod.getContainers().get(0);
    assertThat(c.getVolumeMounts()).singleElement().satisfies(m -> {
      assertThat(m.getName()).isEqualTo(KubernetesExecutor.ARTIFACTS_VOLUME);
      assertThat(m.getMountPath()).isEqualTo(store.root().toString());
      assertThat(m.getReadOnly()).isNotEqualTo(Boolean.TRUE);
    });
    // And the dataset and output URIs it is given are files under that mount
    Map<String, String> env = c.getEnv().stream()
        .collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));
    for (String uri : List.of(env.get("FLYWHEEL_DATASET_URI"), env.get("FLYWHEEL_OUTPUT_URI"))) {
      assertThat(Path.of(java.net.URI.create(uri)).toString()).startsWith(store.root() + "/");
    }
  }

  @Test
  void shouldReadTheArtifactsVolumeClaimOfAModelsKubernetesExecutor() {
    // Given a model whose kubernetes executor names the artifact store's volume claim
    ExecutorSpec exec = TrainingTriggerConfig.parse("""
        models:
          - name: fraud
            featureGroup: card_activity
            training:
              executor:
                kind: kubernetes
                image: ghcr.io/acme/fraud-train:1.4
                artifactsVolumeClaim: flywheel-artifacts
        """, "flywheel.yaml").model("fraud").orElseThrow().training().executor();
    // Then the executor mounts that claim
    assertThat(exec.artifactsVolumeClaim()).isEqualTo("flywheel-artifacts");
  }

  @Test
  void shouldMountNoVolumeWithoutAnArtifactsVolumeClaim() {
    // Given a model whose pods reach the artifact store by themselves
    executeAsync(run(model(Duration.ofMinutes(30))));
    // When its Job is created
    Job job = awaitJob();
    // Then it has no volume
    assertThat(job.getSpec().getTemplate().getSpec().getVolumes()).isNullOrEmpty();
    assertThat(job.getSpec().getTemplate().getSpec().getContainers().get(0).getVolumeMounts())
        .isNullOrEmpty();
  }

  /** Kubernetes' rule for a label value (besides its length of at most 63 characters). */
  private static final String LABEL_VALUE =
      "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";

  @Test
  void shouldGiveTheJobAValidModelLabelWhateverTheModelsName() {
    String longName = "fraud_detector_for_card_not_present_transactions_in_the_eu_region_v2";
    for (String name : new String[] {"fraud_detector_", "_fraud.detector", longName}) {
      // Given a model whose name is no valid label value as it is
      ModelSpec m = model(Duration.ofMinutes(5));
      ModelSpec spec = new ModelSpec(name, m.featureGroup(), m.target(), m.task(), m.features(),
          m.training(), m.triggers());
      client.batch().v1().jobs().inNamespace(NS).delete();
      await().atMost(Duration.ofSeconds(20)).until(() ->
          client.batch().v1().jobs().inNamespace(NS).list().getItems().isEmpty());
      // When its attempt is executed
      executeAsync(run(spec));
      Job job = awaitJob();
      // Then the Job's and its pods' model label is a valid label value, still naming the model
      for (Map<String, String> labels : List.of(job.getMetadata().getLabels(),
          job.getSpec().getTemplate().getMetadata().getLabels())) {
        assertThat(labels.get(KubernetesExecutor.LABEL_MODEL)).as("label of model %s", name)
            .matches(LABEL_VALUE).hasSizeLessThanOrEqualTo(63).startsWith("fraud");
      }
    }
  }

  @Test
  void shouldReadTheManifestAndArtifactWhenTheJobSucceeds() throws Exception {
    // Given a Job whose pod wrote its outputs to the store
    RunContext ctx = run(model(Duration.ofMinutes(5)));
    CompletableFuture<TrainingOutput> result = executeAsync(ctx);
    Job job = awaitJob();
    writeOutputs(ctx);
    // When the Job succeeds
    setStatus(job, true, "Completed");
    // Then the attempt's output is the manifest's
    TrainingOutput out = result.get(20, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(out.metrics()).containsEntry("auc", 0.91);
    assertThat(out.trainer()).isEqualTo("torch-mlp");
    assertThat(out.trainerVersion()).isEqualTo("2.3.1");
    assertThat(Files.readString(out.artifact())).isEqualTo("onnx-bytes");
    assertThat(out.params()).containsEntry("device", "cuda");
  }

  @Test
  void shouldFailWithTheJobsFailureReason() {
    // Given
    CompletableFuture<TrainingOutput> result = executeAsync(run(model(Duration.ofMinutes(5))));
    Job job = awaitJob();
    // When the Job fails
    setStatus(job, false, "BackoffLimitExceeded");
    // Then the attempt fails with the reason and where to look
    await().atMost(Duration.ofSeconds(20)).until(result::isDone);
    assertThat(result).isCompletedExceptionally();
    assertThat(result.handle((o, e) -> e.getCause()).join())
        .isInstanceOf(TrainingException.class).hasMessageContaining("BackoffLimitExceeded")
        .hasMessageContaining("kubectl logs -n ml job/flywheel-train-fraud-7-a2");
  }

  @Test
  void shouldDeleteTheJobAndFailAtTheTimeout() {
    // Given a 2-second timeout and a Job that never finishes
    CompletableFuture<TrainingOutput> result = executeAsync(run(model(Duration.ofSeconds(2))));
    Job job = awaitJob();
    // Then the attempt fails naming the timeout
    await().atMost(Duration.ofSeconds(30)).until(result::isDone);
    assertThat(result.handle((o, e) -> e.getCause()).join())
        .isInstanceOf(TrainingException.class).hasMessageContaining("did not finish within PT2S");
    // And the Job is deleted
    await().atMost(Duration.ofSeconds(10)).until(() -> client.batch().v1().jobs().inNamespace(NS)
        .withName(job.getMetadata().getName()).get() == null);
  }

  /** The list of the attempt's Job that waiting on it starts with (then it watches). */
  private static final String LIST_OF_THE_JOB = "/apis/batch/v1/namespaces/ml/jobs"
      + "?fieldSelector=metadata.name%3Dflywheel-train-fraud-7-a2";

  @Test
  void shouldKeepFollowingTheJobWhenWaitingOnItFailsForAWhile() throws Exception {
    // Given the API server refuses the first read of the Job while the attempt waits on it (as
    // during a restart or a rollout of the RBAC rules; 5xx answers the client retries itself)
    server.expect().get().withPath(LIST_OF_THE_JOB)
        .andReturn(403, "{\"kind\":\"Status\",\"code\":403}").once();
    RunContext ctx = run(model(Duration.ofMinutes(5)));
    CompletableFuture<TrainingOutput> result = executeAsync(ctx);
    Job job = awaitJob();
    // When the Job then succeeds
    writeOutputs(ctx);
    setStatus(job, true, "Completed");
    // Then the attempt reads its outputs, and the Job was neither deleted nor created again
    TrainingOutput out = result.get(30, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(out.metrics()).containsEntry("auc", 0.91);
    assertThat(client.batch().v1().jobs().inNamespace(NS).list().getItems()).singleElement()
        .satisfies(j -> assertThat(j.getMetadata().getUid())
            .isEqualTo(job.getMetadata().getUid()));
  }

  @Test
  void shouldDeleteTheJobAndFailAtTheTimeoutWhenItCannotBeWaitedOn() {
    // Given a 2-second timeout and an API server that refuses every read of the Job while the
    // attempt waits on it
    server.expect().get().withPath(LIST_OF_THE_JOB)
        .andReturn(403, "{\"kind\":\"Status\",\"code\":403}").always();
    // When the attempt is executed
    CompletableFuture<TrainingOutput> result = executeAsync(run(model(Duration.ofSeconds(2))));
    Job job = awaitJob();
    // Then it fails at the timeout, naming the last error
    await().atMost(Duration.ofSeconds(30)).until(result::isDone);
    assertThat(result.handle((o, e) -> e.getCause()).join())
        .isInstanceOf(TrainingException.class).hasMessageContaining("did not finish within PT2S")
        .hasMessageContaining("403");
    // And the Job is deleted rather than left running with its GPU
    await().atMost(Duration.ofSeconds(10)).until(() -> client.batch().v1().jobs().inNamespace(NS)
        .withName(job.getMetadata().getName()).get() == null);
  }

  @Test
  void shouldFollowTheExistingJobOfTheSameAttemptInsteadOfCreatingAnother() throws Exception {
    // Given the Job of this attempt already exists and succeeded (the service restarted)
    RunContext ctx = run(model(Duration.ofMinutes(5)));
    Job existing = new KubernetesExecutor(client, store, OWNER).job(ctx, ctx.model().training()
        .executor(), KubernetesExecutor.jobName("fraud-7", 2), NS);
    client.batch().v1().jobs().inNamespace(NS).resource(existing).create();
    setStatus(existing, true, "Completed");
    writeOutputs(ctx);
    // When executed
    TrainingOutput out = new KubernetesExecutor(client, store, OWNER).execute(ctx);
    // Then it reads that Job's outputs, and there is still one Job
    assertThat(out.metrics()).containsEntry("auc", 0.91);
    assertThat(client.batch().v1().jobs().inNamespace(NS).list().getItems()).hasSize(1);
  }

  /** The Job of {@code ctx} as this release creates it, with FLYWHEEL_OUTPUT_URI set or removed. */
  private Job jobWithOutputUri(RunContext ctx, String outputUri) throws Exception {
    Job job = new KubernetesExecutor(client, store, OWNER).job(ctx, ctx.model().training()
        .executor(), KubernetesExecutor.jobName("fraud-7", 2), NS);
    Container c = job.getSpec().getTemplate().getSpec().getContainers().get(0);
    c.getEnv().removeIf(e -> e.getName().equals("FLYWHEEL_OUTPUT_URI"));
    if (outputUri != null) {
      c.getEnv().add(new EnvVar("FLYWHEEL_OUTPUT_URI", outputUri, null));
    }
    return job;
  }

  private void writeOutputsAt(String prefix, String model) throws Exception {
    store.putNamed(prefix + "model.onnx", model.getBytes(StandardCharsets.UTF_8));
    store.putNamed(prefix + "manifest.json", """
        {"artifact": "model.onnx", "format": "ONNX", "metrics": {"auc": 0.88},
         "trainer": "torch-mlp", "trainerVersion": "2.3.0", "runtimeVersion": "17"}
        """.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void shouldReadTheOutputsOfAnExistingJobFromThePrefixItWasGivenByAnEarlierRelease()
      throws Exception {
    // Given a succeeded Job of this attempt created by the previous release, which gave it the
    // legacy prefix runs/fraud-7/2/ (no start time) and whose pod wrote its outputs there
    RunContext ctx = run(model(Duration.ofMinutes(5)));
    Job legacy = jobWithOutputUri(ctx, store.uriOf("runs/fraud-7/2/"));
    client.batch().v1().jobs().inNamespace(NS).resource(legacy).create();
    setStatus(legacy, true, "Completed");
    writeOutputsAt("runs/fraud-7/2/", "legacy-onnx");
    assertThat(store.getNamed(ctx.outputPrefix() + "manifest.json")).isEmpty();
    // When this release executes the attempt (after the upgrade)
    TrainingOutput out = new KubernetesExecutor(client, store, OWNER).execute(ctx);
    // Then it reads the manifest and model the Job wrote under the legacy prefix
    assertThat(out.metrics()).containsEntry("auc", 0.88);
    assertThat(out.trainerVersion()).isEqualTo("2.3.0");
    assertThat(Files.readString(out.artifact())).isEqualTo("legacy-onnx");
    assertThat(client.batch().v1().jobs().inNamespace(NS).list().getItems()).hasSize(1);
  }

  @Test
  void shouldReadTheOutputsOfAnExistingJobWithoutAnOutputUriFromTheAttemptsPrefix()
      throws Exception {
    // Given a succeeded Job of this attempt without FLYWHEEL_OUTPUT_URI, and one whose URI is
    // outside the store, with outputs under the attempt's prefix
    RunContext ctx = run(model(Duration.ofMinutes(5)));
    writeOutputs(ctx);
    for (String uri : new String[] {null, "s3://elsewhere/runs/fraud-7/2/"}) {
      Job job = jobWithOutputUri(ctx, uri);
      client.batch().v1().jobs().inNamespace(NS).withName(job.getMetadata().getName()).delete();
      client.batch().v1().jobs().inNamespace(NS).resource(job).create();
      setStatus(job, true, "Completed");
      // When executed
      TrainingOutput out = new KubernetesExecutor(client, store, OWNER).execute(ctx);
      // Then it falls back to the attempt's own prefix
      assertThat(out.metrics()).as("FLYWHEEL_OUTPUT_URI %s", uri).containsEntry("auc", 0.91);
    }
  }

  @Test
  void shouldRunItsOwnJobInsteadOfFollowingAFinishedJobOfAnEarlierRunWithTheSameId()
      throws Exception {
    // Given a succeeded Job of the same name from an earlier fraud-7 (the coordinator's state was
    // reset since), whose outputs are in the store
    RunContext earlier = run(model(Duration.ofMinutes(5)), STARTED.minus(Duration.ofDays(3)));
    Job old = new KubernetesExecutor(client, store, OWNER).job(earlier, earlier.model()
        .training().executor(), KubernetesExecutor.jobName("fraud-7", 2), NS);
    client.batch().v1().jobs().inNamespace(NS).resource(old).create();
    setStatus(old, true, "Completed");
    writeOutputs(earlier);
    // When this attempt is executed
    RunContext ctx = run(model(Duration.ofMinutes(5)));
    CompletableFuture<TrainingOutput> result = executeAsync(ctx);
    // Then the old Job is replaced by one of this attempt, and nothing is read before it ends
    String name = KubernetesExecutor.jobName("fraud-7", 2);
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(
        client.batch().v1().jobs().inNamespace(NS).withName(name).get())
        .isNotNull().extracting(j -> j.getMetadata().getLabels()
            .get(KubernetesExecutor.LABEL_STARTED))
        .isEqualTo(Long.toString(STARTED.toEpochMilli())));
    assertThat(result).isNotDone();
    // And when it succeeds with its own model, that model is the output
    writeOutputs(ctx);
    store.putNamed(ctx.outputPrefix() + "model.onnx", "new-onnx".getBytes(StandardCharsets.UTF_8));
    setStatus(client.batch().v1().jobs().inNamespace(NS).withName(name).get(), true,
        "Completed");
    TrainingOutput out = result.get(20, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(Files.readString(out.artifact())).isEqualTo("new-onnx");
    // And the earlier run's outputs are where it left them, not overwritten
    assertThat(store.getNamed(earlier.outputPrefix() + "model.onnx"))
        .hasValueSatisfying(b -> assertThat(new String(b, StandardCharsets.UTF_8))
            .isEqualTo("onnx-bytes"));
  }

  @Test
  void shouldFailWithoutTouchingARunningJobOfAnotherDeploymentWithTheSameName()
      throws Exception {
    // Given a running Job of the same name that another deployment created
    RunContext ctx = run(model(Duration.ofSeconds(10)));
    Job theirs = new KubernetesExecutor(client, store, "flywheel-training-trigger.other")
        .job(ctx, ctx.model().training().executor(), KubernetesExecutor.jobName("fraud-7", 2), NS);
    client.batch().v1().jobs().inNamespace(NS).resource(theirs).create();
    // When this attempt is executed
    // Then it fails naming the Job and what to do, and the Job is left running
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> new KubernetesExecutor(client, store, OWNER).execute(ctx))
        .isInstanceOf(TrainingException.class)
        .hasMessageContaining("Job ml/flywheel-train-fraud-7-a2 belongs to another run")
        .hasMessageContaining("kubectl delete job -n ml flywheel-train-fraud-7-a2");
    assertThat(client.batch().v1().jobs().inNamespace(NS).list().getItems()).singleElement()
        .satisfies(j -> assertThat(j.getMetadata().getLabels())
            .containsEntry(KubernetesExecutor.LABEL_OWNER, "flywheel-training-trigger.other"));
  }
}
