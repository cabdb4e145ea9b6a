import { LRUCache } from 'lru-cache';
import { Principal } from './principal';

/** NOTIFY channel on which a revocation names the key id, to every server process. */
export const KEYS_CHANNEL = 'modelgraph_keys';

/**
 * Authenticated keys by secret hash, for a few seconds, so that a busy client costs no key
 * lookup per request. Revocation must still take effect at once, here and in every other
 * process: the revoking transaction NOTIFYs KEYS_CHANNEL, every process LISTENs and drops the
 * key, and the revoking process also drops it itself right after commit. While the LISTEN
 * connection is down a process cannot hear revocations, so the cache is off until it is back.
 */
export class PrincipalCache {
  private readonly byHash: LRUCache<string, Principal>;
  /**
   * Keys revoked lately: a request that read the key just before the revocation committed
   * must not put it back after dropKey ran.
   */
  private readonly revoked: LRUCache<string, true>;
  private listening = false;

  constructor(ttlMs = 30_000, max = 10_000) {
    this.byHash = new LRUCache({ max, ttl: ttlMs });
    this.revoked = new LRUCache({ max, ttl: ttlMs });
  }

  get(hash: string): Principal | undefined {
    return this.listening ? this.byHash.get(hash) : undefined;
  }

  set(hash: string, principal: Principal): void {
    if (this.listening && !this.revoked.has(principal.keyId)) this.byHash.set(hash, principal);
  }

  /** Forgets every secret of a key (there is one, but the cache is keyed by hash). */
  dropKey(keyId: string): void {
    this.revoked.set(keyId, true);
    for (const [hash, p] of this.byHash.entries()) if (p.keyId === keyId) this.byHash.delete(hash);
  }

  /** The LISTEN connection is up (true) or lost (false: forget everything, cache nothing). */
  setListening(up: boolean): void {
    this.listening = up;
    if (!up) this.byHash.clear();
  }
}
