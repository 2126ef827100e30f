/**
 * The dashboard's HTML: a login form, or the page that polls /admin/dashboard every 2 s and draws
 * it (dashboard/script.ts). Plain HTML and a script served from /admin/ui/app.js, no build step;
 * the Content-Security-Policy of routes/dashboard.ts allows no inline script.
 */

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2330;color:#fff;padding:10px 20px;display:flex;gap:24px;align-items:center}
header h1{font-size:18px;margin:0 16px 0 0}
main{padding:16px 20px;display:grid;gap:16px}
section{background:#fff;border:1px solid #dde1e8;border-radius:6px;padding:12px 16px}
h2{font-size:15px;margin:0 0 8px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:3px 8px;border-bottom:1px solid #eef0f4;font-variant-numeric:tabular-nums;white-space:nowrap}
th{font-weight:600;color:#5a6375}
.figures{display:flex;gap:28px;flex-wrap:wrap}
.figure b{display:block;font-size:20px}
.open{color:#b42318;font-weight:600}.half-open{color:#b54708;font-weight:600}.closed{color:#067647}
.err{color:#b42318}
button{font:inherit;cursor:pointer}
form.login{max-width:360px;margin:80px auto;background:#fff;padding:24px;border:1px solid #dde1e8;border-radius:6px;display:grid;gap:10px}
svg{background:#fafbfc;border:1px solid #eef0f4}
`

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)

/** The login form; `problem` (plain text) is shown above it. */
export function loginPage(problem?: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Burrow — sign in</title>
<meta name="viewport" content="width=device-width,initial-scale=1"><style>${STYLE}</style></head><body>
<form class="login" method="post" action="/admin/login">
<h2>Burrow dashboard</h2>
${problem === undefined ? '' : `<p class="err" id="problem">${escapeHtml(problem)}</p>`}
<label>Admin token <input type="password" name="token" autocomplete="current-password" required autofocus style="width:100%"></label>
<button type="submit">Sign in</button>
</form></body></html>`
}

/** The dashboard; `csrf` is the session's token, which the script sends on state-changing calls. */
export function dashboardPage(csrf: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Burrow dashboard</title>
<meta name="viewport" content="width=device-width,initial-scale=1"><meta name="csrf-token" content="${escapeHtml(csrf)}">
<style>${STYLE}</style></head><body>
<header><h1>Burrow</h1><span id="updated">loading…</span><span style="flex:1"></span><button id="logout" type="button">Sign out</button></header>
<main>
<section><div class="figures">
<div class="figure">requests/s<b id="rate">–</b></div>
<div class="figure">errors/s<b id="errors">–</b></div>
<div class="figure">p50<b id="p50">–</b></div>
<div class="figure">p99<b id="p99">–</b></div>
<div class="figure">in flight<b id="inflight">–</b></div>
<div class="figure">queued<b id="queued">–</b></div>
<div class="figure">connections<b id="connections">–</b></div>
</div>
<h2 style="margin-top:12px">Requests and 5xx per 10 s, last 5 minutes</h2>
<svg id="spark" width="600" height="60" viewBox="0 0 600 60" role="img" aria-label="request rate"></svg>
</section>
<section><h2>Users and connections</h2><table id="users"><thead><tr>
<th>user</th><th>breaker</th><th>connection</th><th>transport</th><th>remote</th><th>age</th><th>busy</th><th>channels</th><th>state</th><th></th>
</tr></thead><tbody></tbody></table></section>
<section><h2>Recent requests</h2><div id="inspector"></div></section>
</main>
<script src="/admin/ui/app.js"></script></body></html>`
}
