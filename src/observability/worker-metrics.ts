import type { Worker } from "node:worker_threads";

/** How long /metrics waits for one worker before leaving its figures out. */
const ANSWER_MS = 2000;

/**
 * The supervisor's side of asking worker threads for their prom-client
 * registries (as JSON, for AggregatorRegistry). A worker that is busy, dead
 * or stuck is left out of this scrape instead of holding /metrics up.
 */
export class WorkerMetricsRequests {
  private nextId = 1;
  private readonly waiting = new Map<number, (json: unknown) => void>();

  /** Feed every `{ t: "metrics", id, json }` a worker sends back. */
  answer(id: number, json: unknown): void {
    this.waiting.get(id)?.(json);
  }

  /** Each live worker's registry JSON; `ask` posts the request with the given id. */
  async collect(workers: readonly (Worker | undefined)[], ask: (worker: Worker, id: number) => void): Promise<unknown[]> {
    const out = await Promise.all(
      workers.map((worker) => {
        if (!worker) return undefined;
        const id = this.nextId++;
        return new Promise<unknown>((resolve) => {
          const timer = setTimeout(() => {
            this.waiting.delete(id);
            resolve(undefined);
          }, ANSWER_MS);
          this.waiting.set(id, (json) => {
            clearTimeout(timer);
            this.waiting.delete(id);
            resolve(json);
          });
          ask(worker, id);
        });
      }),
    );
    return out.filter((j) => j !== undefined);
  }
}
