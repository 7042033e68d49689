/** FNV-1a over the resource key: a stable, cheap spread of resources. */
function fnv1a(rkey: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < rkey.length; i++) {
    h ^= rkey.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The event log shard holding a resource (see src/log/layout.ts). */
export function shardFor(rkey: string, shards: number): number {
  return fnv1a(rkey) % shards;
}

/**
 * The actor worker owning a resource: the owner of its shard (shard mod
 * workers). With as many shards as workers this is the plain hash spread.
 */
export function workerFor(rkey: string, workers: number, shards = workers): number {
  return shardFor(rkey, shards) % workers;
}
