// Keys for the screening page: i include, e exclude (then the reason's number), m maybe,
// n note, u undo. Each key submits the page's own form, so the decision is committed by
// the server before the next record shows; without JavaScript the buttons do the same.
(function () {
  "use strict";
  const form = document.getElementById("decide-form");
  const undo = document.getElementById("undo-form");
  const prompt = document.getElementById("prompt");
  const reasons = document.querySelectorAll("#reasons li");
  const required = document.getElementById("reasons")?.dataset.required === "yes";
  let digits = null;
  let timer = null;

  function submit(decision) {
    const button = form.querySelector(`button[value="${decision}"]`);
    form.requestSubmit(button);
  }

  function say(text) {
    prompt.hidden = !text;
    prompt.textContent = text || "";
  }

  function exclude(number) {
    const select = document.getElementById("reason");
    select.selectedIndex = number; // option 0 is "no reason"
    digits = null;
    say("");
    submit("exclude");
  }

  function typed(key) {
    if (key === "Escape") { digits = null; say(""); return; }
    if (key === "Enter") {
      if (digits) { exclude(Number(digits)); }
      else if (!required) { exclude(0); }
      return;
    }
    if (!/^[0-9]$/.test(key)) { return; }
    digits += key;
    const n = Number(digits);
    clearTimeout(timer);
    if (n < 1 || n > reasons.length) {
      say(`There is no reason ${digits}; type 1 to ${reasons.length}`);
      digits = "";
      return;
    }
    if (n * 10 > reasons.length) { exclude(n); return; }
    say(`Reason ${digits}… (another digit, or Enter)`);
    timer = setTimeout(() => exclude(n), 900);
  }

  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (target instanceof HTMLInputElement || target instanceof HTMLSelectElement ||
        target instanceof HTMLTextAreaElement) {
      if (event.key === "Escape") { target.blur(); }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (digits !== null) { event.preventDefault(); typed(event.key); return; }
    if (event.key === "u" && undo) { event.preventDefault(); undo.requestSubmit(); return; }
    if (!form) { return; }
    if (event.key === "i") { event.preventDefault(); submit("include"); }
    else if (event.key === "m") { event.preventDefault(); submit("maybe"); }
    else if (event.key === "n") { event.preventDefault(); document.getElementById("note").focus(); }
    else if (event.key === "e") {
      event.preventDefault();
      digits = "";
      say(required ? "Exclude: type the reason's number" :
        "Exclude: type the reason's number, or Enter for no reason");
    }
  });
})();
