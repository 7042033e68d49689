import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { configFrom } from "../../../src/config/index.js";
import { AppError } from "../../../src/errors/index.js";
import { GateChainService, type GateChainServiceOptions } from "../../../src/gatechain/service.js";
import { MemoryGateConfigStore } from "../../../src/gatechain/store-memory.js";
import type { GateConfigStore } from "../../../src/gatechain/store.js";

export const SECRET = "x".repeat(40);
/** 2030-01-01T00:00:00Z: aligned to every day/hour/minute window, so tests can reason about window ends. */
export const T0 = Date.UTC(2030, 0, 1);

export interface Clock {
  now: number;
  (): number;
}

export function clockAt(start = T0): Clock {
  const c = (() => c.now) as Clock;
  c.now = start;
  return c;
}

export async function openService(
  env: Record<string, string> = {},
  extra: Partial<GateChainServiceOptions> & { store?: GateConfigStore } = {},
): Promise<{ svc: GateChainService; registry: Registry; clock: Clock }> {
  const clock = clockAt();
  const registry = new Registry();
  const config = configFrom({ AUTH_JWT_SECRET: SECRET, ...env });
  const svc = await GateChainService.open({ config, store: new MemoryGateConfigStore(), registry, clock, usageFlushMs: 0, ...extra });
  return { svc, registry, clock };
}

/** Asserts fn throws an AppError with the given key and returns it for further checks. */
export function expectAppError(fn: () => unknown, key: string): AppError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof AppError, `expected AppError ${key}, got ${String(caught)}`);
  assert.equal(caught.key, key);
  return caught;
}

export async function expectAppErrorAsync(p: Promise<unknown>, key: string): Promise<AppError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof AppError, `expected AppError ${key}, got ${String(caught)}`);
  assert.equal(caught.key, key);
  return caught;
}
