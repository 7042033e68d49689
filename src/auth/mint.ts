import { SignJWT } from "jose";

export interface MintOptions {
  readonly secret: string;
  readonly sub: string;
  readonly tenants: readonly string[];
  readonly roles?: readonly string[];
  readonly ttlSeconds?: number;
  readonly issuer?: string | undefined;
  readonly audience?: string | undefined;
}

/** Mints an HS256 token (dev tooling and tests). */
export async function mintToken(o: MintOptions): Promise<string> {
  let jwt = new SignJWT({ tenants: [...o.tenants], roles: [...(o.roles ?? [])] })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(o.sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + (o.ttlSeconds ?? 3600));
  if (o.issuer) jwt = jwt.setIssuer(o.issuer);
  if (o.audience) jwt = jwt.setAudience(o.audience);
  return jwt.sign(new TextEncoder().encode(o.secret));
}

/** `1h`, `30m`, `45s`, `2d` or plain seconds → seconds. */
export function parseTtl(s: string): number | undefined {
  const m = /^(\d+)([smhd]?)$/.exec(s.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const mult = { "": 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] ?? ""] ?? 1;
  const v = n * mult;
  return v > 0 && v <= 366 * 86400 ? v : undefined;
}
