package dev.flywheel.platform.runtime;

import dev.flywheel.registryprojector.RegistryConfig;
import dev.flywheel.registryprojector.RegistryProjectorService;
import io.javalin.config.RoutesConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import java.util.Optional;

/**
 * {@code registry}: the registry projector (state under {@code <stateDir>/registry}) with its
 * query API ({@code GET /models...}) on the shared server.
 */
final class RegistryPlatformService implements PlatformService {

  private KafkaStreamsMetrics streamsMeters;

  private final RegistryProjectorService service;
  private final MeterRegistry meters;

  RegistryPlatformService(ServiceContext context, RegistryConfig config, MeterRegistry meters) {
    this.meters = meters;
    RegistryConfig own = config.withApplicationId(
        context.applicationId(config.applicationId(), RegistryConfig.DEFAULT_APPLICATION_ID));
    this.service = RegistryProjectorService.builder()
        .config(own)
        .kafka(context.kafka())
        .serdes(context.serdes())
        .topics(context.topics())
        .stateDir(context.stateDir(ServiceCatalog.REGISTRY))
        .build();
  }

  @Override
  public String name() {
    return ServiceCatalog.REGISTRY;
  }

  @Override
  public synchronized void start() {
    service.start();
    service.kafkaStreams().ifPresent(
        s -> streamsMeters = StreamsMeters.bind(meters, s, ServiceCatalog.REGISTRY));
  }

  @Override
  public void routes(RoutesConfig routes) {
    service.routes(routes);
  }

  @Override
  public Optional<String> healthProblem() {
    return service.healthProblem();
  }

  @Override
  public synchronized void close() {
    if (streamsMeters != null) {
      streamsMeters.close();
    }
    service.close();
  }
}
