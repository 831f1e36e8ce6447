import type {
  ALBResult,
  APIGatewayProxyResult,
  APIGatewayProxyResultV2,
  Context,
  FirehoseTransformationResult,
  SQSBatchResponse,
} from "aws-lambda";
import { describe, expectTypeOf, it } from "vitest";
import type {
  AlbResponse,
  ApiGatewayV1Response,
  ApiGatewayV2Response,
  FirehoseTransformationResponse,
  LambdaBatchResponse,
  LambdaContextLike,
} from "../src/index.js";

// The package's own answer types keep its declarations free of @types/aws-lambda; these checks prove they
// are what the official types describe, so a handler typed with those still compiles.
describe("answer types match @types/aws-lambda", () => {
  it("is assignable where AWS's types are expected", () => {
    expectTypeOf<ApiGatewayV1Response>().toExtend<APIGatewayProxyResult>();
    expectTypeOf<ApiGatewayV2Response>().toExtend<APIGatewayProxyResultV2>();
    expectTypeOf<AlbResponse>().toExtend<ALBResult>();
    expectTypeOf<LambdaBatchResponse>().toExtend<SQSBatchResponse>();
    expectTypeOf<FirehoseTransformationResponse>().toExtend<FirehoseTransformationResult>();
    expectTypeOf<Context>().toExtend<LambdaContextLike>();
  });
});
