// The staff pickup page: the code field is focused with its text selected, so the next code typed or scanned
// replaces a refused one instead of being appended to it.
(function () {
  "use strict";
  var field = document.querySelector("[data-pickup-code]");
  if (field) {
    field.focus();
    field.select();
  }
})();
