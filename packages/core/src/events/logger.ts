/** What skills and agents write to; every line ends up as a redacted `log` event. */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}
