// A kiosk's thank-you page: count down to the next customer's survey, and let this customer ask for more
// time as often as they need (WCAG 2.2.1). Without JavaScript the page's <noscript> refresh starts it over.
(function () {
  "use strict";
  var box = document.querySelector("[data-restart-url]");
  if (!box) return;
  var url = box.getAttribute("data-restart-url");
  var left = parseInt(box.getAttribute("data-restart-seconds"), 10);
  var more = parseInt(box.getAttribute("data-more-seconds"), 10);
  var shown = box.querySelector("[data-countdown]");
  var button = box.querySelector("[data-more-time]");
  button.hidden = false;
  button.addEventListener("click", function () {
    left += more;
    shown.textContent = left;
  });
  window.setInterval(function () {
    left -= 1;
    if (left <= 0) {
      window.location.replace(url);
      return;
    }
    shown.textContent = left;
  }, 1000);
})();
