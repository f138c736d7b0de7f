package dev.flywheel.platform.runtime;

import dev.flywheel.featurestreams.FeatureGroupConfig;
import dev.flywheel.featurestreams.FeatureStreamsConfig;
import dev.flywheel.featurestreams.FeatureStreamsService;
import dev.flywheel.featurestreams.lookup.FeatureLookup;
import dev.flywheel.featurestreams.lookup.FeatureLookupService;
import dev.flywheel.featurestreams.lookup.LookupGroup;
import io.javalin.config.RoutesConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import java.util.Optional;
import java.util.Set;

/**
 * {@code features}: the feature engine ({@link FeatureStreamsService}, state under {@code
 * <stateDir>/features}) with its online lookup ({@code GET /features/{group}/{entity}}, {@code
 * POST /features/{group}/batch}) on the shared server, whose address is the engine's {@code
 * application.server}, so lookups of keys another instance owns are routed to it.
 */
final class FeaturesPlatformService implements PlatformService {

  private KafkaStreamsMetrics streamsMeters;

  private final ServiceContext context;
  private final FeatureStreamsConfig config;
  private final MeterRegistry meters;
  private FeatureStreamsService engine;
  private FeatureLookupService lookup;

  FeaturesPlatformService(ServiceContext context, FeatureStreamsConfig config,
      MeterRegistry meters) {
    this.context = context;
    this.config = config;
    this.meters = meters;
  }

  @Override
  public String name() {
    return ServiceCatalog.FEATURES;
  }

  @Override
  public synchronized void start() {
    engine = FeatureStreamsService.builder()
        .config(config)
        .bootstrapServers(context.bootstrapServers())
        .serdes(context.serdes())
        .topics(context.topics())
        .applicationId(context.applicationId(FeatureStreamsService.DEFAULT_APPLICATION_ID,
            FeatureStreamsService.DEFAULT_APPLICATION_ID))
        .stateDir(context.stateDir(name()))
        .applicationServer(context.applicationServer())
        .kafka(context.kafka())
        .meterRegistry(meters)
        .build()
        .start();
    streamsMeters = StreamsMeters.bind(meters, engine.kafkaStreams(), name());
    FeatureStreamsService started = engine;
    lookup = FeatureLookupService.builder()
        .streams(started::kafkaStreams)
        .applicationServer(context.applicationServer())
        .groups(LookupGroup.of(config))
        .build()
        .start();
  }

  @Override
  public synchronized void routes(RoutesConfig routes) {
    lookup.routes(routes);
  }

  @Override
  public synchronized Optional<String> healthProblem() {
    return engine == null ? Optional.of("feature-streams is not started")
        : engine.healthProblem();
  }

  /** The online lookup of this process's stores; null before {@link #start()}. */
  synchronized FeatureLookup lookup() {
    return lookup == null ? null : lookup.lookup();
  }

  /** The feature names of a declared group, or empty when none is declared by that name. */
  Optional<Set<String>> featureNames(String group) {
    return config.featureGroups().stream().filter(g -> g.name().equals(group)).findFirst()
        .map(FeatureGroupConfig::featureNames).map(Set::copyOf);
  }

  @Override
  public synchronized void close() {
    if (lookup != null) {
      lookup.close();
    }
    if (streamsMeters != null) {
      streamsMeters.close();
    }
    if (engine != null) {
      engine.close();
    }
  }
}
