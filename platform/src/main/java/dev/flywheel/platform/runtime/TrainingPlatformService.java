package dev.flywheel.platform.runtime;

import dev.flywheel.trainingtrigger.TrainingTriggerService;
import dev.flywheel.trainingtrigger.config.TrainingTriggerConfig;
import io.javalin.config.RoutesConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import java.nio.file.Path;
import java.util.Optional;

/**
 * {@code training}: training-trigger (state under {@code <stateDir>/training} unless {@code
 * trainingTrigger.stateDir} says otherwise; artifacts and work files under the catalog's scratch
 * folder, when it has one, unless {@code artifactDir} and {@code workDir} say otherwise) with
 * {@code POST /models/{model}/train} on the shared server.
 */
final class TrainingPlatformService implements PlatformService {

  private KafkaStreamsMetrics streamsMeters;

  private final TrainingTriggerService service;
  private final MeterRegistry meters;

  TrainingPlatformService(ServiceContext context, TrainingTriggerConfig config,
      MeterRegistry meters) {
    this.meters = meters;
    TrainingTriggerConfig own = config.withService(service(config.service(), context));
    this.service = TrainingTriggerService.builder()
        .config(own)
        .kafka(context.kafka())
        .schemaRegistryUrl(context.schemaRegistryUrl())
        .topics(context.topics())
        .meterRegistry(meters)
        .build();
  }

  /**
   * The service settings training runs with in the platform: a default application id gets the
   * topic prefix, and a default state directory, artifact directory or work directory moves under
   * the platform's state root and scratch folder ({@link ServiceContext#scratchRoot()}, when set).
   */
  static TrainingTriggerConfig.Service service(TrainingTriggerConfig.Service s,
      ServiceContext context) {
    TrainingTriggerConfig.Service defaults = TrainingTriggerConfig.Service.defaults();
    return new TrainingTriggerConfig.Service(
        context.applicationId(s.applicationId(),
            TrainingTriggerConfig.Service.DEFAULT_APPLICATION_ID),
        s.stateDir().equals(defaults.stateDir()) ? context.stateDir(ServiceCatalog.TRAINING)
            : s.stateDir(),
        orScratch(s.artifactDir(), defaults.artifactDir(), context, "artifacts"),
        orScratch(s.workDir(), defaults.workDir(), context, "training"),
        s.concurrency(), s.tick());
  }

  /** {@code configured}, or {@code <scratchRoot>/<name>} when it is the default and there is one. */
  private static Path orScratch(Path configured, Path defaultDir, ServiceContext context,
      String name) {
    return context.scratchRoot() != null && configured.equals(defaultDir)
        ? context.scratchRoot().resolve(name) : configured;
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
