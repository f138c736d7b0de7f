package dev.flywheel.platform;

import dev.flywheel.platform.runtime.ConfigKeys;
import dev.flywheel.platform.runtime.PlatformConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The {@code flywheel.yaml} a command runs with: its text (every service reads its own sections),
 * the folder its paths are relative to, and the platform settings with the environment applied.
 *
 * @param name the file as messages name it: as given to {@code --config}, else {@code
 *     flywheel.yaml}
 * @param text the file's text; empty when there is no file
 * @param dir the folder of the file (the working directory when there is none)
 * @param config the platform settings
 */
record FlywheelYaml(String name, String text, Path dir, PlatformConfig config) {

  /** The file used when {@code --config} is not given, if it exists. */
  static final Path DEFAULT = Path.of("flywheel.yaml");

  /**
   * Reads {@code --config}, or {@code flywheel.yaml} in the working directory when given none
   * (defaults when that does not exist either).
   *
   * @throws IllegalArgumentException saying what to fix when the file is missing or wrong, or has
   *     a key no service reads ({@link ConfigKeys#check})
   */
  static FlywheelYaml load(Path option, Map<String, String> env) {
    Path file = option != null ? option : DEFAULT;
    if (!Files.exists(file)) {
      if (option != null) {
        throw new IllegalArgumentException("the config file " + file.toAbsolutePath()
            + " does not exist: check the path given to --config");
      }
      return new FlywheelYaml(file.toString(), "", Path.of("").toAbsolutePath(),
          PlatformConfig.defaults().withEnvironment(env));
    }
    String text;
    try {
      text = Files.readString(file);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
    }
    PlatformConfig config;
    try {
      config = PlatformConfig.parse(text, env);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
    // before anything starts (flywheel up's embedded broker): a key no service reads
    ConfigKeys.check(text, file.toString());
    Path dir = file.toAbsolutePath().getParent();
    return new FlywheelYaml(file.toString(), text, dir, config);
  }
}
