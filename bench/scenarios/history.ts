import type { Scenario } from '../scenario.js';
import { notRun } from '../scenario.js';

export const history: Scenario = {
  id: 'history',
  title: 'history',
  async run() {
    return notRun(this, 'skipped', 'not written yet');
  },
};
