import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

/** A harness check of `npm run capacity` on the committed full bench run (the figures are docs/capacity.md's). */
describe('the capacity model (bench/capacity.ts)', () => {
  it('checks itself against the measured run and sizes a site from its costs', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bench/capacity.ts', '--readers=300000'], {
      timeout: 60_000,
    });
    const rows = stdout.split('\n').filter((line) => /^\| [\d,]+ × \d+/.test(line));
    expect(rows.length).toBeGreaterThanOrEqual(6);
    for (const row of rows) {
      const ratios = row
        .split('|')
        .map((cell) => cell.trim())
        .filter((cell) => /^\d+\.\d\d$/.test(cell));
      expect(ratios.length, row).toBeGreaterThanOrEqual(2);
    }
    expect(stdout).toMatch(/A site of 300,000 readers/);
    expect(stdout).toMatch(/instances \(one per core, planned at 70% of it\): \*\*\d+\*\*/);
  });

  it('refuses a nonsensical option', async () => {
    await expect(run(process.execPath, ['--import', 'tsx', 'bench/capacity.ts', '--readers=-5'])).rejects.toThrow(
      /--readers must be a positive number/,
    );
  });
});
