/* kbsite: the light/dark toggle.
 *
 * Loaded in <head> without defer, so the reader's stored choice is on <html> before
 * anything is painted (no flash of the other theme). Without a stored choice the
 * system's prefers-color-scheme decides, in the stylesheet alone. The button is in
 * every page's header and stays hidden when scripts do not run.
 */
(function () {
  "use strict";
  var KEY = "kbsite-theme";
  var root = document.documentElement;

  function stored() {
    try {
      return window.localStorage.getItem(KEY);
    } catch (error) {
      return null; // storage refused (private mode, some file:// settings)
    }
  }

  function current() {
    var chosen = root.getAttribute("data-theme");
    if (chosen === "dark" || chosen === "light") return chosen;
    return window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }

  var choice = stored();
  if (choice === "dark" || choice === "light") root.setAttribute("data-theme", choice);

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("theme-toggle");
    if (!button) return;
    function show() {
      var dark = current() === "dark";
      button.setAttribute("aria-pressed", dark ? "true" : "false");
      button.title = dark ? "Use the light theme" : "Use the dark theme";
    }
    button.hidden = false;
    show();
    button.addEventListener("click", function () {
      var next = current() === "dark" ? "light" : "dark";
      root.setAttribute("data-theme", next);
      try {
        window.localStorage.setItem(KEY, next);
      } catch (error) {
        /* the choice then lasts for this page only */
      }
      show();
    });
  });
})();
