// The live page's timeline: the server draws it (GET /deploys/ID/timeline, figures and SVG);
// this redraws it as the deploy's events arrive, and every second meanwhile so that what is
// running grows. live.js calls window.batonTimeline.changed() on each event and .ended() last.
"use strict";
(() => {
  const box = document.getElementById("timeline");
  if (!box || !box.dataset.url) return;
  let pending = null;
  let busy = false;
  let again = false;
  let ticker = null;

  async function redraw() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const answer = await fetch(box.dataset.url, { headers: { Accept: "text/html" }, cache: "no-store" });
      if (answer.ok) {
        const html = await answer.text();
        const parsed = new DOMParser().parseFromString(`<div>${html}</div>`, "text/html");
        box.replaceChildren(...parsed.body.firstChild.childNodes);
        box.dataset.redraws = String(Number(box.dataset.redraws || 0) + 1);
      }
    } finally {
      busy = false;
      if (again) { again = false; redraw(); }
    }
  }

  function changed() {
    if (pending === null) pending = setTimeout(() => { pending = null; redraw(); }, 100);
  }

  function ended() {
    if (ticker !== null) clearInterval(ticker);
    ticker = null;
    changed();
  }

  if (box.querySelector("svg")?.dataset.status === "running") ticker = setInterval(changed, 1000);
  window.batonTimeline = { changed, ended };
})();
