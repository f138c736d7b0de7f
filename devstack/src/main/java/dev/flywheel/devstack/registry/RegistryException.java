package dev.flywheel.devstack.registry;

/**
 * A failure the registry answers with a Confluent error body: an HTTP status and an {@code
 * error_code}, as {@code {"error_code": 40401, "message": "Subject 'x' not found."}}.
 */
final class RegistryException extends RuntimeException {

  private final int httpStatus;
  private final int errorCode;

  RegistryException(int httpStatus, int errorCode, String message) {
    super(message);
    this.httpStatus = httpStatus;
    this.errorCode = errorCode;
  }

  RegistryException(int httpStatus, int errorCode, String message, Throwable cause) {
    super(message, cause);
    this.httpStatus = httpStatus;
    this.errorCode = errorCode;
  }

  int httpStatus() {
    return httpStatus;
  }

  int errorCode() {
    return errorCode;
  }

  static RegistryException subjectNotFound(String subject) {
    return new RegistryException(404, 40401, "Subject '" + subject + "' not found.");
  }

  static RegistryException versionNotFound(int version) {
    return new RegistryException(404, 40402, "Version " + version + " not found.");
  }

  static RegistryException schemaNotFound(String what) {
    return new RegistryException(404, 40403, what);
  }

  static RegistryException subjectSoftDeleted(String subject) {
    return new RegistryException(404, 40404, "Subject '" + subject
        + "' was soft deleted. Set permanent=true to delete permanently");
  }

  static RegistryException subjectNotSoftDeleted(String subject) {
    return new RegistryException(404, 40405, "Subject '" + subject
        + "' was not deleted first before being permanently deleted");
  }

  static RegistryException versionSoftDeleted(String subject, int version) {
    return new RegistryException(404, 40406, "Subject '" + subject + "' Version " + version
        + " was soft deleted. Set permanent=true to delete permanently");
  }

  static RegistryException versionNotSoftDeleted(String subject, int version) {
    return new RegistryException(404, 40407, "Subject '" + subject + "' Version " + version
        + " was not deleted first before being permanently deleted");
  }

  static RegistryException subjectConfigNotFound(String subject) {
    return new RegistryException(404, 40408, "Subject '" + subject
        + "' does not have subject-level compatibility configured");
  }

  static RegistryException incompatible(String message) {
    return new RegistryException(409, 409, message);
  }

  static RegistryException invalidSchema(String message) {
    return new RegistryException(422, 42201, message);
  }

  static RegistryException invalidVersion(String version) {
    return new RegistryException(422, 42202, "The specified version '" + version
        + "' is not a valid version id. Allowed values are between [1, 2^31-1] and the string"
        + " \"latest\"");
  }

  static RegistryException invalidCompatibilityLevel(String level) {
    return new RegistryException(422, 42203, "Invalid compatibility level '" + level
        + "'. Valid values are none, backward, forward, full, backward_transitive,"
        + " forward_transitive, and full_transitive");
  }

  static RegistryException invalidMode(String mode) {
    return new RegistryException(422, 42204, "Invalid mode '" + mode
        + "'. The embedded registry only supports READWRITE");
  }

  static RegistryException storeError(String message, Throwable cause) {
    return new RegistryException(500, 50001, message, cause);
  }

  static RegistryException storeTimeout(String message, Throwable cause) {
    return new RegistryException(500, 50002, message, cause);
  }
}
