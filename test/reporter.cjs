// Mocha's spec reporter, plus a machine-readable count written to $MLPIPE_TEST_RESULTS (if set),
// which .ci/run turns into its closing line "N passed, N failed".
'use strict';
const fs = require('node:fs');
const Mocha = require('mocha');

class SpecWithCounts extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const out = process.env.MLPIPE_TEST_RESULTS;
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      if (!out) return;
      const { passes, failures, pending, tests } = this.stats;
      fs.writeFileSync(out, JSON.stringify({ passes, failures, pending, tests }));
    });
  }
}
module.exports = SpecWithCounts;
