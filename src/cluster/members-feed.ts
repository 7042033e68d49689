// The live member list travels from the supervisor (which runs Membership) to
// the fronts over their RPC channel as a long poll: the front asks "anything
// newer than version v?" and the supervisor answers at once if so, or when the
// list changes, or after `holdMs` with the same version. One source of truth
// per node, no extra KV watch per thread, and no change to the control channel.

export interface MembersView {
  readonly version: number;
  readonly members: readonly string[];
}

/** Supervisor side. */
export class MembersBoard {
  private view: MembersView = { version: 0, members: [] };
  private readonly waiters = new Set<() => void>();

  set(members: readonly string[]): void {
    this.view = { version: this.view.version + 1, members: [...members] };
    for (const w of [...this.waiters]) w();
  }

  current(): MembersView {
    return this.view;
  }

  /** Resolves with the view once its version differs from `known`, or after `holdMs`. */
  wait(known: number, holdMs: number): Promise<MembersView> {
    if (this.view.version !== known) return Promise.resolve(this.view);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve(this.view);
      };
      const timer = setTimeout(done, holdMs);
      timer.unref();
      this.waiters.add(done);
    });
  }

  /** Releases every pending poll (drain). */
  close(): void {
    for (const w of [...this.waiters]) w();
  }
}

/** Front side: keeps the latest view and reports changes. */
export class MembersFeed {
  private view: MembersView = { version: 0, members: [] };
  private stopped = false;

  constructor(
    private readonly poll: (known: number) => Promise<MembersView>,
    private readonly onChange: (members: readonly string[], previous: readonly string[]) => void,
    private readonly onError: (e: unknown) => void,
  ) {}

  members(): readonly string[] {
    return this.view.members;
  }

  /** Resolves after the first answer (or the first failure); keeps polling in the background. */
  start(): Promise<void> {
    let first: () => void = () => {};
    const started = new Promise<void>((r) => (first = r));
    void (async () => {
      let failures = 0;
      while (!this.stopped) {
        try {
          const next = await this.poll(this.view.version);
          failures = 0;
          if (next.version !== this.view.version) {
            const previous = this.view.members;
            this.view = next;
            if (previous.join(",") !== next.members.join(",")) this.onChange(next.members, previous);
          }
        } catch (e) {
          if (this.stopped) break;
          if (failures++ % 20 === 0) this.onError(e);
          await new Promise((r) => setTimeout(r, Math.min(1000, 50 * failures)));
        }
        first();
      }
      first();
    })();
    return started;
  }

  stop(): void {
    this.stopped = true;
  }
}
