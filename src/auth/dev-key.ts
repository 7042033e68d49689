import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

// In dev, a missing key is generated once and kept under DATA_DIR so that
// restarts keep tokens valid and `switchyard token` can mint with the same key.
// Never used outside dev: config parsing refuses prod without a key.
export const DEV_SECRET_FILE = "dev-jwt-secret";

export function readDevSecret(dataDir: string): string | undefined {
  try {
    const s = readFileSync(join(dataDir, DEV_SECRET_FILE), "utf8").trim();
    return s.length >= 32 ? s : undefined;
  } catch {
    return undefined;
  }
}

export function ensureDevSecret(dataDir: string): { secret: string; created: boolean } {
  const existing = readDevSecret(dataDir);
  if (existing) return { secret: existing, created: false };
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString("base64url");
  writeFileSync(join(dataDir, DEV_SECRET_FILE), `${secret}\n`, { mode: 0o600 });
  return { secret, created: true };
}
