// The history page: changing a filter applies it at once (the Filter button does the same).
"use strict";
(() => {
  const form = document.getElementById("history-filter");
  form?.querySelectorAll("select").forEach((select) => {
    select.addEventListener("change", () => form.requestSubmit());
  });
})();
