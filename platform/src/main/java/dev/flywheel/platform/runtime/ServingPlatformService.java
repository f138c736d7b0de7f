package dev.flywheel.platform.runtime;

import dev.flywheel.servingsink.ServingSinkConfig;
import dev.flywheel.servingsink.ServingSinkService;
import io.javalin.config.RoutesConfig;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * {@code serving}: the serving sink with {@code POST /predict/{model}} on the shared server. When
 * {@code features} runs in the same process, {@code /predict} by entity reads its stores directly
 * ({@link LocalOnlineFeatures}) and a model's signature is checked against the declared feature
 * groups; otherwise {@code servingSink.featureLookupUrl} names the lookup to ask.
 */
final class ServingPlatformService implements PlatformService {

  private final ServiceContext context;
  private final ServingSinkConfig config;
  private final MeterRegistry meters;
  private final Supplier<FeaturesPlatformService> features;
  private ServingSinkService service;
  private LocalOnlineFeatures localFeatures;

  /**
   * @param features the features service of this process, or a supplier of null when it runs
   *     elsewhere
   */
  ServingPlatformService(ServiceContext context, ServingSinkConfig config, MeterRegistry meters,
      Supplier<FeaturesPlatformService> features) {
    this.context = context;
    this.config = config.withIds(
        context.applicationId(config.applicationId(), ServingSinkConfig.DEFAULT_APPLICATION_ID),
        config.instanceId());
    this.meters = meters;
    this.features = features;
  }

  @Override
  public String name() {
    return ServiceCatalog.SERVING;
  }

  @Override
  public synchronized void start() {
    ServingSinkService.Builder builder = ServingSinkService.builder()
        .config(config)
        .kafka(context.kafka())
        .topics(context.topics())
        .meters(meters);
    FeaturesPlatformService local = features.get();
    if (local != null && config.featureLookupUrl() == null) {
      localFeatures = new LocalOnlineFeatures(local::lookup, config.featureLookupTimeout());
      builder.onlineFeatures(localFeatures);
      builder.featureGroups(local::featureNames);
    }
    service = builder.build();
    service.start();
  }

  @Override
  public synchronized void routes(RoutesConfig routes) {
    service.routes(routes);
  }

  @Override
  public synchronized Optional<String> healthProblem() {
    return service == null ? Optional.of("the serving sink is not started")
        : service.healthProblem();
  }

  /** Per model and alias: the version served, the latest refused, one waiting, a removed alias. */
  @Override
  public synchronized Map<String, Object> healthDetails() {
    return service == null ? Map.of() : service.healthDetails();
  }

  @Override
  public synchronized void close() {
    if (service != null) {
      service.close();
    }
    if (localFeatures != null) {
      localFeatures.close();
    }
  }
}
