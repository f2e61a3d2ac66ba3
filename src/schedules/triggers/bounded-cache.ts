/**
 * A small least-recently-used map with a fixed number of entries: what parsing a trigger's text
 * gives depends only on the text (and zone), and a few texts are used by very many subjects.
 */
export class BoundedCache<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(private readonly max: number) {}

  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      // Map keeps insertion order: moving the entry to the end marks it as used last.
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value as K);
  }

  get size(): number {
    return this.entries.size;
  }
}

/** Texts remembered per cache: parsed cron fields, RRULE parts, English phrases. */
export const PARSED_KEPT = 1000;
