export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Readonly<Record<string, unknown>>;

/** The subset of pino's Logger the agent uses: `logger.info({ taskId }, "task finished")`. */
export interface PinoLikeLogger {
  debug(fields: LogFields, message: string): void;
  info(fields: LogFields, message: string): void;
  warn(fields: LogFields, message: string): void;
  error(fields: LogFields, message: string): void;
}

export type LogCallback = (level: LogLevel, message: string, fields: LogFields) => void;

/** Either a pino(-like) logger or a callback; the agent logs nothing when neither is given. */
export type DeviceLog = PinoLikeLogger | LogCallback;

export function toLogCallback(log: DeviceLog | undefined): LogCallback {
  if (log === undefined) return () => undefined;
  if (typeof log === "function") return log;
  return (level, message, fields) => log[level](fields, message);
}

/** Log fields for an error: a DpnError's code and short message, or an Error's message. */
export function errorFields(error: unknown): LogFields {
  if (error instanceof Error) {
    const { code, shortMessage } = error as Error & { code?: unknown; shortMessage?: unknown };
    return {
      code: typeof code === "string" ? code : undefined,
      error: typeof shortMessage === "string" ? shortMessage : error.message,
    };
  }
  return { error: String(error) };
}
