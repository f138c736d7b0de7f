package dev.flywheel.trainingtrigger.artifact;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A content-addressed directory: objects at {@code <root>/sha256/<first 2 hex>/<64 hex>}, named
 * entries at {@code <root>/named/<key>}. URIs are {@code file://} URIs. Writes go to a temporary
 * file first and are moved into place, so a reader never sees half an object.
 */
public final class LocalArtifactStore implements ArtifactStore {

  private final Path root;
  /**
   * How many puts of each object this store made since it was created, by digest: {@link #delete}
   * keeps an object another put stored the same bytes as (two attempts whose models came out the
   * same), whose event may name it. Puts of other processes on the same directory are not seen.
   */
  private final Map<String, Integer> puts = new HashMap<>();

  /** @param root the directory; created when missing */
  public LocalArtifactStore(Path root) {
    this.root = Objects.requireNonNull(root, "root").toAbsolutePath().normalize();
  }

  /** The root directory. */
  public Path root() {
    return root;
  }

  @Override
  public StoredObject put(Path file) throws IOException {
    Path tmpDir = Files.createDirectories(root.resolve("tmp"));
    Path tmp = Files.createTempFile(tmpDir, "put-", ".part");
    try {
      MessageDigest sha = sha256();
      long size;
      try (InputStream in = new DigestInputStream(Files.newInputStream(file), sha);
          OutputStream out = Files.newOutputStream(tmp)) {
        size = in.transferTo(out);
      }
      return moveInPlace(tmp, HexFormat.of().formatHex(sha.digest()), size);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  @Override
  public StoredObject put(byte[] bytes) throws IOException {
    Path tmpDir = Files.createDirectories(root.resolve("tmp"));
    Path tmp = Files.createTempFile(tmpDir, "put-", ".part");
    try {
      Files.write(tmp, bytes);
      return moveInPlace(tmp, HexFormat.of().formatHex(sha256().digest(bytes)), bytes.length);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private StoredObject moveInPlace(Path tmp, String hex, long size) throws IOException {
    Path target = objectPath(hex);
    Files.createDirectories(target.getParent());
    boolean created = false;
    synchronized (puts) {
      // under the lock: of two puts of the same bytes in this process, one creates the object
      // (also where the move cannot be atomic), and a delete cannot fall between exists and move
      if (!Files.exists(target)) {
        try {
          Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
          created = true;
        } catch (FileAlreadyExistsException e) {
          // stored concurrently with the same content, by another process
        } catch (AtomicMoveNotSupportedException e) {
          Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
          created = true;
        }
      }
      puts.merge(hex, 1, Integer::sum);
    }
    return new StoredObject(target.toUri().toString(), hex, size, created);
  }

  /** Where the object of this digest lives. */
  public Path objectPath(String sha256Hex) {
    return root.resolve("sha256").resolve(sha256Hex.substring(0, 2)).resolve(sha256Hex);
  }

  @Override
  public InputStream open(String uri) throws IOException {
    Path p = Path.of(URI.create(uri));
    if (!p.normalize().startsWith(root)) {
      throw new NoSuchFileException(uri + " is not in the artifact store at " + root);
    }
    return Files.newInputStream(p);
  }

  /**
   * {@inheritDoc}
   *
   * <p>An object this store was asked to put more than once since it was created (the same bytes
   * stored by two attempts) is kept, one put forgotten, and false returned: the other put's event
   * may name it.
   */
  @Override
  public boolean delete(String uri) throws IOException {
    Path p = Path.of(URI.create(uri)).normalize();
    if (!p.startsWith(root.resolve("sha256"))) {
      throw new NoSuchFileException(uri + " is not an object of the artifact store at " + root);
    }
    synchronized (puts) {
      Integer count = puts.get(p.getFileName().toString());
      if (count != null && count > 1) {
        puts.put(p.getFileName().toString(), count - 1);
        return false;
      }
      puts.remove(p.getFileName().toString());
      return Files.deleteIfExists(p);
    }
  }

  @Override
  public void putNamed(String key, byte[] bytes) throws IOException {
    Path target = named(key);
    Files.createDirectories(target.getParent());
    Path tmp = Files.createTempFile(target.getParent(), ".put-", ".part");
    try {
      Files.write(tmp, bytes);
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  @Override
  public Optional<byte[]> getNamed(String key) throws IOException {
    Path p = named(key);
    return Files.isRegularFile(p) ? Optional.of(Files.readAllBytes(p)) : Optional.empty();
  }

  @Override
  public String uriOf(String key) {
    return named(key).toUri().toString();
  }

  /** The local path of a named entry. */
  public Path named(String key) {
    Path p = root.resolve("named").resolve(key).normalize();
    if (!p.startsWith(root.resolve("named"))) {
      throw new IllegalArgumentException("artifact key '" + key + "' leaves the store");
    }
    return p;
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
