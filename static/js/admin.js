/* The portal's fixes to Django admin's scripted widgets, for assistive technology (axe-core).
   Loaded by templates/admin/base_site.html; a file, not an inline script (the CSP forbids those).
   - Select2 (autocomplete fields): its combobox is named by the field's label, not only by the
     text of the current choice (empty on an add page).
   - The filter_horizontal search icons: a span with aria-label needs a role (img) to carry it. */
(function () {
  "use strict";

  function nameComboboxes() {
    document.querySelectorAll(".select2-selection[role=combobox]").forEach(function (box) {
      if (box.dataset.portalNamed) return;
      var container = box.closest(".select2-container");
      var select = container && container.previousElementSibling;
      if (!select || select.tagName !== "SELECT" || !select.id) return;
      var label = document.querySelector('label[for="' + select.id + '"]');
      if (!label) return;
      if (!label.id) label.id = select.id + "_label";
      var shown = box.getAttribute("aria-labelledby");
      box.setAttribute("aria-labelledby", shown ? label.id + " " + shown : label.id);
      // The span showing the current choice is a read-only textbox of its own: named too.
      var rendered = shown && document.getElementById(shown);
      if (rendered && !rendered.hasAttribute("aria-labelledby")) rendered.setAttribute("aria-labelledby", label.id);
      box.dataset.portalNamed = "1";
    });
  }

  function roleForLabelledIcons() {
    document.querySelectorAll("span.help-tooltip[aria-label]:not([role])").forEach(function (icon) {
      icon.setAttribute("role", "img");
    });
  }

  function fix() {
    nameComboboxes();
    roleForLabelledIcons();
  }

  document.addEventListener("DOMContentLoaded", function () {
    fix();
    // Select2 and the filter widgets are built after this (jQuery ready, window load) and again
    // when an inline row is added: fix whatever they add.
    new MutationObserver(fix).observe(document.body, { childList: true, subtree: true });
  });
  window.addEventListener("load", fix);
})();
