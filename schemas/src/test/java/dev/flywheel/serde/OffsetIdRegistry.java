package dev.flywheel.serde;

import dev.flywheel.registry.CompatibilityLevel;
import dev.flywheel.registry.CompatibilityResult;
import dev.flywheel.registry.InMemorySchemaRegistryClient;
import dev.flywheel.registry.RegisteredSchema;
import dev.flywheel.registry.SchemaRegistryClient;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.Schema;

/**
 * An in-memory registry whose ids start at {@code offset + 1}, so that tests see schema ids that
 * use all four bytes of the wire header; counts the calls that reach it.
 */
final class OffsetIdRegistry implements SchemaRegistryClient {

  private final InMemorySchemaRegistryClient inner = new InMemorySchemaRegistryClient();
  private final int offset;
  final AtomicInteger calls = new AtomicInteger();

  OffsetIdRegistry(int offset) {
    this.offset = offset;
  }

  @Override
  public int register(String subject, Schema schema, boolean normalize) {
    calls.incrementAndGet();
    return inner.register(subject, schema, normalize) + offset;
  }

  @Override
  public Schema getSchemaById(int id) {
    calls.incrementAndGet();
    return inner.getSchemaById(id - offset);
  }

  @Override
  public RegisteredSchema getBySubjectAndVersion(String subject, int version) {
    calls.incrementAndGet();
    return shift(inner.getBySubjectAndVersion(subject, version));
  }

  @Override
  public RegisteredSchema getLatest(String subject) {
    calls.incrementAndGet();
    return shift(inner.getLatest(subject));
  }

  @Override
  public RegisteredSchema lookup(String subject, Schema schema, boolean normalize) {
    calls.incrementAndGet();
    return shift(inner.lookup(subject, schema, normalize));
  }

  @Override
  public CompatibilityResult testCompatibility(String subject, Schema schema) {
    calls.incrementAndGet();
    return inner.testCompatibility(subject, schema);
  }

  @Override
  public CompatibilityLevel getCompatibility(String subject) {
    calls.incrementAndGet();
    return inner.getCompatibility(subject);
  }

  @Override
  public CompatibilityLevel setCompatibility(String subject, CompatibilityLevel level) {
    calls.incrementAndGet();
    return inner.setCompatibility(subject, level);
  }

  @Override
  public CompatibilityLevel deleteSubjectConfig(String subject) {
    calls.incrementAndGet();
    return inner.deleteSubjectConfig(subject);
  }

  @Override
  public List<String> listSubjects() {
    calls.incrementAndGet();
    return inner.listSubjects();
  }

  @Override
  public List<Integer> listVersions(String subject) {
    calls.incrementAndGet();
    return inner.listVersions(subject);
  }

  @Override
  public List<Integer> deleteSubject(String subject, boolean permanent) {
    calls.incrementAndGet();
    return inner.deleteSubject(subject, permanent);
  }

  @Override
  public int deleteVersion(String subject, int version, boolean permanent) {
    calls.incrementAndGet();
    return inner.deleteVersion(subject, version, permanent);
  }

  private RegisteredSchema shift(RegisteredSchema r) {
    return new RegisteredSchema(r.subject(), r.version(), r.id() + offset, r.schema());
  }
}
