import { describe, expect, it } from "vitest";
import { type AwsSource, detectSource, detectors } from "../src/index.js";
import { providerFixtures } from "./helpers.js";

/** Which source each AWS fixture folder holds; the s3:TestEvent sits in `s3/` but is a source of its own. */
function expectedSource(name: string): AwsSource {
  if (name === "s3/test-event") return "s3-test-event";
  const folder = name.split("/")[0] as string;
  const sources: Record<string, AwsSource> = {
    s3: "s3",
    "s3-eventbridge": "s3-eventbridge",
    "s3-sqs": "sqs",
    "s3-sns-sqs": "sqs",
    "s3-sns": "sns",
    sqs: "sqs",
    sns: "sns",
    kinesis: "kinesis",
    firehose: "firehose",
    "apigw-v1": "apigw-v1",
    "apigw-v2": "apigw-v2",
    "function-url": "function-url",
    alb: "alb",
    schedule: "schedule",
    scheduler: "scheduler",
    invoke: "invoke",
  };
  const source = sources[folder];
  if (!source) throw new Error(`no expected source for fixture folder ${folder}`);
  return source;
}

const DETECTOR_SOURCE: Record<keyof typeof detectors, AwsSource> = {
  isS3Notification: "s3",
  isS3TestEvent: "s3-test-event",
  isS3EventBridge: "s3-eventbridge",
  isSqs: "sqs",
  isSns: "sns",
  isKinesis: "kinesis",
  isFirehose: "firehose",
  isApiGatewayV1: "apigw-v1",
  isApiGatewayV2: "apigw-v2",
  isFunctionUrl: "function-url",
  isAlb: "alb",
  isScheduledEvent: "schedule",
  isSchedulerInput: "scheduler",
};

const aws = providerFixtures("aws");
const foreign = [...providerFixtures("gcp"), ...providerFixtures("azure")];

describe("detection matrix", () => {
  it("has fixtures to check, from all three clouds", () => {
    expect(aws.length).toBeGreaterThanOrEqual(49);
    expect(foreign.length).toBeGreaterThan(40);
  });

  for (const [name, detector] of Object.entries(detectors) as Array<[keyof typeof detectors, (event: unknown) => boolean]>) {
    const source = DETECTOR_SOURCE[name];
    it(`${name} accepts exactly the ${source} fixtures and rejects every other fixture, GCP and Azure included`, () => {
      const own = aws.filter((item) => expectedSource(item.name) === source);
      expect(own.length).toBeGreaterThan(0);
      const accepted = [...aws, ...foreign].filter((item) => detector(item.event)).map((item) => item.name);
      expect(accepted).toStrictEqual(own.map((item) => item.name));
    });
  }

  it("names every AWS fixture's source, and calls every GCP and Azure fixture a direct invocation", () => {
    for (const item of aws) expect([item.name, detectSource(item.event)]).toStrictEqual([item.name, expectedSource(item.name)]);
    for (const item of foreign) expect([item.name, detectSource(item.event)]).toStrictEqual([item.name, "invoke"]);
  });

  it("treats values that are not objects as direct invocations", () => {
    for (const value of [null, "text", 42, [1, 2], true]) expect(detectSource(value)).toBe("invoke");
  });
});
