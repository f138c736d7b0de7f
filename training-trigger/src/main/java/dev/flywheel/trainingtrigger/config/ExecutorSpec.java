package dev.flywheel.trainingtrigger.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Where a model's runs execute: {@code training.executor} of a model entry.
 *
 * <pre>{@code
 * executor:
 *   kind: kubernetes                # local (default) | command | kubernetes
 *   timeout: PT2H                   # cancel and fail the run after this; default PT1H
 *   command: [python, train.py]     # command, kubernetes: the program and its arguments
 *   workDir: /srv/train             # command: working directory; default the service's
 *   env: {EPOCHS: "10"}             # command, kubernetes: extra environment
 *   image: ghcr.io/acme/train:1.4   # kubernetes: the container image
 *   namespace: ml                   # kubernetes: default the client's namespace
 *   serviceAccount: trainer         # kubernetes
 *   resources:                      # kubernetes: requests and limits, e.g. GPUs
 *     requests: {cpu: "4", memory: 16Gi}
 *     limits: {nvidia.com/gpu: "1"}
 *   nodeSelector: {accelerator: a100}
 *   tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]
 *   artifactsVolumeClaim: flywheel-artifacts   # kubernetes: the PVC of the local artifact store
 * }</pre>
 *
 * @param kind local, command or kubernetes; never null
 * @param timeout how long a run may take; never null
 * @param command the program and arguments; empty for local
 * @param workDir the command's working directory; null for the service's
 * @param env extra environment variables; never null
 * @param image the Job's container image; null unless kubernetes
 * @param namespace the Job's namespace; null for the client's default
 * @param serviceAccount the Job pod's service account; null for the namespace default
 * @param requests resource requests by name; never null
 * @param limits resource limits by name (e.g. {@code nvidia.com/gpu}); never null
 * @param nodeSelector node labels the pod must match; never null
 * @param tolerations taints the pod tolerates ({@code key, operator, value, effect}); never null
 * @param artifactsVolumeClaim the PersistentVolumeClaim holding the local artifact store, which
 *     the Job's pod mounts read-write at the store's root so that the {@code file://} URIs it is
 *     given resolve in the pod; null when the pod reaches the store otherwise
 */
public record ExecutorSpec(Kind kind, Duration timeout, List<String> command, String workDir,
    Map<String, String> env, String image, String namespace, String serviceAccount,
    Map<String, String> requests, Map<String, String> limits, Map<String, String> nodeSelector,
    List<Map<String, String>> tolerations, String artifactsVolumeClaim) {

  /** A run's default time limit. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofHours(1);

  /** Where runs execute. */
  public enum Kind {
    /** In the service, on its bounded pool, with the built-in trainer. */
    LOCAL,
    /** A user's command on this host, reading the dataset and writing a manifest. */
    COMMAND,
    /** A batch/v1 Job on Kubernetes, reading and writing through the artifact store. */
    KUBERNETES
  }

  /** The local executor with the default timeout. */
  public static ExecutorSpec local() {
    return new ExecutorSpec(Kind.LOCAL, DEFAULT_TIMEOUT, List.of(), null, Map.of(), null, null,
        null, Map.of(), Map.of(), Map.of(), List.of(), null);
  }

  /** An executor whose Job pods do not mount the artifact store's volume claim. */
  public ExecutorSpec(Kind kind, Duration timeout, List<String> command, String workDir,
      Map<String, String> env, String image, String namespace, String serviceAccount,
      Map<String, String> requests, Map<String, String> limits, Map<String, String> nodeSelector,
      List<Map<String, String>> tolerations) {
    this(kind, timeout, command, workDir, env, image, namespace, serviceAccount, requests, limits,
        nodeSelector, tolerations, null);
  }

  /** Defaults filled in, collections copied. */
  public ExecutorSpec {
    kind = kind == null ? Kind.LOCAL : kind;
    timeout = timeout == null ? DEFAULT_TIMEOUT : timeout;
    command = command == null ? List.of() : List.copyOf(command);
    env = env == null ? Map.of() : Map.copyOf(env);
    requests = requests == null ? Map.of() : Map.copyOf(requests);
    limits = limits == null ? Map.of() : Map.copyOf(limits);
    nodeSelector = nodeSelector == null ? Map.of() : Map.copyOf(nodeSelector);
    tolerations = tolerations == null ? List.of() : List.copyOf(tolerations);
    artifactsVolumeClaim = artifactsVolumeClaim == null || artifactsVolumeClaim.isBlank() ? null
        : artifactsVolumeClaim.trim();
  }

  /** The YAML form: spans as strings, resources nested. */
  record Yaml(String kind, String timeout, List<String> command, String workDir,
      Map<String, String> env, String image, String namespace, String serviceAccount,
      Resources resources, Map<String, String> nodeSelector,
      List<Map<String, String>> tolerations, String artifactsVolumeClaim) {

    record Resources(Map<String, String> requests, Map<String, String> limits) {}

    ExecutorSpec toSpec(String where) {
      Kind k;
      if (kind == null) {
        k = Kind.LOCAL;
      } else {
        try {
          k = Kind.valueOf(kind.trim().toUpperCase());
        } catch (IllegalArgumentException e) {
          throw new InvalidConfigException(where + ".kind is '" + kind
              + "'; use local, command or kubernetes");
        }
      }
      if (k == Kind.COMMAND && (command == null || command.isEmpty())) {
        throw new InvalidConfigException(where + ".command is missing: the command executor needs"
            + " the program to run, e.g. command: [python, train.py]");
      }
      if (k == Kind.KUBERNETES && (image == null || image.isBlank())) {
        throw new InvalidConfigException(where + ".image is missing: the kubernetes executor needs"
            + " the training container image");
      }
      Duration t = TimeSpans.parse(where + ".timeout", timeout);
      if (t != null && t.isZero()) {
        throw new InvalidConfigException(where + ".timeout must be longer than zero");
      }
      return new ExecutorSpec(k, t, command, workDir, env, image, namespace, serviceAccount,
          resources == null ? null : resources.requests(),
          resources == null ? null : resources.limits(), nodeSelector, tolerations,
          artifactsVolumeClaim);
    }
  }

}
