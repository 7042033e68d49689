import { createPublicKey, hash, type KeyObject } from "node:crypto";
import { jwtVerify, errors as joseErrors } from "jose";
import type { Config } from "../config/index.js";
import { AppError } from "../errors/index.js";
import { claimsSchema, type Principal } from "./principal.js";

export type TokenVerifier = (token: string) => Promise<Principal>;

export interface VerifierKey {
  readonly alg: "HS256" | "RS256" | "ES256";
  readonly key: Uint8Array | KeyObject;
}

/** The algorithm is pinned to the key type, so an HS256 token signed with the RSA public key never verifies. */
export function keyFromConfig(config: Pick<Config, "AUTH_JWT_SECRET" | "AUTH_JWT_PUBLIC_KEY">): VerifierKey {
  if (config.AUTH_JWT_PUBLIC_KEY) {
    const key = createPublicKey(config.AUTH_JWT_PUBLIC_KEY);
    const type = key.asymmetricKeyType;
    if (type === "rsa") return { alg: "RS256", key };
    if (type === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") return { alg: "ES256", key };
    throw new Error(`AUTH_JWT_PUBLIC_KEY: unsupported key type ${type ?? "unknown"} (RSA or EC P-256)`);
  }
  if (config.AUTH_JWT_SECRET) return { alg: "HS256", key: new TextEncoder().encode(config.AUTH_JWT_SECRET) };
  throw new Error("no JWT key configured");
}

const CLOCK_SKEW_S = 30;
const MAX_TOKEN_CHARS = 8192;

export function createVerifier(
  vk: VerifierKey,
  opts: { issuer?: string | undefined; audience?: string | undefined; cacheSize?: number },
): TokenVerifier {
  // Verified tokens are remembered (by digest, bounded) until they expire: a busy client
  // sends the same token with every request, and a WebCrypto verify costs far more than a
  // hash. Only successes are cached, and expiry is re-checked on every hit.
  const cache = new Map<string, Principal>();
  const max = opts.cacheSize ?? 10_000;
  return async (token) => {
    if (token.length === 0 || token.length > MAX_TOKEN_CHARS) throw new AppError("ERR_UNAUTHENTICATED");
    const digest = hash("sha256", token, "base64url");
    const hit = cache.get(digest);
    if (hit) {
      if (hit.exp + CLOCK_SKEW_S > Date.now() / 1000) return hit;
      cache.delete(digest);
    }
    const principal = await verifyUncached(vk, opts, token);
    if (cache.size >= max) cache.delete(cache.keys().next().value as string);
    cache.set(digest, principal);
    return principal;
  };
}

async function verifyUncached(vk: VerifierKey, opts: { issuer?: string | undefined; audience?: string | undefined }, token: string): Promise<Principal> {
  try {
    const { payload } = await jwtVerify(token, vk.key, {
      algorithms: [vk.alg],
      clockTolerance: CLOCK_SKEW_S,
      requiredClaims: ["exp", "sub"],
      ...(opts.issuer ? { issuer: opts.issuer } : {}),
      ...(opts.audience ? { audience: opts.audience } : {}),
    });
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) throw new AppError("ERR_UNAUTHENTICATED", { message: "Token claims are malformed" });
    return { sub: claims.data.sub, tenants: claims.data.tenants, roles: claims.data.roles ?? [], exp: claims.data.exp };
  } catch (e) {
    if (e instanceof AppError) throw e;
    const message = e instanceof joseErrors.JWTExpired ? "Token expired" : "Token is invalid";
    throw new AppError("ERR_UNAUTHENTICATED", { message, cause: e });
  }
}

/** `Authorization: Bearer x` → x; anything else → undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}
