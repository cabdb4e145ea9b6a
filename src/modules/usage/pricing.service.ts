import { EntityManager } from 'typeorm';
import { isUniqueViolation } from '../../core/db/errors';
import { hydrate } from '../../core/db/sql';
import { AppError, badInput } from '../../core/graphql/errors';
import { recordAudit } from '../../core/events/audit';
import { Principal } from '../../core/auth/principal';
import type { VersionCreated } from '../model/model.hooks';
import type { ModelVersion } from '../model/model-version.entity';
import { SetModelVersionPricingInput } from './dto/pricing.input';
import { ModelVersionPrice } from './model-version-price.entity';

const PRICE_COLUMNS = 'input_usd_per_million, output_usd_per_million, gpu_hour_cost_usd, tokens_per_second';

/**
 * The price a version gets at registration, in force from the start: an external API's token
 * prices when both are given (one alone prices nothing: the other side would be a guess), or a
 * self-hosted version's serving cost. Runs in the registration's transaction (model.versionCreated).
 */
export async function registerVersionPrice(m: EntityManager, created: VersionCreated): Promise<Record<string, unknown> | void> {
  const { input } = created;
  let prices: (number | null)[] | null = null;
  if (input.selfHosted) {
    if (!input.artifact) throw badInput('selfHosted prices a self-hosted version: give it with artifact, not externalApi (whose token prices are its price)', 'selfHosted');
    prices = [null, null, input.selfHosted.gpuHourCostUsd, input.selfHosted.tokensPerSecond];
  } else if (input.externalApi?.inputCostPerMillionTokens != null && input.externalApi.outputCostPerMillionTokens != null) {
    prices = [input.externalApi.inputCostPerMillionTokens, input.externalApi.outputCostPerMillionTokens, null, null];
  }
  if (!prices) return;
  await m.query(
    `INSERT INTO model_version_price (model_version_id, project_id, valid_from, ${PRICE_COLUMNS}, set_by)
     SELECT id, project_id, '-infinity', $2, $3, $4, $5, created_by FROM model_version WHERE id = $1`,
    [created.versionId, ...prices],
  );
  if (input.selfHosted) return { selfHosted: input.selfHosted };
}

/**
 * Sets a version's price from a moment on. Earlier prices stay: each usage record keeps the
 * price it was stored with, and the history answers what was charged when. The kind follows the
 * version's source: token prices for an external API, a serving cost for an artifact.
 */
export async function setModelVersionPricing(
  m: EntityManager, actor: Principal, version: ModelVersion, input: SetModelVersionPricingInput,
): Promise<ModelVersionPrice> {
  if (!input.tokenPrices === !input.selfHosted) {
    throw badInput('Give exactly one of tokenPrices or selfHosted', input.tokenPrices ? 'selfHosted' : 'tokenPrices');
  }
  const external = version.source.kind === 'EXTERNAL_API';
  if (input.tokenPrices && !external) throw badInput('tokenPrices are for a version of an external API; price a self-hosted artifact with selfHosted', 'tokenPrices');
  if (input.selfHosted && external) throw badInput('selfHosted is for a self-hosted artifact; price a version of an external API with tokenPrices', 'selfHosted');
  const prices = input.tokenPrices
    ? [input.tokenPrices.inputCostPerMillionTokens, input.tokenPrices.outputCostPerMillionTokens, null, null]
    : [null, null, input.selfHosted!.gpuHourCostUsd, input.selfHosted!.tokensPerSecond];
  let rows: Record<string, unknown>[];
  try {
    rows = await m.query(
      `INSERT INTO model_version_price (model_version_id, project_id, valid_from, ${PRICE_COLUMNS}, set_by)
       VALUES ($1, $2, coalesce($3::timestamptz, now()), $4, $5, $6, $7, $8) RETURNING *`,
      [version.id, version.projectId, input.validFrom?.toISOString() ?? null, ...prices, actor.name],
    );
  } catch (err) {
    if (isUniqueViolation(err, 'model_version_price_from_key')) {
      throw new AppError('CONFLICT', 'The version already has a price from that moment; history is kept, so set the new price from another moment', { field: 'validFrom' });
    }
    throw err;
  }
  const [price] = hydrate(m, ModelVersionPrice, rows);
  await recordAudit(m, {
    projectId: version.projectId, actor: actor.name, action: 'modelVersion.setPricing', targetType: 'ModelVersion', targetId: version.nodeId, after: price,
  });
  return price;
}

/** A version's prices, oldest first, as the ingest path reads them: from (epoch ms; -Infinity for the start) and the unit prices. */
export interface PriceStep {
  from: number;
  input: number | null;
  output: number | null;
  gpuHour: number | null;
  tps: number | null;
}

/** The price in force at `ts` among `steps` (oldest first): the last that starts at or before it. */
export function priceAt(steps: PriceStep[] | undefined, ts: number): PriceStep | null {
  if (!steps) return null;
  for (let k = steps.length - 1; k >= 0; k--) if (steps[k].from <= ts) return steps[k];
  return null;
}
