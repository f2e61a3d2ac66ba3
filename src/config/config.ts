/** The shape of the configuration: every setting, parsed and typed, as loadConfig returns it. */
import type { KindConfig } from './kind-config.js';

export type HandlerMode =
  | {
      kind: 'http';
      /** Without credentials; those travel in `authorization`, as fetch refuses URLs that carry them. */
      url: string;
      /** `Basic …` from the user and password in SPOTTER_URL, if it had them. */
      authorization?: string;
      secrets: string[];
    }
  | { kind: 'module'; path: string }
  | { kind: 'demo'; users: number; failureRate: number };

export interface Config {
  redisUrl: string;
  /** False when REDIS_URL was not set and the local default is used (npm start may then start a private server). */
  redisUrlSet: boolean;
  /** Sentinel addresses; when set, REDIS_URL supplies only credentials and database. */
  redisSentinels: ReadonlyArray<{ host: string; port: number }> | undefined;
  redisSentinelName: string;
  prefix: string;
  tz: string;
  /** Every job kind of the catalog, in catalog order, by name. */
  kinds: Readonly<Record<string, KindConfig>>;
  fanoutPage: number;
  /** Jobs a tick keeps waiting at most while it pages; `auto` derives it from the kind (windowFor). */
  fanoutWindow: number | 'auto';
  /** What ends a user listing that would never end (a tick that hits one fails with the reason). */
  fanoutLimits: { emptyPages: number; deadlineMs: number };
  /** Subject schedules: how far ahead occurrences become jobs, and how many schedules one subject may hold. */
  subjectSchedules: { windowMs: number; perSubject: number };
  /** Default first retry delay; each kind may override it. */
  backoffMs: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
  /** Workers hold jobs ahead of their free slots (docs/behaviour.md). */
  fetchAhead: boolean;
  retention: { completedAgeMs: number; completedCount: number; failedAgeMs: number; intervalMs: number };
  shutdownTimeoutMs: number;
  /** HTTP mode: how long a request past its kind's timeout stays open, waiting for Spotter's answer. */
  timeoutGraceMs: number;
  handlers: HandlerMode;
  http: {
    host: string;
    port: number;
    workerHost: string;
    workerPort: number;
    boardUser: string;
    boardPassword: string | undefined;
    readOnly: boolean;
    /** Loopback mode: Host names answered besides the loopback ones (DNS-rebinding guard). */
    allowedHosts: readonly string[];
  };
  logLevel: string;
  /** OpenTelemetry traces: on when an OTLP endpoint or a traces exporter is set (and the SDK not disabled). */
  tracing: { enabled: boolean; serviceName: string };
}
