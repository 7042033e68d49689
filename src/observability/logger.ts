import { pino, type Logger, type DestinationStream } from "pino";

export type { Logger };

// Tokens must never reach a log line: query strings are scrubbed and the
// Authorization header is censored wherever it appears.
const TOKEN_IN_URL = /([?&](?:access_token|token)=)[^&#\s]*/gi;

export function redactUrl(url: string): string {
  return url.replace(TOKEN_IN_URL, "$1[REDACTED]");
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { svc: "switchyard", pid: process.pid },
      redact: {
        paths: ["authorization", "headers.authorization", "req.headers.authorization", "token", "*.token", "access_token", "*.access_token"],
        censor: "[REDACTED]",
      },
    },
    destination,
  );
}
