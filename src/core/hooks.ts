/**
 * An extension point. An earlier module declares a hook and calls it; a later module registers
 * a handler through its descriptor (see `core/module.ts`). The earlier module so consults the
 * later one (an alias move asks the promotion policies; a new version is linked to its datasets)
 * while every import still points down the declared order.
 */
export class Hook<A extends unknown[], R = void> {
  private readonly handlers: ((...args: A) => R)[] = [];

  constructor(readonly name: string) {}

  /** Adds a handler; the same function twice is kept once, so composing twice is harmless. */
  register(handler: (...args: A) => R): void {
    if (!this.handlers.includes(handler)) this.handlers.push(handler);
  }

  /**
   * Awaits every handler in turn, in the modules' declared order. One at a time, not in
   * parallel: handlers usually share the caller's transaction, which runs one statement at a time.
   */
  async run(...args: A): Promise<Awaited<R>[]> {
    const out: Awaited<R>[] = [];
    for (const h of this.handlers) out.push(await h(...args));
    return out;
  }

  /** Calls every handler synchronously and returns their results, in the declared order. */
  collect(...args: A): R[] {
    return this.handlers.map((h) => h(...args));
  }
}

/** A handler bound to its hook, as a module descriptor lists it. */
export interface HookBinding {
  bind(): void;
}

/** Pairs a hook with a handler, type-checked against the hook's arguments. */
export const on = <A extends unknown[], R>(hook: Hook<A, R>, handler: (...args: A) => R): HookBinding => ({
  bind: () => hook.register(handler),
});
