import { parseArgs } from "node:util";
import { parseConfig, type Config } from "./config/index.js";
import { ensureDevSecret, readDevSecret } from "./auth/dev-key.js";
import { mintToken, parseTtl } from "./auth/mint.js";
import { createLogger } from "./observability/logger.js";
import { startNode } from "./supervisor/node.js";

const USAGE = `usage:
  switchyard start                      start a node (configuration from the environment, see README)
  switchyard token --tenant t1 --sub alice [--tenant t2] [--admin] [--ttl 1h]
                                        mint an HS256 token with AUTH_JWT_SECRET or the dev key in DATA_DIR`;

function loadConfig(): Config {
  const result = parseConfig(process.env);
  if (!result.ok) {
    process.stderr.write(`switchyard: invalid configuration:\n${result.problems.map((p) => `  - ${p}`).join("\n")}\n`);
    process.exit(1);
  }
  return result.config;
}

async function start(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL);
  let jwtSecret: string | undefined;
  if (!config.AUTH_JWT_SECRET && !config.AUTH_JWT_PUBLIC_KEY) {
    // Only reachable in dev: parseConfig refuses staging/prod without a key.
    const dev = ensureDevSecret(config.DATA_DIR);
    jwtSecret = dev.secret;
    log.warn({ dataDir: config.DATA_DIR, created: dev.created }, "APP_ENV=dev and no JWT key configured: using a generated dev key");
    process.stderr.write(
      `\nswitchyard (dev): tokens are signed with a generated key kept in ${config.DATA_DIR}/dev-jwt-secret.\n` +
        `Mint one with:  npx switchyard token --tenant t1 --sub alice [--admin]\n\n`,
    );
  }
  const node = await startNode(config, log, jwtSecret ? { jwtSecret } : {});
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    // SPEC: the process exits within 20 s whatever happens during the drain.
    setTimeout(() => {
      log.error("drain took too long; exiting");
      process.exit(1);
    }, 19_000).unref();
    node.drain(signal).then(
      () => process.exit(0),
      (e: unknown) => {
        log.error({ err: e }, "drain failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

async function token(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      tenant: { type: "string", multiple: true },
      sub: { type: "string" },
      admin: { type: "boolean", default: false },
      ttl: { type: "string", default: "1h" },
    },
    strict: true,
  });
  const ttl = parseTtl(values.ttl ?? "1h");
  if (!values.tenant?.length || !values.sub || ttl === undefined) {
    process.stderr.write(`${USAGE}\n(--tenant and --sub are required; --ttl like 30m, 1h, 2d)\n`);
    process.exit(2);
  }
  const config = loadConfig();
  if (config.AUTH_JWT_PUBLIC_KEY) {
    process.stderr.write("switchyard token: the server verifies with a public key; mint tokens with your identity provider\n");
    process.exit(2);
  }
  const secret = config.AUTH_JWT_SECRET ?? readDevSecret(config.DATA_DIR);
  if (!secret) {
    process.stderr.write(`switchyard token: no AUTH_JWT_SECRET and no dev key in ${config.DATA_DIR} (start the dev server once)\n`);
    process.exit(2);
  }
  const jwt = await mintToken({
    secret, sub: values.sub, tenants: values.tenant, roles: values.admin ? ["admin"] : [], ttlSeconds: ttl,
    issuer: config.AUTH_JWT_ISSUER, audience: config.AUTH_JWT_AUDIENCE,
  });
  process.stdout.write(`${jwt}\n`);
}

const [command, ...rest] = process.argv.slice(2);
const run = command === "start" ? start() : command === "token" ? token(rest) : Promise.reject(new Error("usage"));
run.catch((e: unknown) => {
  if (e instanceof Error && e.message === "usage") process.stderr.write(`${USAGE}\n`);
  else process.stderr.write(`switchyard: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(command === "start" || command === "token" ? 1 : 2);
});
