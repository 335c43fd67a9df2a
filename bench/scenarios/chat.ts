import type { Scenario } from '../scenario.js';
import { notRun } from '../scenario.js';

export const chat: Scenario = {
  id: 'chat',
  title: 'chat',
  async run() {
    return notRun(this, 'skipped', 'not written yet');
  },
};
