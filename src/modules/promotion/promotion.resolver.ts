import { Arg, Ctx, FieldResolver, Int, Mutation, Resolver, Root } from 'type-graphql';
import type { Context } from '../../core/graphql/context';
import { loadByGlobalId } from '../../core/graphql/ids';
import { pageConnection } from '../../core/graphql/page-loader';
import { Connection, FIRST_ARG, AFTER_ARG } from '../../core/graphql/pagination';
import { Allow } from '../../core/auth/permission';
import { fromId } from '../../core/auth/locators';
import { Role } from '../../core/auth/role';
import { DatasetVersion } from '../dataset/dataset-version.entity';
import { ModelPayload } from '../model/dto/model.input';
import { ModelVersion } from '../model/model-version.entity';
import { Model } from '../model/model.entity';
import {
  DecidePromotionInput, PromotionRequestConnection, PromotionRequestPayload, RequestPromotionInput, SetAliasPolicyInput,
} from './dto/promotion.input';
import { AliasPolicy, EvaluationGate, GateResult, PromotionRequest, PromotionStatus, StoredGate } from './promotion.entity';
import { promotionRequestPage } from './promotion.pages';
import { approvePromotion, rejectPromotion, requestPromotion, setAliasPolicy } from './promotion.service';

const toGate = (g: StoredGate): EvaluationGate => Object.assign(new EvaluationGate(), g);

/** A request by global id, with the project of its model (both cached since the permission located them). */
async function loadRequest(ctx: Context, id: string): Promise<{ request: PromotionRequest; projectId: string }> {
  const request = await loadByGlobalId(ctx.loaders, PromotionRequest, id);
  const model = (await ctx.loaders.modelById.load(request.modelId))!;
  return { request, projectId: model.projectId };
}

@Resolver(() => Model)
export class ModelPromotionResolver {
  @Allow(Role.ADMIN, fromId('input.modelId', 'Model'))
  @Mutation(() => ModelPayload, {
    description: 'Protects an alias with evaluation gates and required approvals (no gates and 0 approvals removes the protection). '
      + 'With approvals required, the alias moves only through requestPromotion and is removed only by an ADMIN; with gates alone, '
      + 'a direct setModelAlias must pass them. Every move or removal that commits after the policy is checked against it. Needs ADMIN.',
  })
  async setAliasPolicy(@Arg('input', { description: 'The model, the alias and its policy.' }) input: SetAliasPolicyInput, @Ctx() ctx: Context): Promise<ModelPayload> {
    const model = await loadByGlobalId(ctx.loaders, Model, input.modelId, 'modelId');
    await ctx.db.transaction((m) => setAliasPolicy(m, ctx.principal!, model, input));
    return { model };
  }

  @Allow(Role.EDITOR, fromId('input.modelId', 'Model'))
  @Mutation(() => PromotionRequestPayload, {
    description: 'Asks to move an alias to a version. Gates are checked now; with no approvals required the move applies at once. Needs EDITOR.',
  })
  async requestPromotion(@Arg('input', { description: 'The model, the alias and the version to move it to.' }) input: RequestPromotionInput, @Ctx() ctx: Context): Promise<PromotionRequestPayload> {
    const model = await loadByGlobalId(ctx.loaders, Model, input.modelId, 'modelId');
    return { promotionRequest: await ctx.db.transaction((m) => requestPromotion(m, ctx.principal!, model, input)) };
  }

  @Allow(Role.EDITOR, fromId('input.id', 'PromotionRequest'))
  @Mutation(() => PromotionRequestPayload, {
    description: 'Approves a pending request (not your own). The last approval needed re-checks the gates and moves the alias. Needs EDITOR.',
  })
  async approvePromotion(@Arg('input', { description: 'The request, with an optional comment.' }) input: DecidePromotionInput, @Ctx() ctx: Context): Promise<PromotionRequestPayload> {
    const { request, projectId } = await loadRequest(ctx, input.id);
    return { promotionRequest: await ctx.db.transaction((m) => approvePromotion(m, ctx.principal!, projectId, request.id, input.comment ?? null)) };
  }

  @Allow(Role.EDITOR, fromId('input.id', 'PromotionRequest'))
  @Mutation(() => PromotionRequestPayload, { description: 'Rejects a pending request; the requester doing so cancels it. Needs EDITOR.' })
  async rejectPromotion(@Arg('input', { description: 'The request, with an optional comment.' }) input: DecidePromotionInput, @Ctx() ctx: Context): Promise<PromotionRequestPayload> {
    const { request, projectId } = await loadRequest(ctx, input.id);
    return { promotionRequest: await ctx.db.transaction((m) => rejectPromotion(m, ctx.principal!, projectId, request.id, input.comment ?? null)) };
  }

  @FieldResolver(() => [AliasPolicy], { description: 'The policies protecting this model\'s aliases, by alias.' })
  aliasPolicies(@Root() model: Model, @Ctx() ctx: Context): Promise<AliasPolicy[]> {
    return ctx.loaders.aliasPoliciesByModel.load(model.id);
  }

  @FieldResolver(() => PromotionRequestConnection, { description: 'Promotion requests for this model\'s aliases, newest first.' })
  async promotionRequests(
    @Root() model: Model,
    @Ctx() ctx: Context,
    @Arg('status', () => PromotionStatus, { nullable: true, description: 'Only requests in this status; omitted: every request.' }) status: PromotionStatus | null,
    @Arg('first', () => Int, FIRST_ARG) first: number,
    @Arg('after', () => String, AFTER_ARG) after: string | null,
  ): Promise<Connection<PromotionRequest>> {
    const spec = promotionRequestPage({ first, after, status });
    return pageConnection(await ctx.loaders.promotionRequestPages.load({ parentId: model.id, spec }), spec);
  }
}

@Resolver(() => AliasPolicy)
export class AliasPolicyResolver {
  @FieldResolver(() => [EvaluationGate], { description: 'Evaluation gates the version must pass.' })
  gates(@Root() policy: AliasPolicy): EvaluationGate[] {
    return policy.gates.map(toGate);
  }
}

@Resolver(() => EvaluationGate)
export class EvaluationGateResolver {
  @FieldResolver(() => DatasetVersion, { nullable: true, description: 'Only evaluations on this dataset version count; null: any.' })
  datasetVersion(@Root() gate: EvaluationGate, @Ctx() ctx: Context): Promise<DatasetVersion | null> | null {
    return gate.datasetVersionId ? ctx.loaders.datasetVersionById.load(gate.datasetVersionId) : null;
  }
}

@Resolver(() => PromotionRequest)
export class PromotionRequestResolver {
  @FieldResolver(() => Model, { description: 'The model whose alias is to move.' })
  async model(@Root() r: PromotionRequest, @Ctx() ctx: Context): Promise<Model> {
    return (await ctx.loaders.modelById.load(r.modelId))!;
  }

  @FieldResolver(() => ModelVersion, { description: 'The version the alias is to point to.' })
  async version(@Root() r: PromotionRequest, @Ctx() ctx: Context): Promise<ModelVersion> {
    return (await ctx.loaders.modelVersionById.load(r.versionId))!;
  }

  @FieldResolver(() => [String], { description: 'Names of the API keys that approved, in order.' })
  approvals(@Root() r: PromotionRequest, @Ctx() ctx: Context): Promise<string[]> {
    return ctx.loaders.approverNames.load(r.id);
  }

  @FieldResolver(() => [GateResult], { description: 'The gates as last checked (at the request, and again at the final approval).' })
  gateResults(@Root() r: PromotionRequest): GateResult[] {
    return r.gateResults.map((g) => Object.assign(new GateResult(), { gate: toGate(g.gate), value: g.value, passed: g.passed }));
  }
}
