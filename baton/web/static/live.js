// The live deploy page: follow the deploy's server-sent events and update one row per server.
"use strict";
(() => {
  const table = document.getElementById("live");
  const log = document.getElementById("log");
  const out = {};    // server -> load balancers it is out of
  const steps = {};  // server -> steps started so far
  const FINAL = new Set(["succeeded", "failed", "stopped", "not started", "cancelled"]);
  const clock = (at) => `${new Date(at * 1000).toTimeString().slice(0, 8)}.${Math.floor((at % 1) * 10)}`;
  const row = (server) => table.querySelector(`tr[data-server="${CSS.escape(server)}"]`);
  const cell = (server, name) => row(server)?.querySelector(`.${name}`);

  function say(e, text) {
    log.textContent += `[${clock(e.at)}] ${text}\n`;
    log.scrollTop = log.scrollHeight;
  }

  function setCell(server, name, text) {
    const c = cell(server, name);
    if (c) c.textContent = text;
  }

  function stage(e) {
    let text = e.stage;
    if (e.stage === "step") {
      steps[e.server] = (steps[e.server] || 0) + 1;
      text = `step ${steps[e.server]}/${row(e.server)?.dataset.steps}: ${e.detail}`;
    } else if (e.detail && !FINAL.has(e.stage)) {  // a final stage's detail has its own column
      text += `: ${e.detail}`;
    }
    setCell(e.server, "stage", text);
    if (e.stage === "connecting") setCell(e.server, "started", clock(e.at));
    say(e, `${e.server}: ${text}`);
  }

  // Each server's time out of rotation, kept on its row (data-out-at / data-back-at, seconds)
  // and shown as a span of clock times, so the page says who was out when after the fact.
  function span(server, at, leaving) {
    const r = row(server);
    if (!r) return;
    if (leaving && !r.dataset.outAt) r.dataset.outAt = at;
    if (!leaving) r.dataset.backAt = at;
    const back = r.dataset.backAt ? clock(Number(r.dataset.backAt)) : "…";
    setCell(server, "out-span", `${clock(Number(r.dataset.outAt))} – ${back}`);
  }

  function rotation(e) {
    const lbs = out[e.server] || (out[e.server] = new Set());
    if (e.action === "removed") lbs.add(e.load_balancer); else lbs.delete(e.load_balancer);
    const text = lbs.size ? `out of rotation (${[...lbs].join(", ")})` : "back in rotation";
    setCell(e.server, "rotation", text);
    if (e.action === "removed" || !lbs.size) span(e.server, e.at, e.action === "removed");
    say(e, `${e.server}: ${e.action} ${e.action === "removed" ? "from" : "to"} ${e.load_balancer}`);
  }

  function serverFinished(e) {
    setCell(e.server, "finished", clock(e.at));
    setCell(e.server, "detail", e.detail);
    row(e.server)?.classList.add(e.status.replace(" ", "-"));
  }

  const handlers = {
    deploy_started: (e) => say(e, `deploy #${e.deploy_id}: ${e.version}, ${e.strategy}, servers ${e.servers.join(", ")}`),
    warning: (e) => {
      const li = document.createElement("li");
      li.textContent = `Warning: ${e.message}`;
      document.getElementById("warnings").append(li);
      say(e, `WARNING: ${e.message}`);
    },
    stage: stage,
    load_balancer: rotation,
    step_started: (e) => say(e, `${e.server}: step ${e.step} started${e.migration ? " (migration)" : ""}`),
    output: (e) => say(e, e.text.replace(/\n$/, "").split("\n").map((l) => `${e.server} | ${l}`).join("\n")),
    step_finished: (e) => say(e, `${e.server}: step ${e.step} ${e.status}` +
      (e.exit_status === null ? "" : ` (exit ${e.exit_status})`) + ` in ${(e.at - e.started_at).toFixed(1)}s`),
    health: (e) => say(e, `${e.server}: health check ${e.passed ? "passed" : "FAILED"} after ${e.attempts} attempt(s) ${e.detail}`),
    server_finished: serverFinished,
    deploy_finished: (e) => say(e, `deploy #${e.deploy_id} ${e.status}: ${e.summary}`),
  };

  function finish(end) {
    document.getElementById("cancel-form")?.remove();
    const status = document.getElementById("status");
    status.textContent = end.status;
    status.className = `status ${end.status}`;
    document.getElementById("summary").textContent = end.summary;
  }

  const source = new EventSource(table.dataset.stream);
  source.onmessage = (m) => {
    const e = JSON.parse(m.data);
    (handlers[e.kind] || ((x) => say(x, `${x.kind}`)))(e);
    if (e.kind !== "output") window.batonTimeline?.changed();
  };
  source.addEventListener("end", (m) => {
    finish(JSON.parse(m.data));
    source.close();
    window.batonTimeline?.ended();
  });
})();
