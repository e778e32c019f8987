// Live countdown to the next campaign phase boundary. The markup (labels, units, initial numbers) is rendered
// by the server in the member's language; this only keeps the numbers ticking. The server's clock is the
// reference: data-now is the server time at render, so a wrong phone clock does not skew the countdown.
(function () {
  "use strict";
  var pad = function (n) { return (n < 10 ? "0" : "") + n; };
  document.querySelectorAll("[data-countdown]").forEach(function (el) {
    var target = Number(el.dataset.target) * 1000;
    var skew = Number(el.dataset.now) * 1000 - Date.now();
    var parts = {};
    el.querySelectorAll("[data-part]").forEach(function (p) { parts[p.dataset.part] = p; });
    var startedPositive = target - (Date.now() + skew) > 0;
    var timer = null;
    function tick() {
      var left = Math.max(0, Math.floor((target - (Date.now() + skew)) / 1000));
      parts.days.textContent = String(Math.floor(left / 86400));
      parts.hours.textContent = pad(Math.floor((left % 86400) / 3600));
      parts.minutes.textContent = pad(Math.floor((left % 3600) / 60));
      parts.seconds.textContent = pad(left % 60);
      el.dataset.remaining = String(left);
      if (left === 0) {
        clearInterval(timer);
        el.querySelector(".countdown-done").hidden = false;
        // The phase changed under the member's eyes: reload once so badge, entrances and countdown follow.
        if (startedPositive) { setTimeout(function () { window.location.reload(); }, 1500); }
      }
    }
    tick();
    timer = setInterval(tick, 1000);
  });
})();
