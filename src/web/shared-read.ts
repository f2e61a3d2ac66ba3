/** One read of Redis shared by the gauges of a scrape, which prom-client collects one after another. */

/** How long one read is shared. */
const SHARE_MS = 1000;

/** `read`, called at most once per SHARE_MS; callers within that time get the same answer. */
export function shared<T>(read: () => Promise<T>): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    if (!last || Date.now() - last.at > SHARE_MS) {
      const value = read();
      // A failed read is not kept: the next gauge (or scrape) tries again.
      value.catch(() => {
        last = undefined;
      });
      last = { at: Date.now(), value };
    }
    return last.value;
  };
}
