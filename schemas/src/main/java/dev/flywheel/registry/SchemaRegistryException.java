package dev.flywheel.registry;

import dev.flywheel.errors.Causes;

/**
 * A schema-registry call failed: the registry answered with an error, or could not be reached.
 *
 * <p>Carries the HTTP status, the registry's {@code error_code} and its message, as the Confluent
 * Schema Registry API defines them (see the constants). Unchecked, so that it crosses Kafka's
 * serializer interfaces unchanged; every {@link SchemaRegistryClient} method may throw it.
 */
public class SchemaRegistryException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** HTTP status and error code when no HTTP answer was received (connection refused, timeout). */
  public static final int NO_RESPONSE = -1;
  /** The subject does not exist (HTTP 404). */
  public static final int SUBJECT_NOT_FOUND = 40401;
  /** The subject exists but not the version (HTTP 404). */
  public static final int VERSION_NOT_FOUND = 40402;
  /** No such schema, by id or by lookup (HTTP 404). */
  public static final int SCHEMA_NOT_FOUND = 40403;
  /** The subject was soft-deleted; delete it with {@code permanent=true} (HTTP 404). */
  public static final int SUBJECT_SOFT_DELETED = 40404;
  /** A permanent delete of a subject that was not soft-deleted first (HTTP 404). */
  public static final int SUBJECT_NOT_SOFT_DELETED = 40405;
  /** The version was soft-deleted; delete it with {@code permanent=true} (HTTP 404). */
  public static final int VERSION_SOFT_DELETED = 40406;
  /** A permanent delete of a version that was not soft-deleted first (HTTP 404). */
  public static final int VERSION_NOT_SOFT_DELETED = 40407;
  /** The subject has no compatibility level of its own (HTTP 404). */
  public static final int SUBJECT_CONFIG_NOT_FOUND = 40408;
  /** The schema is incompatible with earlier versions of the subject (HTTP 409, Confluent 7). */
  public static final int INCOMPATIBLE_SCHEMA = 409;
  /** The schema is incompatible with earlier versions of the subject (HTTP 409, Confluent 8). */
  public static final int INCOMPATIBLE_SCHEMA_V8 = 40901;
  /** The schema is not valid (HTTP 422). */
  public static final int INVALID_SCHEMA = 42201;
  /** The version is not valid: allowed are 1..2^31-1 and {@code latest} (HTTP 422). */
  public static final int INVALID_VERSION = 42202;
  /** The compatibility level is not valid (HTTP 422). */
  public static final int INVALID_COMPATIBILITY_LEVEL = 42203;
  /** The registry's store failed (HTTP 500). */
  public static final int STORE_ERROR = 50001;
  /** The registry timed out (HTTP 500). */
  public static final int OPERATION_TIMEOUT = 50002;
  /** Forwarding to the registry's leader failed (HTTP 500). */
  public static final int FORWARDING_ERROR = 50003;
  /** The registry has no known leader (HTTP 500). */
  public static final int UNKNOWN_LEADER = 50004;
  /** The registry answered with an error whose body was not the JSON error document. */
  public static final int UNPARSEABLE_ERROR_RESPONSE = 50005;

  private final int httpStatus;
  private final int errorCode;
  private final String registryMessage;

  /**
   * @param message the full message, naming the request and what went wrong; never null
   * @param httpStatus the HTTP status, or {@link #NO_RESPONSE}
   * @param errorCode the registry's {@code error_code}, or {@link #NO_RESPONSE}
   * @param registryMessage the registry's own message; null when there was none
   * @param cause the underlying failure; may be null
   */
  public SchemaRegistryException(String message, int httpStatus, int errorCode,
      String registryMessage, Throwable cause) {
    super(message, cause);
    this.httpStatus = httpStatus;
    this.errorCode = errorCode;
    this.registryMessage = registryMessage;
  }

  /** The HTTP status of the answer, or {@link #NO_RESPONSE} when none was received. */
  public int httpStatus() {
    return httpStatus;
  }

  /** The registry's {@code error_code} (e.g. 40401), or {@link #NO_RESPONSE}. */
  public int errorCode() {
    return errorCode;
  }

  /** The registry's own {@code message}; null when no answer or no message was received. */
  public String registryMessage() {
    return registryMessage;
  }

  /** True for HTTP 404 answers: subject, version, schema or subject config not found. */
  public boolean isNotFound() {
    return httpStatus == 404;
  }

  /** True when the schema was refused as incompatible with earlier versions (HTTP 409). */
  public boolean isIncompatible() {
    return httpStatus == 409 || errorCode == INCOMPATIBLE_SCHEMA || errorCode == INCOMPATIBLE_SCHEMA_V8;
  }

  /**
   * True when the failure is transient and the same call may succeed later: no answer, HTTP 408,
   * HTTP 429, or a 5xx answer other than 501 and 505. The client retries these itself.
   */
  public boolean isRetriable() {
    return isRetriableStatus(httpStatus);
  }

  /**
   * True when the registry refused this client or the URL does not lead to a schema registry:
   * HTTP 401 or 407 (credentials missing, wrong or expired), HTTP 403 (the credentials may not read
   * this), or a 404 or 2xx answer whose body is not the registry's document (a wrong base path, a
   * proxy or another web server at the URL). Every call fails the same way until the client's
   * configuration (or the registry's access control) is fixed; the data being read or written is
   * not at fault. Not retried by the client.
   */
  public boolean isSetupProblem() {
    return httpStatus == 401 || httpStatus == 403 || httpStatus == 407
        || errorCode == UNPARSEABLE_ERROR_RESPONSE
            && (httpStatus == 404 || httpStatus >= 200 && httpStatus < 300);
  }

  /**
   * True when {@code e} or one of its causes is a registry failure that is not the data's fault:
   * {@link #isRetriable() transient} (the registry did not answer, or not yet) or a {@link
   * #isSetupProblem() setup problem} (credentials refused, access denied, a URL that is not a
   * registry). The record being read or written when it was thrown is probably fine, and the same
   * call may succeed once the registry answers again or the configuration is fixed. A reader
   * retries such a record, or stops; it must not dead-letter or skip it, as it would a record that
   * is itself bad.
   */
  public static boolean isRetriableCause(Throwable e) {
    return Causes.any(e, t -> t instanceof SchemaRegistryException registry
        && (registry.isRetriable() || registry.isSetupProblem()));
  }

  static boolean isRetriableStatus(int status) {
    return status == NO_RESPONSE || status == 408 || status == 429
        || (status >= 500 && status != 501 && status != 505);
  }
}
