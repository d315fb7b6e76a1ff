import { execFileSync } from 'node:child_process';
import { cpus, loadavg, release, totalmem } from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGB: number;
  node: string;
  kernel: string;
  /** Soft limit of open files of the generator's shell (server processes raise theirs to 20,000). */
  openFilesLimit: string;
  /** 1-, 5- and 15-minute load averages when the run started. Other work on the machine shows here. */
  loadavgStart: number[];
  loadavgEnd: number[];
}

export function machineInfo(): MachineInfo {
  let openFilesLimit = 'unknown';
  try {
    openFilesLimit = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
  } catch {
    // Reported as unknown.
  }
  const cpuList = cpus();
  return {
    cpuModel: cpuList[0]?.model ?? 'unknown',
    cores: cpuList.length,
    memoryGB: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    kernel: release(),
    openFilesLimit,
    loadavgStart: loadavg().map((l) => Math.round(l * 100) / 100),
    loadavgEnd: [],
  };
}
