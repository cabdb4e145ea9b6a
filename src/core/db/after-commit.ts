import { DataSource, EntityManager, EntitySubscriberInterface, EventSubscriber, QueryRunner } from 'typeorm';
import type { TransactionCommitEvent, TransactionRollbackEvent, TransactionStartEvent } from 'typeorm';

type Task = () => Promise<unknown>;

/** Transactions open on each query runner (1, plus one per savepoint), as the subscriber saw them start and end. */
const depths = new WeakMap<QueryRunner, number>();
/** Tasks waiting for their transaction's outcome, with the savepoint depth they were queued at. */
const pending = new WeakMap<QueryRunner, { depth: number; task: Task }[]>();
/** Tasks started and not yet settled, per data source, so that a shutdown can wait for them. */
const running = new WeakMap<DataSource, Set<Promise<void>>>();

function start(db: DataSource, task: Task): void {
  let tasks = running.get(db);
  if (!tasks) running.set(db, (tasks = new Set()));
  // On the next turn: the committing connection goes back to the pool before the task asks for one.
  const p: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
    .then(task)
    .then(
      () => undefined,
      // Nobody awaits the task: its failure is logged rather than lost, and the commit stands.
      (err: unknown) => db.logger.log('warn', `a task run after commit failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`),
    )
    .finally(() => tasks.delete(p));
  tasks.add(p);
}

/**
 * Runs `task` once the transaction `m` belongs to has committed, and never if it rolls back
 * (a task queued inside a savepoint that rolls back is dropped with it). For work that must see
 * the commit (another session evaluating what the transaction wrote) and that the transaction
 * must not wait for. The task runs on its own, after the caller's answer may already be sent;
 * it takes its own connection. Outside a transaction it runs at once (next turn).
 */
export function afterCommit(m: EntityManager, task: Task): void {
  const runner = m.queryRunner;
  if (!runner || !runner.isTransactionActive) {
    start(m.connection, task);
    return;
  }
  const depth = depths.get(runner);
  // A data source opened without AfterCommitSubscriber: the task would silently never run.
  if (depth === undefined) throw new Error('afterCommit: this data source does not list AfterCommitSubscriber');
  let tasks = pending.get(runner);
  if (!tasks) pending.set(runner, (tasks = []));
  tasks.push({ depth, task });
}

/** Resolves once every task started after a commit on `db` has settled (shutdown waits for them). */
export async function afterCommitSettled(db: DataSource): Promise<void> {
  const tasks = running.get(db);
  while (tasks?.size) await Promise.all([...tasks]);
}

/**
 * Hears the commits and rollbacks of every query runner of the data source (listed in its
 * `subscribers`, see `openDataSource`). A released savepoint is not a commit: its tasks wait for
 * the outermost transaction.
 */
@EventSubscriber()
export class AfterCommitSubscriber implements EntitySubscriberInterface {
  afterTransactionStart(event: TransactionStartEvent): void {
    depths.set(event.queryRunner, (depths.get(event.queryRunner) ?? 0) + 1);
  }

  afterTransactionCommit(event: TransactionCommitEvent): void {
    const runner = event.queryRunner;
    const depth = (depths.get(runner) ?? 1) - 1;
    depths.set(runner, depth);
    const tasks = pending.get(runner);
    if (!tasks) return;
    if (runner.isTransactionActive) {
      // A savepoint released: its tasks now share the fate of the transaction around it.
      for (const t of tasks) t.depth = Math.min(t.depth, depth);
      return;
    }
    pending.delete(runner);
    for (const t of tasks) start(event.connection, t.task);
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    const runner = event.queryRunner;
    const depth = (depths.get(runner) ?? 1) - 1;
    depths.set(runner, depth);
    const tasks = pending.get(runner);
    if (!tasks) return;
    if (!runner.isTransactionActive) {
      pending.delete(runner);
      return;
    }
    // Rolled back to a savepoint: what was queued inside it is undone with it.
    pending.set(runner, tasks.filter((t) => t.depth <= depth));
  }
}
