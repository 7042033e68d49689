import { AppError } from "../errors/index.js";

/**
 * How many items an in-memory backend holds. Past the bound a create is
 * refused (400 limit_exceeded, naming the setting) rather than an item a
 * client already holds being dropped; the durable backend has no such bound.
 */
export class MemoryBound {
  private count = 0;

  constructor(
    private readonly max: number,
    private readonly setting: string,
    private readonly durable: string,
  ) {}

  /** Counts one more item, or throws if the backend is full. */
  take(): void {
    if (this.count >= this.max) {
      throw new AppError("ERR_LIMIT_EXCEEDED", { message: `The memory backend is full (${this.setting}=${this.max}); ${this.durable} keeps more` });
    }
    this.count++;
  }
}
