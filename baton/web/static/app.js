// The application page: settings switches, the "Deploy with options" dialog and its plan
// preview. The preview is the library's own plan (GET /api/apps/APP/plan), warnings included.
"use strict";
(() => {
  for (const box of document.querySelectorAll(".setting .switch input")) {
    box.addEventListener("change", () => box.form.requestSubmit());
  }

  const dialog = document.getElementById("options-dialog");
  const form = document.getElementById("options-form");
  const preview = document.getElementById("plan-preview");

  function chosen(name) {
    const input = form.querySelector(`input[name="${name}"]:checked`);
    return input && !input.closest("fieldset").disabled ? input.value : "";
  }

  function line(text, className) {
    const p = document.createElement("p");
    p.textContent = text;
    if (className) p.className = className;
    return p;
  }

  async function refresh() {
    const query = new URLSearchParams();
    if (chosen("strategy")) query.set("strategy", chosen("strategy"));
    if (chosen("migrations")) query.set("run_migrations", chosen("migrations") === "run");
    const batch = form.querySelector('input[name="batch"]').value.trim();
    if (batch) query.set("batch", batch);
    const answer = await fetch(`${form.dataset.planUrl}?${query}`, { headers: { Accept: "application/json" } });
    const plan = await answer.json();
    if (!answer.ok) {
      preview.replaceChildren(line(plan.detail, "error"));
      return;
    }
    const migrations = plan.run_migrations ? `on ${plan.migration_server}` : "skipped";
    const batches = plan.batches.some((n) => n > 1) ? `, batches of ${plan.batches.join(", ")}` : "";
    preview.replaceChildren(
      line(`Plan: ${plan.strategy}${batches}, order ${plan.servers.join(" → ")}, migrations ${migrations}; ` +
           `waits add about ${plan.estimated_extra_seconds}s.`),
      ...plan.notes.map((n) => line(`Note: ${n}`)),
      ...plan.warnings.map((w) => line(`Warning: ${w}`, "warning")),
    );
  }

  document.getElementById("deploy-with-options").addEventListener("click", () => {
    dialog.showModal();
    refresh();
  });
  document.getElementById("cancel-options").addEventListener("click", () => dialog.close());
  form.addEventListener("change", refresh);
})();

// Confirmations: a form with data-confirm (Deploy, Redeploy, Recover, a setting's switch) shows
// what it will do - the server wrote the words from the plan - and acts only on OK.
(() => {
  const dialog = document.getElementById("confirm-dialog");
  if (!dialog) return;
  const text = document.getElementById("confirm-text");
  const ok = document.getElementById("confirm-ok");
  let waiting = null;  // the form waiting for an answer

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.confirm || form.dataset.confirmed) return;
    event.preventDefault();
    waiting = form;
    text.textContent = form.dataset.confirm;
    ok.textContent = form.dataset.confirmAction || "OK";
    dialog.showModal();
  });

  dialog.addEventListener("close", () => {
    const form = waiting;
    waiting = null;
    if (!form) return;
    if (dialog.returnValue === "ok") {
      form.dataset.confirmed = "yes";
      form.submit();
    } else {
      form.querySelectorAll('input[type="checkbox"]').forEach((box) => { box.checked = !box.checked; });
    }
  });

  // A setting's switch submits its form (through the confirmation above).
  document.querySelectorAll("form.setting input[type=checkbox]").forEach((box) => {
    box.addEventListener("change", () => box.form.requestSubmit());
  });

  // After Recover the page is the POST's answer: show the application's own address.
  const recovered = document.getElementById("recovered");
  if (recovered) history.replaceState(null, "", recovered.dataset.url);
})();
