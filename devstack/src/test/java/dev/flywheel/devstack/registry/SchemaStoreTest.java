package dev.flywheel.devstack.registry;

import static dev.flywheel.devstack.registry.Schemas.AMOUNT;
import static dev.flywheel.devstack.registry.Schemas.ID_INT;
import static dev.flywheel.devstack.registry.Schemas.NAME_DEFAULTED;
import static dev.flywheel.devstack.registry.Schemas.record;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.flywheel.devstack.registry.SchemaStore.Version;
import dev.flywheel.registry.CompatibilityLevel;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

/** The store's rules over a log in memory, where a write can be made to time out. */
class SchemaStoreTest {

  private static final String SUBJECT = "tx-value";
  private static final String V1 = record("Tx", ID_INT);
  private static final String PHANTOM = record("Tx", ID_INT + "," + NAME_DEFAULTED);
  private static final String NEXT = record("Tx", ID_INT + "," + AMOUNT);

  /** The schema topic in memory; its next append can time out after the record landed. */
  private static final class MemoryLog implements SchemaStore.Log {
    final List<StoreRecord> records = new ArrayList<>();
    private boolean landThenTimeOut;

    void landThenTimeOutNext() {
      landThenTimeOut = true;
    }

    @Override
    public void append(StoreRecord record) {
      records.add(record);
      if (landThenTimeOut) {
        landThenTimeOut = false;
        throw RegistryException.storeTimeout("Write to the schema topic timed out", null);
      }
    }
  }

  @Test
  void shouldNeverGiveTheIdOrVersionOfATimedOutRegistrationAgain() {
    // Given a subject with one version, and a registration whose write timed out although its
    // record reached the topic
    MemoryLog log = new MemoryLog();
    SchemaStore store = new SchemaStore(log, CompatibilityLevel.NONE);
    store.register(SUBJECT, V1);
    log.landThenTimeOutNext();
    RegistryException timedOut = catchThrowableOfType(RegistryException.class,
        () -> store.register(SUBJECT, PHANTOM));

    // When another schema is registered, and a restarted registry reads the topic back
    int id = store.register(SUBJECT, NEXT);
    SchemaStore restarted = new SchemaStore(new MemoryLog(), CompatibilityLevel.NONE);
    log.records.forEach(restarted::apply);

    // Then the registration took an id and a version the lost write did not, so that the id the
    // producers were given names, after the restart too, the schema they registered
    Version expected = new Version(SUBJECT, 3, 3, canonical(NEXT), false);
    assertThat(timedOut.errorCode()).isEqualTo(50002);
    assertThat(id).isEqualTo(3);
    assertThat(store.version(SUBJECT, SchemaStore.LATEST, false)).isEqualTo(expected);
    assertThat(restarted.version(SUBJECT, SchemaStore.LATEST, false)).isEqualTo(expected);
    assertThat(restarted.schemaText(id)).isEqualTo(canonical(NEXT));
    assertThat(restarted.schemaText(2)).isEqualTo(canonical(PHANTOM));
    assertThat(restarted.maxId()).isEqualTo(3);
  }

  @Test
  void shouldApplyNothingOfARegistrationWhoseWriteTimedOut() {
    // Given a subject with one version
    MemoryLog log = new MemoryLog();
    SchemaStore store = new SchemaStore(log, CompatibilityLevel.NONE);
    store.register(SUBJECT, V1);

    // When a registration's write times out
    log.landThenTimeOutNext();
    catchThrowableOfType(RegistryException.class, () -> store.register(SUBJECT, PHANTOM));

    // Then the running registry serves nothing of it, and registering it again gives it a new id
    assertThat(store.versions(SUBJECT, true)).containsExactly(1);
    assertThat(catchThrowableOfType(RegistryException.class, () -> store.schemaText(2))
        .errorCode()).isEqualTo(40403);
    assertThat(store.register(SUBJECT, PHANTOM)).isEqualTo(3);
    assertThat(store.versions(SUBJECT, false)).containsExactly(1, 3);
  }

  private static String canonical(String schema) {
    return new Schema.Parser().parse(schema).toString();
  }
}
