/** How much each scenario does. A quick run (CI) only checks that every scenario still works. */
export function sizesFor(quick: boolean) {
  return {
    throughputJobs: quick ? 2_000 : 20_000,
    concurrency: quick ? [10, 50] : [10, 50, 200],
    fanout: quick ? [1_000, 10_000] : [1_000, 10_000, 100_000, 1_000_000],
    drainUpTo: quick ? 10_000 : 100_000,
    scaleJobs: quick ? 4_000 : 40_000,
    processes: quick ? [1, 2] : [1, 2, 4],
    longRunTicks: quick ? 5 : 40,
    longRunUsers: quick ? 500 : 1_000,
    inProcessJobs: quick ? 20_000 : 200_000,
    makespanUsers: quick ? 2_000 : 20_000,
    /** Paired rounds of the figures that swing most on a shared 2-core machine: tick makespan, the cost of fairness. */
    swingRounds: quick ? 1 : 5,
    window: quick ? [2_000, 10_000] : [10_000, 100_000, 1_000_000],
  };
}

export type Sizes = ReturnType<typeof sizesFor>;
