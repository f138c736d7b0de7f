package dev.flywheel.serde;

import java.io.IOException;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.UnresolvedUnionException;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.IndexedRecord;
import org.apache.avro.io.Encoder;

/**
 * Writes a record with a writer schema other than its own (the subject's latest version, or a fixed
 * schema id): each writer field takes the record's field of the same name (or of one of its
 * aliases), or the writer field's default when the record has none. Nested records are projected
 * the same way; enums are written by symbol. Used only off the fast path, when the schemas differ.
 */
final class ProjectingDatumWriter extends GenericDatumWriter<Object> {

  ProjectingDatumWriter(Schema writer, GenericData model) {
    super(writer, model);
  }

  @Override
  protected void writeField(Object datum, Schema.Field f, Encoder out, Object state)
      throws IOException {
    if (!(datum instanceof IndexedRecord record)) {
      super.writeField(datum, f, out, state);
      return;
    }
    Object value;
    Schema.Field source = sourceField(record.getSchema(), f);
    if (source != null) {
      value = record.get(source.pos());
    } else if (f.hasDefaultValue()) {
      value = getData().getDefaultValue(f);
    } else {
      throw new AvroRuntimeException("field '" + f.name() + "' of the writer schema "
          + "is not in the record's schema " + record.getSchema().getFullName()
          + " and has no default");
    }
    try {
      write(f.schema(), value, out);
    } catch (UnresolvedUnionException e) {
      UnresolvedUnionException named = new UnresolvedUnionException(f.schema(), f, value);
      named.addSuppressed(e);
      throw named;
    } catch (NullPointerException e) {
      throw npe(e, " in field " + f.name());
    } catch (ClassCastException e) {
      throw addClassCastMsg(e, " in field " + f.name());
    }
  }

  private static Schema.Field sourceField(Schema recordSchema, Schema.Field writerField) {
    Schema.Field same = recordSchema.getField(writerField.name());
    if (same != null) {
      return same;
    }
    for (String alias : writerField.aliases()) {
      Schema.Field aliased = recordSchema.getField(alias);
      if (aliased != null) {
        return aliased;
      }
    }
    for (Schema.Field candidate : recordSchema.getFields()) {
      if (candidate.aliases().contains(writerField.name())) {
        return candidate;
      }
    }
    return null;
  }
}
