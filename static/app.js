// Shared Deals: the little htmx cannot do declaratively (no inline scripts: CSP).
// - html.js switches the JavaScript-only buttons on and their no-JS links off;
// - [data-open-dialog] opens a native <dialog>; Esc or [data-close-dialog] closes it,
//   resets its form and returns focus to the button that opened it;
// - after htmx swaps in a fragment, focus lands somewhere sensible;
// - the Pipeline editor offers only the chosen pipeline's stages.
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
  document.addEventListener("DOMContentLoaded", function () {
    syncAll(document);
    var dialog = document.querySelector("dialog[data-show-modal]");
    if (dialog) dialog.showModal();
  });
})();
