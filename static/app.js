// Small behaviours htmx does not cover: row selection on Users > Manage.
// Kept in a file (no inline scripts) so a strict Content-Security-Policy can forbid them.
(function () {
  "use strict";

  function rowBoxes() {
    return Array.from(document.querySelectorAll("#users-table .row-select"));
  }

  function updateSelection() {
    const bar = document.getElementById("selection-bar");
    if (!bar) return;
    const boxes = rowBoxes();
    const selected = boxes.filter((box) => box.checked).length;
    const all = document.getElementById("select-all");
    if (all) {
      all.checked = selected > 0 && selected === boxes.length;
      all.indeterminate = selected > 0 && selected < boxes.length;
    }
    bar.hidden = selected === 0;
    document.getElementById("selection-count").textContent =
      selected === 0 ? "" : selected + " selected";
  }

  document.addEventListener("change", function (event) {
    const target = event.target;
    if (target.id === "select-all") {
      rowBoxes().forEach((box) => { box.checked = target.checked; });
    }
    if (target.id === "select-all" || target.classList.contains("row-select")) {
      updateSelection();
    }
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-clear-selection]")) {
      rowBoxes().forEach((box) => { box.checked = false; });
      updateSelection();
    }
  });

  // A new page of the table starts with nothing selected.
  document.addEventListener("htmx:afterSettle", updateSelection);
  document.addEventListener("DOMContentLoaded", updateSelection);
})();

// The import dialog: opens when the wizard has been loaded into it; closing keeps the draft.
(function () {
  "use strict";
  document.addEventListener("htmx:afterSwap", function (event) {
    const dialog = document.getElementById("import-dialog");
    if (dialog && event.detail.target.id === "import-dialog-body" && !dialog.open) {
      dialog.showModal();
    }
  });
  // A new step replaced the one that had the focus: put it on the step's title, which also
  // tells a screen reader where the admin is ("step 3 of 5, Levels").
  document.addEventListener("htmx:afterSettle", function (event) {
    const wizard = document.getElementById("wizard");
    const elt = event.detail.elt;
    if (!wizard) return;
    if (elt.tagName === "TR" && wizard.contains(elt)) {
      // A fixed row: keep the keyboard on that row rather than jump to the top.
      if (!elt.contains(document.activeElement)) {
        elt.setAttribute("tabindex", "-1");
        elt.focus();
      }
      return;
    }
    if (elt !== wizard || wizard.contains(document.activeElement)) return;
    const title = document.getElementById("wizard-title");
    if (title) title.focus();
  });
  document.addEventListener("click", function (event) {
    const close = event.target.closest("[data-close-dialog]");
    if (close) close.closest("dialog").close();
  });
})();
