import { envSchema, type Env } from "./schema.js";

export type Config = Readonly<Env>;
export type { Env };

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: string[] };

/**
 * Parses the environment once. Empty strings count as unset, so `PORT=` falls
 * back to its default instead of becoming 0. Every problem is reported at once,
 * each naming its variable, so an operator fixes them in one pass.
 */
export function parseConfig(env: Record<string, string | undefined>): ConfigResult {
  const known = Object.keys(envSchema.shape);
  const input: Record<string, string> = {};
  for (const key of known) {
    const value = env[key];
    if (value !== undefined && value !== "") input[key] = value;
  }
  const parsed = envSchema.safeParse(input);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? "environment");
      problems.push(`${name}: ${issue.message}${name in input && !/SECRET|KEY/.test(name) ? ` (got ${JSON.stringify(input[name])})` : ""}`);
    }
    return { ok: false, problems };
  }
  const config = parsed.data;
  if (config.AUTH_JWT_SECRET && config.AUTH_JWT_PUBLIC_KEY) {
    problems.push("AUTH_JWT_SECRET / AUTH_JWT_PUBLIC_KEY: set exactly one; the algorithm is pinned to the key type");
  }
  if (config.APP_ENV !== "dev" && !config.AUTH_JWT_SECRET && !config.AUTH_JWT_PUBLIC_KEY) {
    problems.push(`AUTH_JWT_SECRET or AUTH_JWT_PUBLIC_KEY: required when APP_ENV=${config.APP_ENV} (a key is generated only in dev)`);
  }
  if (config.RAW_STORAGE_BACKEND === "s3" && !config.S3_BUCKET) {
    problems.push("S3_BUCKET: required when RAW_STORAGE_BACKEND=s3");
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, config: Object.freeze({ ...config, CORS_ORIGINS: Object.freeze([...config.CORS_ORIGINS]) as string[] }) };
}

/** Test and CLI helper: a valid config from overrides, throwing on problems. */
export function configFrom(overrides: Record<string, string | undefined> = {}): Config {
  const result = parseConfig(overrides);
  if (!result.ok) throw new Error(`invalid config:\n${result.problems.join("\n")}`);
  return result.config;
}
