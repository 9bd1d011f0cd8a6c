// Reloads a page that shows a job in progress (an element with data-refresh-seconds), so its
// progress shows without a click; without JavaScript the page has a "refresh now" link instead.
// A file, not an inline script: the CSP forbids inline scripts.
(function () {
  var marked = document.querySelector("[data-refresh-seconds]");
  if (!marked) return;
  var seconds = parseInt(marked.getAttribute("data-refresh-seconds"), 10);
  if (!(seconds > 0)) return;
  window.setTimeout(function () { window.location.reload(); }, seconds * 1000);
})();
