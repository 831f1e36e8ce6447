/**
 * What Sluice needs of an AWS SDK v3 client (`SQSClient`, `FirehoseClient`, `KinesisClient`): `send`.
 * Typed structurally so that the optional SDKs are not needed to compile against this package.
 *
 * @example
 * ```ts
 * const sqs: AwsClientLike = new SQSClient({ region: "eu-west-1" });
 * ```
 */
export interface AwsClientLike {
  send(command: any): Promise<unknown>;
}
