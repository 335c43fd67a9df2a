import type { Scenario } from '../scenario.js';
import { notRun } from '../scenario.js';

export const memory: Scenario = {
  id: 'memory',
  title: 'memory',
  async run() {
    return notRun(this, 'skipped', 'not written yet');
  },
};
