/** One validated event waiting to be sent. */
export interface BatchItem {
  /** The datagram's bytes: validated UTF-8 JSON for one event object. */
  readonly event: Buffer;
  readonly clientIp: string;
  readonly receivedAt: number;
  /** Size charged against queue and batch byte bounds: the item as it will appear in the body. */
  readonly bytes: number;
}

const ITEM_HEAD = '{"event":';
// `,"client_ip":"","received_at":}` plus 13 digits of milliseconds.
const ITEM_OVERHEAD = ITEM_HEAD.length + 32 + 13;
const UTF8_BOM = [0xef, 0xbb, 0xbf];

/**
 * Builds a batch item around the datagram's own bytes. They have just been
 * validated as one UTF-8 JSON object, so they are spliced into the request
 * body as they are: an event is parsed once and never re-serialized, and while
 * it waits it costs its datagram's size off the JS heap, not a string and an
 * object graph on it.
 */
export function toBatchItem(datagram: Buffer, clientIp: string, receivedAt: number): BatchItem {
  // A leading BOM is fine for a decoder but not in the middle of a JSON document.
  const start =
    datagram[0] === UTF8_BOM[0] && datagram[1] === UTF8_BOM[1] && datagram[2] === UTF8_BOM[2]
      ? 3
      : 0;
  // Copied into Buffer's shared 8 KiB slabs: a queue of datagrams each in its
  // own receive allocation costs about twice its size in RSS, slabs about once.
  const event = Buffer.from(datagram.subarray(start));
  return { event, clientIp, receivedAt, bytes: event.length + clientIp.length + ITEM_OVERHEAD };
}

/** The `/v1/batch` request body, `{"events":[{"event":…,"client_ip":…,"received_at":…},…]}`. */
export function batchBody(items: readonly BatchItem[]): Buffer {
  const tails = items.map(
    (item) => `,"client_ip":${JSON.stringify(item.clientIp)},"received_at":${item.receivedAt}}`,
  );
  let size = '{"events":['.length + ']}'.length + Math.max(0, items.length - 1);
  for (let i = 0; i < items.length; i++) {
    size += ITEM_HEAD.length + (items[i] as BatchItem).event.length + (tails[i] as string).length;
  }
  const body = Buffer.allocUnsafe(size);
  // Everything written as latin1 here is ASCII (addresses and digits).
  let at = body.write('{"events":[', 0, 'latin1');
  for (let i = 0; i < items.length; i++) {
    if (i > 0) at += body.write(',', at, 'latin1');
    at += body.write(ITEM_HEAD, at, 'latin1');
    at += (items[i] as BatchItem).event.copy(body, at);
    at += body.write(tails[i] as string, at, 'latin1');
  }
  body.write(']}', at, 'latin1');
  return body;
}
