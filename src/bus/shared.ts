import { AppError } from "../errors/index.js";
import type { BusStatus } from "./bus.js";

/** Listener fan-out shared by the implementations; a throwing listener must not break the others. */
export class StatusListeners {
  private readonly listeners = new Set<(s: BusStatus) => void>();
  add(listener: (s: BusStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(status: BusStatus): void {
    for (const l of this.listeners) {
      try {
        l(status);
      } catch {
        // A listener's bug is its own; status delivery to the rest continues.
      }
    }
  }
}

/** NATS subject matching: `*` is one token, a final `>` is one or more tokens. */
export function subjectMatches(pattern: string, subject: string): boolean {
  if (pattern === subject) return true;
  const p = pattern.split(".");
  const s = subject.split(".");
  for (let i = 0; i < p.length; i++) {
    const tok = p[i];
    if (tok === ">") return i === p.length - 1 && s.length > i;
    if (i >= s.length) return false;
    if (tok !== "*" && tok !== s[i]) return false;
  }
  return p.length === s.length;
}

const TOKEN = /^[A-Za-z0-9_\-+=]+$/;

/** Subjects to publish to are concrete; patterns may use `*` / a final `>`. Checked the same on every backend. */
export function assertSubject(subject: string, allowWildcards: boolean): void {
  const toks = subject.split(".");
  const ok = toks.every((t, i) => TOKEN.test(t) || (allowWildcards && (t === "*" || (t === ">" && i === toks.length - 1))));
  // Subjects come from subjects.ts, so a bad one is our bug, not the client's.
  if (!ok) throw new AppError("ERR_INTERNAL", { message: `invalid bus subject ${JSON.stringify(subject)}` });
}
