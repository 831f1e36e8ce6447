import { readFileSync } from "node:fs";
import type { ObjectTriggerOptions } from "@sluice/core";
import { describe, expect, it } from "vitest";
import { parse, type Tags } from "yaml";
import { configFromEnv, createSensorPipeline } from "../../../examples/sensor-pipeline/src/function.js";

// CloudFormation's short forms, kept as data: { "!Sub": "…" }, { "!Ref": "…" }, { "!GetAtt": "…" }.
const cloudFormationTags: Tags = ["Sub", "Ref", "GetAtt", "Join", "If", "Equals", "Select", "Split"].flatMap(
  (name) =>
    (["scalar", "seq", "map"] as const).map((collection) => ({
      tag: `!${name}`,
      collection: collection === "scalar" ? undefined : collection,
      resolve: (value: unknown) => ({
        [`!${name}`]: value && typeof value === "object" && "toJSON" in value ? (value as { toJSON: () => unknown }).toJSON() : value,
      }),
    })) as Tags,
);

const template = parse(readFileSync(new URL("../../../examples/sensor-pipeline/deploy/aws/template.yaml", import.meta.url), "utf8"), {
  customTags: cloudFormationTags,
}) as any;

/** `!Sub "${NamePrefix}-sensor-raw"` with the prefix given, the way CloudFormation would resolve it. */
const sub = (value: any, prefix: string) =>
  String(value["!Sub"] ?? value)
    // CloudFormation's own ${…} placeholders, not template literals.
    .replaceAll("$" + "{NamePrefix}", prefix)
    .replaceAll("$" + "{AWS::Partition}", "aws");

describe("the SAM template of the sensor pipeline", () => {
  const prefix = "acme";
  const names = configFromEnv({
    SENSOR_RAW_BUCKET: `${prefix}-sensor-raw`,
    SENSOR_REPORT_BUCKET: `${prefix}-sensor-reports`,
    SENSOR_QUARANTINE_BUCKET: `${prefix}-sensor-quarantine`,
  });
  const [analyze, rollUp] = createSensorPipeline(names).stages;
  const functions = [
    { fn: analyze, resource: template.Resources.AnalyzeSensors },
    { fn: rollUp, resource: template.Resources.RollUpHourly },
  ];

  it("gives the functions the bucket names the template creates", () => {
    const variables = template.Globals.Function.Environment.Variables;
    expect(sub(variables.SENSOR_RAW_BUCKET, prefix)).toBe(names.rawBucket);
    expect(sub(variables.SENSOR_REPORT_BUCKET, prefix)).toBe(names.reportBucket);
    expect(sub(variables.SENSOR_QUARANTINE_BUCKET, prefix)).toBe(names.quarantineBucket);
    const buckets = Object.values(template.Resources)
      .filter((resource: any) => resource.Type === "AWS::S3::Bucket")
      .map((resource: any) => sub(resource.Properties.BucketName, prefix));
    expect(buckets.sort()).toEqual([names.quarantineBucket, names.rawBucket, names.reportBucket].sort());
  });

  for (const { fn, resource } of functions) {
    it(`notifies ${fn?.name} with the same prefix and suffix its trigger filters on`, () => {
      const trigger = fn?.trigger as ObjectTriggerOptions & { kind: string };
      const [event] = Object.values(resource.Properties.Events) as any[];
      expect(event.Type).toBe("S3");
      const bucketResource = template.Resources[event.Properties.Bucket["!Ref"]];
      expect(sub(bucketResource.Properties.BucketName, prefix)).toBe(trigger.bucket);
      const rules = Object.fromEntries(event.Properties.Filter.S3Key.Rules.map((rule: any) => [rule.Name, rule.Value]));
      expect(rules).toEqual({ prefix: trigger.prefix, ...(trigger.suffix ? { suffix: trigger.suffix } : {}) });
      expect(resource.Properties.EventInvokeConfig.DestinationConfig.OnFailure.Type).toBe("SQS");
    });

    it(`lets ${fn?.name} read only its trigger's prefix and write only its destinations' prefixes`, () => {
      const trigger = fn?.trigger as ObjectTriggerOptions;
      const statements = resource.Properties.Policies.flatMap((policy: any) => policy.Statement ?? []);
      const resources = (action: string) =>
        statements
          .filter((statement: any) => statement.Action === action)
          .flatMap((statement: any) => [statement.Resource].flat().map((item: any) => sub(item, prefix)));
      expect(statements.every((statement: any) => statement.Effect === "Allow" && !String(statement.Action).includes("*"))).toBe(true);
      const reads = resources("s3:GetObject");
      expect(reads).toEqual([`arn:aws:s3:::${trigger.bucket}/${fn?.name === "roll-up-hourly" ? "reports/" : trigger.prefix}*`]);
      // Every write lands under the prefix its destination's key function produces for a sample event.
      const sample = {
        event: { kind: "object.created", bucket: trigger.bucket, key: `${trigger.prefix}2026/11/23/14/x${trigger.suffix ?? ""}` },
        result: {},
        failures: [],
      };
      const writes = resources("s3:PutObject");
      for (const destination of [fn?.destination, fn?.onFailure]) {
        if (destination?.kind !== "objectStore") continue;
        const key = (destination.key as (args: unknown) => string)(sample);
        expect(writes.some((arn: string) => `arn:aws:s3:::${destination.bucket}/${key}`.startsWith(arn.slice(0, -1)))).toBe(true);
      }
      expect(writes).toHaveLength([fn?.destination, fn?.onFailure].filter((destination) => destination?.kind === "objectStore").length);
    });
  }

  describe("the layer of what both stages share", () => {
    const deployScript = readFileSync(new URL("../../../examples/sensor-pipeline/deploy/aws/deploy.sh", import.meta.url), "utf8");
    const build = /npx sluice build (\S+) --target aws --layer --out (\S+)/.exec(deployScript);
    const layers = Object.entries(template.Resources).filter(
      ([, resource]: [string, any]) => resource.Type === "AWS::Serverless::LayerVersion",
    );
    const [layerName, layer] = (layers[0] ?? []) as [string, any];
    /**
     * A code path, from the example's folder (the template is two levels down). It must be a literal:
     * `sam deploy` uploads literal local paths only, not `!Ref`'d parameters.
     */
    const fromExample = (path: unknown) => {
      expect(typeof path).toBe("string");
      expect(String(path).startsWith("../../")).toBe(true);
      return String(path).slice("../../".length);
    };

    it("deploy.sh builds every stage and the layer in one `sluice build --layer`", () => {
      expect(build?.[1]).toBe("src/function.ts");
      expect(deployScript).not.toMatch(/--function/);
    });

    it("declares one layer version from the layer.zip that build writes, for the functions' runtime and architecture", () => {
      expect(layers).toHaveLength(1);
      expect(fromExample(layer.Properties.ContentUri)).toBe(`${build?.[2]}/layer.zip`);
      expect(layer.Properties.CompatibleRuntimes).toContain(template.Globals.Function.Runtime);
      for (const architecture of template.Globals.Function.Architectures)
        expect(layer.Properties.CompatibleArchitectures).toContain(architecture);
    });

    for (const { fn, resource } of functions) {
      it(`${fn?.name} uses the layer, and its code is the zip build writes for it (a CommonJS index.js)`, () => {
        expect(resource.Properties.Layers).toEqual([{ "!Ref": layerName }]);
        expect(fromExample(resource.Properties.CodeUri)).toBe(`${build?.[2]}/${fn?.name}/${fn?.name}.zip`);
        expect(resource.Properties.Handler ?? template.Globals.Function.Handler).toBe("index.handler");
      });
    }

    it("every function in the template uses it", () => {
      const all = Object.values(template.Resources).filter((resource: any) => resource.Type === "AWS::Serverless::Function");
      expect(all).toHaveLength(functions.length);
      expect(all.every((resource: any) => resource.Properties.Layers?.some((item: any) => item["!Ref"] === layerName))).toBe(true);
    });
  });
});
