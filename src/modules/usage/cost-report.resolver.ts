import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { Context } from '../../core/graphql/context';
import { Model } from '../model/model.entity';
import { ModelVersion } from '../model/model-version.entity';
import { PromptVersion } from '../prompt/prompt-version.entity';
import { Deployment } from '../deployment/deployment.entity';
import { CostGroupBy, CostReportRow } from './dto/cost-report';

/** The subject of a report row, through the request's loaders: a report costs the same statements whatever its row count. */
@Resolver(() => CostReportRow)
export class CostReportRowResolver {
  @FieldResolver(() => Model, { nullable: true, description: 'MODEL: the model; null in other groupings and in the total.' })
  model(@Root() r: CostReportRow, @Ctx() ctx: Context): Promise<Model | null> | null {
    return r.groupBy === CostGroupBy.MODEL && r.key ? ctx.loaders.modelById.load(r.key) : null;
  }

  @FieldResolver(() => ModelVersion, { nullable: true, description: 'MODEL_VERSION: the model version; null in other groupings and in the total.' })
  modelVersion(@Root() r: CostReportRow, @Ctx() ctx: Context): Promise<ModelVersion | null> | null {
    return r.groupBy === CostGroupBy.MODEL_VERSION && r.key ? ctx.loaders.modelVersionById.load(r.key) : null;
  }

  @FieldResolver(() => Deployment, { nullable: true, description: 'DEPLOYMENT: the deployment; null for requests recorded without one, in other groupings and in the total.' })
  deployment(@Root() r: CostReportRow, @Ctx() ctx: Context): Promise<Deployment | null> | null {
    return r.groupBy === CostGroupBy.DEPLOYMENT && r.key ? ctx.loaders.deploymentById.load(r.key) : null;
  }

  @FieldResolver(() => PromptVersion, { nullable: true, description: 'PROMPT_VERSION: the prompt version; null for requests recorded without one, in other groupings and in the total.' })
  promptVersion(@Root() r: CostReportRow, @Ctx() ctx: Context): Promise<PromptVersion | null> | null {
    return r.groupBy === CostGroupBy.PROMPT_VERSION && r.key ? ctx.loaders.promptVersionById.load(r.key) : null;
  }
}
