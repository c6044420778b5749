// Shared Deals: the little htmx cannot do declaratively (no inline scripts: CSP).
// - html.js switches the JavaScript-only buttons on and their no-JS links off;
// - [data-open-dialog] opens a native <dialog>; Esc or [data-close-dialog] closes it,
//   resets its form and returns focus to the button that opened it;
// - [data-dropdown-toggle] is a disclosure button (aria-expanded) opening the list of
//   checkboxes it controls in place; Esc, Cancel or a click outside closes it (unsaved
//   ticks undone) and Esc returns focus to the button;
// - after htmx swaps in a fragment, focus lands somewhere sensible;
// - the Pipeline editor offers only the chosen pipeline's stages;
// - [data-confirm-dialog] links (e.g. Deregister) show their confirmation page's
//   .confirm-box in a modal <dialog> instead of navigating; Esc or Cancel closes it.
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

  function confirmInDialog(link) {
    fetch(link.href, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.text();
      })
      .then(function (html) {
        var box = new DOMParser().parseFromString(html, "text/html").querySelector(".confirm-box");
        if (!box) throw new Error("no confirmation");
        var dialog = document.getElementById("confirm-dialog");
        if (!dialog) {
          dialog = document.createElement("dialog");
          dialog.id = "confirm-dialog";
          dialog.setAttribute("data-return-focus", "");
          dialog.setAttribute("aria-labelledby", "deregister-title");
          document.body.appendChild(dialog);
        }
        dialog.replaceChildren(box);
        if (!link.id) link.id = "confirm-opener-" + Date.now();
        dialog.dataset.returnFocus = link.id;
        dialog.showModal();
        var cancel = dialog.querySelector("[data-dialog-cancel]");
        if (cancel) cancel.focus();
      })
      .catch(function () {
        window.location.href = link.href; // the confirmation page itself
      });
  }

  // Dropdowns of checkboxes: the button and the panel it controls (aria-controls).
  function panelOf(toggle) {
    return document.getElementById(toggle.getAttribute("aria-controls"));
  }

  function toggleOf(node) {
    var panel = node.closest && node.closest("[data-dropdown-panel]");
    return panel && panel.id ? document.querySelector('[aria-controls="' + panel.id + '"]') : null;
  }

  function setDropdown(toggle, open, returnFocus) {
    var panel = panelOf(toggle);
    if (!panel) return;
    if (!open) {
      var form = panel.querySelector("form");
      if (form) form.reset(); // closing without "save" changes nothing
    }
    panel.hidden = !open;
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    if (returnFocus) toggle.focus();
  }

  document.addEventListener("click", function (event) {
    var confirmLink = event.target.closest("a[data-confirm-dialog]");
    if (confirmLink) {
      event.preventDefault();
      confirmInDialog(confirmLink);
      return;
    }
    var dialogCancel = event.target.closest("dialog [data-dialog-cancel]");
    if (dialogCancel) {
      event.preventDefault();
      dialogCancel.closest("dialog").close("cancel");
      return;
    }
    var toggle = event.target.closest("[data-dropdown-toggle]");
    document.querySelectorAll('[data-dropdown-toggle][aria-expanded="true"]').forEach(function (open) {
      var panel = panelOf(open);
      if (open !== toggle && panel && !panel.contains(event.target)) setDropdown(open, false, false);
    });
    if (toggle) {
      setDropdown(toggle, toggle.getAttribute("aria-expanded") !== "true", true);
      return;
    }
    var dropdownClose = event.target.closest("[data-dropdown-close]");
    if (dropdownClose) {
      var owner = toggleOf(dropdownClose);
      if (owner) setDropdown(owner, false, true);
      return;
    }
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

  // Esc inside an open dropdown (or on its button) closes it and focuses the button.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !event.target.closest) return;
    var toggle = event.target.matches("[data-dropdown-toggle]") ? event.target : toggleOf(event.target);
    if (toggle && toggle.getAttribute("aria-expanded") === "true") {
      event.preventDefault();
      setDropdown(toggle, false, true);
    }
  });

  // Esc inside an inline editor works like its Cancel button.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || event.defaultPrevented || event.target.closest("dialog")) return;
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
    } else if (source.closest("[data-dropdown-panel]")) {
      // Saving from a dropdown: focus its button once the field is back.
      pendingFocus[target.id] = { editButtonOf: target.id };
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
  document.addEventListener("DOMContentLoaded", function () {
    syncAll(document);
    var dialog = document.querySelector("dialog[data-show-modal]");
    if (dialog) dialog.showModal();
  });
})();
