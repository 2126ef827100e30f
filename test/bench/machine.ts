/** What the run ran on: cores, memory, CPU, kernel and every runtime's and tool's version. */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from '../support/processes.ts'
import { versionOf } from './tools.ts'

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()
  } catch {
    return '?'
  }
}

export function describeMachine(): Record<string, string> {
  let cpu = '?'
  try {
    cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '?'
  } catch {}
  const mem = sh('free', ['-h']).split('\n').find((l) => l.startsWith('Mem:'))?.split(/\s+/) ?? []
  return {
    nproc: sh('nproc', []),
    memory: mem.length > 1 ? `${mem[1]} total, ${mem[6] ?? '?'} available (free -h)` : '?',
    cpu,
    kernel: sh('uname', ['-r']),
    bun: versionOf(process.execPath, ['--version']),
    deno: versionOf(join(ROOT, 'node_modules/deno/deno'), ['--version']),
    node: versionOf('node', ['--version']),
    openssh: versionOf('ssh', ['-V']),
    wrk: versionOf('wrk', ['--version']).replace(/\s*\[.*$/, ''),
    curl: versionOf('curl', ['--version']).split(' ').slice(0, 2).join(' '),
    commit: `${sh('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'])}${sh('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src']) === '' ? '' : ' (src/ has uncommitted changes)'}`,
    'load average at start': loadAverage(),
  }
}

/** 1, 5 and 15 minute load averages: a busy shared machine shows here first. */
export function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
  } catch {
    return '?'
  }
}
