// regc serve: the glue between a generated form page and the server.
// Runs before forms.js (both deferred, in order): puts the stored draft into
// the controls' data-value (which forms.js shows), and when forms.js has
// made the submission document (no errors, warnings explained), sends it to
// the server and shows the server's answer. Text goes in with textContent.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const form = $("regc-form");
  const draft = $("regc-draft");
  const json = $("regc-json");
  const result = $("regc-result");
  const out = $("regc-server");
  const csrf = document.querySelector('meta[name="regc-csrf"]');
  if (!form || !json || !out || !csrf) return;
  const values = draft ? JSON.parse(draft.textContent || "{}") : {};
  for (const [cell, v] of Object.entries(values)) {
    const el = $("f-" + cell);
    if (el && typeof v === "string") el.dataset.value = v;
  }
  function show(title, cls, lines) {
    out.textContent = "";
    out.className = "regc-server " + cls;
    const p = document.createElement("p");
    p.textContent = title;
    out.appendChild(p);
    if (lines.length) {
      const ul = document.createElement("ul");
      for (const l of lines) {
        const li = document.createElement("li");
        li.textContent = l;
        ul.appendChild(li);
      }
      out.appendChild(ul);
    }
    out.focus();
  }
  const line = (v) => (v.rule ? v.rule + ": " : "") + (v.message || "");
  function send(body) {
    show("Đang gửi… (Sending…)", "", []);
    fetch("/api/r/" + encodeURIComponent(form.dataset.regime) + "/submit", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf.content },
      body: body,
    })
      .then((r) => r.json().then((j) => [r.status, j]))
      .then(([status, j]) => {
        if (status === 200 && j.stored) {
          show(
            j.written ? "Đã gửi báo cáo. (The report is submitted.)" : "Báo cáo không thay đổi. (Nothing changed.)",
            "regc-ok",
            (j.warnings || []).map(line)
          );
        } else if (j.errors) {
          show("Máy chủ không nhận: còn lỗi. (Refused: errors.)", "regc-error", j.errors.map(line));
        } else if (j.unexplained) {
          show("Cần giải trình các cảnh báo. (Explain the warnings.)", "regc-error", j.unexplained.map(line));
        } else {
          show("Không gửi được. (Not sent.)", "regc-error", [j.error || String(status)]);
        }
      })
      .catch(() => show("Không kết nối được máy chủ. (The server cannot be reached.)", "regc-error", []));
  }
  // forms.js writes the document into #regc-json on a valid submit.
  new MutationObserver(() => {
    if (!json.textContent) return;
    const body = json.textContent;
    if (result) result.hidden = true;
    send(body);
  }).observe(json, { childList: true, characterData: true, subtree: true });
})();
