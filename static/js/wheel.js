// The prize wheel: sends the spin with fetch, turns the wheel so it stops on the prize the SERVER drew, then
// shows the result. The server decides everything (and renders every text in the member's language); this
// file only animates. Without JavaScript the form posts normally and the page reloads with a message.
(function () {
  "use strict";
  var form = document.querySelector("[data-spin-form]");
  var disc = document.querySelector("[data-wheel-disc]");
  if (!form || !disc || !window.fetch || !window.FormData) { return; }
  var button = form.querySelector("button[type=submit]");
  var token = form.querySelector("input[name=token]");
  var errorBox = document.querySelector("[data-testid=spin-error]");
  var dialog = document.querySelector("[data-spin-result]");
  var segments = Array.prototype.slice.call(disc.querySelectorAll("[data-prize-id]"));
  var reduced = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var DURATION = reduced ? 600 : 4200; // ms
  var TURNS = reduced ? 1 : 6;
  var rotation = 0;
  var busy = false;

  function mod(a, n) { return ((a % n) + n) % n; }

  function segmentOf(prizeId) {
    for (var i = 0; i < segments.length; i++) {
      if (segments[i].dataset.prizeId === String(prizeId)) { return segments[i]; }
    }
    return null;
  }

  // The slice under the pointer (12 o'clock) for the current rotation: pure geometry, so tests can check
  // that the wheel really stopped on the prize the server returned.
  function underPointer() {
    var angle = mod(-rotation, 360);
    for (var i = 0; i < segments.length; i++) {
      var s = segments[i];
      if (angle >= Number(s.dataset.start) && angle < Number(s.dataset.end)) { return s.dataset.prizeId; }
    }
    return "";
  }

  // Where to stop: several full turns, then the middle part of the prize's slice under the pointer. The
  // offset inside the slice is only for looks (the prize is already decided by the server).
  function targetFor(prizeId) {
    var seg = segmentOf(prizeId);
    var base = rotation + 360 * TURNS;
    if (!seg) { return base + Math.floor(Math.random() * 360); } // a prize restocked after the page loaded
    var start = Number(seg.dataset.start), end = Number(seg.dataset.end);
    var inside = start + (end - start) * (0.2 + 0.6 * Math.random());
    return base + mod(-inside - base, 360);
  }

  function spinTo(target, done) {
    var finished = false;
    function finish() {
      if (finished) { return; }
      finished = true;
      disc.classList.remove("spinning");
      disc.dataset.pointerPrize = underPointer();
      done();
    }
    rotation = target;
    disc.dataset.rotation = String(rotation);
    disc.dataset.pointerPrize = "";
    disc.style.transitionDuration = DURATION + "ms";
    disc.classList.add("spinning");
    disc.style.transform = "rotate(" + rotation + "deg)";
    disc.addEventListener("transitionend", finish, { once: true });
    setTimeout(finish, DURATION + 400); // in case transitionend never comes (tab hidden, no transition)
  }

  function setStat(name, value) {
    var el = document.querySelector("[data-stat=" + name + "]");
    if (el && value !== null && value !== undefined) { el.textContent = String(value); }
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  function showResult(data) {
    dialog.querySelector("[data-result-title]").textContent = data.title;
    dialog.querySelector("[data-result-message]").textContent = data.message;
    dialog.dataset.prizeId = String(data.prize_id);
    dialog.dataset.won = data.won ? "1" : "0";
    var codeBox = dialog.querySelector("[data-result-code-box]");
    dialog.querySelector("[data-result-code]").textContent = data.code || "";
    codeBox.hidden = !data.code;
    var address = dialog.querySelector("[data-result-address]");
    address.hidden = !data.address_url;
    if (data.address_url) { address.href = data.address_url; }
    var prizes = dialog.querySelector("[data-result-prizes]");
    prizes.hidden = !data.won;
    prizes.href = data.prizes_url;
    dialog.classList.toggle("spin-result-won", !!data.won);
    dialog.hidden = false;
    document.body.classList.add("guide-open");
    (data.address_url ? address : dialog.querySelector("[data-result-close]")).focus();
  }

  function closeResult() {
    dialog.hidden = true;
    document.body.classList.remove("guide-open");
    button.focus();
  }

  dialog.querySelector("[data-result-close]").addEventListener("click", closeResult);
  dialog.addEventListener("click", function (e) { if (e.target === dialog) { closeResult(); } });
  document.addEventListener("keydown", function (e) { if (e.key === "Escape" && !dialog.hidden) { closeResult(); } });

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (busy) { return; }
    busy = true;
    button.disabled = true;
    errorBox.hidden = true;
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.json().then(function (data) { return data; }, function () { return null; });
      })
      .then(function (data) {
        if (!data || data.error) {
          showError(data && data.error ? data.error.message : form.dataset.errorNetwork);
          busy = false;
          button.disabled = false;
          return;
        }
        token.value = data.next_token || (window.crypto && crypto.randomUUID ? crypto.randomUUID() : token.value);
        spinTo(targetFor(data.prize_id), function () {
          setStat("balance", data.balance);
          setStat("left_today", data.left_today);
          setStat("left_total", data.left_total);
          setStat("cost", data.cost_label);
          setStat("free", data.free_label);
          var free = document.querySelector("[data-stat=free]");
          if (free) { free.hidden = !data.free_label; }
          button.textContent = data.button_label;
          busy = false;
          button.disabled = !data.can_spin;
          showResult(data);
        });
      })
      .catch(function () {
        showError(form.dataset.errorNetwork);
        busy = false;
        button.disabled = false;
      });
  });
})();
