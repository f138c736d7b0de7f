package dev.flywheel.ingest.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flywheel.devstack.Devstack;
import dev.flywheel.devstack.junit.CommittedValues;
import dev.flywheel.devstack.junit.UniqueNames;
import dev.flywheel.devstack.junit.WithDevstack;
import dev.flywheel.ingest.IngestConfig;
import dev.flywheel.serde.AvroSerdes;
import dev.flywheel.topics.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The broker stopped for longer than ingest's produce timeout (twice over, with the commit called
 * again) while a caller posts batches, retrying every 503 that says to: when the broker is back,
 * every batch is on the topic exactly once, whole. A 503 that says the outcome is unknown is not
 * retried, as its message advises; such a batch must then be on the topic whole or not at all.
 */
@WithDevstack
class IngestBrokerOutageIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SCHEMA = """
      {"type": "record", "name": "Click", "namespace": "it", "fields": [
        {"name": "id", "type": "string"},
        {"name": "event_time", "type": "long"}]}""".replace("\n", " ");
  private static final int BATCHES = 60;
  private static final int PER_BATCH = 20;
  /** Batches from this one on are posted only once the broker is down. */
  private static final int HOLD_AT = 20;
  private static final Duration PRODUCE_TIMEOUT = Duration.ofSeconds(2);
  private static final int DOWN_SECONDS = 12;

  private IngestService ingest;

  @AfterEach
  void stopIngest() {
    if (ingest != null) {
      ingest.close();
    }
  }

  @Test
  void shouldWriteEveryBatchOnceAndWholeWhenTheBrokerStopsWhileCallersPost(Devstack devstack,
      UniqueNames names) throws Exception {
    // Given ingest with a 2 s produce timeout and two producers
    AvroSerdes serdes = AvroSerdes.fromConfig(Map.of("schema.registry.url",
        devstack.schemaRegistryUrl()));
    Topics topics = Topics.builder(serdes).prefix(names.prefix()).build();
    ingest = IngestService.builder()
        .config(IngestConfig.parse("""
            sources: [{name: clicks, schema: '%s', key: id, time: event_time}]
            ingest: {port: 0, producers: 2}
            """.formatted(SCHEMA)))
        .configDir(Path.of("."))
        .kafka(Map.of("bootstrap.servers", devstack.bootstrapServers()))
        .serdes(serdes)
        .topics(topics).host("127.0.0.1").produceTimeout(PRODUCE_TIMEOUT)
        .meterRegistry(new SimpleMeterRegistry()).build().start();
    // and a caller posting 60 batches of 20 one after another, the last 40 only once the broker
    // is down, retrying a batch while ingest answers 503 and says to
    CountDownLatch brokerStopped = new CountDownLatch(1);
    AtomicInteger accepted = new AtomicInteger();
    Map<String, Integer> answers = new TreeMap<>();
    List<Integer> unknown = new ArrayList<>();
    CompletableFuture<Void> caller = CompletableFuture.runAsync(() -> {
      for (int b = 0; b < BATCHES; b++) {
        if (b == HOLD_AT) {
          await().atMost(Duration.ofMinutes(2)).until(() -> brokerStopped.getCount() == 0);
        }
        post(ingest.url(), b, answers, unknown);
        accepted.incrementAndGet();
      }
    });

    // When the broker stops once a third of the batches are answered, for 12 s
    await().atMost(Duration.ofMinutes(1)).until(() -> accepted.get() >= HOLD_AT);
    devstack.kafka().outage(Duration.ofSeconds(DOWN_SECONDS), brokerStopped::countDown);

    // Then every batch is answered
    caller.get(3, TimeUnit.MINUTES);
    System.out.println("answers: " + answers + "; batches of unknown outcome: " + unknown);
    // and the outage was felt: batches posted while it lasted were refused, to be sent again
    assertThat(answers).containsKey("503 none written").containsEntry("202 accepted",
        BATCHES - unknown.size());
    // and every batch answered 202 is on the topic once and whole; one whose outcome was
    // unknown is there whole or not at all
    String topic = topics.data("clicks").name();
    Map<Integer, List<String>> byBatch = CommittedValues.records(devstack.bootstrapServers(),
            topic, new StringDeserializer(), new ByteArrayDeserializer()).stream()
        .map(ConsumerRecord::key)
        .collect(Collectors.groupingBy(IngestBrokerOutageIT::batchOf));
    Set<Integer> written = IntStream.range(0, BATCHES).boxed()
        .filter(b -> !unknown.contains(b)).collect(Collectors.toSet());
    assertThat(byBatch.keySet()).containsAll(written);
    byBatch.forEach((b, ids) -> assertThat(ids).as("batch %d", b)
        .containsExactlyInAnyOrderElementsOf(ids(b)));
  }

  /** Posts batch {@code b} until it is accepted, or answered with an unknown outcome. */
  private static void post(String url, int b, Map<String, Integer> answers, List<Integer> unknown) {
    String body = ids(b).stream()
        .map(id -> "{\"id\": \"" + id + "\", \"event_time\": 1700000000000}")
        .collect(Collectors.joining(",", "[", "]"));
    HttpClient http = HttpClient.newHttpClient();
    while (true) {
      try {
        HttpResponse<String> response = http.send(
            HttpRequest.newBuilder(URI.create(url + "/ingest/clicks"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
            HttpResponse.BodyHandlers.ofString());
        String error = response.statusCode() == 202 ? ""
            : JSON.readTree(response.body()).path("error").asText();
        synchronized (answers) {
          answers.merge(kind(response.statusCode(), error), 1, Integer::sum);
        }
        if (response.statusCode() == 202) {
          return;
        }
        assertThat(response.statusCode()).as(response.body()).isEqualTo(503);
        if (error.contains("could not be confirmed")) {
          unknown.add(b);
          return;
        }
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      } catch (java.io.IOException e) {
        throw new IllegalStateException("posting batch " + b + " failed", e);
      }
    }
  }

  /** An answer, by what it tells the caller. */
  private static String kind(int status, String error) {
    if (status == 202) {
      return "202 accepted";
    } else if (error.contains("none of it was written")) {
      return "503 none written";
    } else if (error.contains("could not be confirmed")) {
      return "503 unknown outcome";
    }
    return status + " " + error;
  }

  private static List<String> ids(int b) {
    return IntStream.range(0, PER_BATCH).mapToObj(i -> "b" + b + "-" + i).toList();
  }

  private static int batchOf(String id) {
    return Integer.parseInt(id.substring(1, id.indexOf('-')));
  }
}
