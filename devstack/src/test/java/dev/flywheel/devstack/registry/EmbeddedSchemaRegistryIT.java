package dev.flywheel.devstack.registry;

import static dev.flywheel.devstack.registry.RegistryHttp.JSON;
import static dev.flywheel.devstack.registry.RegistryHttp.V1_JSON;
import static dev.flywheel.devstack.registry.Schemas.AMOUNT;
import static dev.flywheel.devstack.registry.Schemas.ID_INT;
import static dev.flywheel.devstack.registry.Schemas.NAME;
import static dev.flywheel.devstack.registry.Schemas.NAME_DEFAULTED;
import static dev.flywheel.devstack.registry.Schemas.record;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flywheel.devstack.registry.RegistryHttp.Response;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.avro.Schema;
import dev.flywheel.devstack.junit.WithDevstack;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Subjects, versions, ids, deletes and the exact response shapes, over raw HTTP. */
@WithDevstack
class EmbeddedSchemaRegistryIT {

  @RegisterExtension final FreshRegistry fresh = new FreshRegistry();

  @Test
  void shouldServeARegisteredSchemaByIdByVersionAndAsLatest() {
    // Given a schema registered under a subject
    String schema = record("Payment", ID_INT + "," + AMOUNT);
    Response registered = fresh.http().register("payments-value", schema);

    // When it is read by id, by version and as the latest version
    int id = registered.id();
    Response byId = fresh.http().get("/schemas/ids/" + id);
    Response byVersion = fresh.http().get("/subjects/payments-value/versions/1");
    Response latest = fresh.http().get("/subjects/payments-value/versions/latest");

    // Then all three give the schema, in the compact form Avro prints
    String canonical = new Schema.Parser().parse(schema).toString();
    assertThat(registered.status()).isEqualTo(200);
    assertThat(id).isEqualTo(1);
    assertThat(byId.json().get("schema").asText()).isEqualTo(canonical);
    assertThat(byVersion.json()).isEqualTo(versionJson("payments-value", 1, id, canonical));
    assertThat(latest.json()).isEqualTo(byVersion.json());
  }

  @Test
  void shouldReturnTheExistingIdWhenAnIdenticalSchemaIsRegisteredAgain() {
    // Given a schema registered once
    int first = fresh.http().registerOk("orders-value", record("Order", ID_INT + "," + NAME));

    // When the same schema is registered again, formatted differently
    String reformatted = "{ \"namespace\": \"dev.flywheel.test\", \"type\": \"record\",\n"
        + "  \"name\": \"Order\", \"fields\": [ " + ID_INT + ",\n " + NAME + " ] }";
    int second = fresh.http().registerOk("orders-value", reformatted);

    // Then it gets the same id and the subject still has a single version
    assertThat(second).isEqualTo(first);
    assertThat(fresh.http().get("/subjects/orders-value/versions").json().toString()).isEqualTo("[1]");
  }

  @Test
  void shouldGiveTheSameIdToTheSameSchemaUnderAnotherSubject() {
    // Given a schema registered under one subject
    String schema = record("Shared", ID_INT);
    int id = fresh.http().registerOk("a-value", schema);

    // When the same schema is registered under another subject
    int other = fresh.http().registerOk("b-value", schema);

    // Then both subjects hold the same global id, each as version 1
    assertThat(other).isEqualTo(id);
    assertThat(fresh.http().get("/schemas/ids/" + id + "/versions").json().toString())
        .isEqualTo("[{\"subject\":\"a-value\",\"version\":1},{\"subject\":\"b-value\",\"version\":1}]");
  }

  @Test
  void shouldRegisterASchemaThatOnlyChangesADocAsANewVersion() {
    // Given a schema registered once
    int first = fresh.http().registerOk("docs-value", record("Doc", ID_INT));

    // When the same fields come again with a doc on the record
    String documented = "{\"type\":\"record\",\"name\":\"Doc\",\"namespace\":\"dev.flywheel.test\","
        + "\"doc\":\"now documented\",\"fields\":[" + ID_INT + "]}";
    int second = fresh.http().registerOk("docs-value", documented);

    // Then it is a new version with a new id: the registry compares the full schema, docs included
    assertThat(second).isNotEqualTo(first);
    assertThat(fresh.http().get("/subjects/docs-value/versions").json().toString()).isEqualTo("[1,2]");
  }

  @Test
  void shouldFindARegisteredSchemaByLookup() {
    // Given two versions of a subject
    String v1 = record("Lookup", ID_INT);
    String v2 = record("Lookup", ID_INT + "," + NAME_DEFAULTED);
    fresh.http().registerOk("lookup-value", v1);
    int id2 = fresh.http().registerOk("lookup-value", v2);

    // When the second schema is looked up under the subject
    Response found = fresh.http().post("/subjects/lookup-value", RegistryHttp.schemaBody(v2));

    // Then the subject, version, id and schema are returned
    assertThat(found.status()).isEqualTo(200);
    assertThat(found.json()).isEqualTo(versionJson("lookup-value", 2, id2,
        new Schema.Parser().parse(v2).toString()));
  }

  @Test
  void shouldAnswer40403WhenALookedUpSchemaIsNotUnderTheSubject() {
    // Given a subject with one schema
    fresh.http().registerOk("lookup-value", record("Lookup", ID_INT));

    // When another schema is looked up under it
    Response missing = fresh.http().post("/subjects/lookup-value",
        RegistryHttp.schemaBody(record("Other", ID_INT)));

    // Then the schema is not found
    assertThat(missing.status()).isEqualTo(404);
    assertThat(missing.errorCode()).isEqualTo(40403);
  }

  @Test
  void shouldAnswer40401ForAnUnknownSubject() {
    // Given an empty registry
    // When an unknown subject is read, listed, looked up and deleted
    List<Response> responses = List.of(
        fresh.http().get("/subjects/nope/versions"),
        fresh.http().get("/subjects/nope/versions/1"),
        fresh.http().get("/subjects/nope/versions/latest"),
        fresh.http().post("/subjects/nope", RegistryHttp.schemaBody(record("Nope", ID_INT))),
        fresh.http().delete("/subjects/nope"));

    // Then each is a 404 with error_code 40401 naming the subject
    assertThat(responses).allSatisfy(response -> {
      assertThat(response.status()).isEqualTo(404);
      assertThat(response.errorCode()).isEqualTo(40401);
      assertThat(response.json().get("message").asText()).contains("nope");
    });
  }

  @Test
  void shouldAnswer40402ForAnUnknownVersionOfAKnownSubject() {
    // Given a subject with one version
    fresh.http().registerOk("known-value", record("Known", ID_INT));

    // When version 7 is read
    Response response = fresh.http().get("/subjects/known-value/versions/7");

    // Then the version is not found
    assertThat(response.status()).isEqualTo(404);
    assertThat(response.errorCode()).isEqualTo(40402);
  }

  @Test
  void shouldAnswer40403ForAnUnknownSchemaId() {
    // Given an empty registry
    // When schema 42 is read in each form
    List<Response> responses = List.of(fresh.http().get("/schemas/ids/42"),
        fresh.http().get("/schemas/ids/42/schema"), fresh.http().get("/schemas/ids/42/versions"));

    // Then each is a 404 with error_code 40403
    assertThat(responses).allSatisfy(response -> {
      assertThat(response.status()).isEqualTo(404);
      assertThat(response.errorCode()).isEqualTo(40403);
    });
  }

  @Test
  void shouldAnswer42202ForAnInvalidVersion() {
    // Given a subject with one version
    fresh.http().registerOk("known-value", record("Known", ID_INT));

    // When versions 0 and "first" are read
    // Then both are invalid versions
    assertThat(List.of(fresh.http().get("/subjects/known-value/versions/0"),
        fresh.http().get("/subjects/known-value/versions/first"))).allSatisfy(response -> {
          assertThat(response.status()).isEqualTo(422);
          assertThat(response.errorCode()).isEqualTo(42202);
        });
  }

  @Test
  void shouldListSubjectsAndVersions() {
    // Given two subjects, one with two versions
    fresh.http().registerOk("b-value", record("B", ID_INT));
    fresh.http().registerOk("a-value", record("A", ID_INT));
    fresh.http().registerOk("a-value", record("A", ID_INT + "," + NAME_DEFAULTED));

    // When subjects and versions are listed
    JsonNode subjects = fresh.http().get("/subjects").json();
    JsonNode versions = fresh.http().get("/subjects/a-value/versions").json();

    // Then they are sorted
    assertThat(subjects.toString()).isEqualTo("[\"a-value\",\"b-value\"]");
    assertThat(versions.toString()).isEqualTo("[1,2]");
  }

  @Test
  void shouldHideASoftDeletedVersionUnlessDeletedAreAsked() {
    // Given a subject with two versions
    fresh.http().registerOk("soft-value", record("Soft", ID_INT));
    int id2 = fresh.http().registerOk("soft-value", record("Soft", ID_INT + "," + NAME_DEFAULTED));

    // When version 2 is soft-deleted
    Response deleted = fresh.http().delete("/subjects/soft-value/versions/2");

    // Then it answers 2, disappears from reads, stays with deleted=true and by id
    assertThat(deleted.body()).isEqualTo("2");
    assertThat(fresh.http().get("/subjects/soft-value/versions/2").errorCode()).isEqualTo(40402);
    assertThat(fresh.http().get("/subjects/soft-value/versions").json().toString()).isEqualTo("[1]");
    assertThat(fresh.http().get("/subjects/soft-value/versions?deleted=true").json().toString())
        .isEqualTo("[1,2]");
    assertThat(fresh.http().get("/subjects/soft-value/versions/latest").json().get("version").asInt())
        .isEqualTo(1);
    assertThat(fresh.http().get("/subjects/soft-value/versions/2?deleted=true").json().get("id").asInt())
        .isEqualTo(id2);
    assertThat(fresh.http().get("/schemas/ids/" + id2).status()).isEqualTo(200);
  }

  @Test
  void shouldRefuseToPermanentlyDeleteAVersionThatWasNotSoftDeleted() {
    // Given a subject with one live version
    fresh.http().registerOk("hard-value", record("Hard", ID_INT));

    // When it is deleted permanently at once
    Response response = fresh.http().delete("/subjects/hard-value/versions/1?permanent=true");

    // Then it is refused, as Confluent's registry does
    assertThat(response.status()).isEqualTo(404);
    assertThat(response.errorCode()).isEqualTo(40407);
    assertThat(fresh.http().get("/subjects/hard-value/versions/1").status()).isEqualTo(200);
  }

  @Test
  void shouldRemoveASubjectAndItsSchemaWhenDeletedSoftThenPermanently() {
    // Given a subject with two versions
    fresh.http().registerOk("gone-value", record("Gone", ID_INT));
    int id2 = fresh.http().registerOk("gone-value", record("Gone", ID_INT + "," + NAME_DEFAULTED));

    // When the subject is soft-deleted, then permanently deleted
    Response soft = fresh.http().delete("/subjects/gone-value");
    Response listedAfterSoft = fresh.http().get("/subjects?deleted=true");
    Response hard = fresh.http().delete("/subjects/gone-value?permanent=true");

    // Then both answer the versions, and nothing of the subject remains
    assertThat(soft.json().toString()).isEqualTo("[1,2]");
    assertThat(listedAfterSoft.json().toString()).isEqualTo("[\"gone-value\"]");
    assertThat(hard.json().toString()).isEqualTo("[1,2]");
    assertThat(fresh.http().get("/subjects?deleted=true").json().toString()).isEqualTo("[]");
    assertThat(fresh.http().get("/subjects/gone-value/versions?deleted=true").errorCode())
        .isEqualTo(40401);
    assertThat(fresh.http().get("/schemas/ids/" + id2).errorCode()).isEqualTo(40403);
  }

  @Test
  void shouldRegisterAgainAfterASoftDeleteWithTheSameIdAndANewVersion() {
    // Given a schema registered, then its subject soft-deleted
    String schema = record("Again", ID_INT);
    int id = fresh.http().registerOk("again-value", schema);
    fresh.http().delete("/subjects/again-value");

    // When the same schema is registered again
    int again = fresh.http().registerOk("again-value", schema);

    // Then it keeps its id and becomes version 2
    assertThat(again).isEqualTo(id);
    assertThat(fresh.http().get("/subjects/again-value/versions").json().toString()).isEqualTo("[2]");
  }

  @Test
  void shouldAnswerVersionsWithoutSchemaTypeOrReferencesForAvro() {
    // Given an Avro schema registered with an explicit schemaType and empty references
    String body = JSON.createObjectNode().put("schema", record("Shape", ID_INT))
        .put("schemaType", "AVRO").set("references", JSON.createArrayNode()).toString();
    fresh.http().post("/subjects/shape-value/versions", body);

    // When the version and the schema by id are read
    Response version = fresh.http().get("/subjects/shape-value/versions/1");
    Response byId = fresh.http().get("/schemas/ids/1");

    // Then they carry exactly Confluent's fields for AVRO, in the registry's media type
    assertThat(version.contentType()).startsWith(V1_JSON);
    assertThat(fieldNames(version.json())).containsExactly("subject", "version", "id", "schema");
    assertThat(fieldNames(byId.json())).containsExactly("schema");
  }

  @Test
  void shouldServeRawSchemasByIdAndByVersion() {
    // Given a registered schema
    String canonical = new Schema.Parser().parse(record("Raw", ID_INT)).toString();
    int id = fresh.http().registerOk("raw-value", canonical);

    // When the raw schema is read by id and by version
    Response byId = fresh.http().get("/schemas/ids/" + id + "/schema");
    Response byVersion = fresh.http().get("/subjects/raw-value/versions/1/schema");

    // Then the body is the schema itself
    assertThat(byId.body()).isEqualTo(canonical);
    assertThat(byVersion.body()).isEqualTo(canonical);
  }

  @Test
  void shouldAnswerTheMaxIdWhenAskedAndIgnoreAnEmptySubjectParameter() {
    // Given three distinct schemas
    fresh.http().registerOk("m-value", record("M1", ID_INT));
    fresh.http().registerOk("n-value", record("M2", ID_INT));
    fresh.http().registerOk("o-value", record("M3", ID_INT));

    // When schema 1 is read as Confluent's client does, with an empty subject and fetchMaxId
    Response response = fresh.http().get("/schemas/ids/1?subject=&fetchMaxId=true");

    // Then the schema comes with the highest id
    assertThat(response.status()).isEqualTo(200);
    assertThat(response.json().get("maxId").asInt()).isEqualTo(3);
  }

  @Test
  void shouldAnswerTheFixedEndpointsAsConfluentsRegistryDoes() {
    // Given a fresh registry
    // When the root, the schema types, the mode and the global config are read
    Response root = fresh.http().get("/");
    Response types = fresh.http().get("/schemas/types");
    Response mode = fresh.http().get("/mode");
    Response subjectMode = fresh.http().get("/mode/any-value");
    Response config = fresh.http().get("/config");

    // Then each answers the shape clients expect
    assertThat(root.body()).isEqualTo("{}");
    assertThat(types.body()).isEqualTo("[\"AVRO\"]");
    assertThat(mode.body()).isEqualTo("{\"mode\":\"READWRITE\"}");
    assertThat(subjectMode.body()).isEqualTo("{\"mode\":\"READWRITE\"}");
    assertThat(config.body()).isEqualTo("{\"compatibilityLevel\":\"BACKWARD\"}");
    assertThat(config.contentType()).startsWith(V1_JSON);
  }

  @Test
  void shouldAcceptRequestBodiesWhateverTheirContentType() {
    // Given one schema per content type a client may send
    List<String> contentTypes = new ArrayList<>(List.of(V1_JSON, "application/json",
        "application/octet-stream"));
    contentTypes.add(null);

    // When each is registered
    List<Integer> statuses = new ArrayList<>();
    for (int i = 0; i < contentTypes.size(); i++) {
      statuses.add(fresh.http().post("/subjects/ct" + i + "-value/versions",
          RegistryHttp.schemaBody(record("Ct" + i, ID_INT)), contentTypes.get(i)).status());
    }

    // Then all are registered
    assertThat(statuses).containsOnly(200);
    assertThat(fresh.http().get("/subjects").json()).hasSize(4);
  }

  @Test
  void shouldRefuseSchemaTypesOtherThanAvroWith42201() {
    // Given a Protobuf schema
    String body = JSON.createObjectNode().put("schemaType", "PROTOBUF")
        .put("schema", "syntax = \"proto3\"; message M { int32 id = 1; }").toString();

    // When it is registered
    Response response = fresh.http().post("/subjects/proto-value/versions", body);

    // Then it is an invalid schema, and the message says only Avro is supported
    assertThat(response.status()).isEqualTo(422);
    assertThat(response.errorCode()).isEqualTo(42201);
    assertThat(response.json().get("message").asText()).contains("only AVRO");
  }

  @Test
  void shouldAnswerUnknownPathsWithAJsonError() {
    // Given a running registry
    // When an unknown path is read
    Response response = fresh.http().get("/no/such/path");

    // Then the error has Confluent's shape
    assertThat(response.status()).isEqualTo(404);
    assertThat(response.errorCode()).isEqualTo(404);
    assertThat(response.contentType()).startsWith(V1_JSON);
  }

  @Test
  void shouldGiveDistinctIdsAndVersionsToConcurrentRegistrations() throws Exception {
    // Given sixteen clients, each with its own schema, half of them on one shared subject
    ExecutorService pool = Executors.newFixedThreadPool(16);
    List<Callable<Integer>> calls = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      String subject = i % 2 == 0 ? "shared-value" : "own" + i + "-value";
      String schema = i % 2 == 0
          ? record("Shared", ID_INT + ",{\"name\":\"f" + i + "\",\"type\":\"int\",\"default\":0}")
          : record("Own" + i, ID_INT);
      calls.add(() -> fresh.http().registerOk(subject, schema));
    }

    // When they register at the same time
    List<Integer> ids = new ArrayList<>();
    try {
      for (Future<Integer> future : pool.invokeAll(calls)) {
        ids.add(future.get());
      }
    } finally {
      pool.shutdownNow();
    }

    // Then every schema has its own id, and the shared subject has versions 1..8
    assertThat(ids).doesNotHaveDuplicates().hasSize(16);
    assertThat(fresh.http().get("/subjects/shared-value/versions").json().toString())
        .isEqualTo("[1,2,3,4,5,6,7,8]");
  }

  @Test
  void shouldServeNonAsciiDocsAndDefaultsInUtf8OnEveryRouteThatReturnsSchemaText() {
    // Given a schema whose doc and field default are outside ASCII, registered under a subject
    String schema = "{\"type\":\"record\",\"name\":\"Price\",\"namespace\":\"dev.flywheel.test\","
        + "\"doc\":\"Prix en € été\",\"fields\":[{\"name\":\"currency\",\"type\":\"string\","
        + "\"default\":\"€\"}]}";
    String canonical = new Schema.Parser().parse(schema).toString();
    int id = fresh.http().registerOk("price-value", schema);

    // When it is read back by id, by version, raw, and by lookup
    Response byId = fresh.http().get("/schemas/ids/" + id);
    Response rawById = fresh.http().get("/schemas/ids/" + id + "/schema");
    Response byVersion = fresh.http().get("/subjects/price-value/versions/1");
    Response rawByVersion = fresh.http().get("/subjects/price-value/versions/1/schema");
    Response lookedUp = fresh.http().post("/subjects/price-value", RegistryHttp.schemaBody(schema));

    // Then every route sends the text as registered, in UTF-8, and says so
    assertThat(canonical).contains("Prix en € été", "\"default\":\"€\"");
    assertThat(byId.json().get("schema").asText()).isEqualTo(canonical);
    assertThat(rawById.body()).isEqualTo(canonical);
    assertThat(byVersion.json().get("schema").asText()).isEqualTo(canonical);
    assertThat(rawByVersion.body()).isEqualTo(canonical);
    assertThat(lookedUp.json().get("schema").asText()).isEqualTo(canonical);
    assertThat(List.of(byId, rawById, byVersion, rawByVersion, lookedUp))
        .extracting(Response::contentType)
        .allSatisfy(type -> assertThat(type).startsWith(V1_JSON).containsIgnoringCase("utf-8"));
  }

  @Test
  void shouldAnswerTheDefaultContextAsTheOnlyOne() {
    // Given a registry with a subject
    fresh.http().registerOk("ctx-value", record("Ctx", ID_INT));

    // When the contexts are listed
    Response contexts = fresh.http().get("/contexts");

    // Then there is the default context only, as Confluent names it
    assertThat(contexts.status()).isEqualTo(200);
    assertThat(contexts.body()).isEqualTo("[\".\"]");
  }

  @Test
  void shouldListTheSchemasOfTheSubjectsStartingWithAPrefix() {
    // Given two subjects starting with "orders" and one not
    String a1 = record("A", ID_INT);
    String a2 = record("A", ID_INT + "," + NAME_DEFAULTED);
    String b1 = record("B", ID_INT);
    int idA1 = fresh.http().registerOk("orders.a-value", a1);
    int idA2 = fresh.http().registerOk("orders.a-value", a2);
    int idB1 = fresh.http().registerOk("orders.b-value", b1);
    fresh.http().registerOk("payments-value", record("P", ID_INT));

    // When the schemas of the subjects starting with "orders" are listed
    Response listed = fresh.http().get("/schemas?subjectPrefix=orders");

    // Then each version comes with its subject, version, id and schema, by subject then version
    assertThat(listed.status()).isEqualTo(200);
    assertThat(listed.json()).containsExactly(
        versionJson("orders.a-value", 1, idA1, canonical(a1)),
        versionJson("orders.a-value", 2, idA2, canonical(a2)),
        versionJson("orders.b-value", 1, idB1, canonical(b1)));
    assertThat(fresh.http().get("/schemas").json()).hasSize(4);
  }

  @Test
  void shouldListSoftDeletedSchemasOnlyWhenAsked() {
    // Given a subject whose second version is soft-deleted
    fresh.http().registerOk("soft-value", record("Soft", ID_INT));
    fresh.http().registerOk("soft-value", record("Soft", ID_INT + "," + NAME_DEFAULTED));
    fresh.http().delete("/subjects/soft-value/versions/2");

    // When the schemas are listed without and with the deleted ones
    JsonNode live = fresh.http().get("/schemas").json();
    JsonNode all = fresh.http().get("/schemas?deleted=true").json();

    // Then the soft-deleted version shows only in the second list
    assertThat(live.findValuesAsText("version")).containsExactly("1");
    assertThat(all.findValuesAsText("version")).containsExactly("1", "2");
  }

  @Test
  void shouldListOnlyTheLatestSchemaOfEachSubjectWhenAsked() {
    // Given a subject with three versions, the third soft-deleted, and another with one
    fresh.http().registerOk("multi-value", record("Multi", ID_INT));
    int second = fresh.http().registerOk("multi-value",
        record("Multi", ID_INT + "," + NAME_DEFAULTED));
    int third = fresh.http().registerOk("multi-value", record("Multi", ID_INT + ","
        + NAME_DEFAULTED + ",{\"name\":\"n\",\"type\":\"int\",\"default\":0}"));
    fresh.http().delete("/subjects/multi-value/versions/3");
    int single = fresh.http().registerOk("single-value", record("Single", ID_INT));

    // When only the latest schemas are listed, without and with the deleted ones
    JsonNode latest = fresh.http().get("/schemas?latestOnly=true").json();
    JsonNode latestWithDeleted = fresh.http().get("/schemas?latestOnly=true&deleted=true").json();

    // Then each subject shows once, with its latest version among those listed
    assertThat(latest.findValuesAsText("id"))
        .containsExactly(String.valueOf(second), String.valueOf(single));
    assertThat(latestWithDeleted.findValuesAsText("id"))
        .containsExactly(String.valueOf(third), String.valueOf(single));
  }

  @Test
  void shouldListTheSubjectsOfASchemaIdIncludingSoftDeletedOnesWhenAsked() {
    // Given one schema under three subjects, soft-deleted from one
    String schema = record("Shared", ID_INT);
    int id = fresh.http().registerOk("c-value", schema);
    fresh.http().registerOk("a-value", schema);
    fresh.http().registerOk("b-value", schema);
    fresh.http().delete("/subjects/b-value");

    // When the subjects of its id are listed, without and with the deleted ones, and those of an
    // unknown id
    Response live = fresh.http().get("/schemas/ids/" + id + "/subjects");
    Response all = fresh.http().get("/schemas/ids/" + id + "/subjects?deleted=true");
    Response unknown = fresh.http().get("/schemas/ids/42/subjects");

    // Then the subjects come once each, sorted, the soft-deleted one only when asked
    assertThat(live.body()).isEqualTo("[\"a-value\",\"c-value\"]");
    assertThat(all.body()).isEqualTo("[\"a-value\",\"b-value\",\"c-value\"]");
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(unknown.errorCode()).isEqualTo(40403);
  }

  @Test
  void shouldListOnlySoftDeletedSubjectsWhenDeletedOnlyIsAsked() {
    // Given a live subject, a soft-deleted subject, and a subject with one of two versions deleted
    fresh.http().registerOk("live-value", record("Live", ID_INT));
    fresh.http().registerOk("gone-value", record("Gone", ID_INT));
    fresh.http().delete("/subjects/gone-value");
    fresh.http().registerOk("mixed-value", record("Mixed", ID_INT));
    fresh.http().registerOk("mixed-value", record("Mixed", ID_INT + "," + NAME_DEFAULTED));
    fresh.http().delete("/subjects/mixed-value/versions/2");

    // When the subjects are listed with deletedOnly, as Confluent's client sends it
    Response deletedOnly = fresh.http().get("/subjects?deleted=false&deletedOnly=true");
    Response both = fresh.http().get("/subjects?deleted=true&deletedOnly=true");

    // Then only the subject whose versions are all soft-deleted is listed
    assertThat(deletedOnly.body()).isEqualTo("[\"gone-value\"]");
    assertThat(both.body()).isEqualTo("[\"gone-value\"]");
  }

  @Test
  void shouldListOnlySoftDeletedVersionsWhenDeletedOnlyIsAsked() {
    // Given a subject with one of two versions soft-deleted, and a subject with none deleted
    fresh.http().registerOk("mixed-value", record("Mixed", ID_INT));
    fresh.http().registerOk("mixed-value", record("Mixed", ID_INT + "," + NAME_DEFAULTED));
    fresh.http().delete("/subjects/mixed-value/versions/2");
    fresh.http().registerOk("live-value", record("Live", ID_INT));

    // When their versions are listed with deletedOnly, and those of an unknown subject
    Response mixed = fresh.http()
        .get("/subjects/mixed-value/versions?deleted=false&deletedOnly=true");
    Response live = fresh.http().get("/subjects/live-value/versions?deletedOnly=true");
    Response unknown = fresh.http().get("/subjects/nope/versions?deletedOnly=true");

    // Then only the soft-deleted version is listed; none for the live subject, as in Confluent's
    // registry; the unknown subject is not found
    assertThat(mixed.body()).isEqualTo("[2]");
    assertThat(live.status()).isEqualTo(200);
    assertThat(live.body()).isEqualTo("[]");
    assertThat(unknown.errorCode()).isEqualTo(40401);
  }

  @Test
  void shouldGiveTheExistingIdToASchemaDifferingOnlyInPropertyOrderWhenNormalizing() {
    // Given a schema with two properties registered as written
    String written = propertied("\"zeta\":\"1\",\"alpha\":\"2\"");
    int id = fresh.http().registerOk("props-value", written);

    // When the same schema with its properties the other way round is registered, normalized
    Response normalized = fresh.http().post("/subjects/props-value/versions?normalize=true",
        RegistryHttp.schemaBody(propertied("\"alpha\":\"2\",\"zeta\":\"1\"")));

    // Then it is the same schema: same id, still one version
    assertThat(normalized.status()).isEqualTo(200);
    assertThat(normalized.id()).isEqualTo(id);
    assertThat(fresh.http().get("/subjects/props-value/versions").body()).isEqualTo("[1]");
  }

  @Test
  void shouldFindASchemaDifferingOnlyInPropertyOrderByANormalizedLookup() {
    // Given a schema with two properties registered as written
    int id = fresh.http().registerOk("props-value", propertied("\"zeta\":\"1\",\"alpha\":\"2\""));
    String reordered = RegistryHttp.schemaBody(propertied("\"alpha\":\"2\",\"zeta\":\"1\""));

    // When the schema with its properties the other way round is looked up, plain and normalized
    Response plain = fresh.http().post("/subjects/props-value", reordered);
    Response normalized = fresh.http().post("/subjects/props-value?normalize=true", reordered);

    // Then only the normalized lookup finds it, as the registered version
    assertThat(plain.errorCode()).isEqualTo(40403);
    assertThat(normalized.status()).isEqualTo(200);
    assertThat(normalized.json().get("id").asInt()).isEqualTo(id);
    assertThat(normalized.json().get("version").asInt()).isEqualTo(1);
  }

  @Test
  void shouldStoreTheNormalizedFormOfANormalizedRegistration() {
    // Given a schema whose properties are not in order
    String written = propertied("\"zeta\":\"1\",\"alpha\":\"2\"");

    // When it is registered normalized
    int id = fresh.http().post("/subjects/props-value/versions?normalize=true",
        RegistryHttp.schemaBody(written)).id();

    // Then the registry serves it with its properties sorted
    assertThat(fresh.http().get("/schemas/ids/" + id + "/schema").body())
        .isEqualTo(canonical(propertied("\"alpha\":\"2\",\"zeta\":\"1\"")));
  }

  @Test
  void shouldRefuseToStartAfterClose() {
    // Given a closed registry
    EmbeddedSchemaRegistry registry = fresh.registry();
    registry.close();

    // When it is started again
    // Then it says to build a new one; closing again does nothing
    assertThatThrownBy(registry::start).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
    registry.close();
  }

  private static JsonNode versionJson(String subject, int version, int id, String schema) {
    return JSON.createObjectNode().put("subject", subject).put("version", version).put("id", id)
        .put("schema", schema);
  }

  private static String canonical(String schema) {
    return new Schema.Parser().parse(schema).toString();
  }

  /** A record with the given custom properties (JSON members, without braces), in that order. */
  private static String propertied(String properties) {
    return "{\"type\":\"record\",\"name\":\"Props\",\"namespace\":\"dev.flywheel.test\","
        + "\"fields\":[" + ID_INT + "]," + properties + "}";
  }

  private static List<String> fieldNames(JsonNode node) {
    List<String> names = new ArrayList<>();
    node.fieldNames().forEachRemaining(names::add);
    return names;
  }
}
