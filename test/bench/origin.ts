/**
 * The bench's local service: exactly the shapes the workloads need and nothing else, so the origin
 * costs the same behind every tunnel. Run as its own process: `bun test/bench/origin.ts [port]`
 * prints `listening <port>`.
 *
 * - `GET /1k`             exactly 1024 bytes of body (the "small GET")
 * - `GET /download?size=N` N bytes of zeros in 64 KiB writes, honouring backpressure
 * - `POST /upload`         counts the body, answers `{"size":N}`
 * - `GET /sse?n=&every=`   n events, one every `every` ms, each carrying `sentAt` as a
 *                          high-resolution epoch in ms (`performance.timeOrigin + performance.now()`)
 */
import { createServer } from 'node:http'

const SMALL = Buffer.alloc(1024, 'b')
const CHUNK = Buffer.alloc(64 * 1024)

/** Wall-clock ms with sub-ms resolution, comparable across processes on one machine. */
const preciseNow = () => performance.timeOrigin + performance.now()

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://origin')
  switch (url.pathname) {
    case '/1k':
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '1024' })
      res.end(SMALL)
      return
    case '/download': {
      const size = Number(url.searchParams.get('size') ?? '1048576')
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(size) })
      let sent = 0
      const pump = () => {
        while (sent < size) {
          const n = Math.min(CHUNK.length, size - sent)
          const ok = res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))
          sent += n
          if (!ok) return void res.once('drain', pump)
        }
        res.end()
      }
      pump()
      return
    }
    case '/upload': {
      let size = 0
      req.on('data', (c: Buffer) => (size += c.length))
      req.on('end', () => {
        const body = JSON.stringify({ size })
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) })
        res.end(body)
      })
      return
    }
    case '/sse': {
      const n = Number(url.searchParams.get('n') ?? '50')
      const every = Number(url.searchParams.get('every') ?? '20')
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
      res.flushHeaders()
      let i = 0
      const timer = setInterval(() => {
        res.write(`id: ${i}\ndata: {"i":${i},"sentAt":${preciseNow()}}\n\n`)
        if (++i >= n) {
          clearInterval(timer)
          res.end()
        }
      }, every)
      req.on('close', () => clearInterval(timer))
      return
    }
    default:
      res.writeHead(404, { 'content-type': 'text/plain', 'content-length': '9' })
      res.end('not found')
  }
})

const port = Number(process.argv[2] ?? '0')
server.listen(port, '127.0.0.1', () => {
  const addr = server.address()
  console.log(`listening ${typeof addr === 'object' && addr !== null ? addr.port : port}`)
})
process.on('SIGTERM', () => process.exit(0))
