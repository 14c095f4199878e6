/** One validated event waiting to be sent, already in its `/v1/batch` item form. */
export interface BatchItem {
  /** `{"event":<datagram JSON>,"client_ip":"…","received_at":…}` */
  readonly json: string;
  /** Size charged against queue and batch byte bounds. */
  readonly bytes: number;
  readonly receivedAt: number;
}

/**
 * Builds a batch item around the datagram's own JSON text. The text has just
 * been validated as one JSON object, so splicing it in is safe, and the event
 * is never re-serialized: the datagram path stays one parse and no stringify.
 */
export function toBatchItem(
  eventJson: string,
  eventBytes: number,
  clientIp: string,
  receivedAt: number,
): BatchItem {
  const json = `{"event":${eventJson},"client_ip":${JSON.stringify(clientIp)},"received_at":${receivedAt}}`;
  // The wrapper is ASCII, so this is the exact UTF-8 size without re-encoding.
  return { json, bytes: eventBytes + json.length - eventJson.length, receivedAt };
}

/** The `/v1/batch` request body for some items. */
export function batchBody(items: readonly BatchItem[]): string {
  let body = '{"events":[';
  for (let i = 0; i < items.length; i++) {
    if (i > 0) body += ',';
    body += (items[i] as BatchItem).json;
  }
  return `${body}]}`;
}
