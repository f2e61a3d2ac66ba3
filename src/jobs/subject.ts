/**
 * Who a job added with `ctx.enqueue` is for: a user (user kinds), an item (item kinds), nothing
 * (global). An item or global job may name its owner; by default it is the adding job's (owner.ts).
 */
export type Subject = { userId: string } | { id: string; data?: unknown; owner?: string } | { owner?: string };
