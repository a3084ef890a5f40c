/**
 * Deletes entries from the front of an insertion-ordered map while they have expired (at or
 * before `now`). Entries added with one lifetime expire in insertion order, so the first live
 * entry ends the sweep.
 */
export function dropExpired<K> (map: Map<K, { expiresAt: number }>, now = Date.now()): void {
  for (const [key, entry] of map) {
    if (entry.expiresAt > now) break
    map.delete(key)
  }
}
