'use strict';
// The user's code: assets written in JavaScript. Everything else in this directory is the
// plumbing any language needs once to speak Weir's wire contract.
//
// An asset is a plain object:
//   key          'total' or 'raw/orders' (segments joined by '/')
//   deps         keys of the assets it reads; their values arrive in `inputs`
//   group, description, owners, kinds, tags, metadata   shown in the UI and API
//   compute({ inputs, config, log, signal })   returns { value, metadata } (may be async);
//                config is run_config.ops.<step>.config, signal aborts on cancel
//   checks       [{ name, description, blocking, evaluate(value) -> { passed, metadata } }]
//   freshness    { failWindowSeconds, warnWindowSeconds } or
//                { deadlineCron, lowerBoundDeltaSeconds, timezone }: when it counts as stale
//
// Metadata values keep their JavaScript type on the wire: a string is text, a whole
// number int, any other number float, a boolean bool, a URL url, a Date timestamp, an
// array or object json, null null.

const { setTimeout: sleep } = require('node:timers/promises');

class ForecastUnavailableError extends Error {
  name = 'ForecastUnavailableError';
}

const assets = [
  {
    key: 'numbers',
    group: 'arithmetic',
    description: 'A handful of numbers, as a slow upstream feed would deliver them.',
    owners: ['team:analytics', 'ada@example.com'],
    kinds: ['javascript', 'json'],
    tags: { tier: 'bronze' },
    metadata: { source: 'generated in JavaScript', docs: new URL('https://example.com/numbers') },
    async compute({ config, log, signal }) {
      // run_config {"ops": {"numbers": {"config": {"delay_seconds": 2}}}} makes the feed slow.
      if (config.delay_seconds) {
        log(`waiting ${config.delay_seconds} s for the feed`);
        await sleep(config.delay_seconds * 1000, undefined, { signal });
      }
      const numbers = [3, 1, 4, 1, 5, 9, 2, 6];
      return { value: numbers, metadata: { rows: numbers.length, preview: numbers.slice(0, 3) } };
    },
  },
  {
    key: 'total',
    deps: ['numbers'],
    group: 'arithmetic',
    description: 'The sum of the numbers.',
    owners: ['team:analytics'],
    kinds: ['javascript'],
    tags: { tier: 'silver' },
    metadata: { unit: 'count', contains_pii: false },
    freshness: { failWindowSeconds: 86400, warnWindowSeconds: 43200 },
    compute({ inputs }) {
      const total = inputs.numbers.reduce((sum, n) => sum + n, 0);
      return { value: total, metadata: { rows: 1, total, mean: total / inputs.numbers.length } };
    },
    checks: [
      {
        name: 'total_is_positive',
        description: 'A sum of counts is never negative or zero.',
        blocking: true,
        evaluate: (total) => ({ passed: total > 0, metadata: { total } }),
      },
    ],
  },
  {
    key: 'forecast',
    deps: ['total'],
    group: 'forecasting',
    description: 'Always fails, to show how a failed step is reported.',
    owners: ['team:analytics'],
    kinds: ['javascript'],
    compute() {
      throw new ForecastUnavailableError('the forecasting service answered 503, try again later');
    },
  },
];

module.exports = { assets };
