import { createHmac } from "node:crypto";
import type { AddressInfo, Socket } from "node:net";
import rhea, { type Delivery, type EventContext, type Message, type Receiver, type Sender } from "rhea";

/**
 * A **protocol-level** Event Hubs server for tests: it is NOT Azure Event Hubs. There is no local Event
 * Hubs server on this machine kind, so this speaks the part of the service's AMQP 1.0 protocol that a
 * producer uses, as the real `@azure/event-hubs` client sends it, so that the client is used unchanged:
 *
 * - plain AMQP on 127.0.0.1 (a connection string with `UseDevelopmentEmulator=true` makes the SDK use
 *   TCP instead of TLS, to the endpoint's host and port: `@azure/core-amqp`'s `ConnectionContextBase`),
 *   SASL ANONYMOUS as the SDK offers it;
 * - claims-based security: `put-token` requests on `$cbs`, answered `status-code` 202 when the SAS
 *   token's signature is the connection string key's (HMAC-SHA256 of the URL-encoded resource and the
 *   expiry), 401 otherwise;
 * - `$management` READ requests for `com.microsoft:eventhub` and `com.microsoft:partition` properties;
 * - sender links to `<hub>` and `<hub>/Partitions/<n>`, refused with `amqp:not-found` for an unknown hub,
 *   attached with the hub's `max-message-size` (1 MiB, the Standard tier's);
 * - batched messages (message format `0x80013700`: each data section an encoded AMQP message), decoded
 *   event by event, given a partition (the partition key's hash, else round robin), a sequence number,
 *   an offset and an enqueued time, and settled `accepted`, or `rejected` when the test asked for it
 *   with {@link EventHubsProtocolServer.refuseNext}. A batch is accepted or refused whole, as on Azure.
 *
 * Not implemented: receiving (consumer links), idempotent publishing, geo-replication, quotas.
 */
export interface EventHubsProtocolServer {
  host: string;
  port: number;
  /** The namespace connection string the SDK takes (`Endpoint=sb://127.0.0.1:<port>;…;UseDevelopmentEmulator=true`). */
  connectionString: string;
  /** Everything the hub accepted so far, in the order it was accepted. */
  received(hub: string): ReceivedEvent[];
  /** Refuses the next `count` sends (batches) to `hub` with the given AMQP error condition. */
  refuseNext(hub: string, count: number, condition?: string): void;
  /** Sends (batch messages) received per hub, accepted or refused. */
  deliveries(hub: string): number;
  stop(): Promise<void>;
}

/** One event as the hub stored it, with the system properties the service adds. */
export interface ReceivedEvent {
  partitionId: string;
  sequenceNumber: number;
  offset: number;
  enqueuedTime: Date;
  body: Buffer;
  /** Application properties, as the producer set them. */
  properties: Record<string, unknown>;
  /** The `x-opt-partition-key` annotation. */
  partitionKey?: string;
}

export interface EventHubsProtocolServerOptions {
  /** The hubs that exist, with their partition counts (default 4 each). */
  hubs: Record<string, { partitionCount?: number }> | string[];
  /** The link's max-message-size. Default 1 MiB (Standard, Premium, Dedicated); Basic has 256 KiB. */
  maxMessageSize?: number;
}

const BATCH_FORMAT = 0x80013700;

interface AttachFrame {
  source?: { address?: string };
  target?: { address?: string };
}

/** The peer's attach frame of a link (rhea keeps it, its typings do not show it). */
function attachOf(link: Sender | Receiver): AttachFrame {
  return (link as unknown as { remote: { attach?: AttachFrame } }).remote.attach ?? {};
}
/** The SAS key of the connection string; any string works, it only has to match the tokens. */
const KEY_NAME = "RootManageSharedAccessKey";
const KEY = "c2x1aWNlLXByb3RvY29sLWxldmVsLXNlcnZlci1rZXk=";

interface Hub {
  partitionCount: number;
  createdAt: Date;
  events: ReceivedEvent[];
  partitions: Array<{ sequence: number; offset: number; last?: ReceivedEvent }>;
  refusals: Array<string>;
  deliveries: number;
  roundRobin: number;
}

/**
 * Starts the protocol-level Event Hubs server on 127.0.0.1 and an OS-chosen port.
 *
 * @example
 * ```ts
 * const server = await startEventHubsProtocolServer({ hubs: ["readings"] });
 * const producer = new EventHubProducerClient(server.connectionString, "readings");
 * ```
 */
export async function startEventHubsProtocolServer(options: EventHubsProtocolServerOptions): Promise<EventHubsProtocolServer> {
  const hubs = new Map<string, Hub>();
  const names = Array.isArray(options.hubs) ? options.hubs : Object.keys(options.hubs);
  for (const name of names) {
    const partitionCount = Array.isArray(options.hubs) ? 4 : (options.hubs[name]?.partitionCount ?? 4);
    hubs.set(name, {
      partitionCount,
      createdAt: new Date(),
      events: [],
      partitions: Array.from({ length: partitionCount }, () => ({ sequence: 0, offset: 0 })),
      refusals: [],
      deliveries: 0,
      roundRobin: 0,
    });
  }
  const maxMessageSize = options.maxMessageSize ?? 1024 * 1024;
  const container = rhea.create_container({ id: "sluice-event-hubs-protocol-server", autoaccept: false });
  /** Audiences authorized per connection, by put-token. */
  const claims = new WeakMap<object, Set<string>>();

  const hubOf = (address: string | undefined): { hub: Hub; name: string; partition?: number } | undefined => {
    const match = /^([^/]+)(?:\/Partitions\/(\d+))?$/i.exec(address ?? "");
    const hub = match ? hubs.get(match[1] as string) : undefined;
    if (!match || !hub) return undefined;
    return match[2] === undefined ? { hub, name: match[1] as string } : { hub, name: match[1] as string, partition: Number(match[2]) };
  };

  container.on("sender_open", (context: EventContext) => {
    // The client's receiving end of $cbs or $management: reply links. Echo the source it asked for.
    const sender = context.sender as Sender;
    sender.set_source({ address: attachOf(sender).source?.address ?? "" });
    sender.set_target({ address: attachOf(sender).target?.address ?? "" });
  });

  container.on("receiver_open", (context: EventContext) => {
    const receiver = context.receiver as Receiver;
    const address: string | undefined = attachOf(receiver).target?.address;
    receiver.set_source({ address: attachOf(receiver).source?.address ?? "" });
    receiver.set_target({ address: address ?? "" });
    if (address === "$cbs" || address === "$management") return;
    const target = hubOf(address);
    if (!target || (target.partition !== undefined && target.partition >= target.hub.partitionCount)) {
      receiver.close({ condition: "amqp:not-found", description: `The messaging entity '${address}' could not be found.` });
      return;
    }
    if (!authorized(context, address as string)) {
      receiver.close({ condition: "amqp:unauthorized-access", description: `Unauthorized access to '${address}': no put-token for it.` });
      return;
    }
    // rhea sends our attach after this handler: the hub's limit goes out in it, as Event Hubs announces it.
    (receiver as unknown as { local: { attach: { max_message_size?: number } } }).local.attach.max_message_size = maxMessageSize;
  });

  container.on("message", (context: EventContext) => {
    const receiver = context.receiver as Receiver;
    const delivery = context.delivery as Delivery & { format?: number };
    const address: string | undefined = attachOf(receiver).target?.address;
    // A batch (format 0x80013700) arrives as its raw bytes: rhea decodes format 0 only.
    const message = context.message as Message;
    if (address === "$cbs") {
      delivery.accept();
      reply(context, message, putToken(context, message));
      return;
    }
    if (address === "$management") {
      delivery.accept();
      reply(context, message, management(message));
      return;
    }
    const target = hubOf(address);
    if (!target) {
      delivery.reject({ condition: "amqp:not-found", description: `The messaging entity '${address}' could not be found.` });
      return;
    }
    target.hub.deliveries++;
    const refusal = target.hub.refusals.shift();
    if (refusal !== undefined) {
      delivery.reject({ condition: refusal, description: "refused by the test (EventHubsProtocolServer.refuseNext)" });
      return;
    }
    try {
      store(target.hub, target.partition, eventsOf(message as Message | Buffer, delivery.format));
      delivery.accept();
    } catch (error) {
      delivery.reject({ condition: "amqp:decode-error", description: error instanceof Error ? error.message : String(error) });
    }
  });

  function authorized(context: EventContext, address: string): boolean {
    const audiences = claims.get(context.connection) ?? new Set<string>();
    const hub = address.split("/")[0] as string;
    for (const audience of audiences) {
      const path = audience.replace(/^(?:sb|amqps?):\/\/[^/]+\/?/i, "");
      if (path === "" || path === hub || path.toLowerCase() === address.toLowerCase() || path.startsWith(`${hub}/`)) return true;
    }
    return false;
  }

  function putToken(context: EventContext, request: Message): { status: number; description: string; body?: unknown } {
    const properties = request.application_properties ?? {};
    if (properties.operation !== "put-token") return { status: 400, description: `unknown operation ${String(properties.operation)}` };
    const token = typeof request.body === "string" ? request.body : "";
    const fields = new URLSearchParams(token.replace(/^SharedAccessSignature\s+/, ""));
    const resource = fields.get("sr") ?? "";
    const expiry = fields.get("se") ?? "";
    const expected = createHmac("sha256", KEY)
      .update(`${encodeURIComponent(resource)}\n${expiry}`)
      .digest("base64");
    if (fields.get("skn") !== KEY_NAME || fields.get("sig") !== expected) return { status: 401, description: "InvalidSignature" };
    if (Number(expiry) * 1000 < Date.now()) return { status: 401, description: "ExpiredToken" };
    const audiences = claims.get(context.connection) ?? new Set<string>();
    audiences.add(String(properties.name ?? resource));
    claims.set(context.connection, audiences);
    return { status: 202, description: "Accepted" };
  }

  function management(request: Message): { status: number; description: string; body?: unknown } {
    const properties = request.application_properties ?? {};
    const hub = hubs.get(String(properties.name));
    if (properties.operation !== "READ") return { status: 400, description: `unknown operation ${String(properties.operation)}` };
    if (!hub) return { status: 404, description: `The messaging entity '${String(properties.name)}' could not be found.` };
    if (properties.type === "com.microsoft:eventhub") {
      return {
        status: 200,
        description: "OK",
        body: {
          name: properties.name,
          created_at: hub.createdAt,
          partition_count: hub.partitionCount,
          partition_ids: rhea.types.wrap_array(
            Array.from({ length: hub.partitionCount }, (_unused, index) => String(index)),
            0xa1,
            undefined,
          ),
        },
      };
    }
    if (properties.type === "com.microsoft:partition") {
      const id = Number(properties.partition);
      const partition = hub.partitions[id];
      if (!partition) return { status: 404, description: `no partition ${String(properties.partition)}` };
      return {
        status: 200,
        description: "OK",
        body: {
          name: properties.name,
          partition: String(id),
          begin_sequence_number: rhea.types.wrap_long(0),
          last_enqueued_sequence_number: rhea.types.wrap_long(partition.last?.sequenceNumber ?? -1),
          last_enqueued_offset: String(partition.last?.offset ?? -1),
          last_enqueued_time_utc: partition.last?.enqueuedTime ?? new Date(0),
          is_partition_empty: partition.last === undefined,
        },
      };
    }
    return { status: 400, description: `unknown type ${String(properties.type)}` };
  }

  function reply(context: EventContext, request: Message, answer: { status: number; description: string; body?: unknown }) {
    // The reply goes out on the link the client attached to receive from the same node ($cbs or $management).
    const node = attachOf(context.receiver as Receiver).target?.address;
    const replyLink = findReplyLink(context, node, request.reply_to);
    replyLink?.send({
      correlation_id: request.message_id,
      to: request.reply_to,
      application_properties: { "status-code": answer.status, "status-description": answer.description },
      body: answer.body,
    });
  }

  function findReplyLink(context: EventContext, node: string | undefined, replyTo: string | undefined): Sender | undefined {
    const connection = context.connection as unknown as { find_sender(filter: (sender: Sender) => boolean): Sender | undefined };
    return (
      connection.find_sender((sender) => attachOf(sender).target?.address === replyTo && replyTo !== undefined) ??
      connection.find_sender((sender) => attachOf(sender).source?.address === node)
    );
  }

  function store(hub: Hub, fixedPartition: number | undefined, events: Message[]) {
    const now = new Date();
    for (const event of events) {
      const annotations = (event.message_annotations ?? {}) as Record<string, unknown>;
      const partitionKey =
        typeof annotations["x-opt-partition-key"] === "string" ? (annotations["x-opt-partition-key"] as string) : undefined;
      const partitionId =
        fixedPartition ?? (partitionKey !== undefined ? hashOf(partitionKey) % hub.partitionCount : hub.roundRobin++ % hub.partitionCount);
      const partition = hub.partitions[partitionId] as Hub["partitions"][number];
      const body = bodyOf(event);
      const received: ReceivedEvent = {
        partitionId: String(partitionId),
        sequenceNumber: partition.sequence++,
        offset: partition.offset,
        enqueuedTime: now,
        body,
        properties: { ...(event.application_properties ?? {}) },
      };
      if (partitionKey !== undefined) received.partitionKey = partitionKey;
      partition.offset += body.length + 200;
      partition.last = received;
      hub.events.push(received);
    }
  }

  const listener = container.listen({ host: "127.0.0.1", port: 0 });
  const sockets = new Set<Socket>();
  listener.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    listener.once("listening", () => resolve());
    listener.once("error", reject);
  });
  const port = (listener.address() as AddressInfo).port;

  return {
    host: "127.0.0.1",
    port,
    connectionString: `Endpoint=sb://127.0.0.1:${port};SharedAccessKeyName=${KEY_NAME};SharedAccessKey=${KEY};UseDevelopmentEmulator=true`,
    received: (hub) => [...(hubs.get(hub)?.events ?? [])],
    deliveries: (hub) => hubs.get(hub)?.deliveries ?? 0,
    refuseNext(hub, count, condition = "com.microsoft:server-busy") {
      const state = hubs.get(hub);
      if (!state) throw new Error(`no hub ${hub}`);
      for (let index = 0; index < count; index++) state.refusals.push(condition);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        listener.close(() => resolve());
        // Open client connections keep the listener alive; the clients reconnect or fail, as on a service restart.
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/** The events of a send: a batch's data sections, each an encoded AMQP message, or the message itself. */
function eventsOf(message: Message | Buffer, format: number | undefined): Message[] {
  if (format !== BATCH_FORMAT) return [message as Message];
  // rhea leaves a message of another format than 0 undecoded: the batch is decoded here, then each event.
  const batch = Buffer.isBuffer(message) ? (rhea.message.decode(message) as unknown as Message) : message;
  const body = batch.body as { content?: unknown; multiple?: boolean } | undefined;
  const sections = body?.multiple ? (body.content as Buffer[]) : body?.content !== undefined ? [body.content as Buffer] : [];
  return sections.map((section) => rhea.message.decode(section) as unknown as Message);
}

/** An event's body bytes: its data section(s), or a value section as the SDK would have JSON-encoded it. */
function bodyOf(event: Message): Buffer {
  const body = event.body as { typecode?: number; content?: unknown; multiple?: boolean } | undefined;
  if (body && body.typecode === 0x75) {
    return body.multiple ? Buffer.concat(body.content as Buffer[]) : Buffer.from(body.content as Buffer);
  }
  if (Buffer.isBuffer(body)) return body;
  return Buffer.from(JSON.stringify(body ?? null));
}

/** A stable, well-spread hash of a partition key (Event Hubs' own is internal; only stability matters here). */
function hashOf(key: string): number {
  let hash = 2166136261;
  for (const byte of Buffer.from(key, "utf8")) hash = Math.imul(hash ^ byte, 16777619) >>> 0;
  return hash;
}
