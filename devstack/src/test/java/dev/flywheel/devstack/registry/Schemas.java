package dev.flywheel.devstack.registry;

/** Avro schemas used by the registry tests, as the text a client would send. */
final class Schemas {

  private Schemas() {}

  /** A record {@code dev.flywheel.test.<name>} with the given fields JSON (without brackets). */
  static String record(String name, String fields) {
    return "{\"type\":\"record\",\"name\":\"" + name + "\",\"namespace\":\"dev.flywheel.test\","
        + "\"fields\":[" + fields + "]}";
  }

  static final String ID_INT = "{\"name\":\"id\",\"type\":\"int\"}";
  static final String ID_STRING = "{\"name\":\"id\",\"type\":\"string\"}";
  static final String NAME = "{\"name\":\"name\",\"type\":\"string\"}";
  static final String NAME_DEFAULTED = "{\"name\":\"name\",\"type\":\"string\",\"default\":\"\"}";
  static final String AMOUNT = "{\"name\":\"amount\",\"type\":\"double\"}";
}
