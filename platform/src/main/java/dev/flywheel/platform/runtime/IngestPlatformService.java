package dev.flywheel.platform.runtime;

import dev.flywheel.ingest.IngestConfig;
import dev.flywheel.ingest.http.IngestHealth;
import dev.flywheel.ingest.http.IngestService;
import io.javalin.config.RoutesConfig;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Optional;

/**
 * {@code ingest} on the shared server: HTTP ingest ({@code POST /ingest/{source}}, {@code POST
 * /sources}, {@code POST /labels}) and, with a {@code cdc} section, change data capture. Its
 * health (Kafka reachable, CDC running, every table capturing) is part of {@code /health}.
 */
final class IngestPlatformService implements PlatformService {

  private final IngestService service;

  IngestPlatformService(ServiceContext context, IngestConfig config, MeterRegistry meters) {
    this.service = IngestService.builder()
        .config(config)
        .configDir(context.configDir())
        .kafka(context.kafka())
        .serdes(context.serdes())
        .topics(context.topics())
        .ownHttpServer(false)
        .meterRegistry(meters)
        .build();
  }

  @Override
  public String name() {
    return ServiceCatalog.INGEST;
  }

  @Override
  public void start() {
    service.start();
  }

  @Override
  public void routes(RoutesConfig routes) {
    // the shared server answers /health for every service, ingest's included
    service.routes(routes, false);
  }

  @Override
  public Optional<String> healthProblem() {
    IngestHealth health = service.health();
    if (IngestHealth.UP.equals(health.status())) {
      return Optional.empty();
    }
    return Optional.of(health.status() + ": " + health.problem().orElse("no reason given"));
  }

  @Override
  public void close() {
    service.close();
  }
}
