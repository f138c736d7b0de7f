package dev.flywheel.platform.runtime;

import dev.flywheel.registryprojector.RegistryConfig;
import dev.flywheel.registryprojector.RegistryProjectorService;
import io.javalin.config.RoutesConfig;
import java.util.Optional;

/**
 * {@code registry}: the registry projector (state under {@code <stateDir>/registry}) with its
 * query API ({@code GET /models...}) on the shared server.
 */
final class RegistryPlatformService implements PlatformService {

  private final RegistryProjectorService service;

  RegistryPlatformService(ServiceContext context, RegistryConfig config) {
    RegistryConfig own = new RegistryConfig(config.promotionAliases(),
        context.applicationId(config.applicationId(), RegistryConfig.DEFAULT_APPLICATION_ID),
        config.port(), config.policies());
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
  public void start() {
    service.start();
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
  public void close() {
    service.close();
  }
}
