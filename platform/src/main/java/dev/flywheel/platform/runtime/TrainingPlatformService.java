package dev.flywheel.platform.runtime;

import dev.flywheel.trainingtrigger.TrainingTriggerService;
import dev.flywheel.trainingtrigger.config.TrainingTriggerConfig;
import io.javalin.config.RoutesConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import java.util.Optional;

/**
 * {@code training}: training-trigger (state under {@code <stateDir>/training} unless {@code
 * trainingTrigger.stateDir} says otherwise) with {@code POST /models/{model}/train} on the shared
 * server.
 */
final class TrainingPlatformService implements PlatformService {

  private KafkaStreamsMetrics streamsMeters;

  private final TrainingTriggerService service;
  private final MeterRegistry meters;

  TrainingPlatformService(ServiceContext context, TrainingTriggerConfig config,
      MeterRegistry meters) {
    this.meters = meters;
    TrainingTriggerConfig.Service s = config.service();
    TrainingTriggerConfig.Service defaults = TrainingTriggerConfig.Service.defaults();
    TrainingTriggerConfig own = config.withService(new TrainingTriggerConfig.Service(
        context.applicationId(s.applicationId(),
            TrainingTriggerConfig.Service.DEFAULT_APPLICATION_ID),
        s.stateDir().equals(defaults.stateDir()) ? context.stateDir(ServiceCatalog.TRAINING)
            : s.stateDir(),
        s.artifactDir(), s.workDir(), s.concurrency(), s.tick()));
    this.service = TrainingTriggerService.builder()
        .config(own)
        .kafka(context.kafka())
        .schemaRegistryUrl(context.schemaRegistryUrl())
        .topics(context.topics())
        .meterRegistry(meters)
        .build();
  }

  @Override
  public String name() {
    return ServiceCatalog.TRAINING;
  }

  @Override
  public synchronized void start() {
    service.start();
    streamsMeters = StreamsMeters.bind(meters, service.streams(), ServiceCatalog.TRAINING);
  }

  @Override
  public void routes(RoutesConfig routes) {
    service.routes(routes);
  }

  @Override
  public Optional<String> healthProblem() {
    return service.healthy() ? Optional.empty()
        : Optional.of("training-trigger's Kafka Streams is not running or its run worker stopped;"
            + " see the log for the cause");
  }

  @Override
  public synchronized void close() {
    if (streamsMeters != null) {
      streamsMeters.close();
    }
    service.close();
  }
}
