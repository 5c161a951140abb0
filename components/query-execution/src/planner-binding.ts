// The flow's view of @veil/dp-sql: plan (free, nothing read) and run (reads the data through generated
// SQL, draws the noise from the CSPRNG). Rejections become 400 bad_query naming the construct.
import { estimate, plan, QueryRejectedError, run } from '@veil/dp-sql';
import type { QueryPlan } from '@veil/dp-sql';
import { CryptoRandom } from '@veil/mechanisms';
import { QueryError } from './errors.js';
import type { QueryPlanner } from './ports.js';

export function dpSqlPlanner(): QueryPlanner {
  // One buffered CSPRNG for all runs: the event loop runs one sampler at a time.
  const rng = new CryptoRandom();
  return {
    plan: async (sql, metadata, privacy) => {
      try {
        const planned = plan(sql, metadata, { epsilon: privacy.epsilon, delta: privacy.delta });
        const expected = estimate(planned);
        return { cost: planned.cost, accuracy: { columns: expected.columns, partitionSelection: expected.partitionSelection }, native: planned };
      } catch (error) {
        if (error instanceof QueryRejectedError) {
          const code = error.code === 'invalid_budget' ? 'invalid_request' : 'bad_query';
          throw new QueryError(code, error.message, { reason: error.code, construct: error.construct });
        }
        throw error;
      }
    },
    run: async (planned, adapter, options) => {
      const answer = await run(planned.native as QueryPlan, adapter, rng, options);
      return { columns: answer.columns.map((c) => c.name), rows: answer.rows, accuracy: answer.accuracy, groups: answer.groups };
    },
  };
}
