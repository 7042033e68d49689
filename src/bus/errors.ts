import { AppError } from "../errors/index.js";

// Typed bus failures, each an AppError with a registry key so callers can
// answer clients without translating again.

/** No reply within the deadline: the owner may be dead or slow; retry after re-resolving placement. */
export class BusTimeoutError extends AppError {
  constructor(readonly subject: string, readonly timeoutMs: number, cause?: unknown) {
    super("ERR_TIMEOUT", { message: `no reply on ${subject} within ${timeoutMs} ms`, cause });
    this.name = "BusTimeoutError";
  }
}

/** Nobody listens on the subject (the owner left): re-resolve placement and retry. */
export class BusNoRespondersError extends AppError {
  constructor(readonly subject: string, cause?: unknown) {
    super("ERR_NOT_READY", { message: `no responders on ${subject}`, cause, retryAfterS: 1 });
    this.name = "BusNoRespondersError";
  }
}

/** The responder's handler threw; its message is carried, not its stack. */
export class BusRemoteError extends AppError {
  constructor(readonly subject: string, remoteMessage: string) {
    super("ERR_INTERNAL", { message: `responder on ${subject} failed: ${remoteMessage}` });
    this.name = "BusRemoteError";
  }
}

/** The bus was closed, or the backend refused the operation while disconnected. */
export class BusUnavailableError extends AppError {
  constructor(message: string, cause?: unknown) {
    super("ERR_NOT_READY", { message, cause, retryAfterS: 1 });
    this.name = "BusUnavailableError";
  }
}

export class BusClosedError extends BusUnavailableError {
  constructor() {
    super("the bus is closed");
    this.name = "BusClosedError";
  }
}
