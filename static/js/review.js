// Review pages: keyboard navigation for facilitators, and notes that polling never clobbers.
(function () {
  "use strict";

  // Keys belong to the page unless the focus is somewhere text is typed or an option picked;
  // a checkbox that was just clicked keeps the focus, and the keys must still work then.
  function typing(target) {
    var field = target.closest("input, textarea, select, [contenteditable]");
    return field !== null && !(field.matches && field.matches("input[type=checkbox], input[type=radio], input[type=submit], input[type=button]"));
  }

  // A link's data-key lists the keys that follow it, e.g. "] Shift+ArrowRight". Page Up and
  // Page Down are left to the browser: they scroll the page.
  function keyName(event) {
    return (event.shiftKey && /^Arrow/.test(event.key) ? "Shift+" : "") + event.key;
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) return;
    var link = document.querySelector('[data-key~="' + CSS.escape(keyName(event)) + '"]');
    if (link) {
      event.preventDefault();
      link.click();
      return;
    }
    if (/^[1-9]$/.test(event.key)) {
      var box = document.querySelector('[data-choice-key="' + event.key + '"]');
      if (box && !box.disabled) {
        event.preventDefault();
        box.click();
      }
    }
  });

  // The sidebar shows the current question: it scrolls itself (never the page) to bring the
  // current entry into view, on load and when the folded list is opened on a small screen. A
  // poll that replaces the sidebar keeps where its reader had scrolled it to.
  function showCurrent() {
    var nav = document.getElementById("review-nav");
    var current = nav && nav.querySelector("[aria-current]");
    if (!current || nav.scrollHeight <= nav.clientHeight) return;
    var top = current.getBoundingClientRect().top - nav.getBoundingClientRect().top;
    if (top < 0 || top + current.offsetHeight > nav.clientHeight) {
      nav.scrollTop += top - (nav.clientHeight - current.offsetHeight) / 2;
    }
  }
  showCurrent();
  // Again once everything is laid out: the first call may come before the sidebar has its
  // final height (styles or fonts still loading), and then it finds nothing to scroll.
  window.addEventListener("load", showCurrent);
  document.addEventListener("toggle", function (event) {
    if (event.target.matches && event.target.matches(".nav-fold") && event.target.open) showCurrent();
  }, true);

  var navScroll = null;
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id === "review-nav") navScroll = target.scrollTop;
  });
  document.addEventListener("htmx:oobAfterSwap", function () {
    var nav = document.getElementById("review-nav");
    if (nav && navScroll !== null) {
      nav.scrollTop = navScroll;
      navScroll = null;
    }
  });

  // Polling re-sends the notes editors out of band. Someone typing in one keeps their text:
  // an editor that has focus or unsaved changes is left alone, and its save will then report
  // the other person's change as a conflict instead of overwriting it. An editor showing a
  // conflict stays until its writer has chosen.
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var current = event.detail.target;
    if (!current || !current.matches("[data-notes-editor]")) return;
    var box = current.querySelector("textarea");
    if (current.hasAttribute("data-conflict") || (box && (box === document.activeElement || box.value !== box.defaultValue))) {
      event.detail.shouldSwap = false;
    }
  });

  // The "does not apply" reason is picked before its box is ticked. While the question applies
  // the pick is not saved, so each swap of the live region (a poll, a tick) would show the first
  // reason again and the box would then send that one: the new select keeps the pick. A select
  // rendered for a question that does not apply shows the stored reason instead.
  var reasonPick = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var select = event.detail.target && event.detail.target.querySelector("select[data-reason-pick]");
    reasonPick = select ? { id: select.id, value: select.value } : null;
  });
  document.addEventListener("htmx:afterSwap", function () {
    var select = reasonPick && document.getElementById(reasonPick.id);
    if (select && select.hasAttribute("data-reason-pick")) select.value = reasonPick.value;
    reasonPick = null;
  });

  // After a successful save the box's text is the saved text again.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail.target.querySelector("[data-notes-saved]")) return;
    var editor = event.detail.target.closest("[data-notes-editor]");
    var box = editor && editor.querySelector("textarea");
    if (box) box.defaultValue = box.value;
  });
})();
