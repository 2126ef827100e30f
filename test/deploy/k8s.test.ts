/**
 * deploy/k8s, checked without a cluster: every object validated against the Kubernetes API schema
 * (kubernetes-models' validators for types and required fields, and its TypeScript interfaces
 * through tsc for unknown fields, as kubeconform -strict would), the promises of
 * deploy/k8s/README.md asserted, and two "pods" run here as processes from one Secret: the init
 * container's own command, then the gateway with the container's environment.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { Deployment } from 'kubernetes-models/apps/v1'
import { Service } from 'kubernetes-models/v1'
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { signToken } from '../../src/auth/tokens.ts'
import { killGroup, runCommand, startCommand, userEnv } from '../support/commands.ts'
import { ROOT, tempDir } from '../support/processes.ts'

const DIR = join(ROOT, 'deploy/k8s')
const work = tempDir('burrow-k8s-')
afterAll(() => rmSync(work, { recursive: true, force: true }))

// Loose shapes: the schema checks below are what make them trustworthy.
type Obj = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; spec: any }
type EnvVar = { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }
type Container = { name: string; image: string; command?: string[]; args?: string[]; env?: EnvVar[]; ports?: { name: string; containerPort: number }[]; volumeMounts?: { name: string; mountPath: string }[]; [k: string]: any }

const manifests = readdirSync(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
const objects: { file: string; obj: Obj }[] = manifests.flatMap((file) => {
  const parsed = Bun.YAML.parse(readFileSync(join(DIR, file), 'utf8')) as Obj | Obj[]
  return (Array.isArray(parsed) ? parsed : [parsed]).map((obj) => ({ file, obj }))
})
const MODELS = {
  Deployment: { model: Deployment, type: "import type { IDeployment as T } from 'kubernetes-models/apps/v1/Deployment'" },
  Service: { model: Service, type: "import type { IService as T } from 'kubernetes-models/v1/Service'" },
} as const

function one(kind: keyof typeof MODELS): Obj {
  const found = objects.filter((o) => o.obj.kind === kind)
  expect(found.length).toBe(1)
  return found[0]!.obj
}
const deployment = one('Deployment')
const service = one('Service')
const pod = deployment.spec.template.spec
const gateway: Container = pod.containers.find((c: Container) => c.name === 'gateway')
const init: Container = pod.initContainers.find((c: Container) => c.name === 'host-key')
const envOf = (c: Container, name: string) => c.env?.find((e) => e.name === name)

describe('schema', () => {
  test('every object is a Deployment or a Service that passes the API schema', () => {
    expect(objects.length).toBeGreaterThan(0)
    for (const { file, obj } of objects) {
      const entry = MODELS[obj.kind as keyof typeof MODELS]
      expect(entry, `${file}: kind ${obj.kind}`).toBeDefined()
      expect(() => new entry.model(obj as never).validate(), file).not.toThrow()
    }
  })

  test('no field the API does not know (tsc excess-property checks against the API types)', async () => {
    const dir = join(work, 'strict')
    mkdirSync(dir)
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
    const files = objects.map(({ file, obj }, i) => {
      const name = `m${i}.ts`
      writeFileSync(join(dir, name), `// ${file}\n${MODELS[obj.kind as keyof typeof MODELS].type}\nexport const o: T = ${JSON.stringify(obj, null, 2)}\n`)
      return name
    })
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', noEmit: true, skipLibCheck: true, types: [], typeRoots: [] }, files }),
    )
    const r = await runCommand('node', [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', dir], { cwd: dir, env: userEnv(), timeoutMs: 60_000 })
    expect(r.stdout + r.stderr).toBe('')
    expect(r.code).toBe(0)
  })

  test('kustomization.yaml lists every manifest', () => {
    const k = Bun.YAML.parse(readFileSync(join(DIR, 'kustomization.yaml'), 'utf8')) as { kind: string; resources: string[] }
    expect(k.kind).toBe('Kustomization')
    expect([...k.resources].sort()).toEqual([...manifests].sort())
  })
})

describe('what deploy/k8s/README.md promises', () => {
  test('one replica, replaced with Recreate: never two gateways splitting agents from consumers', () => {
    expect(deployment.spec.replicas).toBe(1)
    expect(deployment.spec.strategy.type).toBe('Recreate')
  })

  test('readiness on /readyz and liveness on /healthz, on the port the gateway listens on', () => {
    const http = gateway.ports!.find((p) => p.name === 'http')!
    expect(String(http.containerPort)).toBe(envOf(gateway, 'PORT')!.value!)
    expect(gateway.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' })
    expect(gateway.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' })
  })

  test('terminationGracePeriodSeconds is above SHUTDOWN_GRACE_PERIOD plus the preStop sleep', () => {
    const graceMs = Number(envOf(gateway, 'SHUTDOWN_GRACE_PERIOD')!.value)
    const [cmd, seconds] = gateway.lifecycle.preStop.exec.command as string[]
    expect(cmd).toBe('sleep')
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(graceMs + Number(seconds) * 1000)
  })

  test("the gateway runs the image's entrypoint (no npm), as a non-root user", () => {
    expect(gateway.command).toBeUndefined()
    expect(gateway.args).toEqual(['serve'])
    expect(init.image).toBe(gateway.image)
    expect(pod.securityContext.runAsNonRoot).toBe(true)
    expect(pod.securityContext.runAsUser).not.toBe(0)
  })

  test('the keys come from one Secret: host key by file, token secret and admin token by env', () => {
    const secretName = pod.volumes.find((v: { name: string }) => v.name === 'keys').secret.secretName
    expect(envOf(gateway, 'BURROW_SECRET')!.valueFrom!.secretKeyRef).toEqual({ name: secretName, key: 'secret' })
    expect(envOf(gateway, 'BURROW_ADMIN_TOKEN')!.valueFrom!.secretKeyRef).toEqual({ name: secretName, key: 'admin_token' })
    // The init container fills the data dir the gateway reads, on a volume both mount.
    expect(envOf(init, 'BURROW_DATA_DIR')!.value).toBe(envOf(gateway, 'BURROW_DATA_DIR')!.value!)
    const dataMount = (c: Container) => c.volumeMounts!.find((m) => m.name === 'data')!.mountPath
    expect(dataMount(init)).toBe(dataMount(gateway))
    expect(envOf(gateway, 'BURROW_DATA_DIR')!.value!.startsWith(dataMount(gateway) + '/')).toBe(true)
  })

  test('the Service selects the pods and targets a named container port', () => {
    expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels)
    for (const [k, v] of Object.entries(deployment.spec.selector.matchLabels)) expect(deployment.spec.template.metadata.labels[k]).toBe(v)
    const names = gateway.ports!.map((p) => p.name)
    for (const p of service.spec.ports as { targetPort: string }[]) expect(names).toContain(p.targetPort)
  })
})

describe('two pods from one Secret, run here', () => {
  test('both present the host key of the Secret and accept the same tokens and admin token', async () => {
    // The Secret's files, made as deploy/k8s/README.md says.
    const secretDir = join(work, 'secret')
    mkdirSync(secretDir)
    const keygen = await runCommand('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'burrow', '-f', join(secretDir, 'ssh_host_ed25519_key')], { cwd: work, env: userEnv(), timeoutMs: 10_000 })
    expect(keygen.code, keygen.stderr).toBe(0)
    const fingerprint = (await runCommand('ssh-keygen', ['-lf', join(secretDir, 'ssh_host_ed25519_key.pub')], { cwd: work, env: userEnv(), timeoutMs: 10_000 })).stdout.split(' ')[1]!
    const secret = 'k8s-test-secret-0123456789-abcdefghijklmnop'
    const adminToken = 'k8s-admin-token-0123456789'
    const token = await signToken(secret, 'alice', 600)

    const pods = []
    try {
      for (const name of ['pod-a', 'pod-b']) {
        // Mount points become temp dirs; everything else is the manifest's.
        const mount = join(work, name)
        mkdirSync(mount)
        const dataDir = envOf(gateway, 'BURROW_DATA_DIR')!.value!.replace(/^\/data/, mount)
        const initEnv = { BURROW_DATA_DIR: dataDir, HOST_KEY_FILE: join(secretDir, 'ssh_host_ed25519_key') }
        const [cmd, ...args] = init.command!
        const copied = await runCommand(cmd!, args, { cwd: work, env: userEnv(initEnv), timeoutMs: 10_000 })
        expect(copied.code, copied.stderr).toBe(0)
        expect(statSync(join(dataDir, 'ssh_host_ed25519_key')).mode & 0o777).toBe(0o600)

        const env: Record<string, string> = {}
        for (const e of gateway.env!) {
          if (e.value !== undefined) env[e.name] = e.value
          else env[e.name] = { secret, admin_token: adminToken }[e.valueFrom!.secretKeyRef!.key]!
        }
        Object.assign(env, { BURROW_DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn' })
        // The image's entrypoint after tini: bun (this test's runtime) on src/cli.ts, with the args.
        const gw = startCommand(process.execPath, ['src/cli.ts', ...gateway.args!], { cwd: ROOT, env: userEnv(env) })
        pods.push(gw)
        const m = await gw.waitFor(/Burrow gateway on http:\/\/127\.0\.0\.1:(\d+)/, 30_000)
        const shown = await gw.waitFor(/SSH host key: (SHA256:\S+)/, 5_000)
        expect(shown[1]).toBe(fingerprint)
        const base = `http://127.0.0.1:${m[1]}`
        expect((await fetch(`${base}/readyz`)).status).toBe(200)
        expect((await fetch(`${base}/admin/stats`, { headers: { authorization: `Bearer ${adminToken}` } })).status).toBe(200)
        // A valid token for a tunnel with no agent: 404, where a token signed elsewhere gets 401.
        const res = await fetch(`${base}/t/alice/`, { headers: { authorization: `Bearer ${token}` } })
        expect(res.status).toBe(404)
      }
      for (const gw of pods) {
        process.kill(gw.pid, 'SIGTERM')
        expect(await gw.exited).toBe(0)
      }
    } finally {
      for (const gw of pods) killGroup(gw.pid)
    }
  })
})
