import { parser } from '@prometheus-io/lezer-promql';

/** What a PromQL expression is made of, as Prometheus's own grammar reads it. */
export interface ParsedPromql {
  /** Text around each syntax error (empty when the expression parses). */
  errors: string[];
  /** Metric names the expression selects. */
  metrics: string[];
}

/** Parses `query` with `@prometheus-io/lezer-promql` (the grammar of Prometheus's UI). */
export function parsePromql(query: string): ParsedPromql {
  const errors: string[] = [];
  const metrics = new Set<string>();
  parser.parse(query).iterate({
    enter(node) {
      if (node.type.isError) {
        errors.push(
          `at ${node.from}: ${JSON.stringify(query.slice(Math.max(0, node.from - 20), node.to + 20))}`,
        );
      }
      if (node.type.name === 'Identifier' && node.node.parent?.type.name === 'VectorSelector') {
        metrics.add(query.slice(node.from, node.to));
      }
    },
  });
  return { errors, metrics: [...metrics] };
}
