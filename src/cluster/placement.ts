// Rendezvous (highest-random-weight) hashing: each resource is owned by the
// live member with the highest hash(member, resource). Every node computes the
// same owner from the same member list with no coordination, and when a member
// leaves only the resources it owned move (each to its own runner-up), so a
// failover touches 1/n of the resources and nothing else reshuffles.

/** cyrb53: a fast, well-mixed 53-bit string hash (exact in a JS number, unlike a 64-bit one). */
function hash53(s: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** The weight of `member` for `resourceKey`; NUL separates them so ("ab","c") ≠ ("a","bc"). */
export const weight = (member: string, resourceKey: string): number => hash53(`${member}\u0000${resourceKey}`);

/** Members in descending weight: the owner first, then who takes over if it leaves, and so on. */
export function rankOf(resourceKey: string, members: readonly string[]): string[] {
  return [...new Set(members)]
    .map((m) => ({ m, w: weight(m, resourceKey) }))
    // Ties (vanishingly rare) break by id so every node still agrees.
    .sort((a, b) => b.w - a.w || (a.m < b.m ? -1 : a.m > b.m ? 1 : 0))
    .map((x) => x.m);
}

/** The owning member, or undefined when there are no live members. */
export function ownerOf(resourceKey: string, members: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestW = -1;
  for (const m of members) {
    const w = weight(m, resourceKey);
    if (w > bestW || (w === bestW && best !== undefined && m < best)) {
      best = m;
      bestW = w;
    }
  }
  return best;
}
