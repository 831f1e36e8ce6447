// s3rver 3.7.1 ships no types; only what the tests and the demo use is declared. (Not s3rver.d.ts: that name would pass for the declarations of s3rver.ts and be skipped.)
declare module "s3rver" {
  import type { EventEmitter } from "node:events";
  interface S3rverOptions {
    address?: string;
    port?: number;
    directory: string;
    silent?: boolean;
    resetOnClose?: boolean;
    configureBuckets?: Array<{ name: string }>;
  }
  export default class S3rver extends EventEmitter {
    constructor(options: S3rverOptions);
    run(): Promise<{ address: string; port: number }>;
    close(): Promise<void>;
  }
}
