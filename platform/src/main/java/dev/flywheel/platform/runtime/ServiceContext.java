package dev.flywheel.platform.runtime;

import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topics;
import java.nio.file.Path;
import java.util.Map;

/**
 * What every service adapter of {@link ServiceCatalog} is built from: the cluster, the shared
 * serdes and topic catalogue, and where state is kept.
 *
 * @param yaml the whole {@code flywheel.yaml} text; each service reads its own sections
 * @param configDir the folder paths in the YAML are relative to
 * @param kafka client properties of every service: {@code bootstrap.servers} plus the
 *     {@code kafka.properties} of the config (security, tuning)
 * @param bootstrapServers the brokers
 * @param schemaRegistryUrl the schema registry
 * @param serdes the Avro serdes every service shares (one registry client, one schema cache)
 * @param topics the topic catalogue built on {@code serdes}
 * @param stateRoot the root of the services' state; each keeps its own under {@code
 *     <stateRoot>/<service>}
 * @param topicPrefix the topic prefix, or null: application ids default to {@code
 *     <prefix>.<application id>} so tenants on one cluster do not share consumer groups
 * @param applicationServer {@code host:port} of this process's HTTP server as other instances
 *     reach it (the feature lookup routes to it)
 * @param scratchRoot where files that the YAML leaves at their defaults under {@code .flywheel/}
 *     in the working directory go instead (training's artifacts and work files), or null to keep
 *     those defaults; {@code flywheel up --temporary} sets it so that nothing outlives the run
 */
record ServiceContext(String yaml, Path configDir, Map<String, Object> kafka,
    String bootstrapServers, String schemaRegistryUrl, AvroSerdes serdes, Topics topics,
    Path stateRoot, String topicPrefix, String applicationServer, Path scratchRoot) {

  ServiceContext {
    kafka = Map.copyOf(kafka);
  }

  /** Where the service called {@code name} keeps its state. */
  Path stateDir(String name) {
    return stateRoot.resolve(name);
  }

  /**
   * {@code configured}, unless it is the service's default and topics are prefixed: then {@code
   * <prefix>.<default>}.
   */
  String applicationId(String configured, String defaultId) {
    if (topicPrefix == null || topicPrefix.isBlank() || !defaultId.equals(configured)) {
      return configured;
    }
    return topicPrefix + "." + defaultId;
  }
}
