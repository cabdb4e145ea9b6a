/**
 * A start that cannot go on for a reason the operator fixes outside the code (the port is
 * taken, the data directory is in use by another server). Its message says what and what to
 * do, in one line; main prints it without a stack, which would only bury it.
 */
export class StartupError extends Error {
  override name = 'StartupError';
}
