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
  }
}
