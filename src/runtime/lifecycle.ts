/**
 * The one shutdown routine of a process. First SIGTERM/SIGINT: readiness turns 503, parts close in
 * reverse start order (so consumers stop before the connections they use), exit 0. At the deadline
 * running jobs are aborted, left for another worker and logged by id, exit 1. A second signal exits at once.
 */
import type { Logger } from '../telemetry/logger.js';

/** A long-lived part of a process: started elsewhere, closed here, idempotently. */
export interface Part {
  name: string;
  /** `deadlineAt`: when the shutdown deadline falls (epoch ms), for a part that must give up before it. */
  close(deadlineAt: number): Promise<void>;
  /** Past the deadline: abort what is running and return the ids left behind. */
  abandon?(): string[];
}

export class Lifecycle {
  private readonly parts: Part[] = [];
  private stopping: Promise<number> | undefined;
  private signals = 0;
  draining = false;

  constructor(
    private readonly log: Logger,
    private readonly timeoutMs: number,
    private readonly exit: (code: number) => void = (code) => process.exit(code),
  ) {}

  /** Registers a part; parts are closed in the reverse order of registration. */
  add(part: Part): void {
    this.parts.push(part);
  }

  installSignalHandlers(): void {
    const onSignal = (signal: NodeJS.Signals) => {
      this.signals++;
      if (this.signals > 1) {
        this.log.warn({ signal }, 'second signal: exiting now');
        this.exit(1);
        return;
      }
      this.log.info({ signal, timeoutMs: this.timeoutMs }, 'shutting down: no new jobs, waiting for running ones');
      void this.shutdown().then((code) => this.exit(code));
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }

  /** Closes everything; resolves with the exit code (0 clean, 1 deadline hit or a part failed). */
  shutdown(): Promise<number> {
    this.stopping ??= this.run();
    return this.stopping;
  }

  private async run(): Promise<number> {
    this.draining = true;
    let timer: NodeJS.Timeout | undefined;
    const deadlineAt = Date.now() + this.timeoutMs;
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(() => resolve('deadline'), this.timeoutMs);
    });
    let failed = false;
    const closeAll = (async () => {
      for (const part of [...this.parts].reverse()) {
        try {
          await part.close(deadlineAt);
        } catch (err) {
          failed = true;
          this.log.error({ part: part.name, err: (err as Error).message }, 'error while closing');
        }
      }
      return 'closed' as const;
    })();
    const outcome = await Promise.race([closeAll, deadline]);
    clearTimeout(timer);
    if (outcome === 'closed') {
      this.log.info('shut down cleanly');
      return failed ? 1 : 0;
    }
    const left = this.parts.flatMap((p) => p.abandon?.() ?? []);
    this.log.error(
      { jobIds: left, timeoutMs: this.timeoutMs },
      `shutdown deadline reached; ${left.length} running job(s) aborted and left for another worker`,
    );
    // Give aborted handlers a moment to observe their signal before the process goes.
    await new Promise((r) => setTimeout(r, 250));
    return 1;
  }
}
