import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { forwarderLoggerOptions, SEVERITY_BY_LEVEL } from './logging.js';

describe('forwarder log lines', () => {
  it('carry Cloud Logging severity for every pino level, the text as message and an RFC 3339 time', () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l));
        done();
      },
    });
    const log = pino(forwarderLoggerOptions('trace'), stream);
    const expected = {
      trace: 'DEBUG',
      debug: 'DEBUG',
      info: 'INFO',
      warn: 'WARNING',
      error: 'ERROR',
      fatal: 'CRITICAL',
    } as const;
    expect(SEVERITY_BY_LEVEL).toEqual(expected);
    for (const level of Object.keys(expected) as (keyof typeof expected)[]) {
      log[level]({ udpPort: 7846 }, `a ${level} line`);
    }
    expect(lines).toHaveLength(6);
    for (const [i, [level, severity]] of Object.entries(expected).entries()) {
      const line = lines[i];
      expect(line, level).toMatchObject({ severity, message: `a ${level} line`, udpPort: 7846 });
      expect(line, level).not.toHaveProperty('level');
      expect(line, level).not.toHaveProperty('msg');
      expect(String(line?.time), level).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
  });
});
