// The review app's only script: keyboard shortcuts, select all, in-place edits, upload.
// Pages work without it (plain forms); it adds speed, not function, except drag and drop.
(function () {
  "use strict";
  var main = document.getElementById("main");
  var csrf = main ? main.dataset.csrf : "";
  var INBOX_KEY = "invex-inbox-ids";

  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  // Inbox: remember the page's order (for j/k on an invoice), j/k move, Enter opens.
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr[data-href]"));
  if (rows.length) {
    try {
      sessionStorage.setItem(INBOX_KEY, JSON.stringify(rows.map(function (r) { return r.dataset.href; })));
    } catch (e) { /* storage off: j/k fall back to the server's next link */ }
  }
  var current = -1;
  function focusRow(i) {
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, i));
    rows.forEach(function (r) { r.classList.remove("current"); });
    rows[current].classList.add("current");
    var link = rows[current].querySelector("a");
    if (link) link.focus();
  }
  var selectAll = document.getElementById("select-all");
  if (selectAll) {
    selectAll.addEventListener("change", function () {
      document.querySelectorAll("input[name=invoice_id]").forEach(function (box) { box.checked = selectAll.checked; });
    });
  }

  // Invoice page: a changed field shows its Save button; Escape puts the value back.
  document.querySelectorAll("form.field").forEach(function (form) {
    var input = form.querySelector("[name=value]");
    if (!input || input.readOnly) return;
    var original = input.value;
    input.addEventListener("input", function () { form.classList.toggle("dirty", input.value !== original); });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { input.value = original; form.classList.remove("dirty"); input.blur(); }
    });
  });

  // Invoice page: the field being checked is outlined where its value is printed.
  var documentPane = document.querySelector(".document[data-boxes]");
  var boxes = null;
  function showBoxes(name) {
    documentPane.querySelectorAll(".box").forEach(function (box) { box.remove(); });
    var first = null;
    (boxes[name] || []).forEach(function (b) {
      var page = documentPane.querySelector('.page[data-page="' + b.page + '"]');
      if (!page) return;
      var box = document.createElement("div");
      box.className = "box";
      box.dataset.field = name;
      box.style.left = (b.x * 100) + "%";
      box.style.top = (b.y * 100) + "%";
      box.style.width = (b.w * 100) + "%";
      box.style.height = (b.h * 100) + "%";
      page.appendChild(box);
      if (!first) first = box;
    });
    if (first) first.scrollIntoView({ block: "nearest" });
  }
  if (documentPane) {
    document.querySelectorAll("form.field").forEach(function (form) {
      form.addEventListener("focusin", function () {
        var name = form.dataset.field;
        if (boxes) { showBoxes(name); return; }
        fetch(documentPane.dataset.boxes, { headers: { Accept: "application/json" }, credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : {}; })
          .then(function (found) { boxes = found; showBoxes(name); })
          .catch(function () { boxes = {}; });
      });
    });
  }

  function neighbour(step) {
    try {
      var ids = JSON.parse(sessionStorage.getItem(INBOX_KEY) || "[]");
      var here = ids.indexOf(location.pathname);
      if (here >= 0 && ids[here + step]) return ids[here + step];
    } catch (e) { /* no stored inbox */ }
    return null;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var key = event.key;
    if (rows.length) {
      if (key === "j") { focusRow(current + 1); event.preventDefault(); }
      else if (key === "k") { focusRow(current - 1); event.preventDefault(); }
      return;
    }
    if (key === "j" || key === "k") {
      var target = neighbour(key === "j" ? 1 : -1);
      var link = document.querySelector("[data-shortcut=j]");
      if (target) location.href = target;
      else if (key === "j" && link) location.href = link.href;
      else if (key === "k") history.back();
      event.preventDefault();
    } else if (key === "a") {
      var approve = document.querySelector("button[data-shortcut=a]");
      if (approve) { approve.click(); event.preventDefault(); }
    } else if (key === "e") {
      var first = document.querySelector("form.field.low [name=value]:not([readonly]), form.field.warned [name=value]:not([readonly]), form.field [name=value]:not([readonly])");
      if (first) { first.focus(); if (first.select) first.select(); event.preventDefault(); }
    }
  });

  // Upload: each file its own request with a progress bar, then its status polled.
  var zone = document.getElementById("upload-form");
  if (zone) {
    var list = document.getElementById("uploads");
    var picker = document.getElementById("upload-files");
    var maxBytes = parseInt(zone.dataset.maxBytes, 10);
    var send = function (file) {
      var item = document.createElement("li");
      var name = document.createElement("span");
      name.textContent = file.name;
      var bar = document.createElement("progress");
      bar.max = 100; bar.value = 0;
      var state = document.createElement("span");
      state.className = "state";
      state.textContent = "uploading";
      item.append(name, bar, state);
      list.appendChild(item);
      if (file.size > maxBytes) { state.textContent = "too large"; item.dataset.status = "failed"; return; }
      var body = new FormData();
      body.append("file", file);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", zone.action);
      xhr.setRequestHeader("X-CSRF-Token", csrf);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = function (e) { if (e.lengthComputable) bar.value = Math.round(100 * e.loaded / e.total); };
      xhr.onload = function () {
        var answer = {};
        try { answer = JSON.parse(xhr.responseText); } catch (e) { /* shown below */ }
        if (xhr.status !== 202) {
          state.textContent = (answer.error && answer.error.message) || "upload failed";
          item.dataset.status = "failed";
          return;
        }
        bar.value = 100;
        poll(answer, item, state);
      };
      xhr.onerror = function () { state.textContent = "upload failed"; item.dataset.status = "failed"; };
      xhr.send(body);
    };
    var poll = function (invoice, item, state) {
      item.dataset.status = invoice.status;
      state.textContent = invoice.status;
      if (invoice.status === "succeeded" || invoice.status === "failed") {
        var link = document.createElement("a");
        link.href = invoice.url;
        link.textContent = invoice.status === "succeeded"
          ? ((invoice.vendor || "Open") + (invoice.total ? " · " + invoice.total : ""))
          : (invoice.error || "Open");
        item.appendChild(link);
        return;
      }
      setTimeout(function () {
        fetch(invoice.status_url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
          .then(function (r) { return r.json(); })
          .then(function (next) { poll(next, item, state); })
          .catch(function () { poll(invoice, item, state); });
      }, 1000);
    };
    var take = function (files) { Array.prototype.forEach.call(files, send); };
    zone.addEventListener("submit", function (e) { e.preventDefault(); });
    picker.addEventListener("change", function () { take(picker.files); picker.value = ""; });
    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (type) {
      zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (e) { take(e.dataTransfer.files); });
  }

  // Times as the reader's local time.
  document.querySelectorAll("time[data-unix]").forEach(function (el) {
    el.textContent = new Date(parseInt(el.dataset.unix, 10) * 1000).toLocaleString();
  });
})();
