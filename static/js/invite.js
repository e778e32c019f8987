// "Invite friends" (templates/referrals/invite.html): copy the invite link, and share the poster through the
// phone's share sheet (Web Share API with the poster as a file where the browser can share files, else the link)
// or download it where there is no share sheet. The buttons stay hidden without JavaScript: the link can be
// selected by hand and the poster downloaded by its link. Texts come from data- attributes (translated there).
(function () {
  "use strict";

  var field = document.querySelector("[data-invite-link]");
  var copyButton = document.querySelector("[data-copy]");
  var status = document.querySelector("[data-copy-status]");

  function say(text) {
    if (status) {
      status.textContent = text;
    }
  }

  function copyBySelection() {
    field.focus();
    field.select();
    field.setSelectionRange(0, field.value.length);
    var done = false;
    try {
      done = document.execCommand("copy");
    } catch (error) {
      done = false;
    }
    return done;
  }

  if (field && copyButton) {
    copyButton.hidden = false;
    copyButton.addEventListener("click", function () {
      var copied = copyButton.getAttribute("data-copied");
      var failed = copyButton.getAttribute("data-copy-failed");
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(
          function () { say(copied); },
          function () { say(copyBySelection() ? copied : failed); }
        );
      } else {
        say(copyBySelection() ? copied : failed);
      }
    });
  }

  var shareButton = document.querySelector("[data-share]");
  var download = document.querySelector("[data-poster-download]");
  if (!shareButton || !download || !navigator.share) {
    return; // no share sheet: the download link does it
  }
  shareButton.hidden = false;

  function shareLink() {
    return navigator.share({
      title: shareButton.getAttribute("data-title"),
      text: shareButton.getAttribute("data-text"),
      url: shareButton.getAttribute("data-link")
    });
  }

  shareButton.addEventListener("click", function () {
    var poster = shareButton.getAttribute("data-poster");
    var name = shareButton.getAttribute("data-poster-name") || "invite.png";
    fetch(poster, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("poster " + response.status);
        }
        return response.blob();
      })
      .then(function (blob) {
        var file = new File([blob], name, { type: "image/png" });
        if (navigator.canShare && navigator.canShare({ files: [file] })) {
          return navigator.share({
            files: [file],
            title: shareButton.getAttribute("data-title"),
            text: shareButton.getAttribute("data-text") + " " + shareButton.getAttribute("data-link")
          });
        }
        return shareLink();
      })
      .catch(function (error) {
        if (error && error.name === "AbortError") {
          return; // the member closed the share sheet
        }
        download.click();
      });
  });
})();
