import { describe, expect, it } from 'vitest';
import { readInstanceCount } from '../../src/local/functions-host/instances.js';

describe('the instance count of npm start', () => {
  it('is 1 by default, FUNCTIONS_INSTANCES when set, and --instances over both', () => {
    expect(readInstanceCount([], {})).toBe(1);
    expect(readInstanceCount([], { FUNCTIONS_INSTANCES: '3' })).toBe(3);
    expect(readInstanceCount(['--instances', '4'], { FUNCTIONS_INSTANCES: '3' })).toBe(4);
    expect(readInstanceCount(['--instances=2'], {})).toBe(2);
  });

  it('refuses what is not a whole number from 1 to 16, naming where it came from', () => {
    expect(() => readInstanceCount([], { FUNCTIONS_INSTANCES: '0' })).toThrow(
      /FUNCTIONS_INSTANCES 0 .*1 to 16/,
    );
    expect(() => readInstanceCount(['--instances', '2.5'], {})).toThrow(/--instances 2\.5/);
    expect(() => readInstanceCount(['--instances', '17'], {})).toThrow(/1 to 16/);
  });
});
