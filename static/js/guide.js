// First-visit newbie guide: shows the server-rendered (translated) steps one at a time. Finishing or skipping
// it is remembered in localStorage and in a cookie (so the server stops rendering it), for a year.
(function () {
  "use strict";
  var guide = document.querySelector("[data-guide]");
  if (!guide) { return; }
  var KEY = guide.dataset.cookie;
  var steps = guide.querySelectorAll("[data-step]");
  var dots = guide.querySelectorAll(".guide-dots span");
  var next = guide.querySelector("[data-guide-next]");
  var done = guide.querySelector("[data-guide-done]");
  var current = 0;

  function dismissed() {
    try { if (window.localStorage.getItem(KEY) === "1") { return true; } } catch (e) { /* storage disabled */ }
    return document.cookie.split("; ").indexOf(KEY + "=1") !== -1;
  }
  function show(index) {
    current = index;
    steps.forEach(function (s, i) { s.hidden = i !== index; });
    dots.forEach(function (d, i) { d.classList.toggle("on", i === index); });
    var last = index === steps.length - 1;
    next.hidden = last;
    done.hidden = !last;
    (last ? done : next).focus();
  }
  function open() {
    guide.hidden = false;
    document.body.classList.add("guide-open");
    show(0);
  }
  function close() {
    guide.hidden = true;
    document.body.classList.remove("guide-open");
    try { window.localStorage.setItem(KEY, "1"); } catch (e) { /* storage disabled: the cookie remembers */ }
    document.cookie = KEY + "=1; path=/; max-age=31536000; SameSite=Lax";
  }

  next.addEventListener("click", function () { show(Math.min(current + 1, steps.length - 1)); });
  done.addEventListener("click", close);
  guide.querySelector("[data-guide-skip]").addEventListener("click", close);
  guide.addEventListener("keydown", function (e) { if (e.key === "Escape") { close(); } });
  document.querySelectorAll("[data-guide-open]").forEach(function (b) { b.addEventListener("click", open); });
  if (!dismissed()) { open(); }
})();
