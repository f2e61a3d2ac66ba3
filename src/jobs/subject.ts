/** Who a job added with `ctx.enqueue` is for: a user (user kinds), an item (item kinds), nothing (global). */
export type Subject = { userId: string } | { id: string; data?: unknown } | Record<string, never>;
