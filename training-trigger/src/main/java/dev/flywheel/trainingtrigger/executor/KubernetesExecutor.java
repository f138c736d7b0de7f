package dev.flywheel.trainingtrigger.executor;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flywheel.events.ExecutorKind;
import dev.flywheel.trainingtrigger.artifact.ArtifactStore;
import dev.flywheel.trainingtrigger.artifact.LocalArtifactStore;
import dev.flywheel.trainingtrigger.config.ExecutorSpec;
import dev.flywheel.trainingtrigger.training.TrainingException;
import dev.flywheel.trainingtrigger.training.TrainingOutput;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import io.fabric8.kubernetes.api.model.batch.v1.JobStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.KubernetesClientTimeoutException;
import io.fabric8.kubernetes.client.dsl.Resource;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs an attempt as a Kubernetes {@code batch/v1} Job through the fabric8 client: the model's
 * image and command, its environment, resource requests and limits (e.g. {@code nvidia.com/gpu}),
 * node selector, tolerations and service account, {@code backoffLimit: 0} (Flywheel retries, not
 * the Job) and {@code activeDeadlineSeconds} from the timeout.
 *
 * <p>The Job is named after the run id and attempt, so executing the same attempt again (after the
 * service restarted) finds and follows the existing Job instead of starting a second. It is
 * labelled with its owner (the application id and topic prefix) and the attempt's STARTED time,
 * and only a Job with both labels equal to this attempt's is followed: a Job of the same name left
 * by another deployment or by an earlier run with the same id (the coordinator's state was reset)
 * is deleted when finished, and fails the attempt, naming it, while it runs. Finished Jobs are
 * removed by Kubernetes {@value #TTL_AFTER_FINISHED_SECONDS} s after they finish
 * ({@code ttlSecondsAfterFinished}), which leaves a failed Job's logs readable for a day. The
 * executor
 * watches it until it succeeds or fails, reading it again after an error of the API server (a
 * watch failing while it restarts, a 403); at the timeout it deletes the Job (and its pods) and
 * fails the attempt. The pod reads the dataset from {@code FLYWHEEL_DATASET_URI} and writes its
 * model and {@code manifest.json} ({@link ResultManifest}) under {@code FLYWHEEL_OUTPUT_URI} in the
 * artifact store, from where the executor reads them; the store must therefore be reachable from
 * the cluster (an S3-compatible store, or a shared volume for the local one). With {@code
 * artifactsVolumeClaim} the pod mounts that PersistentVolumeClaim read-write at the local store's
 * root (volume {@value #ARTIFACTS_VOLUME}), where the {@code file://} URIs it is given point.
 */
public final class KubernetesExecutor implements TrainingExecutor {

  /** Label on the Job with the model's name (lower-cased and made label-safe). */
  public static final String LABEL_MODEL = "flywheel.dev/model";
  /** Label on the Job with the run id (made label-safe). */
  public static final String LABEL_RUN = "flywheel.dev/run-id";
  /** Label on the Job with the attempt. */
  public static final String LABEL_ATTEMPT = "flywheel.dev/attempt";
  /** Label on the Job with its owner: the application id and topic prefix (made label-safe). */
  public static final String LABEL_OWNER = "flywheel.dev/owner";
  /** Label on the Job with the attempt's STARTED time, epoch ms. */
  public static final String LABEL_STARTED = "flywheel.dev/started-at";
  /** {@code ttlSecondsAfterFinished} of the Jobs: one day. */
  public static final int TTL_AFTER_FINISHED_SECONDS = 86_400;
  /** The training container's name. */
  public static final String CONTAINER = "train";
  /** The env variable with the URI of the prefix the pod writes its outputs under. */
  static final String OUTPUT_URI_ENV = "FLYWHEEL_OUTPUT_URI";
  /** The pod volume of {@code artifactsVolumeClaim}. */
  public static final String ARTIFACTS_VOLUME = "artifacts";

  /** The first pause before reading a Job again after an error of the API server, ms. */
  private static final long FIRST_WAIT_RETRY_MS = 500;
  /** The longest pause between such reads, ms. */
  private static final long MAX_WAIT_RETRY_MS = 15_000;

  private static final Logger log = LoggerFactory.getLogger(KubernetesExecutor.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final KubernetesClient client;
  private final ArtifactStore store;
  private final String owner;

  /**
   * @param client the cluster's client (its namespace is used unless the model names one)
   * @param store the artifact store the pods also reach
   * @param owner the deployment the Jobs belong to: its application id and topic prefix
   */
  public KubernetesExecutor(KubernetesClient client, ArtifactStore store, String owner) {
    this.client = Objects.requireNonNull(client, "client");
    this.store = Objects.requireNonNull(store, "store");
    this.owner = Objects.requireNonNull(owner, "owner");
  }

  @Override
  public ExecutorKind kind() {
    return ExecutorKind.KUBERNETES;
  }

  /** The Job name of an attempt: DNS-1123, at most 63 characters, deterministic. */
  public static String jobName(String runId, int attempt) {
    String suffix = "-a" + attempt;
    String base = "flywheel-train-" + dnsSafe(runId);
    int max = 63 - suffix.length();
    if (base.length() > max) {
      String hash = Integer.toHexString(runId.hashCode() & 0x7fffffff);
      base = base.substring(0, max - hash.length() - 1) + "-" + hash;
    }
    return base.replaceAll("-+$", "") + suffix;
  }

  private static String dnsSafe(String s) {
    return s.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]", "-");
  }

  @Override
  public TrainingOutput execute(RunContext run) throws IOException, InterruptedException {
    ExecutorSpec spec = run.model().training().executor();
    String namespace = spec.namespace() != null ? spec.namespace() : client.getNamespace();
    String name = jobName(run.runId(), run.attempt());
    Resource<Job> resource = client.batch().v1().jobs().inNamespace(namespace).withName(name);
    Job existing = resource.get();
    if (existing != null && !isOfThisAttempt(existing, run)) {
      String whose = "Job " + namespace + "/" + name + " belongs to another run with the same id"
          + " (labels " + existing.getMetadata().getLabels() + "; this attempt is "
          + Map.of(LABEL_OWNER, labelSafe(owner), LABEL_STARTED, startedLabel(run)) + ")";
      if (!isFinished(existing.getStatus())) {
        throw new TrainingException(whose + " and is still running; delete it (kubectl delete"
            + " job -n " + namespace + " " + name + ") if it is not needed, or give each"
            + " deployment its own namespace or trainingTrigger.applicationId");
      }
      log.warn("run {} attempt {}: {}; deleting it, as it finished", run.runId(), run.attempt(),
          whose);
      resource.withPropagationPolicy(DeletionPropagation.BACKGROUND).delete();
      resource.waitUntilCondition(Objects::isNull, 60, TimeUnit.SECONDS);
      existing = null;
    }
    String prefix;
    if (existing == null) {
      client.batch().v1().jobs().inNamespace(namespace).resource(job(run, spec, name, namespace))
          .create();
      log.info("run {} attempt {}: created Job {}/{}", run.runId(), run.attempt(), namespace,
          name);
      prefix = run.outputPrefix();
    } else {
      prefix = outputPrefixOf(existing, run);
      log.info("run {} attempt {}: following the existing Job {}/{}, which writes to {}",
          run.runId(), run.attempt(), namespace, name, store.uriOf(prefix));
    }
    Job finished = awaitFinished(resource, namespace, name, spec.timeout(), run);
    if (finished == null) {
      throw new TrainingException("Job " + namespace + "/" + name + " was deleted before it"
          + " finished");
    }
    JobStatus status = finished.getStatus();
    if (status.getSucceeded() == null || status.getSucceeded() < 1) {
      throw new TrainingException("Job " + namespace + "/" + name + " failed: "
          + failure(status) + " (kubectl logs -n " + namespace + " job/" + name + ")");
    }
    String manifestKey = prefix + ResultManifest.FILE;
    byte[] manifestBytes = store.getNamed(manifestKey).orElseThrow(() -> new TrainingException(
        "Job " + namespace + "/" + name + " succeeded but wrote no " + ResultManifest.FILE
            + " at " + store.uriOf(manifestKey)));
    ResultManifest m = ResultManifest.parse(manifestBytes, store.uriOf(manifestKey));
    byte[] artifact = store.getNamed(prefix + m.artifact()).orElseThrow(() ->
        new TrainingException(store.uriOf(manifestKey) + " names artifact " + m.artifact()
            + ", which is not at " + store.uriOf(prefix + m.artifact())));
    Path out = Files.createDirectories(run.workDir().resolve("out"));
    Path file = out.resolve(Path.of(m.artifact()).getFileName().toString());
    Files.write(file, artifact);
    return m.toOutput(file, run);
  }

  /**
   * The Job once it has finished, or null once it is gone, waiting at most {@code timeout}. An
   * error of the API server while waiting (a watch or read failing while it restarts, a 403 while
   * RBAC rules roll out) does not end the wait: the Job runs on regardless, so it is read again,
   * after a pause, until the timeout. At the timeout the Job is deleted (so that it does not hold
   * its GPU while the retry's Job runs) and the attempt fails, naming the last error if any.
   */
  private Job awaitFinished(Resource<Job> resource, String namespace, String name,
      Duration timeout, RunContext run) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    long pauseMs = FIRST_WAIT_RETRY_MS;
    KubernetesClientException lastError = null;
    while (true) {
      long remainingMs = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
      if (remainingMs <= 0) {
        break;
      }
      try {
        return resource.waitUntilCondition(j -> j == null || isFinished(j.getStatus()),
            remainingMs, TimeUnit.MILLISECONDS);
      } catch (KubernetesClientTimeoutException e) {
        break;
      } catch (KubernetesClientException e) {
        if (Thread.currentThread().isInterrupted()
            || e.getCause() instanceof InterruptedException) {
          throw e; // the service stops: the Job runs on, and is followed after the restart
        }
        lastError = e;
        log.warn("run {} attempt {}: waiting on Job {}/{} failed, reading it again in {} ms: {}",
            run.runId(), run.attempt(), namespace, name, pauseMs, e.toString());
        Thread.sleep(Math.max(0, Math.min(pauseMs,
            TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()))));
        pauseMs = Math.min(pauseMs * 2, MAX_WAIT_RETRY_MS);
      }
    }
    String why = "Job " + namespace + "/" + name + " did not finish within " + timeout
        + (lastError == null ? "" : " (last error while waiting on it: " + lastError.getMessage()
            + ")");
    try {
      resource.withPropagationPolicy(DeletionPropagation.BACKGROUND).delete();
    } catch (KubernetesClientException e) {
      throw new TrainingException(why + " and could not be deleted: " + e.getMessage()
          + "; delete it (kubectl delete job -n " + namespace + " " + name + ")");
    }
    throw new TrainingException(why + " and was deleted (raise training.executor.timeout)");
  }

  /**
   * The artifact-store prefix an existing Job of this attempt writes to: the one it was given in
   * {@code FLYWHEEL_OUTPUT_URI}, mapped back to a key through {@link ArtifactStore#uriOf}. A Job
   * created by an earlier release was given another prefix than {@link RunContext#outputPrefix()}
   * (e.g. {@code runs/<run id>/<attempt>/}, without the start time), and its pod writes there. When
   * the variable is missing or not a URI under the store, it is {@link RunContext#outputPrefix()}.
   */
  String outputPrefixOf(Job job, RunContext run) {
    String uri = outputUriOf(job);
    if (uri == null) {
      log.warn("run {} attempt {}: Job {} has no {}; reading its outputs from {}", run.runId(),
          run.attempt(), job.getMetadata().getName(), OUTPUT_URI_ENV,
          store.uriOf(run.outputPrefix()));
      return run.outputPrefix();
    }
    String key = keyOf(uri);
    if (key == null) {
      log.warn("run {} attempt {}: the {} of Job {}, {}, is not in the artifact store (under {});"
              + " reading its outputs from {}", run.runId(), run.attempt(), OUTPUT_URI_ENV,
          job.getMetadata().getName(), uri, store.uriOf(""), store.uriOf(run.outputPrefix()));
      return run.outputPrefix();
    }
    return key;
  }

  private static String outputUriOf(Job job) {
    if (job.getSpec() == null || job.getSpec().getTemplate() == null
        || job.getSpec().getTemplate().getSpec() == null
        || job.getSpec().getTemplate().getSpec().getContainers() == null) {
      return null;
    }
    List<Container> containers = job.getSpec().getTemplate().getSpec().getContainers();
    // the training container first; any other only if it is not there
    List<Container> ordered = new ArrayList<>(containers.stream()
        .filter(c -> CONTAINER.equals(c.getName())).toList());
    containers.stream().filter(c -> !CONTAINER.equals(c.getName())).forEach(ordered::add);
    for (Container c : ordered) {
      if (c.getEnv() == null) {
        continue;
      }
      for (EnvVar e : c.getEnv()) {
        if (OUTPUT_URI_ENV.equals(e.getName()) && e.getValue() != null
            && !e.getValue().isBlank()) {
          return e.getValue();
        }
      }
    }
    return null;
  }

  /**
   * The named-entry prefix (ending in {@code /}) whose {@link ArtifactStore#uriOf} is {@code uri},
   * or null when {@code uri} is not under the store's named entries.
   */
  private String keyOf(String uri) {
    String base = store.uriOf("");
    if (!base.endsWith("/")) {
      base = base + "/";
    }
    if (!uri.startsWith(base) || uri.length() == base.length()) {
      return null;
    }
    String key;
    try {
      key = URI.create("/" + uri.substring(base.length())).getPath().substring(1);
    } catch (IllegalArgumentException e) {
      return null;
    }
    if (!key.endsWith("/")) {
      key = key + "/";
    }
    try {
      // the store's own convention must give the same URI back (trailing "/" aside)
      return stripSlash(store.uriOf(key)).equals(stripSlash(uri)) ? key : null;
    } catch (IllegalArgumentException e) { // e.g. a key that leaves the store
      return null;
    }
  }

  private static String stripSlash(String s) {
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }

  /** Whether a Job was created for this attempt: same owner, same STARTED time. */
  private boolean isOfThisAttempt(Job job, RunContext run) {
    Map<String, String> labels = job.getMetadata().getLabels();
    return labels != null && labelSafe(owner).equals(labels.get(LABEL_OWNER))
        && startedLabel(run).equals(labels.get(LABEL_STARTED));
  }

  private static String startedLabel(RunContext run) {
    return Long.toString(run.startedAt().toEpochMilli());
  }

  private static boolean isFinished(JobStatus s) {
    if (s == null) {
      return false;
    }
    if ((s.getSucceeded() != null && s.getSucceeded() > 0)
        || (s.getFailed() != null && s.getFailed() > 0)) {
      return true;
    }
    return s.getConditions() != null && s.getConditions().stream().anyMatch(c ->
        ("Complete".equals(c.getType()) || "Failed".equals(c.getType()))
            && "True".equals(c.getStatus()));
  }

  private static String failure(JobStatus s) {
    if (s.getConditions() != null) {
      for (JobCondition c : s.getConditions()) {
        if ("Failed".equals(c.getType())) {
          return c.getReason() + (c.getMessage() == null ? "" : ": " + c.getMessage());
        }
      }
    }
    return (s.getFailed() == null ? 0 : s.getFailed()) + " failed pod(s)";
  }

  /** The Job of an attempt. */
  Job job(RunContext run, ExecutorSpec spec, String name, String namespace) throws IOException {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put("app.kubernetes.io/managed-by", "flywheel-training-trigger");
    // lower case as before, then a valid label value (at most 63 characters, alphanumeric at both
    // ends): "fraud_detector_" alone would be "fraud-detector-", which the API server rejects
    labels.put(LABEL_MODEL, labelSafe(dnsSafe(run.model().name())));
    labels.put(LABEL_RUN, labelSafe(run.runId()));
    labels.put(LABEL_ATTEMPT, Integer.toString(run.attempt()));
    labels.put(LABEL_OWNER, labelSafe(owner));
    labels.put(LABEL_STARTED, startedLabel(run));
    Map<String, String> env = new TreeMap<>(spec.env());
    env.put("FLYWHEEL_RUN_ID", run.runId());
    env.put("FLYWHEEL_ATTEMPT", Integer.toString(run.attempt()));
    env.put("FLYWHEEL_MODEL", run.model().name());
    env.put("FLYWHEEL_DATASET_URI", run.dataset().lineage().getUri());
    env.put("FLYWHEEL_DATASET_SHA256", run.dataset().lineage().getSha256());
    env.put("FLYWHEEL_FEATURES", String.join(",", run.dataset().featureNames()));
    env.put("FLYWHEEL_TASK", run.model().task().name());
    env.put("FLYWHEEL_PARAMS", JSON.writeValueAsString(run.params()));
    env.put(OUTPUT_URI_ENV, store.uriOf(run.outputPrefix()));
    List<EnvVar> envVars = new ArrayList<>();
    env.forEach((k, v) -> envVars.add(new EnvVar(k, v, null)));
    List<Toleration> tolerations = new ArrayList<>();
    for (Map<String, String> t : spec.tolerations()) {
      tolerations.add(new TolerationBuilder().withKey(t.get("key")).withOperator(t.get("operator"))
          .withValue(t.get("value")).withEffect(t.get("effect")).build());
    }
    List<Volume> volumes = new ArrayList<>();
    List<VolumeMount> mounts = new ArrayList<>();
    if (spec.artifactsVolumeClaim() != null) {
      volumes.add(new VolumeBuilder().withName(ARTIFACTS_VOLUME).withNewPersistentVolumeClaim()
          .withClaimName(spec.artifactsVolumeClaim()).endPersistentVolumeClaim().build());
      mounts.add(new VolumeMountBuilder().withName(ARTIFACTS_VOLUME)
          .withMountPath(artifactsRoot(spec).toString()).withReadOnly(false).build());
    }
    return new JobBuilder()
        .withNewMetadata().withName(name).withNamespace(namespace).withLabels(labels).endMetadata()
        .withNewSpec()
          .withBackoffLimit(0)
          .withTtlSecondsAfterFinished(TTL_AFTER_FINISHED_SECONDS)
          .withActiveDeadlineSeconds(Math.max(1, spec.timeout().toSeconds()))
          .withNewTemplate()
            .withNewMetadata().withLabels(labels).endMetadata()
            .withNewSpec()
              .withRestartPolicy("Never")
              .withServiceAccountName(spec.serviceAccount())
              .withNodeSelector(spec.nodeSelector().isEmpty() ? null : spec.nodeSelector())
              .withTolerations(tolerations)
              .withVolumes(volumes.isEmpty() ? null : volumes)
              .addNewContainer()
                .withName(CONTAINER)
                .withImage(spec.image())
                .withCommand(spec.command().isEmpty() ? null : spec.command())
                .withEnv(envVars)
                .withVolumeMounts(mounts.isEmpty() ? null : mounts)
                .withNewResources()
                  .withRequests(quantities(spec.requests()))
                  .withLimits(quantities(spec.limits()))
                .endResources()
              .endContainer()
            .endSpec()
          .endTemplate()
        .endSpec()
        .build();
  }

  /** Where the pod mounts {@code artifactsVolumeClaim}: the local store's root directory. */
  private Path artifactsRoot(ExecutorSpec spec) {
    if (store instanceof LocalArtifactStore local) {
      return local.root();
    }
    throw new TrainingException("training.executor.artifactsVolumeClaim '"
        + spec.artifactsVolumeClaim() + "' mounts the local artifact store's directory, but the"
        + " artifact store is " + store.uriOf("") + "; remove artifactsVolumeClaim");
  }

  private static Map<String, Quantity> quantities(Map<String, String> m) {
    Map<String, Quantity> q = new TreeMap<>();
    m.forEach((k, v) -> q.put(k, new Quantity(v)));
    return q.isEmpty() ? null : q;
  }

  private static String labelSafe(String s) {
    String v = s.replaceAll("[^A-Za-z0-9._-]", "-");
    v = v.length() <= 63 ? v : v.substring(0, 63);
    return v.replaceAll("^[^A-Za-z0-9]+|[^A-Za-z0-9]+$", ""); // begins and ends alphanumeric
  }
}
