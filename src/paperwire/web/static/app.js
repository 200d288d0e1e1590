// Small enhancements only: every page works without this file.
// - Upvote forms submit with fetch (no reload) when the server answers JSON {upvotes, upvoted};
//   the CSRF token goes in the X-CSRF-Token header as the accounts middleware expects.
// - Save / "More like this" / "Not interested" forms likewise (JSON {saved, feedback}).
// - "Copy BibTeX" copies the citation.
// - The paper page's similar papers are loaded after the page (GET .../similar with
//   X-Fragment: 1 answers the bare list); without this file the section links to that page.
(function () {
  "use strict";

  function onUpvote(event) {
    var form = event.target;
    if (!form.matches || !form.matches("form.upvote") || !window.fetch) return;
    event.preventDefault();
    var button = form.querySelector("button");
    button.disabled = true;
    var tokenInput = form.querySelector("input[name=csrf_token]");
    fetch(form.action, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRF-Token": tokenInput ? tokenInput.value : "" }
    }).then(function (resp) {
      var type = resp.headers.get("content-type") || "";
      if (resp.status === 401 || resp.status === 403) {
        window.location.href = "/signin?next=" + encodeURIComponent(window.location.pathname);
        return null;
      }
      if (!resp.ok || type.indexOf("json") < 0) throw new Error("fallback");
      return resp.json();
    }).then(function (data) {
      if (!data) return;
      if (typeof data.upvotes !== "number") throw new Error("fallback");
      var on = !!data.upvoted;
      button.querySelector(".upvote-count").textContent = data.upvotes;
      button.classList.toggle("is-on", on);
      button.setAttribute("aria-pressed", on ? "true" : "false");
      var label = button.getAttribute("aria-label") || "";
      button.setAttribute("aria-label", label.replace(/^(Remove upvote from|Upvote)/, on ? "Remove upvote from" : "Upvote"));
      button.disabled = false;
    }).catch(function () { form.submit(); });
  }

  function onCopy(event) {
    var button = event.target.closest && event.target.closest("[data-copy-target]");
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy-target"));
    var status = button.parentNode.querySelector(".copy-status");
    var text = source ? source.textContent : "";
    var done = function () { if (status) status.textContent = "Copied"; };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () { selectText(source); });
    } else { selectText(source); }
  }

  function selectText(node) {
    if (!node) return;
    var range = document.createRange();
    range.selectNodeContents(node);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }

  function loadSimilar() {
    var section = document.querySelector("[data-similar-src]");
    if (!section || !window.fetch) return;
    var body = section.querySelector(".similar-body");
    fetch(section.getAttribute("data-similar-src"), {
      credentials: "same-origin", headers: { "X-Fragment": "1" }
    }).then(function (resp) {
      if (!resp.ok) throw new Error("keep the link");
      return resp.text();
    }).then(function (html) {
      // Server-rendered, escaped HTML of this site (the CSP forbids inline script anyway).
      body.innerHTML = html;
      section.setAttribute("data-loaded", "true");
    }).catch(function () { /* the link to the similar-papers page stays */ });
  }

  // Save / "More like this" / "Not interested" (form.mark-form): same pattern; the JSON answer
  // {saved, feedback} sets every button of the paper's group.
  function onMark(event) {
    var form = event.target;
    if (!form.matches || !form.matches("form.mark-form") || !window.fetch) return;
    event.preventDefault();
    var group = form.closest(".member-actions");
    var tokenInput = form.querySelector("input[name=csrf_token]");
    fetch(form.action, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRF-Token": tokenInput ? tokenInput.value : "" }
    }).then(function (resp) {
      var type = resp.headers.get("content-type") || "";
      if (!resp.ok || type.indexOf("json") < 0) throw new Error("fallback");
      return resp.json();
    }).then(function (data) {
      if (typeof data.saved !== "boolean") throw new Error("fallback");
      var states = { save: data.saved, more: data.feedback === "more", less: data.feedback === "less" };
      (group || form).querySelectorAll("button[data-mark]").forEach(function (b) {
        var on = !!states[b.getAttribute("data-mark")];
        b.classList.toggle("is-on", on);
        b.setAttribute("aria-pressed", on ? "true" : "false");
        if (b.getAttribute("data-mark") === "save") b.textContent = on ? "Saved" : "Save";
      });
    }).catch(function () { form.submit(); });
  }

  document.addEventListener("submit", onUpvote);
  document.addEventListener("submit", onMark);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", loadSimilar);
  } else {
    loadSimilar();
  }
  document.addEventListener("click", onCopy);
})();
