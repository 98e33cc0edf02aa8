/**
 * What PostgreSQL does for a statement, for tests that hold a query to an index: the nodes of
 * its plan (EXPLAIN, FORMAT JSON), flattened, and how many rows a table's nodes read.
 */
export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  Plans?: PlanNode[];
}

interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

/** Every node of the plan of `text` (with ANALYZE: it runs, so wrap writes in a transaction). */
export async function planNodes(db: Queryable, text: string, values: unknown[], opts: { analyze?: boolean } = {}): Promise<PlanNode[]> {
  const { rows } = await db.query(`EXPLAIN (${opts.analyze ? 'ANALYZE, ' : ''}FORMAT JSON) ${text}`, values);
  const plan = (rows[0] as { 'QUERY PLAN': [{ Plan: PlanNode }] })['QUERY PLAN'][0].Plan;
  const flatten = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(flatten)];
  return flatten(plan);
}

/** Rows the given nodes touched (kept or filtered out), over all their loops: an ANALYZE plan's. */
export function rowsRead(nodes: PlanNode[]): number {
  return nodes.reduce((sum, n) => sum + ((n['Actual Rows'] ?? 0) + (n['Rows Removed by Filter'] ?? 0)) * (n['Actual Loops'] ?? 1), 0);
}
