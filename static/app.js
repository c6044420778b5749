// Shared Deals: the little htmx cannot do declaratively (no inline scripts: CSP).
// - html.js switches the JavaScript-only buttons on and their no-JS links off;
// - [data-open-dialog] opens a native <dialog>; Esc or [data-close-dialog] closes it,
//   resets its form and returns focus to the button that opened it;
// - after htmx swaps in a fragment, focus lands somewhere sensible;
// - the Pipeline editor offers only the chosen pipeline's stages;
// - on the board, dropping a card on another column submits its "Move to stage" form.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function focusById(id) {
    var element = id && document.getElementById(id);
    if (element) element.focus();
  }

  function openDialog(dialog, opener) {
    var form = dialog.querySelector("form");
    if (form) form.reset();
    dialog.dataset.returnFocus = opener.id || dialog.dataset.returnFocus || "";
    dialog.showModal();
  }

  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-open-dialog]");
    if (opener) {
      var dialog = document.getElementById(opener.getAttribute("data-open-dialog"));
      if (dialog) openDialog(dialog, opener);
      return;
    }
    var closer = event.target.closest("[data-close-dialog]");
    if (closer) {
      var open = closer.closest("dialog");
      if (open) open.close("cancel");
    }
  });

  // "close" does not bubble: listen in the capture phase for every dialog, now and later.
  document.addEventListener(
    "close",
    function (event) {
      var dialog = event.target;
      // Only the dialogs this script opens (others keep their own behaviour).
      if (!(dialog instanceof HTMLDialogElement) || !dialog.hasAttribute("data-return-focus")) return;
      if (dialog.returnValue !== "saved") {
        var form = dialog.querySelector("form");
        if (form) form.reset(); // Esc / Cancel: nothing changes
      }
      focusById(dialog.dataset.returnFocus);
    },
    true
  );

  // Esc inside an inline editor works like its Cancel button.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || event.target.closest("dialog")) return;
    var row = event.target.closest(".editing");
    var cancel = row && row.querySelector("[data-cancel]");
    if (cancel) {
      event.preventDefault();
      cancel.click();
    }
  });

  // Where focus goes once a swap settles, by the id of the element the request replaces.
  var pendingFocus = {};

  document.addEventListener("htmx:beforeRequest", function (event) {
    var source = event.detail.elt;
    var target = event.detail.target;
    if (!target || !target.id || !source.closest) return;
    var dialog = source.closest("dialog");
    var row = source.closest(".editing");
    if (dialog) {
      pendingFocus[target.id] = { id: dialog.dataset.returnFocus };
    } else if (row) {
      // Leaving an editor (Save or Cancel): focus that field's Edit button afterwards.
      pendingFocus[target.id] = { editButtonOf: row.id };
    }
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var reopen = document.querySelector("dialog[data-show-modal]:not([open])");
    if (reopen) {
      reopen.removeAttribute("data-show-modal");
      reopen.showModal();
    }
    var settled = event.detail.elt;
    var pending = settled && settled.id && pendingFocus[settled.id];
    if (!pending) return;
    delete pendingFocus[settled.id];
    if (reopen) return;
    if (pending.id) {
      focusById(pending.id);
    } else {
      var row = document.getElementById(pending.editButtonOf);
      var edit = row && !row.classList.contains("editing") && row.querySelector("button.edit-button");
      if (edit) edit.focus();
    }
  });

  // Pipeline editor: only the chosen pipeline's stages can be picked.
  function syncStages(pipelineSelect) {
    var form = pipelineSelect.form;
    var stageSelect = form && form.querySelector("[data-stage-select]");
    if (!stageSelect) return;
    var chosen = pipelineSelect.value;
    var groups = stageSelect.querySelectorAll("optgroup[data-pipeline-id]");
    var current = stageSelect.selectedOptions[0];
    var keep = current && current.parentElement.getAttribute("data-pipeline-id") === chosen;
    groups.forEach(function (group) {
      var match = group.getAttribute("data-pipeline-id") === chosen;
      group.hidden = !match;
      group.disabled = !match;
      if (match && !keep && group.querySelector("option")) {
        group.querySelector("option").selected = true;
      }
    });
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-pipeline-select]")) syncStages(event.target);
  });

  function syncAll(root) {
    (root || document).querySelectorAll("[data-pipeline-select]").forEach(syncStages);
  }
  document.addEventListener("htmx:load", function (event) {
    syncAll(event.detail.elt);
  });
  // Board: drag a card to another column = choose that stage in the card's own
  // "Move to stage" form and submit it (htmx posts it and swaps the board).
  var dragged = null;

  function dropColumn(event) {
    return dragged && event.target.closest ? event.target.closest("[data-drop-stage]") : null;
  }

  function clearDropTargets() {
    document.querySelectorAll(".drop-target").forEach(function (column) {
      column.classList.remove("drop-target");
    });
  }

  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest(".board-card[data-deal-id]");
    if (!card) return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.getAttribute("data-deal-id"));
    card.classList.add("dragging");
  });

  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    clearDropTargets();
  });

  document.addEventListener("dragover", function (event) {
    var column = dropColumn(event);
    if (!column) return;
    event.preventDefault(); // allows the drop
    event.dataTransfer.dropEffect = "move";
    if (!column.classList.contains("drop-target")) {
      clearDropTargets();
      column.classList.add("drop-target");
    }
  });

  document.addEventListener("drop", function (event) {
    var column = dropColumn(event);
    if (!column) return;
    event.preventDefault();
    var card = dragged;
    clearDropTargets();
    var form = document.getElementById("move-" + card.getAttribute("data-deal-id"));
    var select = form && form.querySelector("select[name=stage]");
    var stage = column.getAttribute("data-drop-stage");
    if (!select || card.closest("[data-drop-stage]") === column) return;
    select.value = stage;
    form.requestSubmit();
  });

  document.addEventListener("DOMContentLoaded", function () {
    syncAll(document);
    var dialog = document.querySelector("dialog[data-show-modal]");
    if (dialog) dialog.showModal();
  });
})();
