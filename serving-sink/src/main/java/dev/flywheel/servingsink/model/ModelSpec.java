package dev.flywheel.servingsink.model;

import dev.flywheel.events.ModelArtifact;
import dev.flywheel.events.ModelPromoted;
import dev.flywheel.events.ModelSignature;
import java.util.Objects;

/**
 * One version of a model to serve under an alias, as the registry announced it.
 *
 * @param model the model name
 * @param alias the alias it is served under, e.g. {@code champion}
 * @param version the version
 * @param artifact where the file is and its sha256
 * @param signature its inputs, feature group, task and threshold
 * @param sourceId the id of the event that announced it ({@code ModelPromoted.event_id}, or
 *     {@code state:<event_id>} for the registry state); refusal reports derive their id from it
 */
public record ModelSpec(String model, String alias, int version, ModelArtifact artifact,
    ModelSignature signature, String sourceId) {

  public ModelSpec {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(alias, "alias");
    Objects.requireNonNull(artifact, "artifact");
    Objects.requireNonNull(signature, "signature");
    Objects.requireNonNull(sourceId, "sourceId");
  }

  /** The spec a promotion announces. */
  public static ModelSpec of(ModelPromoted promoted) {
    return new ModelSpec(promoted.getModel(), promoted.getAlias(), promoted.getVersion(),
        promoted.getArtifact(), promoted.getSignature(), promoted.getEventId());
  }

  /** {@code fraud@champion v3}. */
  public String describe() {
    return model + "@" + alias + " v" + version;
  }
}
