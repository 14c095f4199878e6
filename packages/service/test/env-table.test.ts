import { describe, expect, it } from 'vitest';
import {
  envTableOf,
  keyList,
  port,
  renderEnvTable,
  replaceEnvTable,
  string,
  tableCells,
} from '../src/index.ts';

const schema = {
  port: port('PORT', { default: 8080, description: 'listen port (`0` = ephemeral)' }),
  keys: keyList('INGESTION_KEY', { required: true, description: 'keys, `new,old` while rotating' }),
  project: string('GOOGLE_CLOUD_PROJECT', { description: 'a | b' }),
};

describe('the env table', () => {
  it('renders variable, default and description, secrets marked, pipes escaped', () => {
    expect(renderEnvTable(schema)).toBe(
      [
        '| variable | default | description |',
        '| --- | --- | --- |',
        '| `PORT` | `8080` | listen port (`0` = ephemeral) |',
        '| `INGESTION_KEY` | required | keys, `new,old` while rotating. Secret: never logged |',
        '| `GOOGLE_CLOUD_PROJECT` | unset | a \\| b |',
      ].join('\n'),
    );
  });

  it('is replaced between the markers and read back, padding aside', () => {
    const readme = '# app\n\n<!-- env:begin -->\nold\n<!-- env:end -->\n\nafter\n';
    const written = replaceEnvTable(readme, renderEnvTable(schema));
    expect(written.startsWith('# app\n\n<!-- env:begin -->\n\n| variable')).toBe(true);
    expect(written.endsWith('|\n\n<!-- env:end -->\n\nafter\n')).toBe(true);
    const padded = envTableOf(written)!
      .split('\n')
      .map((row) => row.replace(/ \| /g, '   |   ').replace('| --- |', '| ------- |'))
      .join('\n');
    expect(tableCells(padded)).toEqual(tableCells(renderEnvTable(schema)));
    // A changed default is a different table.
    const changed = { ...schema, port: port('PORT', { default: 9090, description: 'x' }) };
    expect(tableCells(envTableOf(written))).not.toEqual(tableCells(renderEnvTable(changed)));
    expect(() => replaceEnvTable('# no markers', 'x')).toThrow(/markers/);
    expect(envTableOf('# no markers')).toBeUndefined();
  });
});
