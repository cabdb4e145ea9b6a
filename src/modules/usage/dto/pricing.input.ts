import { IsNumber, IsOptional, IsString, Min, ValidateNested } from 'class-validator';
import { Field, Float, ID, InputType, ObjectType } from 'type-graphql';
import { SelfHostedServingInput } from '../../model/dto/model-version.input';
import { ModelVersion } from '../../model/model-version.entity';
import { ModelVersionPrice } from '../model-version-price.entity';

@InputType({ description: 'Per-token prices of a version served by a provider API.' })
export class TokenPricesInput {
  @Field(() => Float, { description: 'USD per million input tokens, at least 0.' })
  @IsNumber() @Min(0)
  inputCostPerMillionTokens: number;

  @Field(() => Float, { description: 'USD per million output tokens, at least 0.' })
  @IsNumber() @Min(0)
  outputCostPerMillionTokens: number;
}

@InputType({ description: 'A new price of a model version from a moment on; earlier prices stay in its history.' })
export class SetModelVersionPricingInput {
  @Field(() => ID, { description: 'The model version.' })
  @IsString()
  modelVersionId: string;

  @Field(() => Date, {
    nullable: true,
    description: 'From when the price is in force; default now. It may be in the past or the future; usage records already stored keep the price they were stored with.',
  })
  @IsOptional()
  validFrom?: Date | null;

  @Field(() => TokenPricesInput, { nullable: true, description: 'For a version of an external API: its token prices. Exactly one of tokenPrices / selfHosted.' })
  @IsOptional() @ValidateNested()
  tokenPrices?: TokenPricesInput | null;

  @Field(() => SelfHostedServingInput, { nullable: true, description: 'For a self-hosted version (an artifact): its GPU-hour cost and throughput. Exactly one of tokenPrices / selfHosted.' })
  @IsOptional() @ValidateNested()
  selfHosted?: SelfHostedServingInput | null;
}

@ObjectType({ description: 'What setModelVersionPricing stored.' })
export class ModelVersionPricingPayload {
  @Field(() => ModelVersion, { description: 'The version priced.' })
  modelVersion: ModelVersion;

  @Field(() => ModelVersionPrice, { description: 'The price stored.' })
  price: ModelVersionPrice;
}
