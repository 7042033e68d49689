import { AppError, isAppError } from "../../errors/index.js";

// SDK clients retry "unavailable" for up to a minute; a flag request must not hang that long.
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Backend failures become 503 not_ready with the SDK error kept as `cause`. */
export function unavailable(backend: string, e: unknown): AppError {
  if (isAppError(e)) return e;
  const why = e instanceof Error ? e.message : String(e);
  return new AppError("ERR_NOT_READY", { message: `feature flags (${backend}) unavailable: ${why}`, cause: e });
}
