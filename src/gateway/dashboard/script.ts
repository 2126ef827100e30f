/**
 * The dashboard's browser script (served as /admin/ui/app.js): polls /admin/dashboard every 2 s
 * with the session cookie and redraws. Text goes in through textContent only (user names, paths and
 * addresses come from strangers). Kicking a connection sends the session's CSRF token.
 */
export const DASHBOARD_SCRIPT = String.raw`'use strict'
const csrf = document.querySelector('meta[name=csrf-token]').content
const $ = (id) => document.getElementById(id)
function el(tag, text, cls) {
  const e = document.createElement(tag)
  if (text !== undefined && text !== null) e.textContent = String(text)
  if (cls) e.className = cls
  return e
}
function row(cells) {
  const tr = el('tr')
  for (const c of cells) {
    const td = el('td')
    if (c instanceof Node) td.appendChild(c)
    else td.textContent = c === null || c === undefined ? '' : String(c)
    tr.appendChild(td)
  }
  return tr
}
const fmtMs = (ms) => (ms === null ? '–' : ms < 10 ? ms.toFixed(2) + ' ms' : ms < 1000 ? Math.round(ms) + ' ms' : (ms / 1000).toFixed(2) + ' s')
const fmtAge = (s) => (s < 120 ? s + ' s' : s < 7200 ? Math.round(s / 60) + ' min' : Math.round(s / 3600) + ' h')
const fmtBytes = (n) => (n < 1024 ? n + ' B' : n < 1048576 ? (n / 1024).toFixed(1) + ' KiB' : (n / 1048576).toFixed(1) + ' MiB')

function spark(points) {
  const svg = $('spark')
  while (svg.firstChild) svg.removeChild(svg.firstChild)
  const max = Math.max(1, ...points.map((p) => p.requests))
  const w = 600 / Math.max(1, points.length - 1)
  const line = (key, color) => {
    const p = document.createElementNS('http://www.w3.org/2000/svg', 'polyline')
    p.setAttribute('points', points.map((q, i) => (i * w).toFixed(1) + ',' + (58 - (q[key] / max) * 54).toFixed(1)).join(' '))
    p.setAttribute('fill', 'none')
    p.setAttribute('stroke', color)
    p.setAttribute('stroke-width', '2')
    svg.appendChild(p)
  }
  line('requests', '#2e6bd6')
  line('errors', '#b42318')
}

async function kick(id) {
  const res = await fetch('/admin/connections/' + encodeURIComponent(id), { method: 'DELETE', headers: { 'x-csrf-token': csrf }, credentials: 'same-origin' })
  if (!res.ok) alert('Could not close ' + id + ': ' + res.status)
  refresh()
}

function draw(d) {
  $('updated').textContent = 'updated ' + new Date(d.now).toLocaleTimeString() + (d.draining ? ' · draining' : '')
  const last = d.timeline.slice(-6)
  const sum = (k) => last.reduce((a, p) => a + p[k], 0)
  $('rate').textContent = (sum('requests') / 60).toFixed(2)
  $('errors').textContent = (sum('errors') / 60).toFixed(2)
  $('p50').textContent = fmtMs(d.latency.p50Ms)
  $('p99').textContent = fmtMs(d.latency.p99Ms)
  $('inflight').textContent = d.inflight
  $('queued').textContent = d.totals.queued
  $('connections').textContent = d.totals.connections
  spark(d.timeline)
  const body = document.querySelector('#users tbody')
  body.replaceChildren()
  for (const u of d.users) {
    const conns = u.connections.length > 0 ? u.connections : [null]
    conns.forEach((c, i) => {
      const name = i === 0 ? el('span', u.user) : ''
      if (name) name.dataset.user = u.user
      const breaker = i === 0 ? el('span', u.breaker.state + (u.breaker.failures > 0 ? ' (' + u.breaker.failures + ' failures)' : ''), u.breaker.state) : ''
      if (c === null) return body.appendChild(row([name, breaker, '–']))
      const button = el('button', 'close')
      button.type = 'button'
      button.addEventListener('click', () => kick(c.id))
      body.appendChild(row([name, breaker, c.id, c.transport, c.remoteAddress, fmtAge(c.ageS), c.busy, c.channels, c.state, button]))
    })
  }
  const insp = $('inspector')
  insp.replaceChildren()
  for (const u of d.users) {
    insp.appendChild(el('h2', u.user + (u.requests.length === 0 ? ' (no requests yet)' : '')))
    if (u.requests.length === 0) continue
    const t = el('table')
    t.appendChild(row(['time', 'id', 'method', 'path', 'status', 'duration', 'TTFB', 'in', 'out', 'client', 'streamed']))
    t.firstChild.querySelectorAll('td').forEach((td) => (td.style.fontWeight = '600'))
    for (const r of u.requests) {
      const status = r.running ? 'running' : r.error ? r.status + ' ' + r.error : r.status
      t.appendChild(row([new Date(r.time).toLocaleTimeString(), r.requestId.slice(0, 12), r.method, r.path, status, fmtMs(r.durationMs), fmtMs(r.ttfbMs), fmtBytes(r.bytesIn), fmtBytes(r.bytesOut), r.client, r.websocket ? 'websocket' : r.streamed ? 'yes' : 'no']))
    }
    insp.appendChild(t)
  }
}

async function refresh() {
  try {
    const res = await fetch('/admin/dashboard', { credentials: 'same-origin' })
    if (res.status === 401) return location.assign('/admin/ui')
    draw(await res.json())
  } catch (e) {
    $('updated').textContent = 'cannot reach the gateway: ' + e.message
  }
}

$('logout').addEventListener('click', async () => {
  await fetch('/admin/logout', { method: 'POST', headers: { 'x-csrf-token': csrf }, credentials: 'same-origin' })
  location.assign('/admin/ui')
})
refresh()
setInterval(refresh, 2000)
`
