import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import type { Leader, LeaderState } from '../../core/db/leader';
import { evaluateDue } from './monitor.service';

export interface MonitorTimerSettings {
  /** How often the leader evaluates the monitors that are due; 0: no timer in this process. */
  intervalMs: number;
  /** Monitors claimed and evaluated per transaction. */
  batchSize: number;
}

export const MONITOR_TIMER_DEFAULTS: MonitorTimerSettings = { intervalMs: 15_000, batchSize: 500 };

/** The lock one replica holds to run the timer. */
export const MONITOR_TIMER_LOCK = 'monitor-timer';

/**
 * Evaluates monitors on a schedule, so that their windows move on without writes: a series that
 * goes silent reaches NO_DATA, and an alert whose points slid out of the window resolves. Every
 * replica runs one; at each tick it polls the leader lock, and only the replica holding it
 * evaluates (the others took part by trying the lock, which is how one of them takes over within
 * an interval when the leader goes). A monitor is due when nothing evaluated it for an interval,
 * so one evaluated by a write is left alone, and none waits more than two intervals.
 */
export class MonitorTimer {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private readonly stopping = new AbortController();

  constructor(
    private readonly db: DataSource,
    private readonly leader: Leader,
    private readonly log: Logger,
    private readonly settings: MonitorTimerSettings,
  ) {}

  /** leader, follower, or stopped (turned off, or shut down). */
  get state(): LeaderState {
    return this.stopped || this.settings.intervalMs === 0 ? 'stopped' : this.leader.state;
  }

  start(): void {
    if (this.settings.intervalMs === 0 || this.stopped) return;
    this.schedule(0);
  }

  /** Stops ticking, lets a tick in progress finish the batch it is on, then gives the lock back. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
    await this.leader.stop();
  }

  /** One tick: evaluates what is due if this process leads. Answers how many monitors it evaluated (null: not leading). */
  async tick(): Promise<number | null> {
    if (!(await this.leader.poll())) return null;
    return evaluateDue(this.db, this.settings.intervalMs, this.settings.batchSize, {
      signal: this.stopping.signal,
      onFailure: (err, monitorId) => this.log.error({ err, monitorId }, 'monitor evaluation by the timer failed; left for the next tick'),
    });
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.tick().then(
        (n) => { if (n) this.log.debug({ evaluated: n }, 'monitor timer tick'); },
        // The next tick tries again: the due monitors stay due.
        (err) => { if (!this.stopped) this.log.error({ err }, 'monitor timer tick failed'); },
      ).finally(() => {
        this.running = null;
        if (!this.stopped) this.schedule(this.settings.intervalMs);
      });
    }, ms);
    // The timer alone does not keep the process alive.
    this.timer.unref();
  }
}
