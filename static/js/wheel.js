// The prize wheel: sends the spin to the public API (POST /api/v1/campaigns/{slug}/wheel/spins, signed in by the
// session, documented in the OpenAPI schema), turns the wheel so it stops on the prize the SERVER drew, then
// shows the result. The server decides everything; this file only animates. It reads only fields the API's
// SpinSerializer declares (tests/lottery/test_views.py checks that); the texts around them (result titles, button
// labels) come translated from the page (#wheel-texts). Without JavaScript the form posts normally and the page
// reloads with a message.
(function () {
  "use strict";
  var form = document.querySelector("[data-spin-form]");
  var disc = document.querySelector("[data-wheel-disc]");
  var textsNode = document.getElementById("wheel-texts");
  if (!form || !disc || !textsNode || !window.fetch) { return; }
  var texts = JSON.parse(textsNode.textContent);
  var button = form.querySelector("button[type=submit]");
  var token = form.querySelector("input[name=token]");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]");
  var errorBox = document.querySelector("[data-testid=spin-error]");
  var dialog = document.querySelector("[data-spin-result]");
  var reasonBox = document.querySelector("[data-spin-reason]");
  var segments = Array.prototype.slice.call(disc.querySelectorAll("[data-prize-id]"));
  var reduced = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  // Reduced motion: no turning at all, the wheel is simply shown stopped on the prize.
  var DURATION = reduced ? 0 : 4200; // ms
  var TURNS = reduced ? 0 : 6;
  var rotation = 0;
  var busy = false;

  // The Idempotency-Key of the next spin: the page's one-time token first, then a fresh random one after each
  // answered attempt. A retry after a lost answer keeps its key, so the server replays instead of spinning twice.
  function newKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
  }

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

  // Labels read outwards on the right half and inwards on the left, for where each slice rests NOW: after a spin
  // the slices have moved, so the labels are turned again and none is upside down (lottery/geometry.py does the
  // same for the wheel at rest when the page loads).
  function orientLabels() {
    Array.prototype.forEach.call(disc.querySelectorAll("text[data-centre]"), function (text) {
      var centre = Number(text.dataset.centre);
      var at = mod(centre + rotation, 360);
      var flipped = at > 180 && at < 360;
      var x = String(flipped ? -Number(text.dataset.labelFrom) : Number(text.dataset.labelFrom));
      text.setAttribute("transform", "rotate(" + (flipped ? centre + 90 : centre - 90) + ")");
      text.setAttribute("text-anchor", flipped ? "end" : "start");
      text.setAttribute("x", x);
      Array.prototype.forEach.call(text.querySelectorAll("tspan"), function (line) { line.setAttribute("x", x); });
    });
  }

  function spinTo(target, done) {
    var finished = false;
    function finish() {
      if (finished) { return; }
      finished = true;
      disc.classList.remove("spinning");
      disc.dataset.pointerPrize = underPointer();
      orientLabels();
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

  // Tap (or long-press) a slice: its full name shows under the wheel (labels may be shortened; <title> is only a
  // hover tooltip on a desktop).
  var caption = document.querySelector("[data-wheel-caption]");
  function nameSlice(e) {
    var seg = e.target.closest ? e.target.closest("[data-prize-id]") : null;
    var title = seg && seg.querySelector("title");
    if (!caption || !title) { return; }
    if (e.type === "contextmenu") { e.preventDefault(); } // a long-press names the slice instead of a menu
    caption.textContent = title.textContent;
  }
  disc.addEventListener("click", nameSlice);
  disc.addEventListener("contextmenu", nameSlice);

  function setStat(name, value) {
    var el = document.querySelector("[data-stat=" + name + "]");
    if (el && value !== null && value !== undefined) { el.textContent = String(value); }
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  // `spin` is the API's Spin response.
  function showResult(spin) {
    var text = texts.results[String(spin.prize.id)] || { title: spin.prize.name, message: "" };
    dialog.querySelector("[data-result-title]").textContent = text.title;
    dialog.querySelector("[data-result-message]").textContent = text.message;
    dialog.dataset.prizeId = String(spin.prize.id);
    dialog.dataset.drawId = String(spin.id);
    dialog.dataset.won = spin.won ? "1" : "0";
    var codeBox = dialog.querySelector("[data-result-code-box]");
    dialog.querySelector("[data-result-code]").textContent = spin.code || "";
    codeBox.hidden = !spin.code;
    var ships = spin.prize.kind === "physical";
    var address = dialog.querySelector("[data-result-address]");
    address.hidden = !ships;
    if (ships) { address.href = texts.address_url.replace("{id}", String(spin.id)); }
    dialog.querySelector("[data-result-prizes]").hidden = !spin.won;
    dialog.classList.toggle("spin-result-won", !!spin.won);
    dialog.hidden = false;
    document.body.classList.add("guide-open");
    (ships ? address : dialog.querySelector("[data-result-close]")).focus();
  }

  // `me` is the API's MemberSpinStatus after the spin.
  function showStatus(me) {
    setStat("balance", me.spendable);
    setStat("left_today", me.left_today);
    setStat("left_total", me.left_total);
    setStat("cost", texts.cost[String(me.next_cost)]);
    var free = document.querySelector("[data-stat=free]");
    var freeLabel = texts.free[String(me.free_left_today)];
    if (free) {
      free.textContent = freeLabel || "";
      free.hidden = !freeLabel;
    }
    // Out of reach before the tap: the caps (can_spin) or a cost above the balance, with the reason and what to do.
    var blocked = !me.can_spin ? (me.left_today === 0 ? "today" : "total") : (me.next_cost > me.spendable ? "points" : "");
    var block = blocked ? texts.blocked[blocked] : null;
    var label = block ? block.button : texts.button[String(me.next_cost)];
    if (label) { button.textContent = label; }
    button.disabled = !!block;
    if (block) { button.setAttribute("aria-describedby", "spin-reason"); } else { button.removeAttribute("aria-describedby"); }
    if (reasonBox) {
      reasonBox.hidden = !block;
      reasonBox.querySelector("[data-reason-text]").textContent = block ? block.reason : "";
      reasonBox.querySelector("[data-reason-links]").hidden = blocked !== "points";
    }
  }

  function closeResult() {
    dialog.hidden = true;
    document.body.classList.remove("guide-open");
    button.focus();
  }

  dialog.querySelector("[data-result-close]").addEventListener("click", closeResult);
  dialog.addEventListener("click", function (e) { if (e.target === dialog) { closeResult(); } });
  document.addEventListener("keydown", function (e) { if (e.key === "Escape" && !dialog.hidden) { closeResult(); } });

  function failed(message) {
    showError(message || form.dataset.errorNetwork);
    busy = false;
    button.disabled = false;
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (busy) { return; }
    busy = true;
    button.disabled = true;
    errorBox.hidden = true;
    fetch(form.dataset.api, {
      method: "POST",
      headers: { Accept: "application/json", "X-CSRFToken": csrf.value, "Idempotency-Key": token.value },
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.json().then(
          function (body) { return { status: response.status, body: body }; },
          function () { return { status: response.status, body: null }; }
        );
      })
      .then(function (answer) {
        var spin = answer.body;
        // Answered for good (a spin, or a refusal such as too few points): the next attempt is a new spin. Still
        // in flight (409) or a server error: keep the key, so trying again cannot spin twice.
        if (answer.status < 500 && answer.status !== 409) { token.value = newKey(); }
        if (answer.status !== 201 || !spin || !spin.prize) {
          failed(spin && spin.error ? spin.error.message : null);
          return;
        }
        spinTo(targetFor(spin.prize.id), function () {
          busy = false;
          showStatus(spin.me);
          showResult(spin);
        });
      })
      .catch(function () { failed(null); });
  });
})();
