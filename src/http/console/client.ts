// The console's browser code: plain JavaScript, no framework, no build step, no third-party request. It talks
// only to this Worker's JSON API with the token kept in sessionStorage and sent as a Bearer header (never in a
// URL). Kept free of template literals so it can live in this string as it is.

export const CONSOLE_JS = String.raw`"use strict";
(function () {
  var TOKEN_KEY = "edge-etl-console:token";
  var ACCOUNT_KEY = "edge-etl-console:account";
  var main = document.getElementById("main");
  var errorBox = document.getElementById("error");
  var notice = document.getElementById("notice");
  var who = document.getElementById("who");
  var timer = null;
  var runsAvailable = {};

  function token() { return sessionStorage.getItem(TOKEN_KEY); }
  function ownAccount() { return sessionStorage.getItem(ACCOUNT_KEY); }

  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") el.textContent = String(v);
      else if (k.slice(0, 2) === "on") el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined || c === false) continue;
      if (Array.isArray(c)) c.forEach(function (x) { if (x) el.appendChild(typeof x === "string" ? document.createTextNode(x) : x); });
      else el.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
    }
    return el;
  }

  function fill(el, list) { el.replaceChildren.apply(el, list.filter(function (x) { return x !== null && x !== undefined && x !== false; })); }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }
  function say(message) { notice.textContent = message || ""; }

  function ApiError(status, code, message) { this.status = status; this.code = code; this.message = message; }

  function api(method, path, body) {
    var init = { method: method, headers: { authorization: "Bearer " + token() } };
    if (body !== undefined) { init.headers["content-type"] = "application/json"; init.body = JSON.stringify(body); }
    return fetch(path, init).then(function (res) {
      if (res.status === 204) return null;
      return res.text().then(function (text) {
        var json = null;
        try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
        if (!res.ok) {
          var err = json && json.error ? json.error : { code: "http_" + res.status, message: "HTTP " + res.status };
          throw new ApiError(res.status, err.code, err.message);
        }
        return json;
      });
    });
  }
  // Errors are shown as the API's own message, with its code.
  function fail(e) {
    if (e instanceof ApiError) {
      // A signed-in session whose token is refused goes back to the sign-in form, the message kept.
      if (e.status === 401 && token()) signOut(true);
      showError(e.code + ": " + e.message);
    } else showError(String(e && e.message ? e.message : e));
  }
  function act(button, work) {
    button.disabled = true; showError("");
    return Promise.resolve().then(work).catch(fail).then(function () { button.disabled = false; });
  }

  var enc = encodeURIComponent;
  function accountPath(a) { return "/admin/accounts/" + enc(a); }
  function fmtTime(v) {
    if (v === null || v === undefined || v === "") return "—";
    var d = typeof v === "number" ? new Date(v) : new Date(String(v).replace(" ", "T").replace(/([+-]\d\d)$/, "$1:00"));
    if (isNaN(d.getTime())) return String(v);
    return d.toLocaleString();
  }
  function ago(v) {
    if (v === null || v === undefined) return "never";
    var t = typeof v === "number" ? v : Date.parse(String(v).replace(" ", "T").replace(/([+-]\d\d)$/, "$1:00"));
    if (isNaN(t)) return String(v);
    return dur(Date.now() - t) + " ago";
  }
  function dur(ms) {
    if (ms === null || ms === undefined || isNaN(ms)) return "—";
    var s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return s + "s";
    var m = Math.floor(s / 60); if (m < 60) return m + "m" + String(s % 60).padStart(2, "0") + "s";
    var hh = Math.floor(m / 60); if (hh < 48) return hh + "h" + String(m % 60).padStart(2, "0") + "m";
    return Math.floor(hh / 24) + "d";
  }
  function num(v) { return v === null || v === undefined ? "—" : Number(v).toLocaleString(); }
  function cell(label, content, cls) { return h("td", { "data-label": label, class: cls }, content); }
  function table(headers, rows, caption) {
    return h("div", { class: "scroll" }, h("table", { class: "stack" },
      caption ? h("caption", { class: "muted", text: caption }) : null,
      h("thead", null, h("tr", null, headers.map(function (x) { return h("th", { scope: "col", text: x }); }))),
      h("tbody", null, rows)));
  }

  // ---- sign in ----------------------------------------------------------------------------------------------
  function signOut(expired) {
    sessionStorage.removeItem(TOKEN_KEY); sessionStorage.removeItem(ACCOUNT_KEY);
    // No hashchange (which clears the error box): the refusal stays readable above the form.
    history.replaceState(null, "", "#/signin");
    say(expired ? "The token was refused; sign in again." : "Signed out.");
    render();
  }
  function viewSignIn() {
    var tokenInput = h("input", { id: "token", name: "token", type: "password", autocomplete: "off", required: true });
    var accountInput = h("input", { id: "account", name: "account", autocomplete: "off", placeholder: "only with an account key" });
    var submit = h("button", { type: "submit", text: "Sign in" });
    var form = h("form", { class: "card", onsubmit: function (ev) {
      ev.preventDefault();
      var t = tokenInput.value.trim(); var a = accountInput.value.trim();
      sessionStorage.setItem(TOKEN_KEY, t);
      act(submit, function () {
        // An account key reaches only its account; the admin token lists them all.
        var check = a ? api("GET", accountPath(a)) : api("GET", "/admin/accounts?limit=1");
        return check.then(function () {
          if (a) sessionStorage.setItem(ACCOUNT_KEY, a); else sessionStorage.removeItem(ACCOUNT_KEY);
          say("Signed in.");
          location.hash = a ? "#/a/" + enc(a) : "#/accounts";
        }, function (e) { sessionStorage.removeItem(TOKEN_KEY); throw e; });
      });
    } },
      h("h1", { text: "Sign in" }),
      h("p", { class: "muted", text: "Use the admin token, or an account's API key with its account id. The token stays in this tab's session storage." }),
      h("label", { for: "token" }, "Token (admin token or account API key)", tokenInput),
      h("label", { for: "account" }, "Account id (with an account key)", accountInput),
      h("p", null, submit));
    return [form];
  }

  // ---- accounts ----------------------------------------------------------------------------------------------
  function viewAccounts() {
    var box = h("div");
    var idInput = h("input", { id: "open-account", required: true });
    var open = h("form", { class: "inline", onsubmit: function (ev) { ev.preventDefault(); location.hash = "#/a/" + enc(idInput.value.trim()); } },
      h("label", { for: "open-account" }, "Open account by id", idInput), h("button", { type: "submit", text: "Open" }));
    api("GET", "/admin/accounts?limit=1000").then(function (r) {
      box.replaceChildren(r.accounts.length ? table(["Account", "Name", "Created"], r.accounts.map(function (a) {
        return h("tr", null, cell("Account", h("a", { href: "#/a/" + enc(a.id), text: a.id })), cell("Name", a.name), cell("Created", fmtTime(a.createdAt)));
      })) : h("p", { text: "No accounts yet." }));
    }).catch(fail);
    return [h("h1", { text: "Accounts" }), open, box];
  }

  // ---- one account -------------------------------------------------------------------------------------------
  function tabs(a, current) {
    var list = [["status", "Connections"], ["runs", "Run history"], ["failed", "Failed records"], ["deletes", "Held deletes"], ["webhooks", "Webhook inbox"], ["checks", "Checks"]];
    return h("nav", { class: "tabs", "aria-label": "Account views" }, list.map(function (t) {
      if (t[0] === "runs" && runsAvailable[a] !== true) return null;
      return h("a", { href: "#/a/" + enc(a) + (t[0] === "status" ? "" : "/" + t[0]), "aria-current": t[0] === current ? "page" : null, text: t[1] });
    }));
  }
  // Run history exists only where the API serves it: the tab appears once /runs answers.
  function probeRuns(a, then) {
    if (runsAvailable[a] !== undefined) return then();
    api("GET", accountPath(a) + "/runs?limit=1").then(function () { runsAvailable[a] = true; }, function () { runsAvailable[a] = false; }).then(then);
  }

  /**
   * The ETA from the run's own pace, and no sooner than the rate budget allows: the pages still to fetch at the
   * budget's requests per window.
   */
  function etaOf(e, budget) {
    var p = e.progress;
    if (!p || e.status !== "IN_PROGRESS") return null;
    var pace = p.etaMs;
    if (p.total === null || p.total === undefined || !(p.pages > 0) || !(p.records > 0) || !budget || !(budget.limit > 0)) return pace;
    var perPage = p.records / p.pages;
    var pagesLeft = Math.ceil(Math.max(0, p.total - p.records) / perPage);
    var byBudget = (pagesLeft / budget.limit) * budget.windowMs;
    if (budget.blockedUntil && budget.blockedUntil > Date.now()) byBudget += budget.blockedUntil - Date.now();
    return pace === null || pace === undefined ? byBudget : Math.max(pace, byBudget);
  }

  function viewStatus(a) {
    var body = h("div", { id: "status-body" }, h("p", { class: "muted", text: "Loading…" }));
    var controls = h("div");
    var loaded = false;
    function refresh() {
      return api("GET", accountPath(a) + "/status").then(function (s) {
        if (!loaded) { fill(controls, syncControls(a, s)); loaded = true; }
        var focused = document.activeElement && document.activeElement.getAttribute("data-key");
        fill(body, statusBody(a, s));
        if (focused) { var again = body.querySelector("[data-key=\"" + focused + "\"]"); if (again) again.focus(); }
        var busy = s.connections.some(function (c) { return c.entities.some(function (e) { return e.status === "IN_PROGRESS"; }); });
        schedule(refresh, busy ? 1000 : 4000);
      }).catch(function (e) { fail(e); schedule(refresh, 5000); });
    }
    refresh();
    return [h("h1", null, "Account ", h("code", { text: a })), tabs(a, "status"), controls, body];
  }

  function syncControls(a, s) {
    var conn = h("select", { id: "sync-connection" }, h("option", { value: "", text: "all connections" }),
      s.connections.map(function (c) { return h("option", { value: c.id, text: c.id + " (" + c.provider + ")" }); }));
    var entities = {};
    s.connections.forEach(function (c) { c.entities.forEach(function (e) { entities[e.entity] = true; }); });
    var ent = h("select", { id: "sync-entity" }, h("option", { value: "", text: "all entities" }),
      Object.keys(entities).map(function (e) { return h("option", { value: e, text: e }); }));
    var mode = h("select", { id: "sync-mode" }, h("option", { value: "delta", text: "delta" }), h("option", { value: "onboarding", text: "onboarding (full)" }));
    var go = h("button", { type: "submit", id: "sync-now", text: "Sync now" });
    var form = h("form", { class: "inline card", "aria-label": "Start a sync", onsubmit: function (ev) {
      ev.preventDefault();
      var body = { mode: mode.value };
      if (conn.value) body.connectionId = conn.value;
      if (ent.value) body.entity = ent.value;
      act(go, function () {
        return api("POST", accountPath(a) + "/sync", body).then(function (r) {
          var started = r.runs.map(function (x) { return x.connectionId + ": " + ((x.started || []).join(", ") || "nothing new started"); });
          say("Sync requested — " + started.join("; "));
          kick();
        });
      });
    } },
      h("label", { for: "sync-connection" }, "Connection", conn), h("label", { for: "sync-entity" }, "Entity", ent),
      h("label", { for: "sync-mode" }, "Mode", mode), go);
    var pause = h("button", { type: "button", class: "secondary", id: "pause", text: "Pause account" });
    var resume = h("button", { type: "button", class: "secondary", id: "resume", text: "Resume account" });
    pause.addEventListener("click", function () { act(pause, function () { return api("POST", accountPath(a) + "/pause").then(function () { say("Paused."); kick(); }); }); });
    resume.addEventListener("click", function () { act(resume, function () { return api("POST", accountPath(a) + "/resume").then(function () { say("Resumed."); kick(); }); }); });
    return [form, s.connections.length ? resyncForm(a, s) : null, h("div", { class: "row-actions" }, pause, resume)];
  }

  function statusBody(a, s) {
    var out = [h("p", null, "Sync is ", h("strong", { id: "paused-state", text: s.paused ? "paused" : "running" }))];
    s.connections.forEach(function (c) {
      out.push(connectionCard(a, c));
    });
    if (!s.connections.length) out.push(h("p", { text: "No connections." }));
    return out;
  }

  function connectionCard(a, c) {
    var b = c.breaker || {};
    var budget = c.rateBudget || null;
    var rows = c.entities.map(function (e) {
      var p = e.progress;
      var key = c.id + "/" + e.entity;
      var eta = etaOf(e, budget);
      var pct = p && p.total ? Math.min(100, Math.round((p.records / p.total) * 100)) : null;
      var progress = !p ? h("span", { class: "muted", text: "—" }) : h("span", null,
        pct === null ? null : h("progress", { max: 100, value: pct, "aria-label": e.entity + " progress", id: "progress-" + c.id + "-" + e.entity }),
        " " + num(p.records) + (p.total ? " / " + num(p.total) : "") + " records",
        e.status === "IN_PROGRESS" ? h("span", { class: "eta" }, " · ETA " + (eta === null ? "unknown" : dur(eta))) : null);
      var counts = e.counts || {};
      var drift = counts.provider !== null && counts.provider !== undefined && counts.ours !== null && counts.ours !== undefined ? counts.ours - counts.provider : null;
      var run = e.lastRun;
      var syncBtn = h("button", { type: "button", class: "secondary", "data-key": key + ":sync", text: "Sync" });
      syncBtn.addEventListener("click", function () { act(syncBtn, function () {
        return api("POST", accountPath(a) + "/sync", { connectionId: c.id, entity: e.entity, mode: "delta" }).then(function () { say("Delta sync of " + e.entity + " requested."); kick(); });
      }); });
      var resetBtn = h("button", { type: "button", class: "secondary", "data-key": key + ":reset", text: "Reset cursor" });
      resetBtn.addEventListener("click", function () {
        if (!confirm("Reset the cursor of " + e.entity + "? The next delta reads it from the start.")) return;
        act(resetBtn, function () {
          return api("POST", accountPath(a) + "/cursor/reset", { connectionId: c.id, entity: e.entity }).then(function () { say("Cursor of " + e.entity + " reset."); kick(); });
        });
      });
      return h("tr", { "data-entity": e.entity },
        cell("Entity", h("strong", { text: e.entity })),
        cell("Status", h("span", { class: "status " + e.status, text: e.status }), null),
        cell("Last run", run ? h("span", null, run.mode + " · " + ago(run.finishedAt || run.startedAt)) : "never"),
        cell("Next run", e.nextRunAt ? fmtTime(e.nextRunAt) : "—"),
        cell("Progress", progress),
        cell("Fetched / written", run ? num(run.fetched) + " / " + num(run.written) : "—", "num"),
        cell("Unchanged / deleted", run ? num(run.unchanged) + " / " + num(run.deleted) : "—", "num"),
        cell("Fresh as of", e.lastFinishedAt ? ago(e.lastFinishedAt) : "never"),
        cell("Provider / ours", num(counts.provider) + " / " + num(counts.ours), "num"),
        cell("Drift", drift === null ? "—" : h("span", { class: drift === 0 ? "" : "drift", text: (drift > 0 ? "+" : "") + drift }), "num"),
        cell("Failed", e.failedRecords ? h("a", { href: "#/a/" + enc(a) + "/failed?entity=" + enc(e.entity), text: String(e.failedRecords) }) : "0", "num"),
        cell("Actions", h("div", { class: "row-actions" }, syncBtn, resetBtn)));
    });
    var breakerBtns = ["open", "closed", "auto"].map(function (m) {
      var btn = h("button", { type: "button", class: m === "open" ? "danger" : "secondary", "data-key": c.id + ":breaker:" + m, text: m === "auto" ? "Breaker: automatic" : "Force " + m });
      btn.addEventListener("click", function () { act(btn, function () {
        return api("POST", accountPath(a) + "/connections/" + enc(c.id) + "/breaker", { mode: m }).then(function (r) { say("Breaker of " + c.id + ": " + r.breaker.state + " (" + r.breaker.mode + ")"); kick(); });
      }); });
      return btn;
    });
    function fact(label, value) { return h("div", null, h("dt", { text: label }), h("dd", { text: value })); }
    return h("section", { class: "card", "aria-label": "Connection " + c.id, "data-connection": c.id },
      h("h2", null, c.id + " ", h("span", { class: "muted", text: "(" + c.provider + ", " + c.status + ")" })),
      h("dl", { class: "facts" },
        fact("Breaker", (b.state || "—") + (b.mode && b.mode !== "auto" ? " (" + b.mode + ")" : "")),
        fact("Failure rate", b.calls ? Math.round(b.failureRate * 1000) / 10 + "% of " + b.calls : "no calls"),
        fact("Rate budget", budget ? budget.remaining + " of " + budget.limit + " per " + dur(budget.windowMs) : "—"),
        fact("Budget scope", budget ? budget.scope + (budget.shared ? " (shared)" : "") : "—"),
        fact("Parked webhooks", String(c.parkedWebhooks ? c.parkedWebhooks.open : 0))),
      h("div", { class: "row-actions" }, breakerBtns,
        h("a", { class: "checks-link", href: "#/a/" + enc(a) + "/checks?connection=" + enc(c.id), text: "Checks and actions" })),
      table(["Entity", "Status", "Last run", "Next run", "Progress", "Fetched / written", "Unchanged / deleted", "Fresh as of", "Provider / ours", "Drift", "Failed", "Actions"], rows));
  }

  // Built once with the sync form (outside the refreshed table), so what is typed survives each refresh.
  function resyncForm(a, s) {
    var conn = h("select", { id: "resync-connection" }, s.connections.map(function (c) { return h("option", { value: c.id, text: c.id + " (" + c.provider + ")" }); }));
    var ent = h("select", { id: "resync-entity" });
    function entities() {
      var c = s.connections.filter(function (x) { return x.id === conn.value; })[0];
      fill(ent, (c ? c.entities : []).map(function (e) { return h("option", { value: e.entity, text: e.entity }); }));
    }
    conn.addEventListener("change", entities);
    entities();
    var rid = h("input", { id: "resync-id", required: true, autocomplete: "off" });
    var go = h("button", { type: "submit", id: "resync-go", text: "Resync record" });
    return h("form", { class: "inline card", "aria-label": "Resync one record", onsubmit: function (ev) {
      ev.preventDefault();
      act(go, function () {
        return api("POST", accountPath(a) + "/connections/" + enc(conn.value) + "/records/resync", { entity: ent.value, id: rid.value.trim() })
          .then(function (r) { say("Record " + r.entity + " " + r.id + " fetched and staged (" + r.staged + ")."); });
      });
    } },
      h("label", { for: "resync-connection" }, "Connection", conn), h("label", { for: "resync-entity" }, "Entity", ent),
      h("label", { for: "resync-id" }, "Provider record id", rid), go);
  }

  // ---- run history (where the API has it) ----------------------------------------------------------------------
  function viewRuns(a) {
    var box = h("div", null, h("p", { class: "muted", text: "Loading…" }));
    var logs = h("div", { id: "run-logs" });
    api("GET", accountPath(a) + "/runs?limit=50").then(function (r) {
      var items = Array.isArray(r) ? r : (r.items || r.runs || []);
      var rows = items.map(function (run) {
        var id = run.runId || run.id;
        var btn = h("button", { type: "button", class: "secondary", text: "Logs" });
        btn.addEventListener("click", function () { act(btn, function () {
          return api("GET", accountPath(a) + "/runs/" + enc(id) + "/logs").then(function (l) {
            var lines = Array.isArray(l) ? l : (l.items || l.lines || l.logs || []);
            logs.replaceChildren(h("h2", null, "Logs of ", h("code", { text: id })),
              h("pre", { class: "logs", tabindex: 0 }, lines.map(function (x) { return (typeof x === "string" ? x : JSON.stringify(x)) + "\n"; }).join("")));
          });
        }); });
        return h("tr", null, cell("Run", h("code", { text: id })), cell("Entity", run.entity || "—"), cell("Mode", run.mode || "—"),
          cell("Status", h("span", { class: "status " + (run.status || ""), text: run.status || "—" })),
          cell("Started", fmtTime(run.startedAt)), cell("Ended", fmtTime(run.finishedAt || run.endedAt)),
          cell("Fetched / written", num(run.fetched) + " / " + num(run.written), "num"), cell("Logs", btn));
      });
      box.replaceChildren(rows.length ? table(["Run", "Entity", "Mode", "Status", "Started", "Ended", "Fetched / written", "Logs"], rows) : h("p", { text: "No runs yet." }));
    }).catch(fail);
    return [h("h1", null, "Run history of ", h("code", { text: a })), tabs(a, "runs"), box, logs];
  }

  // ---- failed records ------------------------------------------------------------------------------------------
  function viewFailed(a, query) {
    var fields = {
      entity: h("input", { id: "f-entity", value: query.get("entity") || "" }),
      errorCode: h("input", { id: "f-code", value: query.get("errorCode") || "" }),
      status: h("select", { id: "f-status" }, ["open", "resolved", "all"].map(function (s) { return h("option", { value: s, text: s, selected: (query.get("status") || "open") === s }); })),
      from: h("input", { id: "f-from", type: "datetime-local" }),
      to: h("input", { id: "f-to", type: "datetime-local" }),
    };
    var force = h("input", { id: "f-force", type: "checkbox" });
    var list = h("div", { id: "failed-list" });
    var more = h("div");
    function filters() {
      var f = {};
      if (fields.entity.value.trim()) f.entity = fields.entity.value.trim();
      if (fields.errorCode.value.trim()) f.errorCode = fields.errorCode.value.trim();
      if (fields.from.value) f.from = new Date(fields.from.value).toISOString();
      if (fields.to.value) f.to = new Date(fields.to.value).toISOString();
      return f;
    }
    function load(cursor) {
      var f = filters(); f.status = fields.status.value; f.limit = "50"; if (cursor) f.cursor = cursor;
      return api("GET", accountPath(a) + "/failed?" + new URLSearchParams(f).toString()).then(function (r) {
        var rows = r.items.map(function (x) {
          return h("tr", null, cell("Id", String(x.id)), cell("Connection", x.connectionId), cell("Entity", x.entity), cell("Source id", h("code", { text: x.sourceId === null ? "—" : x.sourceId })),
            cell("Code", x.errorCode), cell("Message", x.errorMessage || x.message || ""), cell("Attempts", String(x.attempts === undefined ? "—" : x.attempts) + (x.exhausted ? " (exhausted)" : ""), "num"),
            cell("Last seen", fmtTime(x.lastSeenAt || x.updatedAt || x.createdAt)));
        });
        var t = rows.length ? table(["Id", "Connection", "Entity", "Source id", "Code", "Message", "Attempts", "Last seen"], rows) : h("p", { id: "failed-empty", text: "No failed records match." });
        if (cursor) list.appendChild(t); else list.replaceChildren(t);
        more.replaceChildren();
        if (r.nextCursor) { var b = h("button", { type: "button", class: "secondary", id: "failed-more", text: "Load more" }); b.addEventListener("click", function () { act(b, function () { return load(r.nextCursor); }); }); more.appendChild(b); }
      });
    }
    var apply = h("button", { type: "submit", text: "Apply filters" });
    var replay = h("button", { type: "button", id: "replay", text: "Replay matching" });
    replay.addEventListener("click", function () { act(replay, function () {
      var body = filters(); if (force.checked) body.force = true;
      return api("POST", accountPath(a) + "/failed/replay", body).then(function (r) {
        say("Replay " + (r.replayId || r.runId || "") + ": " + num(r.records) + " records sent again.");
        return load();
      });
    }); });
    var form = h("form", { class: "inline card", "aria-label": "Filter failed records", onsubmit: function (ev) { ev.preventDefault(); act(apply, function () { return load(); }); } },
      h("label", { for: "f-entity" }, "Entity", fields.entity), h("label", { for: "f-code" }, "Error code", fields.errorCode),
      h("label", { for: "f-status" }, "Status", fields.status), h("label", { for: "f-from" }, "From", fields.from), h("label", { for: "f-to" }, "To", fields.to), apply);
    load().catch(fail);
    return [h("h1", null, "Failed records of ", h("code", { text: a })), tabs(a, "failed"), form,
      h("div", { class: "row-actions" }, replay, h("label", { for: "f-force", class: "inline-check" }, h("span", null, force, " also those past their attempt bound"))), list, more];
  }

  // ---- held deletes --------------------------------------------------------------------------------------------
  function viewDeletes(a, query) {
    var status = h("select", { id: "d-status" }, ["pending", "confirmed", "rejected"].map(function (s) { return h("option", { value: s, text: s, selected: (query.get("status") || "pending") === s }); }));
    var list = h("div", { id: "deletes-list" });
    function load() {
      return api("GET", accountPath(a) + "/deletes?status=" + enc(status.value)).then(function (r) {
        var rows = r.items.map(function (d) {
          var actions = null;
          if (d.status === "pending") {
            var ok = h("button", { type: "button", class: "danger", text: "Confirm deletes", "aria-label": "Confirm deletes of run " + d.runId });
            var no = h("button", { type: "button", class: "secondary", text: "Reject", "aria-label": "Reject deletes of run " + d.runId });
            [[ok, "confirm"], [no, "reject"]].forEach(function (pair) {
              pair[0].addEventListener("click", function () { act(pair[0], function () {
                return api("POST", accountPath(a) + "/deletes/" + enc(d.runId) + "/" + pair[1]).then(function (x) { say("Run " + d.runId + ": " + x.status + " (" + num(x.deletes) + " deletes)."); return load(); });
              }); });
            });
            actions = h("div", { class: "row-actions" }, ok, no);
          }
          return h("tr", { "data-run": d.runId }, cell("Run", h("code", { text: d.runId })), cell("Connection", d.connectionId), cell("Entity", d.entity), cell("Mode", d.mode || "—"),
            cell("Deletes", num(d.deletes), "num"), cell("Live rows", num(d.liveRows), "num"), cell("Status", d.status), cell("Actions", actions || "—"));
        });
        list.replaceChildren(rows.length ? table(["Run", "Connection", "Entity", "Mode", "Deletes", "Live rows", "Status", "Actions"], rows) : h("p", { text: "No " + status.value + " deletes." }));
      });
    }
    status.addEventListener("change", function () { load().catch(fail); });
    load().catch(fail);
    return [h("h1", null, "Held deletes of ", h("code", { text: a })), tabs(a, "deletes"),
      h("p", { class: "muted", text: "A complete scan that would remove more than the allowed share holds its deletes for a decision." }),
      h("div", { class: "inline" }, h("label", { for: "d-status" }, "Show", status)), list];
  }

  // ---- webhook inbox -------------------------------------------------------------------------------------------
  function viewWebhooks(a, query) {
    var status = h("select", { id: "w-status" }, ["", "pending", "processed", "parked"].map(function (s) { return h("option", { value: s, text: s || "all", selected: (query.get("status") || "") === s }); }));
    var list = h("div", { id: "webhooks-list" });
    function load() {
      return api("GET", accountPath(a) + "/webhooks?limit=100" + (status.value ? "&status=" + enc(status.value) : "")).then(function (r) {
        var rows = r.items.map(function (w) {
          return h("tr", null, cell("Received", fmtTime(w.receivedAt)), cell("Connection", w.connectionId), cell("Event", h("code", { text: w.eventId })), cell("Type", w.eventType || "—"),
            cell("Status", h("span", { class: "status " + (w.status === "parked" ? "ERROR" : ""), text: w.status })), cell("Attempts", String(w.attempts), "num"), cell("Last error", w.lastError || "—"), cell("Processed", fmtTime(w.processedAt)));
        });
        list.replaceChildren(rows.length ? table(["Received", "Connection", "Event", "Type", "Status", "Attempts", "Last error", "Processed"], rows) : h("p", { text: "No webhook deliveries." }));
      });
    }
    status.addEventListener("change", function () { load().catch(fail); });
    load().catch(fail);
    return [h("h1", null, "Webhook inbox of ", h("code", { text: a })), tabs(a, "webhooks"),
      h("p", { class: "muted" }, "Parked events are also failed records of entity ", h("a", { href: "#/a/" + enc(a) + "/failed?entity=webhook", text: "webhook" }), ", replayable there."),
      h("div", { class: "inline" }, h("label", { for: "w-status" }, "Status", status)), list];
  }

  // ---- consistency checks and operator actions ----------------------------------------------------------------
  var fieldSeq = 0;
  function connectionPath(a, c) { return accountPath(a) + "/connections/" + enc(c); }
  function cellValue(v) { return v === null || v === undefined ? "—" : typeof v === "object" ? JSON.stringify(v) : String(v); }

  // A check answers {check, ok, ...}: a finding group is any {count, sample[]} under a name of the connector's
  // choosing, found by its shape; any other field is shown as a plain fact.
  function checkResult(r) {
    var groups = [], facts = [];
    Object.keys(r).forEach(function (k) {
      if (k === "check" || k === "ok") return;
      var v = r[k];
      if (v && typeof v === "object" && !Array.isArray(v) && typeof v.count === "number" && Array.isArray(v.sample)) groups.push({ name: k, count: v.count, sample: v.sample });
      else facts.push([k, v]);
    });
    var findings = groups.reduce(function (n, g) { return n + g.count; }, 0);
    var summary = r.ok ? "OK" : groups.length ? num(findings) + (findings === 1 ? " finding" : " findings") : "not OK";
    var out = [h("p", { class: "check-summary " + (r.ok ? "ok" : "drift"), "data-ok": String(!!r.ok), text: summary })];
    if (facts.length) out.push(h("dl", { class: "facts" }, facts.map(function (f) { return h("div", null, h("dt", { text: f[0] }), h("dd", { text: cellValue(f[1]) })); })));
    groups.forEach(function (g) {
      var columns = [];
      g.sample.forEach(function (row) { if (row && typeof row === "object") Object.keys(row).forEach(function (k) { if (columns.indexOf(k) < 0) columns.push(k); }); });
      out.push(h("section", { class: "finding-group", "data-group": g.name, "data-count": String(g.count) },
        h("h4", null, g.name + ": ", h("span", { class: "group-count", text: num(g.count) })),
        g.sample.length ? table(columns, g.sample.map(function (row) {
          return h("tr", null, columns.map(function (k) { return cell(k, cellValue(row ? row[k] : null)); }));
        }), g.sample.length < g.count ? "sample of " + num(g.sample.length) + " of " + num(g.count) : null) : null));
    });
    return out;
  }

  function checksList(a, c, checks) {
    if (!checks.length) return h("p", { class: "muted", text: "No checks for this connection." });
    return h("ul", { class: "plain" }, checks.map(function (k) {
      var result = h("div", { class: "check-result", "aria-live": "polite" });
      var run = h("button", { type: "button", "data-run-check": k.name, "aria-label": "Run check " + k.name + " on " + c.id, text: "Run" });
      run.addEventListener("click", function () { act(run, function () {
        result.replaceChildren(h("p", { class: "muted", text: "Running…" }));
        return api("GET", connectionPath(a, c.id) + "/checks/" + enc(k.name)).then(function (r) { fill(result, checkResult(r)); }, function (e) { result.replaceChildren(); throw e; });
      }); });
      return h("li", { class: "check", "data-check": k.name },
        h("div", { class: "row-actions" }, h("strong", { text: k.name }), run),
        h("p", { class: "muted", text: k.description }), result);
    }));
  }

  function actionsList(a, c, actions) {
    if (!actions.length) return h("p", { class: "muted", text: "No actions for this connection." });
    return h("ul", { class: "plain" }, actions.map(function (x) {
      var id = "action-input-" + (++fieldSeq);
      var input = h("textarea", { id: id, rows: 3, spellcheck: "false", autocomplete: "off" });
      input.value = "{}";
      var output = h("pre", { class: "logs action-result", tabindex: 0, hidden: true, "aria-live": "polite" });
      var run = h("button", { type: "submit", "aria-label": "Run action " + x.name + " on " + c.id, text: "Run" });
      var form = h("form", { class: "action-form", "aria-label": "Action " + x.name, onsubmit: function (ev) {
        ev.preventDefault();
        var body;
        try { body = JSON.parse(input.value || "{}"); } catch (e) { showError("invalid_json: the input is not valid JSON (" + e.message + ")"); return; }
        if (!body || typeof body !== "object" || Array.isArray(body)) { showError("invalid_json: the input must be a JSON object"); return; }
        act(run, function () {
          return api("POST", connectionPath(a, c.id) + "/actions/" + enc(x.name), body).then(function (r) {
            output.textContent = JSON.stringify(r, null, 2); output.hidden = false;
            say("Action " + x.name + " on " + c.id + " done.");
          });
        });
      } },
        h("label", { for: id }, "Input for " + x.name + " (JSON" + (x.takesInput ? "" : ", none needed") + ")", input),
        x.takesInput && x.input ? h("details", null, h("summary", { text: "Input schema" }), h("pre", { class: "logs", tabindex: 0, text: JSON.stringify(x.input, null, 2) })) : null,
        h("p", null, run));
      return h("li", { class: "action", "data-action": x.name },
        h("strong", { text: x.name }), h("p", { class: "muted", text: x.description }), form, output);
    }));
  }

  function viewChecks(a, query) {
    var only = query.get("connection");
    var box = h("div", null, h("p", { class: "muted", text: "Loading…" }));
    api("GET", accountPath(a)).then(function (acct) {
      var conns = acct.connections.filter(function (c) { return !only || c.id === only; });
      if (!conns.length) { box.replaceChildren(h("p", { text: only ? "No connection " + only + "." : "No connections." })); return; }
      fill(box, conns.map(function (c) {
        var checks = h("div", null, h("p", { class: "muted", text: "Loading…" }));
        var actions = h("div");
        Promise.all([api("GET", connectionPath(a, c.id) + "/checks"), api("GET", connectionPath(a, c.id) + "/actions")]).then(function (both) {
          checks.replaceChildren(checksList(a, c, both[0]));
          actions.replaceChildren(actionsList(a, c, both[1]));
        }).catch(function (e) { checks.replaceChildren(); fail(e); });
        return h("section", { class: "card", "aria-label": "Checks of connection " + c.id, "data-checks-connection": c.id },
          h("h2", null, c.id + " ", h("span", { class: "muted", text: "(" + c.provider + ")" })),
          h("h3", { text: "Checks" }), checks, h("h3", { text: "Actions" }), actions);
      }));
    }).catch(fail);
    return [h("h1", null, "Checks of ", h("code", { text: a })), tabs(a, "checks"),
      h("p", { class: "muted", text: "Consistency checks read the connection's data and report what disagrees; actions change it, each audited." }),
      only ? h("p", null, h("a", { href: "#/a/" + enc(a) + "/checks", text: "All connections" })) : null, box];
  }

  // ---- routing -------------------------------------------------------------------------------------------------
  var rerun = null;
  function schedule(fn, ms) { clearTimeout(timer); rerun = fn; timer = setTimeout(fn, ms); }
  function kick() { if (rerun) schedule(rerun, 200); }

  function render() {
    clearTimeout(timer); rerun = null;
    var hash = location.hash.replace(/^#/, "") || "/";
    var qAt = hash.indexOf("?");
    var query = new URLSearchParams(qAt >= 0 ? hash.slice(qAt + 1) : "");
    var parts = (qAt >= 0 ? hash.slice(0, qAt) : hash).split("/").filter(Boolean).map(decodeURIComponent);
    who.replaceChildren();
    if (!token()) { fill(main, viewSignIn()); return; }
    var out = h("button", { type: "button", class: "secondary", text: "Sign out" });
    out.addEventListener("click", function () { showError(""); signOut(false); });
    who.appendChild(h("span", { text: ownAccount() ? "account " + ownAccount() + " " : "admin " }));
    who.appendChild(out);
    var own = ownAccount();
    if (parts[0] !== "a" || !parts[1]) {
      if (own) { location.hash = "#/a/" + enc(own); return; }
      fill(main, viewAccounts());
      return;
    }
    var a = parts[1];
    var view = parts[2] || "status";
    probeRuns(a, function () {
      var build = { status: viewStatus, runs: viewRuns, failed: viewFailed, deletes: viewDeletes, webhooks: viewWebhooks, checks: viewChecks }[view] || viewStatus;
      fill(main, build(a, query));
    });
  }
  window.addEventListener("hashchange", function () { showError(""); render(); });
  render();
})();
`;
