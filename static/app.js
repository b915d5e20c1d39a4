// Small behaviours htmx does not cover: row selection and export on Users > Manage.
// Kept in a file (no inline scripts) so a strict Content-Security-Policy can forbid them.
(function () {
  "use strict";

  // "All matching": the admin chose every user that matches the search, not just this page.
  let allMatching = false;

  function rowBoxes() {
    return Array.from(document.querySelectorAll("#users-table .row-select"));
  }

  function matchingTotal() {
    const count = document.getElementById("result-count");
    return count ? parseInt(count.dataset.total, 10) || 0 : 0;
  }

  // A search that found very many users counted them only up to a bound: "more than".
  function moreMatch() {
    const count = document.getElementById("result-count");
    return Boolean(count && count.dataset.more === "true");
  }

  // The words come from the page (data-* attributes of the selection bar), in its language.
  // With ``more``, the count is a bound: "more than 1,000".
  function say(name, count, more) {
    const bar = document.getElementById("selection-bar");
    const locale = bar.dataset.numberLocale || "en";
    let amount = count.toLocaleString(locale);
    if (more) amount = bar.dataset.moreThan.replace("{count}", amount);
    return bar.dataset[name].replace("{count}", amount);
  }

  function updateSelection() {
    const bar = document.getElementById("selection-bar");
    if (!bar) return;
    const boxes = rowBoxes();
    const ticked = boxes.filter((box) => box.checked).length;
    const all = document.getElementById("select-all");
    if (all) {
      all.checked = ticked > 0 && ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
    }
    if (ticked < boxes.length) allMatching = false;
    const total = matchingTotal();
    const uncounted = moreMatch();
    const selected = allMatching ? total : ticked;
    const bound = allMatching && uncounted; // "selected" is a bound, not a count
    bar.hidden = selected === 0;
    let status = "";
    if (allMatching) status = say(uncounted ? "allMatchingMore" : "allMatching", total);
    else if (selected > 0) status = say("selected", selected);
    document.getElementById("selection-count").textContent = status;
    // The whole page is ticked and there are more: offer everyone that matches.
    const more = document.getElementById("select-matching");
    more.hidden =
      allMatching || ticked === 0 || ticked < boxes.length || (total <= ticked && !uncounted);
    more.textContent = say(uncounted ? "selectMatchingMore" : "selectMatching", total);
    document.getElementById("export-count").textContent = say("count", selected, bound);
    // A whole sentence per number, as each language says it ("Export 1 user").
    document.getElementById("export-dialog-title").textContent =
      say(selected === 1 && !bound ? "exportOne" : "exportMany", selected, bound);
    document.getElementById("export-scope").value = allMatching ? "matching" : "ticked";
  }

  function clearSelection() {
    allMatching = false;
    rowBoxes().forEach((box) => { box.checked = false; });
    updateSelection();
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
    if (event.target.closest("[data-clear-selection]")) clearSelection();
    if (event.target.closest("#select-matching")) {
      allMatching = true;
      updateSelection();
      document.getElementById("export-button").focus();
    }
    if (event.target.closest("#export-button")) {
      openModal(document.getElementById("export-dialog"), document.getElementById("export-button"));
    }
  });

  // The export was asked for: close the dialog, start afresh, show its progress.
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.elt.id !== "export-form") return;
    document.getElementById("export-dialog").close();
    if (event.detail.successful) clearSelection();
    const status = document.getElementById("export-status");
    if (status) {
      status.setAttribute("tabindex", "-1");
      status.focus();
    }
  });

  // A new page of the table starts with nothing selected.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.target && event.detail.target.id === "users-table") allMatching = false;
    updateSelection();
  });
  document.addEventListener("DOMContentLoaded", updateSelection);
})();

// Modal dialogs (import, export): the keyboard stays inside while one is open (Tab wraps
// around), Escape closes it (the browser does), and the focus goes back to what opened it.
function openModal(dialog, opener) {
  "use strict";
  dialog.opener = opener || document.activeElement;
  dialog.showModal();
}

(function () {
  "use strict";
  function focusable(dialog) {
    return Array.from(dialog.querySelectorAll(
      "a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), " +
      "select:not([disabled]), textarea:not([disabled]), summary, [tabindex='0']"
    )).filter(function (element) { return element.offsetParent !== null; });
  }
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Tab") return;
    const dialog = document.querySelector("dialog[open]");
    if (!dialog) return;
    const items = focusable(dialog);
    if (items.length === 0) return;
    const first = items[0];
    const last = items[items.length - 1];
    const inside = dialog.contains(document.activeElement);
    if (event.shiftKey && (document.activeElement === first || !inside)) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (document.activeElement === last || !inside)) {
      event.preventDefault();
      first.focus();
    }
  });
  document.addEventListener("close", function (event) {
    const dialog = event.target;
    if (dialog.tagName === "DIALOG" && dialog.opener && document.contains(dialog.opener)) {
      dialog.opener.focus();
    }
  }, true);
})();

// The import dialog: opens when the wizard has been loaded into it; closing keeps the draft.
(function () {
  "use strict";
  document.addEventListener("htmx:afterSwap", function (event) {
    const dialog = document.getElementById("import-dialog");
    // A page restored from history (browser Back) is swapped in with no target.
    const target = event.detail.target;
    if (dialog && target && target.id === "import-dialog-body" && !dialog.open) {
      openModal(dialog, event.detail.requestConfig && event.detail.requestConfig.elt);
    }
  });
  // A new step replaced the one that had the focus: put it on the step's title, which also
  // tells a screen reader where the admin is ("step 3 of 5, Levels").
  document.addEventListener("htmx:afterSettle", function (event) {
    const wizard = document.getElementById("wizard");
    const elt = event.detail.elt;
    if (!wizard || !elt) return;
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
