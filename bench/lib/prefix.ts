let seq = 0;

/** A fresh key prefix for each run, so no run sees the keys of another. */
export const prefix = (kind: string) => `b${kind}${++seq}`;
