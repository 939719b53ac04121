/* The project's only script besides HTMX: small behaviours, no inline script in any page. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var printer = event.target.closest("[data-print]");
    if (printer) { event.preventDefault(); window.print(); }
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
}());
