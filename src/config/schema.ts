import { createPublicKey } from "node:crypto";
import os from "node:os";
import { z } from "zod";

// Every knob switchyard reads, with its default beside it. `parseConfig` is the
// only reader of process.env; everything below receives the frozen result.

const bool = z
  .enum(["0", "1", "true", "false", "yes", "no", ""])
  .transform((v) => v === "1" || v === "true" || v === "yes");

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const originList = z
  .string()
  .transform((s) => s.split(",").map((o) => o.trim()).filter(Boolean))
  .pipe(z.array(z.string().regex(/^https?:\/\/[^/*\s,]+$/, "exact origin scheme://host[:port], no wildcard or path")));

// Checked here, not first at verifier construction, so a bad key is a named
// configuration problem (exit 1) rather than a crash in whichever thread builds the verifier.
function verifiableKey(pem: string): boolean {
  try {
    const key = createPublicKey(pem);
    return key.asymmetricKeyType === "rsa" || (key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1");
  } catch {
    return false;
  }
}

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v));

/** host-pid-random: readable in /readyz, and never reused by a restarted process. */
function defaultNodeId(): string {
  const host = os.hostname().replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 32) || "node";
  return `${host}-${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
}

export const envSchema = z.object({
  PORT: int(0, 65535).default(8080),
  HOST: z.string().min(1).default("127.0.0.1"),
  APP_ENV: z.enum(["dev", "staging", "prod"]).default("dev"),
  DATA_DIR: z.string().min(1).default("./data"),
  AUTH_JWT_SECRET: optionalText.pipe(z.string().min(32, "must be at least 32 characters").optional()),
  AUTH_JWT_PUBLIC_KEY: optionalText.pipe(
    z.string().includes("BEGIN PUBLIC KEY", { message: "must be a PEM public key" }).refine(verifiableKey, "must be an RSA or EC P-256 public key in PEM (SPKI)").optional(),
  ),
  AUTH_JWT_ISSUER: optionalText,
  AUTH_JWT_AUDIENCE: optionalText,
  CHAT_BUS_BACKEND: z.enum(["memory", "nats", "redis"]).default("memory"),
  NATS_URL: z.string().default("nats://127.0.0.1:4222"),
  NATS_PREFIX: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/).default("sy"),
  REDIS_URL: z.string().default("redis://127.0.0.1:6379"),
  /** This node's id in the cluster (membership, owner subjects). Default: host-pid-random, unique per start. */
  NODE_ID: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "letters, digits, _ and - only (1-64)").default(defaultNodeId),
  /** JetStream replicas of the event log stream and KV buckets: 1 for one server, 3 for a production cluster. */
  NATS_REPLICAS: z.coerce.number().int().refine((n) => n === 1 || n === 3 || n === 5, "1, 3 or 5").default(1),
  CLUSTER_HEARTBEAT_MS: int(50, 60_000).default(1000),
  /** A member whose last heartbeat is older than this is dead; its resources move (failover bound ≈ this + 250 ms). */
  CLUSTER_TTL_MS: int(150, 600_000).default(3000),
  /** Deadline of a publish forwarded to the owning node, retries included. */
  CLUSTER_FORWARD_TIMEOUT_MS: int(100, 120_000).default(5000),
  /** CHAT_BUS_BACKEND=redis: the directory (one host) holding the event log and registry every node shares. */
  CLUSTER_SHARED_DIR: optionalText,
  ACTOR_WORKERS: int(1, 64).default(Math.max(1, os.availableParallelism())),
  FRONT_WORKERS: int(1, 64).default(1),
  /**
   * Nice value for the process's helper threads (V8's GC helpers, libuv's pool) once the node
   * is up; 0 leaves them alone. Default 10 on a node confined to one CPU, where they would
   * otherwise take the core from the threads serving requests; 0 with more CPUs.
   */
  HELPER_THREAD_NICE: int(0, 19).default(os.availableParallelism() === 1 ? 10 : 0),
  RAW_STORAGE_BACKEND: z.enum(["memory", "s3"]).default("memory"),
  /** Assets the `memory` raw storage holds across tenants (each with ≤ 4 KB of metadata as JSON); past it, registers are refused. */
  RAW_MEMORY_MAX_ASSETS: int(1, 1_000_000).default(20_000),
  S3_BUCKET: z.string().default("switchyard-raw"),
  S3_ENDPOINT: optionalText,
  S3_REGION: z.string().default("us-east-1"),
  S3_FORCE_PATH_STYLE: bool.default(false),
  S3_ACCESS_KEY_ID: optionalText,
  S3_SECRET_ACCESS_KEY: optionalText,
  S3_PRESIGN_TTL_S: int(1, 7 * 24 * 3600).default(900),
  NEXUS_BACKEND: z.enum(["memory", "firestore", "bigquery"]).default("memory"),
  NEXUS_MEMORY_MAX_EVENTS: int(1, 10_000_000).default(100_000),
  FEATURE_FLAGS_BACKEND: z.enum(["memory", "firestore", "nats"]).default("memory"),
  FIRESTORE_PROJECT_ID: optionalText,
  FIRESTORE_EMULATOR_HOST: optionalText.pipe(z.string().regex(/^[A-Za-z0-9.[\]:-]+:\d{1,5}$/, "host:port").optional()),
  MEDIA_BACKEND: z.enum(["memory", "sqlite"]).default("sqlite"),
  /** Assets the `memory` media backend holds across tenants; past it, creates are refused. */
  MEDIA_MEMORY_MAX_ASSETS: int(1, 1_000_000).default(20_000),
  BIGQUERY_PROJECT_ID: optionalText,
  BIGQUERY_DATASET: z.string().regex(/^[A-Za-z0-9_]{1,1024}$/).default("switchyard"),
  GATECHAIN_ALLOW_MISSING: bool.default(false),
  GATECHAIN_RATE_PER_S: int(1, 10_000_000).default(1000),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  MAX_MESSAGE_BYTES: int(1, 1 << 20).default(16384),
  MAX_EVENT_BYTES: int(1, 1 << 22).default(65536),
  MAX_BODY_BYTES: int(1024, 1 << 24).default(262144),
  MAX_SUBSCRIPTIONS_PER_CONNECTION: int(1, 100_000).default(256),
  WS_IDLE_TIMEOUT_S: int(8, 3600).default(120),
  WS_MAX_BACKPRESSURE_BYTES: int(1024, 1 << 30).default(4 * 1024 * 1024),
  WS_MAX_MESSAGES_PER_S: int(1, 1_000_000).default(200),
  REQUEST_TIMEOUT_MS: int(100, 600_000).default(10_000),
  SSE_HEARTBEAT_S: int(1, 3600).default(15),
  SHUTDOWN_GRACE_MS: int(100, 60_000).default(15_000),
  CORS_ORIGINS: originList.default([]),
  /** Fault-injection hooks for the crash tests; never set in production. */
  SWITCHYARD_TEST_HOOKS: bool.default(false),
  ACTOR_MAX_OLD_GEN_MB: int(16, 65536).default(1024),
  /**
   * Group-commit window: a commit starts at least this long after the previous
   * one began (fewer, larger fsyncs at the cost of latency). 0: each loop
   * turn's appends commit together, and what arrives during a commit is the next batch.
   */
  COMMIT_WINDOW_MS: int(0, 100).default(0),
  /**
   * Event log files (shards) of a new data dir, each written by one actor worker;
   * default ACTOR_WORKERS. Fixed once the dir exists (event-log.json): the supervisor
   * then sets this to the dir's count for every worker and front.
   */
  LOG_SHARDS: int(1, 64).optional(),
  WS_ALLOWED_ORIGINS: originList.optional(),
});

export type Env = z.infer<typeof envSchema>;
