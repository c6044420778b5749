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
//   .confirm-box in a modal <dialog> instead of navigating; Esc or Cancel closes it;
// - on the board, "Move to stage" opens the board's one shared menu inside the card
//   (its link goes to the card's move page without JavaScript); dropping a card on
//   another column submits that menu; after a move, focus goes to the moved card;
// - the Activity's "Show more" focuses the first older row it brings and announces them.
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

  // ---- Focus after swaps, result counts announced, popovers (issue 11) ----

  // Announces what a swap did ("1–24 of 24 deals"): a polite live region, added at the end
  // of the page the first time it is needed (pages without swaps keep one status: flashes).
  var live = function (text) {
    if (!text) return;
    var region = document.getElementById("live-status");
    if (!region) {
      region = document.createElement("div");
      region.id = "live-status";
      region.className = "visually-hidden";
      region.setAttribute("role", "status");
      region.setAttribute("aria-live", "polite");
      document.body.appendChild(region);
    }
    region.textContent = "";
    // A fresh text node in a persistent polite region: screen readers read it once.
    window.setTimeout(function () { region.textContent = text.replace(/\s+/g, " ").trim(); }, 50);
  };

  function focusable(element) {
    if (!element) return null;
    if (!element.matches("a[href], button, input, select, textarea, [tabindex]")) {
      element.setAttribute("tabindex", "-1");
    }
    return element;
  }

  function firstInvalid(root) {
    var found = Array.prototype.filter.call(
      (root || document).querySelectorAll('[aria-invalid="true"]'),
      function (el) { return !el.disabled && el.getClientRects().length > 0; }
    );
    return found[0] || null;
  }

  // What the user pressed, per target id: refocused (or its replacement) after the swap.
  var pressed = {};

  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    var trigger = event.detail.requestConfig && event.detail.requestConfig.triggeringEvent;
    var source = (trigger && trigger.submitter) || event.detail.elt;
    if (!target || !target.id || !source || !source.closest) return;
    if (source.closest("dialog") || source.closest(".editing")) return; // handled above
    var form = source.form || source.closest("form");
    pressed[target.id] = {
      activeId: document.activeElement && document.activeElement.id,
      typing: source.matches('input[type="search"], input[type="text"], input[type="checkbox"]'),
      sortIndex: source.name === "sort_by" ? Array.prototype.indexOf.call(
        source.closest("tr").children, source.closest("th")) : -1,
      action: form && (form.getAttribute("hx-post") || ""),
      text: (source.textContent || "").trim(),
    };
  });

  function refocus(settled, how) {
    var invalid = firstInvalid(settled);
    if (invalid) return invalid.focus();
    if (how.typing) return; // typing in search or ticking a column: focus stays put
    var chosen = settled.querySelector("[autofocus]"); // e.g. the board's moved card
    if (chosen) return chosen.focus();
    var same = how.activeId && document.getElementById(how.activeId);
    if (same && settled.contains(same)) return same.focus(); // e.g. the Property select
    if (settled.id === "deals-results") {
      if (how.sortIndex >= 0) {
        var header = settled.querySelectorAll("thead th")[how.sortIndex];
        var sortButton = header && header.querySelector("button");
        if (sortButton) return sortButton.focus();
      }
      return focusable(document.getElementById("results-heading")).focus();
    }
    // The control that replaced the one pressed (same form, same words), else the heading.
    var again = Array.prototype.filter.call(settled.querySelectorAll("button"), function (b) {
      var form = b.form || b.closest("form");
      return (b.textContent || "").trim() === how.text && form &&
        (form.getAttribute("hx-post") || "") === how.action;
    });
    if (again.length === 1) return again[0].focus();
    var heading = settled.querySelector("h1, h2, h3");
    if (heading) focusable(heading).focus();
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    var settled = event.detail.elt;
    if (!settled || !settled.id) return;
    if (settled.id === "deals-results") {
      var summary = document.getElementById("results-summary");
      if (summary) live(summary.textContent);
    }
    var how = pressed[settled.id];
    if (!how) return;
    delete pressed[settled.id];
    if (!document.body.contains(settled)) {
      settled = document.getElementById(settled.id);
      if (!settled) return;
    }
    refocus(settled, how);
  });

  // Popovers (<details class="popover">, the phone menu): Esc and a click outside close them,
  // focus goes back to their button; opening one focuses its first field.
  var POPOVERS = "details.popover, details.topbar-menu";

  function closePopover(details, returnFocus) {
    details.open = false;
    if (returnFocus) details.querySelector("summary").focus();
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = event.target.closest && event.target.closest(POPOVERS);
    if (open && open.open) {
      event.preventDefault();
      closePopover(open, true);
    }
  });

  document.addEventListener("click", function (event) {
    document.querySelectorAll(POPOVERS.replace(/details/g, "details[open]")).forEach(function (d) {
      if (!d.contains(event.target)) closePopover(d, false);
    });
  });

  document.addEventListener("toggle", function (event) {
    var details = event.target;
    if (!(details instanceof HTMLDetailsElement) || !details.open || !details.matches("details.popover")) return;
    var field = details.querySelector(".popover-panel input:not([type=hidden]):not([disabled]), .popover-panel button");
    if (field && !firstInvalid(details)) field.focus();
  }, true);

  // A page that comes back with errors: focus its first invalid field (the summary says why).
  document.addEventListener("DOMContentLoaded", function () {
    if (document.querySelector("dialog[data-show-modal]")) return;
    var invalid = firstInvalid(document.getElementById("main"));
    if (invalid) invalid.focus();
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
  // Board: one "Move to stage" menu (#board-move-menu) copied into the card whose link
  // is pressed; the move answers into #board-status, the card and headers out of band.
  function moveMenu(card) {
    var open = card.querySelector("form.board-move");
    if (open) return open;
    var template = document.getElementById("board-move-menu");
    var link = card.querySelector(".board-move-open");
    if (!template || !link) return null;
    var form = template.content.firstElementChild.cloneNode(true);
    var id = card.getAttribute("data-deal-id");
    var stage = card.getAttribute("data-stage");
    var select = form.querySelector("select");
    form.id = "move-" + id;
    form.action = link.pathname;
    form.setAttribute("hx-post", link.pathname);
    form.querySelector("input[name=original]").value = stage;
    select.id = "move-" + id + "-stage";
    select.value = stage;
    var label = form.querySelector("label");
    label.setAttribute("for", select.id);
    label.querySelector(".visually-hidden").textContent =
      ": " + card.querySelector(".board-card-name").textContent;
    // Chromium spaces out a visually hidden part of a name: say it whole.
    select.setAttribute("aria-label", label.textContent);
    form.querySelector("button").setAttribute("aria-describedby", "card-" + id + "-name");
    link.after(form);
    link.setAttribute("aria-expanded", "true");
    htmx.process(form);
    return form;
  }

  function closeMoveMenu(form) {
    var link = form.parentNode.querySelector(".board-move-open");
    form.remove();
    if (link) {
      link.setAttribute("aria-expanded", "false");
      link.focus();
    }
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".board-move-open");
    var card = link && link.closest(".board-card");
    if (!card || !document.getElementById("board-move-menu")) return; // a page: follow the link
    event.preventDefault();
    var open = card.querySelector("form.board-move");
    if (open) return closeMoveMenu(open);
    moveMenu(card).querySelector("select").focus();
  });

  document.addEventListener("keydown", function (event) {
    var form = event.key === "Escape" && event.target.closest &&
      event.target.closest(".board-card form.board-move");
    if (form) closeMoveMenu(form);
  });

  // After a move: focus the moved card's "Move to stage" (or its new column's heading).
  document.addEventListener("htmx:afterSettle", function (event) {
    if (!event.detail.elt || event.detail.elt.id !== "board-status") return;
    var chosen = document.querySelector("#deals-board [data-focus-after-move]");
    if (!chosen) return;
    chosen.removeAttribute("data-focus-after-move");
    chosen.focus();
  });

  // The Activity's "Show more": its first new row takes focus (the link it replaced is
  // gone) and a polite status says how many older entries came.
  document.addEventListener("htmx:afterSettle", function () {
    var first = document.querySelector("[data-loaded-more]");
    if (!first) return;
    var said = first.getAttribute("data-loaded-more");
    first.removeAttribute("data-loaded-more");
    first.focus();
    live(said);
  });

  // "Show more" goes on after the cards the column shows now (a move adds or takes one);
  // a move says how many cards its new column shows (where the card may go).
  document.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail.elt;
    var more = elt.closest && elt.closest(".board-more");
    if (more) {
      var count = more.parentNode.querySelectorAll(".board-card").length;
      event.detail.path = event.detail.path.replace(/([?&]offset=)\d+/, "$1" + count);
    } else if (elt.matches && elt.matches(".board-card form.board-move")) {
      var column = document.querySelector(
        '[data-drop-stage="' + elt.querySelector("select[name=stage]").value + '"]');
      if (column) event.detail.parameters.shown = column.querySelectorAll(".board-card").length;
    }
  });

  // Drag a card to another column = choose that stage in its menu and submit it.
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
    if (card.closest("[data-drop-stage]") === column) return;
    var form = moveMenu(card);
    if (!form) return;
    form.querySelector("select[name=stage]").value = column.getAttribute("data-drop-stage");
    form.requestSubmit();
  });

  document.addEventListener("DOMContentLoaded", function () {
    if (document.querySelector("dialog[data-show-modal]")) return;
    var invalid = firstInvalid(document.getElementById("main"));
    if (invalid) invalid.focus();
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
