package dev.flywheel.trainingtrigger.artifact;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where datasets, models and run outputs live. Objects are content-addressed: {@link #put(Path)}
 * stores bytes under their SHA-256 and returns the same URI for the same bytes, so storing twice
 * (a retried run) is harmless. Named entries ({@link #putNamed}, {@link #getNamed}) hold what an
 * executor writes under a run's output prefix before it is verified and stored by content.
 *
 * <p>{@link LocalArtifactStore} is the default. An S3-compatible store implements the same
 * interface with {@code s3://bucket/...} URIs; none ships yet.
 */
public interface ArtifactStore {

  /**
   * Stores a file by content (copying it).
   *
   * @return its URI, digest and size; the same for the same bytes
   * @throws IOException when the file cannot be read or stored
   */
  StoredObject put(Path file) throws IOException;

  /** Stores bytes by content. @throws IOException when they cannot be stored */
  StoredObject put(byte[] bytes) throws IOException;

  /**
   * Deletes a stored object. Objects are shared by content, so only one that no event names may
   * go: in practice, one whose {@link #put} {@link StoredObject#created stored} it for an outcome
   * that was never written.
   *
   * @param uri a URI {@link #put} returned
   * @return whether there was such an object
   * @throws IOException when it cannot be deleted, or the URI is not a stored object's
   */
  boolean delete(String uri) throws IOException;

  /**
   * Opens a stored object.
   *
   * @param uri a URI {@link #put} returned
   * @throws IOException when there is no such object
   */
  InputStream open(String uri) throws IOException;

  /**
   * Writes a named entry, replacing any of that name.
   *
   * @param key a relative path, e.g. {@code runs/fraud-detector-3/1/manifest.json}
   */
  void putNamed(String key, byte[] bytes) throws IOException;

  /** Reads a named entry, empty when absent. */
  Optional<byte[]> getNamed(String key) throws IOException;

  /** The URI of a named entry or prefix, as an executor outside this JVM addresses it. */
  String uriOf(String key);

  /**
   * A stored object.
   *
   * @param uri where it is
   * @param sha256 its digest, 64 lowercase hex characters
   * @param sizeBytes its size
   * @param created whether this put stored the bytes; false when the store held them already (an
   *     earlier put of the same bytes, which an event may name)
   */
  record StoredObject(String uri, String sha256, long sizeBytes, boolean created) {}
}
