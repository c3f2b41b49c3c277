/* dealbridge console: auto-refresh of [data-refresh] fragments, confirm dialogs, record picker.
   Small on purpose, no library: the Content-Security-Policy allows only this origin's scripts. */
(function () {
  "use strict";

  /* <div data-refresh="/path" data-refresh-seconds="15">: replace its content with a fresh
     copy of /path every N seconds; a failed fetch keeps the old figures (they say "as of"). */
  function startRefresh(element) {
    var path = element.getAttribute("data-refresh");
    var seconds = parseInt(element.getAttribute("data-refresh-seconds") || "15", 10);
    if (!path || !(seconds > 0)) { return; }
    window.setInterval(function () {
      if (document.hidden) { return; }
      fetch(path, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) {
          if (response.redirected || !response.ok) { return null; }
          return response.text();
        })
        .then(function (html) {
          if (html !== null) { element.innerHTML = html; }
        })
        .catch(function () { /* offline for a moment: try again next time */ });
    }, seconds * 1000);
  }

  /* <form data-confirm="Question?">: ask before submitting. */
  function guardSubmit(form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  }

  /* <select data-reload-param="record">: reload the page with ?record=<choice>, so the form
     below shows the chosen record's payload. */
  function reloadOnChange(select) {
    select.addEventListener("change", function () {
      var url = new URL(window.location.href);
      url.searchParams.set(select.getAttribute("data-reload-param"), select.value);
      url.searchParams.delete("notice");
      window.location.assign(url.toString());
    });
  }

  function each(selector, action) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), action);
  }

  document.addEventListener("DOMContentLoaded", function () {
    each("[data-refresh]", startRefresh);
    each("form[data-confirm]", guardSubmit);
    each("select[data-reload-param]", reloadOnChange);
  });
})();
