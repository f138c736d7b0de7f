package dev.flywheel.trainingtrigger.artifact;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The content-addressed store's puts and deletes. */
class LocalArtifactStoreTest {

  @TempDir Path root;

  private static final byte[] MODEL = "model bytes".getBytes(StandardCharsets.UTF_8);

  @Test
  void shouldSayWhichPutCreatedAnObjectOfTheSameBytes() throws Exception {
    // Given a store
    LocalArtifactStore store = new LocalArtifactStore(root);

    // When the same bytes are put twice
    ArtifactStore.StoredObject first = store.put(MODEL);
    ArtifactStore.StoredObject second = store.put(MODEL);

    // Then both name one object, which the first created
    assertThat(second.uri()).isEqualTo(first.uri());
    assertThat(first.created()).isTrue();
    assertThat(second.created()).isFalse();
  }

  @Test
  void shouldKeepAnObjectAnotherPutStoredTheSameBytesAsWhenTheCreatorDeletesIt() throws Exception {
    // Given an object created by one attempt and put again by another (the same model)
    LocalArtifactStore store = new LocalArtifactStore(root);
    ArtifactStore.StoredObject created = store.put(MODEL);
    store.put(MODEL);

    // When the creator's outcome is refused and it deletes the object
    boolean deleted = store.delete(created.uri());

    // Then the object stays for the other attempt, whose event may name it
    assertThat(deleted).isFalse();
    assertThat(Files.readAllBytes(store.objectPath(created.sha256()))).isEqualTo(MODEL);

    // and a second delete, with no put left, removes it
    assertThat(store.delete(created.uri())).isTrue();
    assertThat(store.objectPath(created.sha256())).doesNotExist();
  }

  @Test
  void shouldDeleteAnObjectPutOnce() throws Exception {
    // Given an object put once
    LocalArtifactStore store = new LocalArtifactStore(root);
    ArtifactStore.StoredObject created = store.put(MODEL);

    // When it is deleted, Then it is gone
    assertThat(store.delete(created.uri())).isTrue();
    assertThat(store.objectPath(created.sha256())).doesNotExist();
  }

  @Test
  void shouldRefuseToDeleteAFileOutsideItsObjects() throws Exception {
    // Given a named entry
    LocalArtifactStore store = new LocalArtifactStore(root);
    store.putNamed("runs/fraud-1.json", MODEL);

    // When its URI is given to delete, Then it is refused and kept
    assertThatThrownBy(() -> store.delete(store.uriOf("runs/fraud-1.json")))
        .isInstanceOf(NoSuchFileException.class).hasMessageContaining("not an object");
    assertThat(store.named("runs/fraud-1.json")).exists();
  }
}
