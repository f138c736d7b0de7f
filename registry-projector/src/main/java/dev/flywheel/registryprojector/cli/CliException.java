package dev.flywheel.registryprojector.cli;

/** Ends a {@code flywheel models} command with an exit status and a message for the user. */
final class CliException extends RuntimeException {

  private static final long serialVersionUID = 1L;
  final int exitCode;

  CliException(int exitCode, String message) {
    super(message);
    this.exitCode = exitCode;
  }
}
