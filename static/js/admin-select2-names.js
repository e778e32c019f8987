/* The admin's search pickers (select2: autocomplete_fields and our Adjust form) name their combobox only by the
   chosen value, so an empty picker has no accessible name (WCAG 4.1.2, axe "aria-input-field-name"). Name the
   combobox by the field's own <label> followed by the chosen value, and the value's read-only box by the label.
   The admin's scripts build the pickers after the page loads (and again for each added inline row), so this
   watches the page for them; it only sets attributes, which it does not watch. */
"use strict";
(() => {
  const name = () => {
    document.querySelectorAll("select.admin-autocomplete").forEach((select) => {
      const label = select.id && document.querySelector(`label[for="${select.id}"]`);
      const container = select.nextElementSibling;
      const box = container && container.querySelector(".select2-selection");
      if (!label || !box) {
        return;
      }
      label.id = label.id || `${select.id}-label`;
      const ids = (box.getAttribute("aria-labelledby") || "").split(" ").filter(Boolean);
      if (!ids.includes(label.id)) {
        box.setAttribute("aria-labelledby", [label.id, ...ids].join(" "));
      }
      const rendered = box.querySelector(".select2-selection__rendered");
      if (rendered && !rendered.hasAttribute("aria-labelledby")) {
        rendered.setAttribute("aria-labelledby", label.id);
      }
    });
  };
  document.addEventListener("DOMContentLoaded", () => {
    name();
    new MutationObserver(name).observe(document.body, {childList: true, subtree: true});
  });
  window.addEventListener("load", name);
})();
