/**
 * The short form of the fault table in `npm test`: one test per row of a group, each on the
 * group's own chaos stack (private broker node and PostgreSQL clusters, services as processes),
 * each asserting what every row must read (row-result.ts) and what its fault must show
 * (scenarios.ts). The groups are separate files so the runner can take two at a time.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startChaosStack, type ChaosStack } from './chaos-stack.js';
import { markdownTable } from './fault-table.js';
import { SHORT } from './profiles.js';
import { runRow } from './run-row.js';
import { scenariosOf, type ScenarioGroup } from './scenarios.js';

export function describeChaosRows(group: ScenarioGroup, title: string): void {
  describe(title, () => {
    let stack: ChaosStack;
    before(async () => {
      stack = await startChaosStack();
    });
    after(async () => {
      await stack?.remove();
    });

    for (const scenario of scenariosOf(group)) {
      it(`When ${scenario.fault(SHORT)} under a steady send load, then nothing accepted is lost, duplicated or out of order, and it all resumes by itself`, async (t) => {
        const row = await runRow(stack, scenario, SHORT);
        t.diagnostic(markdownTable([row]).split('\n').at(-1) as string);
        if (row.problems.length) t.diagnostic(`the services' logs: ${stack.saveLogs()}`);
        assert.deepEqual(row.problems, [], JSON.stringify(row, null, 1));
      });
    }
  });
}
