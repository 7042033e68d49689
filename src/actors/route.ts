/** FNV-1a over the resource key: a stable, cheap spread of resources over actor workers. */
export function workerFor(rkey: string, workers: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < rkey.length; i++) {
    h ^= rkey.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % workers;
}
