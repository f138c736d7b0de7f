package dev.flywheel.client;

/** Where a handler without a consumer group starts reading. */
public enum StartPosition {
  /** Only events written after the handler was registered (the default). */
  LATEST,
  /** Every event still on the topic, then the new ones. */
  EARLIEST
}
