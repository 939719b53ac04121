/* The project's only script besides HTMX: small behaviours, no inline script in any page. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var printer = event.target.closest("[data-print]");
    if (printer) { event.preventDefault(); window.print(); }
  });
  /* On a phone the main menu folds behind the 菜单 button (without JavaScript it stays open). */
  document.documentElement.classList.add("js");
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-menu-button]");
    if (!button) { return; }
    var menu = document.getElementById(button.getAttribute("aria-controls"));
    var open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", open ? "true" : "false");
    if (menu) { menu.classList.toggle("open", open); }
  });
  document.addEventListener("submit", function (event) {
    var question = (event.submitter && event.submitter.getAttribute("data-confirm")) || event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });
  /* A code slip's QR code opens /vote/#CODE: the fragment never reaches the server. Move it
     into the form (sent in the POST body) and drop it from the address bar and history. */
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("[data-code-from-fragment]");
    if (!form || !window.location.hash) { return; }
    var input = form.querySelector("input[name=code]");
    if (input) { input.value = decodeURIComponent(window.location.hash.slice(1)); }
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", window.location.pathname);
    }
  });

  /* Evidence files are checked in the browser before they are sent (size, count, type; the
     server checks again), and a form with files is sent with a progress bar: over 3G a photo
     takes minutes, and a refusal after the upload wastes them. */
  function fileProblems(input) {
    var problems = [];
    var files = input.files || [];
    var form = input.form;
    var kept = form ? form.querySelectorAll("input[name=existing]:checked").length : 0;
    var maxFiles = parseInt(input.getAttribute("data-max-files"), 10);
    var maxBytes = parseInt(input.getAttribute("data-max-bytes"), 10);
    var types = (input.getAttribute("data-types") || "").split(",");
    if (maxFiles && files.length + kept > maxFiles) { problems.push(input.getAttribute("data-too-many")); }
    for (var i = 0; i < files.length; i++) {
      var name = files[i].name;
      var dot = name.lastIndexOf(".");
      var ending = dot >= 0 ? name.slice(dot).toLowerCase() : "";
      if (types.length && types.indexOf(ending) < 0) {
        problems.push(input.getAttribute("data-bad-type").replace("{name}", name));
      } else if (maxBytes && files[i].size > maxBytes) {
        problems.push(input.getAttribute("data-too-big").replace("{name}", name));
      }
    }
    return problems;
  }
  function showFileProblems(input) {
    var box = input.parentNode.querySelector(".file-problems");
    if (!box) {
      box = document.createElement("div");
      box.className = "error file-problems";
      box.setAttribute("role", "alert");
      input.parentNode.insertBefore(box, input.nextSibling);
    }
    var problems = fileProblems(input);
    box.textContent = problems.join(" ");
    box.hidden = problems.length === 0;
    input.setCustomValidity(problems.length ? problems[0] : "");
    return problems.length === 0;
  }
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("input[type=file][data-max-bytes]")) { showFileProblems(target); }
    if (target.matches && target.matches("input[name=existing]") && target.form) {
      var input = target.form.querySelector("input[type=file][data-max-bytes]");
      if (input) { showFileProblems(input); }
    }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var input = form.querySelector("input[type=file][data-max-bytes]");
    if (event.defaultPrevented || !input) { return; }
    if (!showFileProblems(input)) { event.preventDefault(); input.focus(); return; }
    if (!input.files || !input.files.length || !window.FormData || !window.XMLHttpRequest) { return; }
    event.preventDefault();
    var data = new FormData(form);
    if (event.submitter && event.submitter.name) { data.append(event.submitter.name, event.submitter.value); }
    var bar = form.querySelector("progress.upload") || document.createElement("progress");
    var label = form.querySelector(".upload-label") || document.createElement("span");
    bar.className = "upload"; bar.max = 100; bar.value = 0;
    label.className = "upload-label muted";
    label.setAttribute("aria-live", "polite");
    (event.submitter || input).insertAdjacentElement("afterend", label);
    label.insertAdjacentElement("beforebegin", bar);
    Array.prototype.forEach.call(form.querySelectorAll("button[type=submit], button:not([type])"), function (b) { b.disabled = true; });
    var sending = input.getAttribute("data-sending") || "%(percent)s";
    var request = new XMLHttpRequest();
    request.open("POST", form.getAttribute("action") || window.location.href);
    request.upload.addEventListener("progress", function (progress) {
      if (!progress.lengthComputable) { return; }
      var percent = Math.round(progress.loaded * 100 / progress.total);
      bar.value = percent;
      label.textContent = sending.replace("%(percent)s", percent + "%");
    });
    request.addEventListener("load", function () {
      /* The page the server answered with (the record after a redirect, or the form with its
         errors): shown as it is, since its one-time messages were spent on this request. */
      var url = request.responseURL || window.location.href;
      if (window.history && window.history.replaceState) { window.history.replaceState(null, "", url); }
      document.open(); document.write(request.responseText); document.close();
    });
    request.addEventListener("error", function () {
      Array.prototype.forEach.call(form.querySelectorAll("button"), function (b) { b.disabled = false; });
      label.textContent = "";
      form.submit();
    });
    request.send(data);
  });
}());
