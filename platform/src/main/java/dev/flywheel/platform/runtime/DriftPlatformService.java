package dev.flywheel.platform.runtime;

import dev.flywheel.driftdetector.DriftDetectorService;
import dev.flywheel.driftdetector.config.DriftDetectorConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import java.util.Optional;

/**
 * {@code drift}: drift-detector (state under {@code <stateDir>/drift}); no HTTP routes of its own,
 * its gauges are on {@code /metrics}.
 */
final class DriftPlatformService implements PlatformService {

  private KafkaStreamsMetrics streamsMeters;

  private final DriftDetectorService service;
  private final MeterRegistry meters;

  DriftPlatformService(ServiceContext context, DriftDetectorConfig config, MeterRegistry meters) {
    this.meters = meters;
    this.service = DriftDetectorService.builder()
        .config(config.withApplicationId(context.applicationId(config.applicationId(),
            DriftDetectorConfig.DEFAULT_APPLICATION_ID)))
        .kafka(context.kafka())
        .schemaRegistryUrl(context.schemaRegistryUrl())
        .topics(context.topics())
        .serdes(context.serdes())
        .stateDir(context.stateDir(ServiceCatalog.DRIFT))
        .meterRegistry(meters)
        .build();
  }

  @Override
  public String name() {
    return ServiceCatalog.DRIFT;
  }

  @Override
  public synchronized void start() {
    service.start();
    streamsMeters = StreamsMeters.bind(meters, service.streams(), ServiceCatalog.DRIFT);
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
